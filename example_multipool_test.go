package ants_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/antspool/ants"
)

func ExampleNewMultiPool() {
	// 4 sub-pools of 8 workers: submits spread over 4 locks instead of 1.
	mp, _ := ants.NewMultiPool(4, 8, ants.RoundRobin)
	defer mp.ReleaseTimeout(time.Second) //nolint:errcheck

	var sum atomic.Int64
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Add(1)
		_ = mp.Submit(func() {
			defer wg.Done()
			sum.Add(int64(i))
		})
	}
	wg.Wait()
	fmt.Println(sum.Load(), mp.Cap())
	// Output: 499500 32
}

func ExampleNewMultiPoolWithFunc() {
	var sum atomic.Int64
	var wg sync.WaitGroup
	mp, _ := ants.NewMultiPoolWithFunc(2, 4, func(arg any) {
		defer wg.Done()
		sum.Add(int64(arg.(int)))
	}, ants.LeastTasks)
	defer mp.Release()

	for i := range 100 {
		wg.Add(1)
		_ = mp.Invoke(i)
	}
	wg.Wait()
	fmt.Println(sum.Load())
	// Output: 4950
}

func ExampleNewMultiPoolWithFuncGeneric() {
	var sum atomic.Int64
	var wg sync.WaitGroup
	mp, _ := ants.NewMultiPoolWithFuncGeneric(2, 4, func(n int64) {
		defer wg.Done()
		sum.Add(n)
	}, ants.RoundRobin)

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for i := range int64(100) {
		wg.Add(1)
		if err := mp.InvokeCtx(ctx, i); err != nil { // waits for a worker, but not past ctx
			wg.Done()
		}
	}
	wg.Wait()
	fmt.Println(sum.Load())
	fmt.Println(mp.ReleaseContext(ctx)) // nil: every worker of every sub-pool has exited
	// Output:
	// 4950
	// <nil>
}

func ExampleMultiPool_Group() {
	mp, _ := ants.NewMultiPool(2, 4, ants.RoundRobin)
	defer mp.Release()

	g := mp.Group(context.Background(), ants.WithLimit(3))
	var done atomic.Int32
	for range 12 {
		g.Go(func(ctx context.Context) error {
			done.Add(1)
			return nil
		})
	}
	fmt.Println(g.Wait(), done.Load())
	// Output: <nil> 12
}
