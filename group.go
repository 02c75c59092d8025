package ants

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants/retry"
)

var (
	// ErrGoexit is the error of a group task that called runtime.Goexit.
	ErrGoexit = errors.New("ants: group task called runtime.Goexit")
)

// PanicError is the error of a group task that panicked: the value it
// panicked with and the stack of the goroutine at the panic.
type PanicError struct {
	Value any
	Stack []byte
}

// Error returns the panic value and the stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("ants: group task panicked: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value if it is an error, so errors.Is and
// errors.As see through the panic; otherwise nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// RetryNotify is told of every retry of a group task, before its delay:
// attempt counts the task's retries (1 for the first), err is the error of
// the attempt that failed, and next is the delay before the retry.
type RetryNotify func(attempt int, err error, next time.Duration)

// A GroupOption configures a Group; see Pool.Group.
type GroupOption func(*groupConfig)

type groupConfig struct {
	limit      int                    // running tasks of the group at most; <= 0: no group limit
	newBackOff func() backoff.BackOff // retry policy per failing task; nil: no retries
	notify     []RetryNotify
}

// WithLimit caps how many of the group's tasks run at once, as errgroup's
// SetLimit does, below the pool's own capacity: Go waits for a slot, TryGo
// returns false without one. A task keeps its slot while it waits for a
// retry. n <= 0 means no group limit (the pool's capacity still bounds the
// group); unlike errgroup, 0 never blocks forever.
func WithLimit(n int) GroupOption { return func(c *groupConfig) { c.limit = n } }

// WithRetry retries a failing group task on a backoff/v4 policy. newBackOff
// is called once per failing task, at its first failure (BackOff values are
// stateful). Retries stop when the task succeeds, returns an error wrapped
// with backoff.Permanent (the error inside becomes the task's error), panics,
// or when the policy returns backoff.Stop or the group's context is done;
// the task's error is then its last attempt's error.
//
// A task waiting for its next attempt holds no worker, so other tasks run
// meanwhile; it keeps its WithLimit slot, and Wait waits for it. Each notify
// is told of every retry, on the worker that ran the failed attempt. A nil
// newBackOff means no retries. See package retry for the backoff/v4
// pitfalls (WithMaxRetries(b, n) makes n+1 attempts; the exponential
// policy gives up after 15 minutes by default).
func WithRetry(newBackOff func() backoff.BackOff, notify ...RetryNotify) GroupOption {
	return func(c *groupConfig) {
		c.newBackOff = newBackOff
		c.notify = notify
	}
}

// taskRunner is what a Group needs of the pool it runs on.
type taskRunner interface {
	IsClosed() bool
	// submit hands task to a worker, waiting as Pool.SubmitCtx does.
	submit(ctx context.Context, task func()) error
	// trySubmit hands task to a worker only if one is free now; else errNoWorker.
	trySubmit(task func()) error
	// post hands task to a worker now or puts it in line; it never blocks (see core.post).
	post(task func(), refuse func(error)) (withdraw func() bool, err error)
}

// trySubmit implements taskRunner for the closure pools.
func (p *core[T]) trySubmit(arg T) error {
	w, err := p.tryAcquire()
	if err != nil {
		return err
	}
	w.ch <- arg
	return nil
}

// Group runs a set of tasks on a pool's workers and collects their first
// error, like errgroup.Group: Go starts a task, Wait waits for all of them.
// Unlike errgroup, a Group starts no goroutine per task: its tasks take
// their turn for the pool's workers with every other submit, so a thousand
// groups on a pool of 64 never run more than 64 tasks at once.
//
// The group's context, Context(), is derived from the context given to
// Pool.Group. The first task error cancels it, with that error as its
// context.Cause, and so does Wait's return. A task that has not started by
// then is skipped: it never runs.
//
// A Group is created by Pool.Group and must not be copied. Go, TryGo and
// Wait are safe for concurrent use, and a task may call Go on its own
// group; calling Go from outside the group while Wait is returning races
// as it does with errgroup.
type Group struct {
	pool   taskRunner
	ctx    context.Context
	cancel context.CancelCauseFunc
	sem    chan struct{} // WithLimit's slots; nil for no group limit
	cfg    groupConfig

	wg sync.WaitGroup // tasks admitted and not finished, waiting retries included

	mu  sync.Mutex // guards err
	err error      // the first error; set before ctx is cancelled
}

// Group returns a Group that runs its tasks on p's workers, with a context
// derived from ctx. A nil ctx gives a group that runs nothing and whose
// Wait returns ErrNilContext. Options: WithLimit, WithRetry.
func (p *Pool) Group(ctx context.Context, opts ...GroupOption) *Group {
	return newGroup(&p.core, ctx, opts)
}

func newGroup(pool taskRunner, ctx context.Context, opts []GroupOption) *Group {
	g := &Group{pool: pool}
	for _, opt := range opts {
		if opt != nil {
			opt(&g.cfg)
		}
	}
	if g.cfg.limit > 0 {
		g.sem = make(chan struct{}, g.cfg.limit)
	}
	if ctx == nil {
		g.ctx, g.cancel = context.WithCancelCause(context.Background())
		g.fail(ErrNilContext)
		return g
	}
	g.ctx, g.cancel = context.WithCancelCause(ctx)
	return g
}

// Context returns the group's context: done when a task fails, when the
// parent context is done, or when Wait returns; context.Cause tells which.
func (g *Group) Context() context.Context { return g.ctx }

