package ants_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/antspool/ants"
)

func TestMultiPoolStrategiesSpreadTasksEvenly(t *testing.T) {
	for _, lbs := range []ants.LoadBalancingStrategy{ants.RoundRobin, ants.LeastTasks} {
		mp, err := ants.NewMultiPool(4, 3, lbs)
		if err != nil {
			t.Fatal(err)
		}
		b := newBlocker()
		b.fill(t, mp.Submit, 8)
		for i := range 4 {
			if n, err := mp.RunningByIndex(i); n != 2 || err != nil {
				t.Errorf("strategy %d: sub-pool %d runs %d workers (%v), want 2: tasks spread evenly", lbs, i, n, err)
			}
		}
		if mp.Running() != 8 || mp.Free() != 4 || mp.Cap() != 12 {
			t.Errorf("Running, Free, Cap = %d, %d, %d; want 8, 4, 12", mp.Running(), mp.Free(), mp.Cap())
		}
		b.open()
		mustRelease(t, mp)
	}
}

func TestMultiPoolByIndexRejectsBadIndexes(t *testing.T) {
	type byIndex interface {
		RunningByIndex(int) (int, error)
		FreeByIndex(int) (int, error)
		WaitingByIndex(int) (int, error)
	}
	for _, k := range append(multiKinds.each(), (multiKinds | leastTasks).each()...) {
		t.Run(k.String(), func(t *testing.T) {
			tp := newPool(t, k, 3) // three sub-pools of one worker
			p := tp.anyPool.(byIndex)
			for _, idx := range []int{-1, 3, 100} {
				for name, m := range map[string]func(int) (int, error){
					"RunningByIndex": p.RunningByIndex, "FreeByIndex": p.FreeByIndex, "WaitingByIndex": p.WaitingByIndex,
				} {
					if n, err := m(idx); n != -1 || !errors.Is(err, ants.ErrInvalidPoolIndex) {
						t.Errorf("%s(%d) = %d, %v; want -1, ErrInvalidPoolIndex", name, idx, n, err)
					}
				}
			}
			for idx := range 3 {
				if n, err := p.FreeByIndex(idx); n != 1 || err != nil {
					t.Errorf("FreeByIndex(%d) = %d, %v; want 1, nil", idx, n, err)
				}
			}
			mustRelease(t, tp)
		})
	}
}

// A submit never waits on a busy sub-pool while another has a free worker,
// and a caller that must wait takes the first worker any sub-pool frees.
func TestMultiPoolDoesNotWaitOnABusySubPool(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, _ := ants.NewMultiPool(2, 1, ants.RoundRobin)
		a := newBlocker()
		a.fill(t, mp.Submit, 1) // RoundRobin: sub-pool 0, now busy
		done := make(chan struct{})
		_ = mp.Submit(func() { close(done) }) // sub-pool 1
		<-done
		synctest.Wait() // sub-pool 1's worker is idle again

		// RoundRobin picks sub-pool 0, which is busy: the task must take
		// sub-pool 1's idle worker at once.
		ran := make(chan struct{})
		_ = mp.Submit(func() { close(ran) })
		select {
		case <-ran:
		case <-time.After(time.Hour):
			t.Fatal("the task waited for the busy sub-pool while the other was idle")
		}
		synctest.Wait()

		// Both busy: a caller whose strategy picks sub-pool 0 waits in the
		// shared line, and sub-pool 1 serves it as soon as it frees up.
		b := newBlocker()
		b.fill(t, mp.Submit, 1) // sub-pool 1
		served := make(chan struct{})
		go func() { _ = mp.Submit(func() { close(served) }) }() // picks sub-pool 0
		synctest.Wait()
		if n, _ := mp.WaitingByIndex(0); n != 1 || mp.Waiting() != 1 {
			t.Fatalf("WaitingByIndex(0), Waiting = %d, %d; want 1, 1", n, mp.Waiting())
		}
		b.open() // sub-pool 1 frees up; sub-pool 0 stays busy
		<-served
		if mp.Waiting() != 0 {
			t.Errorf("Waiting = %d after the caller was served", mp.Waiting())
		}
		a.open()
		mustRelease(t, mp)
	})
}

// A release that times out on one sub-pool says which, under one prefix,
// and still closes the multi-pool.
func TestMultiPoolReleaseNamesTheLateSubPool(t *testing.T) {
	for _, k := range multiKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stuck := make(chan struct{})
				stuckPool := func() *testPool {
					p := newPool(t, k, 3)            // RoundRobin over three sub-pools of one worker
					_ = p.submit(func() { <-stuck }) // sub-pool 0 is stuck
					_ = p.submit(func() {})
					_ = p.submit(func() {})
					synctest.Wait()
					return p
				}
				p := stuckPool()
				err := p.ReleaseTimeout(time.Second)
				if !errors.Is(err, ants.ErrTimeout) {
					t.Errorf("ReleaseTimeout = %v, want ErrTimeout", err)
				}
				if err == nil || err.Error() != "ants: pool 0: operation timed out" {
					t.Errorf("ReleaseTimeout = %q, want only sub-pool 0 named, under one prefix", err)
				}
				q := stuckPool()
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				if err := q.ReleaseContext(ctx); !errors.Is(err, context.DeadlineExceeded) || err.Error() != "ants: pool 0: context deadline exceeded" {
					t.Errorf("ReleaseContext = %q, want DeadlineExceeded for sub-pool 0", err)
				}
				if err := q.ReleaseContext(context.Background()); !errors.Is(err, ants.ErrPoolClosed) {
					t.Errorf("second ReleaseContext = %v, want ErrPoolClosed", err)
				}
				close(stuck)
				synctest.Wait()
				if p.Running()+q.Running() != 0 {
					t.Errorf("Running = %d after the stuck tasks returned", p.Running()+q.Running())
				}
			})
		})
	}
}

func TestMultiPoolRebootReopensEverySubPool(t *testing.T) {
	mp, _ := ants.NewMultiPool(2, 2, ants.LeastTasks)
	for range 3 {
		var wg sync.WaitGroup
		wg.Add(10)
		for range 10 {
			if err := mp.Submit(wg.Done); err != nil {
				t.Fatalf("Submit = %v", err)
			}
		}
		wg.Wait()
		mustRelease(t, mp)
		if !mp.IsClosed() || mp.Running() != 0 {
			t.Fatalf("after release: IsClosed, Running = %v, %d", mp.IsClosed(), mp.Running())
		}
		mp.Reboot()
		if mp.IsClosed() {
			t.Fatal("Reboot did not reopen the multi-pool")
		}
	}
	mp.Reboot() // open: no effect
	mp.Tune(5)
	if mp.Cap() != 10 {
		t.Errorf("Cap after Tune(5) = %d, want 10", mp.Cap())
	}
	mp.Release()
	mp.Reboot()
	mustRelease(t, mp)
}

// Reboot waits for every sub-pool's previous run before it opens any; a
// second Reboot racing with it must not wait on the new, open runs.
func TestMultiPoolConcurrentRebootsReturn(t *testing.T) {
	mp, _ := ants.NewMultiPool(3, 1, ants.RoundRobin)
	for range rounds(500, 100) {
		if err := mp.Submit(func() {}); err != nil {
			t.Fatal(err)
		}
		mp.Release()
		done := make(chan struct{})
		for range 8 {
			go func() { mp.Reboot(); done <- struct{}{} }()
		}
		for range 8 {
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("a concurrent Reboot did not return")
			}
		}
		if mp.IsClosed() {
			t.Fatal("closed after Reboot")
		}
	}
	mustRelease(t, mp)
}
