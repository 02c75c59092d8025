package ants_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/antspool/ants"
)

// A parallel merge sort on a pool of 2: each half is sorted by a task of
// the same pool, which splits its half again, many levels deep. Every task
// calls Go and Wait with the context it was given, so the pool knows the
// calls come from its own tasks: a Go that finds no free worker runs its
// child on the caller, and a Wait runs the children no worker has taken.
// With at most 2 workers and thousands of nested groups nothing deadlocks,
// and no goroutine is started per task.
func ExamplePool_Group_nested() {
	pool, _ := ants.NewPool(2)
	defer pool.Release()

	var sortSlice func(ctx context.Context, s []int) error
	sortSlice = func(ctx context.Context, s []int) error {
		if len(s) <= 64 {
			slices.Sort(s)
			return nil
		}
		mid := len(s) / 2
		g := pool.Group(ctx) // ctx is the task's own: the nested group is recognised
		g.Go(func(ctx context.Context) error { return sortSlice(ctx, s[:mid]) })
		g.Go(func(ctx context.Context) error { return sortSlice(ctx, s[mid:]) })
		if err := g.Wait(); err != nil {
			return err
		}
		merged := make([]int, 0, len(s))
		i, j := 0, mid
		for i < mid && j < len(s) {
			if s[i] <= s[j] {
				merged = append(merged, s[i])
				i++
			} else {
				merged = append(merged, s[j])
				j++
			}
		}
		merged = append(append(merged, s[i:mid]...), s[j:]...)
		copy(s, merged)
		return nil
	}

	r := rand.New(rand.NewPCG(1, 2))
	data := make([]int, 100_000)
	for i := range data {
		data[i] = r.IntN(1_000_000)
	}
	g := pool.Group(context.Background())
	g.Go(func(ctx context.Context) error { return sortSlice(ctx, data) })
	if err := g.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("sorted:", slices.IsSorted(data), len(data))
	// Output:
	// sorted: true 100000
}

// A tree walk with Map inside Map, on a pool of 1: each node's children
// are summed by a nested Map called with the task's context, which runs
// them on the caller when the only worker is the caller itself.
func ExampleMap_nested() {
	pool, _ := ants.NewPool(1)
	defer pool.Release()

	type node struct {
		value    int
		children []*node
	}
	var build func(depth int) *node
	build = func(depth int) *node {
		n := &node{value: 1}
		if depth > 0 {
			for range 3 {
				n.children = append(n.children, build(depth-1))
			}
		}
		return n
	}
	var total func(ctx context.Context, n *node) (int, error)
	total = func(ctx context.Context, n *node) (int, error) {
		sums, err := ants.Map(ctx, pool, n.children, total)
		sum := n.value
		for _, s := range sums {
			sum += s
		}
		return sum, err
	}

	sums, err := ants.Map(context.Background(), pool, []*node{build(6)}, total)
	fmt.Println(sums, err)
	// Output:
	// [1093] <nil>
}

// WithCallerRuns: a producer that finds every worker busy runs the task
// itself instead of waiting, so it slows to the pace of the work and no
// submit ever waits in line.
func ExampleWithCallerRuns() {
	pool, _ := ants.NewPool(1, ants.WithCallerRuns(true))
	defer pool.Release()

	block := make(chan struct{})
	started := make(chan struct{})
	_ = pool.Submit(func() { close(started); <-block }) // the only worker is busy
	<-started

	ranHere := false
	_ = pool.Submit(func() { ranHere = true }) // runs on this goroutine, now
	fmt.Println("ran on the caller:", ranHere)
	close(block)
	// Output:
	// ran on the caller: true
}
