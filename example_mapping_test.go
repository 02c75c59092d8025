package ants_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/antspool/ants"
)

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
