package ants_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"weak"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

// Panics free their worker's slot at once, so callers waiting behind
// panicking tasks are served without delay: no timer, no purge, no poll.
func TestPanickingTasksDoNotStarveWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var handled atomic.Int32
		p, _ := ants.NewPool(1, ants.WithPanicHandler(func(any) { handled.Add(1) }))
		b := newBlocker()
		b.fill(t, p.Submit, 1)
		for range 5 {
			go func() { _ = p.Submit(func() { panic("boom") }) }()
			synctest.Wait() // in line, in order
		}
		served := make(chan time.Time, 1)
		go func() { _ = p.Submit(func() { served <- time.Now() }) }()
		synctest.Wait()
		start := time.Now()
		b.open()
		if at := <-served; at.Sub(start) != 0 {
			t.Errorf("the caller behind 5 panicking tasks waited %v", at.Sub(start))
		}
		mustRelease(t, p)
		if handled.Load() != 5 {
			t.Errorf("PanicHandler saw %d panics, want 5", handled.Load())
		}
	})
}

// The purge goroutine stops idle workers while bursts of callers wait for
// workers: no task is lost and no caller is left waiting.
func TestPurgeRacingSubmitBurstsStrandsNoWaiter(t *testing.T) {
	p, _ := ants.NewPool(2, ants.WithExpiryDuration(100*time.Microsecond))
	var ran atomic.Int64
	bursts := rounds(200, 40)
	const callers = 16
	for range bursts {
		var wg sync.WaitGroup
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := p.Submit(func() { ran.Add(1) }); err != nil {
					t.Errorf("Submit = %v", err)
				}
			}()
		}
		wg.Wait()                                                    // every caller was served: none stranded
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond) // idle long enough, sometimes, for a purge
	}
	if p.Waiting() != 0 {
		t.Errorf("Waiting = %d after every caller returned", p.Waiting())
	}
	mustRelease(t, p)
	if got := ran.Load(); got != int64(bursts*callers) {
		t.Errorf("ran %d tasks, want %d", got, bursts*callers)
	}
}

// A group whose context is cancelled while its tasks wait in the pool's
// line — callers blocked in Go and a retry due — returns from Wait at once,
// even though the pool's only worker is still busy with other work.
func TestCancelledGroupWithQueuedTasksReturnsPromptly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		parent, cancel := context.WithCancel(context.Background())
		g := p.Group(parent, ants.WithRetry(func() backoff.BackOff { return backoff.NewConstantBackOff(time.Millisecond) }))
		var ran atomic.Int32
		g.Go(func(context.Context) error { // fails once: its retry will wait in line
			if ran.Add(1) == 1 {
				return errBoom
			}
			return nil
		})
		synctest.Wait()
		b := newBlocker()
		b.fill(t, p.Submit, 1) // other work holds the only worker
		for range 10 {
			go g.Go(func(context.Context) error { ran.Add(1); return nil })
		}
		time.Sleep(2 * time.Millisecond) // the retry comes due and joins the line
		synctest.Wait()
		if p.Waiting() != 10 {
			t.Fatalf("Waiting = %d, want the 10 callers (the retry in line is not one)", p.Waiting())
		}
		start := time.Now()
		cancel()
		err := g.Wait()
		if d := time.Since(start); d != 0 {
			t.Errorf("Wait returned %v after the cancel, want at once", d)
		}
		if err == nil {
			t.Error("Wait = nil for a group whose tasks were skipped")
		}
		if p.Waiting() != 0 {
			t.Errorf("Waiting = %d after the group ended", p.Waiting())
		}
		b.open()
		mustRelease(t, p)
		if ran.Load() != 1 {
			t.Errorf("%d attempts ran, want only the first", ran.Load())
		}
	})
}

// payload is what a task captures; the pool must not keep it reachable
// once the task has run.
type payload struct{ data [64]byte }

// collectable reports whether the value w points to is collected within a
// few GC cycles.
func collectable(w weak.Pointer[payload]) bool {
	for range 10 {
		runtime.GC()
		if w.Value() == nil {
			return true
		}
	}
	return false
}

func TestTaskPayloadIsCollectableAfterItRuns(t *testing.T) {
	// Each case submits one task that captures (or is given) a fresh
	// payload, waits for it to run, and returns a weak pointer to it. The
	// pools stay open, their workers idle: they must not pin the payload.
	p, _ := ants.NewPool(2)
	mp, _ := ants.NewMultiPool(2, 1, ants.RoundRobin)
	done := make(chan struct{}, 1)
	gp, _ := ants.NewPoolWithFuncGeneric(2, func(*payload) { done <- struct{}{} })
	cases := map[string]func() weak.Pointer[payload]{
		"Pool.Submit": func() weak.Pointer[payload] {
			x := new(payload)
			_ = p.Submit(func() { x.data[0]++; done <- struct{}{} })
			<-done
			return weak.Make(x)
		},
		"Pool.SubmitCtx": func() weak.Pointer[payload] {
			x := new(payload)
			_ = p.SubmitCtx(context.Background(), func(context.Context) { x.data[0]++; done <- struct{}{} })
			<-done
			return weak.Make(x)
		},
		"PoolWithFuncGeneric.Invoke": func() weak.Pointer[payload] {
			x := new(payload)
			_ = gp.Invoke(x)
			<-done
			return weak.Make(x)
		},
		"MultiPool.Submit": func() weak.Pointer[payload] {
			x := new(payload)
			_ = mp.Submit(func() { x.data[0]++; done <- struct{}{} })
			<-done
			return weak.Make(x)
		},
		"Group.Go": func() weak.Pointer[payload] {
			x := new(payload)
			g := p.Group(context.Background())
			g.Go(func(context.Context) error { x.data[0]++; return nil })
			_ = g.Wait()
			return weak.Make(x)
		},
		"Group.Go with a retry": func() weak.Pointer[payload] {
			x := new(payload)
			g := mp.Group(context.Background(), ants.WithRetry(func() backoff.BackOff {
				return backoff.NewConstantBackOff(time.Microsecond)
			}))
			g.Go(func(context.Context) error {
				if x.data[0]++; x.data[0] == 1 {
					return errBoom
				}
				return nil
			})
			_ = g.Wait()
			return weak.Make(x)
		},
	}
	for name, submit := range cases {
		if w := submit(); !collectable(w) {
			t.Errorf("%s: the task's payload is still reachable after it ran", name)
		}
	}
	mustRelease(t, p)
	mustRelease(t, mp)
	mustRelease(t, gp)
}

// The same for a task whose caller waited in line for a worker.
func TestWaitingCallersPayloadIsCollectableAfterItRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		b := newBlocker()
		b.fill(t, p.Submit, 1)
		done := make(chan struct{})
		w := func() weak.Pointer[payload] {
			x := new(payload)
			go func() { _ = p.Submit(func() { x.data[0]++; close(done) }) }()
			return weak.Make(x)
		}()
		synctest.Wait() // the caller waits in line
		b.open()
		<-done
		synctest.Wait()
		if !collectable(w) {
			t.Error("the payload of a task that waited in line is still reachable after it ran")
		}
		mustRelease(t, p)
	})
}
