package ants_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

func TestGroupRetryFollowsThePolicy(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			t.Run("until-success", func(t *testing.T) { // until success, telling notify of each retry
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 2)
					var mu sync.Mutex
					var notes []string
					notify := func(attempt int, err error, next time.Duration) {
						mu.Lock()
						defer mu.Unlock()
						notes = append(notes, fmt.Sprintf("%d:%v:%v", attempt, err, next))
					}
					g := p.runner.Group(context.Background(), ants.WithRetry(constantRetry(10*time.Millisecond), notify))
					task, calls := flaky(2)
					start := time.Now()
					g.Go(task)
					if err := g.Wait(); err != nil {
						t.Fatalf("Wait = %v", err)
					}
					if d := time.Since(start); d != 20*time.Millisecond {
						t.Errorf("took %v, want two 10ms delays", d)
					}
					if calls.Load() != 3 {
						t.Errorf("%d attempts, want 3", calls.Load())
					}
					if want := "[1:attempt 1: boom:10ms 2:attempt 2: boom:10ms]"; fmt.Sprint(notes) != want {
						t.Errorf("notify saw %v, want %v", notes, want)
					}
					mustRelease(t, p)
				})
			})
			t.Run("policy-per-task", func(t *testing.T) { // the policy is built once per failing task
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 4)
					var built atomic.Int32
					g := p.runner.Group(context.Background(), ants.WithRetry(func() backoff.BackOff {
						built.Add(1)
						return backoff.NewConstantBackOff(time.Millisecond)
					}))
					for range 5 {
						task, _ := flaky(3)
						g.Go(task)
					}
					g.Go(func(context.Context) error { return nil }) // never fails: no policy
					if err := g.Wait(); err != nil {
						t.Fatal(err)
					}
					if built.Load() != 5 {
						t.Errorf("policy built %d times for 5 failing tasks, want 5", built.Load())
					}
					mustRelease(t, p)
				})
			})
			t.Run("permanent-stop", func(t *testing.T) { // stops on Permanent, on Stop, and gives the last error
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 2)
					g := p.runner.Group(context.Background(), ants.WithRetry(constantRetry(time.Millisecond)))
					var calls atomic.Int32
					errBad := errors.New("bad request")
					g.Go(func(context.Context) error { calls.Add(1); return backoff.Permanent(errBad) })
					if err := g.Wait(); err != errBad || calls.Load() != 1 {
						t.Errorf("Permanent: Wait = %v after %d attempts, want errBad after 1", err, calls.Load())
					}
					g = p.runner.Group(context.Background(), ants.WithRetry(func() backoff.BackOff {
						return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 2)
					}))
					task, n := flaky(100)
					g.Go(task)
					if err := g.Wait(); err == nil || err.Error() != "attempt 3: boom" {
						t.Errorf("WithMaxRetries(2): Wait = %v, want the third attempt's error", err)
					}
					if n.Load() != 3 {
						t.Errorf("WithMaxRetries(2) made %d attempts, want 3", n.Load())
					}
					mustRelease(t, p)
				})
			})
			t.Run("holds-no-worker", func(t *testing.T) { // a task waiting to retry holds no worker
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 1)
					g := p.runner.Group(context.Background(), ants.WithRetry(constantRetry(time.Second)))
					task, calls := flaky(1)
					g.Go(task)
					synctest.Wait() // the first attempt failed; the retry is a second away
					other := make(chan time.Time, 1)
					start := time.Now()
					if err := p.submit(func() { other <- time.Now() }); err != nil {
						t.Fatal(err)
					}
					if at := <-other; at.Sub(start) != 0 {
						t.Errorf("another task waited %v for the pool's only worker", at.Sub(start))
					}
					if err := g.Wait(); err != nil {
						t.Fatal(err)
					}
					if calls.Load() != 2 {
						t.Errorf("%d attempts, want 2", calls.Load())
					}
					mustRelease(t, p)
				})
			})
			t.Run("cancel-in-delay", func(t *testing.T) { // cancel during the delay ends the task at once with its last error
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 1)
					parent, cancel := context.WithCancel(context.Background())
					g := p.runner.Group(parent, ants.WithRetry(constantRetry(time.Hour)))
					task, calls := flaky(100)
					g.Go(task)
					synctest.Wait()
					start := time.Now()
					cancel()
					err := g.Wait()
					if d := time.Since(start); d != 0 {
						t.Errorf("Wait returned %v after the cancel, want at once", d)
					}
					if err == nil || err.Error() != "attempt 1: boom" {
						t.Errorf("Wait = %v, want the last attempt's error", err)
					}
					if calls.Load() != 1 {
						t.Errorf("%d attempts, want 1", calls.Load())
					}
					mustRelease(t, p)
				})
			})
			t.Run("cancel-in-line", func(t *testing.T) { // cancel while the retry waits in the pool's line withdraws it
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 1)
					parent, cancel := context.WithCancel(context.Background())
					g := p.runner.Group(parent, ants.WithRetry(constantRetry(10*time.Millisecond)))
					task, calls := flaky(100)
					g.Go(task)
					synctest.Wait()
					b := newBlocker()
					b.fill(t, p.submit, 1) // the pool's worker is busy when the retry comes due
					time.Sleep(20 * time.Millisecond)
					synctest.Wait()
					if p.Waiting() != 0 {
						t.Fatalf("Waiting = %d with a retry in line, want 0: a retry is not a blocked caller", p.Waiting())
					}
					cancel()
					if err := g.Wait(); err == nil || err.Error() != "attempt 1: boom" {
						t.Errorf("Wait = %v, want the last attempt's error", err)
					}
					if p.Waiting() != 0 {
						t.Errorf("Waiting = %d after the group ended, want 0", p.Waiting())
					}
					b.open()
					mustRelease(t, p)
					if calls.Load() != 1 {
						t.Errorf("%d attempts, want 1", calls.Load())
					}
				})
			})
			t.Run("release-in-line", func(t *testing.T) { // release refuses a retry waiting in line
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 1)
					g := p.runner.Group(context.Background(), ants.WithRetry(constantRetry(10*time.Millisecond)))
					task, _ := flaky(100)
					g.Go(task)
					synctest.Wait()
					b := newBlocker()
					b.fill(t, p.submit, 1)
					time.Sleep(20 * time.Millisecond)
					synctest.Wait()
					p.Release()
					if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
						t.Errorf("Wait = %v, want ErrPoolClosed", err)
					}
					b.open()
				})
			})
			t.Run("release-in-delay", func(t *testing.T) { // release while the retry sleeps
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 1)
					g := p.runner.Group(context.Background(), ants.WithRetry(constantRetry(10*time.Millisecond)))
					task, _ := flaky(100)
					g.Go(task)
					synctest.Wait()
					p.Release()
					if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
						t.Errorf("Wait = %v, want ErrPoolClosed", err)
					}
				})
			})
		})
	}
}

