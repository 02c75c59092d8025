package ants_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.uber.org/goleak"

	"github.com/antspool/ants"
)

// TestStress runs a random mix of every operation against shared pools of
// every kind, from many goroutines, for ANTS_STRESS (a duration, default
// 3s), and checks the pools' promises throughout and at the end:
//
//   - a task whose submit returned nil ran exactly once; a task whose
//     submit failed never ran;
//   - no more tasks ran at once than the largest capacity ever set;
//   - a Group's Wait returns, after its last task, and reports a failure
//     whenever a task failed, panicked or was skipped;
//   - no call hangs: a watchdog fails the test with every goroutine's stack;
//   - after the final ReleaseContext returns nil, no goroutine is left.
//
// It is skipped under -short. CI runs it for 60s under the race detector.
func TestStress(t *testing.T) {
	if testing.Short() {
		t.Skip("stress test; run without -short, sized by ANTS_STRESS")
	}
	d := 3 * time.Second
	if v := os.Getenv("ANTS_STRESS"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 {
			t.Fatalf("ANTS_STRESS=%q: want a positive duration such as 30s", v)
		}
	}
	runStress(t, d, 4)
}

// TestRandomOperationsKeepInvariants is the stress test in miniature, run
// with every go test: one second (a fifth under -short).
func TestRandomOperationsKeepInvariants(t *testing.T) {
	runStress(t, time.Duration(rounds(1000, 200))*time.Millisecond, 2)
}

const stressMaxCap = 6 // the largest capacity the operator tunes a pool to

// stressTask is one submitted task: how often it ran, and whether its
// submit was accepted.
type stressTask struct {
	runs     atomic.Int32
	accepted bool
}

// stressTarget is one shared pool under stress.
type stressTarget struct {
	name  string
	bound int32 // most tasks that may run at once
	inUse gauge
	pool  *testPool
}

// run is the body of every stress task.
func (st *stressTarget) run(task *stressTask) {
	st.inUse.enter()
	task.runs.Add(1)
	if rand.IntN(8) == 0 {
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
	}
	st.inUse.exit()
}

// submit gives task to the pool through a random entry point: TrySubmit
// or TryInvoke seldom (it fails fast and would swamp the mix), Submit or
// Invoke, or SubmitCtx or InvokeCtx with a random context.
func (st *stressTarget) submit(r *rand.Rand, task *stressTask) error {
	run := func() { st.run(task) }
	switch r.IntN(8) {
	case 0:
		return st.pool.try(run)
	case 1, 2, 3, 4:
		return st.pool.submit(run)
	}
	ctx, cancel := randomCtx(r)
	defer cancel()
	return st.pool.submitCtx(ctx, run)
}

// randomCtx returns a context that is already done, ends soon, is
// cancelled from another goroutine, or never ends.
func randomCtx(r *rand.Rand) (context.Context, context.CancelFunc) {
	switch r.IntN(4) {
	case 0:
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx, cancel
	case 1:
		return context.WithTimeout(context.Background(), time.Duration(r.IntN(500))*time.Microsecond)
	case 2:
		ctx, cancel := context.WithCancel(context.Background())
		go cancel()
		return ctx, cancel
	default:
		return context.WithCancel(context.Background())
	}
}

