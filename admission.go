package ants

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
)

// Admission: how a pool takes a task.
//
// Every task of every pool type and multi-pool enters through admit (or
// post, for a Group retry): Submit, SubmitCtx, Invoke, InvokeCtx, the Try
// forms and Group tasks. admit first tries to place the task now: on an
// idle worker, on a new worker while the pool has room, or, in queue mode
// (WithQueueSize), in the pool's queue while it has room. When the task
// cannot be placed, the call's overflow policy decides what happens to it:
// it waits in the line (the default), or is refused with ErrPoolOverload
// (WithNonblocking, and the Try forms).
//
// How a task placed on an idle worker reaches it is the pool's strategy:
// handed to it (the default), or queued, the worker woken to take the
// oldest queued task (queue mode).
//
// The line holds the tasks that could not be placed, oldest first, each
// with the caller that waits for it (or, for a posted Group retry, with
// nobody). Whenever a place frees up — a worker's task returns, a worker
// exits, Tune grows the pool, a queued task starts — the pool places the
// oldest task in line. A worker whose task returns takes its next task
// itself, the oldest queued one or else the oldest in line, so a busy pool
// hands tasks over without parking the worker.
//
// Invariants, under the pool's mu: a worker is idle only while the line is
// empty and a worker is coming for every queued task (queue.Len() <=
// waking); a task is queued for no worker only while none is idle and the
// pool has no room; a task waits in line only while, in addition, the queue
// is full. So a task that arrives never overtakes one that waits.

// overflow is what admit does with a task it cannot place now.
type overflow uint8

const (
	// overflowWait puts the task in line, with its caller, who waits until
	// it is placed, ctx is done or the pool is released (Submit, SubmitCtx,
	// Group.Go). MaxBlockingTasks bounds the callers that wait: past it,
	// ErrPoolOverload.
	overflowWait overflow = iota
	// overflowRefuse returns ErrPoolOverload at once (WithNonblocking, and
	// TrySubmit, TryInvoke and Group.TryGo whatever the options).
	overflowRefuse
	// overflowPost puts the task in line with nobody waiting for it, to be
	// placed when a place frees up (post: a Group retry).
	overflowPost
	// overflowRun runs the task on the caller's goroutine, and returns once
	// it has returned (WithCallerRuns). A call that would wait, made with
	// the context of one of the pool's own tasks, does the same (see
	// taskContext): its caller holds a worker, and waiting for another
	// could wait for ever.
	overflowRun
)

// errRunHere is place's answer to a task the caller must run itself
// (overflowRun).
var errRunHere = errors.New("ants: run the task on the caller")

// site is where admit places tasks: one pool (core), or the sub-pools of a
// multi-pool, which share one line.
type site[T any] interface {
	IsClosed() bool
	// place places arg now if the site can (see core.place). If it cannot,
	// it puts arg in line, by how (overflowWait, overflowPost), and returns
	// its waiter; or returns neither (overflowRefuse, or ErrPoolOverload
	// past MaxBlockingTasks), or errRunHere (overflowRun, or overflowWait
	// with a ctx of one of the site's own tasks). It returns ErrPoolClosed
	// on a released pool.
	place(arg T, refuse func(error), how overflow, ctx context.Context) (placed bool, wt *waiter[T], err error)
	// runHere runs arg on the calling goroutine (see core.inline).
	runHere(arg T)
	line() *line[T]
	// owner is the site itself (a *core or *multiPool, whatever type
	// embeds it), as the taskContexts of its tasks name it.
	owner() any
	// interceptor is the site's Interceptor, or nil.
	interceptor() Interceptor
	// overflow is what a submit does, by the site's options, with a task
	// it cannot place now.
	overflow() overflow
	// tally counts a refused or cancelled submit in Stats.
	tally(err error) error
}

