package ants_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/antspool/ants"
)

// While every worker is busy, a submit queues its task and returns nil at
// once, without parking; past the queue's size it waits, or is refused.
func TestQueueAcceptsWithoutParkingTheCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(2, ants.WithQueueSize(3))
		b := newBlocker()
		b.fill(t, p.Submit, 2)
		var ran atomic.Int32
		for i := range 3 {
			if err := p.Submit(func() { ran.Add(1) }); err != nil {
				t.Fatalf("Submit %d into a queue with room = %v", i, err)
			}
		}
		if err := p.TrySubmit(func() {}); !errors.Is(err, ants.ErrPoolOverload) {
			t.Errorf("TrySubmit on a full queue = %v, want ErrPoolOverload", err)
		}
		if s := p.Stats(); s.Queued != 3 || s.Busy != 2 || s.Waiting != 0 || s.Submitted != 5 {
			t.Errorf("Stats = %+v, want 3 queued, 2 busy, 5 submitted", s)
		}

		blocked := make(chan error, 1)
		go func() { blocked <- p.Submit(func() { ran.Add(1) }) }()
		synctest.Wait()
		if p.Waiting() != 1 {
			t.Fatalf("Waiting = %d, want the caller past the queue's size", p.Waiting())
		}
		b.open()
		if err := <-blocked; err != nil {
			t.Errorf("the blocked Submit = %v, want nil once its task is queued", err)
		}
		mustRelease(t, p)
		if ran.Load() != 4 {
			t.Errorf("%d queued tasks ran, want 4", ran.Load())
		}
	})
}

func TestQueueRunsTasksInSubmissionOrder(t *testing.T) {
	for _, size := range []int{1, 3} {
		for _, k := range (allKinds | queueMode).each() {
			t.Run(fmt.Sprintf("%s/size=%d", k, size), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 1, ants.WithQueueSize(size))
					b := newBlocker()
					b.fill(t, p.submit, 1)
					var mu sync.Mutex
					var order []int
					submitted := make(chan struct{})
					go func() {
						defer close(submitted)
						for i := range 20 { // beyond the queue: these submits wait in line, in order
							_ = p.submit(func() {
								mu.Lock()
								order = append(order, i)
								mu.Unlock()
							})
						}
					}()
					synctest.Wait() // the queue is full, and the next submit waits
					if s := p.Stats(); s.Queued != size || s.Waiting != 1 {
						t.Errorf("Queued, Waiting = %d, %d; want %d, 1", s.Queued, s.Waiting, size)
					}
					b.open()
					<-submitted
					mustRelease(t, p)
					if want := seq(20); !slices.Equal(order, want) {
						t.Errorf("tasks ran in order %v, want %v", order, want)
					}
				})
			})
		}
	}
}

// A caller waiting for room leaves the line when its context ends: its
// task never runs, and Waiting drops back.
func TestQueueBlockedCallerLeavesOnCancel(t *testing.T) {
	for _, k := range (allKinds | queueMode).each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 1, ants.WithQueueSize(1))
				b := newBlocker()
				b.fill(t, p.submit, 1)
				if err := p.submit(func() {}); err != nil { // fills the queue
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				var ran atomic.Bool
				done := make(chan error, 1)
				go func() { done <- p.submitCtx(ctx, func() { ran.Store(true) }) }()
				synctest.Wait()
				if p.Waiting() != 1 {
					t.Fatalf("Waiting = %d, want 1", p.Waiting())
				}
				cancel()
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Errorf("SubmitCtx = %v, want context.Canceled", err)
				}
				if p.Waiting() != 0 {
					t.Errorf("Waiting = %d after the cancel", p.Waiting())
				}
				b.open()
				mustRelease(t, p)
				if ran.Load() {
					t.Error("the cancelled caller's task ran")
				}
			})
		})
	}
}

