package ants_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

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

func TestPanics(t *testing.T) {
	t.Run("handler gets every value and the pool keeps its capacity", func(t *testing.T) {
		got := make(chan any, 5)
		p, _ := ants.NewPool(1, ants.WithPanicHandler(func(v any) { got <- v }))
		for i := range 5 {
			if err := p.Submit(func() { panic(i) }); err != nil {
				t.Fatalf("Submit after %d panics = %v", i, err)
			}
		}
		done := make(chan struct{})
		if err := p.Submit(func() { close(done) }); err != nil {
			t.Fatalf("Submit after panics = %v", err)
		}
		<-done
		mustRelease(t, p)
		close(got)
		var vals []any
		for v := range got {
			vals = append(vals, v)
		}
		if fmt.Sprint(vals) != "[0 1 2 3 4]" {
			t.Errorf("handler got %v, want [0 1 2 3 4]", vals)
		}
	})
	t.Run("without a handler the panic is logged with its stack", func(t *testing.T) {
		var log logBuffer
		p, _ := ants.NewPoolWithFunc(1, func(any) { panicInTask() }, ants.WithLogger(&log))
		_ = p.Invoke(nil)
		mustRelease(t, p)
		s := log.String()
		if !strings.Contains(s, "boom") || !strings.Contains(s, "panicInTask") {
			t.Errorf("log = %q, want the value and the panicking function", s)
		}
	})
	t.Run("Running drops before the handler runs", func(t *testing.T) {
		seen := make(chan int, 1)
		var p *ants.Pool
		p, _ = ants.NewPool(1, ants.WithPanicHandler(func(any) { seen <- p.Running() }))
		_ = p.Submit(func() { panic("x") })
		if n := <-seen; n != 0 {
			t.Errorf("Running in PanicHandler = %d, want 0", n)
		}
		mustRelease(t, p)
	})
}

