package ants

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/antspool/ants/queue"
)

// Pool runs closures on a bounded set of reused worker goroutines.
//
// Submit and SubmitCtx hand a task to an idle worker, start a new worker
// while fewer than Cap are alive, or else wait for one to free up: callers
// that wait are served first-come first-served. In queue mode
// (WithQueueSize), a task that finds every worker busy is queued instead,
// and the submit returns at once while the queue has room. Before it starts a worker
// beside busy ones, a submit yields the processor once (runtime.Gosched),
// so that workers whose tasks have just returned are reused instead: under
// load the pool stays near the number of workers its work needs. Workers
// idle for longer than the expiry duration exit (see WithExpiryDuration).
//
// A task that panics does not crash the program: the panic goes to the
// PanicHandler, or is logged with its stack, and the worker's slot is freed
// for the next task (the goroutine that panicked exits, as in ants v2).
//
// All methods are safe for concurrent use. The zero Pool is not usable;
// create one with NewPool. A Pool must not be copied. After Release, a Pool
// accepts no task until Reboot.
type Pool struct {
	core[func()]
}

// NewPool returns a pool of at most size workers, configured by options.
// A size <= 0 means no limit (Cap returns -1). No goroutine starts until
// the first task is submitted.
//
// NewPool returns ErrInvalidPoolExpiry for a negative expiry duration
// (unless purging is disabled), ErrInvalidPreAllocSize for WithPreAlloc
// with size <= 0, and ErrInvalidMaxBlockingTasks for a negative
// MaxBlockingTasks.
func NewPool(size int, options ...Option) (*Pool, error) {
	p := new(Pool)
	if err := p.init(size, callTask, options); err != nil {
		return nil, err
	}
	return p, nil
}

func callTask(task func()) { task() }

// Submit runs task on a pool worker. If no worker is free and the pool is
// at capacity, Submit waits until one is, or until the pool is released.
//
// Submit returns nil once a worker has accepted task. Otherwise task does
// not run, and Submit returns ErrPoolClosed after Release, ErrPoolOverload
// when the pool may not wait (WithNonblocking, WithMaxBlockingTasks), or
// ErrNilTask for a nil task on an open pool.
//
// Submit cannot be cancelled; use SubmitCtx to bound the wait. A task that
// submits to its own full pool waits for a worker only it can free.
func (p *Pool) Submit(task func()) error { return submitTask(&p.core, task) }

// TrySubmit runs task on a pool worker if one is free, or can be started,
// right now, or, in queue mode, queues it if the queue has room; it never
// waits. It returns nil once task is accepted, or else, without running
// task, ErrPoolOverload when every worker is busy and the pool is at
// capacity (and the queue full), ErrPoolClosed after Release (checked
// first), or ErrNilTask for a nil task. TrySubmit does not join the line
// of waiting callers, whatever WithNonblocking and WithMaxBlockingTasks
// say.
func (p *Pool) TrySubmit(task func()) error { return trySubmitTask(&p.core, task) }

