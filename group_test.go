package ants_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

func TestGroupReturnsFirstErrorAndCancelsWithIt(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 4)
				g := p.runner.Group(context.Background())
				for i := range 10 {
					g.Go(func(ctx context.Context) error {
						if i == 3 {
							return errBoom
						}
						<-ctx.Done() // the others run until the failure cancels them
						return ctx.Err()
					})
				}
				if err := g.Wait(); !errors.Is(err, errBoom) {
					t.Errorf("Wait = %v, want errBoom", err)
				}
				if cause := context.Cause(g.Context()); !errors.Is(cause, errBoom) {
					t.Errorf("Cause(ctx) = %v, want errBoom", cause)
				}
				mustRelease(t, p)
			})
		})
	}
}

// The first error is recorded before the context is cancelled, so a
// sibling that returns ctx.Err() as soon as it sees the cancel never wins.
func TestGroupFirstErrorNeverLosesToSiblingsCancellation(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			runs := rounds(1000, 200)
			p := newPool(t, k, 8)
			for i := range runs {
				g := p.runner.Group(context.Background())
				for range 7 {
					g.Go(func(ctx context.Context) error {
						<-ctx.Done()
						return ctx.Err()
					})
				}
				g.Go(func(context.Context) error { return errBoom })
				if err := g.Wait(); !errors.Is(err, errBoom) {
					t.Fatalf("run %d: Wait = %v, want errBoom", i, err)
				}
			}
			mustRelease(t, p)
		})
	}
}

func TestGroupWaitIsNilWhenAllSucceedEvenIfParentCancelledAfter(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2)
			parent, cancel := context.WithCancel(context.Background())
			g := p.runner.Group(parent)
			var ran atomic.Int32
			for range 5 {
				g.Go(func(context.Context) error { ran.Add(1); return nil })
			}
			done := make(chan struct{})
			g.Go(func(context.Context) error { close(done); return nil })
			<-done
			if err := g.Wait(); err != nil {
				t.Fatalf("Wait = %v", err)
			}
			cancel()
			if err := g.Wait(); err != nil {
				t.Errorf("Wait after the parent was cancelled = %v, want nil", err)
			}
			if ran.Load() != 5 {
				t.Errorf("ran %d tasks, want 5", ran.Load())
			}
			if g.Context().Err() == nil {
				t.Error("the group's context is not cancelled after Wait")
			}
			mustRelease(t, p)
		})
	}
}

// Tasks that cannot start because the group's context is done are skipped,
// and not silently: Wait reports the context's cause.
func TestGroupSkippedTasksAreReported(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 1)
				b := newBlocker()
				b.fill(t, p.submit, 1) // the pool is busy with other work
				parentCause := errors.New("shutting down")
				parent, cancel := context.WithCancelCause(context.Background())
				g := p.runner.Group(parent)
				var ran atomic.Int32
				returned := make(chan struct{})
				go func() {
					g.Go(func(context.Context) error { ran.Add(1); return nil })
					close(returned)
				}()
				synctest.Wait() // Go waits for a worker
				start := time.Now()
				cancel(parentCause)
				<-returned
				if d := time.Since(start); d != 0 {
					t.Errorf("Go returned %v after the cancel, want at once", d)
				}
				g.Go(func(context.Context) error { ran.Add(1); return nil }) // after: skipped at once
				if err := g.Wait(); !errors.Is(err, parentCause) {
					t.Errorf("Wait = %v, want the context's cause", err)
				}
				b.open()
				mustRelease(t, p)
				if ran.Load() != 0 {
					t.Errorf("%d skipped tasks ran", ran.Load())
				}
			})
		})
	}
}

