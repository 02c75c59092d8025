package ants

import (
	"context"
	"sync/atomic"
	"time"
)

// run is one life of a pool, from NewPool or Reboot until Release. It
// counts what it started that may still run: worker goroutines (and the
// panic handlers they call), the purge goroutine, and callbacks that may
// still hand the pool a task (a Group retry's timer and context hooks, see
// hold). ReleaseContext and Reboot wait until every one has ended.
type run struct {
	live atomic.Int64 // what is still to end, plus one while the pool is open
	// Tasks accepted and set aside until a timer posts them (Group retries
	// waiting out their delay): part of Stats.Queued.
	delayed atomic.Int32

	done chan struct{}   // closed when live drops to zero: nothing of this run runs any more
	ctx  context.Context // done when Release ends the run, with ErrPoolClosed as its cause
	end  context.CancelCauseFunc
}

func newRun() *run {
	r := &run{done: make(chan struct{})}
	r.ctx, r.end = context.WithCancelCause(context.Background())
	r.live.Store(1)
	return r
}

// enter counts something about to start.
func (r *run) enter() { r.live.Add(1) }

// exit is called once by each thing counted as it ends, and once by Release.
func (r *run) exit() {
	if r.live.Add(-1) == 0 {
		close(r.done)
	}
}

// hold returns the pool's current run with n things counted in it, for
// callbacks that may still hand the pool a task (each calls exit once it
// has returned, or once it is stopped), or false on a released pool, where
// no task may be handed any more. Release ends r.ctx; the callbacks watch
// it.
func (p *core[T]) hold(n int) (*run, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() == CLOSED {
		return nil, false
	}
	p.run.live.Add(int64(n))
	return p.run, true
}

// Release closes the pool. In order, it
//   - makes every later submit return ErrPoolClosed;
//   - wakes every caller waiting for a worker (or, in queue mode, for room
//     in the queue) with ErrPoolClosed;
//   - ends with ErrPoolClosed every Group retry waiting for a worker or
//     for its delay (its timer is stopped, and it never runs again);
//   - stops the idle workers and the purge goroutine;
//   - lets running tasks finish, and, in queue mode, the queued tasks run:
//     the workers exit once the queue is empty.
//
// Release does not wait; ReleaseContext does. Calling it on a released pool
// does nothing. Reboot opens the pool again.
func (p *core[T]) Release() { p.close() }

// close does Release's work. It returns the run that ended, or nil if the
// pool was already closed.
func (p *core[T]) close() *run {
	p.mu.Lock()
	if p.state.Load() == CLOSED {
		p.mu.Unlock()
		return nil
	}
	p.state.Store(CLOSED)
	for _, w := range p.idle.Drain() {
		p.stopLocked(w)
	}
	refused := p.waiters.closeAll()
	// Accepted tasks stay queued, for the busy workers to drain; posted
	// tasks (Group retries) are not acceptances and are refused.
	for _, q := range p.queue.Remove(func(q queued[T]) bool { return q.refuse != nil }) {
		refused = append(refused, q.refuse)
	}
	r := p.run
	p.mu.Unlock()
	r.end(ErrPoolClosed) // the purger exits; sleeping retries end
	for _, refuse := range refused {
		refuse(ErrPoolClosed)
	}
	r.exit() // the open pool's count
	return r
}

// ReleaseContext releases the pool, as Release does, then waits until every
// task has returned (in queue mode: until the queue has drained) and every
// goroutine the pool started (workers, their panic handlers, the purge
// goroutine) has exited, and no timer of a Group retry is left to fire. It
// returns nil then: after a nil return nothing of the pool is running. If
// ctx ends first, it returns ctx.Err() and the pool stays released, its
// remaining workers exiting as their tasks return.
//
// ReleaseContext returns ErrPoolClosed at once on a pool already released
// (only the call that closes the pool waits), and a nil ctx releases
// without waiting and returns nil.
func (p *core[T]) ReleaseContext(ctx context.Context) error {
	r := p.close()
	if r == nil {
		return ErrPoolClosed
	}
	if ctx == nil {
		return nil
	}
	select {
	case <-r.done:
		return nil
	default:
	}
	select {
	case <-r.done:
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

// Reboot reopens a released pool. It first waits, without a time limit, for
// every goroutine of the previous run to exit (workers still running tasks
// included), so the capacity is never exceeded; use
// ReleaseContext before Reboot to bound that wait. Reboot does nothing on an
// open pool, and concurrent Reboots open the pool once.
func (p *core[T]) Reboot() {
	done := p.closedRunDone()
	if done == nil {
		return
	}
	<-done

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() == CLOSED && p.run.done == done {
		p.run = newRun()
		p.purging = false
		p.state.Store(OPENED)
	}
}

// closedRunDone returns, on a released pool, a channel closed once
// everything of its last run has ended; nil on an open pool.
func (p *core[T]) closedRunDone() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() != CLOSED {
		return nil
	}
	return p.run.done
}
