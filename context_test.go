package ants_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/antspool/ants"
)

// The Ctx forms of every pool kind: SubmitCtx, and InvokeCtx on the func
// pools, whose ctx bounds admission only.

func TestCtxAlreadyDoneNeverRuns(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 2) // idle, with room: the task would start at once
				cancelled, cancel := context.WithCancel(context.Background())
				cancel()
				expired, cancel2 := context.WithDeadline(context.Background(), time.Now())
				defer cancel2()
				for _, ctx := range []context.Context{cancelled, expired} {
					var ran atomic.Bool
					err := p.submitCtx(ctx, func() { ran.Store(true) })
					if err == nil || !errors.Is(err, ctx.Err()) {
						t.Errorf("submit with a done ctx = %v, want %v", err, ctx.Err())
					}
					synctest.Wait()
					if ran.Load() {
						t.Error("a task whose ctx was already done ran")
					}
				}
				mustRelease(t, p)
			})
		})
	}
}

func TestCtxCancelWhileWaitingReturnsAtOnce(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 2)
				b := newBlocker()
				b.fill(t, p.submit, 2)
				ctx, cancel := context.WithCancel(context.Background())
				var ran atomic.Bool
				errc := make(chan error, 1)
				go func() { errc <- p.submitCtx(ctx, func() { ran.Store(true) }) }()
				synctest.Wait()
				if p.Waiting() != 1 {
					t.Fatalf("Waiting = %d, want 1", p.Waiting())
				}
				start := time.Now()
				cancel()
				err := <-errc
				// The fake clock did not move: the caller returned on the
				// cancellation itself, with no timer or polling in between.
				if d := time.Since(start); d != 0 {
					t.Errorf("returned %v after cancel, want at once", d)
				}
				if !errors.Is(err, context.Canceled) {
					t.Errorf("cancelled while waiting = %v, want context.Canceled", err)
				}
				if p.Waiting() != 0 {
					t.Errorf("Waiting = %d after cancel, want 0", p.Waiting())
				}
				b.open()
				mustRelease(t, p)
				if ran.Load() {
					t.Error("a task cancelled while it waited ran")
				}
			})
		})
	}
}

func TestCtxDeadlineWhileWaitingReturnsAtTheDeadline(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 2)
				b := newBlocker()
				b.fill(t, p.submit, 2)
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				defer cancel()
				start := time.Now()
				var ran atomic.Bool
				err := p.submitCtx(ctx, func() { ran.Store(true) })
				if d := time.Since(start); d != 50*time.Millisecond {
					t.Errorf("returned after %v, want exactly the 50ms deadline", d)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("submit = %v, want DeadlineExceeded", err)
				}
				if p.Waiting() != 0 {
					t.Errorf("Waiting = %d after the deadline, want 0", p.Waiting())
				}
				b.open()
				mustRelease(t, p)
				if ran.Load() {
					t.Error("a task whose deadline passed while it waited ran")
				}
			})
		})
	}
}

// When a worker frees up at the instant a waiter's ctx ends, the worker
// either runs that waiter's task (and its call returns nil) or goes on to
// the next waiter: it is never lost, and no caller is left hanging.
func TestWorkerFreedAsCtxEndsGoesToNextWaiter(t *testing.T) {
	n := rounds(2000, 300)
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		var admitted, cancelled int
		for i := range n {
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			ctx, cancel := context.WithCancel(context.Background())
			var aRan, bRan atomic.Bool
			aErr, bErr := make(chan error, 1), make(chan error, 1)
			go func() { aErr <- p.SubmitCtx(ctx, func(context.Context) { aRan.Store(true) }) }()
			synctest.Wait() // A is in line before B
			go func() { bErr <- p.Submit(func() { bRan.Store(true) }) }()
			synctest.Wait()
			if i%2 == 0 { // the cancel and the freed worker race; each gets a head start half the time
				go cancel()
				b.open()
			} else {
				go b.open()
				cancel()
			}
			if err := <-bErr; err != nil {
				t.Fatalf("round %d: B's Submit = %v", i, err)
			}
			err := <-aErr
			synctest.Wait() // every admitted task has run
			switch {
			case err == nil:
				admitted++
				if !aRan.Load() {
					t.Fatalf("round %d: A was admitted but its task did not run", i)
				}
			case errors.Is(err, context.Canceled):
				cancelled++
				if aRan.Load() {
					t.Fatalf("round %d: A returned Canceled but its task ran", i)
				}
			default:
				t.Fatalf("round %d: A's SubmitCtx = %v", i, err)
			}
			if !bRan.Load() {
				t.Fatalf("round %d: B's task did not run", i)
			}
			if p.Waiting() != 0 {
				t.Fatalf("round %d: Waiting = %d", i, p.Waiting())
			}
		}
		t.Logf("A admitted %d times, cancelled %d times", admitted, cancelled)
		mustRelease(t, p)
	})
}

func TestSubmitCtxHandsCtxToTask(t *testing.T) {
	type key struct{}
	p, _ := ants.NewPool(1)
	ctx := context.WithValue(context.Background(), key{}, "v")
	got := make(chan any, 1)
	_ = p.SubmitCtx(ctx, func(ctx context.Context) { got <- ctx.Value(key{}) })
	if v := <-got; v != "v" {
		t.Errorf("task saw ctx value %v, want v", v)
	}
	mustRelease(t, p)
}

// A task that submits to its own full pool with a deadline gets the
// deadline's error instead of waiting forever for its own worker.
func TestNestedSubmitOnFullPoolEndsAtItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		errc := make(chan error, 1)
		_ = p.Submit(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			errc <- p.SubmitCtx(ctx, func(context.Context) { t.Error("nested task ran") })
		})
		if err := <-errc; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("nested SubmitCtx = %v, want DeadlineExceeded", err)
		}
		mustRelease(t, p)
	})
}
