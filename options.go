package ants

import "time"

// Option sets one field of Options; pass options to the pool constructors.
type Option func(opts *Options)

func loadOptions(options []Option) *Options {
	opts := new(Options)
	for _, option := range options {
		if option != nil {
			option(opts)
		}
	}
	return opts
}

// Options configures a pool. The zero value is a blocking pool whose idle
// workers expire after DefaultCleanIntervalTime.
type Options struct {
	// ExpiryDuration is how long a worker may stay idle before it exits: the
	// pool checks every ExpiryDuration and stops the workers idle since the
	// previous check, so a worker lives one to two ExpiryDurations after its
	// last task. 0 means DefaultCleanIntervalTime; a negative value is
	// rejected with ErrInvalidPoolExpiry, unless DisablePurge is set, which
	// ignores it.
	ExpiryDuration time.Duration

	// PreAlloc allocates the queue of idle workers for the whole capacity
	// when the pool is created, and never again. It needs a size > 0
	// (ErrInvalidPreAllocSize otherwise), and Tune has no effect on such a pool.
	PreAlloc bool

	// MaxBlockingTasks is the most callers that may wait for a worker at
	// once; the next one gets ErrPoolOverload. 0 means no limit; a negative
	// value is rejected with ErrInvalidMaxBlockingTasks. Ignored when
	// Nonblocking is set.
	MaxBlockingTasks int

	// Nonblocking makes a submit that finds no free worker return
	// ErrPoolOverload at once instead of waiting.
	Nonblocking bool

	// PanicHandler is called with the value of every panic in a task, on the
	// goroutine that panicked, after its worker's slot has been freed. nil
	// means the panic and its stack are logged with Logger. The program does
	// not crash either way, unless PanicHandler itself panics.
	PanicHandler func(any)

	// Logger receives the pool's messages (panics without a PanicHandler).
	// nil means a standard logger writing to os.Stderr.
	Logger Logger

	// DisablePurge keeps idle workers until the pool is released: no purge
	// goroutine runs, and ExpiryDuration is ignored.
	DisablePurge bool

	// QueueSize, if > 0, puts the pool in queue mode: a submit that finds
	// every worker busy and the pool at capacity puts its task in the
	// pool's queue and returns at once while fewer than QueueSize tasks are
	// queued; see WithQueueSize. 0 (the default) means no queue, as in
	// ants; a negative value is rejected with ErrInvalidQueueSize.
	QueueSize int

	// TaskObserver, if not nil, is told of every task a worker runs, on
	// that worker, after the task returns: see WithTaskObserver. nil (the
	// default) costs nothing.
	TaskObserver func(TaskInfo)

	// Interceptor, if not nil, runs around every task that has a context:
	// see WithInterceptor. nil (the default) costs nothing.
	Interceptor Interceptor

	// CallerRuns makes a submit that would wait for a worker (or for room
	// in the queue) run its task on the caller's goroutine instead: see
	// WithCallerRuns. It cannot be set with Nonblocking
	// (ErrInvalidCallerRuns).
	CallerRuns bool
}

// WithOptions sets every option at once from options.
func WithOptions(options Options) Option {
	return func(opts *Options) { *opts = options }
}

// WithExpiryDuration sets how long a worker may stay idle before it exits;
// see Options.ExpiryDuration for 0 and negative values.
func WithExpiryDuration(expiryDuration time.Duration) Option {
	return func(opts *Options) { opts.ExpiryDuration = expiryDuration }
}

// WithPreAlloc sets whether the idle-worker queue is allocated up front;
// see Options.PreAlloc.
func WithPreAlloc(preAlloc bool) Option {
	return func(opts *Options) { opts.PreAlloc = preAlloc }
}

// WithMaxBlockingTasks sets the most callers that may wait for a worker at
// once; 0 means no limit. See Options.MaxBlockingTasks.
func WithMaxBlockingTasks(maxBlockingTasks int) Option {
	return func(opts *Options) { opts.MaxBlockingTasks = maxBlockingTasks }
}

// WithNonblocking sets whether a submit that finds no free worker fails with
// ErrPoolOverload instead of waiting.
func WithNonblocking(nonblocking bool) Option {
	return func(opts *Options) { opts.Nonblocking = nonblocking }
}

