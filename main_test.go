package ants_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.uber.org/goleak"

	"github.com/antspool/ants"
)

func TestMain(m *testing.M) {
	// Importing the package must start nothing: no test has run yet, so any
	// goroutine beyond the test runner's own would be the package's.
	if err := goleak.Find(); err != nil {
		fmt.Fprintln(os.Stderr, "goroutines running at import:", err)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m)
}

// ---- every pool kind ----

// kinds is a set of pool kinds and the modes to build them in. A test that
// holds for every pool type ranges over the kinds it needs (ks.each, or
// newPools), builds each with newPool, and names its subtests after them.
type kinds uint16

const (
	kindPool         kinds = 1 << iota // *ants.Pool
	kindFunc                           // *ants.PoolWithFunc
	kindGeneric                        // *ants.PoolWithFuncGeneric[func()]
	kindMulti                          // *ants.MultiPool
	kindMultiFunc                      // *ants.MultiPoolWithFunc
	kindMultiGeneric                   // *ants.MultiPoolWithFuncGeneric[func()]

	defaultMode // as the constructor builds it: the mode when ks names none
	queueMode   // in queue mode: WithQueueSize(kindQueueSize), unless the test's options set a size
	leastTasks  // multi-pools balance with LeastTasks rather than RoundRobin

	singleKinds = kindPool | kindFunc | kindGeneric
	multiKinds  = kindMulti | kindMultiFunc | kindMultiGeneric
	allKinds    = singleKinds | multiKinds
	runnerKinds = kindPool | kindMulti // the pools of closures: Runners, with Group and TrySubmit
	funcKinds   = allKinds &^ runnerKinds
	bothModes   = defaultMode | queueMode
)

// kindQueueSize is the queue of each pool, or sub-pool, in queue mode.
const kindQueueSize = 2

// each returns the kinds of ks one by one, each in every mode ks names
// (the default mode if it names none), default mode first.
func (ks kinds) each() []kinds {
	modes := ks & bothModes
	if modes == 0 {
		modes = defaultMode
	}
	var out []kinds
	for k := kindPool; k <= kindMultiGeneric; k <<= 1 {
		for _, m := range []kinds{defaultMode, queueMode} {
			if ks&k != 0 && modes&m != 0 {
				out = append(out, k|m|ks&leastTasks)
			}
		}
	}
	return out
}

// String names one kind, short for -run: "pool", "multi-func",
// "generic/queue", "multi/least".
func (k kinds) String() string {
	s := map[kinds]string{
		kindPool: "pool", kindFunc: "func", kindGeneric: "generic",
		kindMulti: "multi", kindMultiFunc: "multi-func", kindMultiGeneric: "multi-generic",
	}[k&allKinds]
	if k&queueMode != 0 {
		s += "/queue"
	}
	if k&leastTasks != 0 && k&multiKinds != 0 {
		s += "/least"
	}
	return s
}

// anyPool is what every pool type offers besides its submits.
type anyPool interface {
	Running() int
	Free() int
	Waiting() int
	Cap() int
	Tune(size int)
	IsClosed() bool
	Release()
	ReleaseTimeout(time.Duration) error
	ReleaseContext(context.Context) error
	Reboot()
	Stats() ants.Stats
}

// testPool is a pool of any kind, seen through what every kind offers. Its
// tasks are funcs: a func pool is built with a function that calls its
// argument, and counts the calls with a nil one.
type testPool struct {
	anyPool              // the pool itself: *ants.Pool, *ants.MultiPoolWithFunc, ...
	kind     kinds       // one kind, in one mode
	name     string      // kind.String()
	subPools int         // a multi-pool's sub-pools; 1 for the others
	runner   ants.Runner // the pool, if it runs closures (Pool, MultiPool); nil for the func pools

	submit    func(task func()) error                      // Submit(task), or Invoke(task)
	submitCtx func(ctx context.Context, task func()) error // SubmitCtx(ctx, task), or InvokeCtx(ctx, task)
	try       func(task func()) error                      // TrySubmit(task), or TryInvoke(task)
	nilArgs   atomic.Int32                                 // the func pools' calls of their function with a nil argument
}

