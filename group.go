package ants

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/antspool/ants/retry"
)

var (
	// ErrGoexit is the error of a group task (or a SubmitValue task) that
	// called runtime.Goexit.
	ErrGoexit = errors.New("ants: group task called runtime.Goexit")

	// ErrNilRunner is the error of NewResultGroup, Map, ForEach, MapSeq and
	// SubmitValue given a nil Runner.
	ErrNilRunner = errors.New("ants: nil runner")
)

// PanicError is the error of a group task (or a SubmitValue task) that
// panicked: the value it panicked with and the stack of the goroutine at
// the panic.
type PanicError struct {
	Value any
	Stack []byte
}

// Error returns one line, "ants: group task panicked: " and the value, so
// that an error message shown to a client never carries a stack. The stack
// is in Stack, and %+v prints it after the message.
func (e *PanicError) Error() string {
	return fmt.Sprintf("ants: group task panicked: %v", e.Value)
}

// Format prints Error for %v and %s, and for %+v the message followed by
// the stack of the goroutine that panicked.
func (e *PanicError) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('+'):
		fmt.Fprintf(f, "%s\n\n%s", e.Error(), e.Stack)
	case verb == 'v' || verb == 's':
		fmt.Fprint(f, e.Error())
	case verb == 'q':
		fmt.Fprintf(f, "%q", e.Error())
	default:
		fmt.Fprintf(f, "%%!%c(*ants.PanicError=%s)", verb, e.Error())
	}
}

// Unwrap returns the panic value if it is an error, so errors.Is and
// errors.As see through the panic; otherwise nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// RetryNotify is told of every retry of a group task, before its delay:
// attempt counts the task's retries (1 for the first), err is the error of
// the attempt that failed, and next is the delay before the retry. It is
// retry.Notify: a function of either type serves both.
type RetryNotify = retry.Notify

// A GroupOption configures a Group (and a ResultGroup, Map, ForEach and
// MapSeq, which run on one); see Pool.Group.
type GroupOption func(*groupConfig)

type groupConfig struct {
	limit       int                  // running tasks of the group at most; <= 0: no group limit
	newBackOff  func() retry.BackOff // retry policy per failing task; nil: no retries
	notify      []RetryNotify
	collect     bool          // WithCollectErrors: failures do not cancel the group
	taskTimeout time.Duration // WithTaskTimeout: each attempt's deadline; <= 0: none
	maxPending  int           // WithMaxPending: tasks accepted and not started at most; 0: no bound
	pendingSet  bool          // WithMaxPending was given (n < 1 is then an error)
	limiter     Limiter       // WithRateLimit: what every attempt waits for; nil: none
}

// WithLimit caps how many of the group's tasks run at once, below the
// pool's own capacity: Go waits for a slot, TryGo returns false without
// one. A task keeps its slot while it waits for a retry. n <= 0 means no
// group limit (the pool's capacity still bounds the group): 0 never blocks
// forever.
func WithLimit(n int) GroupOption { return func(c *groupConfig) { c.limit = n } }

// WithRetry retries a failing group task on the policy newBackOff makes:
// a retry.BackOff, such as a policy of github.com/cenkalti/backoff (v4 or
// v5). newBackOff is called once per failing task, at its first failure
// (policies are stateful). Retries stop when the task succeeds, returns an
// error wrapped with retry.Permanent or backoff/v4's backoff.Permanent (the
// error inside becomes the task's error), panics, or when the policy
// returns retry.Stop or the group's context is done; the task's error is
// then its last attempt's error. If the pool is released while the task
// waits for its next attempt, the task ends at once with ErrPoolClosed and
// never runs again, not even after Reboot.
//
// A task waiting for its next attempt holds no worker, so other tasks run
// meanwhile; it keeps its WithLimit slot, and Wait waits for it. Each notify
// is told of every retry, on the worker that ran the failed attempt. A nil
// newBackOff of a func type (var f func() backoff.BackOff) means no
// retries, and so does a factory that returns a nil policy; an untyped nil
// does not compile, since the policy type cannot be inferred from it. See
// package retry for the pitfalls of backoff's policies.
func WithRetry[B retry.BackOff](newBackOff func() B, notify ...RetryNotify) GroupOption {
	var factory func() retry.BackOff
	if newBackOff != nil {
		var ok bool
		if factory, ok = any(newBackOff).(func() retry.BackOff); !ok {
			factory = func() retry.BackOff { return newBackOff() }
		}
	}
	return func(c *groupConfig) {
		c.newBackOff = factory
		c.notify = notify
	}
}

