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
// and the submit returns at once while the queue has room. Before it starts
// a worker beside busy ones, a submit yields the processor once
// (runtime.Gosched), so that workers whose tasks have just returned are
// reused instead: under load the pool stays near the number of workers its
// work needs. Workers idle for longer than the expiry duration exit (see
// WithExpiryDuration).
//
// A task that panics does not crash the program: the panic goes to the
// PanicHandler, or is logged with its stack, and the worker's slot is freed
// for the next task (the goroutine that panicked exits).
//
// All methods are safe for concurrent use. The zero Pool is not usable;
// create one with NewPool. A Pool must not be copied. After Release, a Pool
// accepts no task until Reboot.
type Pool struct {
	core[job]
}

// NewPool returns a pool of at most size workers, configured by options.
// A size <= 0 means no limit (Cap returns -1). No goroutine starts until
// the first task is submitted.
//
// NewPool returns ErrInvalidPoolExpiry for a negative expiry duration
// (unless purging is disabled), ErrInvalidPreAllocSize for WithPreAlloc
// with size <= 0, ErrInvalidMaxBlockingTasks for a negative
// MaxBlockingTasks, and ErrInvalidQueueSize for a negative QueueSize.
func NewPool(size int, options ...Option) (*Pool, error) {
	p := new(Pool)
	if err := p.init(size, job.do, options); err != nil {
		return nil, err
	}
	return p, nil
}

// Submit runs task on a pool worker. If no worker is free and the pool is
// at capacity, Submit waits until one is, or until the pool is released.
//
// Submit returns nil once a worker has accepted task (or, in queue mode,
// the queue). Otherwise task does not run, and Submit returns ErrPoolClosed
// after Release, ErrPoolOverload when the pool may not wait
// (WithNonblocking, WithMaxBlockingTasks), or ErrNilTask for a nil task on
// an open pool.
//
// Submit cannot be cancelled; use SubmitCtx to bound the wait. A task that
// submits to its own full pool waits for a worker only it can free: Submit
// carries no context, so the pool cannot tell such a call from another's.
// From a task, use SubmitCtx with the task's context, which never waits
// for the pool's workers. With WithCallerRuns, a Submit that would wait
// runs task on the caller instead, and returns once it has returned.
func (p *Pool) Submit(task func()) error { return submitTask(&p.core, task) }

// SubmitCtx runs task(ctx) on a pool worker. If no worker is free, SubmitCtx
// waits until one is, ctx is done, or the pool is released, whichever
// happens first; waiting callers are served first-come first-served, with
// those of Submit.
//
// SubmitCtx returns nil once a worker (or, in queue mode, the queue) has
// accepted task. Otherwise task does not run, and SubmitCtx returns
// ErrPoolClosed after Release, ErrPoolOverload when the pool may not wait
// (WithNonblocking, WithMaxBlockingTasks), ctx.Err() if ctx is done before
// task is accepted (already done included), ErrNilContext for a nil ctx,
// or ErrNilTask for a nil task. A caller whose ctx ends while it waits
// returns at once and leaves no trace in the pool: Waiting drops. If its
// task is accepted at the very moment ctx ends, SubmitCtx returns nil and
// the task runs.
//
// ctx bounds the wait and is handed to task; the pool does not stop a
// running task when ctx ends, the task should watch ctx itself. A task
// outlives the call: if the caller cancels ctx once SubmitCtx returns (a
// defer cancel()), the task may start with ctx already done. In queue mode
// ctx bounds only the wait for room in the queue.
//
// The ctx task receives names the pool. A SubmitCtx made with it, or with
// the context of a Group task of the pool (or one derived from either),
// comes from one of the pool's own tasks: it never waits for a worker,
// which its caller holds. If no worker is free and the queue, if any, is
// full, the caller runs the task itself and SubmitCtx returns nil once it
// has returned, even if it panicked (the panic goes to the PanicHandler, as
// a worker's would). So a task can fan out on its own full pool without
// deadlock. A plain Submit carries no context and cannot be recognised:
// from a task, use SubmitCtx with the task's context. With WithCallerRuns,
// every SubmitCtx that would wait runs its task on the caller.
//
// SubmitCtx allocates once, to bind ctx to task.
func (p *Pool) SubmitCtx(ctx context.Context, task func(context.Context)) error {
	return submitTaskCtx(&p.core, ctx, task)
}

