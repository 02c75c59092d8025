package ants

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// LoadBalancingStrategy chooses the sub-pool of a multi-pool that a task
// tries first.
type LoadBalancingStrategy int

const (
	// RoundRobin tries the sub-pools in rotation.
	RoundRobin LoadBalancingStrategy = 1 << (iota + 1)

	// LeastTasks tries the sub-pool with the fewest workers alive first.
	LeastTasks
)

// multiPool is the one implementation behind MultiPool, MultiPoolWithFunc
// and MultiPoolWithFuncGeneric: n pools of the same kind that share a line.
//
// A submit offers its task to the sub-pool the strategy picks, then to the
// others: first for a worker that can take it at once, then, in queue
// mode, for room in a queue. Only if none can take it does it wait, in the
// line all sub-pools share, for whichever frees a place first. So a task
// never waits on a busy sub-pool while another has room, and waiting
// callers are served first-come first-served across the whole multi-pool.
type multiPool[T any] struct {
	index     atomic.Uint32  // RoundRobin's counter
	state     atomic.Int32   // OPENED or CLOSED
	waitingBy []atomic.Int32 // callers in line, by the sub-pool their strategy picked

	pools   []*core[T]
	waiters *line[T] // shared by pools
	lbs     LoadBalancingStrategy
}

// init validates the arguments and readies size sub-pools of sizePerPool
// workers each, calling call. It starts no goroutine.
func (mp *multiPool[T]) init(size, sizePerPool int, call func(T, time.Duration) outcome, lbs LoadBalancingStrategy, options []Option) error {
	if size <= 0 {
		return ErrInvalidMultiPoolSize
	}
	if lbs != RoundRobin && lbs != LeastTasks {
		return ErrInvalidLoadBalancingStrategy
	}
	if call == nil {
		return ErrLackPoolFunc // after the checks above, in ants v2's order
	}
	mp.pools = make([]*core[T], size)
	for i := range mp.pools {
		p := new(core[T])
		if err := p.init(sizePerPool, call, options); err != nil {
			return err
		}
		mp.pools[i] = p
	}
	// MaxBlockingTasks bounds the waiting callers of each sub-pool: the
	// shared line holds as many as the sub-pools would together.
	mp.waiters = &line[T]{maxWaiters: mp.pools[0].opts.MaxBlockingTasks * size}
	for i, p := range mp.pools {
		p.waiters = mp.waiters
		if p.opts.QueueSize > 0 {
			for k := 1; k < size; k++ {
				p.siblings = append(p.siblings, mp.pools[(i+k)%size])
			}
		}
	}
	mp.waitingBy = make([]atomic.Int32, size)
	mp.index.Store(^uint32(0)) // the first RoundRobin pick is sub-pool 0
	mp.lbs = lbs
	return nil
}

// pick returns the index of the sub-pool the strategy would try first.
func (mp *multiPool[T]) pick() int {
	if mp.lbs == LeastTasks {
		best, least := 0, int32(1<<31-1)
		for i, p := range mp.pools {
			if n := p.running.Load(); n < least {
				best, least = i, n
			}
		}
		return best
	}
	return int(mp.index.Add(1) % uint32(len(mp.pools)))
}

// place offers arg to the sub-pools, from the one the strategy picks: in
// queue mode first to those where a worker can take it at once, so that no
// task waits in a busy sub-pool's queue while another has a free worker,
// then to any whose queue has room. If none takes it, arg joins the shared
// line, as how says (a caller counts for the picked sub-pool, in
// WaitingByIndex), and the sub-pools serve the line once more: a place may
// have freed up, unseen, between their offers and the joining.
func (mp *multiPool[T]) place(arg T, refuse func(error), how overflow, ctx context.Context) (bool, *waiter[T], error) {
	first := mp.pick()
	queues := 0
	if mp.pools[0].opts.QueueSize > 0 {
		queues = 1
	}
	for pass := range 1 + queues {
		for k := range mp.pools {
			p := mp.pools[(first+k)%len(mp.pools)]
			if placed, err := p.offer(arg, refuse, pass == queues); placed || err != nil {
				return placed, nil, err
			}
		}
	}
	if runsHere(how, ctx, mp) {
		return false, nil, errRunHere
	}
	wt, err := mp.waiters.add(arg, refuse, how, &mp.waitingBy[first], mp.pools[0].clock())
	if wt == nil {
		return false, nil, err
	}
	open := true
	for _, p := range mp.pools {
		open = p.serve() && open
	}
	if !open && mp.waiters.leave(wt) {
		// Released before wt joined: the line was emptied already.
		if wt.ch != nil {
			mp.waiters.recycle(wt)
		}
		return false, nil, ErrPoolClosed
	}
	return false, wt, nil
}

