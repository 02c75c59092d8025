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

// ctxSubmitters are the Ctx entry points of the three pool types, each
// bound to a pool of one worker that b can fill.
type ctxSubmitter struct {
	name   string
	submit func(ctx context.Context, ran *atomic.Bool) error
	fill   func(t *testing.T, b *blocker)
	pool   interface {
		releaser
		Waiting() int
	}
}

func ctxSubmitters(t *testing.T) []ctxSubmitter {
	p, _ := ants.NewPool(1)
	var fGate, gGate atomic.Pointer[blocker]
	f, _ := ants.NewPoolWithFunc(1, func(arg any) {
		if ran, ok := arg.(*atomic.Bool); ok {
			ran.Store(true)
			return
		}
		fGate.Load().task()
	})
	g, _ := ants.NewPoolWithFuncGeneric(1, func(ran *atomic.Bool) {
		if ran != nil {
			ran.Store(true)
			return
		}
		gGate.Load().task()
	})
	return []ctxSubmitter{
		{
			name: "Pool.SubmitCtx",
			submit: func(ctx context.Context, ran *atomic.Bool) error {
				return p.SubmitCtx(ctx, func(context.Context) { ran.Store(true) })
			},
			fill: func(t *testing.T, b *blocker) { b.fill(t, p.Submit, 1) },
			pool: p,
		},
		{
			name:   "PoolWithFunc.InvokeCtx",
			submit: func(ctx context.Context, ran *atomic.Bool) error { return f.InvokeCtx(ctx, ran) },
			fill: func(t *testing.T, b *blocker) {
				fGate.Store(b)
				b.fill(t, func(func()) error { return f.Invoke(nil) }, 1)
			},
			pool: f,
		},
		{
			name:   "PoolWithFuncGeneric.InvokeCtx",
			submit: func(ctx context.Context, ran *atomic.Bool) error { return g.InvokeCtx(ctx, ran) },
			fill: func(t *testing.T, b *blocker) {
				gGate.Store(b)
				b.fill(t, func(func()) error { return g.Invoke(nil) }, 1)
			},
			pool: g,
		},
	}
}

func TestCtxAlreadyDoneNeverRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, s := range ctxSubmitters(t) {
			// An idle pool with room: the task would start at once.
			cancelled, cancel := context.WithCancel(context.Background())
			cancel()
			expired, cancel2 := context.WithDeadline(context.Background(), time.Now())
			defer cancel2()
			for _, ctx := range []context.Context{cancelled, expired} {
				var ran atomic.Bool
				err := s.submit(ctx, &ran)
				if err == nil || !errors.Is(err, ctx.Err()) {
					t.Errorf("%s with a done ctx = %v, want %v", s.name, err, ctx.Err())
				}
				synctest.Wait()
				if ran.Load() {
					t.Errorf("%s ran a task whose ctx was already done", s.name)
				}
			}
			mustRelease(t, s.pool)
		}
	})
}

func TestCtxCancelWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, s := range ctxSubmitters(t) {
			b := newBlocker()
			s.fill(t, b)
			ctx, cancel := context.WithCancel(context.Background())
			var ran atomic.Bool
			errc := make(chan error, 1)
			go func() { errc <- s.submit(ctx, &ran) }()
			synctest.Wait()
			if s.pool.Waiting() != 1 {
				t.Fatalf("%s: Waiting = %d, want 1", s.name, s.pool.Waiting())
			}
			start := time.Now()
			cancel()
			err := <-errc
			// The fake clock did not move: the caller returned on the
			// cancellation itself, with no timer or polling in between.
			if d := time.Since(start); d != 0 {
				t.Errorf("%s returned %v after cancel, want at once", s.name, d)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s cancelled while waiting = %v, want context.Canceled", s.name, err)
			}
			if s.pool.Waiting() != 0 {
				t.Errorf("%s: Waiting = %d after cancel, want 0", s.name, s.pool.Waiting())
			}
			b.open()
			mustRelease(t, s.pool)
			if ran.Load() {
				t.Errorf("%s ran a task cancelled while it waited", s.name)
			}
		}
	})
}

func TestCtxDeadlineWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, s := range ctxSubmitters(t) {
			b := newBlocker()
			s.fill(t, b)
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			start := time.Now()
			var ran atomic.Bool
			err := s.submit(ctx, &ran)
			if d := time.Since(start); d != 50*time.Millisecond {
				t.Errorf("%s returned after %v, want exactly the 50ms deadline", s.name, d)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s = %v, want DeadlineExceeded", s.name, err)
			}
			cancel()
			b.open()
			mustRelease(t, s.pool)
			if ran.Load() {
				t.Errorf("%s ran a task whose deadline passed while it waited", s.name)
			}
		}
	})
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
func TestNestedSubmitOnFullPoolWithDeadline(t *testing.T) {
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

func TestMultiPoolCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, _ := ants.NewMultiPool(2, 1, ants.RoundRobin)
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if err := mp.SubmitCtx(cancelled, func(context.Context) { t.Error("ran") }); !errors.Is(err, context.Canceled) {
			t.Errorf("SubmitCtx with a done ctx = %v", err)
		}
		b := newBlocker()
		b.fill(t, mp.Submit, 2)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- mp.SubmitCtx(ctx, func(context.Context) { t.Error("ran") }) }()
		synctest.Wait()
		if mp.Waiting() != 1 {
			t.Fatalf("Waiting = %d, want 1", mp.Waiting())
		}
		start := time.Now()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) || time.Since(start) != 0 {
			t.Errorf("SubmitCtx cancelled while waiting = %v after %v, want Canceled at once", err, time.Since(start))
		}
		if mp.Waiting() != 0 {
			t.Errorf("Waiting = %d after cancel", mp.Waiting())
		}
		deadline, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel2()
		f, _ := ants.NewMultiPoolWithFunc(2, 1, func(any) { <-b.gate }, ants.LeastTasks)
		_ = f.Invoke(nil)
		_ = f.Invoke(nil)
		if err := f.InvokeCtx(deadline, 1); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("InvokeCtx on a full multi-pool = %v, want DeadlineExceeded", err)
		}
		b.open()
		mustRelease(t, mp)
		mustRelease(t, f)
	})
}
