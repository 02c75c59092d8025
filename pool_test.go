package ants_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/cenkalti/backoff/v4"
	"go.uber.org/goleak"

	"github.com/antspool/ants"
)

func TestPoolRunsEveryTaskWithinCapacity(t *testing.T) {
	for _, prealloc := range []bool{false, true} {
		t.Run(fmt.Sprintf("prealloc=%v", prealloc), func(t *testing.T) {
			const size, tasks = 4, 2000
			p, err := ants.NewPool(size, ants.WithPreAlloc(prealloc))
			if err != nil {
				t.Fatal(err)
			}
			var g gauge
			var ran atomic.Int32
			var wg sync.WaitGroup
			wg.Add(tasks)
			for range tasks {
				err := p.Submit(func() {
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

func TestUnlimitedPool(t *testing.T) {
	p, _ := ants.NewPool(0)
	if p.Cap() != -1 || p.Free() != -1 {
		t.Errorf("Cap, Free = %d, %d; want -1, -1", p.Cap(), p.Free())
	}
	b := newBlocker()
	b.fill(t, p.Submit, 100) // would hang if the pool waited at any size
	if p.Running() != 100 {
		t.Errorf("Running = %d, want 100", p.Running())
	}
	p.Tune(10)
	if p.Cap() != -1 {
		t.Errorf("Tune changed an unlimited pool's Cap to %d", p.Cap())
	}
	b.open()
	mustRelease(t, p)
}

// Callers that wait for a worker are served in arrival order, whatever
// entry point they came through.
func TestWaitingCallersAreServedFirstComeFirstServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		b := newBlocker()
		b.fill(t, p.Submit, 1)

		var mu sync.Mutex
		var order []int
		var ran sync.WaitGroup
		record := func(i int) { mu.Lock(); order = append(order, i); mu.Unlock(); ran.Done() }
		const callers = 6
		ran.Add(callers)
		for i := range callers {
			go func() {
				var err error
				if i%2 == 0 {
					err = p.Submit(func() { record(i) })
				} else {
					err = p.SubmitCtx(context.Background(), func(context.Context) { record(i) })
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
		b.open()
		ran.Wait()
		mustRelease(t, p)
		for i, got := range order {
			if got != i {
				t.Fatalf("tasks ran in order %v, want arrival order", order)
			}
		}
		if len(order) != callers {
			t.Fatalf("ran %d tasks, want %d", len(order), callers)
		}
	})
}

func TestFuncPoolsServeWaitersFirstComeFirstServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var order []int
		var ran sync.WaitGroup
		ran.Add(6)
		gate := make(chan struct{})
		p, _ := ants.NewPoolWithFuncGeneric(1, func(i int) {
			if i < 0 {
				<-gate
				return
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			ran.Done()
		})
		_ = p.Invoke(-1)
		synctest.Wait()
		for i := range 6 {
			go func() {
				if i%2 == 0 {
					_ = p.Invoke(i)
				} else {
					_ = p.InvokeCtx(context.Background(), i)
				}
			}()
			synctest.Wait()
		}
		close(gate)
		ran.Wait()
		mustRelease(t, p)
		if fmt.Sprint(order) != "[0 1 2 3 4 5]" {
			t.Fatalf("invocations ran in order %v, want arrival order", order)
		}
	})
}

func TestNonblocking(t *testing.T) {
	p, _ := ants.NewPool(2, ants.WithNonblocking(true))
	b := newBlocker()
	b.fill(t, p.Submit, 2)
	ran := false
	if err := p.Submit(func() { ran = true }); !errors.Is(err, ants.ErrPoolOverload) {
		t.Errorf("Submit on a full nonblocking pool = %v, want ErrPoolOverload", err)
	}
	if err := p.SubmitCtx(context.Background(), func(context.Context) { ran = true }); !errors.Is(err, ants.ErrPoolOverload) {
		t.Errorf("SubmitCtx on a full nonblocking pool = %v, want ErrPoolOverload", err)
	}
	b.open()
	mustRelease(t, p)
	if ran {
		t.Error("a refused task ran")
	}
}

func TestMaxBlockingTasks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1, ants.WithMaxBlockingTasks(2))
		b := newBlocker()
		b.fill(t, p.Submit, 1)
		errs := make(chan error, 2)
		go func() { errs <- p.Submit(func() {}) }()
		go func() { errs <- p.SubmitCtx(context.Background(), func(context.Context) {}) }()
		synctest.Wait()
		if p.Waiting() != 2 {
			t.Fatalf("Waiting = %d, want 2", p.Waiting())
		}
		if err := p.Submit(func() {}); !errors.Is(err, ants.ErrPoolOverload) {
			t.Errorf("third blocked Submit = %v, want ErrPoolOverload", err)
		}
		if err := p.SubmitCtx(context.Background(), func(context.Context) {}); !errors.Is(err, ants.ErrPoolOverload) {
			t.Errorf("third blocked SubmitCtx = %v, want ErrPoolOverload", err)
		}
		b.open()
		for range 2 {
			if err := <-errs; err != nil {
				t.Errorf("a caller within the limit got %v", err)
			}
		}
		mustRelease(t, p)
	})
}

func TestTune(t *testing.T) {
	t.Run("growing admits every waiter at once", func(t *testing.T) {
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
	t.Run("shrinking lets running tasks finish, then caps", func(t *testing.T) {
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
	t.Run("no effect where ants has none", func(t *testing.T) {
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

func TestInvokeNilRunsTheFunctionWithNil(t *testing.T) {
	got := make(chan any, 1)
	p, _ := ants.NewPoolWithFunc(1, func(v any) { got <- v })
	if err := p.Invoke(nil); err != nil {
		t.Fatalf("Invoke(nil) = %v", err)
	}
	if v := <-got; v != nil {
		t.Errorf("function got %v, want nil", v)
	}
	mustRelease(t, p)
}

func TestNewPoolStartsNoGoroutine(t *testing.T) {
	p, _ := ants.NewPool(10)
	f, _ := ants.NewPoolWithFunc(10, func(any) {})
	goleak.VerifyNone(t)
	p.Release()
	f.Release()
}

func TestPurge(t *testing.T) {
	t.Run("idle workers exit after one to two expiry durations", func(t *testing.T) {
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
	t.Run("a worker in use does not expire", func(t *testing.T) {
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
	t.Run("DisablePurge keeps idle workers", func(t *testing.T) {
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
	t.Run("purge racing submits loses no task", func(t *testing.T) {
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

func TestDefaultPool(t *testing.T) {
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
	// Each case submits one task that captures (or is given) a fresh
	// payload, waits for it to run, and returns a weak pointer to it. The
	// pools stay open, their workers idle: they must not pin the payload.
	p, _ := ants.NewPool(2)
	mp, _ := ants.NewMultiPool(2, 1, ants.RoundRobin)
	done := make(chan struct{}, 1)
	gp, _ := ants.NewPoolWithFuncGeneric(2, func(*payload) { done <- struct{}{} })
	cases := map[string]func() weak.Pointer[payload]{
		"Pool.Submit": func() weak.Pointer[payload] {
			x := new(payload)
			_ = p.Submit(func() { x.data[0]++; done <- struct{}{} })
			<-done
			return weak.Make(x)
		},
		"Pool.SubmitCtx": func() weak.Pointer[payload] {
			x := new(payload)
			_ = p.SubmitCtx(context.Background(), func(context.Context) { x.data[0]++; done <- struct{}{} })
			<-done
			return weak.Make(x)
		},
		"PoolWithFuncGeneric.Invoke": func() weak.Pointer[payload] {
			x := new(payload)
			_ = gp.Invoke(x)
			<-done
			return weak.Make(x)
		},
		"MultiPool.Submit": func() weak.Pointer[payload] {
			x := new(payload)
			_ = mp.Submit(func() { x.data[0]++; done <- struct{}{} })
			<-done
			return weak.Make(x)
		},
		"Group.Go": func() weak.Pointer[payload] {
			x := new(payload)
			g := p.Group(context.Background())
			g.Go(func(context.Context) error { x.data[0]++; return nil })
			_ = g.Wait()
			return weak.Make(x)
		},
		"Group.Go with a retry": func() weak.Pointer[payload] {
			x := new(payload)
			g := mp.Group(context.Background(), ants.WithRetry(func() backoff.BackOff {
				return backoff.NewConstantBackOff(time.Microsecond)
			}))
			g.Go(func(context.Context) error {
				if x.data[0]++; x.data[0] == 1 {
					return errBoom
				}
				return nil
			})
			_ = g.Wait()
			return weak.Make(x)
		},
	}
	for name, submit := range cases {
		if w := submit(); !collectable(w) {
			t.Errorf("%s: the task's payload is still reachable after it ran", name)
		}
	}
	mustRelease(t, p)
	mustRelease(t, mp)
	mustRelease(t, gp)
}

// The same for a task whose caller waited in line for a worker.
func TestWaitingCallersPayloadIsCollectableAfterItRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		b := newBlocker()
		b.fill(t, p.Submit, 1)
		done := make(chan struct{})
		w := func() weak.Pointer[payload] {
			x := new(payload)
			go func() { _ = p.Submit(func() { x.data[0]++; close(done) }) }()
			return weak.Make(x)
		}()
		synctest.Wait() // the caller waits in line
		b.open()
		<-done
		synctest.Wait()
		if !collectable(w) {
			t.Error("the payload of a task that waited in line is still reachable after it ran")
		}
		mustRelease(t, p)
	})
}