// Go runs task(ctx) on a pool worker, with the group's context. It blocks
// until a worker (and a WithLimit slot) takes the task, or the group's
// context is done, or the pool is released. Because the wait watches the
// group's context, anything that cancels it releases a blocked Go: a
// running sibling's failure, the parent context, Wait. (Tasks that hold
// every slot while waiting for a sibling that cannot start wait for ever,
// as under any limit; give the parent context a deadline. conc's Go, which
// ignores its context, cannot be released even then.)
//
// A task that fails, panics or calls runtime.Goexit fails the group (see
// Wait). Go itself returns nothing: a task that cannot start is reported
// by Wait. If the group's context is done before the task starts, the task
// is skipped and never runs. A submit the pool refuses is the task's error:
// ErrPoolClosed after Release (checked first, even for a nil task),
// ErrPoolOverload on a full Nonblocking pool or past MaxBlockingTasks.
// A nil task's error is ErrNilTask.
//
// A panic in a task is recovered on the worker, which goes on to serve
// other tasks; it becomes a *PanicError and is not retried. It does not go
// to the pool's PanicHandler, because the group reports it from Wait.
func (g *Group) Go(task func(ctx context.Context) error) {
	if !g.admit(task, true) {
		return
	}
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
		case <-g.ctx.Done():
			g.skip()
			return
		}
	}
	g.wg.Add(1)
	if err := g.pool.submit(g.ctx, g.wrap(task)); err != nil {
		// Record why before finishing, so that a Wait the finish releases
		// sees it.
		if g.ctx.Err() != nil {
			g.skip()
		} else {
			g.fail(err)
		}
		g.finish(nil)
	}
}

// TryGo runs task like Go, but only if a worker and a WithLimit slot are
// free now; it never blocks. It returns false, without running the task and
// without a group error, when none is free or the group's context is done.
// On a released pool, and for a nil task, it returns false and the group
// fails with ErrPoolClosed or ErrNilTask, as with Go.
func (g *Group) TryGo(task func(ctx context.Context) error) bool {
	if !g.admit(task, false) {
		return false
	}
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
		default:
			return false
		}
	}
	g.wg.Add(1)
	if err := g.pool.trySubmit(g.wrap(task)); err != nil {
		if errors.Is(err, ErrPoolClosed) {
			g.fail(err) // before finish, as in Go
		}
		g.finish(nil)
		return false
	}
	return true
}

// admit does the checks Go and TryGo share, in this order: a released
// pool, a nil task, a done context. It reports whether task may proceed.
// A task refused for the context is reported as skipped only if
// reportSkip is set: Go's skips fail the group, TryGo's do not.
func (g *Group) admit(task func(ctx context.Context) error, reportSkip bool) bool {
	switch {
	case g.pool.IsClosed():
		g.fail(ErrPoolClosed)
	case task == nil:
		g.fail(ErrNilTask)
	case g.ctx.Err() != nil:
		if reportSkip {
			g.skip()
		}
	default:
		return true
	}
	return false
}

// wrap returns what a worker runs for task: a plain closure, or a
// groupTask that can come back for retries.
func (g *Group) wrap(task func(ctx context.Context) error) func() {
	if g.cfg.newBackOff == nil {
		return func() {
			if g.ctx.Err() != nil { // admitted, but the group ended before it started
				g.skip()
				g.finish(nil)
				return
			}
			if err, ok := g.call(task); ok {
				g.finish(err)
			}
		}
	}
	t := &groupTask{g: g, fn: task, retrier: retry.New(g.ctx, g.cfg.newBackOff)}
	t.run = t.attempt
	return t.run
}

// Wait blocks until every task given to Go or TryGo has returned, retries
// included, then cancels the group's context and returns the first error:
// a task's error, a *PanicError, ErrGoexit, a submit's refusal, or, if the
// first thing to go wrong was a task skipped because the group's context
// was done, the context's cause. If every task ran and succeeded it returns
// nil, even if the parent context was cancelled afterwards.
//
// Wait may be called again and returns the same result; a task given to Go
// after Wait returned is skipped and reported like any other skipped task.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.cancel(nil) // no effect if a failure cancelled it already
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// fail records err if it is the group's first error, then cancels the
// group's context with it as the cause: recorded first, so that a sibling
// that sees the cancellation and returns ctx.Err() never wins.
func (g *Group) fail(err error) {
	g.mu.Lock()
	first := g.err == nil
	if first {
		g.err = err
	}
	g.mu.Unlock()
	if first {
		g.cancel(err)
	}
}

// skip reports a task that will never run because the group's context is
// done: unless an error came first, the group fails with the context's cause.
func (g *Group) skip() { g.fail(context.Cause(g.ctx)) }

// finish ends an admitted task: records its error, frees its limit slot and
// lets Wait go on.
func (g *Group) finish(err error) {
	if err != nil {
		g.fail(err)
	}
	if g.sem != nil {
		<-g.sem
	}
	g.wg.Done()
}

// call runs task with the group's context on the current worker. It returns
// the task's error and ok = true, a *PanicError and ok = true if the task
// panicked (the worker goes on), or, if the task called runtime.Goexit,
// nothing: it finishes the task itself, with ErrGoexit, as the goroutine
// unwinds.
func (g *Group) call(task func(ctx context.Context) error) (err error, ok bool) {
	returned := false
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil {
			err, ok = &PanicError{Value: v, Stack: debug.Stack()}, true
			return
		}
		g.finish(ErrGoexit) // the goroutine is exiting; the pool replaces its worker
	}()
	err = task(g.ctx)
	returned = true
	return err, true
}
