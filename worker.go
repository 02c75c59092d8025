package ants

import (
	"runtime"
	"runtime/debug"
	"time"
)

// worker is the one worker type of every pool. Its goroutine runs the task
// it was started with, then asks the pool for the next one (core.next): a
// queued task or one in line, which it runs at once, or none, and then it
// waits, idle, for a task to be handed to it on ch. A closed ch tells it to
// exit.
type worker[T any] struct {
	ch       chan T    // buffered (1): the task handed to the worker while it is idle; closed to stop it
	lastUsed time.Time // when the worker went idle; guarded by the pool's mu

	// Written by whoever gives the worker a task, under the pool's mu and
	// before the task is sent, or by the worker as it takes one; read by
	// the worker for its observer.
	wait  int64 // nanoseconds the task waited; 0 if it found a free worker, or its wait was not timed
	start int64 // nanotime at the hand-over, which is the task's start, if read then; else 0
}

// LastUsed reports when w went idle. It implements queue.Item.
func (w *worker[T]) LastUsed() time.Time { return w.lastUsed }

// startLocked starts a worker goroutine for arg, a task that has waited
// since since (0: not timed; its wait counts up to now, read here if 0),
// and the purge goroutine if it is not running. mu must be held.
func (p *core[T]) startLocked(arg T, since, now int64) {
	w := &worker[T]{ch: make(chan T, 1)}
	w.wait, w.start = p.waitedLocked(since, now)
	p.running.Add(1)
	r := p.run
	r.enter()
	go p.work(w, arg, r)
	if !p.opts.DisablePurge && !p.purging && p.state.Load() == OPENED {
		p.purging = true
		p.now = time.Now()
		r.enter()
		go p.purge(r)
	}
}

// work is the body of a worker goroutine, started with its first task. It
// runs tasks, one after another, until the pool has none for it and tells
// it to exit, or a task panics (without recovering) or calls
// runtime.Goexit: the goroutine then ends, after its slot has gone to the
// next task. A task may recover its own panic and report it (a Group or
// SubmitValue task): the worker counts it and goes on.
//
// A panic is recovered, and reported to the PanicHandler (or the Logger),
// on this goroutine, which still counts in the pool's run, so
// ReleaseContext waits for the handler. One protect covers the whole loop:
// a deferred call per task would cost a tenth of a queued task's hand-over.
func (p *core[T]) work(w *worker[T], arg T, r *run) {
	defer r.exit()
	observe := p.opts.TaskObserver
	var start int64 // with an observer: when the current task started
	var wait int64  // how long the current task waited, as its giver counted it
	protect(func() {
		for {
			if observe != nil {
				start = w.start
				if start == 0 {
					start = nanotime()
				}
				w.start = 0
			}
			wait, w.wait = w.wait, 0
			e := ended{task: true}
			switch p.call(arg, time.Duration(wait)) {
			case recovered:
				e.panicked = true
			case void: // nothing ran: not a task of the counters, nor of the observer
				e.task, e.void = false, true
			}
			if observe != nil && e.task {
				e.now = p.observe(wait, start, e.panicked)
			}
			s := stepIdle
			for arg, s = p.next(w, e); s == stepIdle; arg, s = p.idleWait(w) {
			}
			switch s {
			case stepExit:
				return
			case stepYield:
				runtime.Gosched()
			}
		}
	}, func(v any) { // only a task panics here
		if observe != nil {
			p.observe(wait, start, true)
		}
		p.retire(ended{task: true, panicked: true})
		p.handlePanic(v)
	}, func() { // only a task calls runtime.Goexit
		if observe != nil {
			p.observe(wait, start, false)
		}
		p.retire(ended{task: true})
	})
}

// idleWait blocks w, idle, until it is handed a task or woken for one,
// and returns what to do next (see next); stepExit once its channel is
// closed, after counting it out.
func (p *core[T]) idleWait(w *worker[T]) (T, step) {
	msg, open := <-w.ch
	if !open {
		p.retire(ended{stopped: true})
		return msg, stepExit
	}
	return p.how.woken(p, w, msg)
}

// protect calls fn on this goroutine and reports whether fn returned. If
// fn panics, protect recovers and calls onPanic with the value, from the
// deferred call, where the goroutine's stack still shows the panic (for
// debug.Stack), and returns false. If fn calls runtime.Goexit, protect
// calls onGoexit as the goroutine unwinds, and does not return.
//
// It is the one place where a task's panic is recovered: the worker's for
// a pool's tasks, a Group's and SubmitValue's for theirs.
func protect(fn func(), onPanic func(v any), onGoexit func()) (returned bool) {
	defer func() {
		if returned {
			return
		}
		if v := recover(); v != nil {
			onPanic(v)
			return
		}
		onGoexit() // no panic value: runtime.Goexit (a nil panic is a *runtime.PanicNilError)
	}()
	fn()
	return true
}