// buildPool builds a pool of kind k (one of ks.each()) with size workers
// in all and opts, or returns the constructor's error. A multi-pool has
// size sub-pools of one worker each; for size <= 0 (no limit), two
// sub-pools without a limit. A nil task stays nil: Submit(nil) and
// SubmitCtx(ctx, nil) get it, and a func pool's Invoke(nil) calls the
// function with a nil argument.
func buildPool(k kinds, size int, opts ...ants.Option) (*testPool, error) {
	tp := &testPool{kind: k, name: k.String(), subPools: 1}
	if k&queueMode != 0 {
		opts = append([]ants.Option{ants.WithQueueSize(kindQueueSize)}, opts...)
	}
	subPools, perPool := size, 1
	if size <= 0 {
		subPools, perPool = 2, size
	}
	lbs := ants.RoundRobin
	if k&leastTasks != 0 {
		lbs = ants.LeastTasks
	}
	run := func(task func()) {
		if task == nil {
			tp.nilArgs.Add(1)
			return
		}
		task()
	}
	runAny := func(arg any) {
		if arg == nil {
			run(nil)
			return
		}
		run(arg.(func()))
	}
	switch k & allKinds {
	case kindPool:
		p, err := ants.NewPool(size, opts...)
		if err != nil {
			return nil, err
		}
		tp.anyPool, tp.runner = p, p
		tp.submit, tp.submitCtx, tp.try = p.Submit, ctxTask(p.SubmitCtx), p.TrySubmit
	case kindFunc:
		p, err := ants.NewPoolWithFunc(size, runAny, opts...)
		if err != nil {
			return nil, err
		}
		tp.anyPool = p
		tp.submit, tp.submitCtx, tp.try = anyArg(p.Invoke), anyArgCtx(p.InvokeCtx), anyArg(p.TryInvoke)
	case kindGeneric:
		p, err := ants.NewPoolWithFuncGeneric(size, run, opts...)
		if err != nil {
			return nil, err
		}
		tp.anyPool = p
		tp.submit, tp.submitCtx, tp.try = p.Invoke, p.InvokeCtx, p.TryInvoke
	case kindMulti:
		p, err := ants.NewMultiPool(subPools, perPool, lbs, opts...)
		if err != nil {
			return nil, err
		}
		tp.anyPool, tp.runner, tp.subPools = p, p, subPools
		tp.submit, tp.submitCtx, tp.try = p.Submit, ctxTask(p.SubmitCtx), p.TrySubmit
	case kindMultiFunc:
		p, err := ants.NewMultiPoolWithFunc(subPools, perPool, runAny, lbs, opts...)
		if err != nil {
			return nil, err
		}
		tp.anyPool, tp.subPools = p, subPools
		tp.submit, tp.submitCtx, tp.try = anyArg(p.Invoke), anyArgCtx(p.InvokeCtx), anyArg(p.TryInvoke)
	case kindMultiGeneric:
		p, err := ants.NewMultiPoolWithFuncGeneric(subPools, perPool, run, lbs, opts...)
		if err != nil {
			return nil, err
		}
		tp.anyPool, tp.subPools = p, subPools
		tp.submit, tp.submitCtx, tp.try = p.Invoke, p.InvokeCtx, p.TryInvoke
	default:
		panic(fmt.Sprintf("buildPool: %d is not one kind", k))
	}
	return tp, nil
}

// newPool is buildPool that fails the test if the constructor fails.
func newPool(t testing.TB, k kinds, size int, opts ...ants.Option) *testPool {
	t.Helper()
	tp, err := buildPool(k, size, opts...)
	if err != nil {
		t.Fatalf("%s: %v", k, err)
	}
	return tp
}

