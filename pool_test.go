package ants_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"go.uber.org/goleak"

	"github.com/antspool/ants"
)

func TestPoolRunsEveryTaskWithinCapacity(t *testing.T) {
	for _, k := range (allKinds | bothModes).each() {
		for _, prealloc := range []bool{false, true} {
			name := k.String()
			if prealloc {
				name += "/prealloc"
			}
			t.Run(name, func(t *testing.T) {
				const size, tasks = 4, 2000
				p := newPool(t, k, size, ants.WithPreAlloc(prealloc))
				var g gauge
				var ran atomic.Int32
				var wg sync.WaitGroup
				wg.Add(tasks)
				for range tasks {
					err := p.submit(func() {
						defer wg.Done()
						g.enter()
						defer g.exit()
						ran.Add(1)
						runtime.Gosched() // let others overlap, if the pool would allow it
					})
					if err != nil {
						t.Fatalf("Submit = %v", err)
					}
				}
				wg.Wait()
				if ran.Load() != tasks {
					t.Errorf("ran %d tasks, want %d", ran.Load(), tasks)
				}
				if m := g.max.Load(); m > size {
					t.Errorf("%d tasks ran at once on a pool of %d", m, size)
				}
				if r := p.Running(); r > size {
					t.Errorf("Running = %d, above Cap %d", r, size)
				}
				mustRelease(t, p)
			})
		}
	}
}

func TestUnlimitedPoolNeverWaits(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 0)
			if p.Cap() != -1 || p.Free() != -1 {
				t.Errorf("Cap, Free = %d, %d; want -1, -1", p.Cap(), p.Free())
			}
			b := newBlocker()
			b.fill(t, p.submit, 100) // would hang if the pool waited at any size
			if p.Running() != 100 {
				t.Errorf("Running = %d, want 100", p.Running())
			}
			p.Tune(10)
			if p.Cap() != -1 {
				t.Errorf("Tune changed an unlimited pool's Cap to %d", p.Cap())
			}
			b.open()
			mustRelease(t, p)
		})
	}
}

// Callers that wait for a worker are served in arrival order, whatever
// entry point they came through; a multi-pool's callers wait in one line
// for all its sub-pools. One worker serves the line here (the others stay
// busy), so the tasks run in the order their callers arrived.
func TestWaitingCallersAreServedFirstComeFirstServed(t *testing.T) {
	for _, k := range append(allKinds.each(), (multiKinds | leastTasks).each()...) {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 3)
				first, rest := newBlocker(), newBlocker()
				first.fill(t, p.submit, 1)
				rest.fill(t, p.submit, 2)

				var mu sync.Mutex
				var order []int
				var ran sync.WaitGroup
				const callers = 9
				ran.Add(callers)
				for i := range callers {
					record := func() { mu.Lock(); order = append(order, i); mu.Unlock(); ran.Done() }
					go func() {
						var err error
						if i%2 == 0 {
							err = p.submit(record)
						} else {
							err = p.submitCtx(context.Background(), record)
						}
						if err != nil {
							t.Errorf("caller %d: %v", i, err)
						}
					}()
					synctest.Wait() // caller i is now in line
				}
				if w := p.Waiting(); w != callers {
					t.Fatalf("Waiting = %d, want %d", w, callers)
				}
				first.open()
				ran.Wait()
				rest.open()
				mustRelease(t, p)
				if !slices.Equal(order, seq(callers)) {
					t.Fatalf("tasks ran in order %v, want arrival order", order)
				}
			})
		})
	}
}

func TestNonblockingPoolRefusesWhenFull(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2, ants.WithNonblocking(true))
			b := newBlocker()
			b.fill(t, p.submit, 2)
			var ran atomic.Bool
			if err := p.submit(func() { ran.Store(true) }); !errors.Is(err, ants.ErrPoolOverload) {
				t.Errorf("Submit on a full nonblocking pool = %v, want ErrPoolOverload", err)
			}
			if err := p.submitCtx(context.Background(), func() { ran.Store(true) }); !errors.Is(err, ants.ErrPoolOverload) {
				t.Errorf("SubmitCtx on a full nonblocking pool = %v, want ErrPoolOverload", err)
			}
			b.open()
			mustRelease(t, p)
			if ran.Load() {
				t.Error("a refused task ran")
			}
		})
	}
}

