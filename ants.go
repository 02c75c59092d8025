// Package ants is a goroutine pool: it runs tasks on a bounded set of reused
// worker goroutines, with context on every blocking call and a shutdown a
// service can rely on.
//
// It is a drop-in replacement for github.com/panjf2000/ants/v2: every name
// that package exports for its pools is here with the same signature and
// meaning, so a v2 program needs only its import path changed. On top of
// that:
//
//   - SubmitCtx and InvokeCtx bound the wait for a worker with a context;
//     all waiting callers of a pool are served first-come first-served.
//   - ReleaseContext returns only when every task has returned and every
//     goroutine the pool started has exited.
//   - Pool.Group runs an errgroup-style Group on the pool's own workers,
//     with retries (WithRetry) that hold no worker while they wait.
//   - Fan-out returns values and every error: ResultGroup, Map, ForEach and
//     MapSeq (streaming over an iter.Seq) keep results in input order, and
//     WithCollectErrors runs every task and joins every error; SubmitValue
//     returns a Future for one task. They take any Runner: a Pool or a
//     MultiPool.
//   - KeyedGroup runs tasks that carry a key one at a time per key, in
//     order, and different keys in parallel, with no worker held by a task
//     waiting behind its key; WithRateLimit paces every attempt of a
//     group's tasks, retries included, holding no worker while it waits.
//   - A task may fan out again on its own pool and wait (a Group in a
//     group task, Map in Map, SubmitValue then Future.Wait): a call made
//     with the task's context never waits for the pool's workers, and a
//     nested Wait runs its own tasks not yet started, so recursion on one
//     bounded pool cannot deadlock. WithCallerRuns runs a task that would
//     wait on its caller.
//   - Bad input (a nil task, a nil context, a bad option) returns an error
//     instead of panicking, hanging or dropping the task.
//
// Pool runs closures; PoolWithFunc and PoolWithFuncGeneric run one bound
// function on the arguments they are given, without allocating per call for
// the generic one. All three share one worker and one admission path.
//
// The package-level functions (Submit, SubmitCtx, Running, ...) use a
// default Pool of DefaultAntsPoolSize workers, created on first use:
// importing the package starts no goroutine, and neither does creating a
// pool, until a task arrives.
//
// # How a task is admitted
//
// Every submit, of every pool type, is admitted in one place: the task is
// handed to an idle worker, or to a new one while the pool has room, or,
// with WithQueueSize, put in the pool's queue while it has room. When none
// can take it, the submit waits in the pool's line, first-come
// first-served with every other caller (or, with WithNonblocking, is
// refused with ErrPoolOverload). A worker whose task returns takes the next
// task itself: the oldest queued one, else the oldest in line.
//
// # Compatibility
//
// Against github.com/panjf2000/ants/v2 (v2.12), a program that only
// changes its import path compiles and behaves the same, with these
// differences, each where v2 loses a task, hangs or panics:
//
//   - A nil task (Submit(nil)) returns ErrNilTask on an open pool; v2 hands
//     the nil to a worker, which then exits. Invoke(nil) on a func pool
//     runs the function with a nil argument; v2 drops it.
//   - A negative MaxBlockingTasks is rejected with
//     ErrInvalidMaxBlockingTasks; v2 accepts it and then refuses every
//     submit that would wait.
//   - Callers waiting for a worker are served first-come first-served, from
//     one line per pool (v2 wakes one at random); a MultiPool's callers
//     share one line and take the first worker any sub-pool frees, where v2
//     waits on the sub-pool it picked.
//   - ReleaseContext (and ReleaseTimeout) also waits for the tasks still
//     running and the pool's panic handlers, not only for the workers to be
//     told to stop.
//
// Kept from v2 on purpose: Running counts idle workers until they expire;
// a panicking task ends its worker goroutine (its slot goes to the next
// task first, then the PanicHandler runs); Reboot waits for the previous
// run's goroutines before it reopens the pool; Tune does nothing on a
// PreAlloc or unlimited pool; a released pool answers every submit, nil
// task or not, with ErrPoolClosed; ReleaseContext on a released pool
// returns ErrPoolClosed at once.
//
// Against golang.org/x/sync/errgroup, a Group runs its tasks on the pool's
// workers instead of a goroutine each; WithLimit(0) means no limit, where
// SetLimit(0) blocks every Go; a panic becomes the group's error (a
// *PanicError) instead of crashing the program; and Go waits, cancellably,
// for a worker. Against github.com/sourcegraph/conc, Go's wait for a
// worker ends when the group's context does.
package ants

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultAntsPoolSize is the capacity of the default pool.
	DefaultAntsPoolSize = math.MaxInt32

	// DefaultCleanIntervalTime is the expiry duration used when none is set:
	// how long a worker may stay idle before it exits.
	DefaultCleanIntervalTime = time.Second
)

// The states of a pool. IsClosed reports the state.
const (
	// OPENED is the state of a pool that accepts tasks.
	OPENED = iota
	// CLOSED is the state of a released pool.
	CLOSED
)

