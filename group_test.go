package ants_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

var errBoom = errors.New("boom")

func TestGroupReturnsFirstErrorAndCancelsWithIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(4)
		g := p.Group(context.Background())
		for i := range 10 {
			g.Go(func(ctx context.Context) error {
				if i == 3 {
					return errBoom
				}
				<-ctx.Done() // the others run until the failure cancels them
				return ctx.Err()
			})
		}
		if err := g.Wait(); !errors.Is(err, errBoom) {
			t.Errorf("Wait = %v, want errBoom", err)
		}
		if cause := context.Cause(g.Context()); !errors.Is(cause, errBoom) {
			t.Errorf("Cause(ctx) = %v, want errBoom", cause)
		}
		mustRelease(t, p)
	})
}

// The first error is recorded before the context is cancelled, so a
// sibling that returns ctx.Err() as soon as it sees the cancel never wins.
func TestGroupFirstErrorNeverLosesToSiblingsCancellation(t *testing.T) {
	runs := rounds(1000, 200)
	p, _ := ants.NewPool(8)
	for i := range runs {
		g := p.Group(context.Background())
		for range 7 {
			g.Go(func(ctx context.Context) error {
				<-ctx.Done()
				return ctx.Err()
			})
		}
		g.Go(func(context.Context) error { return errBoom })
		if err := g.Wait(); !errors.Is(err, errBoom) {
			t.Fatalf("run %d: Wait = %v, want errBoom", i, err)
		}
	}
	mustRelease(t, p)
}

func TestGroupWaitIsNilWhenAllSucceedEvenIfParentCancelledAfter(t *testing.T) {
	p, _ := ants.NewPool(2)
	parent, cancel := context.WithCancel(context.Background())
	g := p.Group(parent)
	var ran atomic.Int32
	for range 5 {
		g.Go(func(context.Context) error { ran.Add(1); return nil })
	}
	done := make(chan struct{})
	g.Go(func(context.Context) error { close(done); return nil })
	<-done
	if err := g.Wait(); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	cancel()
	if err := g.Wait(); err != nil {
		t.Errorf("Wait after the parent was cancelled = %v, want nil", err)
	}
	if ran.Load() != 5 {
		t.Errorf("ran %d tasks, want 5", ran.Load())
	}
	if g.Context().Err() == nil {
		t.Error("the group's context is not cancelled after Wait")
	}
	mustRelease(t, p)
}

// Tasks that cannot start because the group's context is done are skipped,
// and not silently: Wait reports the context's cause.
func TestGroupSkippedTasksAreReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		b := newBlocker()
		b.fill(t, p.Submit, 1) // the pool is busy with other work
		parentCause := errors.New("shutting down")
		parent, cancel := context.WithCancelCause(context.Background())
		g := p.Group(parent)
		var ran atomic.Int32
		returned := make(chan struct{})
		go func() {
			g.Go(func(context.Context) error { ran.Add(1); return nil })
			close(returned)
		}()
		synctest.Wait() // Go waits for a worker
		start := time.Now()
		cancel(parentCause)
		<-returned
		if d := time.Since(start); d != 0 {
			t.Errorf("Go returned %v after the cancel, want at once", d)
		}
		g.Go(func(context.Context) error { ran.Add(1); return nil }) // after: skipped at once
		if err := g.Wait(); !errors.Is(err, parentCause) {
			t.Errorf("Wait = %v, want the context's cause", err)
		}
		b.open()
		mustRelease(t, p)
		if ran.Load() != 0 {
			t.Errorf("%d skipped tasks ran", ran.Load())
		}
	})
}