// MaxBlockingTasks bounds the callers that wait; on a multi-pool it bounds
// each sub-pool's, as in ants, so the pool of n sub-pools lets n times as
// many wait.
func TestMaxBlockingTasksRefusesTheCallerPastTheLimit(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 2, ants.WithMaxBlockingTasks(2))
				b := newBlocker()
				b.fill(t, p.submit, 2)
				limit := 2 * p.subPools
				errs := make(chan error, limit)
				for i := range limit {
					if i%2 == 0 {
						go func() { errs <- p.submit(func() {}) }()
					} else {
						go func() { errs <- p.submitCtx(context.Background(), func() {}) }()
					}
				}
				synctest.Wait()
				if p.Waiting() != limit {
					t.Fatalf("Waiting = %d, want %d", p.Waiting(), limit)
				}
				if err := p.submit(func() {}); !errors.Is(err, ants.ErrPoolOverload) {
					t.Errorf("Submit past the limit = %v, want ErrPoolOverload", err)
				}
				if err := p.submitCtx(context.Background(), func() {}); !errors.Is(err, ants.ErrPoolOverload) {
					t.Errorf("SubmitCtx past the limit = %v, want ErrPoolOverload", err)
				}
				b.open()
				for range limit {
					if err := <-errs; err != nil {
						t.Errorf("a caller within the limit got %v", err)
					}
				}
				mustRelease(t, p)
			})
		})
	}
}

func TestTuneGrowsAndShrinksCapacity(t *testing.T) {
	t.Run("grow", func(t *testing.T) { // growing admits every waiter at once
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1)
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			for range 5 {
				go func() { _ = p.Submit(b.task) }()
			}
			synctest.Wait()
			p.Tune(6)
			for range 5 {
				<-b.started
			}
			if p.Running() != 6 || p.Waiting() != 0 {
				t.Errorf("after Tune(6): Running, Waiting = %d, %d; want 6, 0", p.Running(), p.Waiting())
			}
			b.open()
			mustRelease(t, p)
		})
	})
	t.Run("shrink", func(t *testing.T) { // shrinking lets running tasks finish, then caps
		p, _ := ants.NewPool(4)
		b := newBlocker()
		b.fill(t, p.Submit, 4)
		p.Tune(2)
		if p.Cap() != 2 {
			t.Fatalf("Cap = %d, want 2", p.Cap())
		}
		b.open()
		var g gauge
		var wg sync.WaitGroup
		for range 200 {
			wg.Add(1)
			_ = p.Submit(func() { defer wg.Done(); g.enter(); runtime.Gosched(); g.exit() })
		}
		wg.Wait()
		if p.Running() > 2 {
			t.Errorf("Running = %d after tasks above the new capacity ended, want <= 2", p.Running())
		}
		if m := g.max.Load(); m > 4 {
			t.Errorf("%d tasks ran at once", m)
		}
		mustRelease(t, p)
	})
	t.Run("no-op", func(t *testing.T) { // no effect where ants has none
		p, _ := ants.NewPool(3, ants.WithPreAlloc(true))
		p.Tune(5)
		q, _ := ants.NewPool(3)
		q.Tune(0)
		q.Tune(-1)
		if p.Cap() != 3 || q.Cap() != 3 {
			t.Errorf("Cap after no-op Tunes = %d, %d; want 3, 3", p.Cap(), q.Cap())
		}
		mustRelease(t, p)
		mustRelease(t, q)
	})
}

// A func pool's Invoke(nil), InvokeCtx(ctx, nil) and TryInvoke(nil) call
// the function with a nil argument (ants drops it).
func TestInvokeNilRunsTheFunctionWithNil(t *testing.T) {
	for _, k := range funcKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2)
			if err := p.try(nil); err != nil { // first: both workers are free
				t.Errorf("TryInvoke(nil) = %v, want nil", err)
			}
			if err := p.submit(nil); err != nil {
				t.Errorf("Invoke(nil) = %v, want nil", err)
			}
			if err := p.submitCtx(context.Background(), nil); err != nil {
				t.Errorf("InvokeCtx(ctx, nil) = %v, want nil", err)
			}
			mustRelease(t, p) // the function has returned
			if n := p.nilArgs.Load(); n != 3 {
				t.Errorf("the function got a nil argument %d times, want 3", n)
			}
		})
	}
}

func TestNewPoolStartsNoGoroutine(t *testing.T) {
	pools := newPools(t, allKinds|bothModes, 10)
	goleak.VerifyNone(t)
	for _, p := range pools {
		p.Release()
	}
}

