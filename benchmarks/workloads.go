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
	"golang.org/x/sync/semaphore"

	"github.com/antspool/ants"
)

// config sizes one workload.
type config struct {
	tasks    int // tasks in the workload (for W4: groups × tasks per group)
	capacity int // workers, limit or semaphore size
}

type workload struct {
	key, name string
	desc      func(cfg config) string // the job, how each library expresses it, what to look at (markdown)
	reference string                  // the contender the "×" column compares with
	full      config
	quick     config
	// extras explains the workload's own columns, by column name.
	extras map[string]string
	// prepare, if set, makes the workload's data in the child, before the
	// measurement starts.
	prepare    func(cfg config)
	contenders []contender
}

func (w *workload) config(quick bool) config {
	if quick {
		return w.quick
	}
	return w.full
}

// A contender is one library doing one workload in one form. Its name is
// the row label: the library, then the form (the calls it makes).
type contender struct {
	name string
	how  string // what the form is, for the report's list of forms (markdown)
	run  func(cfg config, extra map[string]float64)
}

// A runner is one way to run a batch of tasks and wait for all of them:
// start makes a pool (or what the library has instead) of the given
// capacity and returns how to submit a task and how to wait until every
// submitted task has returned and the pool is shut down. W1, W2, W3 and W5
// share the runners.
type runner struct {
	name, how string
	start     func(capacity int) (submit func(func()), wait func())
}

// queueSize is the queue of this module's queue-mode contenders.
const queueSize = 1024

// What a WaitGroup form and a drain form do, for the report's list of forms;
// mk is the call that makes the pool.
func howWaitGroup(mk, release string) string {
	return fmt.Sprintf("`%s`; per task, `wg.Add(1)` and `Submit` of a closure that runs the task, then calls `wg.Done()`; at the end `wg.Wait()`, then `%s`.", mk, release)
}

func howDrain(mk string) string {
	return fmt.Sprintf("`%s`; `Submit(task)` per task; at the end `ReleaseContext(ctx)`, which returns once every task has returned and every goroutine of the pool has exited.", mk)
}

// must stops the measurement on an error no correct run gives.
func must(err error) {
	if err != nil {
		panic(err)
	}
}

// withWaitGroup turns a pool that can only submit and release into a runner
// that waits for its tasks with a WaitGroup, then releases the pool.
func withWaitGroup(start func(capacity int) (submit func(func()), release func())) func(int) (func(func()), func()) {
	return func(capacity int) (func(func()), func()) {
		submit, release := start(capacity)
		var wg sync.WaitGroup
		return func(task func()) {
				wg.Add(1)
				submit(func() { task(); wg.Done() })
			}, func() {
				wg.Wait()
				release()
			}
	}
}

// releaser is what this module's pools and ants v2's offer to shut down.
type releaser interface {
	Release()
	ReleaseContext(ctx context.Context) error
}

// drain waits for r's tasks by releasing it with ReleaseContext.
func drain(r releaser) func() { return func() { must(r.ReleaseContext(context.Background())) } }

