package ants_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

type ctxMark struct{}

// recorder is an Interceptor that records each call's TaskMeta and passes
// the task a context that carries a mark.
type recorder struct {
	mu    sync.Mutex
	metas []ants.TaskMeta
}

func (r *recorder) intercept(ctx context.Context, run func(context.Context)) {
	meta, ok := ants.TaskMetaFrom(ctx)
	if !ok {
		panic("no TaskMeta in the interceptor's context")
	}
	r.mu.Lock()
	r.metas = append(r.metas, meta)
	r.mu.Unlock()
	run(context.WithValue(ctx, ctxMark{}, "intercepted"))
}

func (r *recorder) calls() []ants.TaskMeta {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.metas)
}

// Every task that has a context runs through the interceptor, with the
// context it passes on; Submit and Invoke do not.
func TestInterceptorWrapsTasksWithAContext(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			var rec recorder
			p := newPool(t, k, 2, ants.WithInterceptor(rec.intercept))
			marked := make(chan any, 8)
			if err := p.submitCtx(context.Background(), func() {}); err != nil { // the helper's wrapper: see below
				t.Fatal(err)
			}
			r := p.runner.(interface {
				SubmitCtx(context.Context, func(context.Context)) error
			})
			if err := r.SubmitCtx(context.Background(), func(ctx context.Context) { marked <- ctx.Value(ctxMark{}) }); err != nil {
				t.Fatal(err)
			}
			g := p.runner.Group(context.Background())
			g.Go(func(ctx context.Context) error { marked <- ctx.Value(ctxMark{}); return nil })
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			v, err := ants.SubmitValue(context.Background(), p.runner, func(ctx context.Context) (any, error) { return ctx.Value(ctxMark{}), nil }).Wait()
			if err != nil {
				t.Fatal(err)
			}
			marked <- v
			done := make(chan struct{})
			if err := p.submit(func() { close(done) }); err != nil { // plain: not intercepted
				t.Fatal(err)
			}
			<-done
			mustRelease(t, p)
			close(marked)
			for m := range marked {
				if m != "intercepted" {
					t.Errorf("a task ran with %v, not the interceptor's context", m)
				}
			}
			if n := len(rec.calls()); n != 4 {
				t.Errorf("interceptor called %d times, want 4 (SubmitCtx twice, Group, SubmitValue; not Submit)", n)
			}
		})
	}
}

// Each attempt of a retried Group task is intercepted once, with its
// attempt number.
func TestInterceptorSeesEveryAttempt(t *testing.T) {
	var rec recorder
	p, _ := ants.NewPool(2, ants.WithInterceptor(rec.intercept))
	policy := func() backoff.BackOff { return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 5) }
	g := p.Group(context.Background(), ants.WithRetry(policy))
	var n atomic.Int32
	g.Go(func(context.Context) error {
		if n.Add(1) < 3 {
			return errors.New("again")
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	mustRelease(t, p)
	var attempts []int
	for _, m := range rec.calls() {
		attempts = append(attempts, m.Attempt)
	}
	if !slices.Equal(attempts, []int{1, 2, 3}) {
		t.Errorf("attempts seen = %v, want [1 2 3]", attempts)
	}
}

// TaskMeta.Wait is how long a task waited for a worker.
func TestInterceptorSeesTheWait(t *testing.T) {
	for _, qs := range []int{0, 4} {
		t.Run(fmt.Sprintf("q=%d", qs), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var rec recorder
				p, _ := ants.NewPool(1, ants.WithInterceptor(rec.intercept), ants.WithQueueSize(qs))
				b := newBlocker()
				b.fill(t, p.Submit, 1)
				done := make(chan struct{})
				go func() {
					_ = p.SubmitCtx(context.Background(), func(context.Context) { close(done) })
				}()
				synctest.Wait()
				time.Sleep(time.Second)
				b.open()
				<-done
				mustRelease(t, p)
				if c := rec.calls(); len(c) != 1 || c[0].Wait != time.Second {
					t.Errorf("TaskMeta = %+v, want one with Wait 1s", c)
				}
			})
		})
	}
}

