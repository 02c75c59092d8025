package ants

import (
	"context"
	"errors"
)

// ErrInvalidMaxPending is the error of a group made WithMaxPending(n) with
// n < 1: it runs nothing, and its Wait returns ErrInvalidMaxPending.
var ErrInvalidMaxPending = errors.New("ants: WithMaxPending needs n >= 1")

// A Limiter paces a group's attempts (WithRateLimit): Wait blocks until the
// next attempt may start, or ctx is done, and returns nil or why not.
// *rate.Limiter of golang.org/x/time/rate fits.
type Limiter interface {
	Wait(ctx context.Context) error
}

// WithRateLimit makes every attempt of every task of the group — its
// first, and each retry (WithRetry) — wait for l before it takes a worker:
// "N requests per second, retries included" for a crawler or an API
// client. The wait holds no worker. It ends with the group's context (the
// task is then skipped, as any task whose context ended) or, for a retry,
// when the pool is released (the task ends with ErrPoolClosed). An error
// from l ends the task with that error.
//
// Go waits for l on the caller, after its WithLimit slot; a retry waits on
// the goroutine of its timer; KeyedGroup tasks whose key's turn has come
// wait in a list, oldest first, for which one goroutine of the group waits
// for l in turn (Go never waits there).
// TryGo takes an attempt only if l has an Allow() bool method (as
// rate.Limiter does) that allows it now; otherwise it returns false. A nil
// l means no limit.
func WithRateLimit(l Limiter) GroupOption {
	return func(c *groupConfig) { c.limiter = l }
}

// WithMaxPending bounds the tasks a group holds accepted and not yet
// started to n: a Go waits, until the group's context ends, while n are
// (TryGo returns false instead). On a Group they are its tasks in the
// pool's queue (WithQueueSize) and its retries in line; on a KeyedGroup,
// also the tasks waiting behind their key (default 1024 there); on MapSeq,
// n is the window: the items pulled and not yet yielded, apart from the
// concurrency WithLimit sets (an item waiting out a retry's delay holds a
// place in it). n < 1 is an error: the group runs nothing, and Wait returns
// ErrInvalidMaxPending. Without the option a Group, ResultGroup, Map and
// ForEach have no such bound.
func WithMaxPending(n int) GroupOption {
	return func(c *groupConfig) { c.maxPending, c.pendingSet = n, true }
}

// accept counts a task the group is about to accept, for WithMaxPending.
func (g *Group) accept() {
	if g.cfg.maxPending > 0 {
		g.pending.mu.Lock()
		g.pending.count++
		g.pending.mu.Unlock()
	}
}

// begin takes the task of m out of the count of WithMaxPending, once: its
// first attempt starts, or it is skipped before it does.
func (g *Group) begin(m *member) {
	if g.cfg.maxPending > 0 && !m.begun {
		m.begun = true
		g.unaccept()
	}
}

// unaccept takes one task out of the count of WithMaxPending.
func (g *Group) unaccept() {
	if g.cfg.maxPending > 0 {
		g.pending.mu.Lock()
		g.pending.count--
		g.pending.notifyLocked()
		g.pending.mu.Unlock()
	}
}

// room reports whether the group may accept another task now.
func (g *Group) room() bool {
	if g.cfg.maxPending <= 0 {
		return true
	}
	g.pending.mu.Lock()
	defer g.pending.mu.Unlock()
	return g.pending.count < g.cfg.maxPending
}

// waitRoom waits until the group may accept another task (WithMaxPending),
// or its context is done, and reports which. On a nested group it runs the
// group's tasks not yet started meanwhile.
func (g *Group) waitRoom() bool {
	if g.cfg.maxPending <= 0 {
		return true
	}
	done := g.ctx.Done()
	for {
		changed := g.pending.watch()
		if g.room() {
			return true
		}
		if g.nested {
			if t := g.pending.takeNewest(); t != nil {
				g.pool.inline(t.run)
				continue
			}
		}
		select {
		case <-changed:
		case <-done:
			return false
		}
	}
}

// throttle waits for the group's rate limit, if any, before an attempt:
// nil, or why the attempt may not start (ctx's error, the limiter's).
func (g *Group) throttle(ctx context.Context) error {
	if g.cfg.limiter == nil {
		return nil
	}
	return g.cfg.limiter.Wait(ctx)
}

// throttleNow takes a rate-limit token for an attempt without waiting
// (TryGo), and reports whether it did.
func (g *Group) throttleNow() bool {
	if g.cfg.limiter == nil {
		return true
	}
	a, ok := g.cfg.limiter.(interface{ Allow() bool })
	return ok && a.Allow()
}