func TestGroupGoBlockedReturnsWhenASiblingFails(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			for _, tc := range []struct {
				name  string
				size  int
				limit int
			}{
				{"full-pool", 2, 0},    // Go blocked on a full pool
				{"group-limit", 10, 2}, // Go blocked at the group limit
			} {
				t.Run(tc.name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						p := newPool(t, k, tc.size)
						g := p.runner.Group(context.Background(), ants.WithLimit(tc.limit))
						fail := make(chan struct{})
						g.Go(func(context.Context) error { <-fail; return errBoom })
						g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
						b := newBlocker()
						if tc.limit == 0 { // fill the rest of the pool with other work
							b.fill(t, p.submit, tc.size-2)
						}
						var ran atomic.Bool
						returned := make(chan struct{})
						go func() {
							g.Go(func(context.Context) error { ran.Store(true); return nil })
							close(returned)
						}()
						synctest.Wait()
						select {
						case <-returned:
							t.Fatal("Go returned while nothing was free")
						default:
						}
						close(fail)
						<-returned
						if err := g.Wait(); !errors.Is(err, errBoom) {
							t.Errorf("Wait = %v, want errBoom", err)
						}
						if ran.Load() {
							t.Error("the blocked task ran after the group failed")
						}
						b.open()
						mustRelease(t, p)
					})
				})
			}
		})
	}
}

func TestGroupRefusedSubmitIsTheTasksError(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			t.Run("nonblocking", func(t *testing.T) { // nonblocking pool
				p := newPool(t, k, 1, ants.WithNonblocking(true))
				b := newBlocker()
				b.fill(t, p.submit, 1)
				g := p.runner.Group(context.Background())
				g.Go(func(context.Context) error { return nil })
				if err := g.Wait(); !errors.Is(err, ants.ErrPoolOverload) {
					t.Errorf("Wait = %v, want ErrPoolOverload", err)
				}
				b.open()
				mustRelease(t, p)
			})
			t.Run("released", func(t *testing.T) { // released pool, nil task or not
				p := newPool(t, k, 1)
				mustRelease(t, p)
				for _, task := range []func(context.Context) error{nil, func(context.Context) error { return nil }} {
					g := p.runner.Group(context.Background())
					g.Go(task)
					if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
						t.Errorf("Wait = %v, want ErrPoolClosed", err)
					}
					g = p.runner.Group(context.Background())
					if g.TryGo(task) {
						t.Error("TryGo on a released pool returned true")
					}
					if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
						t.Errorf("Wait after TryGo = %v, want ErrPoolClosed", err)
					}
				}
			})
			t.Run("release-wakes-go", func(t *testing.T) { // release wakes a blocked Go
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 1)
					b := newBlocker()
					b.fill(t, p.submit, 1)
					g := p.runner.Group(context.Background())
					returned := make(chan struct{})
					go func() { g.Go(func(context.Context) error { return nil }); close(returned) }()
					synctest.Wait()
					p.Release()
					<-returned
					if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
						t.Errorf("Wait = %v, want ErrPoolClosed", err)
					}
					b.open()
				})
			})
		})
	}
}

func TestGroupLimitCapsRunningTasks(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			for _, tc := range []struct{ limit, want int }{{3, 3}, {0, 8}, {-1, 8}} {
				t.Run(fmt.Sprintf("limit=%d", tc.limit), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						p := newPool(t, k, 8)
						g := p.runner.Group(context.Background(), ants.WithLimit(tc.limit))
						var gg gauge
						for range 50 {
							g.Go(func(context.Context) error {
								gg.enter()
								defer gg.exit()
								time.Sleep(time.Millisecond)
								return nil
							})
						}
						if err := g.Wait(); err != nil {
							t.Fatal(err)
						}
						if m := int(gg.max.Load()); m != tc.want {
							t.Errorf("at most %d tasks ran at once, want %d", m, tc.want)
						}
						mustRelease(t, p)
					})
				})
			}
		})
	}
}