func TestGroupGoBlockedReturnsWhenASiblingFails(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int
		limit int
	}{
		{"blocked on a full pool", 2, 0},
		{"blocked at the group limit", 10, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p, _ := ants.NewPool(tc.size)
				g := p.Group(context.Background(), ants.WithLimit(tc.limit))
				fail := make(chan struct{})
				g.Go(func(context.Context) error { <-fail; return errBoom })
				g.Go(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
				b := newBlocker()
				if tc.limit == 0 { // fill the rest of the pool with other work
					b.fill(t, p.Submit, tc.size-2)
				}
				var ran atomic.Bool
				returned := make(chan struct{})
				go func() {
					g.Go(func(context.Context) error { ran.Store(true); return nil })
					close(returned)
				}()
				synctest.Wait()
				select {
				case <-returned:
					t.Fatal("Go returned while nothing was free")
				default:
				}
				close(fail)
				<-returned
				if err := g.Wait(); !errors.Is(err, errBoom) {
					t.Errorf("Wait = %v, want errBoom", err)
				}
				if ran.Load() {
					t.Error("the blocked task ran after the group failed")
				}
				b.open()
				mustRelease(t, p)
			})
		})
	}
}

func TestGroupRefusedSubmitIsTheTasksError(t *testing.T) {
	t.Run("nonblocking pool", func(t *testing.T) {
		p, _ := ants.NewPool(1, ants.WithNonblocking(true))
		b := newBlocker()
		b.fill(t, p.Submit, 1)
		g := p.Group(context.Background())
		g.Go(func(context.Context) error { return nil })
		if err := g.Wait(); !errors.Is(err, ants.ErrPoolOverload) {
			t.Errorf("Wait = %v, want ErrPoolOverload", err)
		}
		b.open()
		mustRelease(t, p)
	})
	t.Run("released pool, nil task or not", func(t *testing.T) {
		p, _ := ants.NewPool(1)
		mustRelease(t, p)
		for _, task := range []func(context.Context) error{nil, func(context.Context) error { return nil }} {
			g := p.Group(context.Background())
			g.Go(task)
			if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
				t.Errorf("Wait = %v, want ErrPoolClosed", err)
			}
			g = p.Group(context.Background())
			if g.TryGo(task) {
				t.Error("TryGo on a released pool returned true")
			}
			if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
				t.Errorf("Wait after TryGo = %v, want ErrPoolClosed", err)
			}
		}
	})
	t.Run("release wakes a blocked Go", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1)
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			g := p.Group(context.Background())
			returned := make(chan struct{})
			go func() { g.Go(func(context.Context) error { return nil }); close(returned) }()
			synctest.Wait()
			p.Release()
			<-returned
			if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
				t.Errorf("Wait = %v, want ErrPoolClosed", err)
			}
			b.open()
		})
	})
}

func TestGroupBadInput(t *testing.T) {
	p, _ := ants.NewPool(1)
	//lint:ignore SA1012 a nil context is the bad input under test
	g := p.Group(nil)
	ran := false
	g.Go(func(context.Context) error { ran = true; return nil })
	if err := g.Wait(); !errors.Is(err, ants.ErrNilContext) {
		t.Errorf("Group(nil).Wait = %v, want ErrNilContext", err)
	}
	if ran {
		t.Error("a task of a nil-context group ran")
	}
	g = p.Group(context.Background())
	g.Go(nil)
	if err := g.Wait(); !errors.Is(err, ants.ErrNilTask) {
		t.Errorf("Go(nil); Wait = %v, want ErrNilTask", err)
	}
	g = p.Group(context.Background(), nil) // a nil option is ignored
	g.Go(func(context.Context) error { return nil })
	if err := g.Wait(); err != nil {
		t.Errorf("Wait = %v", err)
	}
	mustRelease(t, p)
}

