package ants_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/sync/errgroup"

	"github.com/antspool/ants"
)

// One op is one task. Each pool benchmark sits beside what a user would

// write instead: a go statement per task, or a channel semaphore.

func BenchmarkSubmit(b *testing.B) {
	p, _ := ants.NewPool(runtime.GOMAXPROCS(0))
	benchSubmit(b, p)
}

// BenchmarkSubmit's pool once someone reads its Stats: waiting submits
// are timed (two clock reads each), for Stats.WaitTime.
func BenchmarkSubmitStatsRead(b *testing.B) {
	p, _ := ants.NewPool(runtime.GOMAXPROCS(0))
	_ = p.Stats()
	benchSubmit(b, p)
}

// BenchmarkSubmit's pool with a task observer that does nothing: the cost
// of the clock reads that time every task.
func BenchmarkSubmitObserved(b *testing.B) {
	p, _ := ants.NewPool(runtime.GOMAXPROCS(0), ants.WithTaskObserver(func(ants.TaskInfo) {}))
	benchSubmit(b, p)
}

// benchSubmit submits one empty task per op to p, then releases it.
func benchSubmit(b *testing.B, p *ants.Pool) {
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

// Group.Go against errgroup.Group.Go with SetLimit: one op is one task, at
// a limit of GOMAXPROCS; the pool also has GOMAXPROCS workers.
func BenchmarkGroupGo(b *testing.B) {
	n := runtime.GOMAXPROCS(0)
	p, _ := ants.NewPool(n)
	defer p.Release()
	g := p.Group(context.Background(), ants.WithLimit(n))
	task := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		g.Go(task)
	}
	_ = g.Wait()
}

// ResultGroup.Go on the same terms as BenchmarkGroupGo: the value costs
// one allocation per task more (the closure that stores it) and a slot in
// the results slice.
func BenchmarkResultGroupGo(b *testing.B) {
	n := runtime.GOMAXPROCS(0)
	p, _ := ants.NewPool(n)
	defer p.Release()
	rg := ants.NewResultGroup[int](context.Background(), p, ants.WithLimit(n))
	task := func(context.Context) (int, error) { return 1, nil }
	b.ReportAllocs()
	for b.Loop() {
		rg.Go(task)
	}
	_, _ = rg.Wait()
}

func BenchmarkErrgroupGo(b *testing.B) {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	task := func() error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		g.Go(task)
	}
	_ = g.Wait()
}

// Fan-out with a first error: one op is a group of 100 tasks of ~20µs of
// CPU, limit 16, where the 10th task fails; the op ends when Wait returns.
// The tasks after the failure should be skipped, not run.
const fanOut, fanOutLimit, failAt = 100, 16, 10

var errFanOut = errors.New("task 10 failed")

// spin burns about d of CPU, or less if ctx ends first.
func spin(ctx context.Context, d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
		if ctx.Err() != nil {
			return
		}
	}
}

func BenchmarkGroupFanOutFirstError(b *testing.B) {
	p, _ := ants.NewPool(fanOutLimit)
	defer p.Release()
	var ran atomic.Int64
	for b.Loop() {
		g := p.Group(context.Background(), ants.WithLimit(fanOutLimit))
		for i := range fanOut {
			g.Go(func(ctx context.Context) error {
				ran.Add(1)
				if i == failAt {
					return errFanOut
				}
				spin(ctx, 20*time.Microsecond)
				return nil
			})
		}
		if err := g.Wait(); err != errFanOut {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ran.Load())/float64(b.N), "tasks-run/op")
}

func BenchmarkErrgroupFanOutFirstError(b *testing.B) {
	var ran atomic.Int64
	for b.Loop() {
		g, ctx := errgroup.WithContext(context.Background())
		g.SetLimit(fanOutLimit)
		for i := range fanOut {
			g.Go(func() error {
				ran.Add(1)
				if i == failAt {
					return errFanOut
				}
				spin(ctx, 20*time.Microsecond)
				return nil
			})
		}
		if err := g.Wait(); err != errFanOut {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ran.Load())/float64(b.N), "tasks-run/op")
}

// CPU-bound tasks (~20µs each) at capacity GOMAXPROCS: a MultiPool of
// GOMAXPROCS sub-pools of one worker against one Pool of GOMAXPROCS. A
// multi-pool that waited on the sub-pool its strategy picked, while another
// sat idle, would take up to twice as long. One op is one task.
func BenchmarkCPUBoundPool(b *testing.B) {
	p, _ := ants.NewPool(runtime.GOMAXPROCS(0))
	defer p.Release()
	benchCPUBound(b, p.Submit)
}