// A task run inline, on its caller, is intercepted too.
func TestInterceptorWrapsInlineRuns(t *testing.T) {
	var rec recorder
	p, _ := ants.NewPool(1, ants.WithInterceptor(rec.intercept))
	outer := p.Group(context.Background())
	outer.Go(func(ctx context.Context) error {
		inner := p.Group(ctx)
		inner.Go(func(context.Context) error { return nil }) // no worker is free: runs here
		return inner.Wait()
	})
	if err := outer.Wait(); err != nil {
		t.Fatal(err)
	}
	mustRelease(t, p)
	if n := len(rec.calls()); n != 2 {
		t.Errorf("interceptor called %d times, want 2", n)
	}
}

// An interceptor that panics panics as the task would: the PanicHandler
// gets it for a SubmitCtx task, the group a *PanicError; the pool goes on.
func TestInterceptorPanicIsTheTasks(t *testing.T) {
	panics := make(chan any, 1)
	boom := func(context.Context, func(context.Context)) { panic("interceptor") }
	p, _ := ants.NewPool(1, ants.WithInterceptor(boom), ants.WithPanicHandler(func(v any) { panics <- v }))
	if err := p.SubmitCtx(context.Background(), func(context.Context) {}); err != nil {
		t.Fatal(err)
	}
	if v := <-panics; v != "interceptor" {
		t.Errorf("PanicHandler got %v", v)
	}
	g := p.Group(context.Background())
	g.Go(func(context.Context) error { return nil })
	var pe *ants.PanicError
	if err := g.Wait(); !errors.As(err, &pe) || pe.Value != "interceptor" {
		t.Errorf("Wait = %v, want the interceptor's panic as a *PanicError", err)
	}
	mustRelease(t, p)
}

// After run returns, TaskMetaFrom gives the task's error; a task's panic
// passes through the interceptor, which may see it and panic again, and
// then goes where it would have gone, with the task's own stack.
func TestInterceptorSeesTheTaskOutcome(t *testing.T) {
	var mu sync.Mutex
	var errs []error
	var panics []any
	ic := func(ctx context.Context, run func(context.Context)) {
		defer func() {
			if v := recover(); v != nil {
				mu.Lock()
				panics = append(panics, v)
				mu.Unlock()
				panic(v)
			}
		}()
		if m, _ := ants.TaskMetaFrom(ctx); m.Err != nil {
			t.Errorf("Err = %v before run", m.Err)
		}
		run(ctx)
		m, _ := ants.TaskMetaFrom(ctx)
		mu.Lock()
		errs = append(errs, m.Err)
		mu.Unlock()
	}
	p, _ := ants.NewPool(1, ants.WithInterceptor(ic))
	failed := errors.New("failed")
	g := p.Group(context.Background(), ants.WithCollectErrors())
	g.Go(func(context.Context) error { return failed })
	g.Go(func(context.Context) error { return nil })
	if err := g.Wait(); !errors.Is(err, failed) {
		t.Fatalf("Wait = %v, want %v", err, failed)
	}
	if _, err := ants.SubmitValue(context.Background(), p, func(context.Context) (int, error) { return 0, failed }).Wait(); !errors.Is(err, failed) {
		t.Fatalf("Future.Wait = %v", err)
	}
	done := make(chan struct{})
	if err := p.SubmitCtx(context.Background(), func(context.Context) { close(done) }); err != nil {
		t.Fatal(err)
	}
	<-done
	g = p.Group(context.Background())
	g.Go(func(context.Context) error { panic("task") })
	var pe *ants.PanicError
	if err := g.Wait(); !errors.As(err, &pe) || pe.Value != "task" {
		t.Fatalf("Wait = %v, want the task's panic", err)
	}
	if !strings.Contains(string(pe.Stack), "TestInterceptorSeesTheTaskOutcome") {
		t.Errorf("the panic's stack does not show the task:\n%s", pe.Stack)
	}
	mustRelease(t, p)
	mu.Lock()
	defer mu.Unlock()
	want := []error{failed, nil, failed, nil}
	if len(errs) != len(want) {
		t.Fatalf("errors seen = %v, want %v", errs, want)
	}
	for i := range want {
		if errs[i] != want[i] {
			t.Errorf("errors seen = %v, want %v", errs, want)
			break
		}
	}
	if len(panics) != 1 || panics[0] != "task" {
		t.Errorf("panics seen = %v, want [task]", panics)
	}
}