// newStressTargets builds the pools under stress: every kind in both
// modes, and some with more options.
func newStressTargets(t *testing.T) []*stressTarget {
	tinyExpiry := ants.WithExpiryDuration(50 * time.Microsecond)
	var targets []*stressTarget
	for _, c := range []struct {
		ks   kinds
		name string // of the options
		opts []ants.Option
	}{
		{allKinds | bothModes, "", nil},
		{kindPool, "prealloc", []ants.Option{ants.WithPreAlloc(true)}},
		{kindPool, "nonblocking", []ants.Option{ants.WithNonblocking(true)}},
		{kindPool, "max-blocking", []ants.Option{ants.WithMaxBlockingTasks(2)}},
		{kindPool, "tiny-expiry", []ants.Option{tinyExpiry}},
		{kindPool | queueMode, "nonblocking/tiny-expiry", []ants.Option{ants.WithNonblocking(true), tinyExpiry}},
		{kindPool | queueMode, "max-blocking/prealloc", []ants.Option{ants.WithQueueSize(3), ants.WithMaxBlockingTasks(2), ants.WithPreAlloc(true)}},
		{kindMulti | leastTasks, "tiny-expiry", []ants.Option{tinyExpiry}},
		{kindGeneric, "prealloc/tiny-expiry", []ants.Option{ants.WithPreAlloc(true), tinyExpiry}},
	} {
		for _, k := range c.ks.each() {
			p := newPool(t, k, 3, c.opts...)
			name := k.String()
			if c.name != "" {
				name += "/" + c.name
			}
			targets = append(targets, &stressTarget{name: name, bound: int32(stressMaxCap * p.subPools), pool: p})
		}
	}
	return targets
}

// stressGroup runs one group of random tasks on st and checks its Wait.
func stressGroup(t *testing.T, st *stressTarget, r *rand.Rand) (tasks int) {
	var opts []ants.GroupOption
	if r.IntN(2) == 0 {
		opts = append(opts, ants.WithLimit(r.IntN(4)))
	}
	retrying := r.IntN(2) == 0
	if retrying {
		delay := time.Duration(r.IntN(200)) * time.Microsecond
		opts = append(opts, ants.WithRetry(func() backoff.BackOff {
			return backoff.WithMaxRetries(backoff.NewConstantBackOff(delay), 2)
		}))
	}
	if r.IntN(3) == 0 {
		opts = append(opts, ants.WithCollectErrors())
	}
	if r.IntN(4) == 0 {
		opts = append(opts, ants.WithTaskTimeout(time.Duration(1+r.IntN(100))*time.Microsecond))
	}
	parent, cancel := randomCtx(r)
	defer cancel()
	// Half the time a ResultGroup, whose task i returns i+1 when it succeeds.
	var g *ants.Group
	var rg *ants.ResultGroup[int]
	var goTask func(i int, task func(context.Context) error)
	if st.pool.runner != nil && r.IntN(2) == 0 {
		rg = ants.NewResultGroup[int](parent, st.pool.runner, opts...)
		goTask = func(i int, task func(context.Context) error) {
			rg.Go(func(ctx context.Context) (int, error) { return i + 1, task(ctx) })
		}
	} else {
		g = st.pool.runner.Group(parent, opts...)
		goTask = func(_ int, task func(context.Context) error) { g.Go(task) }
	}
	var waited atomic.Bool
	fatal := false // a task that must fail the group was given to Go
	n := 1 + r.IntN(12)
	for i := range n {
		kind := r.IntN(10) // drawn here: r is not safe for the workers to share
		pause := time.Duration(r.IntN(100)) * time.Microsecond
		fatal = fatal || kind == 0 || kind == 1 || (kind == 3 && !retrying)
		var attempts atomic.Int32
		goTask(i, func(ctx context.Context) error {
			if waited.Load() {
				t.Errorf("%s: a group task ran after Wait returned", st.name)
			}
			switch kind {
			case 0:
				return errInjected
			case 1:
				panic("injected panic")
			case 2: // work that stops early if a sibling fails
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(pause):
				}
			case 3: // fails once: a retrying group recovers
				if attempts.Add(1) == 1 {
					return fmt.Errorf("flaky: %w", errInjected)
				}
			case 4: // fans out again on its own pool and waits: never a deadlock
				inner := st.pool.runner.Group(ctx)
				for range 1 + int(pause)%3 {
					inner.Go(func(context.Context) error { time.Sleep(pause / 4); return nil })
				}
				return inner.Wait()
			default:
				time.Sleep(pause)
			}
			return nil
		})
	}
	var err error
	if rg != nil {
		var values []int
		values, err = rg.Wait()
		results := rg.Results()
		if len(values) != n || len(results) != n {
			t.Errorf("%s: ResultGroup.Wait gave %d values and %d results for %d tasks", st.name, len(values), len(results), n)
		}
		for i, res := range results {
			want := i + 1
			if res.Err != nil {
				want = 0
			}
			if res.Value != want || (i < len(values) && values[i] != want) {
				t.Errorf("%s: result %d = %d, %v (value %d); want %d", st.name, i, res.Value, res.Err, values[i], want)
			}
		}
	} else {
		err = g.Wait()
	}
	waited.Store(true)
	var pe *ants.PanicError
	switch {
	case err == nil && fatal:
		t.Errorf("%s: Wait = nil although a task could only fail", st.name)
	case err == nil, errors.Is(err, errInjected), errors.As(err, &pe),
		errors.Is(err, ants.ErrPoolClosed), errors.Is(err, ants.ErrPoolOverload),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	default:
		t.Errorf("%s: Wait = %v, not an error any task or the pool could give", st.name, err)
	}
	return n
}

