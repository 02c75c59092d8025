package ants_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

// Each attempt gets its own deadline, d after it starts; the group's
// context is untouched, and a retry gets a fresh d.
func TestTaskTimeoutGivesEachAttemptItsOwnDeadline(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 1)
				defer mustRelease(t, p)
				g := p.runner.Group(context.Background(), ants.WithTaskTimeout(10*time.Millisecond),
					ants.WithRetry(func() backoff.BackOff {
						return backoff.WithMaxRetries(backoff.NewConstantBackOff(5*time.Millisecond), 2)
					}))
				var mu sync.Mutex
				var seen []string
				g.Go(func(ctx context.Context) error {
					start := time.Now()
					dl, ok := ctx.Deadline()
					<-ctx.Done()
					mu.Lock()
					seen = append(seen, fmt.Sprintf("deadline %v (%v) after %v: %v; group ctx %v",
						dl.Sub(start), ok, time.Since(start), ctx.Err(), g.Context().Err()))
					mu.Unlock()
					return ctx.Err()
				})
				err := g.Wait()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Wait = %v, want the last attempt's DeadlineExceeded", err)
				}
				want := "deadline 10ms (true) after 10ms: context deadline exceeded; group ctx <nil>"
				if len(seen) != 3 {
					t.Fatalf("%d attempts, want 3: %v", len(seen), seen)
				}
				for i, s := range seen {
					if s != want {
						t.Errorf("attempt %d: %s, want %s", i+1, s, want)
					}
				}
			})
		})
	}
}

// The deadline bounds the run, not the wait for a worker: a task that
// waited an hour for the pool's only worker still gets its full d.
func TestTaskTimeoutStartsWhenTheTaskDoes(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 1)
				defer mustRelease(t, p)
				busy := make(chan struct{})
				if err := p.submit(func() { <-busy }); err != nil {
					t.Fatal(err)
				}
				g := p.runner.Group(context.Background(), ants.WithTaskTimeout(time.Second))
				got := make(chan time.Duration, 1)
				go g.Go(func(ctx context.Context) error {
					dl, _ := ctx.Deadline()
					got <- time.Until(dl)
					return nil
				})
				time.Sleep(time.Hour)
				close(busy)
				if d := <-got; d != time.Second {
					t.Errorf("the task's deadline was %v away when it started, want 1s", d)
				}
				if err := g.Wait(); err != nil {
					t.Error(err)
				}
			})
		})
	}
}

func TestTaskTimeoutZeroOrNegativeMeansNone(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			defer mustRelease(t, p)
			for _, d := range []time.Duration{0, -time.Second} {
				g := p.runner.Group(context.Background(), ants.WithTaskTimeout(d))
				g.Go(func(ctx context.Context) error {
					if _, ok := ctx.Deadline(); ok {
						return fmt.Errorf("WithTaskTimeout(%v): the task's context has a deadline", d)
					}
					return nil
				})
				if err := g.Wait(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}