// core is the one pool implementation behind Pool, PoolWithFunc and
// PoolWithFuncGeneric: a submit hands a worker a T, and the worker calls
// run with it. Pool's T is the task itself; a func pool's T is the argument
// of its bound function.
//
// Invariant, under mu: while any caller waits, no worker is idle and no
// slot is free (running >= capacity). Every change that could break it —
// a worker coming back, a worker exiting, Tune growing the pool — serves
// the oldest waiter first, so a new caller never overtakes a waiting one.
type core[T any] struct {
	capacity atomic.Int32 // most workers alive at once; -1 means no limit. Written under mu.
	running  atomic.Int32 // worker goroutines alive, busy or idle (ants' meaning). Written under mu.
	state    atomic.Int32 // OPENED or CLOSED. Written under mu.

	// Counters of Stats that no lock covers: rejected and canceled, on
	// paths that fail; submitted, on a cache line of its own, by the
	// submitters as they hand a task over (sharing the line of mu, it made
	// every hand-over measurably slower).
	rejected, canceled atomic.Uint64
	_                  [64]byte
	submitted          atomic.Uint64
	_                  [56]byte
	// timing turns on the clock reads that time the waits (Stats.WaitTime,
	// TaskInfo.Wait): set by the first Stats call, or by a task observer.
	// Until then a task that waits costs no clock read.
	timing atomic.Bool

	mu       sync.Mutex              // guards the fields below; taken after a groupTask's mu, before line.mu
	idle     idleQueue[T]            // idle workers, oldest first
	epoch    *epoch                  // the current run; replaced by Reboot
	now      time.Time               // coarse clock for idle stamps: the purger's latest tick
	purging  bool                    // a purge goroutine of this epoch is running
	sleeping map[*groupTask]struct{} // Group retries waiting out a delay in this epoch; Release ends them

	// Counters of Stats kept by the workers as they come back (putBack,
	// retire), under the lock they take anyway.
	completed, panicked uint64
	queuedTotal         uint64 // tasks accepted into the queue (Stats.Submitted adds the atomic submitted)
	waitTotal           int64  // nanoseconds waited by the tasks handed over from the line
	stopping            int    // workers told to exit (channel closed) that have not yet: not Busy

	// Queue mode (QueueSize > 0): every task goes through the queue, and
	// workers take the oldest. Invariant, under mu: while more tasks are
	// queued than workers are waking for them, no worker is idle and no
	// slot is free; while a caller waits, the queue is full. See
	// queuemode.go.
	queue  queue.FIFO[queued[T]] // accepted tasks not yet started, and Group retries; guarded by mu
	waking int                   // workers woken or started for queued tasks that have not taken one yet; guarded by mu

	line   *waitLine[T] // callers and posted tasks waiting for a worker; shared by a MultiPool's sub-pools
	run    func(T)      // what a worker does with what it is handed; set once by init
	opts   Options      // validated; set once by init
	mark   *worker[T]   // no goroutine: what a queue-mode caller is sent once its task is queued
	queued bool         // QueueSize > 0: queue mode; set once by init
}

// idleQueue is what queue.Stack and queue.Ring have in common.
type idleQueue[T any] interface {
	Len() int
	Push(*worker[T]) bool
	Pop() (*worker[T], bool)
	Expire(cutoff time.Time) []*worker[T]
	Drain() []*worker[T]
}

// init validates the options and readies p. It starts no goroutine.
func (p *core[T]) init(size int, run func(T), options []Option) error {
	opts := loadOptions(options)
	if !opts.DisablePurge {
		if opts.ExpiryDuration < 0 {
			return ErrInvalidPoolExpiry
		}
		if opts.ExpiryDuration == 0 {
			opts.ExpiryDuration = DefaultCleanIntervalTime
		}
	}
	if opts.MaxBlockingTasks < 0 {
		return ErrInvalidMaxBlockingTasks
	}
	if opts.QueueSize < 0 {
		return ErrInvalidQueueSize
	}
	if opts.Logger == nil {
		opts.Logger = defaultLogger
	}
	capacity := clampCapacity(size)
	if opts.PreAlloc {
		if capacity < 0 {
			return ErrInvalidPreAllocSize
		}
		p.idle = queue.NewRing[*worker[T]](int(capacity))
	} else {
		p.idle = new(queue.Stack[*worker[T]])
	}
	p.capacity.Store(capacity)
	p.line = &waitLine[T]{maxWaiters: opts.MaxBlockingTasks}
	p.run = run
	p.opts = *opts
	p.timing.Store(opts.TaskObserver != nil)
	p.mark = &worker[T]{pool: p}
	p.queued = opts.QueueSize > 0
	p.epoch = newEpoch()
	return nil
}

// clampCapacity maps a requested size to a capacity: -1 for no limit, and
// at most math.MaxInt32 (DefaultAntsPoolSize).
func clampCapacity(size int) int32 {
	switch {
	case size <= 0:
		return -1
	case size > math.MaxInt32:
		return math.MaxInt32
	}
	return int32(size)
}