func (mp *multiPool[T]) line() *line[T]           { return mp.waiters }
func (mp *multiPool[T]) queues() bool             { return mp.pools[0].queues() }
func (mp *multiPool[T]) owner() any               { return mp }
func (mp *multiPool[T]) interceptor() Interceptor { return mp.pools[0].interceptor() }

// runHere runs arg on the calling goroutine, as a task of the sub-pool the
// strategy picks; see core.inline.
func (mp *multiPool[T]) runHere(arg T) { mp.pools[mp.pick()].runHere(arg) }

// inline runs a task on the calling goroutine, as a task of the sub-pool
// the strategy picks; see core.inline.
func (mp *multiPool[T]) inline(run func() outcome) { mp.pools[mp.pick()].inline(run) }
func (mp *multiPool[T]) overflow() overflow        { return mp.pools[0].over }

// hold is core.hold on sub-pool 0, which counts the multi-pool's delayed
// Group retries: every sub-pool is released together, and Reboot opens
// none before every one's previous run has ended.
func (mp *multiPool[T]) hold(n int) (*run, bool) { return mp.pools[0].hold(n) }

func (mp *multiPool[T]) validIndex(idx int) bool { return idx >= 0 && idx < len(mp.pools) }

// Running returns the number of workers alive in all sub-pools.
func (mp *multiPool[T]) Running() (n int) {
	for _, p := range mp.pools {
		n += p.Running()
	}
	return n
}

// RunningByIndex returns the number of workers alive in sub-pool idx, or -1
// and ErrInvalidPoolIndex for an index out of range.
func (mp *multiPool[T]) RunningByIndex(idx int) (int, error) {
	if !mp.validIndex(idx) {
		return -1, ErrInvalidPoolIndex
	}
	return mp.pools[idx].Running(), nil
}

// Free returns the number of workers that may still be started across the
// sub-pools, or -1 if they have no limit.
func (mp *multiPool[T]) Free() int { return mp.sumOrUnlimited((*core[T]).Free) }

// FreeByIndex returns Free of sub-pool idx, or -1 and ErrInvalidPoolIndex
// for an index out of range.
func (mp *multiPool[T]) FreeByIndex(idx int) (int, error) {
	if !mp.validIndex(idx) {
		return -1, ErrInvalidPoolIndex
	}
	return mp.pools[idx].Free(), nil
}

// Waiting returns the number of callers blocked in a submit, waiting for a
// worker of any sub-pool (Group retries in line are not counted).
func (mp *multiPool[T]) Waiting() int { return mp.waiters.waiting() }

// WaitingByIndex returns how many of the waiting callers the strategy
// picked sub-pool idx for; each takes the first worker any sub-pool frees.
// It returns -1 and ErrInvalidPoolIndex for an index out of range.
func (mp *multiPool[T]) WaitingByIndex(idx int) (int, error) {
	if !mp.validIndex(idx) {
		return -1, ErrInvalidPoolIndex
	}
	return int(mp.waitingBy[idx].Load()), nil
}

// Cap returns the sum of the sub-pools' capacities, or -1 if they have no
// limit.
func (mp *multiPool[T]) Cap() int { return mp.sumOrUnlimited((*core[T]).Cap) }

// sumOrUnlimited adds f over the sub-pools, or returns -1, "no limit", if f
// says so for any of them (they share their options, so for all).
func (mp *multiPool[T]) sumOrUnlimited(f func(*core[T]) int) (n int) {
	for _, p := range mp.pools {
		v := f(p)
		if v < 0 {
			return -1
		}
		n += v
	}
	return n
}

// Tune sets every sub-pool's capacity to size, as Pool.Tune does for one.
func (mp *multiPool[T]) Tune(size int) {
	for _, p := range mp.pools {
		p.Tune(size)
	}
}

// IsClosed reports whether the multi-pool has been released (and not
// rebooted).
func (mp *multiPool[T]) IsClosed() bool { return mp.state.Load() == CLOSED }

// Release closes the multi-pool without waiting: every sub-pool is
// released as Pool.Release does, and every waiting caller gets
// ErrPoolClosed. It does nothing on a released multi-pool.
func (mp *multiPool[T]) Release() { mp.close() }

