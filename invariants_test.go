package ants_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/antspool/ants"
)

// Random operations from many goroutines against one pool: submits with and
// without deadlines, cancellations, Tune up and down, Release and Reboot.
// Every task whose submit returned nil runs exactly once; every task whose
// submit failed never runs; no more tasks run at once than the largest
// capacity the pool was tuned to; nothing hangs; nothing leaks.
func TestRandomOperationsKeepInvariants(t *testing.T) {
	d := time.Second
	if testing.Short() {
		d = 200 * time.Millisecond
	}
	for _, opts := range map[string][]ants.Option{
		"default":        nil,
		"prealloc":       {ants.WithPreAlloc(true)},
		"tiny expiry":    {ants.WithExpiryDuration(100 * time.Microsecond)},
		"max blocking 3": {ants.WithMaxBlockingTasks(3)},
		"nonblocking":    {ants.WithNonblocking(true)},
		"disable purge":  {ants.WithDisablePurge(true)},
	} {
		runRandomOps(t, d, opts)
	}
}

func runRandomOps(t *testing.T, d time.Duration, opts []ants.Option) {
	const maxCap = 6
	var gp, gf gauge  // tasks in flight on p and on f
	var runs sync.Map // task id -> *atomic.Int32 (times run)
	var nextID atomic.Int64
	var accepted, refused atomic.Int64
	newTask := func() (int64, *atomic.Int32) {
		id := nextID.Add(1)
		n := new(atomic.Int32)
		runs.Store(id, n)
		return id, n
	}
	body := func(g *gauge, n *atomic.Int32) {
		g.enter()
		n.Add(1)
		if rand.IntN(4) == 0 {
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
		}
		g.exit()
	}
	p, err := ants.NewPool(3, opts...)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ants.NewPoolWithFuncGeneric(3, func(n *atomic.Int32) { body(&gf, n) }, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var refusedIDs sync.Map
	record := func(id int64, err error) {
		switch {
		case err == nil:
			accepted.Add(1)
		case errors.Is(err, ants.ErrPoolClosed), errors.Is(err, ants.ErrPoolOverload),
			errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			refused.Add(1)
			refusedIDs.Store(id, true)
		default:
			t.Errorf("unexpected error %v", err)
		}
	}

	stop := make(chan struct{})
	waitSubmitters := repeat(6, stop, func() {
		id, n := newTask()
		switch rand.IntN(5) {
		case 0:
			record(id, p.Submit(func() { body(&gp, n) }))
		case 1:
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(300))*time.Microsecond)
			record(id, p.SubmitCtx(ctx, func(context.Context) { body(&gp, n) }))
			cancel()
		case 2:
			ctx, cancel := context.WithCancel(context.Background())
			go cancel()
			record(id, p.SubmitCtx(ctx, func(context.Context) { body(&gp, n) }))
		case 3:
			record(id, f.Invoke(n))
		case 4:
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rand.IntN(300))*time.Microsecond)
			record(id, f.InvokeCtx(ctx, n))
			cancel()
		}
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the operator: tunes, releases, reboots
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(rand.IntN(2000)) * time.Microsecond):
			}
			switch rand.IntN(20) { // mostly Tune: a closed pool refuses at once, and would swamp the mix
			default:
				n := 1 + rand.IntN(maxCap)
				p.Tune(n)
				f.Tune(n)
			case 0:
				p.Release()
				f.Release()
				p.Reboot()
				f.Reboot()
			case 1:
				_ = p.ReleaseTimeout(time.Second)
				_ = f.ReleaseTimeout(time.Second)
				p.Reboot()
				f.Reboot()
			}
		}
	}()

	time.Sleep(d) // the test's duration, not a synchronisation
	close(stop)
	watchdog := time.AfterFunc(30*time.Second, func() { panic("random operations hung") })
	waitSubmitters()
	wg.Wait()
	mustRelease(t, p)
	mustRelease(t, f)
	watchdog.Stop()

	runs.Range(func(k, v any) bool {
		n := v.(*atomic.Int32).Load()
		_, wasRefused := refusedIDs.Load(k)
		switch {
		case wasRefused && n != 0:
			t.Errorf("task %d was refused but ran %d times", k, n)
		case !wasRefused && n != 1:
			t.Errorf("task %d was accepted but ran %d times", k, n)
		}
		return true
	})
	for name, g := range map[string]*gauge{"Pool": &gp, "PoolWithFuncGeneric": &gf} {
		if m := g.max.Load(); m > maxCap {
			t.Errorf("%s: %d tasks ran at once, above its largest capacity %d", name, m, maxCap)
		}
	}
	if accepted.Load() == 0 || refused.Load() == 0 {
		t.Errorf("accepted %d, refused %d: the mix did not exercise both outcomes", accepted.Load(), refused.Load())
	}
	t.Logf("accepted %d, refused %d, most at once %d and %d", accepted.Load(), refused.Load(), gp.max.Load(), gf.max.Load())
}
