package ants

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"sync"
)

// Map runs fn on every item of in, on r's workers, in a Group with the
// options given, and returns the values in input order and the error the
// group's Wait returns. The values slice has len(in) entries: fn's value,
// or R's zero value where an item failed or was skipped.
//
// Map blocks until every item it started has returned. By default the
// first error cancels the group (the items that have not started are
// skipped) and is returned; with WithCollectErrors every item runs and the
// error joins every item's error in input order. WithLimit, WithRetry and
// WithTaskTimeout work as on a Group. fn gets the group's context (with
// WithTaskTimeout's deadline); if ctx ends, the items not yet started are
// skipped and its cause is reported.
//
// Called from a task of r with the task's context (a Map inside a Map,
// say), Map never waits for r's workers: it runs items on the calling
// goroutine when no worker is free, and the items not yet started while it
// waits; see Group.Go and Group.Wait. So nested fan-out on one bounded
// pool cannot deadlock. ForEach and MapSeq do the same.
//
// An empty in returns an empty, non-nil slice and nil at once. A nil ctx
// returns ErrNilContext, a nil r ErrNilRunner, a nil fn ErrNilTask, with a
// nil slice. Map costs what a Group.Go per item costs, plus the values
// slice; see MapSeq for input too long to hold in memory.
func Map[T, R any](ctx context.Context, r Runner, in []T, fn func(context.Context, T) (R, error), opts ...GroupOption) ([]R, error) {
	if err := mapCheck(ctx, r, fn == nil); err != nil {
		return nil, err
	}
	out := make([]R, len(in))
	if len(in) == 0 {
		return out, nil
	}
	g := r.Group(ctx, opts...)
	for i := range in {
		if !goUnlessDone(g, func(ctx context.Context) error {
			v, err := fn(ctx, in[i])
			if err == nil {
				out[i] = v
			}
			return err
		}) {
			break
		}
	}
	return out, g.Wait()
}

// ForEach runs fn on every item of in, on r's workers, in a Group with the
// options given, and returns the error the group's Wait returns; it is Map
// without values, with the same blocking, options, errors and bad-input
// answers. An empty in returns nil at once.
func ForEach[T any](ctx context.Context, r Runner, in []T, fn func(context.Context, T) error, opts ...GroupOption) error {
	if err := mapCheck(ctx, r, fn == nil); err != nil {
		return err
	}
	if len(in) == 0 {
		return nil
	}
	g := r.Group(ctx, opts...)
	for i := range in {
		if !goUnlessDone(g, func(ctx context.Context) error { return fn(ctx, in[i]) }) {
			break
		}
	}
	return g.Wait()
}

// mapCheck returns the error of Map, ForEach and MapSeq for bad input.
func mapCheck(ctx context.Context, r Runner, nilFn bool) error {
	switch {
	case ctx == nil:
		return ErrNilContext
	case isNil(r):
		return ErrNilRunner
	case nilFn:
		return ErrNilTask
	}
	return nil
}

// goUnlessDone gives task to g.Go, unless g's context is done: then it
// records one skipped task, which Wait reports as it would every item that
// follows, and returns false, so the caller stops allocating tasks that
// cannot run.
func goUnlessDone(g *Group, task func(context.Context) error) bool {
	if g.ctx.Err() != nil {
		g.skipTask(g.take())
		return false
	}
	g.Go(task)
	return true
}

