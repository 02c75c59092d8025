package ants_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
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