// Release stops admission and wakes the waiting callers, but every queued
// task still runs, once, with the context it was submitted with; and
// ReleaseContext returns nil only when the queue has drained.
func TestQueueDrainsOnRelease(t *testing.T) {
	for _, k := range (runnerKinds | queueMode).each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 2, ants.WithQueueSize(4))
				b := newBlocker()
				b.fill(t, p.submit, 2)
				type key struct{}
				var ran atomic.Int32
				var ctxs sync.Map
				queued := 4 * p.subPools // a queue of 4 for each (sub-)pool
				for i := range queued {
					ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, i))
					if err := p.runner.SubmitCtx(ctx, func(ctx context.Context) { // the task sees its ctx
						ran.Add(1)
						ctxs.Store(ctx.Value(key{}), ctx.Err())
					}); err != nil {
						t.Fatal(err)
					}
					cancel() // ended before the task runs: it runs with it all the same
				}
				blocked := make(chan error, 1)
				go func() { blocked <- p.submit(func() { ran.Add(100) }) }()
				synctest.Wait()

				released := make(chan error, 1)
				go func() { released <- p.ReleaseContext(context.Background()) }()
				if err := <-blocked; !errors.Is(err, ants.ErrPoolClosed) {
					t.Errorf("the caller waiting for room got %v, want ErrPoolClosed", err)
				}
				if err := p.submit(func() {}); !errors.Is(err, ants.ErrPoolClosed) {
					t.Errorf("Submit after Release = %v", err)
				}
				synctest.Wait()
				select {
				case err := <-released:
					t.Fatalf("ReleaseContext returned %v with the queue not drained", err)
				default:
				}
				b.open()
				if err := <-released; err != nil {
					t.Fatalf("ReleaseContext = %v", err)
				}
				if int(ran.Load()) != queued {
					t.Errorf("ran = %d, want the %d queued tasks, once each", ran.Load(), queued)
				}
				for i := range queued {
					if err, ok := ctxs.Load(i); !ok || err != context.Canceled {
						t.Errorf("task %d saw ctx.Err() = %v (%v), want its own, cancelled context", i, err, ok)
					}
				}
				if s := p.Stats(); s.Queued != 0 || s.Running != 0 || s.Submitted != s.Completed {
					t.Errorf("Stats after the drain = %+v", s)
				}
			})
		})
	}
}

// Workers do not expire while tasks are queued, and growing the pool
// starts workers for queued tasks at once.
func TestQueueKeepsBusyWorkersAndTuneStartsQueuedTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1, ants.WithQueueSize(10), ants.WithExpiryDuration(time.Second))
		b := newBlocker()
		b.fill(t, p.Submit, 1)
		started := make(chan struct{}, 10)
		hold := make(chan struct{})
		for range 3 {
			_ = p.Submit(func() { started <- struct{}{}; <-hold })
		}
		time.Sleep(10 * time.Second) // ten expiry periods: the busy worker stays
		synctest.Wait()
		if p.Running() != 1 || len(started) != 0 {
			t.Fatalf("Running = %d, %d started; want the one busy worker, nothing started", p.Running(), len(started))
		}
		p.Tune(4)
		synctest.Wait()
		if len(started) != 3 || p.Running() != 4 {
			t.Errorf("after Tune(4): %d queued tasks started, Running = %d; want 3 and 4", len(started), p.Running())
		}
		close(hold)
		b.open()
		mustRelease(t, p)
	})
}

// Group.Go returns once its task is queued; a queued task whose group has
// ended is skipped when it reaches a worker. A queued Group retry is not an
// acceptance: Release ends it with ErrPoolClosed.
func TestQueueAcceptsGroupTasksButNotRetries(t *testing.T) {
	t.Run("go-queued", func(t *testing.T) { // Go returns once queued; skipped when the group ended
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1, ants.WithQueueSize(8))
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			parent, cancel := context.WithCancel(context.Background())
			g := p.Group(parent)
			var ran atomic.Int32
			for range 5 {
				g.Go(func(context.Context) error { ran.Add(1); return nil }) // does not block
			}
			if s := p.Stats(); s.Queued != 5 {
				t.Fatalf("Queued = %d, want the 5 group tasks", s.Queued)
			}
			cancel()
			b.open()
			if err := g.Wait(); !errors.Is(err, context.Canceled) {
				t.Errorf("Wait = %v, want the skipped tasks' cause", err)
			}
			if ran.Load() != 0 {
				t.Errorf("%d tasks of an ended group ran", ran.Load())
			}
			mustRelease(t, p)
		})
	})
	t.Run("release-retry", func(t *testing.T) { // Release refuses a queued retry
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1, ants.WithQueueSize(8))
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(time.Millisecond)))
			var attempts atomic.Int32
			g.Go(func(context.Context) error { attempts.Add(1); return errBoom })
			synctest.Wait()
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			time.Sleep(time.Millisecond) // the retry comes due, and is queued behind the blocker
			synctest.Wait()
			if s := p.Stats(); s.Queued != 1 {
				t.Fatalf("Queued = %d, want the retry", s.Queued)
			}
			released := make(chan error, 1)
			go func() { released <- p.ReleaseContext(context.Background()) }()
			if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
				t.Errorf("Wait = %v, want ErrPoolClosed", err)
			}
			b.open()
			if err := <-released; err != nil {
				t.Errorf("ReleaseContext = %v", err)
			}
			if attempts.Load() != 1 {
				t.Errorf("%d attempts, want 1: the queued retry must not run", attempts.Load())
			}
		})
	})
}

