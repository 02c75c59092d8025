package ants_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

// A fan-out is one way to run a node's children on a Runner and sum their
// values: each form of the package's fork-join API.
type forkForm struct {
	name string
	run  func(ctx context.Context, r ants.Runner, n int, child func(context.Context) (int, error)) (int, error)
}

var forkForms = []forkForm{
	{"group", func(ctx context.Context, r ants.Runner, n int, child func(context.Context) (int, error)) (int, error) {
		var sum atomic.Int64
		g := r.Group(ctx)
		for range n {
			g.Go(func(ctx context.Context) error {
				v, err := child(ctx)
				sum.Add(int64(v))
				return err
			})
		}
		err := g.Wait()
		return int(sum.Load()), err
	}},
	{"results", func(ctx context.Context, r ants.Runner, n int, child func(context.Context) (int, error)) (int, error) {
		rg := ants.NewResultGroup[int](ctx, r)
		for range n {
			rg.Go(child)
		}
		vals, err := rg.Wait()
		return sumOf(vals), err
	}},
	{"map", func(ctx context.Context, r ants.Runner, n int, child func(context.Context) (int, error)) (int, error) {
		vals, err := ants.Map(ctx, r, make([]int, n), func(ctx context.Context, _ int) (int, error) { return child(ctx) })
		return sumOf(vals), err
	}},
	{"foreach", func(ctx context.Context, r ants.Runner, n int, child func(context.Context) (int, error)) (int, error) {
		var sum atomic.Int64
		err := ants.ForEach(ctx, r, make([]int, n), func(ctx context.Context, _ int) error {
			v, err := child(ctx)
			sum.Add(int64(v))
			return err
		})
		return int(sum.Load()), err
	}},
	{"mapseq", func(ctx context.Context, r ants.Runner, n int, child func(context.Context) (int, error)) (int, error) {
		sum := 0
		for v, err := range ants.MapSeq(ctx, r, slices.Values(make([]int, n)), func(ctx context.Context, _ int) (int, error) { return child(ctx) }) {
			if err != nil {
				return sum, err
			}
			sum += v
		}
		return sum, nil
	}},
	{"future", func(ctx context.Context, r ants.Runner, n int, child func(context.Context) (int, error)) (int, error) {
		futures := make([]*ants.Future[int], n)
		for i := range futures {
			futures[i] = ants.SubmitValue(ctx, r, child)
		}
		sum := 0
		for _, f := range futures {
			v, err := f.Wait()
			if err != nil {
				return sum, err
			}
			sum += v
		}
		return sum, nil
	}},
}

func sumOf(vals []int) (sum int) {
	for _, v := range vals {
		sum += v
	}
	return sum
}

// tree sums the leaves of a tree of the given fan-out and depth, each node
// fanning out its children on r with fo, from a task of r (all but the
// root); a leaf counts itself in leaves while it runs.
func tree(ctx context.Context, r ants.Runner, fo forkForm, depth, fan int, leaves *gauge) (int, error) {
	if depth == 0 {
		leaves.enter()
		defer leaves.exit()
		return 1, nil
	}
	return fo.run(ctx, r, fan, func(ctx context.Context) (int, error) {
		return tree(ctx, r, fo, depth-1, fan, leaves)
	})
}

// A task that fans out again on its own pool, and waits, finishes on any
// capacity, in either mode, on a Pool or a MultiPool, with every form of
// fan-out; no more leaves run at once than the pool has workers.
func TestNestedFanOutFinishesOnAnyCapacity(t *testing.T) {
	const depth, fan = 6, 3 // 729 leaves
	for _, k := range runnerKinds.each() {
		for _, qs := range []int{0, 1, 1024} {
			for _, size := range []int{1, 2, 4} {
				for _, fo := range forkForms {
					name := fmt.Sprintf("%s/q=%d/cap=%d/%s", k, qs, size, fo.name)
					t.Run(name, func(t *testing.T) {
						p := newPool(t, k, size, ants.WithQueueSize(qs))
						ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
						defer cancel()
						var leaves gauge
						sum, err := tree(ctx, p.runner, fo, depth, fan, &leaves)
						if err != nil || sum != 729 {
							t.Fatalf("tree = %d, %v; want 729, nil", sum, err)
						}
						if m := int(leaves.max.Load()); m > p.Cap() {
							t.Errorf("%d leaves ran at once, above Cap %d", m, p.Cap())
						}
						mustRelease(t, p)
					})
				}
			}
		}
	}
}

