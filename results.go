package ants

import (
	"context"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Result is the outcome of one task of a ResultGroup: the value it
// returned, and its own error.
type Result[T any] struct {
	Value T     // the task's value; T's zero value if the task failed or was skipped
	Err   error // nil, the task's error, a *PanicError, ErrGoexit, a submit's refusal, or the skip cause
}

// ResultGroup is a Group whose tasks return a value: Wait gives the values
// in the order the tasks were given to Go, whatever order they finished in,
// and Results gives each task's value and its own error.
//
// It is built on Group and has its semantics and options: WithLimit,
// WithRetry, WithCollectErrors (run every task, whatever the others do) and
// WithTaskTimeout. Every Go, and every TryGo that returns true, takes the
// next index, starting at 0. A ResultGroup's Go costs one allocation more
// than Group.Go, for the closure that stores the task's value, plus the
// results slice, which grows by doubling.
//
// Create one with NewResultGroup; it must not be copied. Go, TryGo, Wait
// and Results are safe for concurrent use.
type ResultGroup[T any] struct {
	g *Group

	mu      sync.Mutex  // guards the fields below
	results []Result[T] // by index; grown as tasks end, and by Wait to every index taken
	waited  int         // the indexes taken before the latest Wait returned; -1 before the first
}

// NewResultGroup returns a ResultGroup that runs its tasks on r's workers,
// with a context derived from ctx, as r.Group(ctx, opts...) does. A nil
// ctx gives a group that runs nothing and whose Wait returns
// ErrNilContext, as Pool.Group does; a nil r, likewise, ErrNilRunner.
func NewResultGroup[T any](ctx context.Context, r Runner, opts ...GroupOption) *ResultGroup[T] {
	rg := new(ResultGroup[T])
	if !isNil(r) && ctx != nil {
		rg.g = r.Group(ctx, opts...)
	}
	if rg.g == nil {
		rg.g = newGroup(nil, ctx, opts)
	}
	rg.g.report = rg.record
	return rg
}

// Context returns the group's context; see Group.Context.
func (rg *ResultGroup[T]) Context() context.Context { return rg.g.Context() }

// Go runs task(ctx) on a pool worker, as Group.Go does, and blocks as it
// does: until a worker (and a WithLimit slot) takes the task, the group's
// context is done, or the pool is released. The task's value is kept at
// the next index; a task that fails, panics, is refused or skipped leaves
// T's zero value there, and its error in Results. A nil task's error is
// ErrNilTask.
func (rg *ResultGroup[T]) Go(task func(ctx context.Context) (T, error)) {
	i := rg.g.take()
	rg.g.launch(i, rg.wrap(i, task), true)
}

// TryGo runs task like Go, but only if a worker (or, in queue mode, room
// in the queue) and a WithLimit slot are free now; it never blocks, as
// Group.TryGo. It takes the next index only
// if it returns true: the index is reserved while TryGo runs (the task may
// start, and finish, before TryGo returns) and given back, before any other
// Go or TryGo can take one, if it returns false.
func (rg *ResultGroup[T]) TryGo(task func(ctx context.Context) (T, error)) bool {
	g := rg.g
	g.seq.Lock()
	defer g.seq.Unlock()
	return g.tryLaunchLocked(rg.wrap(g.next, task))
}

// wrap returns the group task for task i: it keeps the value of the
// attempt that succeeds.
func (rg *ResultGroup[T]) wrap(i int, task func(ctx context.Context) (T, error)) func(context.Context) error {
	if task == nil {
		return nil
	}
	return func(ctx context.Context) error {
		v, err := task(ctx)
		if err == nil {
			rg.mu.Lock()
			rg.at(i).Value = v
			rg.mu.Unlock()
		}
		return err
	}
}

// record is the group's report: it keeps task i's own error.
func (rg *ResultGroup[T]) record(i int, err error) {
	if err == nil {
		return // the value is in place already; Wait grows the slice to every index
	}
	rg.mu.Lock()
	rg.at(i).Err = err
	rg.mu.Unlock()
}

// at returns the result of index i, growing the slice to hold it. mu must
// be held.
func (rg *ResultGroup[T]) at(i int) *Result[T] {
	if i >= len(rg.results) {
		rg.results = append(rg.results, make([]Result[T], i+1-len(rg.results))...)
	}
	return &rg.results[i]
}

// Wait blocks until every task has returned, as Group.Wait does, and
// returns one value per index taken, in Go order — the task's value, or T's
// zero value where the task failed or was skipped — and the error
// Group.Wait returns: the first error, or with WithCollectErrors every
// task's error joined. With no task, the slice is empty and not nil.
//
// Wait may be called again; a task given to Go after Wait is skipped, as
// in Group.
func (rg *ResultGroup[T]) Wait() ([]T, error) {
	err := rg.g.Wait()
	rg.g.seq.Lock()
	n := rg.g.next
	rg.g.seq.Unlock()
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if n > 0 {
		rg.at(n - 1)
	}
	rg.waited = n
	values := make([]T, len(rg.results))
	for i, r := range rg.results {
		values[i] = r.Value
	}
	return values, err
}

// Results returns each index's value and the task's own error: nil, what
// it returned (after its retries), a *PanicError, ErrGoexit, a submit's
// refusal (ErrPoolClosed, ErrPoolOverload), or, for a task that was
// skipped, the group context's cause. The order is Go's, never the order
// tasks finished in. Results returns a new slice on each call.
//
// Results reports what Wait has waited for: it returns nil until Wait has
// returned, and after that one Result per index taken before the latest
// Wait returned, so a task still running is never mistaken for a success.
func (rg *ResultGroup[T]) Results() []Result[T] {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	if rg.waited < 0 {
		return nil
	}
	return append([]Result[T](nil), rg.results[:rg.waited]...)
}

// Future is the result of a task given to SubmitValue, which a caller
// waits for with Wait, or with Done in a select.
type Future[T any] struct {
	done chan struct{} // closed once val and err are set
	val  T
	err  error
	help func() // if not nil, Wait runs the task itself if it has not started (a SubmitValue from a task of the same pool)
}

// SubmitValue runs task(ctx) on one of r's workers, as r.SubmitCtx does,
// and returns a Future for its value and error. Like SubmitCtx, it blocks
// until a worker (or, in queue mode, the queue) takes the task, ctx is
// done, or the pool is released.
//
// A submit that is refused resolves the future at once with the refusal,
// and the task never runs: ErrPoolClosed, ErrPoolOverload, ctx's error,
// ErrNilContext for a nil ctx, ErrNilTask for a nil task, ErrNilRunner for
// a nil r. A panic in the task becomes a *PanicError (it does not reach
// the pool's PanicHandler, and the worker survives); a task that calls
// runtime.Goexit resolves the future with ErrGoexit.
//
// On this package's pools, the ctx task receives names the pool, and a
// SubmitValue made with the context of one of the pool's own tasks never
// waits for a worker: when none is free and the queue, if any, is full,
// the caller runs the task and SubmitValue returns a resolved future.
// Future.Wait, called for such a future, runs the task itself if it is
// still queued. So a task may submit to its own pool and wait for the
// result without deadlock. (Future.Done cannot help that way: a select on
// it waits for a worker.)
func SubmitValue[T any](ctx context.Context, r Runner, task func(context.Context) (T, error)) *Future[T] {
	f := &Future[T]{done: make(chan struct{})}
	if isNil(r) {
		f.resolve(f.val, ErrNilRunner)
		return f
	}
	if s, ok := r.(taskRunner); ok && task != nil && ctx != nil {
		// On this package's pools the task is a job that tells the worker
		// of a panic it recovered, for Stats and the task observer, and
		// its context names its pool.
		if err := checkCtx(s, ctx); err != nil {
			f.resolve(f.val, err)
			return f
		}
		t := &valueTask[T]{ctx: &taskContext{Context: ctx, owner: s.owner()}, task: task, f: f, ic: s.interceptor()}
		if ownedBy(ctx, s.owner()) { // from a task of this pool: Wait runs the task itself if it has not started
			t.tracked = true
			f.help = func() {
				if t.taken.CompareAndSwap(false, true) {
					s.inline(t.run)
				}
			}
		}
		if err := admit(s, ctx, job(t), s.overflow()); err != nil && (!t.tracked || t.taken.CompareAndSwap(false, true)) {
			f.resolve(f.val, err)
		}
		return f
	}
	var run func(context.Context) // nil for a nil task, which SubmitCtx refuses
	if task != nil {
		run = func(ctx context.Context) { (&valueTask[T]{ctx: ctx, task: task, f: f}).run() }
	}
	if err := r.SubmitCtx(ctx, run); err != nil {
		f.resolve(f.val, err)
	}
	return f
}

// valueTask is SubmitValue's task, as a job: it resolves its future.
type valueTask[T any] struct {
	ctx     context.Context
	task    func(context.Context) (T, error)
	f       *Future[T]
	ic      Interceptor // the pool's, if any
	tracked bool        // the future's Wait may take the task, to run it itself
	taken   atomic.Bool // tracked: a worker or the Wait took the task
}

// do runs the task, unless the future's Wait took it (void).
func (t *valueTask[T]) do(wait time.Duration) outcome {
	if t.tracked && !t.taken.CompareAndSwap(false, true) {
		return void
	}
	return t.runWaited(wait)
}

// run runs the task, taken by the future's Wait, on its goroutine.
func (t *valueTask[T]) run() outcome { return t.runWaited(0) }

// runWaited runs the task, which waited wait for a worker, through the
// pool's Interceptor if any, and resolves the future with its outcome: a
// panic is recovered and becomes a *PanicError; runtime.Goexit resolves it
// with ErrGoexit as the goroutine unwinds.
func (t *valueTask[T]) runWaited(wait time.Duration) outcome {
	var v T
	var err error
	o := ran
	protect(func() {
		if t.ic == nil {
			v, err = t.task(t.ctx)
		} else {
			v, err = t.intercepted(wait)
		}
	}, func(p any) {
		o, err = recovered, &PanicError{Value: p, Stack: debug.Stack()}
	}, func() { t.f.resolve(v, ErrGoexit) })
	t.f.resolve(v, err)
	return o
}

// intercepted runs the task through the pool's Interceptor. It is apart
// from runWaited so that only a pool with an interceptor pays for the
// closure that carries the value out.
func (t *valueTask[T]) intercepted(wait time.Duration) (v T, err error) {
	err = intercept(t.ic, t.ctx, TaskMeta{Attempt: 1, Wait: wait}, func(ctx context.Context) error {
		var err error
		v, err = t.task(ctx)
		return err
	})
	return v, err
}

// resolve sets the future's outcome, once.
func (f *Future[T]) resolve(v T, err error) {
	f.val, f.err = v, err
	close(f.done)
}

// Done returns a channel that is closed when the task's value and error
// are ready, so a caller can wait for several futures, or for a future and
// a context, in one select.
func (f *Future[T]) Done() <-chan struct{} { return f.done }

// Wait blocks until the task has returned, then returns its value and
// error. For a future of SubmitValue called with the context of a task of
// the same pool, Wait first runs the task on its own goroutine if no worker
// has taken it yet. It may be called any number of times, from any goroutine, and
// returns the same each time. To wait no longer than a context allows,
// select on Done and ctx.Done().
func (f *Future[T]) Wait() (T, error) {
	if f.help != nil {
		f.help()
	}
	<-f.done
	return f.val, f.err
}