func TestGroupWaitRepeatsAndSkipsAGoAfterIt(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2)
			g := p.runner.Group(context.Background())
			g.Go(func(context.Context) error { return errBoom })
			first := g.Wait()
			if again := g.Wait(); again != first || !errors.Is(first, errBoom) {
				t.Errorf("Wait, Wait = %v, %v; want errBoom twice", first, again)
			}

			h := p.runner.Group(context.Background())
			if err := h.Wait(); err != nil {
				t.Fatalf("Wait on an empty group = %v", err)
			}
			ran := false
			h.Go(func(context.Context) error { ran = true; return nil })
			if err := h.Wait(); !errors.Is(err, context.Canceled) {
				t.Errorf("Wait after a Go that followed Wait = %v, want context.Canceled (skipped)", err)
			}
			if ran {
				t.Error("a task given to Go after Wait ran")
			}
			mustRelease(t, p)
		})
	}
}

// K groups on a pool of N: never more than N tasks at once, and no
// goroutine beyond the pool's N workers.
//
// The count is process-wide, and the runtime starts goroutines of its own
// now and then (cleanup and finalizer goroutines, on demand), so the test
// takes the fewest created over up to three runs, each on a fresh pool. A
// goroutine per task or per group would add hundreds in every run.
func TestManyGroupsShareThePoolsWorkers(t *testing.T) {
	const n, groups, tasks = 8, 200, 20
	fewest := uint64(1 << 63)
	for attempt := 0; attempt < 3 && fewest > n; attempt++ {
		fewest = min(fewest, runManyGroups(t, n, groups, tasks))
	}
	if fewest > n {
		t.Errorf("%d goroutines created for %d groups, want at most the pool's %d workers", fewest, groups, n)
	}
}

// runManyGroups runs groups groups of tasks tasks each, interleaved, on a
// new pool of n workers, checks the tasks ran within capacity, and returns
// how many goroutines were created meanwhile.
func runManyGroups(t *testing.T, n, groups, tasks int) uint64 {
	p, _ := ants.NewPool(n, ants.WithDisablePurge(true))
	defer mustRelease(t, p)
	var gg gauge
	var ran atomic.Int32
	task := func(context.Context) error {
		gg.enter()
		defer gg.exit()
		ran.Add(1)
		runtime.Gosched()
		return nil
	}
	runtime.GC() // the GC starts its mark workers at its first cycle: not during the count
	before := goroutinesCreated()
	gs := make([]*ants.Group, groups)
	for i := range gs {
		gs[i] = p.Group(context.Background(), ants.WithLimit(3))
	}
	for range tasks {
		for _, g := range gs { // the groups interleave on the pool
			g.Go(task)
		}
	}
	for _, g := range gs {
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	created := goroutinesCreated() - before
	if int(ran.Load()) != groups*tasks {
		t.Errorf("ran %d tasks, want %d", ran.Load(), groups*tasks)
	}
	if m := int(gg.max.Load()); m > n {
		t.Errorf("%d tasks ran at once on a pool of %d", m, n)
	}
	t.Logf("%d groups × %d tasks: %d goroutines created, at most %d tasks at once", groups, tasks, created, gg.max.Load())
	return created
}

func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// conc #88's program: ten limit slots are held by tasks that wait for the
// group's context, which only the eleventh task would cancel, and it cannot
// start. No executor that keeps the limit can finish that; what Group adds
// is that Go's wait watches the group's context, so the parent's deadline
// ends it (conc's Go ignores the context and blocks for ever).
func TestGroupCircularWaitEndsWithParentDeadline(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 100)
				parent, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				g := p.runner.Group(parent, ants.WithLimit(10))
				start := time.Now()
				for i := range 90 {
					g.Go(func(ctx context.Context) error {
						if i == 10 {
							return errors.New("I will cancel all other tasks")
						}
						<-ctx.Done()
						return nil
					})
				}
				err := g.Wait()
				if d := time.Since(start); d != time.Second {
					t.Errorf("Wait returned after %v, want at the parent's 1s deadline", d)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Wait = %v, want DeadlineExceeded (the skipped tasks' cause)", err)
				}
				mustRelease(t, p)
			})
		})
	}
}

