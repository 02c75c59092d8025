package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/gammazero/workerpool"
	antsv2 "github.com/panjf2000/ants/v2"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/antspool/ants"
)

// config sizes one workload.
type config struct {
	tasks    int // tasks in the workload (for W4: groups × tasks per group)
	capacity int // workers, limit or semaphore size
}

type workload struct {
	key, name, desc string
	reference       string // the contender the "×" column compares with
	full, quick     config
	contenders      []contender
}

func (w *workload) config(quick bool) config {
	if quick {
		return w.quick
	}
	return w.full
}

type contender struct {
	name string
	run  func(cfg config, extra map[string]float64)
}

// runner starts a pool of some kind with the given capacity and returns how
// to submit a task to it and how to wait for all submitted tasks (and shut
// the pool down). It is what W1, W2, W3 and W5 share.
type runner struct {
	name  string
	start func(capacity int) (submit func(func()), wait func())
}

func runners() []runner {
	withWG := func(start func(capacity int) (submit func(func()), stop func())) func(int) (func(func()), func()) {
		return func(capacity int) (func(func()), func()) {
			submit, stop := start(capacity)
			var wg sync.WaitGroup
			return func(task func()) {
					wg.Add(1)
					submit(func() { task(); wg.Done() })
				}, func() {
					wg.Wait()
					stop()
				}
		}
	}
	return []runner{
		{"this Pool", withWG(func(c int) (func(func()), func()) {
			p, _ := ants.NewPool(c)
			return func(f func()) { _ = p.Submit(f) }, p.Release
		})},
		{"this Pool, queue", withWG(func(c int) (func(func()), func()) {
			p, _ := ants.NewPool(c, ants.WithQueueSize(queueSize))
			return func(f func()) { _ = p.Submit(f) }, p.Release
		})},
		{"ants Pool", withWG(func(c int) (func(func()), func()) {
			p, _ := antsv2.NewPool(c)
			return func(f func()) { _ = p.Submit(f) }, p.Release
		})},
		{"pond", func(c int) (func(func()), func()) {
			p := pond.NewPool(c)
			return func(f func()) { p.Submit(f) }, p.StopAndWait
		}},
		{"conc", func(c int) (func(func()), func()) {
			p := concpool.New().WithMaxGoroutines(c)
			return p.Go, p.Wait
		}},
		{"errgroup", func(c int) (func(func()), func()) {
			var g errgroup.Group
			g.SetLimit(c)
			return func(f func()) { g.Go(func() error { f(); return nil }) }, func() { _ = g.Wait() }
		}},
		{"workerpool", func(c int) (func(func()), func()) {
			wp := workerpool.New(c)
			return wp.Submit, wp.StopWait
		}},
		{"semaphore", withWG(func(c int) (func(func()), func()) {
			sem := make(chan struct{}, c)
			return func(f func()) {
				sem <- struct{}{}
				go func() { f(); <-sem }()
			}, func() {}
		})},
		{"goroutines", withWG(func(int) (func(func()), func()) {
			return func(f func()) { go f() }, func() {}
		})},
	}
}

// simple builds a contender per runner that submits cfg.tasks copies of body.
func simple(body func()) []contender {
	var cs []contender
	for _, r := range runners() {
		cs = append(cs, contender{r.name, func(cfg config, _ map[string]float64) {
			submit, wait := r.start(cfg.capacity)
			for range cfg.tasks {
				submit(body)
			}
			wait()
		}})
	}
	return cs
}

// queueSize is the queue of the queue-mode contenders ("…, queue").
const queueSize = 1024

