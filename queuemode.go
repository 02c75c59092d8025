package ants

import "context"

// Queue mode (WithQueueSize > 0) sends every task through the pool's
// queue: a submit puts its task at the back and wakes an idle worker (or
// starts one while the pool has room), and workers take the oldest task,
// one after the other without going idle while any is left. A task is
// never bound to a worker before that worker runs, so tasks start in the
// order they were submitted, whichever goroutine the scheduler runs first,
// and a busy pool accepts a task without any hand-over at all.
//
// The queue holds at most QueueSize tasks beyond those a worker is already
// coming for (core.waking); past that, callers wait in the line for room,
// carrying their task, and a worker that takes a task admits the oldest of
// them (admitLocked). Group retries go through the queue too, but are not
// acceptances: Release refuses the ones still queued (core.close).

// queued is a task in the queue.
type queued[T any] struct {
	arg    T
	since  int64       // nanotime when it was accepted; 0: not timed
	refuse func(error) // a Group retry's: refused, not run, if the pool is released first
}

// queueMode reports whether the pool queues its tasks: a field of its
// own, read on every hand-over (a method reading opts measured a few
// percent on tiny tasks, not inlined).
func (p *core[T]) queueMode() bool { return p.queued }

// enqueue is submit in queue mode: arg goes into the queue, or else its
// caller waits in line for room (see waitLocked), and enqueue returns nil
// once arg is queued. p.mu must be held; enqueue releases it.
func (p *core[T]) enqueue(ctx context.Context, arg T) error {
	if p.state.Load() == CLOSED {
		p.mu.Unlock()
		return ErrPoolClosed
	}
	if p.offerLocked(arg, nil, false) {
		w := p.wakeLocked()
		p.mu.Unlock()
		p.wake(w)
		return nil
	}
	_, err := p.waitLocked(ctx, arg)
	return err
}

// tryEnqueue is trySubmit in queue mode: arg goes into the queue if it
// has room now, or else tryEnqueue returns errNoWorker.
func (p *core[T]) tryEnqueue(arg T) error {
	p.mu.Lock()
	if p.state.Load() == CLOSED {
		p.mu.Unlock()
		return ErrPoolClosed
	}
	if !p.offerLocked(arg, nil, false) {
		p.mu.Unlock()
		return errNoWorker
	}
	w := p.wakeLocked()
	p.mu.Unlock()
	p.wake(w)
	return nil
}

// postQueuedLocked is post in queue mode: a Group retry goes into the
// queue, or else into the line, where it waits for room. Once queued it
// cannot be withdrawn: it reaches a worker, where an aborted retry ends at
// once. mu must be held.
func (p *core[T]) postQueuedLocked(arg T, refuse func(error)) (withdraw func() bool, err error) {
	if p.state.Load() == CLOSED {
		return nil, ErrPoolClosed
	}
	if p.offerLocked(arg, refuse, false) {
		p.wake(p.wakeLocked()) // a send on an idle worker's empty channel: it never blocks
		return func() bool { return false }, nil
	}
	wt := &waiter[T]{arg: arg, carries: true, refuse: refuse, since: p.clock()}
	p.line.join(wt)
	return func() bool { return p.line.leave(wt) }, nil
}

// offerLocked puts arg at the back of the queue if a worker can take it at
// once (an idle worker, room to start one, or a worker already coming for
// a task that is not there), or, unless startNow, if the queue has room
// beyond the tasks workers are coming for; and never while a caller waits
// for room ahead of it, or on a closed pool. It reports whether it took
// arg; the caller then finds it a worker with wakeLocked. refuse is a
// Group retry's (see queued); an accepted task counts as submitted here.
// mu must be held.
func (p *core[T]) offerLocked(arg T, refuse func(error), startNow bool) bool {
	if p.state.Load() == CLOSED || p.line.len() > 0 {
		return false
	}
	// The common case first: room in the queue (whoever takes the task).
	unserved := p.queue.Len() - p.waking // queued tasks no worker is coming for yet
	if startNow || unserved >= p.opts.QueueSize {
		if now := unserved < 0 || p.idle.Len() > 0 || p.hasRoomLocked(); !now {
			return false
		}
	}
	p.queue.Push(queued[T]{arg: arg, since: p.clock(), refuse: refuse})
	if refuse == nil {
		p.queuedTotal++
	}
	return true
}

// wakeLocked finds a worker for the oldest queued task no worker is coming
// for: it takes an idle one and returns it, to be woken with wake once the
// caller holds no lock, or else starts a new one while the pool has room
// (and wakes it itself). mu must be held.
//
// Every task no worker is coming for wakes one: waking fewer (one at a
// time, each woken worker waking the next) measured up to twice as slow
// on tiny tasks, as processors then went idle and had to be woken
// themselves.
func (p *core[T]) wakeLocked() *worker[T] {
	if p.queue.Len() <= p.waking {
		return nil
	}
	if w, ok := p.idle.Pop(); ok {
		p.waking++
		return w
	}
	p.startForQueueLocked()
	return nil
}

// startForQueueLocked starts a worker for a queued task no worker is
// coming for, if the pool has room, and reports whether it did. mu must be
// held.
func (p *core[T]) startForQueueLocked() bool {
	if p.queue.Len() <= p.waking || !p.hasRoomLocked() {
		return false
	}
	p.wake(p.spawnLocked())
	p.waking++
	return true
}

// wake tells w, taken from the idle workers or new, to take the oldest
// queued task: a zero T on its empty channel, which a queue-mode worker
// reads as a wake-up. A nil w is ignored.
func (p *core[T]) wake(w *worker[T]) {
	if w != nil {
		var zero T
		w.ch <- zero
	}
}