// ReleaseContext releases every sub-pool, as Release does, then waits until
// every task has returned and every goroutine of every sub-pool has exited,
// or until ctx ends. It returns nil, or the errors of the sub-pools that had
// not finished, each naming its index, joined with errors.Join, so
// errors.Is(err, context.DeadlineExceeded) holds after a deadline. It
// returns ErrPoolClosed at once on a multi-pool already released; a nil ctx
// releases without waiting.
func (mp *multiPool[T]) ReleaseContext(ctx context.Context) error {
	return mp.release(ctx, nil)
}

// ReleaseTimeout is ReleaseContext with a time limit: the error of each
// sub-pool that has not finished in time is ErrTimeout, so
// errors.Is(err, ErrTimeout) holds.
func (mp *multiPool[T]) ReleaseTimeout(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return mp.release(ctx, ErrTimeout)
}

// close releases every sub-pool and returns their ended runs, or nil if
// the multi-pool was released already.
func (mp *multiPool[T]) close() []*run {
	if !mp.state.CompareAndSwap(OPENED, CLOSED) {
		return nil
	}
	runs := make([]*run, len(mp.pools))
	for i, p := range mp.pools {
		runs[i] = p.close()
	}
	return runs
}

// release does ReleaseContext's work; late, if not nil, replaces ctx's
// error in the sub-pools' errors.
func (mp *multiPool[T]) release(ctx context.Context, late error) error {
	runs := mp.close()
	if runs == nil {
		return ErrPoolClosed
	}
	if ctx == nil {
		return nil
	}
	var errs []error
	for i, r := range runs {
		if r == nil {
			continue
		}
		select {
		case <-r.done:
			continue
		default:
		}
		select {
		case <-r.done:
		case <-ctx.Done():
			err := late
			if err == nil {
				err = ctx.Err()
			}
			errs = append(errs, &subPoolError{i, err})
		}
	}
	return errors.Join(errs...)
}

// subPoolError is the error of sub-pool i of a multi-pool that did not
// finish releasing in time: "ants: pool i: " and err's message, with err's
// own "ants: " prefix dropped, so the message has one prefix. It unwraps to
// err (ErrTimeout, or the context's error).
type subPoolError struct {
	i   int
	err error
}

func (e *subPoolError) Error() string {
	return fmt.Sprintf("ants: pool %d: %s", e.i, strings.TrimPrefix(e.err.Error(), "ants: "))
}

func (e *subPoolError) Unwrap() error { return e.err }

// Reboot reopens a released multi-pool. It first waits, without a time
// limit, for every goroutine of every sub-pool's previous run to exit, as
// Pool.Reboot does, and only then reopens the sub-pools, so no task of the
// previous run (a Group task about to retry, say) meets an open sub-pool.
// It does nothing on an open multi-pool.
func (mp *multiPool[T]) Reboot() {
	if !mp.IsClosed() {
		return
	}
	for _, p := range mp.pools {
		if done := p.closedRunDone(); done != nil {
			<-done
		}
	}
	for _, p := range mp.pools {
		p.Reboot()
	}
	if mp.state.CompareAndSwap(CLOSED, OPENED) {
		mp.index.Store(^uint32(0))
	}
}

// MultiPool is a set of Pools behind one Submit, for programs whose single
// pool's lock is contended. Each task goes to a free worker of the sub-pool
// that the load-balancing strategy picks, or else of any other sub-pool;
// when every sub-pool is full, callers wait in one first-come first-served
// line and take the first worker any sub-pool frees.
//
// Methods behave as Pool's do for one pool; the ...ByIndex methods look at
// one sub-pool. All methods are safe for concurrent use. The zero
// MultiPool is not usable; create one with NewMultiPool. It must not be
// copied.
type MultiPool struct {
	multiPool[job]
}

// NewMultiPool returns a multi-pool of size sub-pools of sizePerPool
// workers each (sizePerPool <= 0: no limit), configured by options, which
// apply to every sub-pool. It returns ErrInvalidMultiPoolSize for size <= 0,
// ErrInvalidLoadBalancingStrategy for a strategy other than RoundRobin and
// LeastTasks, and NewPool's errors for bad options. No goroutine starts
// until a task arrives.
func NewMultiPool(size, sizePerPool int, lbs LoadBalancingStrategy, options ...Option) (*MultiPool, error) {
	mp := new(MultiPool)
	if err := mp.init(size, sizePerPool, job.do, lbs, options); err != nil {
		return nil, err
	}
	return mp, nil
}

// Submit runs task on a worker of some sub-pool, waiting for one as
// Pool.Submit does; see MultiPool for which sub-pool.
func (mp *MultiPool) Submit(task func()) error { return submitTask(&mp.multiPool, task) }

