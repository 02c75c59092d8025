package ants_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

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

// Values come back in the order the tasks were given to Go, whatever order
// they finish in; Results has each task's own error.
func ExampleResultGroup() {
	pool, _ := ants.NewPool(4)
	defer pool.Release()

	rg := ants.NewResultGroup[string](context.Background(), pool, ants.WithCollectErrors())
	for _, name := range []string{"alpha", "", "gamma"} {
		rg.Go(func(ctx context.Context) (string, error) {
			if name == "" {
				return "", errors.New("empty name")
			}
			return strings.ToUpper(name), nil
		})
	}
	values, err := rg.Wait()
	fmt.Printf("%q %v\n", values, err)
	for i, r := range rg.Results() {
		fmt.Println(i, r.Value, r.Err)
	}
	// Output:
	// ["ALPHA" "" "GAMMA"] empty name
	// 0 ALPHA <nil>
	// 1  empty name
	// 2 GAMMA <nil>
}

// Runner is what the helpers take: a Pool and a MultiPool are both one, so
// one function serves either.
func ExampleRunner() {
	lengths := func(r ants.Runner, words []string) []int {
		n, _ := ants.Map(context.Background(), r, words,
			func(_ context.Context, w string) (int, error) { return len(w), nil })
		return n
	}
	pool, _ := ants.NewPool(2)
	defer pool.Release()
	multi, _ := ants.NewMultiPool(2, 1, ants.LeastTasks)
	defer multi.Release()

	words := []string{"ants", "pool", "runner"}
	fmt.Println(lengths(pool, words), lengths(multi, words))
	// Output:
	// [4 4 6] [4 4 6]
}

// Map runs a function over a slice on the pool's workers and returns the
// results in input order. It works on any Runner: a Pool or a MultiPool.
func ExampleMap() {
	mp, _ := ants.NewMultiPool(2, 2, ants.RoundRobin)
	defer mp.Release()

	squares, err := ants.Map(context.Background(), mp, []int{1, 2, 3, 4, 5},
		func(ctx context.Context, n int) (int, error) { return n * n, nil })
	fmt.Println(squares, err)
	// Output:
	// [1 4 9 16 25] <nil>
}

// ForEach is Map without values; by default the first error stops the
// items that have not started.
func ExampleForEach() {
	pool, _ := ants.NewPool(1)
	defer pool.Release()

	err := ants.ForEach(context.Background(), pool, []string{"a.txt", "b.txt", "c.txt"},
		func(ctx context.Context, name string) error {
			if name == "b.txt" {
				return fmt.Errorf("%s: permission denied", name)
			}
			return nil
		})
	fmt.Println(err)
	// Output:
	// b.txt: permission denied
}

// MapSeq streams: it pulls from the input only as its window has room, and
// yields results in input order. Breaking out of the loop stops the work
// that has not started.
func ExampleMapSeq() {
	pool, _ := ants.NewPool(4)
	defer pool.Release()

	lines := slices.Values([]string{"3", "1", "4", "1", "5", "9", "2", "6"})
	parse := func(ctx context.Context, s string) (int, error) {
		var n int
		_, err := fmt.Sscan(s, &n)
		return n, err
	}
	sum := 0
	for n, err := range ants.MapSeq(context.Background(), pool, lines, parse) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		sum += n
		if sum > 10 {
			break // the rest is skipped; no task of the loop runs afterwards
		}
	}
	fmt.Println("sum:", sum)
	// Output:
	// sum: 14
}

// SubmitValue runs one task and returns a Future for its value.
func ExampleSubmitValue() {
	pool, _ := ants.NewPool(2)
	defer pool.Release()

	f := ants.SubmitValue(context.Background(), pool, func(ctx context.Context) (int, error) {
		return 6 * 7, nil
	})
	// ... do other work, then:
	v, err := f.Wait()
	fmt.Println(v, err)
	// Output:
	// 42 <nil>
}

// Done lets a caller wait for a future and a context in one select.
func ExampleFuture_Done() {
	pool, _ := ants.NewPool(1)
	defer pool.Release()

	f := ants.SubmitValue(context.Background(), pool, func(ctx context.Context) (string, error) {
		return "", errors.New("upstream: 503")
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case <-f.Done():
		_, err := f.Wait() // ready: does not block
		fmt.Println("done:", err)
	case <-ctx.Done():
		fmt.Println("gave up:", ctx.Err())
	}
	// Output:
	// done: upstream: 503
}

// TrySubmit never waits: a full pool says ErrPoolOverload at once.
func ExamplePool_TrySubmit() {
	pool, _ := ants.NewPool(1)
	defer pool.Release()

	release := make(chan struct{})
	fmt.Println(pool.TrySubmit(func() { <-release })) // takes the only worker
	fmt.Println(pool.TrySubmit(func() {}))
	close(release)
	// Output:
	// <nil>
	// ants: too many goroutines blocked on submit or Nonblocking is set
}

// TryInvoke is TrySubmit for the func pools.
func ExamplePoolWithFuncGeneric_TryInvoke() {
	started, release := make(chan int), make(chan struct{})
	pool, _ := ants.NewPoolWithFuncGeneric(1, func(n int) { started <- n; <-release })
	defer pool.Release()

	fmt.Println(pool.TryInvoke(1), <-started)
	fmt.Println(errors.Is(pool.TryInvoke(2), ants.ErrPoolOverload))
	close(release)
	// Output:
	// <nil> 1
	// true
}