// Nonblocking and MaxBlockingTasks apply past the queue's size.
func TestQueueOverloadOptionsApplyPastTheQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1, ants.WithQueueSize(1), ants.WithNonblocking(true))
		b := newBlocker()
		b.fill(t, p.Submit, 1)
		if err := p.Submit(func() {}); err != nil {
			t.Fatalf("Submit into the queue = %v", err)
		}
		if err := p.Submit(func() {}); !errors.Is(err, ants.ErrPoolOverload) {
			t.Errorf("Nonblocking, queue full: Submit = %v, want ErrPoolOverload", err)
		}
		b.open()
		mustRelease(t, p)

		q, _ := ants.NewPool(1, ants.WithQueueSize(1), ants.WithMaxBlockingTasks(1))
		b = newBlocker()
		b.fill(t, q.Submit, 1)
		_ = q.Submit(func() {})
		go func() { _ = q.Submit(func() {}) }()
		synctest.Wait()
		if err := q.Submit(func() {}); !errors.Is(err, ants.ErrPoolOverload) {
			t.Errorf("MaxBlockingTasks 1, one waiting: Submit = %v, want ErrPoolOverload", err)
		}
		b.open()
		mustRelease(t, q)
	})
}

// On a multi-pool the size applies to each sub-pool: size × n tasks queue
// without waiting.
func TestQueueSizeIsPerSubPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, _ := ants.NewMultiPool(3, 1, ants.RoundRobin, ants.WithQueueSize(2), ants.WithNonblocking(true))
		b := newBlocker()
		b.fill(t, mp.Submit, 3)
		for i := range 6 {
			if err := mp.Submit(func() {}); err != nil {
				t.Fatalf("Submit %d = %v, want room for 2 × 3", i, err)
			}
		}
		if err := mp.Submit(func() {}); !errors.Is(err, ants.ErrPoolOverload) {
			t.Errorf("the 7th = %v, want ErrPoolOverload", err)
		}
		if s := mp.Stats(); s.Queued != 6 {
			t.Errorf("Queued = %d, want 6", s.Queued)
		}
		b.open()
		mustRelease(t, mp)
		if s := mp.Stats(); s.Completed != 9 {
			t.Errorf("Completed = %d, want 9", s.Completed)
		}
	})
}

// Every accepted task runs exactly once through Release, Reboot and Tune
// churn, on every pool kind in queue mode.
func TestQueueExactlyOnceUnderChurn(t *testing.T) {
	rounds := rounds(50, 20)
	for _, k := range (allKinds | queueMode).each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2, ants.WithQueueSize(3))
			var accepted, refused []*atomic.Int32
			var mu sync.Mutex
			stop := make(chan struct{})
			progress, wait := repeat(2, stop, func() {
				c := new(atomic.Int32)
				err := p.submit(func() { c.Add(1) })
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					accepted = append(accepted, c)
				} else {
					refused = append(refused, c)
				}
			})
			for i := range rounds {
				p.Tune(1 + i%3)
				if i%2 == 0 {
					p.Release()
				} else {
					_ = p.ReleaseContext(context.Background())
				}
				p.Reboot()
				progress() // the submitters try the rebooted pool
			}
			close(stop)
			wait()
			mustRelease(t, p)
			for _, c := range accepted {
				if n := c.Load(); n != 1 {
					t.Fatalf("an accepted task ran %d times", n)
				}
			}
			for _, c := range refused {
				if n := c.Load(); n != 0 {
					t.Fatalf("a refused task ran %d times", n)
				}
			}
			t.Logf("%d accepted, %d refused", len(accepted), len(refused))
		})
	}
}