// admit admits arg to s and returns nil once arg is placed: handed to a
// worker, or queued. If it cannot be placed now, how decides: wait in line
// until it is placed, ctx is done (a ctx whose Done is nil waits without
// limit), or the pool is released; refuse; or run arg on the calling
// goroutine, and return nil once it has returned. A call that would wait,
// made with the context of one of the pool's own tasks (a taskContext of
// this site), runs arg on the calling goroutine too. Otherwise arg is not
// run and admit returns ErrPoolClosed, ErrPoolOverload or ctx.Err(), and
// leaves no trace. Refusals are counted in the site's Stats.
func admit[T any](s site[T], ctx context.Context, arg T, how overflow) error {
	placed, wt, err := s.place(arg, nil, how, ctx)
	switch {
	case err == errRunHere:
		s.runHere(arg)
		return nil
	case placed || err != nil:
		return s.tally(err)
	case wt == nil:
		return s.tally(ErrPoolOverload)
	}
	return s.tally(s.line().wait(ctx, wt))
}

// runsHere resolves how, for a task that cannot be placed now, with the
// call's ctx: a call that would wait, made with the context of one of the
// site's own tasks, runs the task instead.
func runsHere(how overflow, ctx context.Context, s any) bool {
	return how == overflowRun || how == overflowWait && ctx != nil && ctx.Value(ownerKey{}) == s
}

// post admits arg, a task already accepted once (a Group retry), without
// ever blocking, so a timer's callback may call it: arg is placed now, or
// else it joins the line, behind the callers already waiting, whatever
// Nonblocking and MaxBlockingTasks say (they bound callers, not tasks
// already accepted).
//
// post returns ErrPoolClosed on a released pool. Otherwise, if the pool is
// released while arg is in line or in the queue, refuse is called with
// ErrPoolClosed, outside the pool's locks, and arg never runs. withdraw
// takes arg out of the line and reports whether it was still there (false
// once it is placed or refused).
func post[T any](s site[T], arg T, refuse func(error)) (withdraw func() bool, err error) {
	placed, wt, err := s.place(arg, refuse, overflowPost, nil)
	if placed || err != nil {
		return noWithdraw, err
	}
	l := s.line()
	return func() bool { return l.leave(wt) }, nil
}

func noWithdraw() bool { return false }

// place places arg now if the pool can: on an idle worker, on a new worker
// while the pool has room, or in the queue while it has room; never while
// a task waits in line ahead of it. Otherwise it puts arg in line, as how
// says, under the same lock, so no place can free up unseen. refuse is a
// posted task's (see post). A posted task counts as submitted when a
// worker takes it, any other when it is placed.
//
// Before it starts a worker beside busy ones, place releases mu and yields
// the processor once: workers whose tasks have just returned run first and
// may come back idle. Under load this keeps the number of workers near what
// the work needs (1e6 tasks that sleep 10 ms, capacity 50,000: about 13,000
// workers where ants v2 starts 20,000, with less memory and a shorter wall
// time); it costs one yield per new worker, never one per task, and none
// while an idle worker is at hand or the pool has no worker at all.
func (p *core[T]) place(arg T, refuse func(error), how overflow, ctx context.Context) (bool, *waiter[T], error) {
	p.mu.Lock()
	w, msg, placed, err := p.placeLocked(arg, refuse, true)
	if placed || err != nil {
		p.mu.Unlock()
		if w != nil {
			w.ch <- msg
		}
		return placed, nil, err
	}
	if runsHere(how, ctx, p) {
		p.mu.Unlock()
		return false, nil, errRunHere
	}
	wt, err := p.waiters.add(arg, refuse, how, nil, p.clock())
	p.mu.Unlock()
	return false, wt, err
}

// runHere runs arg on the calling goroutine; see inline.
func (p *core[T]) runHere(arg T) { p.inline(func() outcome { return p.call(arg, 0) }) }

// offer is place without the line, with the queue only if queueToo: a
// multi-pool first looks for a sub-pool whose worker can take the task at
// once.
func (p *core[T]) offer(arg T, refuse func(error), queueToo bool) (bool, error) {
	p.mu.Lock()
	w, msg, placed, err := p.placeLocked(arg, refuse, queueToo)
	p.mu.Unlock()
	if w != nil {
		w.ch <- msg
	}
	return placed, err
}

