package ants

import (
	"context"
	"sync"
)

// Fork-join on one pool: a task that waits for tasks of its own pool.
//
// A task that fans out again on its own pool (a Group inside a group task,
// Map inside Map, SubmitValue then Future.Wait) holds a worker while it
// waits for tasks that need one. On a bounded pool, once such parents hold
// every worker, nothing would move. Two things prevent it:
//
//   - A call made with the context of one of the pool's own tasks never
//     waits for a worker: if the pool cannot place the task now, the
//     caller runs it (see admit). The pool knows such a context because a
//     group gives its tasks a taskContext, which names the pool.
//   - A group made with such a context is nested: its Wait (and a Go
//     waiting for a WithLimit slot, and MapSeq waiting for an item) runs
//     the group's own tasks that have not started yet on its own
//     goroutine, instead of only waiting for a worker to take them. They
//     may sit in the pool's queue, or, for retries, in its line.
//
// To find them, a group lists its tasks not yet started in its pending
// list: every task, if the group is nested or its pool has a queue, and
// every posted retry. Whoever takes a task off the list — the worker that
// reaches it, or a Wait — owns it; the copy left in the pool's queue or
// line is void for the worker that reaches it later. And once the group's
// context is done, its Wait takes every listed task and skips it, so a
// deadline always ends a stuck fan-out, nested or not, in either mode.

// ownerKey is the key under which a taskContext holds its pool.
type ownerKey struct{}

// taskContext is the context a group gives its tasks: the group's own,
// which also holds the pool it runs on (a *core or *multiPool, as a site),
// so that a call on that pool made with it, or with a context derived
// from it, is known to come from one of the pool's own tasks. It is made
// once per group.
type taskContext struct {
	context.Context
	owner any
}

func (c *taskContext) Value(key any) any {
	if key == (ownerKey{}) {
		return c.owner
	}
	return c.Context.Value(key)
}

// ownedBy reports whether ctx is (or is derived from) the context of a
// task of s.
func ownedBy(ctx context.Context, s any) bool {
	return ctx != nil && ctx.Value(ownerKey{}) == s
}

// pendingTask is a group's task that a Wait may take from the pending
// list: it then runs it (run), or skips it (skip).
type pendingTask interface {
	run() outcome
	skip()
}

// pendingLink is a task's place in its group's pending list.
type pendingLink struct {
	task       pendingTask
	prev, next *pendingLink // guarded by the list's mu, as is listed
	listed     bool
}

// pendingList is a group's list of tasks placed in the pool's queue or
// line and not started, oldest first, and the means to wait for a change
// to it or to the group's count of tasks.
type pendingList struct {
	mu         sync.Mutex // guards the fields below and every link's
	head, tail *pendingLink
	changed    chan struct{} // closed, and replaced, when a task is listed or finishes while someone watches
	watching   bool          // someone holds changed
	count      int           // tasks accepted and not yet started (WithMaxPending); see Group.accept
}

// add lists l, whose task is about to be placed, at the end.
func (pl *pendingList) add(l *pendingLink) {
	pl.mu.Lock()
	l.prev, l.next, l.listed = pl.tail, nil, true
	if pl.tail != nil {
		pl.tail.next = l
	} else {
		pl.head = l
	}
	pl.tail = l
	pl.notifyLocked()
	pl.mu.Unlock()
}

// take takes l off the list and reports whether it was there: whoever
// takes a task owns it.
func (pl *pendingList) take(l *pendingLink) bool {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if !l.listed {
		return false
	}
	pl.removeLocked(l)
	return true
}

func (pl *pendingList) removeLocked(l *pendingLink) {
	if l.prev != nil {
		l.prev.next = l.next
	} else {
		pl.head = l.next
	}
	if l.next != nil {
		l.next.prev = l.prev
	} else {
		pl.tail = l.prev
	}
	l.prev, l.next, l.listed = nil, nil, false
}

// takeNewest takes the task listed last, or returns nil: a Wait that
// helps runs the newest first, depth first, as a fork-join pool does, so
// the tasks it starts stay few.
func (pl *pendingList) takeNewest() pendingTask {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	l := pl.tail
	if l == nil {
		return nil
	}
	pl.removeLocked(l)
	return l.task
}

// takeAll takes every listed task.
func (pl *pendingList) takeAll() []pendingTask {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	var all []pendingTask
	for l := pl.head; l != nil; l = pl.head {
		pl.removeLocked(l)
		all = append(all, l.task)
	}
	return all
}

// watch returns a channel that is closed at the next change (a task
// listed, or finished). Check what you wait for after watch, before you
// block on the channel, so that no change is missed.
func (pl *pendingList) watch() <-chan struct{} {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if pl.changed == nil {
		pl.changed = make(chan struct{})
	}
	pl.watching = true
	return pl.changed
}

// notify tells the watchers of a change.
func (pl *pendingList) notify() {
	pl.mu.Lock()
	pl.notifyLocked()
	pl.mu.Unlock()
}

func (pl *pendingList) notifyLocked() {
	if pl.watching {
		close(pl.changed)
		pl.changed, pl.watching = nil, false
	}
}

// settle returns once ready is closed or receives, or, for a nil ready,
// once no task of the group is outstanding (its Wait). Meanwhile, on a
// nested group, it runs the group's tasks not yet started itself, newest
// first; and once the group's context is done, it takes every task not yet
// started and skips it, without waiting for a worker to reach it.
func (g *Group) settle(ready <-chan struct{}) {
	done := g.ctx.Done()
	for {
		changed := g.pending.watch()
		if done != nil && g.ctx.Err() != nil {
			if g.onDone != nil {
				g.onDone()
			}
			g.skipPending()
			done = nil
		}
		if g.nested && done != nil {
			if t := g.pending.takeNewest(); t != nil {
				g.pool.inline(t.run)
				continue
			}
		}
		if ready == nil && g.active.Load() == 0 {
			return
		}
		select {
		case <-ready:
			return
		case <-changed:
		case <-done:
		}
	}
}

// skipPending takes every task of the group not yet started and skips it.
func (g *Group) skipPending() {
	for _, t := range g.pending.takeAll() {
		t.skip()
	}
}

// takeSlot takes a WithLimit slot for a Go, waiting until one is free or
// the group's context is done, and reports whether it took one. On a
// nested group it runs the group's tasks not yet started meanwhile: they
// hold the slots, and may have no worker to free them.
func (g *Group) takeSlot() bool {
	done := g.ctx.Done()
	for {
		select {
		case g.sem <- struct{}{}:
			return true
		default:
		}
		var changed <-chan struct{}
		if g.nested {
			changed = g.pending.watch()
			if t := g.pending.takeNewest(); t != nil {
				g.pool.inline(t.run)
				continue
			}
		}
		select {
		case g.sem <- struct{}{}:
			return true
		case <-changed:
		case <-done:
			return false
		}
	}
}