// ants #197: a task that submits to its own full pool blocks for ever. A
// SubmitCtx made with the task's context runs the inner task on the
// caller instead; a plain Submit cannot be recognised (the docs say so).
func TestSubmitFromOwnTaskOnFullPoolRunsInline(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			runner := p.runner.(interface {
				SubmitCtx(context.Context, func(context.Context)) error
			})
			done := make(chan error, 1)
			var inner atomic.Int32
			if err := runner.SubmitCtx(context.Background(), func(ctx context.Context) {
				for range 3 {
					if err := runner.SubmitCtx(ctx, func(context.Context) { inner.Add(1) }); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("SubmitCtx from the task = %v", err)
			}
			mustRelease(t, p)
			if n := inner.Load(); n != 3 {
				t.Errorf("%d inner tasks ran, want 3", n)
			}
			if s := p.Stats(); s.Submitted != 4 || s.Completed != 4 {
				t.Errorf("Stats Submitted, Completed = %d, %d; want 4, 4 (inline tasks counted once)", s.Submitted, s.Completed)
			}
		})
	}
}

// pond #56: groups nested in the tasks of a group on one pool hang there.
// Here the inner groups finish, on a pool of one worker, in either mode.
func TestNestedGroupsOnOnePool(t *testing.T) {
	for _, k := range runnerKinds.each() {
		for _, qs := range []int{0, 1, 1024} {
			t.Run(fmt.Sprintf("%s/q=%d", k, qs), func(t *testing.T) {
				p := newPool(t, k, 1, ants.WithQueueSize(qs))
				var ran atomic.Int32
				outer := p.runner.Group(context.Background())
				for range 4 {
					outer.Go(func(ctx context.Context) error {
						inner := p.runner.Group(ctx)
						for range 4 {
							inner.Go(func(context.Context) error { ran.Add(1); return nil })
						}
						return inner.Wait()
					})
				}
				if err := outer.Wait(); err != nil {
					t.Fatal(err)
				}
				if n := ran.Load(); n != 16 {
					t.Errorf("%d inner tasks ran, want 16", n)
				}
				mustRelease(t, p)
			})
		}
	}
}

// An inline run has a worker's semantics: a panic becomes the group's
// *PanicError, WithTaskTimeout holds, the observer sees the task, and
// Stats count it once.
func TestInlineRunKeepsTheTaskSemantics(t *testing.T) {
	var observed atomic.Int32
	p, _ := ants.NewPool(1, ants.WithTaskObserver(func(ants.TaskInfo) { observed.Add(1) }))
	outer := p.Group(context.Background())
	var innerErr error
	var deadline bool
	outer.Go(func(ctx context.Context) error {
		inner := p.Group(ctx, ants.WithTaskTimeout(time.Hour), ants.WithCollectErrors())
		inner.Go(func(ctx context.Context) error { _, deadline = ctx.Deadline(); return nil })
		inner.Go(func(context.Context) error { panic("boom") })
		inner.Go(func(context.Context) error { return errors.New("plain") })
		innerErr = inner.Wait()
		return nil
	})
	if err := outer.Wait(); err != nil {
		t.Fatal(err)
	}
	var pe *ants.PanicError
	if !errors.As(innerErr, &pe) || pe.Value != "boom" || !errorsContain(innerErr, "plain") {
		t.Errorf("inner Wait = %v, want the panic as a *PanicError and the plain error", innerErr)
	}
	if !deadline {
		t.Error("an inline task had no WithTaskTimeout deadline")
	}
	mustRelease(t, p)
	s := p.Stats()
	if s.Submitted != 4 || s.Completed != 4 || s.Panicked != 1 || observed.Load() != 4 {
		t.Errorf("Stats = %+v, observer saw %d; want 4 submitted, 4 completed, 1 panicked, 4 observed", s, observed.Load())
	}
}