// TrySubmit runs task on a worker of any sub-pool that has one free, or
// room to start one, right now, or, in queue mode, in a sub-pool's queue
// that has room; it never waits. Errors as Pool.TrySubmit's:
// ErrPoolOverload when every sub-pool is busy and at capacity (and every
// queue full).
func (mp *MultiPool) TrySubmit(task func()) error { return trySubmitTask(&mp.multiPool, task) }

// SubmitCtx runs task(ctx) on a worker of some sub-pool, with
// Pool.SubmitCtx's semantics: the wait ends when ctx does.
func (mp *MultiPool) SubmitCtx(ctx context.Context, task func(context.Context)) error {
	return submitTaskCtx(&mp.multiPool, ctx, task)
}

// Group returns a Group whose tasks run on the multi-pool's workers; see
// Pool.Group. A retry waiting for a worker stands in the shared line.
func (mp *MultiPool) Group(ctx context.Context, opts ...GroupOption) *Group {
	return newGroup(&mp.multiPool, ctx, opts)
}

// MultiPoolWithFunc is a MultiPool of PoolWithFuncs, all running the same
// function. All methods are safe for concurrent use; it must not be copied.
type MultiPoolWithFunc struct {
	multiPool[any]
}

// NewMultiPoolWithFunc returns a multi-pool of size sub-pools of
// sizePerPool workers each, all running fn. Errors as NewMultiPool's, and
// ErrLackPoolFunc for a nil fn.
func NewMultiPoolWithFunc(size, sizePerPool int, fn func(any), lbs LoadBalancingStrategy, options ...Option) (*MultiPoolWithFunc, error) {
	mp := new(MultiPoolWithFunc)
	if err := mp.init(size, sizePerPool, bind(fn), lbs, options); err != nil {
		return nil, err
	}
	return mp, nil
}

// Invoke runs the function with arg on a worker of some sub-pool, as
// PoolWithFunc.Invoke does.
func (mp *MultiPoolWithFunc) Invoke(arg any) error { return invoke(&mp.multiPool, arg) }

// TryInvoke runs the function with arg on a worker of any sub-pool that
// has one free right now (or, in queue mode, room in its queue), as
// PoolWithFunc.TryInvoke does; it never waits.
func (mp *MultiPoolWithFunc) TryInvoke(arg any) error { return tryInvoke(&mp.multiPool, arg) }

// InvokeCtx is Invoke with the wait for a worker bounded by ctx, as in
// PoolWithFunc.InvokeCtx.
func (mp *MultiPoolWithFunc) InvokeCtx(ctx context.Context, arg any) error {
	return invokeCtx(&mp.multiPool, ctx, arg)
}

// MultiPoolWithFuncGeneric is a MultiPool of PoolWithFuncGeneric[T]s, all
// running the same function. All methods are safe for concurrent use; it
// must not be copied.
type MultiPoolWithFuncGeneric[T any] struct {
	multiPool[T]
}

// NewMultiPoolWithFuncGeneric returns a multi-pool of size sub-pools of
// sizePerPool workers each, all running fn. Errors as NewMultiPool's, and
// ErrLackPoolFunc for a nil fn.
func NewMultiPoolWithFuncGeneric[T any](size, sizePerPool int, fn func(T), lbs LoadBalancingStrategy, options ...Option) (*MultiPoolWithFuncGeneric[T], error) {
	mp := new(MultiPoolWithFuncGeneric[T])
	if err := mp.init(size, sizePerPool, bind(fn), lbs, options); err != nil {
		return nil, err
	}
	return mp, nil
}

// Invoke runs the function with arg on a worker of some sub-pool, as
// PoolWithFuncGeneric.Invoke does.
func (mp *MultiPoolWithFuncGeneric[T]) Invoke(arg T) error { return invoke(&mp.multiPool, arg) }

// TryInvoke runs the function with arg on a worker of any sub-pool that
// has one free right now (or, in queue mode, room in its queue), as
// PoolWithFuncGeneric.TryInvoke does; it never waits.
func (mp *MultiPoolWithFuncGeneric[T]) TryInvoke(arg T) error {
	return tryInvoke(&mp.multiPool, arg)
}

// InvokeCtx is Invoke with the wait for a worker bounded by ctx, as in
// PoolWithFuncGeneric.InvokeCtx.
func (mp *MultiPoolWithFuncGeneric[T]) InvokeCtx(ctx context.Context, arg T) error {
	return invokeCtx(&mp.multiPool, ctx, arg)
}
