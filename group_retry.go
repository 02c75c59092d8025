package ants

import (
	"context"
	"sync"
	"time"

	"github.com/antspool/ants/retry"
)

// retryTask is a group task that may be retried (WithRetry). Between
// attempts it holds no worker: a timer wakes it after the delay, and it
// posts its next attempt to the pool, where it stands in line with every
// other submit.
//
// While it waits, three callbacks may end the wait: the timer's (wake),
// the group context's and the pool run's (interrupt): the group ended, or
// the pool was released. Each is counted in the pool's run from the moment
// it is armed until it returns or is stopped, so ReleaseContext waits for
// it, and Reboot cannot open a new run while one may still post an
// attempt. The pool keeps no list of waiting retries: they watch its run.
//
// Exactly one of the paths that can end a waiting task — an interrupt,
// wake, the next attempt's start, the pool's refusal — finishes it; phase,
// under mu, says which. Lock order: retryTask.mu, then the pool's locks.
type retryTask struct {
	member
	retrier retry.Retrier

	mu       sync.Mutex // guards the fields below
	phase    taskPhase
	err      error       // the task's error if it ends now: the failed attempt's, or why it was interrupted
	timer    *time.Timer // phase sleeping
	withdraw func() bool // phase queued: takes the attempt out of the pool's line
	unhook   [2]func() bool
	poolRun  *run // the pool run the callbacks are counted in
}

type taskPhase uint8

const (
	phaseRunning  taskPhase = iota // an attempt runs (or the first is being admitted)
	phaseSleeping                  // waiting for the timer
	phaseQueued                    // the next attempt is posted (in the pool's line or queue) and listed as pending
	phaseAborted                   // interrupted as the timer fired, err says why; wake finishes the task
	phaseDone                      // finished
)

// do runs the next attempt, unless a Wait took it (void). A retry is
// always listed as pending; a first attempt, when its group lists them.
func (t *retryTask) do(wait time.Duration) outcome {
	if (t.retrier.Retries() > 0 || t.g.track) && !t.g.pending.take(t.link) {
		return void
	}
	return t.runWaited(wait)
}

// run runs the next attempt, taken by a Wait, on the Wait's goroutine.
func (t *retryTask) run() outcome { return t.runWaited(0) }

// runWaited runs one attempt, taken, which waited wait for a worker, then
// finishes the task or sets up the next attempt. It reports a panic, which
// the group has recovered; a panicking task is not retried.
func (t *retryTask) runWaited(wait time.Duration) outcome {
	g := t.g
	if t.retrier.Retries() > 0 { // a retry: claim the task from the callbacks
		t.mu.Lock()
		aborted := t.phase == phaseAborted
		t.phase, t.withdraw = phaseRunning, nil
		t.unhookLocked()
		if aborted || t.poolRun.ctx.Err() != nil { // interrupted, or the pool released
			if !aborted {
				t.err = ErrPoolClosed
			}
			t.endUnlock(t.err)
			return ran
		}
		t.mu.Unlock()
	}
	g.begin(&t.member)
	if g.ctx.Err() != nil { // the group ended before this attempt started
		t.skip()
		return ran
	}
	panicked, err := g.call(t.i, t.fn, TaskMeta{Attempt: t.retrier.Retries() + 1, Wait: wait})
	if panicked {
		g.end(t.i, err)
		return recovered
	}
	delay, again, final := t.retrier.Next(err)
	if !again {
		g.end(t.i, final)
		return ran
	}
	for _, notify := range g.cfg.notify {
		notify(t.retrier.Retries(), err, delay)
	}
	t.sleep(delay, err)
	return ran
}

// skip finishes the task, taken, without this attempt: a first attempt is
// skipped, a retry ends with its last attempt's error.
func (t *retryTask) skip() {
	if t.retrier.Retries() == 0 {
		t.g.begin(&t.member)
		t.g.skipTask(t.i)
		t.g.release(t.i)
		return
	}
	t.mu.Lock()
	if t.phase == phaseQueued && t.withdraw != nil {
		t.withdraw() // if still in line; a copy left in the queue is void for its worker
	}
	t.endUnlock(t.err)
}

