package ants

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/antspool/ants/retry"
)

// groupTask is a group task that may be retried (WithRetry). Between
// attempts it holds no worker: a timer wakes it after the delay, and it
// posts its next attempt to the pool, where it stands in line with every
// other submit. If the group's context ends meanwhile, abort takes it out
// of the timer or the line and finishes it.
//
// Exactly one of the paths that can end a waiting task — abort, wake, the
// next attempt's start, the pool's refusal — finishes it; phase, under mu,
// says which. Lock order: groupTask.mu, then the pool's mu.
type groupTask struct {
	g       *Group
	fn      func(ctx context.Context) error
	run     func() // t.attempt, built once: what the pool runs for t
	retrier retry.Retrier

	mu       sync.Mutex // guards the fields below
	phase    taskPhase
	lastErr  error       // the failed attempt's error, the task's error if it ends now
	timer    *time.Timer // phase sleeping
	withdraw func() bool // phase queued: takes the attempt out of the pool's line
	stopCtx  func() bool // deregisters abort from the group's context
}

type taskPhase uint8

const (
	phaseRunning  taskPhase = iota // an attempt runs (or the first is being admitted)
	phaseSleeping                  // waiting for the timer
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
		t.mu.Unlock()
		t.stopCtx()
		if aborted {
			g.finish(t.lastErr)
			return
		}
	}
	if g.ctx.Err() != nil { // the group ended before this attempt started
		if t.retrier.Retries() == 0 {
			g.skip()
			g.finish(nil)
		} else {
			g.finish(t.lastErr)
		}
		return
	}
	err, ok := g.call(t.fn)
	if !ok {
		return // runtime.Goexit: call finished the task
	}
	var panicked *PanicError
	if errors.As(err, &panicked) {
		g.finish(err) // a panic is not retried
		return
	}
	delay, again, final := t.retrier.Next(err)
	if !again {
		g.finish(final)
		return
	}
	for _, notify := range g.cfg.notify {
		notify(t.retrier.Retries(), err, delay)
	}
	t.sleep(delay, err)
}

// sleep sets the timer for the next attempt and arms abort.
func (t *groupTask) sleep(delay time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.phase = phaseSleeping
	t.lastErr = err
	t.stopCtx = context.AfterFunc(t.g.ctx, t.abort)
	t.timer = time.AfterFunc(delay, t.wake)
}

// wake runs on the timer's goroutine: it posts the next attempt to the
// pool, which never blocks.
func (t *groupTask) wake() {
	t.mu.Lock()
	if t.phase == phaseAborted {
		t.phase = phaseDone
		t.mu.Unlock()
		t.g.finish(t.lastErr)
		return
	}
	t.phase = phaseQueued
	withdraw, err := t.g.pool.post(t.run, t.refuse)
	if err != nil {
		t.phase = phaseDone
		t.mu.Unlock()
		t.stopCtx()
		t.g.finish(err)
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
	t.mu.Unlock()
	t.stopCtx()
	t.g.finish(err)
}

// abort runs when the group's context ends while the task waits between
// attempts. It finishes the task at once if it can take it back from the
// timer or the pool's line; otherwise the path already under way (wake, the
// next attempt, or the pool's refusal) will, seeing phaseAborted.
func (t *groupTask) abort() {
	t.mu.Lock()
	switch t.phase {
	case phaseSleeping:
		if t.timer.Stop() {
			t.phase = phaseDone
		} else {
			t.phase = phaseAborted
		}
	case phaseQueued:
		if t.withdraw() {
			t.phase = phaseDone
		} else {
			t.phase = phaseAborted
		}
	default: // running or done: the attempt sees the context itself
		t.mu.Unlock()
		return
	}
	done := t.phase == phaseDone
	t.mu.Unlock()
	if done {
		t.g.finish(t.lastErr)
	}
}