// placeLocked places arg if it can, as place says, and returns the idle
// worker to send msg to once mu is released, if it took one. mu must be
// held; placeLocked may release it to yield, and holds it again when it
// returns.
func (p *core[T]) placeLocked(arg T, refuse func(error), queueToo bool) (w *worker[T], msg T, placed bool, err error) {
	for yielded := false; ; yielded = true {
		if p.state.Load() == CLOSED {
			return nil, msg, false, ErrPoolClosed
		}
		// While a task waits in line, no worker is idle and there is no
		// room (see the invariants above): only the queue needs the check.
		var ok bool
		if w, ok = p.idle.Pop(); ok {
			return w, p.how.handLocked(p, w, arg, refuse, p.stamp(), 0), true, nil
		}
		if !p.hasRoomLocked() {
			placed = queueToo && p.queue.Len()-p.waking < p.opts.QueueSize && p.waiters.len() == 0 &&
				p.queueLocked(arg, refuse, p.stamp())
			return nil, msg, placed, nil
		}
		if yielded || p.running.Load() == 0 {
			p.submitted++
			p.startLocked(arg, 0, 0)
			return nil, msg, true, nil
		}
		p.mu.Unlock()
		runtime.Gosched()
		p.mu.Lock()
	}
}

// stamp returns the time a task placed now starts waiting, if it may wait
// and its wait is timed: only in queue mode, and only with a task
// observer, which needs it (two clock reads, some 40 ns each on a small VM,
// cost more than a queue's whole hand-over). 0 means not timed.
func (p *core[T]) stamp() int64 {
	if p.timeQueued {
		return nanotime()
	}
	return 0
}

// clock returns the time a task that joins the line now starts waiting,
// if its wait is timed: always in the default mode, where its caller parks
// anyway; in queue mode, where a producer that keeps the queue full parks
// for nearly every task, only with a task observer. 0 means not timed.
func (p *core[T]) clock() int64 {
	if p.opts.QueueSize == 0 || p.timeQueued {
		return nanotime()
	}
	return 0
}

// queueLocked puts arg, which has waited since since, at the back of the
// queue, and reports true. mu must be held.
func (p *core[T]) queueLocked(arg T, refuse func(error), since int64) bool {
	p.queue.Push(queued[T]{arg: arg, since: since, refuse: refuse})
	if refuse == nil {
		p.submitted++
	}
	return true
}

// A strategy is how a pool gives a task to an idle worker, and what the
// worker does when it is woken: the one thing in which queue mode differs
// from the default. New chooses one from the options.
type strategy[T any] interface {
	// handLocked places arg, a task that has waited since since (0: not
	// timed; its wait counts up to now, read here if 0), on w, an idle
	// worker taken off the idle list, and returns what the caller sends w
	// once it has released mu. refuse is a posted task's. mu must be held.
	handLocked(p *core[T], w *worker[T], arg T, refuse func(error), since, now int64) (msg T)
	// woken is what w, idle, does with msg, which it has just received:
	// the task to run, or stepIdle or stepExit (see next).
	woken(p *core[T], w *worker[T], msg T) (T, step)
}

// handOff is the default strategy: a task goes straight to the idle
// worker, which runs it when it wakes.
type handOff[T any] struct{}

func (handOff[T]) handLocked(p *core[T], w *worker[T], arg T, _ func(error), since, now int64) T {
	p.submitted++
	if since != 0 { // else w's fields stay 0: w is not written, its cache line not taken
		w.wait, w.start = p.waitedLocked(since, now)
	}
	return arg
}

func (handOff[T]) woken(_ *core[T], _ *worker[T], msg T) (T, step) { return msg, stepRun }

// queueing is queue mode's strategy (WithQueueSize): every task an idle
// worker is woken for goes to the back of the queue, and the woken worker
// takes the oldest, as every worker does when its task returns. A task is
// never bound to a worker before that worker runs, so tasks start in the
// order they were submitted whichever goroutine the scheduler runs first,
// and a worker that frees up takes the next task without waiting for the
// one woken for it.
type queueing[T any] struct{}

func (queueing[T]) handLocked(p *core[T], w *worker[T], arg T, refuse func(error), since, _ int64) T {
	p.queueLocked(arg, refuse, since)
	p.waking++
	var wake T // a queue-mode worker reads whatever it receives as a wake-up
	return wake
}

func (queueing[T]) woken(p *core[T], w *worker[T], _ T) (T, step) {
	return p.next(w, ended{woke: true})
}

// waitedLocked counts the wait of a task that has waited since since (0:
// not timed) and starts now (read here if 0), and returns the wait and the
// start for its worker's observer. mu must be held.
func (p *core[T]) waitedLocked(since, now int64) (wait, start int64) {
	if since == 0 {
		return 0, 0
	}
	if now == 0 {
		now = nanotime()
	}
	p.waitTotal += now - since
	return now - since, now
}

