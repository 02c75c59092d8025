package ants_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/antspool/ants"
)

func TestReleasedPoolRefusesEverything(t *testing.T) {
	for _, k := range (allKinds | bothModes).each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			mustRelease(t, p)
			ctx := context.Background()
			var ran atomic.Bool
			task := func() { ran.Store(true) }
			checks := map[string]error{
				"submit":              p.submit(task),
				"submit(nil)":         p.submit(nil),
				"submitCtx":           p.submitCtx(ctx, task),
				"submitCtx(nil, nil)": p.submitCtx(nil, nil),
				"try":                 p.try(task),
				"try(nil)":            p.try(nil),
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
			if ran.Load() {
				t.Error("a task given to a released pool ran")
			}
		})
	}
}

func TestReleaseWakesEveryBlockedCaller(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 2)
				b := newBlocker()
				b.fill(t, p.submit, 2)

				ctx := context.Background()
				callers := map[string]func() error{
					"submit":    func() error { return p.submit(func() { t.Error("task of a woken submit ran") }) },
					"submitCtx": func() error { return p.submitCtx(ctx, func() { t.Error("task of a woken submitCtx ran") }) },
				}
				errs := make(map[string]chan error)
				for name, call := range callers {
					ch := make(chan error, 1)
					errs[name] = ch
					go func() { ch <- call() }()
				}
				synctest.Wait()
				if n := p.Waiting(); n != len(callers) {
					t.Fatalf("%d callers waiting, want %d", n, len(callers))
				}
				p.Release()
				for name, ch := range errs {
					if err := <-ch; !errors.Is(err, ants.ErrPoolClosed) {
						t.Errorf("%s woken by Release = %v, want ErrPoolClosed", name, err)
					}
				}
				if n := p.Waiting(); n != 0 {
					t.Errorf("Waiting = %d after Release, want 0", n)
				}
				b.open()
			})
		})
	}
}

func TestReleaseContextWaitsUntilNothingRuns(t *testing.T) {
	t.Run("waits", func(t *testing.T) { // returns nil only when nothing of the pool runs
		for _, k := range allKinds.each() {
			t.Run(k.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 4, ants.WithExpiryDuration(time.Hour))
					b := newBlocker()
					b.fill(t, p.submit, 4)
					returned := make(chan error, 1)
					go func() { returned <- p.ReleaseContext(context.Background()) }()
					synctest.Wait() // ReleaseContext waits for the tasks
					select {
					case err := <-returned:
						t.Fatalf("ReleaseContext returned %v while tasks ran", err)
					default:
					}
					b.open()
					if err := <-returned; err != nil {
						t.Fatalf("ReleaseContext = %v", err)
					}
					// Right after: no worker, no purger, nothing (but the
					// bubble's own goroutines).
					goleak.VerifyNone(t, goleak.IgnoreAnyFunction("internal/synctest.Run"),
						goleak.IgnoreAnyFunction("testing/synctest.testingSynctestTest"))
					if p.Running() != 0 {
						t.Errorf("Running = %d, want 0", p.Running())
					}
				})
			})
		}
	})
	t.Run("ctx-error", func(t *testing.T) { // reports ctx's error while a task still runs
		for _, k := range allKinds.each() {
			t.Run(k.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					b := newBlocker()
					p, q := newPool(t, k, 1), newPool(t, k, 1)
					b.fill(t, p.submit, 1)
					b.fill(t, q.submit, 1)
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
		}
	})
	t.Run("nil-ctx", func(t *testing.T) { // releases without waiting
		for _, k := range allKinds.each() {
			t.Run(k.String(), func(t *testing.T) {
				p := newPool(t, k, 1)
				b := newBlocker()
				b.fill(t, p.submit, 1)
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
	})
}

// Release and Reboot over and over while callers submit: every accepted
// task runs, and no more than Cap at once across the runs.
func TestRebootCyclesLoseNoTaskAndKeepCapacity(t *testing.T) {
	for _, k := range allKinds.each() {
		for _, prealloc := range []bool{false, true} {
			name := k.String()
			if prealloc {
				name += "/prealloc"
			}
			t.Run(name, func(t *testing.T) {
				const size = 3
				p := newPool(t, k, size, ants.WithPreAlloc(prealloc), ants.WithExpiryDuration(time.Millisecond))
				var g gauge
				var accepted, ran atomic.Int64
				stop := make(chan struct{})
				progress, wait := repeat(2, stop, func() {
					err := p.submit(func() { g.enter(); ran.Add(1); g.exit() })
					if err == nil {
						accepted.Add(1)
					} else if !errors.Is(err, ants.ErrPoolClosed) {
						t.Errorf("Submit = %v", err)
					}
				})
				cycles := rounds(50, 20)
				for i := range cycles {
					if i%2 == 0 {
						p.Release()
					} else if err := p.ReleaseTimeout(5 * time.Second); err != nil && !errors.Is(err, ants.ErrPoolClosed) {
						t.Fatalf("ReleaseTimeout = %v", err)
					}
					p.Reboot()
					progress() // the submitters try the rebooted pool
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
}

func TestRebootOnOpenPoolDoesNothing(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			p.Reboot()
			if p.IsClosed() {
				t.Fatal("Reboot closed an open pool")
			}
			done := make(chan struct{})
			if err := p.submit(func() { close(done) }); err != nil {
				t.Fatalf("Submit after Reboot = %v", err)
			}
			<-done
			mustRelease(t, p)
		})
	}
}
