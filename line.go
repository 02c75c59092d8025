package ants

import (
	"context"
	"sync"
	"sync/atomic"
)

// waitLine is the line of a pool: the callers waiting for a worker, and the
// tasks posted to run on the next free one, oldest first. A pool owns its
// line; the sub-pools of a MultiPool share one, so that whichever sub-pool
// frees a worker first serves the oldest caller of them all.
//
// Lock order: core.mu, then waitLine.mu. Serving a waiter — taking it off
// the line and handing it a worker — happens under both locks of the pool
// that owns the worker; a MultiPool caller that joins the line holds no
// core's lock, and looks at the sub-pools once more after joining (see
// multiPool.acquire), so no worker goes idle while it waits.
type waitLine[T any] struct {
	n          atomic.Int32 // waiters in line, callers and posted tasks; written under mu
	callers    atomic.Int32 // the blocked callers among them (Waiting); written under mu
	maxWaiters int          // callers that may wait at once; 0: no limit (MaxBlockingTasks)

	mu         sync.Mutex // guards the list and every waiter's queued, prev and next
	head, tail *waiter[T]

	cache sync.Pool // of *waiter[T] for blocked callers; see get
}

// waiter is one place in a line: a caller blocked in acquire, or a task
// posted by post. Whoever takes it off the line serves it exactly once: a
// caller is sent a worker, or nil when the pool closes (its channel is
// buffered, so that send never blocks); a posted task is handed to the
// worker directly, or refused when the pool closes.
type waiter[T any] struct {
	ch         chan *worker[T] // a blocked caller's; nil for a posted task
	arg        T               // the task, if the waiter carries it
	carries    bool            // holds its task, in arg: a posted task, or a queue-mode caller's
	refuse     func(error)     // a posted task's: called, outside the locks, if the pool closes first
	tally      *atomic.Int32   // counts a caller while it is in line, if not nil (MultiPool.WaitingByIndex)
	since      int64           // nanotime when it joined the line; 0 if its wait is not timed (core.timing)
	prev, next *waiter[T]
	queued     bool // in the line
}

// len returns the number of waiters, callers and posted tasks. It may be
// called without mu.
func (l *waitLine[T]) len() int { return int(l.n.Load()) }

// waiting returns the number of blocked callers in line: Waiting, which
// does not count posted tasks. It may be called without mu.
func (l *waitLine[T]) waiting() int { return int(l.callers.Load()) }

// full reports whether a caller may not join the line (MaxBlockingTasks
// bounds callers, not posted tasks). mu must be held.
func (l *waitLine[T]) fullLocked() bool {
	return l.maxWaiters > 0 && l.waiting() >= l.maxWaiters
}

func (l *waitLine[T]) pushBackLocked(wt *waiter[T]) {
	wt.prev, wt.next, wt.queued = l.tail, nil, true
	if l.tail != nil {
		l.tail.next = wt
	} else {
		l.head = wt
	}
	l.tail = wt
	l.count(wt, 1)
}

// count adds d to the counters wt belongs to.
func (l *waitLine[T]) count(wt *waiter[T], d int32) {
	l.n.Add(d)
	if wt.ch == nil {
		return // a posted task
	}
	l.callers.Add(d)
	if wt.tally != nil {
		wt.tally.Add(d)
	}
}

func (l *waitLine[T]) removeLocked(wt *waiter[T]) {
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
	l.count(wt, -1)
}

// pop takes the oldest waiter off the line, or returns nil. The caller must
// serve it. An empty line costs one atomic load, so a worker coming back
// takes no second lock when nobody waits.
func (l *waitLine[T]) pop() *waiter[T] {
	if l.len() == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	wt := l.head
	if wt != nil {
		l.removeLocked(wt)
	}
	return wt
}

// enter puts wt, a blocked caller's waiter that joined at since, at the
// end of the line, unless MaxBlockingTasks callers already wait: then it
// recycles wt and returns ErrPoolOverload.
func (l *waitLine[T]) enter(wt *waiter[T], since int64) error {
	l.mu.Lock()
	if l.fullLocked() {
		l.mu.Unlock()
		l.recycle(wt)
		return ErrPoolOverload
	}
	wt.since = since
	l.pushBackLocked(wt)
	l.mu.Unlock()
	return nil
}

// join puts wt at the end of the line.
func (l *waitLine[T]) join(wt *waiter[T]) {
	l.mu.Lock()
	l.pushBackLocked(wt)
	l.mu.Unlock()
}

// leave takes wt out of the line and reports whether it was still there
// (false once it has been served).
func (l *waitLine[T]) leave(wt *waiter[T]) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !wt.queued {
		return false
	}
	l.removeLocked(wt)
	return true
}

// newCaller returns a waiter for a blocked caller, off the line with an
// empty channel. Such waiters are recycled, so a caller that has to wait
// does not allocate in steady state; one goes back only after its channel
// has been drained.
func (l *waitLine[T]) newCaller(tally *atomic.Int32) *waiter[T] {
	wt, ok := l.cache.Get().(*waiter[T])
	if !ok {
		wt = &waiter[T]{ch: make(chan *worker[T], 1)}
	}
	wt.tally = tally
	return wt
}

// recycle puts back a caller's waiter, off the line with its channel
// drained, keeping nothing of its task.
func (l *waitLine[T]) recycle(wt *waiter[T]) {
	if wt.carries {
		var zero T
		wt.arg, wt.carries = zero, false
	}
	wt.since, wt.tally = 0, nil
	l.cache.Put(wt)
}

// wait blocks the caller that wt stands for, already in line, until it is
// served or ctx is done (a nil ctx, or one whose Done is nil, waits without
// limit). It returns the worker (or, for a queue-mode caller, the pool's
// mark once its task is queued), ErrPoolClosed if the pool closed first, or
// ctx.Err(); in the last two cases it holds nothing. If a worker reaches wt
// just as ctx ends, the worker is passed on, as if its task had just
// returned, not lost; a queue-mode task queued just as ctx ends was
// accepted, and wait returns the mark.
func (l *waitLine[T]) wait(ctx context.Context, wt *waiter[T]) (*worker[T], error) {
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	if done == nil { // no way out but a worker or Release: a plain receive is cheaper
		return l.served(wt, <-wt.ch)
	}
	select {
	case w := <-wt.ch:
		return l.served(wt, w)
	case <-done:
	}
	if !l.leave(wt) {
		// Served as ctx ended: take what was sent. A queue-mode caller's
		// task was accepted (w is a pool's mark): it will run, and the
		// submit succeeded. A worker is passed on.
		if w := <-wt.ch; w != nil {
			if w.ch == nil {
				l.recycle(wt)
				return w, nil
			}
			w.pool.handBack(w)
		}
	}
	l.recycle(wt)
	return nil, ctx.Err()
}

// served recycles wt, whose caller was sent w: a worker, or nil if the pool
// closed.
func (l *waitLine[T]) served(wt *waiter[T], w *worker[T]) (*worker[T], error) {
	l.recycle(wt)
	if w == nil {
		return nil, ErrPoolClosed
	}
	return w, nil
}

// closeAll takes every waiter off the line: callers get nil (the pool is
// closed); the posted tasks are returned, for the caller to refuse once it
// holds no lock.
func (l *waitLine[T]) closeAll() (refused []*waiter[T]) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for wt := l.head; wt != nil; wt = l.head {
		l.removeLocked(wt)
		if wt.ch != nil {
			wt.ch <- nil
		} else {
			refused = append(refused, wt)
		}
	}
	return refused
}