// canPlaceLocked reports whether a task could be placed now: on an idle
// worker, a new one, or in the queue. mu must be held.
func (p *core[T]) canPlaceLocked() bool {
	return p.idle.Len() > 0 || p.hasRoomLocked() || p.queue.Len()-p.waking < p.opts.QueueSize
}

// serve places the oldest tasks in line wherever p has room; see site.
func (p *core[T]) serve() (open bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() == CLOSED {
		return false
	}
	p.serveLineLocked(0)
	return true
}

// serveLineLocked places the oldest tasks in line while p can take them,
// counting their waits up to now (read here if 0): each is given to an
// idle worker, or to a new one, or queued, and its caller told. mu must be
// held.
func (p *core[T]) serveLineLocked(now int64) {
	for p.waiters.len() > 0 && p.canPlaceLocked() {
		wt := p.waiters.pop()
		if wt == nil {
			return
		}
		arg, since, refuse := p.waiters.take(wt) // wt's caller may reuse it from here on
		if now == 0 && since != 0 {
			now = nanotime()
		}
		if w, ok := p.idle.Pop(); ok {
			w.ch <- p.how.handLocked(p, w, arg, refuse, since, now) // w is idle: its buffer is empty, the send never blocks
		} else if p.hasRoomLocked() {
			p.submitted++
			p.startLocked(arg, since, now)
		} else {
			p.queueLocked(arg, refuse, since)
		}
	}
}

// fillLocked gives the room p has — after Tune grew it, or a worker
// exited — to the queued tasks no worker is coming for first, each on a
// new worker, then to the tasks in line. Queued tasks are accepted: they
// start even on a released pool. mu must be held.
func (p *core[T]) fillLocked() {
	var now int64
	for p.queue.Len() > p.waking && p.hasRoomLocked() {
		q, _ := p.queue.Pop()
		if q.refuse != nil {
			p.submitted++ // a posted task counts when it starts
		}
		if q.since != 0 && now == 0 {
			now = nanotime()
		}
		p.startLocked(q.arg, q.since, now)
	}
	p.serveLineLocked(now)
}

// next finds w, whose task has just returned (or which was woken for a
// queued task, as e tells), its next task: the oldest queued one, or else
// the oldest in line, which next returns with stepRun (or stepYield, for a
// task whose caller waits in line). Otherwise w goes idle (stepIdle), or
// must exit (stepExit): the pool has more workers than its (tuned)
// capacity, or is released and its queue is empty; next has then counted
// it out. A worker woken for a queued task takes one even above capacity.
func (p *core[T]) next(w *worker[T], e ended) (T, step) {
	var zero T
	p.mu.Lock()
	p.countLocked(e)
	if c := p.capacity.Load(); !e.woke && c >= 0 && p.running.Load() > c {
		p.exitLocked()
		p.mu.Unlock()
		return zero, stepExit
	}
	if p.queue.Len() > 0 {
		q, _ := p.queue.Pop()
		if q.refuse != nil {
			p.submitted++ // a posted task counts when it starts
		}
		if q.since != 0 {
			w.wait, w.start = p.waitedLocked(q.since, e.now)
		}
		if p.waiters.len() > 0 {
			p.serveLineLocked(e.now) // the oldest in line moves into the room q left
		}
		p.mu.Unlock()
		return q.arg, stepRun
	}
	if wt := p.waiters.pop(); wt != nil {
		caller := wt.ch != nil
		arg, since, _ := p.waiters.take(wt)
		p.submitted++
		if since != 0 {
			w.wait, w.start = p.waitedLocked(since, e.now)
		}
		p.mu.Unlock()
		if caller {
			// The caller is now ready to run on this processor: yield it
			// once before the task, so that it brings its next task while
			// this one runs. Without it, a lone submitter starves behind
			// workers that never park (CPU-bound tasks at capacity
			// GOMAXPROCS ran 1.45 times slower).
			return arg, stepYield
		}
		return arg, stepRun
	}
	if p.state.Load() == CLOSED {
		p.exitLocked()
		p.mu.Unlock()
		return zero, stepExit
	}
	if len(p.siblings) > 0 && !e.stole {
		// Before going idle, a queue-mode sub-pool's worker takes a task
		// queued in another sub-pool, behind a busy worker, that no worker
		// is coming for; then it asks again.
		p.mu.Unlock()
		if arg, ok := p.steal(); ok {
			return arg, stepRun
		}
		return p.next(w, ended{stole: true}) // nothing to count this time
	}
	w.lastUsed = p.now
	p.idle.Push(w) // cannot fail: the ring holds Cap workers
	p.mu.Unlock()
	return zero, stepIdle
}