// TrySubmit runs task on a pool worker if one is free, or can be started,
// right now, or, in queue mode, queues it if the queue has room; it never
// waits. It returns nil once task is accepted, or else, without running
// task, ErrPoolOverload when every worker is busy and the pool is at
// capacity (and the queue full), ErrPoolClosed after Release (checked
// first), or ErrNilTask for a nil task. TrySubmit does not join the line
// of waiting callers, whatever WithNonblocking and WithMaxBlockingTasks
// say.
func (p *Pool) TrySubmit(task func()) error { return trySubmitTask(&p.core, task) }

// job is a task as the worker of a closure pool (Pool, MultiPool) runs it:
// Submit's func, SubmitCtx's func with its context, or a Group or
// SubmitValue task. Converting a func to a job does not allocate.
type job interface {
	// do runs the task, which waited wait for a worker (0 if not timed), and
	// says how it went, for the pool's counters. A plain task's panic is
	// not recovered here, but by the worker.
	do(wait time.Duration) outcome
}

// outcome is how a task given to a worker went.
type outcome uint8

const (
	ran       outcome = iota // the task ran and returned
	recovered                // the task panicked and recovered the panic itself, as an error (a Group or SubmitValue task)
	void                     // nothing ran: the task had been taken, to run elsewhere or to be skipped, by a Wait (see Group.Wait)
)

// funcTask is Submit's job.
type funcTask func()

func (f funcTask) do(time.Duration) outcome { f(); return ran }

// ctxTask is SubmitCtx's job: the task and the context it is given, the
// submit's own, as a taskContext of the pool (in the same allocation), so
// that a call the task makes on the pool with it is known to be its; and
// the pool's Interceptor, if any.
type ctxTask struct {
	taskContext
	fn func(context.Context)
	ic Interceptor
}

func (t *ctxTask) do(wait time.Duration) outcome {
	if t.ic == nil {
		t.fn(&t.taskContext)
		return ran
	}
	_ = intercept(t.ic, &t.taskContext, TaskMeta{Attempt: 1, Wait: wait}, t.call)
	return ran
}

// call runs the task for an Interceptor; it returns no error.
func (t *ctxTask) call(ctx context.Context) error {
	t.fn(ctx)
	return nil
}

// submitTask is Submit for the closure pools.
func submitTask(s site[job], task func()) error {
	if s.IsClosed() {
		return s.tally(ErrPoolClosed)
	}
	if task == nil {
		return ErrNilTask
	}
	return admit(s, context.Background(), job(funcTask(task)), s.overflow())
}

// submitTaskCtx is SubmitCtx for the closure pools.
func submitTaskCtx(s site[job], ctx context.Context, task func(context.Context)) error {
	if err := checkCtx(s, ctx); err != nil {
		return err
	}
	if task == nil {
		return ErrNilTask
	}
	return admit(s, ctx, job(&ctxTask{taskContext{ctx, s.owner()}, task, s.interceptor()}), s.overflow())
}

// trySubmitTask is TrySubmit for the closure pools.
func trySubmitTask(s site[job], task func()) error {
	if s.IsClosed() {
		return s.tally(ErrPoolClosed)
	}
	if task == nil {
		return ErrNilTask
	}
	return admit(s, context.Background(), job(funcTask(task)), overflowRefuse)
}

// invoke is Invoke for the func pools: arg goes to a worker as it is.
func invoke[T any](s site[T], arg T) error {
	if s.IsClosed() {
		return s.tally(ErrPoolClosed)
	}
	return admit(s, context.Background(), arg, s.overflow())
}

// invokeCtx is InvokeCtx for the func pools.
func invokeCtx[T any](s site[T], ctx context.Context, arg T) error {
	if err := checkCtx(s, ctx); err != nil {
		return err
	}
	return admit(s, ctx, arg, s.overflow())
}

// tryInvoke is TryInvoke for the func pools.
func tryInvoke[T any](s site[T], arg T) error {
	if s.IsClosed() {
		return s.tally(ErrPoolClosed)
	}
	return admit(s, context.Background(), arg, overflowRefuse)
}

// checkCtx returns the error a Ctx submit reports before it admits its
// task: ErrPoolClosed (checked first), ErrNilContext, or ctx.Err().
func checkCtx[T any](s site[T], ctx context.Context) error {
	if s.IsClosed() {
		return s.tally(ErrPoolClosed)
	}
	if ctx == nil {
		return ErrNilContext
	}
	return s.tally(ctx.Err())
}

