package ants_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

// Fan out over a pool, stop at the first error: the failure cancels the
// group's context, the tasks still waiting are skipped, and Wait returns
// the error that came first.
func ExamplePool_Group() {
	pool, _ := ants.NewPool(4)
	defer pool.Release()

	g := pool.Group(context.Background())
	for id := range 100 {
		g.Go(func(ctx context.Context) error {
			if id == 7 {
				return fmt.Errorf("record %d: corrupt", id)
			}
			return nil // ... check record id ...
		})
	}
	err := g.Wait()
	fmt.Println("error:", err)
	fmt.Println("cause:", context.Cause(g.Context()))
	// Output:
	// error: record 7: corrupt
	// cause: record 7: corrupt
}

// Retry a flaky task with exponential backoff. Between attempts the task
// holds no worker, so other work runs in the meantime.
func ExampleWithRetry() {
	pool, _ := ants.NewPool(1)
	defer pool.Release()

	policy := func() backoff.BackOff { // called once per failing task
		b := backoff.NewExponentialBackOff()
		b.InitialInterval = time.Millisecond
		b.RandomizationFactor = 0 // deterministic for the example
		return backoff.WithMaxRetries(b, 4)
	}
	notify := func(attempt int, err error, next time.Duration) {
		fmt.Printf("retry %d in %v after: %v\n", attempt, next, err)
	}
	g := pool.Group(context.Background(), ants.WithRetry(policy, notify))

	attempts := 0
	g.Go(func(ctx context.Context) error {
		attempts++
		if attempts < 3 {
			return errors.New("503 Service Unavailable")
		}
		return nil
	})
	fmt.Println("Wait:", g.Wait(), "after", attempts, "attempts")
	// Output:
	// retry 1 in 1ms after: 503 Service Unavailable
	// retry 2 in 1.5ms after: 503 Service Unavailable
	// Wait: <nil> after 3 attempts
}

// Cap one group below the pool's capacity, so it leaves workers for others.
func ExampleWithLimit() {
	pool, _ := ants.NewPool(16)
	defer pool.Release()

	g := pool.Group(context.Background(), ants.WithLimit(2))
	var running, most atomic.Int32
	pair := make(chan struct{}) // closed once two tasks run together
	var once sync.Once
	for range 20 {
		g.Go(func(ctx context.Context) error {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			if n == 2 {
				once.Do(func() { close(pair) })
			}
			<-pair // the first task waits for a second: the limit lets one in
			running.Add(-1)
			return nil
		})
	}
	_ = g.Wait()
	fmt.Println("at most", most.Load(), "at once")
	// Output: at most 2 at once
}

// A batch that must not stop at its first bad item: every item runs, bad
// ones are retried, and Wait reports each item that still failed, in input
// order.
func ExampleWithCollectErrors() {
	pool, _ := ants.NewPool(4)
	defer pool.Release()

	retry := func() backoff.BackOff {
		return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 2)
	}
	g := pool.Group(context.Background(), ants.WithCollectErrors(), ants.WithRetry(retry))
	for _, id := range []int{1, 2, 3, 4, 5, 6} {
		g.Go(func(ctx context.Context) error {
			switch id {
			case 2:
				return backoff.Permanent(fmt.Errorf("record %d: malformed", id)) // not retried
			case 5:
				return fmt.Errorf("record %d: store unavailable", id) // retried, then reported
			}
			return nil
		})
	}
	fmt.Println(g.Wait())
	// Output:
	// record 2: malformed
	// record 5: store unavailable
}

// Each attempt gets its own deadline, apart from the group's context.
func ExampleWithTaskTimeout() {
	pool, _ := ants.NewPool(2)
	defer pool.Release()

	g := pool.Group(context.Background(), ants.WithTaskTimeout(10*time.Millisecond))
	g.Go(func(ctx context.Context) error {
		select {
		case <-time.After(time.Minute): // a call that hangs
			return nil
		case <-ctx.Done():
			return fmt.Errorf("fetch: %w", ctx.Err())
		}
	})
	fmt.Println(g.Wait())
	// Output:
	// fetch: context deadline exceeded
}

// A shutdown hook: cancel the work's parent context, let the group's tasks
// see it, then release the pool and wait until nothing of it runs.
func ExampleGroup_shutdown() {
	pool, _ := ants.NewPool(4)
	appCtx, shutdown := context.WithCancelCause(context.Background())

	g := pool.Group(appCtx)
	started := make(chan struct{}, 4)
	for range 4 {
		g.Go(func(ctx context.Context) error {
			started <- struct{}{}
			<-ctx.Done() // long-running work that honours ctx
			return ctx.Err()
		})
	}
	for range 4 {
		<-started
	}

	// On SIGTERM, say:
	shutdown(errors.New("SIGTERM"))
	fmt.Println("group:", g.Wait(), "/ cause:", context.Cause(g.Context()))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println("pool released:", pool.ReleaseContext(ctx))
	// Output:
	// group: context canceled / cause: SIGTERM
	// pool released: <nil>
}
