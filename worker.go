package ants

import (
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
}

// LastUsed reports when w went idle. It implements queue.Item.
func (w *worker[T]) LastUsed() time.Time { return w.lastUsed }

// work is the body of a worker goroutine. It returns when ch is closed, when
// the pool will not take the worker back (released, or tuned below its
// running count), or when a task panics or calls runtime.Goexit. In every case
// the worker's slot goes back to the pool before anything else happens, so a
// waiting submitter gets a fresh worker at once.
//
// A panicking task ends its worker goroutine, as in ants: the slot is freed
// first, then PanicHandler (or the logger) is called on this goroutine, which
// still belongs to the pool's epoch, so ReleaseContext waits for the handler.
func (p *core[T]) work(w *worker[T], e *epoch) {
	defer e.exit()
	defer func() {
		r := recover() // nil on a normal exit and on runtime.Goexit
		p.retire()
		if r != nil {
			p.handlePanic(r)
		}
	}()
	for arg := range w.ch {
		p.run(arg)
		if !p.putBack(w) {
			return
		}
	}
}

// handlePanic reports a value recovered from a task. It must be called from
// the deferred function that recovered it, so the stack still shows the panic.
func (p *core[T]) handlePanic(r any) {
	if h := p.opts.PanicHandler; h != nil {
		h(r)
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
