package ants_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/antspool/ants"
)

// One op is one task. Each pool benchmark sits beside what a user would
// write instead: a go statement per task, or a channel semaphore.

func BenchmarkSubmit(b *testing.B) {
	p, _ := ants.NewPool(runtime.GOMAXPROCS(0))
	defer p.Release()
	var wg sync.WaitGroup
	task := func() { wg.Done() }
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(1)
		_ = p.Submit(task)
	}
	wg.Wait()
}

func BenchmarkSubmitParallel(b *testing.B) {
	p, _ := ants.NewPool(runtime.GOMAXPROCS(0))
	defer p.Release()
	var wg sync.WaitGroup
	task := func() { wg.Done() }
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			wg.Add(1)
			_ = p.Submit(task)
		}
	})
	wg.Wait()
}

func BenchmarkSubmitCtx(b *testing.B) {
	p, _ := ants.NewPool(runtime.GOMAXPROCS(0))
	defer p.Release()
	var wg sync.WaitGroup
	ctx := context.Background()
	task := func(context.Context) { wg.Done() }
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(1)
		_ = p.SubmitCtx(ctx, task)
	}
	wg.Wait()
}

func BenchmarkInvokeGeneric(b *testing.B) {
	var wg sync.WaitGroup
	p, _ := ants.NewPoolWithFuncGeneric(runtime.GOMAXPROCS(0), func(int) { wg.Done() })
	defer p.Release()
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(1)
		_ = p.Invoke(1)
	}
	wg.Wait()
}

// Baseline: a goroutine per task.
func BenchmarkGoStatement(b *testing.B) {
	var wg sync.WaitGroup
	task := func() { wg.Done() }
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(1)
		go task()
	}
	wg.Wait()
}

// Baseline: a goroutine per task, at most GOMAXPROCS at once.
func BenchmarkChannelSemaphore(b *testing.B) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			<-sem
			wg.Done()
		}()
	}
	wg.Wait()
}
