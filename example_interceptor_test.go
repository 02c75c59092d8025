package ants_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

type requestIDKey struct{}

// An Interceptor runs around every task that has a context, on the
// goroutine that runs it: here it passes the task a context with a value
// derived from the submitter's, and records each attempt and its error,
// read from TaskMetaFrom once run has returned. contrib/otel's Tracing is
// an Interceptor of this kind that starts a span per task.
func ExampleWithInterceptor() {
	var mu sync.Mutex
	var log []string
	trace := func(ctx context.Context, run func(context.Context)) {
		run(context.WithValue(ctx, requestIDKey{}, "req-"+fmt.Sprint(ctx.Value(requestIDKey{}))))
		meta, _ := ants.TaskMetaFrom(ctx)
		mu.Lock()
		log = append(log, fmt.Sprintf("attempt %d: %v", meta.Attempt, meta.Err))
		mu.Unlock()
	}
	pool, _ := ants.NewPool(2, ants.WithInterceptor(trace))
	defer pool.Release()

	ctx := context.WithValue(context.Background(), requestIDKey{}, 42)
	policy := func() backoff.BackOff {
		return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 3)
	}
	g := pool.Group(ctx, ants.WithRetry(policy))
	attempts := 0
	g.Go(func(ctx context.Context) error {
		attempts++
		if attempts < 3 {
			return errors.New("busy")
		}
		fmt.Println("ran with", ctx.Value(requestIDKey{}))
		return nil
	})
	if err := g.Wait(); err != nil {
		fmt.Println(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, l := range log {
		fmt.Println(l)
	}
	// Output:
	// ran with req-42
	// attempt 1: busy
	// attempt 2: busy
	// attempt 3: <nil>
}

// WithMaxPending bounds what a group holds accepted and not started; on
// MapSeq it is the window of items pulled and not yet yielded, apart from
// the concurrency WithLimit sets: here 2 items run at once, while up to 16
// are pulled ahead, so an item waiting out a retry does not stall the rest.
func ExampleWithMaxPending() {
	pool, _ := ants.NewPool(4)
	defer pool.Release()

	items := []int{1, 2, 3, 4, 5, 6, 7, 8}
	seq := func(yield func(int) bool) {
		for _, it := range items {
			if !yield(it) {
				return
			}
		}
	}
	square := func(_ context.Context, n int) (int, error) { return n * n, nil }
	for v, err := range ants.MapSeq(context.Background(), pool, seq, square, ants.WithLimit(2), ants.WithMaxPending(16)) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Print(v, " ")
	}
	fmt.Println()
	// Output:
	// 1 4 9 16 25 36 49 64
}
