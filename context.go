package ants

import (
	"context"
	"errors"
	"runtime"
	"time"
)

// waitLocked puts the caller of a submit of arg at the end of the line,
// unless it may not wait (Nonblocking, or MaxBlockingTasks callers already
// waiting: ErrPoolOverload), and waits until it is served, ctx is done, or
// the pool closes; a ctx whose Done is nil (context.Background) waits
// without limit, with a plain receive. It returns the worker that serves
// it, for arg; or, in queue mode, where the caller's waiter carries arg,
// the pool's mark once arg is queued. Otherwise it returns ErrPoolClosed
// or ctx.Err(), and has taken nothing. p.mu must be held; waitLocked
// releases it.
func (p *core[T]) waitLocked(ctx context.Context, arg T) (*worker[T], error) {
	if p.opts.Nonblocking {
		p.mu.Unlock()
		return nil, ErrPoolOverload
	}
	wt := p.line.newCaller(nil)
	if p.opts.QueueSize > 0 {
		wt.arg, wt.carries = arg, true
	}
	err := p.line.enter(wt, p.clock())
	p.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return p.line.wait(ctx, wt)
}

// takeOrGrowLocked returns an idle worker, or a new one if the pool has
// room, or nil; or ErrPoolClosed on a closed pool. p.mu must be held.
//
// Before it starts a worker beside busy ones, it releases p.mu and yields
// the processor once: workers whose tasks have just returned, and tasks
// whose timers have just fired, run first and may come back idle. Under
// load this keeps the number of workers near what the work needs (on 1e6
// tasks that sleep 10 ms, capacity 50,000: about 15,500 workers instead of
// 30,000, with less memory and a shorter wall time); it costs one yield
// per new worker, never one per task, and no yield while an idle worker is
// at hand or the pool has no worker at all.
func (p *core[T]) takeOrGrowLocked() (*worker[T], error) {
	for yielded := false; ; yielded = true {
		if p.state.Load() == CLOSED {
			return nil, ErrPoolClosed
		}
		if w, ok := p.idle.Pop(); ok {
			return w, nil
		}
		if !p.hasRoomLocked() {
			return nil, nil
		}
		if yielded || p.running.Load() == 0 {
			return p.spawnLocked(), nil
		}
		p.mu.Unlock()
		runtime.Gosched()
		p.mu.Lock()
	}
}

// errNoWorker is tryAcquire's answer when every worker is busy.
var errNoWorker = errors.New("ants: no free worker")

// tryAcquire returns an idle worker, or a new one if the pool has room,
// without waiting: when no worker is free it returns errNoWorker at once,
// whatever the pool's options say (it never queues).
func (p *core[T]) tryAcquire() (*worker[T], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, err := p.takeOrGrowLocked()
	if w == nil && err == nil {
		err = errNoWorker
	}
	return w, err
}

// trySubmit hands arg to a free worker now, or returns errNoWorker (or
// ErrPoolClosed) at once.
// In queue mode, the queue takes arg if it has room (see tryEnqueue).
func (p *core[T]) trySubmit(arg T) error {
	if p.queued {
		return p.tally(p.tryEnqueue(arg))
	}
	w, err := p.tryAcquire()
	if err != nil {
		return p.tally(err)
	}
	w.give(arg)
	return nil
}

// post hands arg to a free worker now, or else puts it in line, behind the
// callers already waiting, to be handed to the next worker that frees up.
// It never blocks (at most it yields, as before any new worker), so a
// timer's callback may call it; it ignores
// Nonblocking and MaxBlockingTasks, which bound callers that wait, not
// tasks already admitted (post serves a Group's retries).
//
// post returns ErrPoolClosed on a closed pool. Otherwise, if the pool
// closes while arg is in line, refuse is called with ErrPoolClosed, on the
// goroutine closing the pool, after its lock is released. withdraw takes
// arg out of the line and reports whether it was still there (false once a
// worker has it or the pool refused it).
func (p *core[T]) post(arg T, refuse func(error)) (withdraw func() bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.queued {
		return p.postQueuedLocked(arg, refuse)
	}
	w, err := p.takeOrGrowLocked()
	if err != nil {
		return nil, err
	}
	if w != nil {
		w.give(arg)
		return func() bool { return false }, nil
	}
	wt := &waiter[T]{arg: arg, carries: true, refuse: refuse, since: p.clock()}
	p.line.join(wt)
	return func() bool { return p.line.leave(wt) }, nil
}

// submitter is what a pool and a multi-pool share: the checks in front of
// every submit live once, in the functions below, whichever kind runs it.
type submitter[T any] interface {
	IsClosed() bool
	submit(ctx context.Context, arg T) error // a ctx whose Done is nil waits without limit
	trySubmit(arg T) error                   // errNoWorker when no worker is free now
	tally(err error) error                   // counts a refusal in Stats (see core.tally)
}