func runners() []runner {
	return []runner{
		{"this Pool Submit+WaitGroup", howWaitGroup("ants.NewPool(n)", "Release()"), withWaitGroup(func(c int) (func(func()), func()) {
			p, _ := ants.NewPool(c)
			return func(f func()) { must(p.Submit(f)) }, p.Release
		})},
		{"this Pool Submit+ReleaseContext drain", howDrain("ants.NewPool(n)"), func(c int) (func(func()), func()) {
			p, _ := ants.NewPool(c)
			return func(f func()) { must(p.Submit(f)) }, drain(p)
		}},
		{"this Pool queue Submit+WaitGroup", howWaitGroup("ants.NewPool(n, ants.WithQueueSize(1024))", "Release()"), withWaitGroup(func(c int) (func(func()), func()) {
			p, _ := ants.NewPool(c, ants.WithQueueSize(queueSize))
			return func(f func()) { must(p.Submit(f)) }, p.Release
		})},
		{"this Pool queue Submit+ReleaseContext drain", howDrain("ants.NewPool(n, ants.WithQueueSize(1024))"), func(c int) (func(func()), func()) {
			p, _ := ants.NewPool(c, ants.WithQueueSize(queueSize))
			return func(f func()) { must(p.Submit(f)) }, drain(p)
		}},
		{"ants v2 Submit+WaitGroup", howWaitGroup("antsv2.NewPool(n)", "Release()"), withWaitGroup(func(c int) (func(func()), func()) {
			p, _ := antsv2.NewPool(c)
			return func(f func()) { must(p.Submit(f)) }, p.Release
		})},
		{"ants v2 Submit+ReleaseContext drain", howDrain("antsv2.NewPool(n)"), func(c int) (func(func()), func()) {
			p, _ := antsv2.NewPool(c)
			return func(f func()) { must(p.Submit(f)) }, drain(p)
		}},
		{"pond Go+StopAndWait", "`pond.NewPool(n)`; `Go(task)` per task, fire and forget (the queue is unbounded: it never blocks); at the end `StopAndWait()`, which runs the queue dry.", func(c int) (func(func()), func()) {
			p := pond.NewPool(c)
			return func(f func()) { must(p.Go(f)) }, p.StopAndWait
		}},
		{"pond Submit+StopAndWait (future per task)", "`pond.NewPool(n)`; `Submit(task)` per task, which also makes the task's future (a `Task` to wait on, unused here); at the end `StopAndWait()`. It shows what a future per task costs.", func(c int) (func(func()), func()) {
			p := pond.NewPool(c)
			return func(f func()) { p.Submit(f) }, p.StopAndWait
		}},
		{"conc Go+Wait", "`pool.New().WithMaxGoroutines(n)`; `Go(task)` per task; at the end `Wait()`.", func(c int) (func(func()), func()) {
			p := concpool.New().WithMaxGoroutines(c)
			return p.Go, p.Wait
		}},
		{"errgroup SetLimit Go+Wait", "`var g errgroup.Group` and `g.SetLimit(n)`; `Go` per task, which starts a goroutine once fewer than n run; at the end `Wait()`.", func(c int) (func(func()), func()) {
			var g errgroup.Group
			g.SetLimit(c)
			return func(f func()) { g.Go(func() error { f(); return nil }) }, func() { must(g.Wait()) }
		}},
		{"workerpool Submit+StopWait", "`workerpool.New(n)`; `Submit(task)` per task (the queue is unbounded: it never blocks); at the end `StopWait()`, which runs the queue dry.", func(c int) (func(func()), func()) {
			wp := workerpool.New(c)
			return wp.Submit, wp.StopWait
		}},
		{"chan semaphore go+WaitGroup", "`sem := make(chan struct{}, n)`; per task, `wg.Add(1)`, `sem <- struct{}{}` and a `go` statement whose goroutine runs the task, then `<-sem` and `wg.Done()`; at the end `wg.Wait()`.", withWaitGroup(func(c int) (func(func()), func()) {
			sem := make(chan struct{}, c)
			return func(f func()) {
				sem <- struct{}{}
				go func() { f(); <-sem }()
			}, func() {}
		})},
		{"semaphore.Weighted go+Acquire(n) drain", "`semaphore.NewWeighted(n)` (x/sync); per task, `Acquire(ctx, 1)` and a `go` statement whose goroutine runs the task, then `Release(1)`; at the end `Acquire(ctx, n)`, which waits for every slot, as in the package's own example.", func(c int) (func(func()), func()) {
			sem := semaphore.NewWeighted(int64(c))
			ctx := context.Background()
			return func(f func()) {
					must(sem.Acquire(ctx, 1))
					go func() { f(); sem.Release(1) }()
				}, func() {
					must(sem.Acquire(ctx, int64(c)))
				}
		}},
		{"go statement+WaitGroup", "Per task, `wg.Add(1)` and a `go` statement whose goroutine runs the task, then `wg.Done()`; at the end `wg.Wait()`. No limit.", withWaitGroup(func(int) (func(func()), func()) {
			return func(f func()) { go f() }, func() {}
		})},
	}
}

// simple builds a contender per runner that submits cfg.tasks copies of
// body and waits for them.
func simple(body func()) []contender {
	var cs []contender
	for _, r := range runners() {
		cs = append(cs, contender{r.name, r.how, func(cfg config, _ map[string]float64) {
			submit, wait := r.start(cfg.capacity)
			for range cfg.tasks {
				submit(body)
			}
			wait()
		}})
	}
	return cs
}

// invokePool is what this module's and ants v2's generic func pools offer.
type invokePool interface {
	Invoke(int) error
	releaser
}