func TestGroupPanic(t *testing.T) {
	p, _ := ants.NewPool(1, ants.WithPanicHandler(func(v any) {
		t.Errorf("a group task's panic reached the pool's PanicHandler: %v", v)
	}))
	for _, tc := range []struct {
		name  string
		value any
	}{
		{"a value", "kaboom"},
		{"an error", errBoom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attempts := 0
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(time.Millisecond)))
			g.Go(func(context.Context) error { attempts++; panicInGroupTask(tc.value); return nil })
			err := g.Wait()
			var pe *ants.PanicError
			if !errors.As(err, &pe) {
				t.Fatalf("Wait = %v, want a *PanicError", err)
			}
			if pe.Value != tc.value {
				t.Errorf("PanicError.Value = %v, want %v", pe.Value, tc.value)
			}
			if !strings.Contains(string(pe.Stack), "panicInGroupTask") {
				t.Errorf("PanicError.Stack lacks the panicking function:\n%s", pe.Stack)
			}
			if _, isErr := tc.value.(error); isErr != errors.Is(err, errBoom) {
				t.Errorf("errors.Is(err, errBoom) = %v; Unwrap should expose only error values", !isErr)
			}
			if attempts != 1 {
				t.Errorf("a panicking task ran %d times, want 1: panics are not retried", attempts)
			}
			if !errors.Is(context.Cause(g.Context()), err) {
				t.Error("the panic did not cancel the group")
			}
		})
	}
	// The worker survived: the pool still has it, and it serves the next task.
	if p.Running() != 1 {
		t.Errorf("Running = %d after group panics, want 1 (the same worker)", p.Running())
	}
	g := p.Group(context.Background())
	g.Go(func(context.Context) error { return nil })
	if err := g.Wait(); err != nil {
		t.Errorf("Wait = %v", err)
	}
	mustRelease(t, p)
}

//go:noinline
func panicInGroupTask(v any) { panic(v) }

func TestGroupGoexit(t *testing.T) {
	p, _ := ants.NewPool(1)
	g := p.Group(context.Background())
	g.Go(func(context.Context) error { runtime.Goexit(); return nil })
	if err := g.Wait(); !errors.Is(err, ants.ErrGoexit) {
		t.Errorf("Wait = %v, want ErrGoexit", err)
	}
	g = p.Group(context.Background())
	g.Go(func(context.Context) error { return nil }) // the pool replaced its worker
	if err := g.Wait(); err != nil {
		t.Errorf("Wait = %v", err)
	}
	mustRelease(t, p)
}

func TestGroupLimit(t *testing.T) {
	for _, tc := range []struct{ limit, want int }{{3, 3}, {0, 8}, {-1, 8}} {
		t.Run(fmt.Sprintf("limit %d", tc.limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p, _ := ants.NewPool(8)
				g := p.Group(context.Background(), ants.WithLimit(tc.limit))
				var gg gauge
				for range 50 {
					g.Go(func(context.Context) error {
						gg.enter()
						defer gg.exit()
						time.Sleep(time.Millisecond)
						return nil
					})
				}
				if err := g.Wait(); err != nil {
					t.Fatal(err)
				}
				if m := int(gg.max.Load()); m != tc.want {
					t.Errorf("at most %d tasks ran at once, want %d", m, tc.want)
				}
				mustRelease(t, p)
			})
		})
	}
}

func TestGroupTryGo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(2)
		g := p.Group(context.Background(), ants.WithLimit(1))
		gate := make(chan struct{})
		if !g.TryGo(func(context.Context) error { <-gate; return nil }) {
			t.Fatal("TryGo on an idle pool returned false")
		}
		ran := false
		if g.TryGo(func(context.Context) error { ran = true; return nil }) {
			t.Error("TryGo at the group limit returned true")
		}
		close(gate)
		synctest.Wait()

		h := p.Group(context.Background())
		b := newBlocker()
		b.fill(t, p.Submit, 2)
		if h.TryGo(func(context.Context) error { ran = true; return nil }) {
			t.Error("TryGo on a full pool returned true")
		}
		b.open()
		for _, grp := range []*ants.Group{g, h} {
			if err := grp.Wait(); err != nil {
				t.Errorf("Wait = %v: a TryGo that returned false must not fail the group", err)
			}
		}
		if h.TryGo(func(context.Context) error { ran = true; return nil }) {
			t.Error("TryGo after Wait (context done) returned true")
		}
		if err := h.Wait(); err != nil {
			t.Errorf("Wait = %v after a refused TryGo", err)
		}
		mustRelease(t, p)
		if ran {
			t.Error("a task refused by TryGo ran")
		}
	})
}