// WithCollectErrors makes the group run every task it admits, whatever the
// others do: a task's error (after its retries) does not cancel the group's
// context, and Wait returns every task's error, joined with errors.Join in
// the order the tasks were given to Go, instead of the first one. Tasks are
// still skipped if the parent context ends; Wait then adds that context's
// cause once, last. A batch that must not stop at its first bad item wants
// this option, usually with WithRetry.
func WithCollectErrors() GroupOption { return func(c *groupConfig) { c.collect = true } }

// WithTaskTimeout gives each attempt of each task its own deadline, d after
// the attempt starts (a retry gets a fresh d): the task's context is the
// group's context with that deadline, so a task that overruns sees
// context.DeadlineExceeded while the group's own context is unaffected.
// Its error, if it returns one, is handled like any other (retried with
// WithRetry). d <= 0 means no deadline.
//
// The deadline bounds the run, not the wait for a worker: that wait is
// bounded by the group's context.
func WithTaskTimeout(d time.Duration) GroupOption {
	return func(c *groupConfig) { c.taskTimeout = d }
}

// Runner is what the helpers of this package need of a pool: a way to
// submit a task with a context, and groups. *Pool and *MultiPool satisfy
// it, so NewResultGroup, Map, ForEach, MapSeq and SubmitValue work on both.
//
// MapSeq (and, in contrib, other consumers) also read a Cap() int method,
// when the runner has one, to size their window of work in flight.
type Runner interface {
	SubmitCtx(ctx context.Context, task func(context.Context)) error
	Group(ctx context.Context, opts ...GroupOption) *Group
}

var (
	_ Runner = (*Pool)(nil)
	_ Runner = (*MultiPool)(nil)
)