// steal takes, for a worker of p about to go idle, the oldest task queued
// in another sub-pool of p's multi-pool that no worker is coming for, and
// counts it there as if that sub-pool's worker had taken it; false if
// there is none. p.mu must not be held.
func (p *core[T]) steal() (T, bool) {
	for _, s := range p.siblings {
		s.mu.Lock()
		if s.queue.Len() > s.waking {
			q, _ := s.queue.Pop()
			if q.refuse != nil {
				s.submitted++ // a posted task counts when it starts
			}
			s.waitedLocked(q.since, 0)
			if s.waiters.len() > 0 {
				s.serveLineLocked(0)
			}
			s.mu.Unlock()
			return q.arg, true
		}
		s.mu.Unlock()
	}
	var zero T
	return zero, false
}

// What next tells a worker to do.
type step uint8

const (
	stepRun   step = iota // run the task next returned
	stepYield             // yield the processor once, then run the task next returned
	stepIdle              // wait, idle, for a task (or a wake-up) on its channel
	stepExit              // exit
)

// queued is a task in a pool's queue: accepted, not yet started.
type queued[T any] struct {
	arg    T
	since  int64       // nanotime when it began to wait; 0: not timed
	refuse func(error) // a posted task's (a Group retry): refused, not run, if the pool is released first
}

// line is the line of a pool: the tasks that could not be placed, oldest
// first, each with the caller that waits for it, or posted (see post). A
// pool owns its line; the sub-pools of a MultiPool share one, so whichever
// sub-pool frees a place first takes the oldest task of them all.
//
// Lock order: core.mu, then line.mu. A task leaves the line only under both
// locks of the pool that places it; it joins under line.mu alone, and then
// calls serve (see admit), so no place stays free while it waits.
type line[T any] struct {
	n          atomic.Int32 // waiters in line, callers and posted tasks; written under mu
	callers    atomic.Int32 // the blocked callers among them (Waiting); written under mu
	maxWaiters int          // callers that may wait at once; 0: no limit (MaxBlockingTasks)

	mu         sync.Mutex // guards the list and every waiter's fields below arg
	head, tail *waiter[T]

	cache sync.Pool // of *waiter[T] for blocked callers; see newCaller
}

// waiter is one task in a line. Whoever takes it off the line answers it
// exactly once: a caller is sent nil once its task is placed, or
// ErrPoolClosed; a posted task is placed, or refused.
type waiter[T any] struct {
	arg    T
	ch     chan error    // a blocked caller's, buffered (1); nil for a posted task
	refuse func(error)   // a posted task's: called, outside the locks, if the pool is released first
	count  *atomic.Int32 // counts a caller while it is in line, if not nil (MultiPool.WaitingByIndex)
	since  int64         // nanotime when it joined the line; 0 if its wait is not timed

	// Guarded by line.mu.
	prev, next *waiter[T]
	inLine     bool
}

// len returns the number of tasks in line, callers' and posted. It may be
// called without mu: an empty line costs one atomic load, so a worker
// coming back takes no second lock when nobody waits.
func (l *line[T]) len() int { return int(l.n.Load()) }

// waiting returns the number of blocked callers in line (Waiting). It may
// be called without mu.
func (l *line[T]) waiting() int { return int(l.callers.Load()) }

func (l *line[T]) pushBackLocked(wt *waiter[T]) {
	wt.prev, wt.next, wt.inLine = l.tail, nil, true
	if l.tail != nil {
		l.tail.next = wt
	} else {
		l.head = wt
	}
	l.tail = wt
	l.countLocked(wt, 1)
}

func (l *line[T]) removeLocked(wt *waiter[T]) {
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
	wt.prev, wt.next, wt.inLine = nil, nil, false
	l.countLocked(wt, -1)
}

