package ants

import (
	"context"
	"sync/atomic"
	"time"
)

// waiter is a caller blocked in acquire. Whoever removes it from the list,
// under core.mu, sends it exactly one value: a worker, or nil when the pool
// closes. Its channel is buffered, so that send never blocks.
type waiter[T any] struct {
	ch         chan *worker[T]
	prev, next *waiter[T]
	queued     bool // on the list; guarded by core.mu
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
	if w, ok := p.idle.Pop(); ok {
		p.mu.Unlock()
		return w, nil
	}
	if p.hasRoomLocked() {
		w := p.spawnLocked()
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
