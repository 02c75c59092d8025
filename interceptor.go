package ants

import (
	"context"
	"time"
)

// An Interceptor runs around a pool's tasks that have a context: it is
// given the task's context and the task, and must call run once, with the
// context the task is to run with (ctx, or one derived from it, say with a
// span). See WithInterceptor.
type Interceptor func(ctx context.Context, run func(ctx context.Context))

// WithInterceptor sets a function that the pool calls around every task
// that has a context: a SubmitCtx task (with the submit's context), and
// each attempt of a Group, ResultGroup, Map, ForEach, MapSeq or SubmitValue
// task (with the task's context). It is called on the goroutine that runs
// the task (a worker, or the caller for a task run inline: WithCallerRuns,
// or a nested fan-out), and the task runs with the context it passes to
// run. TaskMetaFrom tells it which attempt this is and how long the task
// waited, and, once run has returned, the error the task returned. A task
// that panics makes run panic: an interceptor that wants to see it defers a
// recover and panics again with the same value, and the panic goes where it
// would have gone. It is not called for Submit and Invoke, whose tasks have
// no context.
//
// A panic in the interceptor is the task's panic: it goes to the
// PanicHandler (or becomes a Group task's *PanicError), and the pool goes
// on. An interceptor that does not call run leaves the task not run, and
// counted as if it had returned. A nil i, the default, means none, which
// costs nothing; with one set, a wait is timed as with a task observer, and
// each intercepted task allocates the context that carries its TaskMeta
// and the function that runs it.
func WithInterceptor(i Interceptor) Option {
	return func(opts *Options) { opts.Interceptor = i }
}

// TaskMeta describes the task an Interceptor runs around.
type TaskMeta struct {
	// Attempt is 1 for a task's first attempt, and n for its n-th when a
	// Group retries it (WithRetry).
	Attempt int
	// Wait is how long the task waited for a worker, from its submit (or a
	// retry's due time) to its start: 0 if it found a free worker or ran on
	// its caller.
	Wait time.Duration
	// Err is the error the task returned, once the run function the
	// Interceptor was given has returned: nil before, nil for a SubmitCtx
	// task (which returns none), and nil if the task panicked (run does not
	// return then).
	Err error
}

// TaskMetaFrom returns the TaskMeta of the task whose Interceptor was
// given ctx (or a context derived from it) as it is now, and true; or
// false for any other context. It is safe to call from any goroutine
// while the task runs, but Err is set only after the task returns: read it
// in the Interceptor, after run.
func TaskMetaFrom(ctx context.Context) (TaskMeta, bool) {
	m, ok := ctx.Value(taskMetaKey{}).(*TaskMeta)
	if !ok {
		return TaskMeta{}, false
	}
	return *m, true
}

type taskMetaKey struct{}

// metaContext is the context an Interceptor is given: the task's, with
// the task's TaskMeta, and the task, for call.
type metaContext struct {
	context.Context
	meta TaskMeta
	task func(context.Context) error
}

// call is the run function an Interceptor is given: it runs the task and
// records its error in the TaskMeta.
func (c *metaContext) call(ctx context.Context) { c.meta.Err = c.task(ctx) }

func (c *metaContext) Value(key any) any {
	if key == (taskMetaKey{}) {
		return &c.meta
	}
	return c.Context.Value(key)
}

// intercept runs task with ctx, through ic if it is not nil, and returns
// its error (nil if ic did not call run). Callers pass a task that is on
// the heap already, so that a pool without an interceptor allocates
// nothing here.
func intercept(ic Interceptor, ctx context.Context, meta TaskMeta, task func(context.Context) error) error {
	if ic == nil {
		return task(ctx)
	}
	c := &metaContext{Context: ctx, meta: meta, task: task}
	ic(c, c.call)
	return c.meta.Err
}