var errInjected = errors.New("injected failure")

// stressKeyed runs one KeyedGroup of a few keys, with random options, on
// st's pool while it is tuned, released and rebooted: each task that runs
// runs once, and the tasks of a key run one at a time, in Go order.
func stressKeyed(t *testing.T, st *stressTarget, r *rand.Rand) (tasks int) {
	var opts []ants.GroupOption
	if r.IntN(2) == 0 {
		opts = append(opts, ants.WithLimit(1+r.IntN(3)))
	}
	if r.IntN(2) == 0 {
		opts = append(opts, ants.WithMaxPending(1+r.IntN(8)))
	}
	if r.IntN(3) == 0 {
		opts = append(opts, ants.WithCollectErrors())
	}
	parent, cancel := randomCtx(r)
	defer cancel()
	kg := ants.NewKeyedGroup[int](parent, st.pool.runner, opts...)
	const keys = 3
	var mu sync.Mutex
	var last [keys]int
	var inKey [keys]atomic.Int32
	runs := make([]atomic.Int32, 1+r.IntN(24))
	for i := range runs {
		key := r.IntN(keys)
		fail := r.IntN(8) == 0
		kg.Go(key, func(context.Context) error {
			if inKey[key].Add(1) > 1 {
				t.Errorf("%s: two tasks of key %d ran at once", st.name, key)
			}
			defer inKey[key].Add(-1)
			if runs[i].Add(1) > 1 {
				t.Errorf("%s: keyed task %d ran twice", st.name, i)
			}
			mu.Lock()
			if i+1 <= last[key] {
				t.Errorf("%s: key %d ran task %d after task %d", st.name, key, i, last[key]-1)
			}
			last[key] = i + 1
			mu.Unlock()
			if fail {
				return errInjected
			}
			return nil
		})
	}
	err := kg.Wait()
	switch {
	case err == nil, errors.Is(err, errInjected), errors.Is(err, ants.ErrPoolClosed),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	default:
		t.Errorf("%s: KeyedGroup.Wait = %v", st.name, err)
	}
	return len(runs)
}

