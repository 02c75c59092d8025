package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	pkgzpool "github.com/go-pkgz/pool"
	antsv2 "github.com/panjf2000/ants/v2"

	"github.com/antspool/ants"
)

// W7: keyed order. Tasks carry a key; those of one key must run one at a
// time, in the order they were given, and different keys in parallel.
const (
	keyCount  = 10_000           // keys of W7 and W7-slow
	zipfS     = 1.1              // the Zipf exponent the keys are drawn with
	keyWork   = time.Microsecond // a task's spin
	slowWork  = 100 * keyWork    // a task of the hot key, in W7-slow
	hotKey    = 0                // the key drawn most often (the Zipf draw's rank 0)
	chanDepth = 64               // the channel of each key's goroutine, in the goroutine-per-key form
)

// keyedStuck is how long a keyed measurement may take before the child
// fails: the slowest form finishes W7-slow in well under a minute.
const keyedStuck = 3 * time.Minute

// kd is one keyed measurement's data, made by its workload's prepare
// before the measurement's clock starts: the tasks' keys, and what each
// task records, in nanoseconds on clock.
var kd struct {
	keys  []int32  // keys[i] is task i's key
	names []string // names[k] is key k as a string (go-pkgz's chunk function returns one)
	slow  int32    // the key whose tasks take slowWork, or -1
	sub   []int64  // when task i was given to the form (just before the call)
	start []int64  // when task i started
	end   []int64  // when task i returned
}

var clockBase = time.Now()

// clock is the monotonic time since the process started, in nanoseconds.
func clock() int64 { return int64(time.Since(clockBase)) }

// prepareKeys fills kd for n tasks: keys drawn Zipf(zipfS) over keyCount
// keys with a fixed seed, or, if distinct, key i for task i; slow is the
// key whose tasks take slowWork, or -1.
func prepareKeys(n int, distinct bool, slow int32) {
	kd.keys = make([]int32, n)
	nkeys := keyCount
	if distinct {
		nkeys = n
		for i := range kd.keys {
			kd.keys[i] = int32(i)
		}
	} else {
		z := rand.NewZipf(rand.New(rand.NewPCG(1, 19)), zipfS, 1, keyCount-1)
		for i := range kd.keys {
			kd.keys[i] = int32(z.Uint64())
		}
	}
	kd.names = make([]string, nkeys)
	for k := range kd.names {
		kd.names[k] = "key-" + strconv.Itoa(k)
	}
	kd.slow = slow
	kd.sub, kd.start, kd.end = make([]int64, n), make([]int64, n), make([]int64, n)
}

// hotShare is the probability of hotKey under the Zipf draw of
// prepareKeys: rand.Zipf draws k with probability proportional to
// (1+k)^-zipfS.
func hotShare() float64 {
	sum := 0.0
	for k := range keyCount {
		sum += math.Pow(1+float64(k), -zipfS)
	}
	return math.Pow(1+hotKey, -zipfS) / sum
}

// keyedWork is task i: it records its start, spins for keyWork (slowWork
// for the slow key), and records its end.
func keyedWork(i int32) {
	s := clock()
	kd.start[i] = s
	d := int64(keyWork)
	if kd.keys[i] == kd.slow {
		d = int64(slowWork)
	}
	for clock()-s < d {
	}
	kd.end[i] = clock()
}

// A keyedForm is one way to run keyed tasks: start makes it, with
// capacity workers where it has workers, and returns how to give it task
// i (of key kd.keys[i]; it calls keyedWork(i)), how to wait until every
// task given has returned (the form still in use), and how to shut it
// down.
type keyedForm struct {
	name, how string
	start     func(capacity int) (submit func(i int32), wait, stop func())
}