func TestGroupWaitAgainAndGoAfterWait(t *testing.T) {
	p, _ := ants.NewPool(2)
	g := p.Group(context.Background())
	g.Go(func(context.Context) error { return errBoom })
	first := g.Wait()
	if again := g.Wait(); again != first || !errors.Is(first, errBoom) {
		t.Errorf("Wait, Wait = %v, %v; want errBoom twice", first, again)
	}

	h := p.Group(context.Background())
	if err := h.Wait(); err != nil {
		t.Fatalf("Wait on an empty group = %v", err)
	}
	ran := false
	h.Go(func(context.Context) error { ran = true; return nil })
	if err := h.Wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait after a Go that followed Wait = %v, want context.Canceled (skipped)", err)
	}
	if ran {
		t.Error("a task given to Go after Wait ran")
	}
	mustRelease(t, p)
}

func constantRetry(d time.Duration) func() backoff.BackOff {
	return func() backoff.BackOff { return backoff.NewConstantBackOff(d) }
}

// flaky returns a task that fails n times, then succeeds, and its call count.
func flaky(n int32) (func(context.Context) error, *atomic.Int32) {
	calls := new(atomic.Int32)
	return func(context.Context) error {
		if c := calls.Add(1); c <= n {
			return fmt.Errorf("attempt %d: %w", c, errBoom)
		}
		return nil
	}, calls
}

