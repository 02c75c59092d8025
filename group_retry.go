package ants

import (
	"context"
	"sync"
	"time"

	"github.com/antspool/ants/retry"
)

// groupTask is a group task that may be retried (WithRetry). Between
// attempts it holds no worker: a timer wakes it after the delay, and it
// posts its next attempt to the pool, where it stands in line with every
// other submit. If the group's context ends meanwhile, abort takes it out
// of the timer or the line and finishes it; if the pool is released, the
// pool takes it off its list of sleeping retries and closed finishes it.
//
// While it sleeps, the task is on the pool's list (park), and its two
// callbacks, the timer's wake and the context's abort, each hold a count in
// the pool's epoch from the moment they are armed until they return or are
// stopped; so ReleaseContext waits for them, and Reboot cannot open a new
// run while one may still post an attempt.
//
// Exactly one of the paths that can end a waiting task — abort, wake, the
// next attempt's start, the pool's refusal, closed — finishes it; phase,
// under mu, says which. Lock order: groupTask.mu, then the pool's mu.
type groupTask struct {
	g       *Group
	i       int // the task's index in its group
	fn      func(ctx context.Context) error
	run     func() // t.attempt, built once: what the pool runs for t
	retrier retry.Retrier

	mu       sync.Mutex // guards the fields below
	phase    taskPhase
	lastErr  error       // the failed attempt's error, the task's error if it ends now
	timer    *time.Timer // phase sleeping
	withdraw func() bool // phase queued: takes the attempt out of the pool's line
	stopCtx  func() bool // deregisters abort from the group's context
	ep       *epoch      // the pool run the latest sleep was parked in
}

type taskPhase uint8

const (
	phaseRunning  taskPhase = iota // an attempt runs (or the first is being admitted)
	phaseSleeping                  // waiting for the timer, parked in the pool
	phaseQueued                    // the next attempt is in the pool's line
	phaseAborted                   // the context ended; whoever comes next finishes the task
	phaseDone                      // finished
)

// attempt runs one attempt on a worker, then finishes the task or sets up
// the next attempt.
func (t *groupTask) attempt() {
	g := t.g
	if t.retrier.Retries() > 0 { // a retry: claim the task from abort
		t.mu.Lock()
		aborted := t.phase == phaseAborted
		t.phase = phaseRunning
		if aborted {
			t.phase = phaseDone
		}
		t.stopHookLocked()
		t.mu.Unlock()
		if aborted {
			g.end(t.i, t.lastErr)
			return
		}
	}
	if g.ctx.Err() != nil { // the group ended before this attempt started
		if t.retrier.Retries() == 0 {
			g.skipTask(t.i)
			g.release()
		} else {
			g.end(t.i, t.lastErr)
		}
		return
	}
	how, err := g.call(t.i, t.fn)
	if how == callPanicked {
		g.end(t.i, err)     // a panic is not retried
		panic(errRecovered) // tell the worker; see serve
	}
	delay, again, final := t.retrier.Next(err)
	if !again {
		g.end(t.i, final)
		return
	}
	for _, notify := range g.cfg.notify {
		notify(t.retrier.Retries(), err, delay)
	}
	t.sleep(delay, err)
}

// sleep parks the task in the pool and arms its timer and abort. On a
// released pool no attempt may follow: the task ends with ErrPoolClosed.
func (t *groupTask) sleep(delay time.Duration, err error) {
	t.mu.Lock()
	ep, ok := t.g.pool.park(t)
	if !ok {
		t.phase = phaseDone
		t.mu.Unlock()
		t.g.end(t.i, ErrPoolClosed)
		return
	}
	t.phase = phaseSleeping
	t.lastErr = err
	t.ep = ep
	// park counted both callbacks in ep; each gives its count back when it
	// returns, or its stopper does (stopTimerLocked, stopHookLocked).
	t.stopCtx = context.AfterFunc(t.g.ctx, func() {
		t.abort()
		ep.exit()
	})
	t.timer = time.AfterFunc(delay, func() {
		t.wake()
		ep.exit()
	})
	t.mu.Unlock()
}

// stopTimerLocked stops the timer and reports whether it had not fired;
// if so, the timer's count in the epoch goes back here.
func (t *groupTask) stopTimerLocked() bool {
	if !t.timer.Stop() {
		return false
	}
	t.ep.exit()
	return true
}

// stopHookLocked deregisters abort from the group's context; if abort had
// not started, its count in the epoch goes back here.
func (t *groupTask) stopHookLocked() {
	if t.stopCtx() {
		t.ep.exit()
	}
}

// wake runs on the timer's goroutine: it posts the next attempt to the
// pool, which never blocks.
func (t *groupTask) wake() {
	t.mu.Lock()
	if t.phase == phaseAborted { // abort came first but could not stop the timer
		t.phase = phaseDone
		t.g.pool.unpark(t)
		t.mu.Unlock()
		t.g.end(t.i, t.lastErr)
		return
	}
	if !t.g.pool.unpark(t) { // Release took the task: it ends without an attempt
		t.phase = phaseDone
		t.stopHookLocked()
		t.mu.Unlock()
		t.g.end(t.i, ErrPoolClosed)
		return
	}
	t.phase = phaseQueued
	withdraw, err := t.g.pool.post(t.run, t.refuse)
	if err != nil {
		t.phase = phaseDone
		t.stopHookLocked()
		t.mu.Unlock()
		t.g.end(t.i, err)
		return
	}
	t.withdraw = withdraw
	t.mu.Unlock()
}

// refuse is called by the pool when it closes with the next attempt still
// in line.
func (t *groupTask) refuse(err error) {
	t.mu.Lock()
	if t.phase != phaseQueued && t.phase != phaseAborted {
		t.mu.Unlock()
		return
	}
	t.phase = phaseDone
	t.stopHookLocked()
	t.mu.Unlock()
	t.g.end(t.i, err)
}

// closed is called by Release, which has taken the task off the pool's list
// of sleeping retries: the task ends at once with ErrPoolClosed. If its
// timer has fired already, wake ends it instead; if abort came first, abort
// or wake does.
func (t *groupTask) closed() {
	t.mu.Lock()
	if t.phase != phaseSleeping || !t.stopTimerLocked() {
		t.mu.Unlock()
		return
	}
	t.phase = phaseDone
	t.stopHookLocked()
	t.mu.Unlock()
	t.g.end(t.i, ErrPoolClosed)
}

// abort runs when the group's context ends while the task waits between
// attempts. It finishes the task at once if it can take it back from the
// timer or the pool's line; otherwise the path already under way (wake, the
// next attempt, or the pool's refusal) will, seeing phaseAborted.
func (t *groupTask) abort() {
	t.mu.Lock()
	switch t.phase {
	case phaseSleeping:
		if !t.stopTimerLocked() {
			t.phase = phaseAborted
			t.mu.Unlock()
			return
		}
		t.g.pool.unpark(t)
	case phaseQueued:
		if !t.withdraw() {
			t.phase = phaseAborted
			t.mu.Unlock()
			return
		}
	default: // running or done: the attempt sees the context itself
		t.mu.Unlock()
		return
	}
	t.phase = phaseDone
	t.mu.Unlock()
	t.g.end(t.i, t.lastErr)
}