// Running returns the number of worker goroutines alive, busy or idle (as
// in ants v2: an idle worker counts until it expires or the pool is
// released).
func (p *core[T]) Running() int { return int(p.running.Load()) }

// Free returns Cap() - Running(), the number of workers that may still be
// started, or -1 if the pool has no limit.
func (p *core[T]) Free() int {
	c := p.capacity.Load()
	if c < 0 {
		return -1
	}
	return int(c - p.running.Load())
}

// Cap returns the pool's capacity, or -1 if it has no limit.
func (p *core[T]) Cap() int { return int(p.capacity.Load()) }

// Waiting returns the number of callers blocked in a submit, waiting for a
// worker. Group retries waiting for a worker are not callers and are not
// counted.
func (p *core[T]) Waiting() int { return p.line.waiting() }

// IsClosed reports whether the pool has been released (and not rebooted).
func (p *core[T]) IsClosed() bool { return p.state.Load() == CLOSED }

// Tune changes the capacity to size. Growing the pool starts workers for
// the callers waiting at once, oldest first. Shrinking it stops no running
// task: workers above the new capacity exit as their tasks finish.
//
// Tune does nothing if size <= 0, on a pool without a limit, or on a pool
// created WithPreAlloc (whose queue cannot grow), as in ants. A size above
// math.MaxInt32 is taken as math.MaxInt32. Tune is safe at any time.
func (p *core[T]) Tune(size int) {
	if size <= 0 || p.opts.PreAlloc {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.capacity.Load() < 0 {
		return
	}
	p.capacity.Store(clampCapacity(size))
	p.serveWaitersLocked()
}

// Release closes the pool. In order, it
//   - makes every later submit return ErrPoolClosed;
//   - wakes every caller waiting for a worker (or, in queue mode, for room
//     in the queue) with ErrPoolClosed;
//   - ends with ErrPoolClosed every Group retry waiting for a worker or
//     for its delay (its timer is stopped, and it never runs again);
//   - stops the idle workers and the purge goroutine;
//   - lets running tasks finish, and, in queue mode, the queued tasks run:
//     the workers exit once the queue is empty.
//
// Release does not wait; ReleaseContext does. Calling it on a released pool
// does nothing. Reboot opens the pool again.
func (p *core[T]) Release() { p.close() }

// close does Release's work. It returns the epoch that ended, or nil if the
// pool was already closed.
func (p *core[T]) close() *epoch {
	p.mu.Lock()
	if p.state.Load() == CLOSED {
		p.mu.Unlock()
		return nil
	}
	p.state.Store(CLOSED)
	for _, w := range p.idle.Drain() {
		p.stopLocked(w)
	}
	refused := p.line.closeAll()
	// Accepted tasks stay queued, for the busy workers to drain; the Group
	// retries among them are not acceptances and are refused.
	retries := p.queue.Remove(func(q queued[T]) bool { return q.refuse != nil })
	sleeping := p.sleeping
	p.sleeping = nil
	e := p.epoch
	close(e.stop)
	p.mu.Unlock()
	for _, wt := range refused {
		wt.refuse(ErrPoolClosed)
	}
	for _, q := range retries {
		q.refuse(ErrPoolClosed)
	}
	for t := range sleeping {
		t.closed()
	}
	e.exit() // drop the open pool's reference
	return e
}

// Reboot reopens a released pool. It first waits, without a time limit, for
// every goroutine of the previous run to exit (workers still running tasks
// included, as ants v2.12.1 does), so the capacity is never exceeded; use
// ReleaseContext before Reboot to bound that wait. Reboot does nothing on an
// open pool, and concurrent Reboots open the pool once.
func (p *core[T]) Reboot() {
	p.mu.Lock()
	if p.state.Load() != CLOSED {
		p.mu.Unlock()
		return
	}
	e := p.epoch
	p.mu.Unlock()

	<-e.done

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() == CLOSED && p.epoch == e {
		p.epoch = newEpoch()
		p.purging = false
		p.state.Store(OPENED)
	}
}

// closedRunDone returns, on a released pool, a channel closed once every
// goroutine of its last run has exited; nil on an open pool.
func (p *core[T]) closedRunDone() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() != CLOSED {
		return nil
	}
	return p.epoch.done
}