// MapSeq is the streaming Map: it pulls items from in only as its window
// has room, runs fn on each on r's workers, in a Group with the options
// given, and yields (value, error) pairs in input order as they become
// ready. It is for inputs too long to hold, or produced as they are read.
//
// The window is the group's WithMaxPending if set, else its WithLimit,
// else r's capacity (r's Cap() int method, if it has one and it is > 0),
// else 2 × GOMAXPROCS. An item waiting out a retry's delay (WithRetry)
// holds its place in the window, so with retries set WithMaxPending well
// above the concurrency: the window then keeps the workers busy while
// items wait for their next attempt. At
// most window items are pulled and not yet yielded: an item counts from the
// moment in hands it over until its pair has been yielded and yield has
// returned, and the next item is pulled only when a slot is free. So memory
// stays flat for an input of any length, a slow consumer slows the
// producer, and with a consumer that keeps up a full window of items runs
// at once. (A runner of huge capacity, such as the default pool, gives a
// huge window: set WithLimit.)
//
// Without WithCollectErrors, the iteration stops at the first pair with an
// error, and that pair carries the group's first error, the one Group.Wait
// would return (an item before the one that failed may have failed only
// because the failure cancelled it); the items behind it are skipped. With
// WithCollectErrors, every item's pair is yielded with its own error. If ctx ends (or the group's context), MapSeq
// stops pulling and skips the items that have not started; their pairs
// carry the context's cause, and if no pair after the cancellation does, a
// last pair (zero value, cause) does, so the consumer can tell "cancelled"
// from "finished".
//
// When the consumer stops early (break), the input ends, or the iteration
// stops for an error or a cancel, the remaining tasks are cancelled and
// skipped, and the range loop ends only after every task it started has
// returned: no task of it runs afterwards, and it leaves no goroutine. in
// is iterated on the goroutine that ranges over MapSeq, never past the item
// the window has room for, and never after the loop ends.
//
// A nil ctx, r or fn makes the sequence yield one pair with ErrNilContext,
// ErrNilRunner or ErrNilTask and end; a nil in yields nothing.
func MapSeq[T, R any](ctx context.Context, r Runner, in iter.Seq[T], fn func(context.Context, T) (R, error), opts ...GroupOption) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		var zero R
		if err := mapCheck(ctx, r, fn == nil); err != nil {
			yield(zero, err)
			return
		}
		if in == nil {
			return
		}
		g := r.Group(ctx, opts...)
		s := &stream[T, R]{
			g:      g,
			fn:     fn,
			yield:  yield,
			window: streamWindow(r, g.cfg),
			wake:   make(chan struct{}, 1),
		}
		g.report = s.finished
		defer func() {
			// However the loop ends (done, stopped, or a panic in the
			// consumer or in in), no task of it runs afterwards.
			g.cancel(errStreamEnded)
			g.Wait()
		}()
		s.run(in)
	}
}

// errStreamEnded is the cause with which a MapSeq cancels its group when
// its loop ends; the tasks it skips then are never yielded.
var errStreamEnded = errors.New("ants: MapSeq loop ended")

// streamWindow returns MapSeq's window for runner r and a group's options:
// WithMaxPending if set, else WithLimit, else r's capacity, else
// 2 × GOMAXPROCS.
func streamWindow(r Runner, cfg groupConfig) int {
	if cfg.maxPending > 0 {
		return cfg.maxPending
	}
	if cfg.limit > 0 {
		return cfg.limit
	}
	if c, ok := r.(interface{ Cap() int }); ok {
		if n := c.Cap(); n > 0 {
			return n
		}
	}
	return 2 * runtime.GOMAXPROCS(0)
}

// stream is the state of one MapSeq loop. The consumer, the goroutine
// ranging over MapSeq, pulls items, launches them and yields their pairs;
// workers fill in values and outcomes, in a ring indexed by the item's
// position in the input.
type stream[T, R any] struct {
	g      *Group
	fn     func(context.Context, T) (R, error)
	yield  func(R, error) bool
	window int
	wake   chan struct{} // wakes the consumer when the item it waits for is done; buffered (1)

	// The consumer's own state.
	pulled  int   // items pulled from the input: the next one's index
	yielded int   // pairs whose yield has returned
	stopped bool  // the consumer stopped, or a pair with an error ended the loop
	lastErr error // the error of the last pair yielded

	mu      sync.Mutex      // guards the fields below
	ring    []streamItem[R] // item i is at i % len(ring), from head to pulled-1; grows up to window
	head    int             // the next item to take for yielding
	waiting bool            // the consumer waits for item head
}

type streamItem[R any] struct {
	val  R
	err  error
	done bool
}

