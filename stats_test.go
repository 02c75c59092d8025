package ants_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/antspool/ants"
)

// observed collects what a task observer is told.
type observed struct {
	mu    sync.Mutex
	infos []ants.TaskInfo
}

func (o *observed) observe(ti ants.TaskInfo) {
	o.mu.Lock()
	o.infos = append(o.infos, ti)
	o.mu.Unlock()
}

func (o *observed) all() []ants.TaskInfo {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]ants.TaskInfo(nil), o.infos...)
}

// checkStats compares the fields of got that want sets (a zero field in
// want is compared too: want is the whole expected snapshot).
func checkStats(t *testing.T, what string, got, want ants.Stats) {
	t.Helper()
	if got != want {
		t.Errorf("%s: Stats =\n\t%+v\nwant\n\t%+v", what, got, want)
	}
}

// Blocked callers, busy and idle workers, waits and completions add up
// exactly, step by step, on every pool kind.
func TestStatsAddUpForSubmits(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 2, ants.WithDisablePurge(true))
				checkStats(t, "new", p.Stats(), ants.Stats{Cap: 2})

				b := newBlocker()
				b.fill(t, p.submit, 2)
				for range 3 {
					go func() {
						if err := p.submit(b.task); err != nil {
							t.Errorf("Submit = %v", err)
						}
					}()
				}
				synctest.Wait()
				checkStats(t, "2 busy, 3 blocked", p.Stats(),
					ants.Stats{Cap: 2, Running: 2, Busy: 2, Waiting: 3, Submitted: 2})

				time.Sleep(time.Second) // the three callers wait one second
				b.open()
				for range 3 {
					<-b.started
				}
				synctest.Wait()
				checkStats(t, "all done", p.Stats(),
					ants.Stats{Cap: 2, Running: 2, Idle: 2, Submitted: 5, Completed: 5, WaitTime: 3 * time.Second})

				mustRelease(t, p)
				checkStats(t, "released", p.Stats(),
					ants.Stats{Cap: 2, Submitted: 5, Completed: 5, WaitTime: 3 * time.Second})
				p.Reboot()
				if err := p.submit(func() {}); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				checkStats(t, "rebooted: counters kept", p.Stats(),
					ants.Stats{Cap: 2, Running: 1, Idle: 1, Submitted: 6, Completed: 6, WaitTime: 3 * time.Second})
				mustRelease(t, p)
			})
		})
	}
}

// WaitTime counts every wait in line from the start, and taking a Stats
// changes nothing: no getter switches timing on.
func TestStatsWaitTimeCountsWaitsInLineWithoutALook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		for round := 1; round <= 2; round++ {
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			done := make(chan struct{})
			go func() { _ = p.Submit(func() {}); close(done) }()
			synctest.Wait() // the second caller waits in line
			time.Sleep(time.Second)
			b.open()
			<-done
			synctest.Wait()
			want := time.Duration(round) * time.Second
			if s := p.Stats(); s.WaitTime != want || s.Completed != uint64(2*round) {
				t.Errorf("round %d: WaitTime, Completed = %v, %d; want %v, %d", round, s.WaitTime, s.Completed, want, 2*round)
			}
			if a, b := p.Stats(), p.Stats(); a != b {
				t.Errorf("round %d: two Stats in a row differ: %+v, %+v", round, a, b)
			}
		}
		mustRelease(t, p)
	})
}

// In queue mode a queued task's wait is timed only with a task observer,
// which needs it; a caller that waits for room in the queue is timed.
func TestStatsWaitTimeOfQueuedTasks(t *testing.T) {
	for _, observed := range []bool{false, true} {
		t.Run(fmt.Sprintf("observer=%v", observed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var opts []ants.Option
				var waits atomic.Int64
				if observed {
					opts = append(opts, ants.WithTaskObserver(func(ti ants.TaskInfo) { waits.Add(int64(ti.Wait)) }))
				}
				p, _ := ants.NewPool(1, append(opts, ants.WithQueueSize(1))...)
				b := newBlocker()
				b.fill(t, p.Submit, 1)
				ran := make(chan struct{})
				if err := p.Submit(func() { close(ran) }); err != nil { // queued
					t.Fatal(err)
				}
				time.Sleep(time.Second)
				b.open()
				<-ran
				synctest.Wait()
				want := time.Duration(0)
				if observed {
					want = time.Second
				}
				if s := p.Stats(); s.WaitTime != want {
					t.Errorf("WaitTime = %v, want %v", s.WaitTime, want)
				}
				if observed && time.Duration(waits.Load()) != time.Second {
					t.Errorf("the observer saw waits of %v in all, want 1s", time.Duration(waits.Load()))
				}
				mustRelease(t, p)
			})
		})
	}
}