func keyedForms() []keyedForm {
	ctx := context.Background()
	ours := func(opts ...ants.Option) func(int) (func(int32), func(), func()) {
		return func(c int) (func(int32), func(), func()) {
			p, _ := ants.NewPool(c, opts...)
			kg := ants.NewKeyedGroup[int32](ctx, p)
			return func(i int32) {
					kg.Go(kd.keys[i], func(context.Context) error { keyedWork(i); return nil })
				}, func() { must(kg.Wait()) },
				func() { must(p.ReleaseContext(ctx)) }
		}
	}
	return []keyedForm{
		{"this KeyedGroup Go+Wait", "`ants.NewKeyedGroup[int32](ctx, p)` on `ants.NewPool(GOMAXPROCS)`; `Go(key, task)` per task; at the end `Wait()`. A task waiting behind its key holds no worker; `Go` waits only while 1,024 tasks are accepted and not started (`WithMaxPending`'s default).", ours()},
		{"this KeyedGroup queue Go+Wait", "As above, on `ants.NewPool(GOMAXPROCS, ants.WithQueueSize(1024))`.", ours(ants.WithQueueSize(queueSize))},
		{"go-pkgz/pool WithChunkFn Submit+Close", "Hash-pinned workers: `pool.New[int32](GOMAXPROCS, worker).WithChunkFn(key)` (`github.com/go-pkgz/pool`), where `key` returns the task's key as a string, so every task of a key goes to the same worker, in order (FNV hash of the key, modulo the workers); `Go(ctx)`, `Submit(i)` per task (its default batches of 10 per worker), at the end `Close(ctx)`, which waits for every task.", func(c int) (func(int32), func(), func()) {
			p := pkgzpool.New[int32](c, pkgzpool.WorkerFunc[int32](func(_ context.Context, i int32) error { keyedWork(i); return nil })).
				WithChunkFn(func(i int32) string { return kd.names[kd.keys[i]] })
			must(p.Go(ctx))
			return p.Submit, func() { must(p.Close(ctx)) }, func() {}
		}},
		{"ants v2 PoolWithFuncGeneric+per-key mutex", "`antsv2.NewPoolWithFuncGeneric(GOMAXPROCS, fn)` with a function that takes its key's `sync.Mutex` (from a map guarded by a `sync.RWMutex`, made on first use, never removed), runs the task and unlocks; `Invoke(i)` per task, a WaitGroup, at the end `wg.Wait()`, then `Release()`. A task waiting for its key's mutex holds a worker, and a mutex does not hand itself over in arrival order.", func(c int) (func(int32), func(), func()) {
			var mu sync.RWMutex
			locks := map[int32]*sync.Mutex{}
			lockOf := func(k int32) *sync.Mutex {
				mu.RLock()
				l := locks[k]
				mu.RUnlock()
				if l != nil {
					return l
				}
				mu.Lock()
				defer mu.Unlock()
				if l = locks[k]; l == nil {
					l = new(sync.Mutex)
					locks[k] = l
				}
				return l
			}
			var wg sync.WaitGroup
			p, _ := antsv2.NewPoolWithFuncGeneric(c, func(i int32) {
				l := lockOf(kd.keys[i])
				l.Lock()
				keyedWork(i)
				l.Unlock()
				wg.Done()
			})
			return func(i int32) { wg.Add(1); must(p.Invoke(i)) }, wg.Wait, p.Release
		}},
		{"goroutine per key+channel", fmt.Sprintf("A goroutine per key, started at the key's first task, reading the key's channel (buffered, %d) until it is closed; the one submitter keeps the channels in a map; per task, `wg.Add(1)` and a send on its key's channel; at the end `wg.Wait()`, then every channel closed. No bound but the channels: a send to a full channel waits.", chanDepth), func(int) (func(int32), func(), func()) {
			chans := map[int32]chan int32{}
			var tasks, loops sync.WaitGroup
			return func(i int32) {
					k := kd.keys[i]
					ch := chans[k]
					if ch == nil {
						ch = make(chan int32, chanDepth)
						chans[k] = ch
						loops.Go(func() {
							for i := range ch {
								keyedWork(i)
								tasks.Done()
							}
						})
					}
					tasks.Add(1)
					ch <- i
				}, tasks.Wait, func() {
					for _, ch := range chans {
						close(ch)
					}
					loops.Wait()
				}
		}},
	}
}

// keyedRun measures one form on the tasks of kd: every task given in
// order, from one goroutine, then the wait. It reports the tasks per
// second, the live heap once every task has returned (the form still in
// use) against before the form was made, and, with order, the order
// violations and the start delays of the tasks not of the hot key.
func keyedRun(f keyedForm, order bool) func(cfg config, extra map[string]float64) {
	return func(cfg config, extra map[string]float64) {
		n := len(kd.keys)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		stuck := time.AfterFunc(keyedStuck, func() { panic(fmt.Sprintf("%s: not done after %v", f.name, keyedStuck)) })
		t0 := time.Now()
		submit, wait, stop := f.start(cfg.capacity)
		for i := range int32(n) {
			kd.sub[i] = clock()
			submit(i)
		}
		wait()
		took := time.Since(t0)
		stuck.Stop()
		runtime.GC()
		runtime.ReadMemStats(&after)
		stop()

		for i := range n {
			if kd.end[i] == 0 {
				panic(fmt.Sprintf("%s: task %d had not run when the wait returned", f.name, i))
			}
		}
		extra["M tasks/s"] = float64(n) / took.Seconds() / 1e6
		extra["heap after MiB"] = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
		if !order {
			return
		}
		extra["order violations"] = float64(violations())
		var delays []int64
		for i, k := range kd.keys {
			if k != hotKey {
				delays = append(delays, kd.start[i]-kd.sub[i])
			}
		}
		slices.Sort(delays)
		extra["others p99 start ms"] = float64(delays[len(delays)*99/100]) / 1e6
	}
}