func TestPurgeStopsIdleWorkers(t *testing.T) {
	t.Run("idle", func(t *testing.T) { // idle workers exit after one to two expiry durations
		synctest.Test(t, func(t *testing.T) {
			const expiry = time.Second
			p, _ := ants.NewPool(10, ants.WithExpiryDuration(expiry))
			b := newBlocker()
			b.fill(t, p.Submit, 3)
			b.open()
			time.Sleep(expiry + time.Millisecond)
			synctest.Wait()
			if p.Running() != 3 {
				t.Errorf("Running = %d one expiry after the tasks, want 3", p.Running())
			}
			time.Sleep(expiry)
			synctest.Wait()
			if p.Running() != 0 {
				t.Errorf("Running = %d two expiries after the tasks, want 0", p.Running())
			}
			mustRelease(t, p)
		})
	})
	t.Run("in-use", func(t *testing.T) { // a worker in use does not expire
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1, ants.WithExpiryDuration(time.Second))
			for range 10 {
				done := make(chan struct{})
				_ = p.Submit(func() { close(done) })
				<-done
				time.Sleep(900 * time.Millisecond)
				synctest.Wait()
				if p.Running() != 1 {
					t.Fatalf("a worker used every 0.9s expired")
				}
			}
			mustRelease(t, p)
		})
	})
	t.Run("disabled", func(t *testing.T) { // DisablePurge keeps idle workers
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(5, ants.WithDisablePurge(true), ants.WithExpiryDuration(time.Millisecond))
			b := newBlocker()
			b.fill(t, p.Submit, 5)
			b.open()
			time.Sleep(time.Hour)
			synctest.Wait()
			if p.Running() != 5 || p.Free() != 0 {
				t.Errorf("Running, Free = %d, %d; want 5, 0", p.Running(), p.Free())
			}
			mustRelease(t, p)
			if p.Running() != 0 || p.Free() != 5 {
				t.Errorf("after release: Running, Free = %d, %d; want 0, 5", p.Running(), p.Free())
			}
		})
	})
	t.Run("racing-submits", func(t *testing.T) { // purge racing submits loses no task
		p, _ := ants.NewPool(8, ants.WithExpiryDuration(time.Microsecond*50))
		var wg sync.WaitGroup
		var ran atomic.Int64
		const tasks = 20000
		wg.Add(tasks)
		for i := range tasks {
			if err := p.Submit(func() { ran.Add(1); wg.Done() }); err != nil {
				t.Fatalf("Submit = %v", err)
			}
			if i%100 == 0 {
				runtime.Gosched()
			}
		}
		wg.Wait()
		if ran.Load() != tasks {
			t.Errorf("ran %d of %d tasks", ran.Load(), tasks)
		}
		mustRelease(t, p)
	})
}

// The purge goroutine stops idle workers while bursts of callers wait for
// workers: no task is lost and no caller is left waiting.
func TestPurgeRacingSubmitBurstsStrandsNoWaiter(t *testing.T) {
	p, _ := ants.NewPool(2, ants.WithExpiryDuration(100*time.Microsecond))
	var ran atomic.Int64
	bursts := rounds(200, 40)
	const callers = 16
	for range bursts {
		var wg sync.WaitGroup
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.Submit(func() { ran.Add(1) }); err != nil {
					t.Errorf("Submit = %v", err)
				}
			}()
		}
		wg.Wait()                                                    // every caller was served: none stranded
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond) // idle long enough, sometimes, for a purge
	}
	if p.Waiting() != 0 {
		t.Errorf("Waiting = %d after every caller returned", p.Waiting())
	}
	mustRelease(t, p)
	if got := ran.Load(); got != int64(bursts*callers) {
		t.Errorf("ran %d tasks, want %d", got, bursts*callers)
	}
}

func TestDefaultPoolWorksLikeAnyPool(t *testing.T) {
	ants.Reboot() // in case an earlier test released it
	if ants.Cap() != ants.DefaultAntsPoolSize {
		t.Errorf("Cap = %d, want DefaultAntsPoolSize", ants.Cap())
	}
	var wg sync.WaitGroup
	wg.Add(2)
	if err := ants.Submit(wg.Done); err != nil {
		t.Fatal(err)
	}
	if err := ants.SubmitCtx(context.Background(), func(context.Context) { wg.Done() }); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if ants.Running() < 1 || ants.Free() != ants.Cap()-ants.Running() {
		t.Errorf("Running, Free = %d, %d", ants.Running(), ants.Free())
	}
	if err := ants.ReleaseContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := ants.Submit(func() {}); !errors.Is(err, ants.ErrPoolClosed) {
		t.Errorf("Submit after release = %v, want ErrPoolClosed", err)
	}
	if err := ants.ReleaseTimeout(time.Second); !errors.Is(err, ants.ErrPoolClosed) {
		t.Errorf("second release = %v, want ErrPoolClosed", err)
	}
	ants.Reboot()
	ants.Release()
	ants.Reboot() // leave it open and idle for other tests
}