// Release ends a retry that waits out its delay at once, with
// ErrPoolClosed: Wait does not sit out the delay, ReleaseContext returns
// without waiting for the timer, and no attempt runs later, not even on the
// pool after Reboot.
func TestReleaseEndsGroupRetriesWaitingOutTheirDelay(t *testing.T) {
	for _, k := range (runnerKinds | bothModes).each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 2)
				g := p.runner.Group(context.Background(), ants.WithRetry(constantRetry(time.Hour)))
				var attempts atomic.Int32
				g.Go(func(context.Context) error { attempts.Add(1); return errBoom })
				synctest.Wait() // the first attempt failed; the retry is an hour away
				waited := make(chan error, 1)
				go func() { waited <- g.Wait() }()
				synctest.Wait()

				start := time.Now()
				if err := p.ReleaseContext(context.Background()); err != nil {
					t.Fatalf("ReleaseContext = %v", err)
				}
				if err := <-waited; !errors.Is(err, ants.ErrPoolClosed) {
					t.Errorf("Wait = %v, want ErrPoolClosed", err)
				}
				if d := time.Since(start); d != 0 {
					t.Errorf("Release and Wait took %v, want no wait for the retry's delay", d)
				}

				p.Reboot()
				time.Sleep(2 * time.Hour) // any timer left behind would fire now
				synctest.Wait()
				if n := attempts.Load(); n != 1 {
					t.Errorf("%d attempts, want 1: no retry after Release, nor after Reboot", n)
				}
				mustRelease(t, p)
			})
		})
	}
}

// A retry whose attempt fails after Release (it was running then) does not
// sleep: it ends with ErrPoolClosed, and Reboot does not revive it.
func TestGroupTaskFailingAfterReleaseIsNotRetried(t *testing.T) {
	for _, k := range (runnerKinds | bothModes).each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 2)
				g := p.runner.Group(context.Background(), ants.WithRetry(constantRetry(time.Minute)))
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
					t.Errorf("Wait = %v, want ErrPoolClosed", err)
				}
				p.Reboot()
				time.Sleep(time.Hour)
				synctest.Wait()
				if n := attempts.Load(); n != 1 {
					t.Errorf("%d attempts, want 1", n)
				}
				mustRelease(t, p)
			})
		})
	}
}

// Waiting counts callers blocked in a submit, and nothing else: a Group
// retry waiting for a worker is not one, and does not count against
// MaxBlockingTasks either.
func TestWaitingCountsOnlyBlockedCallers(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 1, ants.WithMaxBlockingTasks(1))
				g := p.runner.Group(context.Background(), ants.WithRetry(constantRetry(time.Millisecond)))
				var attempts atomic.Int32
				g.Go(func(context.Context) error {
					if attempts.Add(1) == 1 {
						return errBoom
					}
					return nil
				})
				synctest.Wait()
				b := newBlocker()
				b.fill(t, p.submit, 1)
				time.Sleep(time.Millisecond) // the retry comes due and waits for the worker
				synctest.Wait()
				if n := p.Waiting(); n != 0 {
					t.Errorf("Waiting = %d with only a retry in line, want 0", n)
				}
				blocked := make(chan error, 1)
				go func() { blocked <- p.submit(func() {}) }()
				synctest.Wait()
				if n := p.Waiting(); n != 1 {
					t.Errorf("Waiting = %d with a caller blocked (MaxBlockingTasks 1), want 1", n)
				}
				b.open()
				if err := <-blocked; err != nil {
					t.Errorf("the blocked caller's Submit = %v, want nil", err)
				}
				if err := g.Wait(); err != nil {
					t.Errorf("Wait = %v", err)
				}
				if n := attempts.Load(); n != 2 {
					t.Errorf("%d attempts, want 2", n)
				}
				mustRelease(t, p)
			})
		})
	}
}