// run pulls, launches and yields until the input ends or the loop stops,
// then yields what is still in flight.
func (s *stream[T, R]) run(in iter.Seq[T]) {
	g := s.g
	if g.ctx.Err() == nil {
		cancelled, ended := false, false
		in(func(item T) bool {
			if ended { // an input that goes on after being told to stop
				return false
			}
			s.launch(item)
			// Before the next pull: a free window slot, and the group
			// still running. Meanwhile yield what is ready.
			for {
				for s.yielded < s.pulled && s.headDone() {
					if !s.emit() {
						ended = true
						return false
					}
				}
				if g.ctx.Err() != nil {
					cancelled, ended = true, true
					return false
				}
				if s.pulled-s.yielded < s.window {
					return true
				}
				if !s.emit() { // waits for the oldest item
					ended = true
					return false
				}
			}
		})
		ended = true
		for !s.stopped && s.yielded < s.pulled {
			s.emit()
		}
		if !cancelled || s.stopped {
			return
		}
	}
	// Pulling stopped because the context ended: make sure a pair says so.
	if cause := context.Cause(g.ctx); s.lastErr == nil || !errors.Is(s.lastErr, cause) {
		var zero R
		s.yield(zero, cause)
	}
}

// launch gives the next item to the group, as the task of its index.
func (s *stream[T, R]) launch(item T) {
	i := s.pulled
	s.pulled++
	s.mu.Lock()
	if i-s.head >= len(s.ring) {
		s.growLocked()
	}
	s.mu.Unlock()
	s.g.launch(i, func(ctx context.Context) error {
		v, err := s.fn(ctx, item)
		if err == nil {
			s.mu.Lock()
			s.ring[i%len(s.ring)].val = v
			s.mu.Unlock()
		}
		return err
	}, true)
}

// growLocked doubles the ring, up to the window, keeping each item in
// flight at its index. mu must be held.
func (s *stream[T, R]) growLocked() {
	n := min(max(2*len(s.ring), 16), s.window)
	ring := make([]streamItem[R], n)
	for i := s.head; i < s.head+len(s.ring); i++ {
		ring[i%n] = s.ring[i%len(s.ring)]
	}
	s.ring = ring
}

// finished is the group's report: item i is done, with err.
func (s *stream[T, R]) finished(i int, err error) {
	s.mu.Lock()
	it := &s.ring[i%len(s.ring)]
	it.err, it.done = err, true
	wake := s.waiting && i == s.head
	if wake {
		s.waiting = false
	}
	s.mu.Unlock()
	if wake {
		s.wake <- struct{}{}
	}
}

// headDone reports whether the oldest item not yet yielded is done.
func (s *stream[T, R]) headDone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ring[s.head%len(s.ring)].done
}

// emit waits for the oldest item not yet yielded and yields its pair. It
// returns false, having set stopped, if the loop must end: the consumer
// stopped, or the pair had an error and errors are not collected.
func (s *stream[T, R]) emit() bool {
	s.mu.Lock()
	for !s.ring[s.head%len(s.ring)].done {
		s.waiting = true
		s.mu.Unlock()
		if s.g.track {
			s.g.settle(s.wake) // from a task of the same pool, runs the items not started itself
		} else {
			<-s.wake
		}
		s.mu.Lock()
	}
	it := &s.ring[s.head%len(s.ring)]
	v, err := it.val, it.err
	*it = streamItem[R]{}
	s.head++
	s.mu.Unlock()

	if err != nil && !s.g.cfg.collect {
		// The pair that ends the loop carries the group's first error, the
		// one Wait would return: this item may only have failed because
		// that error cancelled it (context.Canceled, or the skip cause).
		s.g.mu.Lock()
		if s.g.err != nil {
			err = s.g.err
		}
		s.g.mu.Unlock()
	}
	s.lastErr = err
	more := s.yield(v, err)
	s.yielded++
	if !more || (err != nil && !s.g.cfg.collect) {
		s.stopped = true
		return false
	}
	return true
}
