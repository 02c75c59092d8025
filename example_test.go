package ants_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/antspool/ants"
)

// The program an ants v2 user already has: tasks on the default pool, then
// a pool bound to one function. Only the import path changed.
func Example() {
	ants.Reboot() // reopens the default pool if something released it; otherwise a no-op

	var sum atomic.Int64
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Add(1)
		_ = ants.Submit(func() {
			defer wg.Done()
			sum.Add(int64(i))
		})
	}
	wg.Wait()
	fmt.Println("default pool:", sum.Load())

	sum.Store(0)
	p, _ := ants.NewPoolWithFunc(10, func(arg any) {
		defer wg.Done()
		sum.Add(int64(arg.(int)))
	})
	defer p.Release()
	for i := range 1000 {
		wg.Add(1)
		_ = p.Invoke(i)
	}
	wg.Wait()
	fmt.Println("pool with func:", sum.Load())

	// At shutdown, wait for the default pool's workers to exit.
	_ = ants.ReleaseContext(context.Background())

	// Output:
	// default pool: 499500
	// pool with func: 499500
}

func ExampleNewPool() {
	p, _ := ants.NewPool(4)
	defer p.Release()

	results := make([]int, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		_ = p.Submit(func() { // never more than 4 at once
			defer wg.Done()
			results[i] = i * i
		})
	}
	wg.Wait()
	fmt.Println(results)
	// Output: [0 1 4 9 16 25 36 49]
}

func ExampleNewPoolWithFuncGeneric() {
	var total atomic.Int64
	var wg sync.WaitGroup
	p, _ := ants.NewPoolWithFuncGeneric(4, func(n int64) {
		defer wg.Done()
		total.Add(n)
	})
	defer p.Release()

	for i := range int64(100) {
		wg.Add(1)
		_ = p.Invoke(i) // no boxing, no allocation
	}
	wg.Wait()
	fmt.Println(total.Load())
	// Output: 4950
}

// SubmitCtx gives up when its context ends before a worker is free.
func ExamplePool_SubmitCtx() {
	p, _ := ants.NewPool(1)
	defer p.Release()

	busy := make(chan struct{})
	_ = p.Submit(func() { <-busy }) // the only worker is taken

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := p.SubmitCtx(ctx, func(ctx context.Context) {
		fmt.Println("never runs")
	})
	fmt.Println(err, errors.Is(err, context.DeadlineExceeded))
	close(busy)
	// Output: context deadline exceeded true
}

// ReleaseContext is the shutdown hook: it returns once every task has
// finished and every goroutine of the pool has exited.
func ExamplePool_ReleaseContext() {
	p, _ := ants.NewPool(2)
	var done atomic.Int32
	for range 5 {
		_ = p.Submit(func() {
			time.Sleep(time.Millisecond)
			done.Add(1)
		})
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.ReleaseContext(ctx); err != nil {
		fmt.Println("shutdown incomplete:", err)
		return
	}
	fmt.Println("tasks done:", done.Load())
	fmt.Println("submit after release:", p.Submit(func() {}))
	// Output:
	// tasks done: 5
	// submit after release: ants: pool closed
}

func ExamplePoolWithFuncGeneric_InvokeCtx() {
	release := make(chan struct{})
	p, _ := ants.NewPoolWithFuncGeneric(1, func(string) { <-release })
	defer p.Release()
	_ = p.Invoke("first") // occupies the only worker

	ctx, cancel := context.WithCancel(context.Background())
	cancel() // an already-cancelled context: the argument is never handed over
	fmt.Println(p.InvokeCtx(ctx, "second"))
	close(release)
	// Output: context canceled
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

func ExampleWithNonblocking() {
	p, _ := ants.NewPool(1, ants.WithNonblocking(true))
	defer p.Release()
	busy := make(chan struct{})
	_ = p.Submit(func() { <-busy })

	err := p.Submit(func() {})
	fmt.Println(errors.Is(err, ants.ErrPoolOverload))
	close(busy)
	// Output: true
}

func ExampleWithPanicHandler() {
	handled := make(chan any, 1)
	p, _ := ants.NewPool(1, ants.WithPanicHandler(func(v any) { handled <- v }))
	defer p.Release()

	_ = p.Submit(func() { panic("bad input") })
	fmt.Println("recovered:", <-handled)

	done := make(chan struct{})
	_ = p.Submit(func() { close(done) }) // the pool still has its worker slot
	<-done
	fmt.Println("still serving")
	// Output:
	// recovered: bad input
	// still serving
}

func ExamplePool_Tune() {
	p, _ := ants.NewPool(1)
	defer p.Release()
	fmt.Println(p.Cap())
	p.Tune(8) // callers waiting for a worker are admitted at once
	fmt.Println(p.Cap())
	// Output:
	// 1
	// 8
}