// Busy is what back-pressure needs: a warm idle pool has Free() == 0 but
// Busy == 0.
func TestStatsBusyTellsWhatFreeCannot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(4)
		b := newBlocker()
		b.fill(t, p.Submit, 4)
		b.open()
		synctest.Wait()
		s := p.Stats()
		if p.Free() != 0 || s.Busy != 0 || s.Idle != 4 || s.Cap-s.Busy != 4 {
			t.Errorf("warm idle pool: Free = %d, Stats = %+v; want Free 0, Busy 0, Idle 4", p.Free(), s)
		}
		b = newBlocker()
		b.fill(t, p.Submit, 3)
		if s := p.Stats(); s.Busy != 3 || s.Idle != 1 {
			t.Errorf("3 tasks running: Busy, Idle = %d, %d; want 3, 1", s.Busy, s.Idle)
		}
		b.open()
		mustRelease(t, p)
		if s := p.Stats(); s.Running != 0 || s.Busy != 0 || s.Idle != 0 {
			t.Errorf("released: Running, Busy, Idle = %d, %d, %d; want 0", s.Running, s.Busy, s.Idle)
		}
	})
}

// Each task is in one gauge at a time: right after a burst of submits to a
// queue-mode pool with idle workers, every accepted task is either Busy
// (its worker has it) or Queued, never both.
func TestStatsCountEachTaskInOneGauge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// On one processor no worker runs during the burst: what a submit
		// left is what Stats sees.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		p, _ := ants.NewPool(4, ants.WithQueueSize(16))
		warm := newBlocker()
		warm.fill(t, p.Submit, 4)
		warm.open()
		synctest.Wait() // four idle workers
		b := newBlocker()
		for range 10 { // handed to the idle workers, or queued
			if err := p.Submit(b.task); err != nil {
				t.Fatal(err)
			}
		}
		s := p.Stats()
		if inFlight := int(s.Submitted - s.Completed); s.Busy+s.Queued != inFlight || inFlight != 10 {
			t.Errorf("after a burst: Busy %d + Queued %d, want Submitted - Completed = %d = 10", s.Busy, s.Queued, inFlight)
		}
		b.open()
		mustRelease(t, p)
	})
}

// Refusals and cancellations are counted, each once, whatever the entry
// point.
func TestStatsCountRefusalsAndCancellations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1, ants.WithMaxBlockingTasks(1))
		b := newBlocker()
		b.fill(t, p.Submit, 1)

		if err := p.TrySubmit(func() {}); !errors.Is(err, ants.ErrPoolOverload) {
			t.Fatal(err)
		}
		done, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.SubmitCtx(done, func(context.Context) {}); !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		blocked := make(chan error, 1)
		go func() { blocked <- p.SubmitCtx(ctx, func(context.Context) {}) }()
		synctest.Wait()
		if err := p.Submit(func() {}); !errors.Is(err, ants.ErrPoolOverload) { // past MaxBlockingTasks
			t.Fatal(err)
		}
		stop()
		if err := <-blocked; !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		g := p.Group(done) // its context is done: Go is a cancelled submit
		g.Go(func(context.Context) error { return nil })
		_ = g.Wait()
		if err := p.SubmitCtx(context.Background(), nil); !errors.Is(err, ants.ErrNilTask) {
			t.Fatal(err) // bad input is not a refusal
		}
		checkStats(t, "open", p.Stats(), ants.Stats{Cap: 1, Running: 1, Busy: 1, Submitted: 1, Rejected: 2, Canceled: 3})

		b.open()
		p.Release()
		_ = p.Submit(func() {})
		_ = p.TrySubmit(func() {})
		g = p.Group(context.Background())
		g.Go(func(context.Context) error { return nil })
		_ = g.Wait()
		synctest.Wait()
		if s := p.Stats(); s.Rejected != 5 || s.Canceled != 3 || s.Completed != 1 {
			t.Errorf("released: Rejected, Canceled, Completed = %d, %d, %d; want 5, 3, 1", s.Rejected, s.Canceled, s.Completed)
		}
	})
}

// Panics are counted for pool tasks and for Group and SubmitValue tasks,
// whose panics become errors; Goexit completes a task without a panic. The
// observer is told of each.
func TestStatsCountPanicsAndTheObserverSeesThem(t *testing.T) {
	var o observed
	p, _ := ants.NewPool(2, ants.WithPanicHandler(func(any) {}), ants.WithTaskObserver(o.observe))
	g := p.Group(context.Background(), ants.WithCollectErrors())
	g.Go(func(context.Context) error { panic("group") })
	g.Go(func(context.Context) error { return nil })
	_ = g.Wait()
	f := ants.SubmitValue(context.Background(), p, func(context.Context) (int, error) { panic("future") })
	if _, err := f.Wait(); err == nil {
		t.Fatal("SubmitValue: no error for a panic")
	}
	returned := make(chan struct{})
	_ = p.Submit(func() { defer close(returned); panic("pool") })
	<-returned
	exited := make(chan struct{})
	_ = p.Submit(func() { defer close(exited); runtime.Goexit() })
	<-exited
	mustRelease(t, p)
	s := p.Stats()
	if s.Submitted != 5 || s.Completed != 5 || s.Panicked != 3 {
		t.Errorf("Submitted, Completed, Panicked = %d, %d, %d; want 5, 5, 3", s.Submitted, s.Completed, s.Panicked)
	}
	panicked := 0
	for _, ti := range o.all() {
		if ti.Panicked {
			panicked++
		}
	}
	if n := len(o.all()); n != 5 || panicked != 3 {
		t.Errorf("the observer saw %d tasks, %d panicked; want 5, 3", n, panicked)
	}
}

