package ants

import (
	"errors"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// worker is the one worker type of every pool. Its goroutine, running work,
// receives a task on ch, runs it with the pool's run function, and offers
// itself back to the pool; a closed ch tells it to exit.
type worker[T any] struct {
	ch       chan T    // buffered (1): the next task; closed to stop the worker
	pool     *core[T]  // the pool the worker belongs to
	lastUsed time.Time // when the worker went idle; guarded by pool.mu

	// Set by whoever hands the worker a task that waited in line, before
	// the task is sent; read (and reset) by the worker with an observer.
	wait  int64 // nanoseconds the task waited
	start int64 // nanotime at the hand-over, the task's start; 0: not read

	// The queued task a worker took as it recovered from a Group task's
	// panic (see serve), to run first in its next serve. Worker-only.
	next    T
	hasNext bool
}

// LastUsed reports when w went idle. It implements queue.Item.
func (w *worker[T]) LastUsed() time.Time { return w.lastUsed }

// give hands arg to w, which has no task, and counts it as submitted.
func (w *worker[T]) give(arg T) {
	w.pool.submitted.Add(1)
	w.ch <- arg
}

// errRecovered is what a task panics with to tell its worker that it
// panicked and has dealt with the panic itself: a Group or SubmitValue task,
// whose panic became a *PanicError. The worker counts the panic, tells the
// observer, and goes on serving (see serve).
var errRecovered = errors.New("ants: task recovered from a panic")

// work is the body of a worker goroutine: it serves tasks until serve says
// the worker must exit.
func (p *core[T]) work(w *worker[T], e *epoch) {
	defer e.exit()
	for p.serve(w) {
	}
}

// serve runs the tasks w is handed. It returns when ch is closed, when the
// pool will not take the worker back (released, or tuned below its
// running count), or when a task panics or calls runtime.Goexit; and it
// reports whether the worker goes on, which it does only after a task that
// recovered its own panic (errRecovered). When the worker exits, its slot
// goes back to the pool before anything else happens, so a waiting
// submitter gets a fresh worker at once.
//
// A panicking task ends its worker goroutine, as in ants: the slot is freed
// first, then PanicHandler (or the logger) is called on this goroutine, which
// still belongs to the pool's epoch, so ReleaseContext waits for the handler.
func (p *core[T]) serve(w *worker[T]) (again bool) {
	observe, queueMode := p.opts.TaskObserver, p.queued
	var start int64 // with an observer: when the current task started
	inTask := false
	stopped := false // ch was closed: the pool told w to exit
	defer func() {
		if !inTask { // ch closed, or the pool would not take w back
			p.retire(ended{stopped: stopped})
			return
		}
		r := recover() // nil on runtime.Goexit
		e := ended{task: true, panicked: r != nil}
		if observe != nil {
			e.now = p.observe(w, start, e.panicked)
		}
		if r == errRecovered { // a Group or SubmitValue task: w goes on
			switch arg, to := p.putBack(w, e); to {
			case backRun:
				w.next, w.hasNext = arg, true // the next serve runs it first
				again = true
			case backWait:
				again = true
			case backExit:
				p.retire(ended{})
			}
			return
		}
		p.retire(e)
		if r != nil {
			p.handlePanic(r)
		}
	}()
	for {
		var arg T
		if w.hasNext {
			var zero T
			arg, w.next, w.hasNext = w.next, zero, false
		} else {
			var ok bool
			if arg, ok = <-w.ch; !ok {
				break
			}
			if queueMode { // a wake-up: the task is the oldest queued one
				next, to := p.putBack(w, ended{woke: true})
				if to == backExit {
					return false
				}
				if to == backWait {
					continue // another worker took it
				}
				arg = next
			}
		}
		for {
			inTask = true
			if observe != nil {
				start = w.start
				if start == 0 {
					start = nanotime()
				}
				w.start = 0
			}
			p.run(arg)
			e := ended{task: true}
			if observe != nil {
				e.now = p.observe(w, start, false)
			}
			inTask = false
			next, to := p.putBack(w, e)
			if to == backExit {
				return false
			}
			if to == backWait {
				break
			}
			arg = next // backRun: the oldest queued task, at once
		}
	}
	stopped = true
	return false
}

// ended tells putBack and retire what a worker did last: nothing (it was
// handed back, or it exits idle), or a task, which may have panicked; now,
// if not 0, is the clock read at the task's return.
type ended struct {
	task, panicked bool
	stopped        bool // w exits because the pool closed its channel
	woke           bool // w was woken (queue mode) to take a queued task
	now            int64
}

// observe tells the pool's task observer of the task w has just run, which
// started at start, and returns the clock read at its end.
func (p *core[T]) observe(w *worker[T], start int64, panicked bool) int64 {
	now := nanotime()
	p.opts.TaskObserver(TaskInfo{
		Wait:     time.Duration(w.wait),
		Run:      time.Duration(now - start),
		Panicked: panicked,
	})
	w.wait = 0
	return now
}

// handlePanic reports a value recovered from a task. It must be called from
// the deferred function that recovered it, so the stack still shows the panic.
func (p *core[T]) handlePanic(r any) {
	if h := p.opts.PanicHandler; h != nil {
		h(r)
		return
	}
	if l, ok := p.opts.Logger.(panicLogger); ok {
		l.logPanic(r, debug.Stack())
		return
	}
	p.opts.Logger.Printf("worker exits from panic: %v\n%s\n", r, debug.Stack())
}

// epoch tracks the goroutines one run of a pool started, from NewPool or
// Reboot until Release: workers, their panic handlers and the purger.
type epoch struct {
	live atomic.Int64  // goroutines of this epoch still running, plus one while the pool is open
	done chan struct{} // closed when live drops to zero: nothing of this epoch runs any more
	stop chan struct{} // closed by Release; stops the purger
}

func newEpoch() *epoch {
	e := &epoch{done: make(chan struct{}), stop: make(chan struct{})}
	e.live.Store(1)
	return e
}

// enter counts a goroutine that is about to start.
func (e *epoch) enter() { e.live.Add(1) }

// exit is called once by each goroutine as it ends, and once by Release.
func (e *epoch) exit() {
	if e.live.Add(-1) == 0 {
		close(e.done)
	}
}
