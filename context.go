package ants

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// waiter is one place in a pool's line: a caller blocked in acquire, or a
// task posted by post. Whoever removes it from the line, under core.mu,
// serves it exactly once: a caller is sent a worker, or nil when the pool
// closes (its channel is buffered, so that send never blocks); a posted
// task is handed to the worker directly, or refused when the pool closes.
type waiter[T any] struct {
	ch         chan *worker[T] // a blocked caller's; nil for a posted task
	arg        T               // a posted task, for its worker
	refuse     func(error)     // a posted task's: called, outside mu, if the pool closes first
	prev, next *waiter[T]
	queued     bool // in the line; guarded by core.mu
}

// serveLocked gives w, idle or new, to wt, which has left the line.
func (wt *waiter[T]) serveLocked(w *worker[T]) {
	if wt.ch != nil {
		wt.ch <- w
		return
	}
	w.ch <- wt.arg // w's buffer is empty: it has no task
	var zero T
	wt.arg = zero
}

// waitList is a FIFO of waiters, linked through the waiters themselves.
// It is guarded by core.mu, except that len may be read at any time.
type waitList[T any] struct {
	n          atomic.Int32 // number of waiters; written under core.mu
	head, tail *waiter[T]
}

func (l *waitList[T]) len() int { return int(l.n.Load()) }

func (l *waitList[T]) pushBack(wt *waiter[T]) {
	wt.prev, wt.next, wt.queued = l.tail, nil, true
	if l.tail != nil {
		l.tail.next = wt
	} else {
		l.head = wt
	}
	l.tail = wt
	l.n.Add(1)
}

func (l *waitList[T]) remove(wt *waiter[T]) {
	if wt.prev != nil {
		wt.prev.next = wt.next
	} else {
		l.head = wt.next
	}
	if wt.next != nil {
		wt.next.prev = wt.prev
	} else {
		l.tail = wt.prev
	}
	wt.prev, wt.next, wt.queued = nil, nil, false
	l.n.Add(-1)
}

// popFront removes and returns the oldest waiter, or nil.
func (l *waitList[T]) popFront() *waiter[T] {
	wt := l.head
	if wt != nil {
		l.remove(wt)
	}
	return wt
}

// getWaiter returns an unqueued waiter with an empty channel. Waiters are
// recycled through core.waiterCache, so a caller that has to wait does not
// allocate in steady state; one goes back only off the list and with its
// channel drained.
func (p *core[T]) getWaiter() *waiter[T] {
	if wt, ok := p.waiterCache.Get().(*waiter[T]); ok {
		return wt
	}
	return &waiter[T]{ch: make(chan *worker[T], 1)}
}

// acquire returns a worker that waits for one task, which the caller must
// send it. It takes an idle worker, or starts one while the pool has room,
// or else waits in line until a worker comes back, ctx is done, or the pool
// closes. A nil ctx waits without limit.
//
// It returns ErrPoolClosed if the pool is or becomes closed, ErrPoolOverload
// if it may not wait (Nonblocking, or MaxBlockingTasks callers already
// waiting), or ctx.Err() if ctx is done first; then it has taken nothing.
func (p *core[T]) acquire(ctx context.Context) (*worker[T], error) {
	p.mu.Lock()
	if p.state.Load() == CLOSED {
		p.mu.Unlock()
		return nil, ErrPoolClosed
	}
	if w := p.takeLocked(); w != nil {
		p.mu.Unlock()
		return w, nil
	}
	if p.opts.Nonblocking || (p.opts.MaxBlockingTasks > 0 && p.waiters.len() >= p.opts.MaxBlockingTasks) {
		p.mu.Unlock()
		return nil, ErrPoolOverload
	}
	wt := p.getWaiter()
	p.waiters.pushBack(wt)
	p.mu.Unlock()

	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	select {
	case w := <-wt.ch:
		p.waiterCache.Put(wt)
		if w == nil {
			return nil, ErrPoolClosed
		}
		return w, nil
	case <-done:
	}

	p.mu.Lock()
	if wt.queued {
		p.waiters.remove(wt)
		p.mu.Unlock()
		p.waiterCache.Put(wt)
		return nil, ctx.Err()
	}
	p.mu.Unlock()
	// A worker (or the close) was sent to us as ctx ended. Pass the worker
	// on as if its task had just returned, so it is not lost.
	if w := <-wt.ch; w != nil && !p.putBack(w) {
		close(w.ch)
	}
	p.waiterCache.Put(wt)
	return nil, ctx.Err()
}

// takeLocked returns an idle worker, or a new one if the pool has room,
// or nil.
func (p *core[T]) takeLocked() *worker[T] {
	if w, ok := p.idle.Pop(); ok {
		return w
	}
	if p.hasRoomLocked() {
		return p.spawnLocked()
	}
	return nil
}

// errNoWorker is tryAcquire's answer when every worker is busy.
var errNoWorker = errors.New("ants: no free worker")

// tryAcquire is acquire without the wait: when no worker is free it
// returns errNoWorker at once, whatever the pool's options say.
func (p *core[T]) tryAcquire() (*worker[T], error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() == CLOSED {
		return nil, ErrPoolClosed
	}
	if w := p.takeLocked(); w != nil {
		return w, nil
	}
	return nil, errNoWorker
}

// post hands arg to a free worker now, or else puts it in line, behind the
// callers already waiting, to be handed to the next worker that frees up.
// It never blocks, so a timer's callback may call it; it ignores
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
	if p.state.Load() == CLOSED {
		return nil, ErrPoolClosed
	}
	if w := p.takeLocked(); w != nil {
		w.ch <- arg
		return func() bool { return false }, nil
	}
	wt := &waiter[T]{arg: arg, refuse: refuse}
	p.waiters.pushBack(wt)
	return func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if !wt.queued {
			return false
		}
		p.waiters.remove(wt)
		return true
	}, nil
}

// checkCtx returns the error a Ctx submit reports before it tries to
// acquire a worker: ErrPoolClosed, ErrNilContext, or ctx.Err().
func (p *core[T]) checkCtx(ctx context.Context) error {
	if p.IsClosed() {
		return ErrPoolClosed
	}
	if ctx == nil {
		return ErrNilContext
	}
	return ctx.Err()
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
	if err := p.checkCtx(ctx); err != nil {
		return err
	}
	if task == nil {
		return ErrNilTask
	}
	return p.submit(ctx, func() { task(ctx) })
}

// ReleaseContext releases the pool, as Release does, then waits until every
// task has returned and every goroutine the pool started (workers, their
// panic handlers, the purge goroutine) has exited. It returns nil then: after
// a nil return nothing of the pool is running. If ctx ends first, it returns
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