// isNil reports whether r is nil, or a nil pointer in a Runner (a nil
// *Pool, say), which the helpers treat as a nil Runner.
func isNil(r Runner) bool {
	if r == nil {
		return true
	}
	v := reflect.ValueOf(r)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// taskRunner is what a Group needs of the pool it runs on (a Pool's or a
// MultiPool's core): admission, and hold, which counts a waiting retry's
// callbacks in the pool's current run.
type taskRunner interface {
	site[job]
	hold(n int) (*run, bool)
	// inline runs a task on the calling goroutine (see core.inline).
	inline(run func() outcome)
	// queues reports whether the pool has a queue (WithQueueSize).
	queues() bool
}

// Group runs a set of tasks on a pool's workers and collects their errors:
// Go starts a task, Wait waits for all of them and returns the first error.
// A Group starts no goroutine per task: its tasks take their turn for the
// pool's workers with every other submit, so a thousand groups on a pool
// of 64 never run more than 64 tasks at once.
//
// The group's context, Context(), is derived from the context given to
// Pool.Group, and names the pool: a call on the same pool made with it (or
// with a context derived from it), as a task's own fan-out is, never waits
// for the pool's workers (see Go and Wait). The first task error cancels it, with that error as its
// context.Cause (unless WithCollectErrors), and so does Wait's return. A
// task that has not started when the context is done is skipped: it never
// runs, and Wait reports the context's cause.
//
// A Group is created by Pool.Group or MultiPool.Group and must not be
// copied. Go, TryGo and Wait are safe for concurrent use, and a task may
// call Go on its own group; a Go from outside the group that races with
// Wait's return may or may not be waited for (it is then skipped, and the
// next Wait reports it).
type Group struct {
	pool    taskRunner      // nil only for a group born failed (NewResultGroup with a nil Runner)
	ctx     context.Context // derived from the parent: what the group's own waits watch, and its cause
	taskCtx context.Context // what its tasks receive, and Context returns: ctx, naming the pool (a taskContext)
	ic      Interceptor     // the pool's, run around each attempt
	cancel  context.CancelCauseFunc
	sem     chan struct{} // WithLimit's slots; nil for no group limit
	cfg     groupConfig
	report  func(i int, err error) // if set (before the first Go), told each task's own outcome: ResultGroup, MapSeq

	wg sync.WaitGroup // tasks admitted and not finished, waiting retries included

	// Set once by the group's owner (KeyedGroup) before the first Go.
	after  func(i int) // told each task's end, after its slot is free
	onDone func()      // told once the group's context is done, in Wait

	// Whether the group lists its tasks not yet started (see pending), and
	// whether its Wait runs them itself; set once by newGroup.
	track, nested bool
	active        atomic.Int64 // tracked groups: tasks admitted and not finished
	pending       pendingList  // tracked groups, and posted retries; see group_pending.go

	seq  sync.Mutex // serializes the taking of indexes: TryGo holds it until it knows whether its task was taken. Taken before mu.
	next int        // the index of the next task, in Go order; guarded by seq

	mu        sync.Mutex  // guards the fields below
	err       error       // the first error; set before ctx is cancelled (not WithCollectErrors)
	errs      []taskError // WithCollectErrors: the failed tasks' errors
	skipCause error       // WithCollectErrors: why tasks were skipped, if any were
}

// taskError is the error of task i, for WithCollectErrors.
type taskError struct {
	i   int
	err error
}

// Group returns a Group that runs its tasks on p's workers, with a context
// derived from ctx. A nil ctx gives a group that runs nothing and whose
// Wait returns ErrNilContext. Options: WithLimit, WithRetry,
// WithCollectErrors, WithTaskTimeout.
func (p *Pool) Group(ctx context.Context, opts ...GroupOption) *Group {
	return newGroup(&p.core, ctx, opts)
}

func newGroup(pool taskRunner, ctx context.Context, opts []GroupOption) *Group {
	g := &Group{pool: pool}
	for _, opt := range opts {
		if opt != nil {
			opt(&g.cfg)
		}
	}
	if g.cfg.limit > 0 {
		g.sem = make(chan struct{}, g.cfg.limit)
	}
	switch {
	case ctx == nil:
		g.bornFailed(ErrNilContext)
	case pool == nil:
		g.bornFailed(ErrNilRunner)
	case g.cfg.pendingSet && g.cfg.maxPending < 1:
		g.bornFailed(ErrInvalidMaxPending)
	default:
		g.ctx, g.cancel = context.WithCancelCause(ctx)
		g.taskCtx = &taskContext{Context: g.ctx, owner: pool.owner()}
		g.ic = pool.interceptor()
		g.nested = ownedBy(ctx, pool.owner())
		g.track = g.nested || pool.queues()
	}
	return g
}

// bornFailed readies a group that can run nothing: its context is done
// with err as the cause, so every task is skipped, and Wait returns err.
func (g *Group) bornFailed(err error) {
	g.ctx, g.cancel = context.WithCancelCause(context.Background())
	g.taskCtx = g.ctx
	g.cancel(err)
	g.recordSkip()
}

// Context returns the group's context: done when a task fails (unless
// WithCollectErrors), when the parent context is done, or when Wait
// returns; context.Cause tells which.
func (g *Group) Context() context.Context { return g.taskCtx }

// Go runs task(ctx) on a pool worker, with the group's context. It blocks
// until a worker (and a WithLimit slot) takes the task, or the group's
// context is done, or the pool is released. Because the wait watches the
// group's context, anything that cancels it releases a blocked Go: a
// running sibling's failure, the parent context, Wait. (Tasks that hold
// every slot while waiting for a sibling that cannot start wait for ever,
// as under any limit; give the parent context a deadline.)
//
// On a queue-mode pool (WithQueueSize), Go returns once its task is
// queued; if the group's context ends meanwhile, the task is skipped, and
// Wait does not wait for it. On a pool with WithCallerRuns, Go runs the
// task on the caller when no worker is free and the queue is full.
//
// Nested fan-out: a Go on a group made with the context of one of the
// pool's own tasks (a group inside a group task, say) never waits for a
// worker, which the caller itself holds: when none is free and the queue,
// if any, is full, the caller runs the task, with the same semantics (its
// panic, its deadline, the observer and Stats), and Go returns when it has
// returned. It still waits for a WithLimit slot, running the group's tasks
// not yet started meanwhile. So recursion on one bounded pool cannot
// deadlock.
//
// A task that fails, panics or calls runtime.Goexit fails the group (see
// Wait). Go itself returns nothing: a task that cannot start is reported
// by Wait. If the group's context is done before the task starts, the task
// is skipped and never runs. A submit the pool refuses is the task's error:
// ErrPoolClosed after Release (checked first, even for a nil task),
// ErrPoolOverload on a full Nonblocking pool or past MaxBlockingTasks.
// A nil task's error is ErrNilTask.
//
// A panic in a task is recovered on the worker, which goes on to serve
// other tasks; it becomes a *PanicError and is not retried. It does not go
// to the pool's PanicHandler, because the group reports it from Wait.
func (g *Group) Go(task func(ctx context.Context) error) {
	g.launch(g.take(), task, true)
}

// TryGo runs task like Go, but only if a worker and a WithLimit slot are
// free now (on a queue-mode pool: a WithLimit slot and room in the queue);
// it never blocks. It returns false, without running the task and
// without a group error, when none is free or the group's context is done.
// On a released pool, and for a nil task, it returns false and the group
// fails with ErrPoolClosed or ErrNilTask, as with Go.
//
// The task may start, and even finish, before TryGo returns true.
func (g *Group) TryGo(task func(ctx context.Context) error) bool {
	g.seq.Lock()
	defer g.seq.Unlock()
	return g.tryLaunchLocked(task)
}

// take returns the index of the next task.
func (g *Group) take() int {
	g.seq.Lock()
	i := g.next
	g.next++
	g.seq.Unlock()
	return i
}

// tryLaunchLocked is TryGo with seq held: it takes the next index only if
// task was taken, so a TryGo that returns false leaves no gap in the order.
func (g *Group) tryLaunchLocked(task func(ctx context.Context) error) bool {
	if !g.launch(g.next, task, false) {
		return false
	}
	g.next++
	return true
}

// launch admits task i, blocking (Go) or not (TryGo), and reports whether
// a worker took it. Every task that Go launches ends exactly once, by
// finish or skipTask; one that TryGo cannot start now is not the group's:
// it leaves no trace but a group error for a released pool or a nil task.
func (g *Group) launch(i int, task func(ctx context.Context) error, block bool) bool {
	refused := func(err error) {
		if block {
			g.finish(i, err)
		} else {
			g.record(i, err)
		}
	}
	switch {
	case g.pool != nil && g.pool.IsClosed():
		refused(g.pool.tally(ErrPoolClosed))
		return false
	case task == nil:
		refused(ErrNilTask)
		return false
	case g.ctx.Err() != nil:
		if block {
			g.cancelled(i)
		}
		return false
	}
	if !g.reserve(i, block) {
		return false
	}
	g.wg.Add(1)
	if g.track {
		g.active.Add(1)
	}
	how := overflowRefuse
	if block {
		how = g.pool.overflow()
	}
	j, m := g.job(i, task)
	if g.track {
		g.pending.add(m.link)
	}
	err := admit(g.pool, g.ctx, j, how)
	switch {
	case err == nil:
		return true
	case g.track && !g.pending.take(m.link):
		return true // a Wait took the task, to run it or skip it: it is the Wait's
	}
	g.begin(m) // not accepted after all
	switch {
	case !block && err != ErrPoolOverload:
		g.record(i, err) // the pool closed meanwhile
	case block && g.ctx.Err() != nil:
		g.skipTask(i)
	case block:
		g.finish(i, err)
	}
	// Record why before releasing the count, so that a Wait the release
	// lets go on sees it.
	g.release(i)
	return false
}

// reserve readies the admission of task i, blocking (Go) or not (TryGo):
// room among the tasks not yet started (WithMaxPending, then counted), a
// WithLimit slot, and the rate limit's go-ahead (WithRateLimit). It reports
// whether task i may be admitted; if not, it has given back what it took,
// and a Go's task i is skipped (the group's context is done) or failed
// (the limiter's error).
func (g *Group) reserve(i int, block bool) bool {
	if g.cfg.maxPending <= 0 && g.cfg.limiter == nil { // the common case: at most a limit slot
		switch {
		case g.sem == nil:
			return true
		case block:
			if g.takeSlot() {
				return true
			}
			g.cancelled(i)
			return false
		default:
			select {
			case g.sem <- struct{}{}:
				return true
			default:
				return false
			}
		}
	}
	if block && !g.waitRoom() || !block && !g.room() {
		if block {
			g.cancelled(i)
		}
		return false
	}
	g.accept()
	if g.sem != nil {
		if block && !g.takeSlot() {
			g.unaccept()
			g.cancelled(i)
			return false
		}
		if !block {
			select {
			case g.sem <- struct{}{}:
			default:
				g.unaccept()
				return false
			}
		}
	}
	var err error
	if block {
		err = g.throttle(g.ctx)
	} else if !g.throttleNow() {
		err = ErrPoolOverload
	}
	if err == nil {
		return true
	}
	if g.sem != nil {
		<-g.sem
	}
	g.unaccept()
	switch {
	case !block:
	case g.ctx.Err() != nil:
		g.cancelled(i)
	default:
		g.finish(i, err)
	}
	return false
}

// cancelled skips task i, which Go could not submit because the group's
// context is done, and counts it in the pool's Stats as a cancelled submit.
func (g *Group) cancelled(i int) {
	if g.pool != nil {
		g.pool.tally(g.ctx.Err())
	}
	g.skipTask(i)
}

// job returns what a worker runs for task i, and its membership of the
// group: a groupTask, or, with WithRetry, a retryTask that can come back
// for more attempts.
func (g *Group) job(i int, task func(ctx context.Context) error) (job, *member) {
	if g.cfg.newBackOff == nil {
		t := &groupTask{member: member{g: g, i: i, fn: task}}
		if g.track {
			t.link = &pendingLink{task: t}
		}
		return t, &t.member
	}
	t := &retryTask{member: member{g: g, i: i, fn: task}, retrier: retry.New(g.ctx, g.cfg.newBackOff)}
	t.link = &pendingLink{task: t} // every retry is listed
	return t, &t.member
}

// member is what every task of a group holds: its group, its index in the
// group (in Go order), the task, and its place in the group's pending list
// (made the first time it is listed: most tasks never are).
type member struct {
	g     *Group
	i     int
	fn    func(ctx context.Context) error
	link  *pendingLink
	begun bool // its first attempt started, or it was skipped (WithMaxPending); owned by whoever holds the task
}

// groupTask is a task of a group without retries, as the pool runs it.
type groupTask struct {
	member
}

// do runs the task, unless a Wait took it (void), and finishes it.
func (t *groupTask) do(wait time.Duration) outcome {
	if t.g.track && !t.g.pending.take(t.link) {
		return void
	}
	return t.runWaited(wait)
}

// run runs the task, taken by a Wait, on the Wait's goroutine.
func (t *groupTask) run() outcome { return t.runWaited(0) }

// runWaited runs the task, taken, which waited wait for a worker, unless
// the group ended before it started, and finishes it. It reports a panic,
// which the group has recovered.
func (t *groupTask) runWaited(wait time.Duration) outcome {
	g := t.g
	g.begin(&t.member)
	if g.ctx.Err() != nil { // admitted, but the group ended before it started
		t.skip()
		return ran
	}
	panicked, err := g.call(t.i, t.fn, TaskMeta{Attempt: 1, Wait: wait})
	g.end(t.i, err)
	if panicked {
		return recovered
	}
	return ran
}

// skip finishes the task, taken and never run, as skipped.
func (t *groupTask) skip() {
	t.g.begin(&t.member)
	t.g.skipTask(t.i)
	t.g.release(t.i)
}

// Wait blocks until every task given to Go or TryGo has returned, retries
// included, then cancels the group's context and returns:
//
//   - by default, the first error: a task's error, a *PanicError,
//     ErrGoexit, a submit's refusal, or, if the first thing to go wrong was
//     a task skipped because the group's context was done, the context's
//     cause;
//   - with WithCollectErrors, every task's error joined with errors.Join in
//     the order the tasks were given to Go (one error alone is returned as
//     it is), followed by the cause of the skips, once, if tasks were
//     skipped.
//
// If every task ran and succeeded it returns nil, even if the parent
// context was cancelled afterwards.
//
// Once the group's context is done, Wait no longer waits for tasks that
// have not started (queued, or a retry in line): they are skipped and never
// run, so a deadline always ends a stuck fan-out. On a group made with the
// context of one of the pool's own tasks, Wait runs the group's tasks that
// have not started yet itself, newest first, instead of only waiting for a
// worker to take them.
//
// Wait may be called again; it returns the same error unless tasks were
// given to Go in between. Such a task is skipped, since Wait cancelled the
// group's context, and the next Wait reports it (context.Canceled).
func (g *Group) Wait() error {
	if g.track {
		g.settle(nil)
	}
	g.wg.Wait()
	g.cancel(nil) // no effect if a failure cancelled it already
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.cfg.collect {
		return g.err
	}
	slices.SortStableFunc(g.errs, func(a, b taskError) int { return a.i - b.i })
	errs := make([]error, 0, len(g.errs)+1)
	for _, e := range g.errs {
		errs = append(errs, e.err)
	}
	if g.skipCause != nil {
		errs = append(errs, g.skipCause)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// record keeps err, the error of task i, for Wait. Without
// WithCollectErrors, only the group's first error is kept, and it cancels
// the group's context with it as the cause: recorded first, so that a
// sibling that sees the cancellation and returns ctx.Err() never wins.
func (g *Group) record(i int, err error) {
	g.mu.Lock()
	if g.cfg.collect {
		g.errs = append(g.errs, taskError{i, err})
		g.mu.Unlock()
		return
	}
	first := g.err == nil
	if first {
		g.err = err
	}
	g.mu.Unlock()
	if first {
		g.cancel(err)
	}
}

// recordSkip keeps, for Wait, that a task was skipped because the group's
// context is done, and returns the context's cause, the skip's error.
func (g *Group) recordSkip() error {
	cause := context.Cause(g.ctx)
	g.mu.Lock()
	if g.cfg.collect {
		if g.skipCause == nil {
			g.skipCause = cause
		}
	} else if g.err == nil {
		g.err = cause // the context is done already: nothing to cancel
	}
	g.mu.Unlock()
	return cause
}

// finish gives task i its outcome, err (nil on success): recorded for Wait
// and told to report.
func (g *Group) finish(i int, err error) {
	if err != nil {
		g.record(i, err)
	}
	if g.report != nil {
		g.report(i, err)
	}
}

// skipTask gives task i, which will never run, the skip's outcome.
func (g *Group) skipTask(i int) {
	cause := g.recordSkip()
	if g.report != nil {
		g.report(i, cause)
	}
}

// release frees admitted task i's limit slot, tells the group's owner
// (after: a KeyedGroup's next task of the key), and lets Wait go on. It
// comes after the task's outcome, so Wait sees it.
func (g *Group) release(i int) {
	if g.sem != nil {
		<-g.sem
	}
	if g.after != nil {
		g.after(i)
	}
	g.done()
}

// done counts out an accepted task that has finished: Wait goes on once
// none is left.
func (g *Group) done() {
	if g.track {
		g.active.Add(-1)
		g.pending.notify()
	}
	g.wg.Done()
}

// drop finishes task i, accepted but never handed to the pool (a
// KeyedGroup's task behind its key when the group's context ended), as
// skipped. It holds no limit slot.
func (g *Group) drop(i int) {
	g.unaccept()
	g.skipTask(i)
	g.done()
}

// dispatch hands task i, accepted (counted in Wait, holding its WithLimit
// slot if any), to the pool without waiting for a worker: it is placed, or
// posted in line, listed as pending either way. It returns ErrPoolClosed,
// and leaves task i to the caller, if the pool is released.
func (g *Group) dispatch(i int, task func(ctx context.Context) error) error {
	j, m := g.job(i, task)
	g.pending.add(m.link)
	refuse := func(err error) {
		if g.pending.take(m.link) {
			g.begin(m)
			g.end(i, err)
		}
	}
	if _, err := post(g.pool, j, refuse); err != nil {
		if g.pending.take(m.link) {
			g.begin(m)
			return err
		}
	}
	return nil
}

// end finishes admitted task i with err and releases it.
func (g *Group) end(i int, err error) {
	g.finish(i, err)
	g.release(i)
}

// call runs one attempt of task i on this goroutine, with the group's
// context, or with a context that ends after WithTaskTimeout's d, through
// the pool's Interceptor (told meta), and returns its error; a panic,
// the interceptor's included, is recovered, and its error is a *PanicError
// with the value and the stack. If the task calls runtime.Goexit, call
// does not return: task i is ended with ErrGoexit as the goroutine unwinds.
func (g *Group) call(i int, task func(ctx context.Context) error, meta TaskMeta) (panicked bool, err error) {
	ctx := g.taskCtx
	if d := g.cfg.taskTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	protect(func() { err = intercept(g.ic, ctx, meta, task) }, func(v any) {
		panicked, err = true, &PanicError{Value: v, Stack: debug.Stack()}
	}, func() { g.end(i, ErrGoexit) })
	return panicked, err
}