//go:noinline
func panicInTask() { panic("boom") }

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format, args...)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestGoexitLeavesThePoolWhole(t *testing.T) {
	p, _ := ants.NewPool(1)
	for range 3 {
		if err := p.Submit(func() { runtime.Goexit() }); err != nil {
			t.Fatalf("Submit after Goexit = %v", err)
		}
	}
	done := make(chan struct{})
	if err := p.Submit(func() { close(done) }); err != nil {
		t.Fatalf("Submit = %v", err)
	}
	<-done
	if err := p.ReleaseTimeout(5 * time.Second); err != nil {
		t.Fatalf("ReleaseTimeout = %v", err)
	}
	if p.Running() != 0 {
		t.Errorf("Running = %d after release, want 0", p.Running())
	}
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

func TestBadInput(t *testing.T) {
	fn := func(any) {}
	gfn := func(int) {}
	ctors := map[string]func(size int, opts ...ants.Option) error{
		"NewPool": func(size int, opts ...ants.Option) error {
			p, err := ants.NewPool(size, opts...)
			if err == nil {
				p.Release()
			}
			return err
		},
		"NewPoolWithFunc": func(size int, opts ...ants.Option) error {
			p, err := ants.NewPoolWithFunc(size, fn, opts...)
			if err == nil {
				p.Release()
			}
			return err
		},
		"NewPoolWithFuncGeneric": func(size int, opts ...ants.Option) error {
			p, err := ants.NewPoolWithFuncGeneric(size, gfn, opts...)
			if err == nil {
				p.Release()
			}
			return err
		},
	}
	tests := []struct {
		name string
		size int
		opts []ants.Option
		want error
	}{
		{"negative expiry", 1, []ants.Option{ants.WithExpiryDuration(-1)}, ants.ErrInvalidPoolExpiry},
		{"negative expiry, unlimited", -1, []ants.Option{ants.WithExpiryDuration(-1)}, ants.ErrInvalidPoolExpiry},
		{"negative expiry without purge is unused", 1, []ants.Option{ants.WithExpiryDuration(-1), ants.WithDisablePurge(true)}, nil},
		{"prealloc, size 0", 0, []ants.Option{ants.WithPreAlloc(true)}, ants.ErrInvalidPreAllocSize},
		{"prealloc, negative size", -5, []ants.Option{ants.WithPreAlloc(true)}, ants.ErrInvalidPreAllocSize},
		{"negative MaxBlockingTasks", 1, []ants.Option{ants.WithMaxBlockingTasks(-1)}, ants.ErrInvalidMaxBlockingTasks},
		{"nil option is ignored", 1, []ants.Option{nil}, nil},
		{"size 0 means unlimited", 0, nil, nil},
	}
	for name, ctor := range ctors {
		for _, tt := range tests {
			if err := ctor(tt.size, tt.opts...); !errors.Is(err, tt.want) {
				t.Errorf("%s, %s: err = %v, want %v", name, tt.name, err, tt.want)
			}
		}
	}
	if _, err := ants.NewPoolWithFunc(1, nil); !errors.Is(err, ants.ErrLackPoolFunc) {
		t.Errorf("NewPoolWithFunc(nil) = %v, want ErrLackPoolFunc", err)
	}
	if _, err := ants.NewPoolWithFuncGeneric[int](1, nil); !errors.Is(err, ants.ErrLackPoolFunc) {
		t.Errorf("NewPoolWithFuncGeneric(nil) = %v, want ErrLackPoolFunc", err)
	}

	p, _ := ants.NewPool(1)
	if err := p.Submit(nil); !errors.Is(err, ants.ErrNilTask) {
		t.Errorf("Submit(nil) = %v, want ErrNilTask", err)
	}
	if err := p.SubmitCtx(context.Background(), nil); !errors.Is(err, ants.ErrNilTask) {
		t.Errorf("SubmitCtx(ctx, nil) = %v, want ErrNilTask", err)
	}
	//lint:ignore SA1012 a nil ctx is the bad input under test
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := p.SubmitCtx(nil, func(context.Context) {}); !errors.Is(err, ants.ErrNilContext) {
		t.Errorf("SubmitCtx(nil, task) = %v, want ErrNilContext", err)
	}
	f, _ := ants.NewPoolWithFunc(1, fn)
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := f.InvokeCtx(nil, 1); !errors.Is(err, ants.ErrNilContext) {
		t.Errorf("InvokeCtx(nil, 1) = %v, want ErrNilContext", err)
	}
	g, _ := ants.NewPoolWithFuncGeneric(1, gfn)
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := g.InvokeCtx(nil, 1); !errors.Is(err, ants.ErrNilContext) {
		t.Errorf("generic InvokeCtx(nil, 1) = %v, want ErrNilContext", err)
	}
	if p.Running()+f.Running()+g.Running() != 0 {
		t.Error("bad input started a worker")
	}
	mustRelease(t, p)
	mustRelease(t, f)
	mustRelease(t, g)
}

func TestReleasedPoolRefusesEverything(t *testing.T) {
	p, _ := ants.NewPool(1)
	f, _ := ants.NewPoolWithFunc(1, func(any) {})
	g, _ := ants.NewPoolWithFuncGeneric(1, func(int) {})
	mustRelease(t, p)
	mustRelease(t, f)
	mustRelease(t, g)
	ctx := context.Background()
	checks := map[string]error{
		"Submit":      p.Submit(func() {}),
		"Submit(nil)": p.Submit(nil),
		"SubmitCtx":   p.SubmitCtx(ctx, func(context.Context) {}),
		//lint:ignore SA1012 a nil context is the bad input under test
		"SubmitCtx(nil, nil)": p.SubmitCtx(nil, nil),
		"Invoke":              f.Invoke(1),
		"InvokeCtx":           f.InvokeCtx(ctx, 1),
		"generic Invoke":      g.Invoke(1),
		"generic InvokeCtx":   g.InvokeCtx(ctx, 1),
		"ReleaseContext":      p.ReleaseContext(ctx),
		"ReleaseTimeout":      p.ReleaseTimeout(time.Second),
	}
	for name, err := range checks {
		if !errors.Is(err, ants.ErrPoolClosed) {
			t.Errorf("%s on a released pool = %v, want ErrPoolClosed", name, err)
		}
	}
	if !p.IsClosed() {
		t.Error("IsClosed = false after release")
	}
	p.Release() // a second Release does nothing
}

func TestReleaseWakesEveryBlockedCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		gate := make(chan struct{})
		f, _ := ants.NewPoolWithFunc(1, func(any) { <-gate })
		g, _ := ants.NewPoolWithFuncGeneric(1, func(int) { <-gate })
		b := newBlocker()
		b.fill(t, p.Submit, 1)
		_ = f.Invoke(nil)
		_ = g.Invoke(0)
		synctest.Wait()

		ctx := context.Background()
		callers := map[string]func() error{
			"Submit": func() error { return p.Submit(func() { t.Error("task of a woken Submit ran") }) },
			"SubmitCtx": func() error {
				return p.SubmitCtx(ctx, func(context.Context) { t.Error("task of a woken SubmitCtx ran") })
			},
			"Invoke":            func() error { return f.Invoke(1) },
			"InvokeCtx":         func() error { return f.InvokeCtx(ctx, 1) },
			"generic Invoke":    func() error { return g.Invoke(1) },
			"generic InvokeCtx": func() error { return g.InvokeCtx(ctx, 1) },
		}
		errs := make(map[string]chan error)
		for name, call := range callers {
			ch := make(chan error, 1)
			errs[name] = ch
			go func() { ch <- call() }()
		}
		synctest.Wait()
		if n := p.Waiting() + f.Waiting() + g.Waiting(); n != len(callers) {
			t.Fatalf("%d callers waiting, want %d", n, len(callers))
		}
		p.Release()
		f.Release()
		g.Release()
		for name, ch := range errs {
			if err := <-ch; !errors.Is(err, ants.ErrPoolClosed) {
				t.Errorf("%s woken by Release = %v, want ErrPoolClosed", name, err)
			}
		}
		if n := p.Waiting() + f.Waiting() + g.Waiting(); n != 0 {
			t.Errorf("Waiting = %d after Release, want 0", n)
		}
		b.open()
		close(gate)
	})
}