func TestGroupRetry(t *testing.T) {
	t.Run("until success, telling notify of each retry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(2)
			var mu sync.Mutex
			var notes []string
			notify := func(attempt int, err error, next time.Duration) {
				mu.Lock()
				defer mu.Unlock()
				notes = append(notes, fmt.Sprintf("%d:%v:%v", attempt, err, next))
			}
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(10*time.Millisecond), notify))
			task, calls := flaky(2)
			start := time.Now()
			g.Go(task)
			if err := g.Wait(); err != nil {
				t.Fatalf("Wait = %v", err)
			}
			if d := time.Since(start); d != 20*time.Millisecond {
				t.Errorf("took %v, want two 10ms delays", d)
			}
			if calls.Load() != 3 {
				t.Errorf("%d attempts, want 3", calls.Load())
			}
			if want := "[1:attempt 1: boom:10ms 2:attempt 2: boom:10ms]"; fmt.Sprint(notes) != want {
				t.Errorf("notify saw %v, want %v", notes, want)
			}
			mustRelease(t, p)
		})
	})
	t.Run("the policy is built once per failing task", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(4)
			var built atomic.Int32
			g := p.Group(context.Background(), ants.WithRetry(func() backoff.BackOff {
				built.Add(1)
				return backoff.NewConstantBackOff(time.Millisecond)
			}))
			for range 5 {
				task, _ := flaky(3)
				g.Go(task)
			}
			g.Go(func(context.Context) error { return nil }) // never fails: no policy
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			if built.Load() != 5 {
				t.Errorf("policy built %d times for 5 failing tasks, want 5", built.Load())
			}
			mustRelease(t, p)
		})
	})
	t.Run("stops on Permanent, on Stop, and gives the last error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(2)
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(time.Millisecond)))
			var calls atomic.Int32
			errBad := errors.New("bad request")
			g.Go(func(context.Context) error { calls.Add(1); return backoff.Permanent(errBad) })
			if err := g.Wait(); err != errBad || calls.Load() != 1 {
				t.Errorf("Permanent: Wait = %v after %d attempts, want errBad after 1", err, calls.Load())
			}
			g = p.Group(context.Background(), ants.WithRetry(func() backoff.BackOff {
				return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 2)
			}))
			task, n := flaky(100)
			g.Go(task)
			if err := g.Wait(); err == nil || err.Error() != "attempt 3: boom" {
				t.Errorf("WithMaxRetries(2): Wait = %v, want the third attempt's error", err)
			}
			if n.Load() != 3 {
				t.Errorf("WithMaxRetries(2) made %d attempts, want 3", n.Load())
			}
			mustRelease(t, p)
		})
	})
	t.Run("a task waiting to retry holds no worker", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1)
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(time.Second)))
			task, calls := flaky(1)
			g.Go(task)
			synctest.Wait() // the first attempt failed; the retry is a second away
			other := make(chan time.Time, 1)
			start := time.Now()
			if err := p.Submit(func() { other <- time.Now() }); err != nil {
				t.Fatal(err)
			}
			if at := <-other; at.Sub(start) != 0 {
				t.Errorf("another task waited %v for the pool's only worker", at.Sub(start))
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			if calls.Load() != 2 {
				t.Errorf("%d attempts, want 2", calls.Load())
			}
			mustRelease(t, p)
		})
	})
	t.Run("cancel during the delay ends the task at once with its last error", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1)
			parent, cancel := context.WithCancel(context.Background())
			g := p.Group(parent, ants.WithRetry(constantRetry(time.Hour)))
			task, calls := flaky(100)
			g.Go(task)
			synctest.Wait()
			start := time.Now()
			cancel()
			err := g.Wait()
			if d := time.Since(start); d != 0 {
				t.Errorf("Wait returned %v after the cancel, want at once", d)
			}
			if err == nil || err.Error() != "attempt 1: boom" {
				t.Errorf("Wait = %v, want the last attempt's error", err)
			}
			if calls.Load() != 1 {
				t.Errorf("%d attempts, want 1", calls.Load())
			}
			mustRelease(t, p)
		})
	})
	t.Run("cancel while the retry waits in the pool's line withdraws it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1)
			parent, cancel := context.WithCancel(context.Background())
			g := p.Group(parent, ants.WithRetry(constantRetry(10*time.Millisecond)))
			task, calls := flaky(100)
			g.Go(task)
			synctest.Wait()
			b := newBlocker()
			b.fill(t, p.Submit, 1) // the pool's worker is busy when the retry comes due
			time.Sleep(20 * time.Millisecond)
			synctest.Wait()
			if p.Waiting() != 0 {
				t.Fatalf("Waiting = %d with a retry in line, want 0: a retry is not a blocked caller", p.Waiting())
			}
			cancel()
			if err := g.Wait(); err == nil || err.Error() != "attempt 1: boom" {
				t.Errorf("Wait = %v, want the last attempt's error", err)
			}
			if p.Waiting() != 0 {
				t.Errorf("Waiting = %d after the group ended, want 0", p.Waiting())
			}
			b.open()
			mustRelease(t, p)
			if calls.Load() != 1 {
				t.Errorf("%d attempts, want 1", calls.Load())
			}
		})
	})
	t.Run("release refuses a retry waiting in line", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1)
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(10*time.Millisecond)))
			task, _ := flaky(100)
			g.Go(task)
			synctest.Wait()
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			time.Sleep(20 * time.Millisecond)
			synctest.Wait()
			p.Release()
			if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
				t.Errorf("Wait = %v, want ErrPoolClosed", err)
			}
			b.open()
		})
	})
	t.Run("release while the retry sleeps", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1)
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(10*time.Millisecond)))
			task, _ := flaky(100)
			g.Go(task)
			synctest.Wait()
			p.Release()
			if err := g.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
				t.Errorf("Wait = %v, want ErrPoolClosed", err)
			}
		})
	})
}

