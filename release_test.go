package ants_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/antspool/ants"
)

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