// core is the one pool implementation behind Pool, PoolWithFunc and
// PoolWithFuncGeneric, and each sub-pool of a multi-pool: a worker is given
// a T and calls call with it. Pool's T is the task (a job); a func pool's
// T is the argument of its bound function. How a T reaches a worker is
// admission (admission.go); what the worker does with it, worker.go; how a
// run of the pool ends, release.go.
type core[T any] struct {
	capacity atomic.Int32 // most workers alive at once; -1 means no limit. Written under mu.
	running  atomic.Int32 // worker goroutines alive, busy or idle (ants' meaning). Written under mu.
	state    atomic.Int32 // OPENED or CLOSED. Written under mu.

	// Counters of Stats kept on the paths that refuse a task, under no lock.
	rejected, canceled atomic.Uint64

	// mu and the fields it guards start on a cache line of their own: every
	// submit reads state without the lock, and sharing a line with mu, which
	// every hand-over writes, made it wait for that line each time. The
	// fields above take 32 bytes, so mu starts 64 bytes in.
	_ [32]byte

	mu sync.Mutex // guards the fields below; taken before line.mu

	// What every hand-over touches first, together.
	idle                           idleQueue[T]
	waking                         int // queue mode: idle workers woken for a queued task that have not taken one yet
	submitted, completed, panicked uint64

	queue     queue.FIFO[queued[T]] // accepted tasks not yet started (WithQueueSize), and posted ones
	stopping  int                   // idle workers told to exit that have not yet: not Busy
	waitTotal int64                 // nanoseconds waited by the tasks whose wait was timed
	run       *run                  // the current run; replaced by Reboot
	now       time.Time             // coarse clock for idle stamps: the purger's latest tick
	purging   bool                  // a purge goroutine of this run is running

	// Set once by init.
	waiters  *line[T]                       // tasks that could not be placed; shared by a MultiPool's sub-pools
	siblings []*core[T]                     // queue mode, in a MultiPool: the other sub-pools, whose queues a worker about to go idle looks in
	how      strategy[T]                    // how a task is given to an idle worker: handOff, or queueing in queue mode
	call     func(T, time.Duration) outcome // what a worker does with a T that waited so long
	over     overflow                       // what a submit does with a task it cannot place now
	// timeQueued: queue mode with a task observer, the one case where a
	// task placed without waiting in line may wait (see stamp).
	timeQueued bool
	opts       Options // validated
}

// idleQueue is what queue.Stack and queue.Ring have in common.
type idleQueue[T any] interface {
	Len() int
	Push(*worker[T]) bool
	Pop() (*worker[T], bool)
	Expire(cutoff time.Time) []*worker[T]
	Drain() []*worker[T]
}

// init validates the options and readies p, whose workers call call. It
// starts no goroutine.
func (p *core[T]) init(size int, call func(T, time.Duration) outcome, options []Option) error {
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
	if opts.CallerRuns && opts.Nonblocking {
		return ErrInvalidCallerRuns
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
	p.waiters = &line[T]{maxWaiters: opts.MaxBlockingTasks}
	p.call = call
	p.opts = *opts
	p.how = handOff[T]{}
	if opts.QueueSize > 0 {
		p.how = queueing[T]{}
	}
	p.timeQueued = opts.QueueSize > 0 && (opts.TaskObserver != nil || opts.Interceptor != nil)
	switch {
	case opts.Nonblocking:
		p.over = overflowRefuse
	case opts.CallerRuns:
		p.over = overflowRun
	default:
		p.over = overflowWait
	}
	p.run = newRun()
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

func (p *core[T]) line() *line[T]           { return p.waiters }
func (p *core[T]) queues() bool             { return p.opts.QueueSize > 0 }
func (p *core[T]) owner() any               { return p }
func (p *core[T]) interceptor() Interceptor { return p.opts.Interceptor }
func (p *core[T]) overflow() overflow       { return p.over }

// Running returns the number of worker goroutines alive, busy or idle: an
// idle worker counts until it expires or the pool is released. Stats.Busy
// counts the busy ones.
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
// worker (in queue mode, for room in the queue). Group retries waiting for
// a worker are not callers and are not counted.
func (p *core[T]) Waiting() int { return p.waiters.waiting() }

// IsClosed reports whether the pool has been released (and not rebooted).
func (p *core[T]) IsClosed() bool { return p.state.Load() == CLOSED }

// hasRoomLocked reports whether another worker may start. mu must be held.
func (p *core[T]) hasRoomLocked() bool {
	c := p.capacity.Load()
	return c < 0 || p.running.Load() < c
}

// Tune changes the capacity to size. Growing the pool starts workers at
// once for the queued tasks and then the callers waiting, oldest first.
// Shrinking it stops no running task: workers above the new capacity exit
// as their tasks finish.
//
// Tune does nothing if size <= 0, on a pool without a limit, or on a pool
// created WithPreAlloc (whose idle-worker queue cannot grow).
// A size above math.MaxInt32 is taken as math.MaxInt32. Tune is safe at
// any time.
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
	p.fillLocked()
}