// funcPools builds the contenders that bind body to a func pool once: an
// int argument per task, no closure.
func funcPools(body func()) []contender {
	ours := func(opts ...ants.Option) func(int, func(int)) invokePool {
		return func(n int, fn func(int)) invokePool {
			p, _ := ants.NewPoolWithFuncGeneric(n, fn, opts...)
			return p
		}
	}
	theirs := func(n int, fn func(int)) invokePool {
		p, _ := antsv2.NewPoolWithFuncGeneric(n, fn)
		return p
	}
	invokeWG := func(mk string) string {
		return fmt.Sprintf("`%s` with a function that runs the task, then calls `wg.Done()`; per task, `wg.Add(1)` and `Invoke(i)`; at the end `wg.Wait()`, then `Release()`.", mk)
	}
	invokeDrain := func(mk string) string {
		return fmt.Sprintf("`%s` with a function that runs the task; `Invoke(i)` per task; at the end `ReleaseContext(ctx)`, which returns once every task has returned and every goroutine of the pool has exited.", mk)
	}
	const mkOurs, mkOursQ, mkTheirs = "ants.NewPoolWithFuncGeneric(n, fn)", "ants.NewPoolWithFuncGeneric(n, fn, ants.WithQueueSize(1024))", "antsv2.NewPoolWithFuncGeneric(n, fn)"
	return []contender{
		invoker("this PoolWithFuncGeneric Invoke+WaitGroup", invokeWG(mkOurs), ours(), false, body),
		invoker("this PoolWithFuncGeneric Invoke+ReleaseContext drain", invokeDrain(mkOurs), ours(), true, body),
		invoker("this PoolWithFuncGeneric queue Invoke+WaitGroup", invokeWG(mkOursQ), ours(ants.WithQueueSize(queueSize)), false, body),
		invoker("this PoolWithFuncGeneric queue Invoke+ReleaseContext drain", invokeDrain(mkOursQ), ours(ants.WithQueueSize(queueSize)), true, body),
		invoker("ants v2 PoolWithFuncGeneric Invoke+WaitGroup", invokeWG(mkTheirs), theirs, false, body),
		invoker("ants v2 PoolWithFuncGeneric Invoke+ReleaseContext drain", invokeDrain(mkTheirs), theirs, true, body),
	}
}

func invoker(name, how string, newPool func(size int, fn func(int)) invokePool, drained bool, body func()) contender {
	return contender{name, how, func(cfg config, _ map[string]float64) {
		if drained {
			p := newPool(cfg.capacity, func(int) { body() })
			for i := range cfg.tasks {
				must(p.Invoke(i))
			}
			drain(p)()
			return
		}
		var wg sync.WaitGroup
		p := newPool(cfg.capacity, func(int) { body(); wg.Done() })
		for i := range cfg.tasks {
			wg.Add(1)
			must(p.Invoke(i))
		}
		wg.Wait()
		p.Release()
	}}
}

// multiPools builds the contenders that run body on a multi-pool of
// capacity sub-pools of one worker each, round robin.
func multiPools(body func()) []contender {
	const mkOurs, mkOursQ, mkTheirs = "ants.NewMultiPool(n, 1, ants.RoundRobin)", "ants.NewMultiPool(n, 1, ants.RoundRobin, ants.WithQueueSize(1024))", "antsv2.NewMultiPool(n, 1, antsv2.RoundRobin)"
	ours := func(opts ...ants.Option) func(int) (func(func()) error, releaser) {
		return func(n int) (func(func()) error, releaser) {
			mp, _ := ants.NewMultiPool(n, 1, ants.RoundRobin, opts...)
			return mp.Submit, mp
		}
	}
	return []contender{
		submitter("this MultiPool Submit+WaitGroup", howWaitGroup(mkOurs, "Release()"), ours(), false, body),
		submitter("this MultiPool Submit+ReleaseContext drain", howDrain(mkOurs), ours(), true, body),
		submitter("this MultiPool queue Submit+WaitGroup", howWaitGroup(mkOursQ, "Release()"), ours(ants.WithQueueSize(queueSize)), false, body),
		submitter("this MultiPool queue Submit+ReleaseContext drain", howDrain(mkOursQ), ours(ants.WithQueueSize(queueSize)), true, body),
		submitter("ants v2 MultiPool Submit+WaitGroup", howWaitGroup(mkTheirs, "ReleaseTimeout(time.Second)")+" (it has no release that does not wait)", func(n int) (func(func()) error, releaser) {
			mp, _ := antsv2.NewMultiPool(n, 1, antsv2.RoundRobin)
			return mp.Submit, antsMulti{mp}
		}, false, body),
		submitter("ants v2 MultiPool Submit+ReleaseContext drain", howDrain(mkTheirs), func(n int) (func(func()) error, releaser) {
			mp, _ := antsv2.NewMultiPool(n, 1, antsv2.RoundRobin)
			return mp.Submit, antsMulti{mp}
		}, true, body),
	}
}