// A Wait that is already waiting when a blocked Go is refused must see the
// refusal: the error is recorded before the task's count is released.
func TestGroupWaitSeesARefusalThatReleasesIt(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			n := rounds(300, 50)
			synctest.Test(t, func(t *testing.T) {
				for i := range n {
					p := newPool(t, k, 1)
					b := newBlocker()
					b.fill(t, p.submit, 1)
					g := p.runner.Group(context.Background())
					go g.Go(func(context.Context) error { return nil })
					synctest.Wait() // Go waits for the worker
					waited := make(chan error, 1)
					go func() { waited <- g.Wait() }()
					synctest.Wait() // Wait waits for that task
					p.Release()
					if err := <-waited; !errors.Is(err, ants.ErrPoolClosed) {
						t.Fatalf("round %d: Wait = %v, want ErrPoolClosed", i, err)
					}
					b.open()
					synctest.Wait()
				}
			})
		})
	}
}

// A group whose context is cancelled while its tasks wait in the pool's
// line — callers blocked in Go and a retry due — returns from Wait at once,
// even though the pool's only worker is still busy with other work.
func TestCancelledGroupWithQueuedTasksReturnsPromptly(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 1)
				parent, cancel := context.WithCancel(context.Background())
				g := p.runner.Group(parent, ants.WithRetry(func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }))
				var ran atomic.Int32
				g.Go(func(context.Context) error { // fails once: its retry will wait in line
					if ran.Add(1) == 1 {
						return errBoom
					}
					return nil
				})
				synctest.Wait()
				b := newBlocker()
				b.fill(t, p.submit, 1) // other work holds the only worker
				for range 10 {
					go g.Go(func(context.Context) error { ran.Add(1); return nil })
				}
				time.Sleep(2 * time.Millisecond) // the retry comes due and joins the line
				synctest.Wait()
				if p.Waiting() != 10 {
					t.Fatalf("Waiting = %d, want the 10 callers (the retry in line is not one)", p.Waiting())
				}
				start := time.Now()
				cancel()
				err := g.Wait()
				if d := time.Since(start); d != 0 {
					t.Errorf("Wait returned %v after the cancel, want at once", d)
				}
				if err == nil {
					t.Error("Wait = nil for a group whose tasks were skipped")
				}
				if p.Waiting() != 0 {
					t.Errorf("Waiting = %d after the group ended", p.Waiting())
				}
				b.open()
				mustRelease(t, p)
				if ran.Load() != 1 {
					t.Errorf("%d attempts ran, want only the first", ran.Load())
				}
			})
		})
	}
}

func TestMultiPoolGroupKeepsItsLimitThroughRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, _ := ants.NewMultiPool(2, 2, ants.RoundRobin)
		g := mp.Group(context.Background(), ants.WithLimit(3), ants.WithRetry(constantRetry(time.Millisecond)))
		var gg gauge
		var total atomic.Int32
		for range 30 {
			task, _ := flaky(1) // each task fails once, then succeeds on retry
			g.Go(func(ctx context.Context) error {
				gg.enter()
				defer gg.exit()
				total.Add(1)
				time.Sleep(time.Millisecond)
				return task(ctx)
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatalf("Wait = %v", err)
		}
		if total.Load() != 60 {
			t.Errorf("%d attempts, want 60 (30 tasks, one retry each)", total.Load())
		}
		if m := gg.max.Load(); m > 3 {
			t.Errorf("%d group tasks ran at once, limit 3", m)
		}
		h := mp.Group(context.Background())
		h.Go(func(context.Context) error { return errBoom })
		if err := h.Wait(); !errors.Is(err, errBoom) {
			t.Errorf("Wait = %v, want errBoom", err)
		}
		mustRelease(t, mp)
		k := mp.Group(context.Background())
		k.Go(func(context.Context) error { return nil })
		if err := k.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
			t.Errorf("Group on a released multi-pool: Wait = %v, want ErrPoolClosed", err)
		}
	})
}
