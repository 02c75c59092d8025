package ants_test

import (
	"context"
	"math"
	"runtime"
	"testing"

	"github.com/antspool/ants"
)

// mallocs returns the exact number of heap allocations n runs of f make in
// steady state: the fewest over three rounds, after n warm-up runs. (A
// worker descheduled during warm-up may go idle late and grow the idle
// stack once; an allocation per call would show in every round.
// testing.AllocsPerRun rounds the average down, which would hide an
// allocation every few calls.)
func mallocs(n int, f func()) uint64 {
	for range n {
		f()
	}
	best := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			f()
		}
		runtime.ReadMemStats(&after)
		best = min(best, after.Mallocs-before.Mallocs)
	}
	return best
}

// startAll starts all n workers of a pool and leaves them idle, so that
// afterwards a submit always finds one: in the tests below at most two are
// busy at a time (one finishing its task, one starting the next).
func startAll(t *testing.T, submit func(func()) error, n int) {
	t.Helper()
	b := newBlocker()
	b.fill(t, submit, n)
	b.open()
}

func TestInvokeGenericDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	done := make(chan struct{})
	var b *blocker
	p, _ := ants.NewPoolWithFuncGeneric(8, func(n int) {
		if n < 0 {
			b.task()
			return
		}
		done <- struct{}{}
	}, ants.WithDisablePurge(true))
	b = newBlocker()
	b.fill(t, func(func()) error { return p.Invoke(-1) }, 8)
	b.open()
	const n = 10000
	if got := mallocs(n, func() {
		if err := p.Invoke(42); err != nil {
			t.Fatal(err)
		}
		<-done
	}); got != 0 {
		t.Errorf("%d Invokes allocated %d times in steady state, want 0", n, got)
	}
	mustRelease(t, p)
}

func TestSubmitAllocatesOnlyTheClosure(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	p, _ := ants.NewPool(8, ants.WithDisablePurge(true))
	startAll(t, p.Submit, 8)
	done := make(chan int)
	const n = 10000
	static := func() { done <- 0 }
	if got := mallocs(n, func() {
		if err := p.Submit(static); err != nil {
			t.Fatal(err)
		}
		<-done
	}); got != 0 {
		t.Errorf("%d Submits of a prebuilt func allocated %d times, want 0", n, got)
	}
	var sink int
	if got := mallocs(n, func() {
		x := sink + 1
		if err := p.Submit(func() { done <- x }); err != nil { // a capturing closure: one allocation
			t.Fatal(err)
		}
		sink = <-done
	}); got > n {
		t.Errorf("%d Submits of a capturing closure allocated %d times, want at most %d (the closures)", n, got, n)
	}
	mustRelease(t, p)
}

func TestResultGroupGoAllocatesAtMostOneMoreThanGroupGo(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	p, _ := ants.NewPool(8, ants.WithDisablePurge(true))
	startAll(t, p.Submit, 8)
	ctx := context.Background()
	done := make(chan struct{})
	groupTask := func(context.Context) error { done <- struct{}{}; return nil }
	resultTask := func(context.Context) (int, error) { done <- struct{}{}; return 1, nil }
	const n = 10000

	g := p.Group(ctx)
	group := mallocs(n, func() {
		g.Go(groupTask)
		<-done
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	rg := ants.NewResultGroup[int](ctx, p)
	result := mallocs(n, func() {
		rg.Go(resultTask)
		<-done
	})
	if _, err := rg.Wait(); err != nil {
		t.Fatal(err)
	}

	// Group.Go: the task's record, nothing more (the interceptor, absent,
	// and the fork-join bookkeeping cost no allocation).
	if group > n+n/100 {
		t.Errorf("%d Group.Go calls allocated %d times, want one per task", n, group)
	}
	// One closure per task, and the amortized growth of the results slice:
	// a handful of reallocations over n tasks, far below 1% of n.
	if limit := group + n + n/100; result > limit {
		t.Errorf("%d ResultGroup.Go calls allocated %d times, %d Group.Go calls %d: %.3f more per task, want at most 1",
			n, result, n, group, float64(result-group)/n)
	}
	t.Logf("per task: Group.Go %.3f allocations, ResultGroup.Go %.3f", float64(group)/n, float64(result)/n)
	mustRelease(t, p)
}