// generic adds the contenders that bind body to a func pool: no closure per
// task.
func generic(body func()) []contender {
	return []contender{
		invoker("this PoolWithFuncGeneric", func(n int, fn func(int)) invokePool {
			p, _ := ants.NewPoolWithFuncGeneric(n, fn)
			return p
		}, body),
		invoker("this PoolWithFuncGeneric, queue", func(n int, fn func(int)) invokePool {
			p, _ := ants.NewPoolWithFuncGeneric(n, fn, ants.WithQueueSize(queueSize))
			return p
		}, body),
		invoker("ants PoolWithFuncGeneric", func(n int, fn func(int)) invokePool {
			p, _ := antsv2.NewPoolWithFuncGeneric(n, fn)
			return p
		}, body),
	}
}

// invokePool is what both generic func pools offer.
type invokePool interface {
	Invoke(int) error
	Release()
}

func invoker(name string, newPool func(size int, fn func(int)) invokePool, body func()) contender {
	return contender{name, func(cfg config, _ map[string]float64) {
		var wg sync.WaitGroup
		p := newPool(cfg.capacity, func(int) { body(); wg.Done() })
		for i := range cfg.tasks {
			wg.Add(1)
			_ = p.Invoke(i)
		}
		wg.Wait()
		p.Release()
	}}
}