// A submit that would start a worker beside busy ones first lets the
// workers whose tasks have just returned come back, so the pool reuses them
// rather than growing. On one processor, with each task released just
// before the next submit, a pool that did not yield would start a worker
// per task.
func TestSubmitReusesReturningWorkerBeforeGrowing(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const tasks = 200
	p, _ := ants.NewPool(tasks)
	defer mustRelease(t, p)
	var done sync.WaitGroup
	var release chan struct{}
	for range tasks {
		if release != nil {
			close(release) // the last task returns...
		}
		next := make(chan struct{})
		done.Add(1)
		// ... and its worker should take this one.
		if err := p.Submit(func() { <-next; done.Done() }); err != nil {
			t.Fatal(err)
		}
		release = next
	}
	close(release)
	done.Wait()
	// The scheduler sometimes runs the yielding submitter first (it looks at
	// its global queue now and then), so a few extra workers are expected.
	if n := p.Running(); n > tasks/10 {
		t.Fatalf("%d workers for %d tasks that never ran two at a time, want at most %d", n, tasks, tasks/10)
	}
}

// payload is what a task captures; the pool must not keep it reachable
// once the task has run.
type payload struct{ data [64]byte }

// collectable reports whether the value w points to is collected within a
// few GC cycles.
func collectable(w weak.Pointer[payload]) bool {
	for range 10 {
		runtime.GC()
		if w.Value() == nil {
			return true
		}
	}
	return false
}

func TestTaskPayloadIsCollectableAfterItRuns(t *testing.T) {
	// Each case submits one task that captures a fresh payload (a func
	// pool gets the task as its argument), waits for it to run, and returns
	// a weak pointer to the payload. The pool stays open, its workers idle:
	// it must not pin the payload.
	for _, k := range (allKinds | bothModes).each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2)
			done := make(chan struct{}, 1)
			cases := map[string]func() weak.Pointer[payload]{
				"submit": func() weak.Pointer[payload] {
					x := new(payload)
					_ = p.submit(func() { x.data[0]++; done <- struct{}{} })
					<-done
					return weak.Make(x)
				},
				"submit-ctx": func() weak.Pointer[payload] {
					x := new(payload)
					_ = p.submitCtx(context.Background(), func() { x.data[0]++; done <- struct{}{} })
					<-done
					return weak.Make(x)
				},
			}
			if p.runner != nil {
				cases["group"] = func() weak.Pointer[payload] {
					x := new(payload)
					g := p.runner.Group(context.Background())
					g.Go(func(context.Context) error { x.data[0]++; return nil })
					_ = g.Wait()
					return weak.Make(x)
				}
				cases["group-retry"] = func() weak.Pointer[payload] {
					x := new(payload)
					g := p.runner.Group(context.Background(), ants.WithRetry(constantRetry(time.Microsecond)))
					g.Go(func(context.Context) error {
						if x.data[0]++; x.data[0] == 1 {
							return errBoom
						}
						return nil
					})
					_ = g.Wait()
					return weak.Make(x)
				}
			}
			for name, submit := range cases {
				if w := submit(); !collectable(w) {
					t.Errorf("%s: the task's payload is still reachable after it ran", name)
				}
			}
			mustRelease(t, p)
		})
	}
}

// The same for a task that waited for a worker: its caller in line, or the
// task itself in the queue.
func TestWaitingCallersPayloadIsCollectableAfterItRuns(t *testing.T) {
	for _, k := range (allKinds | bothModes).each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 1)
				b := newBlocker()
				b.fill(t, p.submit, 1)
				done := make(chan struct{})
				w := func() weak.Pointer[payload] {
					x := new(payload)
					go func() { _ = p.submit(func() { x.data[0]++; close(done) }) }()
					return weak.Make(x)
				}()
				synctest.Wait() // the caller waits in line, or its task in the queue
				b.open()
				<-done
				synctest.Wait()
				if !collectable(w) {
					t.Error("the payload of a task that waited in line is still reachable after it ran")
				}
				mustRelease(t, p)
			})
		})
	}
}