func errorsContain(err error, s string) bool {
	return err != nil && slices.ContainsFunc(unjoin(err), func(e error) bool { return e.Error() == s })
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Once a group's context is done, its Wait no longer waits for its tasks
// still queued behind a busy worker: they are skipped, and never run.
func TestWaitSkipsQueuedTasksOnceTheContextIsDone(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1, ants.WithQueueSize(16))
			b := newBlocker()
			b.fill(t, p.submit, p.Cap())
			ctx, cancel := context.WithCancel(context.Background())
			g := p.runner.Group(ctx)
			var ran atomic.Int32
			for range 5 {
				g.Go(func(context.Context) error { ran.Add(1); return nil }) // queued
			}
			cancel()
			if err := g.Wait(); !errors.Is(err, context.Canceled) {
				t.Errorf("Wait = %v, want context.Canceled", err)
			}
			b.open()
			mustRelease(t, p)
			if n := ran.Load(); n != 0 {
				t.Errorf("%d skipped tasks ran", n)
			}
		})
	}
}

// A deadline ends a fan-out stuck behind a busy pool, nested or not, in
// either mode.
func TestDeadlineEndsAStuckFanOut(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			b := newBlocker()
			b.fill(t, p.submit, p.Cap())
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			vals, err := ants.Map(ctx, p.runner, seq(8), func(_ context.Context, i int) (int, error) { return i, nil })
			if !errors.Is(err, context.DeadlineExceeded) || len(vals) != 8 {
				t.Errorf("Map = %v, %v; want 8 values and context.DeadlineExceeded", vals, err)
			}
			b.open()
			mustRelease(t, p)
		})
	}
}

// Future.Wait from a task of the same pool runs the future's task itself
// if no worker has taken it.
func TestFutureWaitFromOwnTaskRunsTheTask(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1, ants.WithQueueSize(4))
			got := ants.SubmitValue(context.Background(), p.runner, func(ctx context.Context) (int, error) {
				f := ants.SubmitValue(ctx, p.runner, func(context.Context) (int, error) { return 41, nil }) // queued
				v, err := f.Wait()
				return v + 1, err
			})
			if v, err := got.Wait(); v != 42 || err != nil {
				t.Errorf("Wait = %d, %v; want 42, nil", v, err)
			}
			mustRelease(t, p)
		})
	}
}

// WithCallerRuns: a submit that would wait runs its task on the caller;
// Try* still refuse; a panic goes to the PanicHandler and the caller goes
// on; with WithNonblocking the constructors refuse.
func TestCallerRuns(t *testing.T) {
	t.Run("runs-on-caller", func(t *testing.T) {
		for _, k := range allKinds.each() {
			t.Run(k.String(), func(t *testing.T) {
				panics := make(chan any, 1)
				p := newPool(t, k, 1, ants.WithCallerRuns(true), ants.WithPanicHandler(func(v any) { panics <- v }))
				b := newBlocker()
				b.fill(t, p.submit, p.Cap())
				caller := goroutineID()
				var ranOn string
				if err := p.submit(func() { ranOn = goroutineID() }); err != nil {
					t.Fatal(err)
				}
				if ranOn != caller {
					t.Error("the task did not run on the caller while the pool was full")
				}
				if err := p.try(func() {}); !errors.Is(err, ants.ErrPoolOverload) {
					t.Errorf("try on a full caller-runs pool = %v, want ErrPoolOverload", err)
				}
				if err := p.submit(func() { panic("inline") }); err != nil {
					t.Fatal(err)
				}
				if v := <-panics; v != "inline" {
					t.Errorf("PanicHandler got %v, want inline", v)
				}
				b.open()
				mustRelease(t, p)
				if s := p.Stats(); s.Completed != uint64(p.Cap())+2 || s.Panicked != 1 || s.Waiting != 0 {
					t.Errorf("Stats = %+v, want %d completed, 1 panicked", s, p.Cap()+2)
				}
			})
		}
	})
	t.Run("nonblocking", func(t *testing.T) {
		for _, k := range allKinds.each() {
			if _, err := buildPool(k, 1, ants.WithCallerRuns(true), ants.WithNonblocking(true)); !errors.Is(err, ants.ErrInvalidCallerRuns) {
				t.Errorf("%s: constructor = %v, want ErrInvalidCallerRuns", k, err)
			}
		}
	})
}