// antsMulti gives ants v2's MultiPool, which has no Release, the releaser
// method set.
type antsMulti struct{ *antsv2.MultiPool }

func (m antsMulti) Release() { _ = m.ReleaseTimeout(time.Second) }

// submitter builds a contender that submits cfg.tasks copies of body to
// the multi-pool newPool makes and waits for them.
func submitter(name, how string, newPool func(size int) (submit func(func()) error, r releaser), drained bool, body func()) contender {
	return contender{name, how, func(cfg config, _ map[string]float64) {
		submit, r := newPool(cfg.capacity)
		if drained {
			for range cfg.tasks {
				must(submit(body))
			}
			drain(r)()
			return
		}
		var wg sync.WaitGroup
		for range cfg.tasks {
			wg.Add(1)
			must(submit(func() { body(); wg.Done() }))
		}
		wg.Wait()
		r.Release()
	}}
}

func inline(body func()) contender {
	return contender{"inline (no pool)", "The tasks called one after another in a loop: no pool, no goroutine.", func(cfg config, _ map[string]float64) {
		for range cfg.tasks {
			body()
		}
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

// counter counts the tasks that ran, in the workloads whose tasks count
// themselves; counted checks it.
var counter atomic.Int64

// counted makes each contender check, once it has waited, that every task
// ran: a form whose wait returned early fails the run.
func counted(cs []contender) []contender {
	for i := range cs {
		c := cs[i]
		cs[i].run = func(cfg config, extra map[string]float64) {
			counter.Store(0)
			c.run(cfg, extra)
			if n := counter.Load(); n != int64(cfg.tasks) {
				panic(fmt.Sprintf("%s: %d of %d tasks had run when the wait returned", c.name, n, cfg.tasks))
			}
		}
	}
	return cs
}

const refRunner = "ants v2 Submit+WaitGroup"

func workloads() []*workload {
	procs := runtime.GOMAXPROCS(0)
	sleep := func() { time.Sleep(10 * time.Millisecond); counter.Add(1) }
	tiny := func() { counter.Add(1) }
	cpu := func() { _ = spin(context.Background(), 20*time.Microsecond); counter.Add(1) }

	w3 := &workload{key: "W3", name: "cpu", reference: refRunner,
		desc: func(cfg config) string {
			return fmt.Sprintf("%s tasks of about 20 µs of CPU each (polling the clock), capacity GOMAXPROCS (%d): "+
				"how close each form comes to keeping every core busy with the tasks alone. "+
				"The multi-pools (this module's and ants v2's, %d sub-pools of one worker each, round robin) run here too; "+
				"no other library has one.", num(cfg.tasks), cfg.capacity, cfg.capacity)
		},
		extras: map[string]string{"× ideal": "wall time ÷ (tasks × 20 µs ÷ GOMAXPROCS), the time the tasks alone take on every core: 1.00 is a perfect pool"},
		full:   config{tasks: 100_000, capacity: procs},
		quick:  config{tasks: 2_000, capacity: procs},
	}
	w3.contenders = counted(append(simple(cpu), multiPools(cpu)...))
	for i := range w3.contenders {
		run := w3.contenders[i].run
		w3.contenders[i].run = func(cfg config, extra map[string]float64) {
			start := time.Now()
			run(cfg, extra)
			ideal := time.Duration(cfg.tasks) * 20 * time.Microsecond / time.Duration(procs)
			extra["× ideal"] = float64(time.Since(start)) / float64(ideal)
		}
	}

	tinyDesc := func(cfg config) string {
		return fmt.Sprintf("%s tasks that each add 1 to an atomic counter, capacity %s: the cost of running a task and nothing else. "+
			"`inline (no pool)` is the same loop without a pool, the floor. "+
			"The func pools (this module's and ants v2's `PoolWithFuncGeneric`) bind the task's function once and take an int per task, so a task costs no closure; no other library has that form.\n\n"+
			"In the default mode, as in ants v2, each submit hands its task to a worker, which then runs it; "+
			"in queue mode a submit that finds every worker busy queues the task and returns, and a worker that finishes one task takes the next without going idle. "+
			"With tasks this small, how the batch is waited for shows too: a WaitGroup costs two atomic operations per task on one shared counter (and, for a pool that takes closures, the closure that calls `Done`); a drain costs nothing per task.",
			num(cfg.tasks), num(cfg.capacity))
	}

	return append([]*workload{
		{key: "W1", name: "sleep", reference: refRunner,
			desc: func(cfg config) string {
				return fmt.Sprintf("%s tasks that each sleep 10 ms, capacity %s (ants v2's own benchmark): many tasks that mostly wait. "+
					"The goroutines column shows how many workers each pool started (a pool may need fewer than its capacity, as workers whose task has returned are reused); "+
					"the forms without a pool start one goroutine per task.",
					num(cfg.tasks), num(cfg.capacity))
			},
			full:       config{tasks: 1_000_000, capacity: 50_000},
			quick:      config{tasks: 20_000, capacity: 2_000},
			contenders: counted(simple(sleep)),
		},
		{key: "W2-8", name: "tiny, capacity 8", reference: refRunner,
			desc:       tinyDesc,
			full:       config{tasks: 2_000_000, capacity: 8},
			quick:      config{tasks: 50_000, capacity: 8},
			contenders: counted(append(append([]contender{inline(tiny)}, simple(tiny)...), funcPools(tiny)...)),
		},
		{key: "W2-1000", name: "tiny, capacity 1000", reference: refRunner,
			desc: func(cfg config) string {
				return fmt.Sprintf("As W2-8, with capacity %s: %s tasks.", num(cfg.capacity), num(cfg.tasks))
			},
			full:       config{tasks: 2_000_000, capacity: 1000},
			quick:      config{tasks: 50_000, capacity: 1000},
			contenders: counted(append(append([]contender{inline(tiny)}, simple(tiny)...), funcPools(tiny)...)),
		},
		w3,
		{key: "W4", name: "fan-out with a first error", reference: "ants v2 Submit+WaitGroup+cancel",
			desc: func(cfg config) string {
				return fmt.Sprintf("%s groups of 100 tasks, run one after another; a task spins for about 50 µs of CPU, polling the clock and stopping when its context ends, "+
					"and the 10th task of each group fails at once. At most %d tasks of a group run at once. "+
					"A group should stop soon after the failure: cancel the context its running tasks watch, start none of the tasks not yet started, and return the error from its wait.\n\n"+
					"The pools (this module's, pond's, ants v2's) have %d workers, which is the limit; errgroup uses `SetLimit(%d)`, conc `WithMaxGoroutines(%d)`. "+
					"ants v2 has no group: its row is what an ants user writes by hand. "+
					"workerpool, the semaphores and the go statement have no group, no error and no cancellation either; errgroup is what their users reach for, so they have no row here. "+
					"On a queue-mode pool, workers take the tasks in the order `Go` gave them, so the failing 10th task runs among the first.",
					num(cfg.tasks/100), cfg.capacity, cfg.capacity, cfg.capacity, cfg.capacity)
			},
			extras: map[string]string{
				"group p50 µs":      "median time of a group, from its first task given to its wait's return",
				"group p99 µs":      "99th percentile of the same",
				"error→Wait p50 µs": "median time from the failing task's return to the wait's return",
				"tasks run/group":   "tasks that started, of the group's 100; a group that stops at the failure starts about 10 (fewer when tasks given out before the failure had not started yet, and were skipped)",
			},
			full:       config{tasks: 1000 * 100, capacity: 16},
			quick:      config{tasks: 20 * 100, capacity: 16},
			contenders: fanOut(),
		},
		{key: "W5", name: "bursts", reference: refRunner,
			desc: func(cfg config) string {
				return fmt.Sprintf("Bursts of 100 tiny tasks every 1 ms into capacity %d, %s tasks in all: how long a task waits to start when work arrives in bursts. "+
					"Each task records the delay from its burst's start to its own start. "+
					"The wall time is set by the bursts' timing (%s ms), not by the pools.",
					cfg.capacity, num(cfg.tasks), num(cfg.tasks/100))
			},
			extras: map[string]string{
				"delay p50 µs": "median delay from a burst's start to a task's start",
				"delay p99 µs": "99th percentile of the same",
				"delay max µs": "the longest delay",
			},
			full:       config{tasks: 10_000, capacity: 64},
			quick:      config{tasks: 2_000, capacity: 64},
			contenders: counted(bursts()),
		},
		forkJoin(),
	}, keyedWorkloads()...)
}

// bursts builds W5's contenders: each task records its delay.
func bursts() []contender {
	var cs []contender
	for _, r := range runners() {
		cs = append(cs, contender{r.name, r.how, func(cfg config, extra map[string]float64) {
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

// group runs one fan-out group and returns the error its wait returned.
type group func(ctx context.Context, tasks, limit int, task func(ctx context.Context, i int) error) error

// fanOut builds W4's contenders.
func fanOut() []contender {
	type impl struct {
		name, how string
		setup     func(limit int) (group, func())
	}
	impls := []impl{
		{"this Group Go+Wait", "`p.Group(ctx)` on `ants.NewPool(limit)`; `Go` per task; `Wait()`, which returns the first error.", func(limit int) (group, func()) {
			p, _ := ants.NewPool(limit)
			return ourGroup(p), p.Release
		}},
		{"this Group queue Go+Wait", "`p.Group(ctx)` on `ants.NewPool(limit, ants.WithQueueSize(1024))`; `Go` per task; `Wait()`.", func(limit int) (group, func()) {
			p, _ := ants.NewPool(limit, ants.WithQueueSize(queueSize))
			return ourGroup(p), p.Release
		}},
		{"errgroup WithContext SetLimit Go+Wait", "`errgroup.WithContext(ctx)` and `SetLimit(limit)`; `Go` per task, the task watching the group's context; `Wait()`.", func(int) (group, func()) {
			return func(ctx context.Context, n, limit int, task func(context.Context, int) error) error {
				g, ctx := errgroup.WithContext(ctx)
				g.SetLimit(limit)
				for i := range n {
					g.Go(func() error { return task(ctx, i) })
				}
				return g.Wait()
			}, func() {}
		}},
		{"conc WithCancelOnError Go+Wait", "`pool.New().WithMaxGoroutines(limit).WithContext(ctx).WithCancelOnError().WithFirstError()`; `Go` per task; `Wait()`.", func(int) (group, func()) {
			return func(ctx context.Context, n, limit int, task func(context.Context, int) error) error {
				p := concpool.New().WithMaxGoroutines(limit).WithContext(ctx).WithCancelOnError().WithFirstError()
				for i := range n {
					p.Go(func(ctx context.Context) error { return task(ctx, i) })
				}
				return p.Wait()
			}, func() {}
		}},
		{"pond group SubmitErr+Wait", "`NewGroupContext(ctx)` on `pond.NewPool(limit)`; `SubmitErr` per task, the task watching the group's `Context()`; `Wait()`.", func(limit int) (group, func()) {
			p := pond.NewPool(limit)
			return func(ctx context.Context, n, _ int, task func(context.Context, int) error) error {
				g := p.NewGroupContext(ctx)
				for i := range n {
					g.SubmitErr(func() error { return task(g.Context(), i) })
				}
				return g.Wait()
			}, p.StopAndWait
		}},
		{"ants v2 Submit+WaitGroup+cancel", "By hand, on `antsv2.NewPool(limit)`: a context cancelled by the first error, a WaitGroup, and tasks that return at once if the context has ended before they start.", func(limit int) (group, func()) {
			p, _ := antsv2.NewPool(limit)
			return func(ctx context.Context, n, _ int, task func(context.Context, int) error) error {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				var wg sync.WaitGroup
				var once sync.Once
				var first error
				for i := range n {
					wg.Add(1)
					must(p.Submit(func() {
						defer wg.Done()
						if ctx.Err() != nil {
							return // skipped
						}
						if err := task(ctx, i); err != nil {
							once.Do(func() { first = err; cancel() })
						}
					}))
				}
				wg.Wait()
				return first
			}, p.Release
		}},
	}
	var cs []contender
	for _, im := range impls {
		cs = append(cs, contender{im.name, im.how, func(cfg config, extra map[string]float64) {
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

// ourGroup runs a group on p: the pool's capacity is the group's limit.
func ourGroup(p *ants.Pool) group {
	return func(ctx context.Context, n, _ int, task func(context.Context, int) error) error {
		g := p.Group(ctx)
		for i := range n {
			g.Go(func(ctx context.Context) error { return task(ctx, i) })
		}
		return g.Wait()
	}
}

// num writes n with thousands separators: 1,000,000.
func num(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