// sleep arms the timer and the two interrupts, each counted in the pool's
// current run. On a released pool no attempt may follow: the task ends
// with ErrPoolClosed.
func (t *retryTask) sleep(delay time.Duration, err error) {
	r, ok := t.g.pool.hold(3)
	if !ok {
		t.g.end(t.i, ErrPoolClosed)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.phase, t.err, t.poolRun = phaseSleeping, err, r
	r.delayed.Add(1)
	// Each callback gives its count back when it returns, or its stopper
	// does (stopTimerLocked, unhookLocked).
	t.unhook[0] = context.AfterFunc(t.g.ctx, func() {
		t.interrupt(nil)
		r.exit()
	})
	t.unhook[1] = context.AfterFunc(r.ctx, func() {
		t.interrupt(ErrPoolClosed)
		r.exit()
	})
	t.timer = time.AfterFunc(delay, func() {
		t.wake()
		r.exit()
	})
}

// wake runs on the timer's goroutine: it lists the next attempt as
// pending and posts it to the pool, which never blocks.
func (t *retryTask) wake() {
	if t.g.cfg.limiter != nil && !t.throttle() {
		return
	}
	t.mu.Lock()
	if t.phase != phaseSleeping { // an interrupt came first but could not stop the timer
		t.endUnlock(t.err)
		return
	}
	t.poolRun.delayed.Add(-1)
	t.phase = phaseQueued
	t.g.pending.add(t.link)
	withdraw, err := post[job](t.g.pool, t, t.refuse)
	if err != nil {
		if t.g.pending.take(t.link) {
			t.endUnlock(err)
		} else {
			t.mu.Unlock() // a Wait took the attempt: it is the Wait's
		}
		return
	}
	t.withdraw = withdraw
	t.mu.Unlock()
}

// throttle waits, on the timer's goroutine, for the group's rate limit
// before the next attempt (WithRateLimit), until the group's context ends
// or the pool is released, either of which interrupts the task meanwhile.
// It reports whether wake goes on; if the limiter refused the attempt, the
// task has ended with its error.
func (t *retryTask) throttle() bool {
	ctx, cancel := context.WithCancel(t.g.ctx)
	defer cancel()
	defer context.AfterFunc(t.poolRun.ctx, cancel)()
	err := t.g.throttle(ctx)
	if err == nil || ctx.Err() != nil {
		return true // an interrupt has made the task aborted: wake ends it
	}
	t.mu.Lock()
	if t.phase != phaseSleeping {
		t.endUnlock(t.err)
		return false
	}
	t.poolRun.delayed.Add(-1)
	t.endUnlock(err)
	return false
}

// refuse is called by the pool when it is released with the next attempt
// still in its line or queue.
func (t *retryTask) refuse(err error) {
	t.mu.Lock()
	if t.phase != phaseQueued || !t.g.pending.take(t.link) {
		t.mu.Unlock()
		return
	}
	t.endUnlock(err)
}

// interrupt runs when the group's context ends (err nil: the task ends
// with its last attempt's error) or the pool's run ends (ErrPoolClosed)
// while the task waits between attempts. It finishes the task at once if
// it can take it back from the timer or from the pending list; otherwise
// the path already under way (wake, or the attempt taken, which sees the
// context or the run) does.
func (t *retryTask) interrupt(err error) {
	t.mu.Lock()
	if err == nil {
		err = t.err
	}
	switch t.phase {
	case phaseSleeping:
		t.poolRun.delayed.Add(-1)
		if !t.stopTimerLocked() {
			t.phase, t.err = phaseAborted, err
			t.mu.Unlock()
			return
		}
	case phaseQueued:
		if !t.g.pending.take(t.link) {
			t.mu.Unlock()
			return
		}
		if t.withdraw != nil {
			t.withdraw() // if still in line; a copy left in the queue is void for its worker
		}
	default: // running: the attempt sees the context itself; aborted or done: decided
		t.mu.Unlock()
		return
	}
	t.endUnlock(err)
}

// endUnlock, called with mu held, releases it and finishes the task with
// err: its callbacks are stopped first, and the group is told last.
func (t *retryTask) endUnlock(err error) {
	t.phase = phaseDone
	t.unhookLocked()
	t.mu.Unlock()
	t.g.end(t.i, err)
}

// stopTimerLocked stops the timer and reports whether it had not fired;
// if so, the timer's count in the run goes back here.
func (t *retryTask) stopTimerLocked() bool {
	if !t.timer.Stop() {
		return false
	}
	t.poolRun.exit()
	return true
}

// unhookLocked deregisters the interrupts; the count in the run of each
// that had not started goes back here. It may be called again.
func (t *retryTask) unhookLocked() {
	for i, stop := range t.unhook {
		if stop != nil && stop() {
			t.poolRun.exit()
		}
		t.unhook[i] = nil
	}
}