var (
	// ErrLackPoolFunc is returned by the func pool constructors for a nil function.
	ErrLackPoolFunc = errors.New("ants: must provide function for pool")

	// ErrInvalidPoolExpiry is returned by the constructors for a negative
	// expiry duration while purging is enabled.
	ErrInvalidPoolExpiry = errors.New("ants: invalid expiry for pool")

	// ErrPoolClosed is returned by every submit on a released pool, and to the
	// callers still waiting for a worker when the pool is released. It is also
	// returned by ReleaseTimeout and ReleaseContext on a pool already released.
	ErrPoolClosed = errors.New("ants: pool closed")

	// ErrPoolOverload is returned by a submit that finds no free worker and may
	// not wait: the pool is Nonblocking, or MaxBlockingTasks callers already wait.
	ErrPoolOverload = errors.New("ants: too many goroutines blocked on submit or Nonblocking is set")

	// ErrInvalidPreAllocSize is returned by the constructors for WithPreAlloc
	// with a size <= 0 (an unlimited pool cannot preallocate).
	ErrInvalidPreAllocSize = errors.New("ants: can not set up a negative capacity under PreAlloc mode")

	// ErrTimeout is returned by ReleaseTimeout when the pool's goroutines have
	// not all exited in time.
	ErrTimeout = errors.New("ants: operation timed out")

	// ErrInvalidPoolIndex is returned by the multi-pools' ...ByIndex methods
	// for an index out of range.
	ErrInvalidPoolIndex = errors.New("ants: invalid pool index")

	// ErrInvalidLoadBalancingStrategy is returned by the multi-pool
	// constructors for an unknown strategy.
	ErrInvalidLoadBalancingStrategy = errors.New("ants: invalid load-balancing strategy")

	// ErrInvalidMultiPoolSize is returned by the multi-pool constructors for a
	// size <= 0.
	ErrInvalidMultiPoolSize = errors.New("ants: invalid size for multiple pool")

	// ErrInvalidMaxBlockingTasks is returned by the constructors for a
	// negative MaxBlockingTasks.
	ErrInvalidMaxBlockingTasks = errors.New("ants: negative MaxBlockingTasks")

	// ErrInvalidQueueSize is returned by the constructors for a negative
	// QueueSize (WithQueueSize).
	ErrInvalidQueueSize = errors.New("ants: negative queue size")

	// ErrInvalidCallerRuns is returned by the constructors for
	// WithCallerRuns(true) together with WithNonblocking(true): a submit
	// that finds no free worker cannot both run its task and refuse it.
	ErrInvalidCallerRuns = errors.New("ants: WithCallerRuns and WithNonblocking together")

	// ErrNilTask is returned by Submit and SubmitCtx for a nil task, on an
	// open pool, and is the error of a nil Group task.
	ErrNilTask = errors.New("ants: nil task")

	// ErrNilContext is returned by SubmitCtx and InvokeCtx for a nil context,
	// on an open pool.
	ErrNilContext = errors.New("ants: nil context")
)

// Logger is used for logging formatted messages.
type Logger interface {
	// Printf must have the same semantics as log.Printf.
	Printf(format string, args ...any)
}

var defaultLogger Logger = log.New(os.Stderr, "[ants]: ", log.LstdFlags|log.Lmsgprefix|log.Lmicroseconds)

// SlogLogger returns a Logger that writes to l, for WithLogger: a panic in
// a task (when no PanicHandler is set) becomes one record at level Error,
// "ants: worker exits from panic", with the panic value and the stack as
// the attributes "panic" and "stack"; any other message is an Info record
// with the formatted text. A nil l means slog.Default() at each call.
//
// (slog.NewLogLogger(handler, level) works too, as any log.Logger does, but
// puts the stack inside the message.)
func SlogLogger(l *slog.Logger) Logger { return slogLogger{l} }

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) logger() *slog.Logger {
	if s.l == nil {
		return slog.Default()
	}
	return s.l
}

// Printf logs the formatted message as an Info record.
func (s slogLogger) Printf(format string, args ...any) {
	s.logger().Info(strings.TrimSuffix(fmt.Sprintf(format, args...), "\n"))
}

func (s slogLogger) logPanic(value any, stack []byte) {
	s.logger().Error("ants: worker exits from panic", "panic", value, "stack", string(stack))
}

// panicLogger is a Logger that logs a task's panic as a record of its own
// (SlogLogger's); the pool prefers it to Printf for panics.
type panicLogger interface {
	logPanic(value any, stack []byte)
}

// defaultPool returns the pool behind the package-level functions, creating
// it on first use.
var defaultPool = sync.OnceValue(func() *Pool {
	p, err := NewPool(DefaultAntsPoolSize)
	if err != nil {
		panic("ants: cannot create the default pool: " + err.Error()) // unreachable: no options
	}
	return p
})

// Submit runs task on the default pool; see Pool.Submit.
func Submit(task func()) error { return defaultPool().Submit(task) }

// SubmitCtx runs task(ctx) on the default pool; see Pool.SubmitCtx.
func SubmitCtx(ctx context.Context, task func(context.Context)) error {
	return defaultPool().SubmitCtx(ctx, task)
}

// Running returns the number of workers alive in the default pool; see Pool.Running.
func Running() int { return defaultPool().Running() }

// Cap returns the capacity of the default pool, DefaultAntsPoolSize unless tuned.
func Cap() int { return defaultPool().Cap() }

// Free returns the number of workers the default pool may still start; see Pool.Free.
func Free() int { return defaultPool().Free() }

// Release closes the default pool without waiting; see Pool.Release.
func Release() { defaultPool().Release() }

// ReleaseTimeout closes the default pool and waits at most timeout for its
// goroutines to exit; see Pool.ReleaseTimeout.
func ReleaseTimeout(timeout time.Duration) error { return defaultPool().ReleaseTimeout(timeout) }

// ReleaseContext closes the default pool and waits, until ctx ends, for its
// goroutines to exit; see Pool.ReleaseContext. A nil ctx does not wait.
func ReleaseContext(ctx context.Context) error { return defaultPool().ReleaseContext(ctx) }

// Reboot reopens the default pool after a release; see Pool.Reboot.
func Reboot() { defaultPool().Reboot() }
