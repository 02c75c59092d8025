package ants_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

func TestCollectErrorsRunsEveryTaskAndJoinsTheirErrorsInGoOrder(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 3)
			defer mustRelease(t, p)
			g := p.runner.Group(context.Background(), ants.WithCollectErrors())
			// The failing tasks finish in the reverse of their Go order.
			const n = 60
			gates := map[int]chan struct{}{10: make(chan struct{}), 20: make(chan struct{}), 30: make(chan struct{})}
			var ran atomic.Int32
			for i := range n {
				g.Go(func(ctx context.Context) error {
					ran.Add(1)
					if gate, ok := gates[i]; ok {
						<-gate
						return fmt.Errorf("item %d", i)
					}
					return nil
				})
				if i == 30 { // all three failing tasks hold a worker now
					close(gates[30])
				}
			}
			close(gates[20])
			close(gates[10])
			err := g.Wait()
			if ran.Load() != n {
				t.Errorf("%d tasks ran, want all %d: failures must not cancel the group", ran.Load(), n)
			}
			errs := joined(err)
			if got := fmt.Sprint(errs); got != "[item 10 item 20 item 30]" {
				t.Errorf("Wait joined %s, want the three errors in Go order", got)
			}
			if err.Error() != "item 10\nitem 20\nitem 30" {
				t.Errorf("Wait's message = %q", err.Error())
			}
		})
	}
}

// The batch of issue 10: 10,000 items on a retrying group, a few of them
// permanently bad, some flaky. Every item runs, each failure is reported
// once, and the flaky ones succeed on a retry.
func TestCollectErrorsBatchWithRetriesRunsEveryItem(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			n := rounds(10000, 2000)
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 8)
				defer mustRelease(t, p)
				g := p.runner.Group(context.Background(), ants.WithCollectErrors(), ants.WithRetry(func() backoff.BackOff {
					return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 3)
				}))
				attempts := make([]atomic.Int32, n)
				for i := range n {
					g.Go(func(ctx context.Context) error {
						a := attempts[i].Add(1)
						switch {
						case i%1000 == 999:
							return backoff.Permanent(fmt.Errorf("item %d: bad input", i))
						case i%500 == 1:
							return fmt.Errorf("item %d: down for good", i) // retried, then fails
						case i%7 == 0 && a == 1:
							return errors.New("flaky") // succeeds on its retry
						}
						return nil
					})
				}
				errs := joined(g.Wait())
				var want []string
				for i := range n {
					switch {
					case i%1000 == 999:
						want = append(want, fmt.Sprintf("item %d: bad input", i))
					case i%500 == 1:
						want = append(want, fmt.Sprintf("item %d: down for good", i))
					}
				}
				var got []string
				for _, err := range errs {
					got = append(got, err.Error())
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("Wait reported %d errors %v,\nwant %d: %v", len(got), got, len(want), want)
				}
				for i := range n {
					a := attempts[i].Load()
					var wantA int32 = 1
					switch {
					case i%1000 == 999:
					case i%500 == 1:
						wantA = 4
					case i%7 == 0:
						wantA = 2
					}
					if a != wantA {
						t.Fatalf("item %d ran %d times, want %d", i, a, wantA)
					}
				}
			})
		})
	}
}

// A parent cancelled mid-way skips the tasks not started; Wait reports the
// task errors in Go order, then the cause once, last.
func TestCollectErrorsReportsTheSkipCauseOnceLast(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			defer mustRelease(t, p)
			stop := errors.New("shutting down")
			parent, cancel := context.WithCancelCause(context.Background())
			g := p.runner.Group(parent, ants.WithCollectErrors())
			started := make(chan struct{}, 2)
			g.Go(func(context.Context) error { started <- struct{}{}; return errors.New("first") })
			g.Go(func(context.Context) error { started <- struct{}{}; return errors.New("second") })
			<-started
			<-started // both ran: their errors count, whatever the cancel does
			cancel(stop)
			var ran atomic.Int32
			for range 5 {
				g.Go(func(context.Context) error { ran.Add(1); return nil })
			}
			err := g.Wait()
			if got := fmt.Sprint(joined(err)); got != "[first second shutting down]" {
				t.Errorf("Wait = %s, want both task errors, then the cause once", got)
			}
			if !errors.Is(err, stop) {
				t.Error("errors.Is(Wait(), cause) = false")
			}
			if ran.Load() != 0 {
				t.Errorf("%d tasks ran after the parent was cancelled", ran.Load())
			}
		})
	}
}

func TestCollectErrorsKeepsPanicsAndGoexits(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2)
			defer mustRelease(t, p)
			g := p.runner.Group(context.Background(), ants.WithCollectErrors())
			g.Go(func(context.Context) error { panicInGroupTask("kaboom"); return nil })
			g.Go(func(context.Context) error { runtime.Goexit(); return nil })
			g.Go(func(context.Context) error { return errBoom })
			var after atomic.Bool
			g.Go(func(ctx context.Context) error {
				after.Store(ctx.Err() == nil)
				return nil
			})
			errs := joined(g.Wait())
			var pe *ants.PanicError
			if len(errs) != 3 || !errors.As(errs[0], &pe) || errs[1] != ants.ErrGoexit || errs[2] != errBoom {
				t.Errorf("Wait joined %v, want a *PanicError, ErrGoexit, errBoom in that order", errs)
			}
			if !after.Load() {
				t.Error("a task after the failures saw its context cancelled")
			}
		})
	}
}

// A single failure is returned as it is, not wrapped in a join; no failure
// is nil.
func TestCollectErrorsReturnsOneErrorAsItIsAndNoneAsNil(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2)
			defer mustRelease(t, p)
			g := p.runner.Group(context.Background(), ants.WithCollectErrors())
			g.Go(func(context.Context) error { return nil })
			if err := g.Wait(); err != nil {
				t.Errorf("Wait = %v, want nil", err)
			}
			g = p.runner.Group(context.Background(), ants.WithCollectErrors())
			g.Go(func(context.Context) error { return errBoom })
			g.Go(func(context.Context) error { return nil })
			if err := g.Wait(); err != errBoom {
				t.Errorf("Wait = %#v, want errBoom itself", err)
			}
		})
	}
}

// Go order, not completion order, also decides the order of the joined
// errors when many goroutines call Go at once: each error still appears
// exactly once.
func TestCollectErrorsKeepsEachCallersGoOrder(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 4)
			defer mustRelease(t, p)
			g := p.runner.Group(context.Background(), ants.WithCollectErrors())
			const callers, each = 8, 50
			var wg sync.WaitGroup
			for c := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for k := range each {
						g.Go(func(context.Context) error { return fmt.Errorf("%d/%d", c, k) })
					}
				}()
			}
			wg.Wait()
			errs := joined(g.Wait())
			if len(errs) != callers*each {
				t.Fatalf("%d errors, want %d", len(errs), callers*each)
			}
			seen := map[string]bool{}
			last := make([]int, callers)
			for i := range last {
				last[i] = -1
			}
			for _, err := range errs {
				var c, k int
				if _, scanErr := fmt.Sscanf(err.Error(), "%d/%d", &c, &k); scanErr != nil || seen[err.Error()] {
					t.Fatalf("unexpected or repeated error %q", err)
				}
				seen[err.Error()] = true
				if k <= last[c] { // one caller's Go calls are ordered
					t.Errorf("caller %d: error %d after %d", c, k, last[c])
				}
				last[c] = k
			}
			if strings.Count(g.Wait().Error(), "\n") != callers*each-1 {
				t.Error("a second Wait gives a different error")
			}
		})
	}
}