func TestReleaseContext(t *testing.T) {
	t.Run("returns nil only when nothing of the pool runs", func(t *testing.T) {
		p, _ := ants.NewPool(4, ants.WithExpiryDuration(time.Hour))
		b := newBlocker()
		b.fill(t, p.Submit, 4)
		returned := make(chan error, 1)
		go func() { returned <- p.ReleaseContext(context.Background()) }()
		select {
		case err := <-returned:
			t.Fatalf("ReleaseContext returned %v while tasks ran", err)
		default:
		}
		b.open()
		if err := <-returned; err != nil {
			t.Fatalf("ReleaseContext = %v", err)
		}
		// Right after: no worker, no purger, nothing.
		goleak.VerifyNone(t)
		if p.Running() != 0 {
			t.Errorf("Running = %d, want 0", p.Running())
		}
	})
	t.Run("reports ctx's error while a task still runs", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			b := newBlocker()
			p, _ := ants.NewPool(1)
			q, _ := ants.NewPoolWithFuncGeneric(1, func(int) { b.task() })
			b.fill(t, p.Submit, 1)
			b.fill(t, func(func()) error { return q.Invoke(0) }, 1)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if err := p.ReleaseContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("ReleaseContext = %v, want DeadlineExceeded", err)
			}
			if err := q.ReleaseTimeout(time.Second); !errors.Is(err, ants.ErrTimeout) {
				t.Errorf("ReleaseTimeout = %v, want ErrTimeout", err)
			}
			if !p.IsClosed() || !q.IsClosed() {
				t.Error("a timed-out release left the pool open")
			}
			b.open() // the workers exit on their own; the bubble checks they do
		})
	})
	t.Run("nil ctx releases without waiting", func(t *testing.T) {
		p, _ := ants.NewPool(1)
		b := newBlocker()
		b.fill(t, p.Submit, 1)
		//lint:ignore SA1012 a nil context is the bad input under test
		if err := p.ReleaseContext(nil); err != nil {
			t.Fatalf("ReleaseContext(nil) = %v, want nil", err)
		}
		if !p.IsClosed() {
			t.Error("ReleaseContext(nil) did not release")
		}
		b.open()
		p.Reboot() // waits for the worker, so the test leaks nothing
		mustRelease(t, p)
	})
}

func TestRebootCycles(t *testing.T) {
	for _, prealloc := range []bool{false, true} {
		t.Run(fmt.Sprintf("prealloc=%v", prealloc), func(t *testing.T) {
			const size = 3
			p, _ := ants.NewPool(size, ants.WithPreAlloc(prealloc), ants.WithExpiryDuration(time.Millisecond))
			var g gauge
			var accepted, ran atomic.Int64
			stop := make(chan struct{})
			wait := repeat(4, stop, func() {
				err := p.Submit(func() { g.enter(); ran.Add(1); g.exit() })
				if err == nil {
					accepted.Add(1)
				} else if !errors.Is(err, ants.ErrPoolClosed) {
					t.Errorf("Submit = %v", err)
				}
			})
			cycles := rounds(200, 50)
			for i := range cycles {
				if i%2 == 0 {
					p.Release()
				} else if err := p.ReleaseTimeout(5 * time.Second); err != nil && !errors.Is(err, ants.ErrPoolClosed) {
					t.Fatalf("ReleaseTimeout = %v", err)
				}
				p.Reboot()
			}
			close(stop)
			wait()
			mustRelease(t, p)
			if accepted.Load() != ran.Load() {
				t.Errorf("%d tasks accepted, %d ran", accepted.Load(), ran.Load())
			}
			if m := g.max.Load(); m > size {
				t.Errorf("%d tasks ran at once across reboots, Cap %d", m, size)
			}
		})
	}
}

func TestRebootOnOpenPoolDoesNothing(t *testing.T) {
	p, _ := ants.NewPool(1)
	p.Reboot()
	if p.IsClosed() {
		t.Fatal("Reboot closed an open pool")
	}
	done := make(chan struct{})
	_ = p.Submit(func() { close(done) })
	<-done
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