// K groups on a pool of N: never more than N tasks at once, and no
// goroutine beyond the pool's N workers.
//
// The count is process-wide, and the runtime starts goroutines of its own
// now and then (cleanup and finalizer goroutines, on demand), so the test
// takes the fewest created over up to three runs, each on a fresh pool. A
// goroutine per task or per group would add hundreds in every run.
func TestManyGroupsShareThePoolsWorkers(t *testing.T) {
	const n, groups, tasks = 8, 200, 20
	fewest := uint64(1 << 63)
	for attempt := 0; attempt < 3 && fewest > n; attempt++ {
		fewest = min(fewest, runManyGroups(t, n, groups, tasks))
	}
	if fewest > n {
		t.Errorf("%d goroutines created for %d groups, want at most the pool's %d workers", fewest, groups, n)
	}
}

// runManyGroups runs groups groups of tasks tasks each, interleaved, on a
// new pool of n workers, checks the tasks ran within capacity, and returns
// how many goroutines were created meanwhile.
func runManyGroups(t *testing.T, n, groups, tasks int) uint64 {
	p, _ := ants.NewPool(n, ants.WithDisablePurge(true))
	defer mustRelease(t, p)
	var gg gauge
	var ran atomic.Int32
	task := func(context.Context) error {
		gg.enter()
		defer gg.exit()
		ran.Add(1)
		runtime.Gosched()
		return nil
	}
	runtime.GC() // the GC starts its mark workers at its first cycle: not during the count
	before := goroutinesCreated()
	gs := make([]*ants.Group, groups)
	for i := range gs {
		gs[i] = p.Group(context.Background(), ants.WithLimit(3))
	}
	for range tasks {
		for _, g := range gs { // the groups interleave on the pool
			g.Go(task)
		}
	}
	for _, g := range gs {
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	created := goroutinesCreated() - before
	if int(ran.Load()) != groups*tasks {
		t.Errorf("ran %d tasks, want %d", ran.Load(), groups*tasks)
	}
	if m := int(gg.max.Load()); m > n {
		t.Errorf("%d tasks ran at once on a pool of %d", m, n)
	}
	t.Logf("%d groups × %d tasks: %d goroutines created, at most %d tasks at once", groups, tasks, created, gg.max.Load())
	return created
}

func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// conc #88's program: ten limit slots are held by tasks that wait for the
// group's context, which only the eleventh task would cancel, and it cannot
// start. No executor that keeps the limit can finish that; what Group adds
// is that Go's wait watches the group's context, so the parent's deadline
// ends it (conc's Go ignores the context and blocks for ever).
func TestGroupCircularWaitEndsWithParentDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(100)
		parent, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		g := p.Group(parent, ants.WithLimit(10))
		start := time.Now()
		for i := range 90 {
			g.Go(func(ctx context.Context) error {
				if i == 10 {
					return errors.New("I will cancel all other tasks")
				}
				<-ctx.Done()
				return nil
			})
		}
		err := g.Wait()
		if d := time.Since(start); d != time.Second {
			t.Errorf("Wait returned after %v, want at the parent's 1s deadline", d)
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait = %v, want DeadlineExceeded (the skipped tasks' cause)", err)
		}
		mustRelease(t, p)
	})
}

// A Wait that is already waiting when a blocked Go is refused must see the
// refusal: the error is recorded before the task's count is released.
func TestGroupWaitSeesARefusalThatReleasesIt(t *testing.T) {
	n := rounds(300, 50)
	synctest.Test(t, func(t *testing.T) {
		for i := range n {
			p, _ := ants.NewPool(1)
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			g := p.Group(context.Background())
			go g.Go(func(context.Context) error { return nil })
			synctest.Wait() // Go waits for the worker
			waited := make(chan error, 1)
			go func() { waited <- g.Wait() }()
			synctest.Wait() // Wait waits for that task
			p.Release()
			if err := <-waited; !errors.Is(err, ants.ErrPoolClosed) {
				t.Fatalf("round %d: Wait = %v, want ErrPoolClosed", i, err)
			}
			b.open()
			synctest.Wait()
		}
	})
}