// spin burns about d of CPU by polling the clock (a timer would round short
// waits up to about a millisecond), stopping early if ctx ends.
func spin(ctx context.Context, d time.Duration) error {
	for start := time.Now(); time.Since(start) < d; {
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

var counter atomic.Int64

func workloads() []*workload {
	procs := runtime.GOMAXPROCS(0)
	sleep := func() { time.Sleep(10 * time.Millisecond) }
	tiny := func() { counter.Add(1) }
	cpu := func() { _ = spin(context.Background(), 20*time.Microsecond) }

	w3 := &workload{key: "W3", name: "cpu", reference: "ants Pool",
		desc:  fmt.Sprintf("Tasks of ~20µs of CPU, capacity GOMAXPROCS (%d). \"× ideal\" compares with tasks × 20µs / GOMAXPROCS.", procs),
		full:  config{tasks: 100_000, capacity: procs},
		quick: config{tasks: 2_000, capacity: procs},
	}
	w3.contenders = append(simple(cpu), multi(cpu)...)
	for i := range w3.contenders {
		run := w3.contenders[i].run
		w3.contenders[i].run = func(cfg config, extra map[string]float64) {
			start := time.Now()
			run(cfg, extra)
			ideal := time.Duration(cfg.tasks) * 20 * time.Microsecond / time.Duration(procs)
			extra["× ideal"] = float64(time.Since(start)) / float64(ideal)
		}
	}

	return []*workload{
		{key: "W1", name: "sleep", reference: "ants Pool",
			desc:       "Tasks that sleep 10ms, capacity 50,000 (ants' classic benchmark).",
			full:       config{tasks: 1_000_000, capacity: 50_000},
			quick:      config{tasks: 20_000, capacity: 2_000},
			contenders: simple(sleep),
		},
		{key: "W2-8", name: "tiny, capacity 8", reference: "ants Pool",
			desc:       "Tasks that add to an atomic counter: scheduling overhead alone. \"inline\" is the loop without a pool, the floor.",
			full:       config{tasks: 2_000_000, capacity: 8},
			quick:      config{tasks: 50_000, capacity: 8},
			contenders: append(append([]contender{inline(tiny)}, simple(tiny)...), generic(tiny)...),
		},
		{key: "W2-1000", name: "tiny, capacity 1000", reference: "ants Pool",
			desc:       "As W2-8, with capacity 1,000.",
			full:       config{tasks: 2_000_000, capacity: 1000},
			quick:      config{tasks: 50_000, capacity: 1000},
			contenders: append(append([]contender{inline(tiny)}, simple(tiny)...), generic(tiny)...),
		},
		w3,
		{key: "W4", name: "fan-out with a first error", reference: "ants WaitGroup+cancel",
			desc: "Groups of 100 tasks of ~50µs of CPU (clock polling, stopping when the context ends), limit 16, run one after another; " +
				"the 10th task of each fails at once. Group times, the time from the failure to Wait's return, and how many tasks each group ran.",
			full:       config{tasks: 1000 * 100, capacity: 16},
			quick:      config{tasks: 20 * 100, capacity: 16},
			contenders: fanOut(),
		},
		{key: "W5", name: "bursts", reference: "ants Pool",
			desc:       "Bursts of 100 tiny tasks every 1ms into capacity 64: delay from the burst's start to each task's start.",
			full:       config{tasks: 10_000, capacity: 64},
			quick:      config{tasks: 2_000, capacity: 64},
			contenders: bursts(),
		},
	}
}

func inline(body func()) contender {
	return contender{"inline", func(cfg config, _ map[string]float64) {
		for range cfg.tasks {
			body()
		}
	}}
}

// multi adds the multi-pools of GOMAXPROCS sub-pools of one worker each.
func multi(body func()) []contender {
	return []contender{
		submitter("this MultiPool", func(n int) (func(func()) error, func()) {
			mp, _ := ants.NewMultiPool(n, 1, ants.RoundRobin)
			return mp.Submit, mp.Release
		}, body),
		submitter("this MultiPool, queue", func(n int) (func(func()) error, func()) {
			mp, _ := ants.NewMultiPool(n, 1, ants.RoundRobin, ants.WithQueueSize(queueSize))
			return mp.Submit, mp.Release
		}, body),
		submitter("ants MultiPool", func(n int) (func(func()) error, func()) {
			mp, _ := antsv2.NewMultiPool(n, 1, antsv2.RoundRobin)
			return mp.Submit, func() { _ = mp.ReleaseTimeout(time.Second) }
		}, body),
	}
}

// submitter builds a contender that submits cfg.tasks copies of body to the
// pool newPool makes, waits for them, then releases the pool.
func submitter(name string, newPool func(size int) (submit func(func()) error, release func()), body func()) contender {
	return contender{name, func(cfg config, _ map[string]float64) {
		var wg sync.WaitGroup
		submit, release := newPool(cfg.capacity)
		for range cfg.tasks {
			wg.Add(1)
			_ = submit(func() { body(); wg.Done() })
		}
		wg.Wait()
		release()
	}}
}

// bursts builds W5's contenders: each task records its delay.
func bursts() []contender {
	var cs []contender
	for _, r := range runners() {
		cs = append(cs, contender{r.name, func(cfg config, extra map[string]float64) {
			delays := make([]time.Duration, cfg.tasks)
			submit, wait := r.start(cfg.capacity)
			next := time.Now()
			for i := 0; i < cfg.tasks; {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				burst := time.Now()
				for k := 0; k < 100 && i < cfg.tasks; k, i = k+1, i+1 {
					slot := &delays[i]
					submit(func() { *slot = time.Since(burst); counter.Add(1) })
				}
				next = next.Add(time.Millisecond)
			}
			wait()
			sort.Slice(delays, func(a, b int) bool { return delays[a] < delays[b] })
			extra["delay p50 µs"] = float64(delays[len(delays)/2]) / 1e3
			extra["delay p99 µs"] = float64(delays[len(delays)*99/100]) / 1e3
			extra["delay max µs"] = float64(delays[len(delays)-1]) / 1e3
		}})
	}
	return cs
}

var errTask = errors.New("task 10 failed")

// group runs one fan-out group; it returns when the implementation's Wait
// does, with the time the failing task returned and how many tasks started.
type group func(ctx context.Context, tasks, limit int, task func(ctx context.Context, i int) error) error

// fanOut builds W4's contenders.
func fanOut() []contender {
	type impl struct {
		name  string
		setup func(limit int) (group, func())
	}
	impls := []impl{
		{"this Group", func(limit int) (group, func()) {
			p, _ := ants.NewPool(limit)
			return func(ctx context.Context, n, limit int, task func(context.Context, int) error) error {
				g := p.Group(ctx, ants.WithLimit(limit))
				for i := range n {
					g.Go(func(ctx context.Context) error { return task(ctx, i) })
				}
				return g.Wait()
			}, p.Release
		}},
		{"this Group, queue", func(limit int) (group, func()) {
			// The pool's capacity is the limit; Go returns once its task is
			// queued, and workers take the tasks in order.
			p, _ := ants.NewPool(limit, ants.WithQueueSize(queueSize))
			return func(ctx context.Context, n, _ int, task func(context.Context, int) error) error {
				g := p.Group(ctx)
				for i := range n {
					g.Go(func(ctx context.Context) error { return task(ctx, i) })
				}
				return g.Wait()
			}, p.Release
		}},
		{"errgroup", func(int) (group, func()) {
			return func(ctx context.Context, n, limit int, task func(context.Context, int) error) error {
				g, ctx := errgroup.WithContext(ctx)
				g.SetLimit(limit)
				for i := range n {
					g.Go(func() error { return task(ctx, i) })
				}
				return g.Wait()
			}, func() {}
		}},
		{"conc", func(int) (group, func()) {
			return func(ctx context.Context, n, limit int, task func(context.Context, int) error) error {
				p := concpool.New().WithMaxGoroutines(limit).WithContext(ctx).WithCancelOnError().WithFirstError()
				for i := range n {
					p.Go(func(ctx context.Context) error { return task(ctx, i) })
				}
				return p.Wait()
			}, func() {}
		}},
		{"pond group", func(limit int) (group, func()) {
			p := pond.NewPool(limit)
			return func(ctx context.Context, n, _ int, task func(context.Context, int) error) error {
				g := p.NewGroupContext(ctx)
				for i := range n {
					g.SubmitErr(func() error { return task(g.Context(), i) })
				}
				return g.Wait()
			}, p.StopAndWait
		}},
		{"ants WaitGroup+cancel", func(limit int) (group, func()) {
			p, _ := antsv2.NewPool(limit)
			return func(ctx context.Context, n, _ int, task func(context.Context, int) error) error {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				var wg sync.WaitGroup
				var once sync.Once
				var first error
				for i := range n {
					wg.Add(1)
					_ = p.Submit(func() {
						defer wg.Done()
						if ctx.Err() != nil {
							return // skipped
						}
						if err := task(ctx, i); err != nil {
							once.Do(func() { first = err; cancel() })
						}
					})
				}
				wg.Wait()
				return first
			}, p.Release
		}},
	}
	var cs []contender
	for _, im := range impls {
		cs = append(cs, contender{im.name, func(cfg config, extra map[string]float64) {
			const perGroup = 100
			groups := cfg.tasks / perGroup
			run, stop := im.setup(cfg.capacity)
			defer stop()
			times := make([]time.Duration, groups)
			errToWait := make([]time.Duration, groups)
			var started atomic.Int64
			for gi := range groups {
				var failedAt atomic.Int64
				task := func(ctx context.Context, i int) error {
					started.Add(1)
					if i == 9 {
						failedAt.Store(time.Now().UnixNano())
						return errTask
					}
					return spin(ctx, 50*time.Microsecond)
				}
				start := time.Now()
				err := run(context.Background(), perGroup, cfg.capacity, task)
				end := time.Now()
				if !errors.Is(err, errTask) {
					panic(fmt.Sprintf("%s: Wait = %v, want the 10th task's error", im.name, err))
				}
				times[gi] = end.Sub(start)
				errToWait[gi] = end.Sub(time.Unix(0, failedAt.Load()))
			}
			sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
			sort.Slice(errToWait, func(a, b int) bool { return errToWait[a] < errToWait[b] })
			extra["group p50 µs"] = float64(times[groups/2]) / 1e3
			extra["group p99 µs"] = float64(times[groups*99/100]) / 1e3
			extra["error→Wait p50 µs"] = float64(errToWait[groups/2]) / 1e3
			extra["tasks run/group"] = float64(started.Load()) / float64(groups)
		}})
	}
	return cs
}