// Each Group attempt is a task: counted when it gets its worker, observed
// on its own. A retry waiting out its delay, or waiting for a worker, is
// Queued, not Waiting.
func TestStatsCountGroupAttemptsAndQueuedRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var o observed
		p, _ := ants.NewPool(1, ants.WithTaskObserver(o.observe), ants.WithDisablePurge(true))
		g := p.Group(context.Background(), ants.WithRetry(constantRetry(time.Second)))
		task, calls := flaky(2)
		g.Go(task)
		synctest.Wait() // the first attempt failed; its retry sleeps
		checkStats(t, "retry sleeping", p.Stats(), ants.Stats{Cap: 1, Running: 1, Idle: 1, Queued: 1, Submitted: 1, Completed: 1})

		b := newBlocker()
		b.fill(t, p.Submit, 1)
		time.Sleep(time.Second) // the retry comes due; the worker is busy
		synctest.Wait()
		checkStats(t, "retry in line", p.Stats(), ants.Stats{Cap: 1, Running: 1, Busy: 1, Queued: 1, Submitted: 2, Completed: 1})

		time.Sleep(500 * time.Millisecond)
		b.open()
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if calls.Load() != 3 {
			t.Fatalf("%d attempts, want 3", calls.Load())
		}
		checkStats(t, "done", p.Stats(), ants.Stats{Cap: 1, Running: 1, Idle: 1, Submitted: 4, Completed: 4, WaitTime: 500 * time.Millisecond})

		var got []string
		for _, ti := range o.all() {
			got = append(got, fmt.Sprintf("%v/%v", ti.Wait, ti.Run))
		}
		// attempt 1; the blocker (1.5s); attempt 2, which waited 0.5s for
		// the worker; attempt 3, due 1s later, to an idle worker.
		if want := "[0s/0s 0s/1.5s 500ms/0s 0s/0s]"; fmt.Sprint(got) != want {
			t.Errorf("observer saw wait/run %v, want %v", got, want)
		}
		mustRelease(t, p)
	})
}

// The observer is told each task's wait and run time, for the func pools
// too.
func TestTaskObserverTimesWaitAndRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var o observed
		gate := make(chan struct{})
		p, _ := ants.NewPoolWithFuncGeneric(1, func(d time.Duration) {
			time.Sleep(d)
			<-gate
		}, ants.WithTaskObserver(o.observe))
		close(gate)
		_ = p.Invoke(time.Second) // runs 1s on a new worker
		_ = p.Invoke(0)           // waits 1s for it
		synctest.Wait()
		got := o.all()
		if len(got) != 2 || got[0] != (ants.TaskInfo{Run: time.Second}) || got[1] != (ants.TaskInfo{Wait: time.Second}) {
			t.Errorf("observer saw %+v, want a 1s run, then a 1s wait", got)
		}
		if s := p.Stats(); s.WaitTime != time.Second || s.Completed != 2 {
			t.Errorf("Stats = %+v, want WaitTime 1s (timed from the start, with an observer)", s)
		}
		mustRelease(t, p)
	})
}

// A multi-pool's Stats is the sum of its sub-pools'; the line they share
// counts once.
func TestMultiPoolStatsAreTheSum(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, _ := ants.NewMultiPoolWithFunc(3, 2, func(any) { time.Sleep(time.Second) }, ants.RoundRobin, ants.WithDisablePurge(true))
		_ = mp.Stats() // time the waits from here
		for range 6 {
			if err := mp.Invoke(nil); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			go func() { _ = mp.Invoke(nil) }()
		}
		synctest.Wait()
		checkStats(t, "full", mp.Stats(), ants.Stats{Cap: 6, Running: 6, Busy: 6, Waiting: 2, Submitted: 6})
		time.Sleep(3 * time.Second)
		synctest.Wait()
		checkStats(t, "done", mp.Stats(), ants.Stats{Cap: 6, Running: 6, Idle: 6, Submitted: 8, Completed: 8, WaitTime: 2 * time.Second})
		mustRelease(t, mp)
	})
}