// violations counts the tasks that started before a task given earlier
// for the same key had returned.
func violations() int {
	lastEnd := map[int32]int64{} // per key, the latest end of its tasks so far, in the order given
	v := 0
	for i, k := range kd.keys {
		if kd.start[i] < lastEnd[k] {
			v++
		}
		lastEnd[k] = max(lastEnd[k], kd.end[i])
	}
	return v
}

// keyedWorkloads builds W7 (Zipf keys), W7-slow (the hot key's tasks
// 100× longer) and W7-keys (a million distinct keys).
func keyedWorkloads() []*workload {
	procs := runtime.GOMAXPROCS(0)
	const ref = "go-pkgz/pool WithChunkFn Submit+Close"
	extras := map[string]string{
		"M tasks/s":           "millions of tasks per second, from the first task given to the wait's return",
		"heap after MiB":      "the live heap once every task has returned, the form still in use (go-pkgz's: closed, as its wait is its close), minus the live heap before the form was made, both after a garbage collection",
		"order violations":    "tasks that started before a task given earlier for the same key had returned (each task records its start and end)",
		"others p99 start ms": fmt.Sprintf("99th percentile of the delay from a task's submit call to its start, over the tasks not of the hot key (key %d, the one drawn most often)", hotKey),
	}
	zipfDesc := func(cfg config) string {
		return fmt.Sprintf("%s tasks, each given a key drawn Zipf(%g) over %s keys (`math/rand/v2`, a fixed seed; the most frequent key, %d, has about %.0f%% of the tasks), given in order from one goroutine; a task spins for about %v. "+
			"Tasks of one key must run one at a time, in the order given; keys in parallel. Every form with workers has GOMAXPROCS (%d). ",
			num(cfg.tasks), zipfS, num(keyCount), hotKey, hotShare()*100, keyWork, procs)
	}
	forms := keyedForms()
	var all, noGoroutines []contender
	for _, f := range forms {
		all = append(all, contender{f.name, f.how, keyedRun(f, true)})
		if f.name != "goroutine per key+channel" {
			noGoroutines = append(noGoroutines, contender{f.name, f.how, keyedRun(f, false)})
		}
	}
	return []*workload{
		{key: "W7", name: "keyed", reference: ref,
			desc: func(cfg config) string {
				return zipfDesc(cfg) + "The hash-pinned design (go-pkgz/pool) is the reference."
			},
			extras:     extras,
			prepare:    func(cfg config) { prepareKeys(cfg.tasks, false, -1) },
			full:       config{tasks: 1_000_000, capacity: procs},
			quick:      config{tasks: 20_000, capacity: procs},
			contenders: all,
		},
		{key: "W7-slow", name: "keyed, one slow key", reference: ref,
			desc: func(cfg config) string {
				return zipfDesc(cfg) + fmt.Sprintf("Here the tasks of the hot key (key %d) spin %v, 100× longer: that key's tasks alone take about %v one after another, which bounds every form's wall time. "+
					"What differs is whether the other keys wait for it: **others p99 start** is the delay of the other keys' tasks.",
					hotKey, slowWork, (time.Duration(float64(cfg.tasks)*hotShare())*slowWork).Round(time.Second/10))
			},
			extras:     extras,
			prepare:    func(cfg config) { prepareKeys(cfg.tasks, false, hotKey) },
			full:       config{tasks: 1_000_000, capacity: procs},
			quick:      config{tasks: 10_000, capacity: procs},
			contenders: all,
		},
		{key: "W7-keys", name: "keyed, every key distinct", reference: ref,
			desc: func(cfg config) string {
				return fmt.Sprintf("%s tasks, each of a key of its own, spinning about %v: what a form keeps for keys whose work is all done (**heap after**). "+
					"The goroutine-per-key form is left out: it would start %s goroutines.",
					num(cfg.tasks), keyWork, num(cfg.tasks))
			},
			extras:     extras,
			prepare:    func(cfg config) { prepareKeys(cfg.tasks, true, -1) },
			full:       config{tasks: 1_000_000, capacity: procs},
			quick:      config{tasks: 20_000, capacity: procs},
			contenders: noGoroutines,
		},
		rateLimit(),
	}
}