// newPools returns newPool of every kind in ks.each().
func newPools(t testing.TB, ks kinds, size int, opts ...ants.Option) []*testPool {
	t.Helper()
	var pools []*testPool
	for _, k := range ks.each() {
		pools = append(pools, newPool(t, k, size, opts...))
	}
	return pools
}

// ctxTask adapts SubmitCtx to a task that does not take the context.
func ctxTask(submitCtx func(context.Context, func(context.Context)) error) func(context.Context, func()) error {
	return func(ctx context.Context, task func()) error {
		if task == nil {
			return submitCtx(ctx, nil)
		}
		return submitCtx(ctx, func(context.Context) { task() })
	}
}

// anyArg adapts Invoke(arg any) to a task; a nil task is a nil argument.
func anyArg(invoke func(any) error) func(func()) error {
	return func(task func()) error {
		if task == nil {
			return invoke(nil)
		}
		return invoke(task)
	}
}

// anyArgCtx is anyArg for InvokeCtx.
func anyArgCtx(invoke func(context.Context, any) error) func(context.Context, func()) error {
	return func(ctx context.Context, task func()) error {
		if task == nil {
			return invoke(ctx, nil)
		}
		return invoke(ctx, task)
	}
}

// ---- shared helpers ----

// releaser is what every pool type offers for shutdown.
type releaser interface {
	ReleaseContext(context.Context) error
}

// mustRelease releases p and fails the test unless every goroutine of p has
// exited within a few seconds.
func mustRelease(t testing.TB, p releaser) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.ReleaseContext(ctx); err != nil {
		t.Fatalf("ReleaseContext = %v, want nil", err)
	}
}

// gauge counts tasks in flight and remembers the most seen at once.
type gauge struct{ cur, max atomic.Int32 }

func (g *gauge) enter() {
	n := g.cur.Add(1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			return
		}
	}
}

func (g *gauge) exit() { g.cur.Add(-1) }

// blocker occupies workers until it is opened.
type blocker struct {
	started chan struct{} // receives once per task that started
	gate    chan struct{} // closed to let the tasks return
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 1024), gate: make(chan struct{})}
}

func (b *blocker) task() {
	b.started <- struct{}{}
	<-b.gate
}

func (b *blocker) open() { close(b.gate) }

// fill occupies n workers of p with b's task and waits until all run.
func (b *blocker) fill(t testing.TB, submit func(func()) error, n int) {
	t.Helper()
	for range n {
		if err := submit(b.task); err != nil {
			t.Fatalf("submit while filling the pool = %v", err)
		}
	}
	for range n {
		<-b.started
	}
}

// repeat calls f over and over on n goroutines until stop is closed. The
// returned progress blocks until the goroutines have made n calls more
// than before (so a loop that churns a pool between calls to progress
// cannot run ahead of them); wait blocks until all of them have returned.
func repeat(n int, stop <-chan struct{}, f func()) (progress, wait func()) {
	calls := make(chan struct{}, n) // a call's tick is dropped when n are pending
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					f()
				}
				select {
				case calls <- struct{}{}:
				default:
				}
			}
		}()
	}
	progress = func() {
		for range 2 * n { // at most n of these were pending
			<-calls
		}
	}
	return progress, wg.Wait
}

// rounds returns full, or short when the tests run with -short.
func rounds(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}

var errBoom = errors.New("boom")

func constantRetry(d time.Duration) func() backoff.BackOff {
	return func() backoff.BackOff { return backoff.NewConstantBackOff(d) }
}

// flaky returns a task that fails n times, then succeeds, and its call count.
func flaky(n int32) (func(context.Context) error, *atomic.Int32) {
	calls := new(atomic.Int32)
	return func(context.Context) error {
		if c := calls.Add(1); c <= n {
			return fmt.Errorf("attempt %d: %w", c, errBoom)
		}
		return nil
	}, calls
}

// joined returns the errors err joins, or err alone.
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// isClosed reports whether ch is closed (or has a value) right now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// seq returns 0, 1, ..., n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

//go:noinline
func panicInGroupTask(v any) { panic(v) }