// MapSeq from a task of its own pool, in queue mode, yields every item.
func TestNestedMapSeqInQueueMode(t *testing.T) {
	p, _ := ants.NewPool(1, ants.WithQueueSize(8))
	out := ants.SubmitValue(context.Background(), p, func(ctx context.Context) ([]int, error) {
		var got []int
		var seqIn iter.Seq[int] = slices.Values(seq(20))
		for v, err := range ants.MapSeq(ctx, p, seqIn, func(_ context.Context, i int) (int, error) { return i * 2, nil }, ants.WithLimit(4)) {
			if err != nil {
				return got, err
			}
			got = append(got, v)
		}
		return got, nil
	})
	got, err := out.Wait()
	want := make([]int, 20)
	for i := range want {
		want[i] = 2 * i
	}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("nested MapSeq = %v, %v; want %v", got, err, want)
	}
	mustRelease(t, p)
}

// A Go waiting for a WithLimit slot in a nested group runs the group's
// queued tasks, which hold the slots, instead of waiting for a worker.
func TestNestedGoWaitingForALimitSlotHelps(t *testing.T) {
	p, _ := ants.NewPool(1, ants.WithQueueSize(64))
	var mu sync.Mutex
	var order []int
	f := ants.SubmitValue(context.Background(), p, func(ctx context.Context) (int, error) {
		g := p.Group(ctx, ants.WithLimit(2))
		for i := range 6 {
			g.Go(func(context.Context) error { mu.Lock(); order = append(order, i); mu.Unlock(); return nil })
		}
		return 0, g.Wait()
	})
	if _, err := f.Wait(); err != nil {
		t.Fatal(err)
	}
	mustRelease(t, p)
	if len(order) != 6 {
		t.Errorf("ran %v, want 6 tasks", order)
	}
}

// A nested group's retries, posted to a pool whose only worker is the
// parent, are run by the parent's Wait: they never wait for a worker.
func TestNestedRetriesAreHelped(t *testing.T) {
	for _, k := range runnerKinds.each() {
		for _, qs := range []int{0, 4} {
			t.Run(fmt.Sprintf("%s/q=%d", k, qs), func(t *testing.T) {
				p := newPool(t, k, 1, ants.WithQueueSize(qs))
				fast := func() backoff.BackOff { return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 3) }
				var attempts atomic.Int32
				outer := p.runner.Group(context.Background())
				outer.Go(func(ctx context.Context) error {
					inner := p.runner.Group(ctx, ants.WithRetry(fast))
					for range 3 {
						var n atomic.Int32
						inner.Go(func(context.Context) error {
							attempts.Add(1)
							if n.Add(1) < 3 {
								return errors.New("not yet")
							}
							return nil
						})
					}
					return inner.Wait()
				})
				if err := outer.Wait(); err != nil {
					t.Fatalf("Wait = %v", err)
				}
				if n := attempts.Load(); n != 9 {
					t.Errorf("%d attempts, want 9", n)
				}
				mustRelease(t, p)
			})
		}
	}
}
