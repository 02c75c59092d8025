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
// returned wait blocks until all of them have returned.
func repeat(n int, stop <-chan struct{}, f func()) (wait func()) {
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
			}
		}()
	}
	return wg.Wait
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

//go:noinline
func panicInGroupTask(v any) { panic(v) }

// groupPool is what Pool and MultiPool offer a test of groups.
type groupPool interface {
	ants.Runner
	Submit(func()) error
	Waiting() int
	Release()
	ReleaseContext(context.Context) error
	Reboot()
}

// groupPools returns a pool and a multi-pool, each of n workers in all.
func groupPools(t *testing.T, n int, opts ...ants.Option) []struct {
	name string
	pool groupPool
} {
	t.Helper()
	p, err := ants.NewPool(n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := ants.NewMultiPool(n, 1, ants.RoundRobin, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return []struct {
		name string
		pool groupPool
	}{{"Pool", p}, {"MultiPool", mp}}
}

// resultRunners returns a pool and a multi-pool of four workers each, for
// the tests that run the same ResultGroup scenario on both.
func resultRunners(t *testing.T, opts ...ants.Option) []struct {
	name string
	pool groupPool
} {
	t.Helper()
	p, err := ants.NewPool(4, opts...)
	if err != nil {
		t.Fatal(err)
	}
	mp, err := ants.NewMultiPool(2, 2, ants.RoundRobin, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return []struct {
		name string
		pool groupPool
	}{{"on a Pool", p}, {"on a MultiPool", mp}}
}