// countLocked adds d to the counters wt belongs to. mu must be held.
func (l *line[T]) countLocked(wt *waiter[T], d int32) {
	l.n.Add(d)
	if wt.ch == nil {
		return // a posted task
	}
	l.callers.Add(d)
	if wt.count != nil {
		wt.count.Add(d)
	}
}

// pop takes the oldest waiter off the line, or returns nil. The caller must
// take its task (take) and place it.
func (l *line[T]) pop() *waiter[T] {
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

// take returns the task of wt, just popped, and tells its caller that the
// task is placed. From then on wt belongs to its caller again, which may
// reuse it: take reads it first.
func (l *line[T]) take(wt *waiter[T]) (arg T, since int64, refuse func(error)) {
	arg, since, refuse = wt.arg, wt.since, wt.refuse
	if wt.ch != nil {
		wt.ch <- nil // buffered, and nothing else is sent: it never blocks
	}
	return arg, since, refuse
}

// add puts arg at the end of the line, as how says, and returns its
// waiter: a caller's, which the caller then waits on (overflowWait), or a
// posted task's (overflowPost); or nil for overflowRefuse. A caller may
// not join past MaxBlockingTasks callers: add then returns
// ErrPoolOverload. count, if not nil, counts the caller while it is in
// line; since is when it joins (0: not timed).
func (l *line[T]) add(arg T, refuse func(error), how overflow, count *atomic.Int32, since int64) (*waiter[T], error) {
	var wt *waiter[T]
	switch how {
	case overflowWait:
		wt = l.newCaller(arg, count, since)
	case overflowPost:
		wt = &waiter[T]{arg: arg, refuse: refuse, since: since}
	default:
		return nil, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if wt.ch != nil && l.maxWaiters > 0 && l.waiting() >= l.maxWaiters {
		l.recycle(wt)
		return nil, ErrPoolOverload
	}
	l.pushBackLocked(wt)
	return wt, nil
}

// leave takes wt out of the line and reports whether it was still there
// (false once it has been placed or refused).
func (l *line[T]) leave(wt *waiter[T]) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !wt.inLine {
		return false
	}
	l.removeLocked(wt)
	return true
}

// newCaller returns a waiter for a caller of a submit of arg, not yet in
// line, with an empty channel. Callers' waiters are recycled, so a caller
// that has to wait does not allocate in steady state.
func (l *line[T]) newCaller(arg T, count *atomic.Int32, since int64) *waiter[T] {
	wt, ok := l.cache.Get().(*waiter[T])
	if !ok {
		wt = &waiter[T]{ch: make(chan error, 1)}
	}
	wt.arg, wt.count, wt.since = arg, count, since
	return wt
}

// recycle puts back a caller's waiter, off the line with its channel
// drained, keeping nothing of its task.
func (l *line[T]) recycle(wt *waiter[T]) {
	var zero T
	wt.arg, wt.count = zero, nil
	l.cache.Put(wt)
}

// wait blocks the caller that wt stands for, in line, until its task is
// placed (nil), the pool is released (ErrPoolClosed), or ctx is done
// (ctx.Err(); a ctx whose Done is nil waits without limit). If the task is
// placed just as ctx ends, it was accepted and will run: wait returns nil.
func (l *line[T]) wait(ctx context.Context, wt *waiter[T]) error {
	done := ctx.Done()
	if done == nil { // no way out but a place or Release: a plain receive is cheaper
		err := <-wt.ch
		l.recycle(wt)
		return err
	}
	var err error
	select {
	case err = <-wt.ch:
	case <-done:
		if l.leave(wt) {
			err = ctx.Err()
		} else {
			err = <-wt.ch // answered as ctx ended
		}
	}
	l.recycle(wt)
	return err
}

// closeAll takes every task off the line as the pool is released:
// callers are sent ErrPoolClosed; the posted tasks' refusals are returned,
// to be called once the caller holds no lock.
func (l *line[T]) closeAll() (refused []func(error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for wt := l.head; wt != nil; wt = l.head {
		l.removeLocked(wt)
		if wt.ch != nil {
			wt.ch <- ErrPoolClosed
		} else {
			refused = append(refused, wt.refuse)
		}
	}
	return refused
}