func BenchmarkCPUBoundMultiPool(b *testing.B) {
	mp, _ := ants.NewMultiPool(runtime.GOMAXPROCS(0), 1, ants.RoundRobin)
	defer mp.Release()
	benchCPUBound(b, mp.Submit)
}

func benchCPUBound(b *testing.B, submit func(func()) error) {
	var wg sync.WaitGroup
	task := func() {
		defer wg.Done()
		spin(context.Background(), 20*time.Microsecond)
	}
	for b.Loop() {
		wg.Add(1)
		_ = submit(task)
	}
	wg.Wait()
}

// BenchmarkMapSeq reports the peak heap of a MapSeq over tiny items: it
// should not depend on how many there are.
func BenchmarkMapSeq(b *testing.B) {
	for _, bc := range []struct {
		name string
		n    int
	}{{"items=100k", 100_000}, {"items=1M", 1_000_000}} {
		b.Run(bc.name, func(b *testing.B) {
			p, _ := ants.NewPool(runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			var peak uint64
			for b.Loop() {
				peak = max(peak, mapSeqPeakHeap(b, p, bc.n, 1024))
			}
			b.ReportMetric(float64(peak), "peak-heap-B")
			mustRelease(b, p)
		})
	}
}

const mapBenchItems = 100_000

func mapBenchDouble(x int) int { return 2 * x }

// BenchmarkMap is one Map of 100,000 tiny items a loop; compare
// BenchmarkHandWrittenGroupMap, what a user would write instead.
func BenchmarkMap(b *testing.B) {
	p, _ := ants.NewPool(runtime.GOMAXPROCS(0))
	in := seq(mapBenchItems)
	ctx := context.Background()
	fn := func(_ context.Context, x int) (int, error) { return mapBenchDouble(x), nil }
	b.ReportAllocs()
	for b.Loop() {
		out, err := ants.Map(ctx, p, in, fn)
		if err != nil || out[len(out)-1] != mapBenchDouble(mapBenchItems-1) {
			b.Fatalf("Map = %v", err)
		}
	}
	mustRelease(b, p)
}

func BenchmarkHandWrittenGroupMap(b *testing.B) {
	p, _ := ants.NewPool(runtime.GOMAXPROCS(0))
	in := seq(mapBenchItems)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		g := p.Group(ctx)
		out := make([]int, len(in))
		for i := range in {
			g.Go(func(context.Context) error { out[i] = mapBenchDouble(in[i]); return nil })
		}
		if err := g.Wait(); err != nil || out[len(out)-1] != mapBenchDouble(mapBenchItems-1) {
			b.Fatalf("Wait = %v", err)
		}
	}
	mustRelease(b, p)
}

// A batch with retries: 10,000 items, one in ten fails once and is retried
// after 10 ms, on a pool of 64. MapSeq's window holds an item waiting for
// its retry, so it is set apart from the concurrency with WithMaxPending.
func BenchmarkRetryBatch(b *testing.B) {
	const items = 10_000
	policy := func() backoff.BackOff {
		return backoff.WithMaxRetries(backoff.NewConstantBackOff(10*time.Millisecond), 3)
	}
	fn := func(tries []atomic.Int32) func(context.Context, int) (int, error) {
		return func(_ context.Context, i int) (int, error) {
			if i%10 == 0 && tries[i].Add(1) == 1 {
				return 0, errors.New("once")
			}
			return i, nil
		}
	}
	in := make([]int, items)
	for i := range in {
		in[i] = i
	}
	run := func(b *testing.B, do func(p *ants.Pool, f func(context.Context, int) (int, error))) {
		p, _ := ants.NewPool(64)
		defer p.Release()
		b.ReportAllocs()
		for b.Loop() {
			do(p, fn(make([]atomic.Int32, items)))
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*items), "ns/item")
	}
	b.Run("map", func(b *testing.B) {
		run(b, func(p *ants.Pool, f func(context.Context, int) (int, error)) {
			if _, err := ants.Map(context.Background(), p, in, f, ants.WithRetry(policy)); err != nil {
				b.Fatal(err)
			}
		})
	})
	for _, window := range []int{0, 1024, 4096} {
		b.Run(fmt.Sprintf("mapseq/window=%d", window), func(b *testing.B) {
			opts := []ants.GroupOption{ants.WithRetry(policy)}
			if window > 0 {
				opts = append(opts, ants.WithMaxPending(window))
			}
			run(b, func(p *ants.Pool, f func(context.Context, int) (int, error)) {
				for _, err := range ants.MapSeq(context.Background(), p, slices.Values(in), f, opts...) {
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