// hasRoomLocked reports whether another worker may start.
func (p *core[T]) hasRoomLocked() bool {
	c := p.capacity.Load()
	return c < 0 || p.running.Load() < c
}

// spawnLocked starts a new worker goroutine, waiting for its first task,
// and the purger if it is not running.
func (p *core[T]) spawnLocked() *worker[T] {
	w := &worker[T]{ch: make(chan T, 1), pool: p}
	p.running.Add(1)
	e := p.epoch
	e.enter()
	go p.work(w, e)
	if !p.opts.DisablePurge && !p.purging {
		p.purging = true
		p.now = time.Now()
		e.enter()
		go p.purge(e)
	}
	return w
}

// serveWaitersLocked starts workers for the oldest waiters while there is
// room. Only freed room matters here: a waiter exists only while no worker
// is idle.
//
// In queue mode it starts workers for the queued tasks no worker is coming
// for, and admits waiters into the queue.
func (p *core[T]) serveWaitersLocked() {
	if p.queued {
		for p.startForQueueLocked() {
		}
		p.admitLocked()
		return
	}
	var now int64 // read once for all the timed tasks served here
	for p.hasRoomLocked() {
		wt := p.line.pop()
		if wt == nil {
			return
		}
		if now == 0 && wt.since != 0 {
			now = nanotime()
		}
		p.serveLocked(wt, p.spawnLocked(), now)
	}
}

// timeWaitLocked counts the wait of a task that joined at since (0: not
// timed) and starts on w now (read here if 0). mu must be held.
func (p *core[T]) timeWaitLocked(w *worker[T], since, now int64) {
	if since == 0 {
		return
	}
	if now == 0 {
		now = nanotime()
	}
	d := now - since
	p.waitTotal += d
	w.wait = d
	if p.opts.TaskObserver != nil {
		w.start = now
	}
}

// serveLocked gives w, idle or new, to wt, which has left the line, and
// counts the time wt waited, up to now (read here if 0), if its wait was
// timed: a caller is sent the worker, for its task; a waiter that carries
// its task (a posted Group retry, a queue-mode caller) has it handed to w,
// and a queue-mode caller is told. p owns w; mu must be held.
func (p *core[T]) serveLocked(wt *waiter[T], w *worker[T], now int64) {
	p.timeWaitLocked(w, wt.since, now)
	if !wt.carries {
		wt.ch <- w
		return
	}
	w.give(wt.arg) // w's buffer is empty: it has no task
	var zero T
	wt.arg = zero
	if wt.ch != nil {
		wt.ch <- p.mark
	}
}

// countLocked adds what a worker coming back did, e, to the counters.
// mu must be held.
func (p *core[T]) countLocked(e ended) {
	if e.task {
		p.completed++
	}
	if e.panicked {
		p.panicked++
	}
	if e.stopped {
		p.stopping--
	}
	if e.woke {
		p.waking--
	}
}

// What putBack tells a worker to do next.
type backTo uint8

const (
	backWait backTo = iota // wait on its channel: it is idle, or was handed a task there
	backRun                // run the task putBack returned, taken from the queue
	backExit               // exit: the pool is closed (and its queue empty), or over capacity
)

// putBack finds w, back from what e says, its next task: the oldest queued
// task, which it returns (backRun), or the oldest waiter's; or else makes
// it idle. w must exit instead if the pool has more workers than its
// (tuned) capacity, or is closed and has no queued task left.
func (p *core[T]) putBack(w *worker[T], e ended) (T, backTo) {
	var zero T
	p.mu.Lock()
	p.countLocked(e)
	if p.queued {
		return p.nextQueuedLocked(w, e)
	}
	if c := p.capacity.Load(); p.state.Load() == CLOSED || (c >= 0 && p.running.Load() > c) {
		p.mu.Unlock()
		return zero, backExit
	}
	if wt := p.line.pop(); wt != nil {
		p.serveLocked(wt, w, e.now) // the observer's read at the task's return serves as the hand-over's
		p.mu.Unlock()
		return zero, backWait
	}
	return p.idleLocked(w)
}