// nextQueuedLocked is putBack in queue mode, after counting what w did:
// w takes the oldest queued task (backRun), or exits if the pool is over
// capacity (unless w was woken for a task: it takes one even above a
// capacity tuned down meanwhile, and exits after it) or closed with its
// queue empty, or else goes idle. mu must be held; nextQueuedLocked
// releases it.
func (p *core[T]) nextQueuedLocked(w *worker[T], e ended) (T, backTo) {
	var zero T
	if c := p.capacity.Load(); !e.woke && c >= 0 && p.running.Load() > c {
		p.mu.Unlock()
		return zero, backExit
	}
	q, ok := p.queue.Pop()
	if !ok && p.line.len() > 0 {
		p.admitLocked() // room with nobody admitted: cannot happen, but never strand a waiter
		q, ok = p.queue.Pop()
	}
	if ok {
		p.startQueuedLocked(w, q, e.now) // the observer's read at the task's return is the start
		p.mu.Unlock()
		return q.arg, backRun
	}
	if p.state.Load() == CLOSED {
		p.mu.Unlock()
		return zero, backExit
	}
	return p.idleLocked(w)
}

// startQueuedLocked accounts for q, taken from the queue for w: a Group
// retry counts as submitted now, the time it waited is counted up to now
// (if it was timed), and the oldest waiters move into the room it leaves.
// mu must be held.
func (p *core[T]) startQueuedLocked(w *worker[T], q queued[T], now int64) {
	if q.refuse != nil {
		p.queuedTotal++
	}
	p.timeWaitLocked(w, q.since, now)
	p.admitLocked()
}

// admitLocked moves the oldest waiters into the queue while it has room: a
// queue-mode caller's task is accepted, and the caller told (it is sent
// the pool's mark); a posted Group retry joins the queue. It then finds
// workers for what it queued. mu must be held.
func (p *core[T]) admitLocked() {
	admitted := false
	for p.line.len() > 0 && p.queue.Len()-p.waking < p.opts.QueueSize {
		wt := p.line.pop()
		if wt == nil {
			break
		}
		p.queue.Push(queued[T]{arg: wt.arg, since: wt.since, refuse: wt.refuse})
		if wt.refuse == nil {
			p.queuedTotal++
		}
		var zero T
		wt.arg = zero
		if wt.ch != nil {
			wt.ch <- p.mark // buffered, and the caller waits: it never blocks
		}
		admitted = true
	}
	for admitted {
		w := p.wakeLocked()
		if w == nil {
			break
		}
		p.wake(w)
	}
}

// queueMode reports whether the multi-pool's sub-pools queue their tasks.
func (mp *multiPool[T]) queueMode() bool { return mp.pools[0].queueMode() }

// enqueue is submit in queue mode: arg goes into a sub-pool's queue (see
// offerEach), or else its caller waits in the shared line for room in any,
// and enqueue returns nil once arg is queued.
func (mp *multiPool[T]) enqueue(ctx context.Context, arg T) error {
	if mp.IsClosed() {
		return ErrPoolClosed
	}
	first := mp.pick()
	if mp.offerEach(first, arg, nil) {
		return nil
	}
	if mp.pools[0].opts.Nonblocking {
		return ErrPoolOverload
	}
	wt := mp.line.newCaller(&mp.waitingBy[first])
	wt.arg, wt.carries = arg, true
	if err := mp.line.enter(wt, mp.pools[0].clock()); err != nil {
		return err
	}
	if !mp.admitEach() && mp.line.leave(wt) {
		// Released between the offer and the joining, its line already
		// emptied: nobody would ever take wt.
		mp.line.recycle(wt)
		return ErrPoolClosed
	}
	_, err := mp.line.wait(ctx, wt)
	return err
}

// postQueued is post in queue mode, as core.postQueuedLocked: a Group retry
// goes into a sub-pool's queue, or waits in the shared line for room.
func (mp *multiPool[T]) postQueued(first int, arg T, refuse func(error)) (withdraw func() bool, err error) {
	if mp.offerEach(first, arg, refuse) {
		return func() bool { return false }, nil
	}
	wt := &waiter[T]{arg: arg, carries: true, refuse: refuse, since: mp.pools[0].clock()}
	mp.line.join(wt)
	withdraw = func() bool { return mp.line.leave(wt) }
	if !mp.admitEach() && withdraw() { // as in enqueue
		return nil, ErrPoolClosed
	}
	return withdraw, nil
}

// offerEach offers arg to the sub-pools, from first on: first to those
// where a worker can take it at once, so no task waits on a busy sub-pool
// while another has room, then to any whose queue has room. It reports
// whether one took it.
func (mp *multiPool[T]) offerEach(first int, arg T, refuse func(error)) bool {
	for _, startNow := range [2]bool{true, false} {
		for k := range mp.pools {
			p := mp.pools[(first+k)%len(mp.pools)]
			p.mu.Lock()
			ok := p.offerLocked(arg, refuse, startNow)
			var w *worker[T]
			if ok {
				w = p.wakeLocked()
			}
			p.mu.Unlock()
			if ok {
				p.wake(w)
				return true
			}
		}
	}
	return false
}

// admitEach admits the oldest waiters of the shared line into the
// sub-pools' queues that have room. A waiter that has just joined calls
// it: room may have opened between its offer and its joining, with no
// worker left to admit it. It reports whether every sub-pool is open; a
// closed one has emptied the line already, maybe before the waiter joined.
func (mp *multiPool[T]) admitEach() (open bool) {
	open = true
	for _, p := range mp.pools {
		p.mu.Lock()
		if p.state.Load() == CLOSED {
			open = false
		} else {
			p.admitLocked()
		}
		p.mu.Unlock()
	}
	return open
}