// ended tells next and retire what a worker did last: nothing (it exits
// idle, or was woken), or a task, which may have panicked; now, if not 0,
// is the clock read at the task's return.
type ended struct {
	task, panicked bool
	void           bool // the worker was given a task a Wait had taken (see outcome): not a task after all
	stopped        bool // the worker exits because the pool closed its channel
	woke           bool // the worker was woken (queue mode) to take a queued task
	stole          bool // the worker, about to go idle, looked in the other sub-pools' queues already
	now            int64
}

// countLocked adds what a worker did, e, to the counters. mu must be held.
func (p *core[T]) countLocked(e ended) {
	if e.task {
		p.completed++
	}
	if e.panicked {
		p.panicked++
	}
	if e.void {
		p.submitted-- // counted as it was queued or handed over; the Wait that took it counts it
	}
	if e.stopped {
		p.stopping--
	}
	if e.woke {
		p.waking--
	}
}

// retire counts out a worker goroutine that is exiting, after what e
// says, and gives its slot to the next task.
func (p *core[T]) retire(e ended) {
	p.mu.Lock()
	p.countLocked(e)
	p.exitLocked()
	p.mu.Unlock()
}

// inline runs a task of the pool on the calling goroutine instead of a
// worker, as the pool's strategy for a task it cannot place says
// (WithCallerRuns, or a call from one of the pool's own tasks), or for a
// task a Wait has taken from its group's pending ones. run runs the task.
// It is counted as a worker's task (Submitted, Completed, Panicked, the
// observer, with no wait); a panic run does not recover itself goes to the
// PanicHandler, or the Logger, and the caller goes on. If run calls
// runtime.Goexit, the task is counted and the caller's goroutine ends.
func (p *core[T]) inline(run func() outcome) {
	observe := p.opts.TaskObserver
	var start int64
	if observe != nil {
		start = nanotime()
	}
	count := func(o outcome) {
		p.mu.Lock()
		if o != void {
			p.submitted++
			p.completed++
		}
		if o == recovered {
			p.panicked++
		}
		p.mu.Unlock()
		if observe != nil && o != void {
			observe(TaskInfo{Run: time.Duration(nanotime() - start), Panicked: o == recovered})
		}
	}
	var o outcome
	if protect(func() { o = run() }, func(v any) {
		count(recovered)
		p.handlePanic(v)
	}, func() { count(ran) }) {
		count(o)
	}
}

// exitLocked counts out a worker that exits, and gives its slot to the
// queued tasks and the line. mu must be held.
func (p *core[T]) exitLocked() {
	p.running.Add(-1)
	p.fillLocked()
}

// stopLocked tells w, idle, to exit. mu must be held.
func (p *core[T]) stopLocked(w *worker[T]) {
	p.stopping++
	close(w.ch)
}

// observe tells the pool's task observer of the task that has just run,
// which waited wait and started at start, and returns the clock read at
// its end.
func (p *core[T]) observe(wait, start int64, panicked bool) int64 {
	now := nanotime()
	p.opts.TaskObserver(TaskInfo{
		Wait:     time.Duration(wait),
		Run:      time.Duration(now - start),
		Panicked: panicked,
	})
	return now
}

// handlePanic reports v, recovered from a task, to the PanicHandler, or
// logs it with the stack. It must be called from the deferred call that
// recovered v, so the stack still shows the panic.
func (p *core[T]) handlePanic(v any) {
	if h := p.opts.PanicHandler; h != nil {
		h(v)
		return
	}
	if l, ok := p.opts.Logger.(panicLogger); ok {
		l.logPanic(v, debug.Stack())
		return
	}
	p.opts.Logger.Printf("worker exits from panic: %v\n%s\n", v, debug.Stack())
}

// purge is the purge goroutine: every ExpiryDuration it stops the workers
// that have been idle since before the previous tick, so a worker lives
// between one and two ExpiryDurations after its last task. It also advances
// the coarse clock the idle workers are stamped with: a time.Now per task
// costs about 50 ns on a small VM, a tenth of a whole hand-over. It exits
// when its run ends or when no worker is left; the next new worker starts
// it again.
func (p *core[T]) purge(r *run) {
	defer r.exit()
	ticker := time.NewTicker(p.opts.ExpiryDuration)
	defer ticker.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case now := <-ticker.C:
			p.mu.Lock()
			// Idle workers are stamped with the latest tick, p.now: those
			// stamped before it went idle before the previous tick, at
			// least one ExpiryDuration ago.
			stale := p.idle.Expire(p.now)
			for _, w := range stale {
				p.stopLocked(w)
			}
			p.now = now
			if int(p.running.Load()) == len(stale) {
				p.purging = false
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
		}
	}
}