// idleLocked puts w among the idle workers, stamped with the coarse clock,
// and releases mu: putBack's last resort.
func (p *core[T]) idleLocked(w *worker[T]) (T, backTo) {
	var zero T
	w.lastUsed = p.now
	p.idle.Push(w) // cannot fail: the ring holds Cap workers
	p.mu.Unlock()
	return zero, backWait
}

// handBack returns w, which was acquired but given no task, as putBack
// would; if p will not take it back, w exits. The wait counted when w was
// handed over from the line did not end in a task: it is taken back.
func (p *core[T]) handBack(w *worker[T]) {
	if w.wait != 0 {
		p.mu.Lock()
		p.waitTotal -= w.wait
		p.mu.Unlock()
		w.wait, w.start = 0, 0
	}
	switch arg, to := p.putBack(w, ended{}); to {
	case backRun:
		w.ch <- arg // w waits on its empty channel
	case backExit:
		p.mu.Lock()
		p.stopLocked(w)
		p.mu.Unlock()
	}
}

// stopLocked tells w, which has no task, to exit. mu must be held.
func (p *core[T]) stopLocked(w *worker[T]) {
	p.stopping++
	close(w.ch)
}

// retire accounts for a worker goroutine that is exiting, after what e
// says, and gives its slot to the oldest waiter, if any.
func (p *core[T]) retire(e ended) {
	p.mu.Lock()
	p.countLocked(e)
	p.running.Add(-1)
	p.serveWaitersLocked()
	p.mu.Unlock()
}

// purge is the purge goroutine: every ExpiryDuration it stops the workers
// that have been idle since before the previous tick, so a worker lives
// between one and two ExpiryDurations after its last task. It also advances
// the coarse clock the idle workers are stamped with: a time.Now per task
// costs about 50 ns on a small VM, over a tenth of a whole hand-off. It exits when its epoch
// stops or when no worker is left; the next new worker starts it again.
func (p *core[T]) purge(e *epoch) {
	defer e.exit()
	ticker := time.NewTicker(p.opts.ExpiryDuration)
	defer ticker.Stop()
	for {
		select {
		case <-e.stop:
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

// park puts t, a Group retry about to wait out its delay, on the list
// Release ends, and counts its two callbacks (the timer's and the group
// context's) in the current epoch, so ReleaseContext and Reboot wait for
// them. It returns that epoch, or false on a closed pool, where no attempt
// may follow.
func (p *core[T]) park(t *groupTask) (*epoch, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state.Load() == CLOSED {
		return nil, false
	}
	if p.sleeping == nil {
		p.sleeping = make(map[*groupTask]struct{})
	}
	p.sleeping[t] = struct{}{}
	p.epoch.enter()
	p.epoch.enter()
	return p.epoch, true
}

// unpark takes t off the list of sleeping retries, and reports whether it
// was still there (false once Release took it).
func (p *core[T]) unpark(t *groupTask) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.sleeping[t]
	delete(p.sleeping, t)
	return ok
}

// submit hands arg to an idle worker, or a new one while the pool has
// room, or else waits in line (see waitLocked); in queue mode, it queues
// arg (see enqueue). It returns nil once arg is
// accepted, or the reason it is not (counted in Stats).
func (p *core[T]) submit(ctx context.Context, arg T) error {
	p.mu.Lock()
	if p.queued {
		return p.tally(p.enqueue(ctx, arg))
	}
	w, err := p.takeOrGrowLocked()
	if w == nil && err == nil {
		w, err = p.waitLocked(ctx, arg)
	} else {
		p.mu.Unlock()
	}
	if err != nil {
		return p.tally(err)
	}
	w.give(arg)
	return nil
}