func runStress(t *testing.T, d time.Duration, submitters int) {
	targets := newStressTargets(t)
	// If anything hangs, fail with every goroutine's stack.
	watchdog := time.AfterFunc(d+time.Minute, func() {
		buf := make([]byte, 1<<22)
		buf = buf[:runtime.Stack(buf, true)]
		panic(fmt.Sprintf("stress: no progress %v after the deadline; goroutines:\n%s", time.Minute, buf))
	})
	defer watchdog.Stop()

	var ops, groupTasks atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	records := make([][]*stressTask, len(targets)*submitters)
	for i, st := range targets {
		for j := range submitters {
			slot := &records[i*submitters+j]
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(i), uint64(j)))
				for {
					select {
					case <-stop:
						return
					default:
					}
					task := new(stressTask)
					err := st.submit(r, task)
					task.accepted = err == nil
					*slot = append(*slot, task)
					ops.Add(1)
					switch {
					case err == nil, errors.Is(err, ants.ErrPoolClosed), errors.Is(err, ants.ErrPoolOverload),
						errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
					default:
						t.Errorf("%s: submit = %v", st.name, err)
					}
				}
			}()
		}
		if st.pool.runner != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(i), 1<<32))
				for {
					select {
					case <-stop:
						return
					default:
					}
					if r.IntN(3) == 0 {
						groupTasks.Add(int64(stressKeyed(t, st, r)))
					} else {
						groupTasks.Add(int64(stressGroup(t, st, r)))
					}
					ops.Add(1)
				}
			}()
		}
	}
	wg.Add(1)
	go func() { // the operator: tunes, releases and reboots
		defer wg.Done()
		r := rand.New(rand.NewPCG(7, 7))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(r.IntN(1000)) * time.Microsecond):
			}
			st := targets[r.IntN(len(targets))]
			ops.Add(1)
			switch r.IntN(20) { // mostly Tune: a closed pool refuses at once and would swamp the mix
			case 0:
				st.pool.Release()
				st.pool.Reboot()
			case 1:
				if err := st.pool.ReleaseTimeout(5 * time.Second); err != nil && !errors.Is(err, ants.ErrPoolClosed) {
					t.Errorf("%s: ReleaseTimeout = %v", st.name, err)
				}
				st.pool.Reboot()
			case 2:
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(2000))*time.Microsecond)
				_ = st.pool.ReleaseContext(ctx) // may time out: tasks still run
				cancel()
				st.pool.Reboot()
			default:
				st.pool.Tune(1 + r.IntN(stressMaxCap))
			}
		}
	}()

	time.Sleep(d) // the test's length, not a synchronisation
	close(stop)
	wg.Wait()

	var accepted, refused int64
	for i, st := range targets {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := st.pool.ReleaseContext(ctx); err != nil {
			t.Errorf("%s: final ReleaseContext = %v", st.name, err)
		}
		cancel()
		acceptedHere := uint64(0)
		for _, slot := range records[i*submitters : (i+1)*submitters] {
			for _, task := range slot {
				runs := task.runs.Load()
				switch {
				case task.accepted && runs != 1:
					t.Errorf("%s: an accepted task ran %d times", st.name, runs)
				case !task.accepted && runs != 0:
					t.Errorf("%s: a refused task ran %d times", st.name, runs)
				}
				if task.accepted {
					accepted++
					acceptedHere++
				} else {
					refused++
				}
			}
		}
		if m := st.inUse.max.Load(); m > st.bound {
			t.Errorf("%s: %d tasks ran at once, above the largest capacity %d", st.name, m, st.bound)
		}
		// Released, and every goroutine gone: every task handed over
		// returned, and nothing is left running, waiting or queued.
		s := st.pool.Stats()
		if s.Submitted != s.Completed || s.Running != 0 || s.Busy != 0 || s.Idle != 0 || s.Waiting != 0 || s.Queued != 0 {
			t.Errorf("%s: after the final release, Stats = %+v", st.name, s)
		}
		switch {
		case st.pool.runner == nil && s.Submitted != acceptedHere:
			t.Errorf("%s: Submitted = %d, want the %d tasks accepted", st.name, s.Submitted, acceptedHere)
		case s.Submitted < acceptedHere: // Group attempts come on top
			t.Errorf("%s: Submitted = %d, fewer than the %d tasks accepted", st.name, s.Submitted, acceptedHere)
		}
	}
	goleak.VerifyNone(t)
	t.Logf("%v: %d operations; %d tasks accepted and run once, %d refused and never run; %d group tasks",
		d, ops.Load(), accepted, refused, groupTasks.Load())
}
