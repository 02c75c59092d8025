package ants_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/antspool/ants"
)

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

// Release ends a retry that waits out its delay at once, with
// ErrPoolClosed: Wait does not sit out the delay, ReleaseContext returns
// without waiting for the timer, and no attempt runs later, not even on the
// pool after Reboot.
func TestReleaseEndsGroupRetriesWaitingOutTheirDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range groupPools(t, 2) {
			p := tc.pool
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(time.Hour)))
			var attempts atomic.Int32
			g.Go(func(context.Context) error { attempts.Add(1); return errBoom })
			synctest.Wait() // the first attempt failed; the retry is an hour away
			waited := make(chan error, 1)
			go func() { waited <- g.Wait() }()
			synctest.Wait()

			start := time.Now()
			if err := p.ReleaseContext(context.Background()); err != nil {
				t.Fatalf("%s: ReleaseContext = %v", tc.name, err)
			}
			if err := <-waited; !errors.Is(err, ants.ErrPoolClosed) {
				t.Errorf("%s: Wait = %v, want ErrPoolClosed", tc.name, err)
			}
			if d := time.Since(start); d != 0 {
				t.Errorf("%s: Release and Wait took %v, want no wait for the retry's delay", tc.name, d)
			}

			p.Reboot()
			time.Sleep(2 * time.Hour) // any timer left behind would fire now
			synctest.Wait()
			if n := attempts.Load(); n != 1 {
				t.Errorf("%s: %d attempts, want 1: no retry after Release, nor after Reboot", tc.name, n)
			}
			mustRelease(t, p)
		}
	})
}

// A retry whose attempt fails after Release (it was running then) does not
// sleep: it ends with ErrPoolClosed, and Reboot does not revive it.
func TestGroupTaskFailingAfterReleaseIsNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range groupPools(t, 2) {
			p := tc.pool
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(time.Minute)))
			started, fail := make(chan struct{}), make(chan struct{})
			var attempts atomic.Int32
			g.Go(func(context.Context) error {
				if attempts.Add(1) == 1 {
					close(started)
					<-fail
				}
				return errBoom
			})
			<-started
			p.Release()
			close(fail)
			if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
				t.Errorf("%s: Wait = %v, want ErrPoolClosed", tc.name, err)
			}
			p.Reboot()
			time.Sleep(time.Hour)
			synctest.Wait()
			if n := attempts.Load(); n != 1 {
				t.Errorf("%s: %d attempts, want 1", tc.name, n)
			}
			mustRelease(t, p)
		}
	})
}

func TestPanicErrorMessageIsOneLine(t *testing.T) {
	p, _ := ants.NewPool(1)
	defer mustRelease(t, p)
	g := p.Group(context.Background())
	g.Go(func(context.Context) error { panicInGroupTask("kaboom"); return nil })
	err := g.Wait()
	var pe *ants.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Wait = %v, want a *PanicError", err)
	}
	const want = "ants: group task panicked: kaboom"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	for _, verb := range []string{"%v", "%s"} {
		if got := fmt.Sprintf(verb, err); got != want {
			t.Errorf("Sprintf(%s) = %q, want %q", verb, got, want)
		}
	}
	if got := fmt.Sprintf("%q", err); got != fmt.Sprintf("%q", want) {
		t.Errorf("Sprintf(%%q) = %s", got)
	}
	long := fmt.Sprintf("%+v", err)
	if !strings.HasPrefix(long, want+"\n") || !strings.Contains(long, "panicInGroupTask") {
		t.Errorf("Sprintf(%%+v) = %q, want the message and then the stack", long)
	}
	if !strings.Contains(string(pe.Stack), "panicInGroupTask") {
		t.Errorf("Stack lacks the panicking function:\n%s", pe.Stack)
	}
}

// Waiting counts callers blocked in a submit, and nothing else: a Group
// retry waiting for a worker is not one, and does not count against
// MaxBlockingTasks either.
func TestWaitingCountsOnlyBlockedCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range groupPools(t, 1, ants.WithMaxBlockingTasks(1)) {
			p := tc.pool
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(time.Millisecond)))
			var attempts atomic.Int32
			g.Go(func(context.Context) error {
				if attempts.Add(1) == 1 {
					return errBoom
				}
				return nil
			})
			synctest.Wait()
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			time.Sleep(time.Millisecond) // the retry comes due and waits for the worker
			synctest.Wait()
			if n := p.Waiting(); n != 0 {
				t.Errorf("%s: Waiting = %d with only a retry in line, want 0", tc.name, n)
			}
			blocked := make(chan error, 1)
			go func() { blocked <- p.Submit(func() {}) }()
			synctest.Wait()
			if n := p.Waiting(); n != 1 {
				t.Errorf("%s: Waiting = %d with a caller blocked (MaxBlockingTasks 1), want 1", tc.name, n)
			}
			b.open()
			if err := <-blocked; err != nil {
				t.Errorf("%s: the blocked caller's Submit = %v, want nil", tc.name, err)
			}
			if err := g.Wait(); err != nil {
				t.Errorf("%s: Wait = %v", tc.name, err)
			}
			if n := attempts.Load(); n != 2 {
				t.Errorf("%s: %d attempts, want 2", tc.name, n)
			}
			mustRelease(t, p)
		}
	})
}