// checkCtx returns the error a Ctx submit reports before it looks for a
// worker: ErrPoolClosed (checked first), ErrNilContext, or ctx.Err().
func checkCtx[T any](p submitter[T], ctx context.Context) error {
	if p.IsClosed() {
		return p.tally(ErrPoolClosed)
	}
	if ctx == nil {
		return ErrNilContext
	}
	return p.tally(ctx.Err())
}

// submitTask is Submit for the closure pools.
func submitTask(p submitter[func()], task func()) error {
	if p.IsClosed() {
		return p.tally(ErrPoolClosed)
	}
	if task == nil {
		return ErrNilTask
	}
	return p.submit(context.Background(), task) // its Done is nil: the wait takes the plain receive
}

// submitTaskCtx is SubmitCtx for the closure pools.
func submitTaskCtx(p submitter[func()], ctx context.Context, task func(context.Context)) error {
	if err := checkCtx(p, ctx); err != nil {
		return err
	}
	if task == nil {
		return ErrNilTask
	}
	return p.submit(ctx, func() { task(ctx) })
}

// trySubmitTask is TrySubmit for the closure pools.
func trySubmitTask(p submitter[func()], task func()) error {
	if p.IsClosed() {
		return p.tally(ErrPoolClosed)
	}
	if task == nil {
		return ErrNilTask
	}
	return overloaded(p.trySubmit(task))
}

// tryInvoke is TryInvoke for the func pools.
func tryInvoke[T any](p submitter[T], arg T) error {
	if p.IsClosed() {
		return p.tally(ErrPoolClosed)
	}
	return overloaded(p.trySubmit(arg))
}

// overloaded maps trySubmit's errNoWorker to the error TrySubmit and
// TryInvoke return for it.
func overloaded(err error) error {
	if err == errNoWorker {
		return ErrPoolOverload
	}
	return err
}

// invoke is Invoke for the func pools: arg goes to a worker as it is.
func invoke[T any](p submitter[T], arg T) error {
	if p.IsClosed() {
		return p.tally(ErrPoolClosed)
	}
	return p.submit(context.Background(), arg)
}

// invokeCtx is InvokeCtx for the func pools.
func invokeCtx[T any](p submitter[T], ctx context.Context, arg T) error {
	if err := checkCtx(p, ctx); err != nil {
		return err
	}
	return p.submit(ctx, arg)
}

// SubmitCtx runs task(ctx) on a pool worker. If no worker is free, SubmitCtx
// waits until one is, ctx is done, or the pool is released, whichever
// happens first; waiting callers are served first-come first-served, with
// those of Submit.
//
// SubmitCtx returns nil once a worker has accepted task. Otherwise task does
// not run, and SubmitCtx returns ErrPoolClosed after Release, ErrPoolOverload
// when the pool may not wait (WithNonblocking, WithMaxBlockingTasks),
// ctx.Err() if ctx is done before a worker accepts task (already done
// included), ErrNilContext for a nil ctx, or ErrNilTask for a nil task.
// A caller whose ctx ends while it waits returns at once and leaves no trace
// in the pool: Waiting drops, and a worker that freed up at that instant
// goes to the next caller.
//
// ctx bounds the wait for a worker and is handed to task; the pool does not
// stop a running task when ctx ends, the task should watch ctx itself.
// A task may submit to its own pool, but on a full pool it then waits for a
// worker that only it can free; give such calls a deadline.
//
// SubmitCtx allocates once, for the closure binding ctx to task.
func (p *Pool) SubmitCtx(ctx context.Context, task func(context.Context)) error {
	return submitTaskCtx(&p.core, ctx, task)
}

// ReleaseContext releases the pool, as Release does, then waits until every
// task has returned (in queue mode: until the queue has drained) and every
// goroutine the pool started (workers, their panic handlers, the purge
// goroutine) has exited. It returns nil then: after a nil return nothing of
// the pool is running. If ctx ends first, it returns
// ctx.Err() and the pool stays released, its remaining workers exiting as
// their tasks return.
//
// As in ants, ReleaseContext returns ErrPoolClosed at once on a pool already
// released (only the call that closes the pool waits), and a nil ctx releases
// without waiting and returns nil.
func (p *core[T]) ReleaseContext(ctx context.Context) error {
	e := p.close()
	if e == nil {
		return ErrPoolClosed
	}
	if ctx == nil {
		return nil
	}
	select {
	case <-e.done:
		return nil
	default:
	}
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ReleaseTimeout is ReleaseContext with a time limit: it returns ErrTimeout
// if the pool's goroutines have not all exited within timeout, and
// ErrPoolClosed at once on a pool already released.
func (p *core[T]) ReleaseTimeout(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := p.ReleaseContext(ctx)
	if err == context.DeadlineExceeded {
		return ErrTimeout
	}
	return err
}