// WithPanicHandler sets the function that receives the value of a panic in
// a task; nil means log it. See Options.PanicHandler.
func WithPanicHandler(panicHandler func(any)) Option {
	return func(opts *Options) { opts.PanicHandler = panicHandler }
}

// WithLogger sets the pool's logger; nil means the standard one.
func WithLogger(logger Logger) Option {
	return func(opts *Options) { opts.Logger = logger }
}

// WithDisablePurge sets whether idle workers are kept until Release instead
// of expiring.
func WithDisablePurge(disable bool) Option {
	return func(opts *Options) { opts.DisablePurge = disable }
}

// WithQueueSize puts the pool in queue mode: up to n accepted tasks wait
// in the pool's queue while every worker is busy and the pool is at
// capacity, and the submit of such a task returns nil at once, without
// parking the caller. Workers take the oldest queued task as they finish
// one, without going idle, so tiny tasks run at the speed of a queue, in
// the order they were submitted.
//
// Beyond n queued tasks, callers wait for room in the queue in the pool's
// one first-come first-served line (cancellable with the Ctx forms), or get
// ErrPoolOverload with WithNonblocking or past WithMaxBlockingTasks; when a
// queued task starts, the oldest waiting caller's task is queued and its
// submit returns nil. TrySubmit and TryInvoke succeed while the queue has
// room.
//
// A queued task is accepted: it runs exactly once, in FIFO order, with the
// context it was submitted with, even if that context has ended since.
// Release stops admission and wakes the waiting callers with
// ErrPoolClosed, but the queued tasks still run; ReleaseContext returns nil
// only once the queue has drained and every goroutine has exited. Group
// retries are not new acceptances: one waiting in the queue when the pool
// is released ends with ErrPoolClosed. Workers do not expire while tasks
// are queued, and Tune, growing the pool, starts workers for them. On a
// multi-pool, n applies to each sub-pool.
//
// A queued task costs its closure (or argument) and about 24 bytes of
// queue, which grows by doubling up to n. n == 0, the default, means no
// queue (ants' behaviour); n < 0 makes the constructor return
// ErrInvalidQueueSize. A pool without a capacity limit never queues.
func WithQueueSize(n int) Option {
	return func(opts *Options) { opts.QueueSize = n }
}

// WithTaskObserver sets a function that is told, for every task the pool
// runs, how long it waited for a worker, how long it ran, and whether it
// panicked; see TaskInfo. It is called on the worker that ran the task,
// after the task returns and before the worker takes its next one, so it
// must be quick and safe for concurrent use, and it must not panic. It is
// called for Group tasks (each retry attempt on its own) and SubmitValue
// tasks too, and for a task that panicked, before the panic is handled.
//
// With an observer set, a worker reads the clock twice per task (at start
// and at return; a task that waited for a worker starts when it is handed
// over, a moment the pool reads anyway). nil, the default, means no
// observer and no clock read on behalf of one.
func WithTaskObserver(observe func(TaskInfo)) Option {
	return func(opts *Options) { opts.TaskObserver = observe }
}

// WithCallerRuns sets whether a submit that would wait runs its task on
// the caller's goroutine instead (Java's CallerRunsPolicy). On such a pool,
// Submit, SubmitCtx, Invoke, InvokeCtx, Group.Go and the helpers never wait
// for a worker: when no worker is free, no new one may start and the queue
// (WithQueueSize) is full, the caller runs the task and returns once it has
// returned. The task is counted in Stats as a worker's would be; a panic
// in it goes where that submit's panics go (the PanicHandler, or the
// Logger, for Submit and Invoke: the caller goes on; a *PanicError for a
// Group task). So a producer slows down to the pace of the work, and
// nothing waits in line, which is why MaxBlockingTasks has no effect.
//
// TrySubmit, TryInvoke and TryGo still never run a task on the caller; a
// Group retry still waits for a worker, holding none. A pool cannot both
// run a task on its caller and refuse it: with WithNonblocking(true) the
// constructors return ErrInvalidCallerRuns. false, the default, waits.
func WithCallerRuns(callerRuns bool) Option {
	return func(opts *Options) { opts.CallerRuns = callerRuns }
}
