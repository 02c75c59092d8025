package ants_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/antspool/ants"
)

// mappingFn is the fn of Map and MapSeq in these tests.
type mappingFn = func(context.Context, int) (int, error)

// mappingFuncs runs Map, or ForEach (which has no values: it returns a nil
// slice), over the same fn, so that one test checks both.
var mappingFuncs = []struct {
	name string
	run  func(ctx context.Context, r ants.Runner, in []int, fn mappingFn, opts ...ants.GroupOption) ([]int, error)
}{
	{"Map", ants.Map[int, int]},
	{"ForEach", func(ctx context.Context, r ants.Runner, in []int, fn mappingFn, opts ...ants.GroupOption) ([]int, error) {
		var each func(context.Context, int) error
		if fn != nil {
			each = func(ctx context.Context, x int) error { _, err := fn(ctx, x); return err }
		}
		return nil, ants.ForEach(ctx, r, in, each, opts...)
	}},
}

// mappingReverse returns a fn for items 0..n-1 under which item i returns
// only after item i+1 has returned, so the items finish in reverse input
// order (all n must run at once), and the order in which they finished.
// Item i's value is 10*i, or -1 with fail(i) if that is not nil.
func mappingReverse(n int, fail func(i int) error) (mappingFn, func() []int) {
	done := make([]chan struct{}, n+1)
	for i := range done {
		done[i] = make(chan struct{})
	}
	close(done[n])
	var mu sync.Mutex
	var order []int
	fn := func(ctx context.Context, i int) (int, error) {
		defer close(done[i])
		select {
		case <-done[i+1]:
		case <-ctx.Done():
			return -1, ctx.Err()
		}
		mu.Lock()
		order = append(order, i)
		mu.Unlock()
		if err := fail(i); err != nil {
			return -1, err
		}
		return 10 * i, nil
	}
	return fn, func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(order)
	}
}

func mappingNoFailure(int) error { return nil }

// goroutineID returns the running goroutine's number, from its stack
// header ("goroutine 18 [running]:").
func goroutineID() string {
	var buf [64]byte
	f := bytes.Fields(buf[:runtime.Stack(buf[:], false)])
	if len(f) < 2 {
		return ""
	}
	return string(f[1])
}

// caplessRunner exposes only the methods of ants.Runner: no Cap.
type caplessRunner struct{ ants.Runner }

// seqProbe is an input for MapSeq, 0, 1, 2, ..., that checks how MapSeq
// pulls it: never more than window items handed over and not yet done with
// (the loop body calls bodyEnd last, just before its yield returns), only
// on the goroutine that ranges (owner), and never concurrently with itself.
type seqProbe struct {
	t      testing.TB
	window int64
	owner  string // the ranging goroutine, set by drain (or the test) before the loop

	calls    atomic.Int32 // calls of the input function
	busy     atomic.Bool  // the input runs its own code (not inside its yield)
	handed   atomic.Int64 // items handed over
	done     atomic.Int64 // loop bodies ended
	maxHeld  atomic.Int64 // the most items handed over and not yet done with
	refused  atomic.Int32 // times its yield returned false
	returned atomic.Bool  // the input function returned
}

func newSeqProbe(t testing.TB, window int) *seqProbe {
	return &seqProbe{t: t, window: int64(window)}
}

// ints returns the input: n items, or endless for n < 0.
func (p *seqProbe) ints(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		p.calls.Add(1)
		defer p.returned.Store(true)
		for i := 0; n < 0 || i < n; i++ {
			if !p.busy.CompareAndSwap(false, true) {
				p.t.Errorf("the input is iterated concurrently with itself (item %d)", i)
			}
			if id := goroutineID(); id != p.owner {
				p.t.Errorf("item %d pulled on goroutine %s, not on the ranging goroutine %s", i, id, p.owner)
			}
			held := p.handed.Add(1) - p.done.Load()
			for m := p.maxHeld.Load(); held > m && !p.maxHeld.CompareAndSwap(m, held); m = p.maxHeld.Load() {
			}
			if held > p.window {
				p.t.Errorf("item %d handed over with %d items pulled and not yet yielded; the window is %d", i, held, p.window)
			}
			p.busy.Store(false)
			if !yield(i) {
				p.refused.Add(1)
				return
			}
		}
	}
}

// bodyEnd is called by the loop body as its last statement.
func (p *seqProbe) bodyEnd() {
	if id := goroutineID(); id != p.owner {
		p.t.Errorf("loop body ran on goroutine %s, not on the ranging goroutine %s", id, p.owner)
	}
	p.done.Add(1)
}

// drain ranges over seq on the calling goroutine and returns its pairs.
func (p *seqProbe) drain(seq iter.Seq2[int, error]) (vals []int, errs []error) {
	p.owner = goroutineID()
	for v, err := range seq {
		vals = append(vals, v)
		errs = append(errs, err)
		p.bodyEnd()
	}
	return vals, errs
}

// ---- Map and ForEach ----

func TestMapReturnsValuesInInputOrderWhateverTheCompletionOrder(t *testing.T) {
	const n = 8
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, n)
			fn, finished := mappingReverse(n, mappingNoFailure)
			out, err := ants.Map(context.Background(), p.runner, seq(n), fn)
			if err != nil {
				t.Errorf("Map = %v, want nil", err)
			}
			if want := []int{0, 10, 20, 30, 40, 50, 60, 70}; !slices.Equal(out, want) {
				t.Errorf("Map values = %v, want %v", out, want)
			}
			if got, want := finished(), []int{7, 6, 5, 4, 3, 2, 1, 0}; !slices.Equal(got, want) {
				t.Errorf("the items finished in order %v, want %v (the test's premise)", got, want)
			}

			var mu sync.Mutex
			seen := make(map[int]int)
			err = ants.ForEach(context.Background(), p.runner, seq(100), func(_ context.Context, x int) error {
				mu.Lock()
				seen[x]++
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Errorf("ForEach = %v, want nil", err)
			}
			for i := range 100 {
				if seen[i] != 1 {
					t.Errorf("ForEach ran item %d %d times, want once", i, seen[i])
				}
			}
			mustRelease(t, p)
		})
	}
}

func TestMapFirstErrorSkipsTheItemsNotStarted(t *testing.T) {
	const n = 10
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			for _, m := range mappingFuncs {
				t.Run(m.name, func(t *testing.T) { // returns the first error and runs nothing after it on a pool of one
					var ran atomic.Int32
					out, err := m.run(context.Background(), p.runner, seq(n), func(_ context.Context, i int) (int, error) {
						ran.Add(1)
						if i == 0 {
							return 999, errBoom
						}
						return 10 * i, nil
					})
					if !errors.Is(err, errBoom) {
						t.Errorf("%s = %v, want errBoom", m.name, err)
					}
					if r := ran.Load(); r != 1 {
						t.Errorf("fn ran %d times, want 1: the items not started when item 0 failed must be skipped", r)
					}
					if m.name == "Map" {
						if want := make([]int, n); !slices.Equal(out, want) {
							t.Errorf("Map values = %v, want all zero (failed or skipped)", out)
						}
					}
				})
			}
			mustRelease(t, p)
		})
	}
}

func TestMapCollectErrorsRunsEveryItemAndJoinsTheirErrorsInInputOrder(t *testing.T) {
	const n = 8
	errs := make([]error, n)
	for i := range errs {
		errs[i] = fmt.Errorf("item %d: %w", i, errBoom)
	}
	failing := func(i int) error {
		if i == 1 || i == 4 || i == 6 {
			return errs[i]
		}
		return nil
	}
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, n)
			for _, m := range mappingFuncs {
				t.Run(m.name, func(t *testing.T) { // runs every item though they fail in reverse order
					fn, finished := mappingReverse(n, failing)
					out, err := m.run(context.Background(), p.runner, seq(n), fn, ants.WithCollectErrors())
					got := joined(err)
					if want := []error{errs[1], errs[4], errs[6]}; !slices.Equal(got, want) {
						t.Errorf("%s = %v, want errors.Join of items 1, 4, 6 in that order", m.name, err)
					}
					if f := finished(); len(f) != n {
						t.Errorf("%d items ran, want all %d", len(f), n)
					}
					if m.name == "Map" {
						if want := []int{0, 0, 20, 30, 0, 50, 0, 70}; !slices.Equal(out, want) {
							t.Errorf("Map values = %v, want %v (zero where an item failed)", out, want)
						}
					}
				})
			}
			mustRelease(t, p)
		})
	}
}

func TestMapWithRetryKeepsTheSucceedingAttemptsValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 20
		p, _ := ants.NewPool(4)
		attempts := make([]atomic.Int32, n)
		out, err := ants.Map(context.Background(), p, seq(n), func(_ context.Context, i int) (int, error) {
			if attempts[i].Add(1) == 1 {
				return -1, errBoom
			}
			return 10 * i, nil
		}, ants.WithRetry(constantRetry(time.Second)))
		if err != nil {
			t.Errorf("Map = %v, want nil (every item succeeds on its retry)", err)
		}
		for i := range n {
			if out[i] != 10*i {
				t.Errorf("value %d = %d, want %d, the second attempt's", i, out[i], 10*i)
			}
			if a := attempts[i].Load(); a != 2 {
				t.Errorf("item %d made %d attempts, want 2", i, a)
			}
		}
		mustRelease(t, p)
	})
}

func TestMapWithTaskTimeoutGivesEachItemADeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(2)
		var ran atomic.Int32
		err := ants.ForEach(context.Background(), p, seq(3), func(ctx context.Context, _ int) error {
			ran.Add(1)
			if _, ok := ctx.Deadline(); !ok {
				t.Error("fn's context has no deadline under WithTaskTimeout")
			}
			<-ctx.Done()
			return ctx.Err()
		}, ants.WithTaskTimeout(time.Minute), ants.WithCollectErrors())
		got := joined(err)
		if len(got) != 3 {
			t.Errorf("ForEach = %v, want three errors", err)
		}
		for _, e := range got {
			if !errors.Is(e, context.DeadlineExceeded) {
				t.Errorf("an item's error = %v, want context.DeadlineExceeded", e)
			}
		}
		if r := ran.Load(); r != 3 {
			t.Errorf("fn ran %d times, want 3", r)
		}
		mustRelease(t, p)
	})
}

func TestMapEmptyInputReturnsAtOnce(t *testing.T) {
	p, _ := ants.NewPool(2)
	var calls atomic.Int32
	fn := func(context.Context, int) (int, error) { calls.Add(1); return 1, nil }
	for _, in := range [][]int{nil, {}} {
		out, err := ants.Map(context.Background(), p, in, fn)
		if err != nil || out == nil || len(out) != 0 {
			t.Errorf("Map(%#v) = %#v, %v; want an empty non-nil slice and nil", in, out, err)
		}
		if err := ants.ForEach(context.Background(), p, in, func(context.Context, int) error { calls.Add(1); return nil }); err != nil {
			t.Errorf("ForEach(%#v) = %v, want nil", in, err)
		}
	}
	mustRelease(t, p)
	// "At once": it does not even need a pool that can run anything.
	out, err := ants.Map(context.Background(), p, []int{}, fn)
	if err != nil || out == nil || len(out) != 0 {
		t.Errorf("Map(empty) on a released pool = %#v, %v; want an empty non-nil slice and nil", out, err)
	}
	if c := calls.Load(); c != 0 {
		t.Errorf("fn ran %d times on empty input", c)
	}
}

func TestMapParentCancelSkipsTheItemsNotStartedAndReportsTheCause(t *testing.T) {
	const n = 10
	cause := errors.New("shutting down")
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2)
			for _, m := range mappingFuncs {
				t.Run(m.name, func(t *testing.T) { // stops after the two running items
					ctx, cancel := context.WithCancelCause(context.Background())
					defer cancel(nil)
					started, gate := make(chan int, n), make(chan struct{})
					var ran atomic.Int32
					type result struct {
						out []int
						err error
					}
					done := make(chan result, 1)
					go func() {
						out, err := m.run(ctx, p.runner, seq(n), func(_ context.Context, i int) (int, error) {
							ran.Add(1)
							started <- i
							<-gate // finishes its work whatever the context says
							return 10 * i, nil
						})
						done <- result{out, err}
					}()
					<-started
					<-started // the pool of two is full
					cancel(cause)
					close(gate)
					res := <-done
					if !errors.Is(res.err, cause) {
						t.Errorf("%s = %v, want the context's cause", m.name, res.err)
					}
					if r := ran.Load(); r != 2 {
						t.Errorf("fn ran %d times, want 2: the items not started at the cancel are skipped", r)
					}
					if m.name == "Map" {
						if want := []int{0, 10, 0, 0, 0, 0, 0, 0, 0, 0}; !slices.Equal(res.out, want) {
							t.Errorf("Map values = %v, want %v", res.out, want)
						}
					}
				})
			}
			mustRelease(t, p)
		})
	}
}

func TestMapNeverRunsMoreThanTheCapacityOrTheLimit(t *testing.T) {
	const n = 200
	for _, bc := range []struct {
		name  string
		size  int
		opts  []ants.GroupOption
		bound int32
	}{
		{"cap", 3, nil, 3}, // the pool's capacity bounds it
		{"limit", 8, []ants.GroupOption{ants.WithLimit(2)}, 2}, // WithLimit bounds it below the capacity
	} {
		t.Run(bc.name, func(t *testing.T) {
			for _, p := range newPools(t, runnerKinds, bc.size) {
				for _, m := range mappingFuncs {
					var g gauge
					var ran atomic.Int32
					_, err := m.run(context.Background(), p.runner, seq(n), func(_ context.Context, i int) (int, error) {
						g.enter()
						defer g.exit()
						ran.Add(1)
						for range 20 {
							runtime.Gosched()
						}
						return i, nil
					}, bc.opts...)
					if err != nil {
						t.Errorf("%s on %s = %v, want nil", m.name, p.name, err)
					}
					if mx := g.max.Load(); mx > bc.bound || mx < 1 {
						t.Errorf("%s on %s ran %d items at once, want 1 to %d", m.name, p.name, mx, bc.bound)
					}
					if r := ran.Load(); r != n {
						t.Errorf("%s on %s ran %d items, want %d", m.name, p.name, r, n)
					}
				}
				mustRelease(t, p)
			}
		})
	}
}

// ---- MapSeq ----

func TestMapSeqYieldsPairsInInputOrder(t *testing.T) {
	const n = 8
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, n)
			t.Run("reverse", func(t *testing.T) { // items that finish in reverse order
				fn, finished := mappingReverse(n, mappingNoFailure)
				probe := newSeqProbe(t, n)
				vals, errs := probe.drain(ants.MapSeq(context.Background(), p.runner, probe.ints(n), fn))
				if want := []int{0, 10, 20, 30, 40, 50, 60, 70}; !slices.Equal(vals, want) {
					t.Errorf("values = %v, want %v", vals, want)
				}
				if !slices.Equal(errs, make([]error, n)) {
					t.Errorf("errors = %v, want all nil", errs)
				}
				if got, want := finished(), []int{7, 6, 5, 4, 3, 2, 1, 0}; !slices.Equal(got, want) {
					t.Errorf("the items finished in order %v, want %v (the test's premise)", got, want)
				}
			})
			t.Run("uneven", func(t *testing.T) { // many items of uneven length
				m := rounds(5000, 1000)
				probe := newSeqProbe(t, n)
				vals, errs := probe.drain(ants.MapSeq(context.Background(), p.runner, probe.ints(m), func(_ context.Context, i int) (int, error) {
					for range (i * 7919) % 13 {
						runtime.Gosched()
					}
					return 10 * i, nil
				}))
				if len(vals) != m {
					t.Fatalf("%d pairs, want %d", len(vals), m)
				}
				for i := range m {
					if vals[i] != 10*i || errs[i] != nil {
						t.Fatalf("pair %d = (%d, %v), want (%d, nil)", i, vals[i], errs[i], 10*i)
					}
				}
			})
			mustRelease(t, p)
		})
	}
}

// With a consumer that keeps up, MapSeq runs a full window of items at
// once, and pulls no item beyond the window: item 0 is held, so nothing can
// be yielded, and every item pulled is running.
func TestMapSeqRunsAFullWindowAtOnce(t *testing.T) {
	gmp := runtime.GOMAXPROCS(0)
	for _, tc := range []struct {
		name    string
		size    int
		opts    []ants.GroupOption
		capless bool // hide the runner's Cap method
		window  int
	}{
		{"cap", 4, nil, false, 4},                                     // a pool of 4 runs 4
		{"limit", 8, []ants.GroupOption{ants.WithLimit(3)}, false, 3}, // WithLimit(3) on a pool of 8 runs 3
		{"no-cap", 4 * gmp, nil, true, 2 * gmp},                       // a runner without a Cap method runs 2×GOMAXPROCS
	} {
		for _, k := range runnerKinds.each() {
			t.Run(tc.name+"/"+k.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, tc.size)
					r := p.runner
					if tc.capless {
						r = caplessRunner{r}
					}
					n := 3 * tc.window
					var g gauge
					gate := make(chan struct{})
					probe := newSeqProbe(t, tc.window)
					fn := func(_ context.Context, i int) (int, error) {
						g.enter()
						defer g.exit()
						<-gate
						return 10 * i, nil
					}
					type pairs struct {
						vals []int
						errs []error
					}
					done := make(chan pairs, 1)
					go func() {
						vals, errs := probe.drain(ants.MapSeq(context.Background(), r, probe.ints(n), fn, tc.opts...))
						done <- pairs{vals, errs}
					}()
					synctest.Wait()
					if cur := g.cur.Load(); int(cur) != tc.window {
						t.Errorf("%d items running at once, want the window, %d", cur, tc.window)
					}
					if h := probe.handed.Load(); int(h) != tc.window {
						t.Errorf("%d items pulled with none yielded, want the window, %d", h, tc.window)
					}
					close(gate)
					res := <-done
					if len(res.vals) != n {
						t.Errorf("%d pairs, want %d", len(res.vals), n)
					}
					for i := range res.vals {
						if res.vals[i] != 10*i || res.errs[i] != nil {
							t.Errorf("pair %d = (%d, %v), want (%d, nil)", i, res.vals[i], res.errs[i], 10*i)
						}
					}
					if mx := g.max.Load(); int(mx) != tc.window {
						t.Errorf("at most %d items ran at once, want the window, %d", mx, tc.window)
					}
					mustRelease(t, p)
				})
			})
		}
	}
}

func TestMapSeqNeverHoldsMoreThanTheWindow(t *testing.T) {
	t.Run("keeping-up", func(t *testing.T) { // with a consumer that keeps up
		for _, wc := range []struct {
			name   string
			size   int
			opts   []ants.GroupOption
			window int
		}{
			{"cap", 4, nil, 4},
			{"limit", 8, []ants.GroupOption{ants.WithLimit(2)}, 2},
		} {
			for _, p := range newPools(t, runnerKinds, wc.size) {
				n := rounds(5000, 1000)
				var g gauge
				probe := newSeqProbe(t, wc.window)
				vals, _ := probe.drain(ants.MapSeq(context.Background(), p.runner, probe.ints(n), func(_ context.Context, i int) (int, error) {
					g.enter()
					defer g.exit()
					for range i % 5 {
						runtime.Gosched()
					}
					return i, nil
				}, wc.opts...))
				if len(vals) != n {
					t.Errorf("%s on %s: %d pairs, want %d", wc.name, p.name, len(vals), n)
				}
				if mx := probe.maxHeld.Load(); mx > int64(wc.window) || mx < 1 {
					t.Errorf("%s on %s: at most %d items pulled and not yet yielded, want 1 to %d", wc.name, p.name, mx, wc.window)
				}
				if mx := g.max.Load(); int(mx) > wc.window {
					t.Errorf("%s on %s: %d items ran at once, want at most %d", wc.name, p.name, mx, wc.window)
				}
				t.Logf("%s on %s: at most %d items held, %d running", wc.name, p.name, probe.maxHeld.Load(), g.max.Load())
				mustRelease(t, p)
			}
		}
	})
	t.Run("slow-consumer", func(t *testing.T) { // a slow consumer stops the producer
		synctest.Test(t, func(t *testing.T) {
			const window, n = 4, 12
			p, _ := ants.NewPool(window)
			probe := newSeqProbe(t, window)
			var calls atomic.Int32
			first := make(chan struct{})
			fn := func(_ context.Context, i int) (int, error) {
				calls.Add(1)
				if i == 0 {
					<-first
				}
				return 10 * i, nil
			}
			step := make(chan struct{})
			finished := make(chan []int, 1)
			go func() {
				probe.owner = goroutineID()
				var vals []int
				for v, err := range ants.MapSeq(context.Background(), p, probe.ints(n), fn) {
					if err != nil {
						t.Errorf("pair %d: error %v", len(vals), err)
					}
					vals = append(vals, v)
					<-step // the consumer is slow: it waits for the test
					probe.bodyEnd()
				}
				finished <- vals
			}()
			synctest.Wait() // item 0 holds the head of the line
			if h, c := probe.handed.Load(), calls.Load(); h != window || c != window {
				t.Errorf("while item 0 ran: %d items pulled, %d started; want the window, %d", h, c, window)
			}
			close(first)
			for k := range n {
				synctest.Wait() // the consumer sits in the loop body of pair k
				h, d := probe.handed.Load(), probe.done.Load()
				if d != int64(k) {
					t.Fatalf("step %d: %d loop bodies ended, want %d", k, d, k)
				}
				if h-d > window {
					t.Errorf("step %d: %d items pulled and %d yielded, more than the window, %d, apart", k, h, d, window)
				}
				if k == 0 && h != window {
					t.Errorf("the consumer sat in pair 0 and MapSeq pulled %d items, want %d: no pull while the window is full", h, window)
				}
				step <- struct{}{}
			}
			if vals := <-finished; !slices.Equal(vals, []int{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110}) {
				t.Errorf("values = %v", vals)
			}
			mustRelease(t, p)
		})
	})
}

func TestMapSeqBreakEndsEveryTaskAndTheInput(t *testing.T) {
	const window, stopAt = 4, 5
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, window)
			t.Run("break", func(t *testing.T) { // no task runs after the loop and the input is told to stop
				probe := newSeqProbe(t, window)
				var g gauge
				var starts atomic.Int32
				fn := func(ctx context.Context, i int) (int, error) {
					starts.Add(1)
					g.enter()
					defer g.exit()
					if i >= stopAt { // runs until the end of the loop cancels it
						<-ctx.Done()
						return 0, ctx.Err()
					}
					return 10 * i, nil
				}
				probe.owner = goroutineID()
				seen := 0
				for v, err := range ants.MapSeq(context.Background(), p.runner, probe.ints(-1), fn) {
					if v != 10*seen || err != nil {
						t.Errorf("pair %d = (%d, %v), want (%d, nil)", seen, v, err, 10*seen)
					}
					seen++
					probe.bodyEnd()
					if seen == stopAt {
						break
					}
				}
				if running := g.cur.Load(); running != 0 {
					t.Errorf("%d fn calls still running after the loop ended", running)
				}
				if r := probe.refused.Load(); r != 1 {
					t.Errorf("the input's yield returned false %d times, want once", r)
				}
				if !probe.returned.Load() || probe.calls.Load() != 1 {
					t.Errorf("the input was called %d times and returned: %v; want once, and returned", probe.calls.Load(), probe.returned.Load())
				}
				if s, h := starts.Load(), probe.handed.Load(); int64(s) > h || h > stopAt+window {
					t.Errorf("%d fn calls for %d items pulled; want no more calls than items, and at most %d items", s, h, stopAt+window)
				}
				atEnd := starts.Load()
				mustRelease(t, p)
				if s := starts.Load(); s != atEnd {
					t.Errorf("%d fn calls started after the loop ended", s-atEnd)
				}
			})
		})
	}
	t.Run("input-ignores-stop", func(t *testing.T) { // an input that goes on after its yield returned false gets false, and its items never run
		p, _ := ants.NewPool(window)
		var maxRun atomic.Int32
		maxRun.Store(-1)
		fn := func(_ context.Context, i int) (int, error) {
			for m := maxRun.Load(); int32(i) > m && !maxRun.CompareAndSwap(m, int32(i)); m = maxRun.Load() {
			}
			return i, nil
		}
		stoppedAt := -1
		in := func(yield func(int) bool) {
			for i := range 20 {
				ok := yield(i)
				if stoppedAt >= 0 && ok {
					t.Errorf("item %d: yield returned true after it had returned false", i)
				}
				if !ok && stoppedAt < 0 {
					stoppedAt = i
				}
			}
		}
		n := 0
		for range ants.MapSeq(context.Background(), p, in, fn) {
			n++
			if n == 2 {
				break
			}
		}
		if stoppedAt < 0 {
			t.Fatal("the input's yield never returned false")
		}
		if m := maxRun.Load(); int(m) > stoppedAt {
			t.Errorf("fn ran item %d, past item %d, where the input's yield returned false", m, stoppedAt)
		}
		mustRelease(t, p)
	})
}

func TestMapSeqStopsAtTheFirstErrorPair(t *testing.T) {
	const window, n = 4, 10
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, window)
			probe := newSeqProbe(t, window)
			before := make(chan struct{}, 3)
			vals, errs := probe.drain(ants.MapSeq(context.Background(), p.runner, probe.ints(n), func(_ context.Context, i int) (int, error) {
				switch {
				case i < 3:
					before <- struct{}{}
				case i == 3: // fails once items 0, 1 and 2 have done their work
					<-before
					<-before
					<-before
					return 999, errBoom
				}
				return 10 * i, nil
			}))
			if want := []int{0, 10, 20, 0}; !slices.Equal(vals, want) {
				t.Errorf("values = %v, want %v: the pairs up to the error, its value zero", vals, want)
			}
			if want := []error{nil, nil, nil, errBoom}; !slices.Equal(errs, want) {
				t.Errorf("errors = %v, want %v: the iteration stops at the first error", errs, want)
			}
			if !probe.returned.Load() {
				t.Error("the input function had not returned when the loop ended")
			}
			mustRelease(t, p)
		})
	}
}

func TestMapSeqWithCollectErrorsYieldsEveryPair(t *testing.T) {
	const n = 10
	errs := make([]error, n)
	for i := range errs {
		errs[i] = fmt.Errorf("item %d: %w", i, errBoom)
	}
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 4)
			var calls atomic.Int32
			probe := newSeqProbe(t, 4)
			vals, got := probe.drain(ants.MapSeq(context.Background(), p.runner, probe.ints(n), func(_ context.Context, i int) (int, error) {
				calls.Add(1)
				if i == 3 || i == 6 {
					return 999, errs[i]
				}
				return 10 * i, nil
			}, ants.WithCollectErrors()))
			if want := []int{0, 10, 20, 0, 40, 50, 0, 70, 80, 90}; !slices.Equal(vals, want) {
				t.Errorf("values = %v, want %v", vals, want)
			}
			if want := []error{nil, nil, nil, errs[3], nil, nil, errs[6], nil, nil, nil}; !slices.Equal(got, want) {
				t.Errorf("errors = %v, want %v", got, want)
			}
			if c := calls.Load(); c != n {
				t.Errorf("fn ran %d times, want %d", c, n)
			}
			mustRelease(t, p)
		})
	}
}

func TestMapSeqParentCancelStopsPullingAndAPairCarriesTheCause(t *testing.T) {
	const window = 2
	cause := errors.New("shutting down")
	type pairs struct {
		vals []int
		errs []error
	}
	// cancelMidStream ranges over a MapSeq of an endless input in a goroutine,
	// cancels ctx with cause once the window's two items have started, then
	// lets them go on.
	cancelMidStream := func(t *testing.T, p ants.Runner, probe *seqProbe, fn func(gate <-chan struct{}) mappingFn, opts ...ants.GroupOption) pairs {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		started, gate := make(chan struct{}, window), make(chan struct{})
		f := fn(gate)
		done := make(chan pairs, 1)
		go func() {
			vals, errs := probe.drain(ants.MapSeq(ctx, p, probe.ints(-1), func(ctx context.Context, i int) (int, error) {
				started <- struct{}{}
				return f(ctx, i)
			}, opts...))
			done <- pairs{vals, errs}
		}()
		<-started
		<-started
		cancel(cause)
		close(gate)
		res := <-done
		if h := probe.handed.Load(); h != window {
			t.Errorf("%d items pulled, want %d: none after the cancel", h, window)
		}
		if probe.refused.Load() != 1 || !probe.returned.Load() {
			t.Errorf("the input's yield returned false %d times, input returned: %v; want once, and returned", probe.refused.Load(), probe.returned.Load())
		}
		return res
	}
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, window)
			t.Run("finish", func(t *testing.T) { // items that finish their work: a last pair carries the cause
				res := cancelMidStream(t, p.runner, newSeqProbe(t, window), func(gate <-chan struct{}) mappingFn {
					return func(_ context.Context, i int) (int, error) { <-gate; return 10 * i, nil }
				})
				if want := []int{0, 10, 0}; !slices.Equal(res.vals, want) {
					t.Errorf("values = %v, want %v", res.vals, want)
				}
				if len(res.errs) != 3 || res.errs[0] != nil || res.errs[1] != nil || !errors.Is(res.errs[2], cause) {
					t.Errorf("errors = %v, want nil, nil, then the cause", res.errs)
				}
			})
			t.Run("ctx-err", func(t *testing.T) { // items that return ctx.Err(): a pair says cancelled
				res := cancelMidStream(t, p.runner, newSeqProbe(t, window), func(<-chan struct{}) mappingFn {
					return func(ctx context.Context, _ int) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
				})
				if !slices.ContainsFunc(res.errs, func(err error) bool {
					return errors.Is(err, context.Canceled) || errors.Is(err, cause)
				}) {
					t.Errorf("errors = %v, want a pair that says cancelled", res.errs)
				}
			})
			t.Run("collect", func(t *testing.T) { // with WithCollectErrors every started item's pair comes, then the cause
				res := cancelMidStream(t, p.runner, newSeqProbe(t, window), func(<-chan struct{}) mappingFn {
					return func(ctx context.Context, _ int) (int, error) { <-ctx.Done(); return 0, ctx.Err() }
				}, ants.WithCollectErrors())
				if len(res.errs) != 3 || !errors.Is(res.errs[0], context.Canceled) || !errors.Is(res.errs[1], context.Canceled) || !errors.Is(res.errs[2], cause) {
					t.Errorf("errors = %v, want Canceled, Canceled, then the cause", res.errs)
				}
			})
			t.Run("cancelled-before", func(t *testing.T) { // a context cancelled before the loop yields one pair and never pulls
				ctx, cancel := context.WithCancelCause(context.Background())
				cancel(cause)
				var calls atomic.Int32
				probe := newSeqProbe(t, window)
				vals, errs := probe.drain(ants.MapSeq(ctx, p.runner, probe.ints(-1), func(context.Context, int) (int, error) {
					calls.Add(1)
					return 1, nil
				}))
				if len(vals) != 1 || vals[0] != 0 || !errors.Is(errs[0], cause) {
					t.Errorf("pairs = %v, %v; want one pair (0, the cause)", vals, errs)
				}
				if c, pc := calls.Load(), probe.calls.Load(); c != 0 || pc != 0 {
					t.Errorf("fn ran %d times, the input was called %d times; want never", c, pc)
				}
			})
			mustRelease(t, p)
		})
	}
}

// The group's first error cancels its context; items before it in the
// input that watch their context fail with context.Canceled. Map reports
// the first error; MapSeq's doc says that after the group's context ends a
// pair carries its cause (here errBoom), so the consumer sees why the
// iteration stopped, as Map's caller does.
func TestMapSeqReportsTheErrorThatStoppedTheGroup(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 4)
			fn := func() mappingFn {
				started := make(chan struct{})
				return func(ctx context.Context, i int) (int, error) {
					switch i {
					case 0: // runs until the group is cancelled
						close(started)
						<-ctx.Done()
						return 0, ctx.Err()
					case 1:
						<-started
						return 0, errBoom
					}
					return 10 * i, nil
				}
			}
			if _, err := ants.Map(context.Background(), p.runner, seq(6), fn()); !errors.Is(err, errBoom) {
				t.Errorf("Map = %v, want errBoom (the premise)", err)
			}
			probe := newSeqProbe(t, 4)
			_, errs := probe.drain(ants.MapSeq(context.Background(), p.runner, probe.ints(6), fn()))
			if !slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, errBoom) }) {
				t.Errorf("MapSeq yielded errors %v; want a pair with errBoom, the group's cause", errs)
			}
			mustRelease(t, p)
		})
	}
}

func TestMapSeqConsumerPanicPropagatesAndLeavesNoTaskRunning(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 4)
			var g gauge
			fn := func(ctx context.Context, i int) (int, error) {
				g.enter()
				defer g.exit()
				if i > 0 { // runs until the loop's end cancels it
					<-ctx.Done()
					return 0, ctx.Err()
				}
				return 0, nil
			}
			probe := newSeqProbe(t, 4)
			probe.owner = goroutineID()
			var recovered any
			func() {
				defer func() { recovered = recover() }()
				for range ants.MapSeq(context.Background(), p.runner, probe.ints(-1), fn) {
					panic("consumer failed")
				}
			}()
			if recovered != "consumer failed" {
				t.Errorf("recovered %v, want the consumer's panic", recovered)
			}
			if running := g.cur.Load(); running != 0 {
				t.Errorf("%d fn calls still running after the panic left the loop", running)
			}
			if !probe.returned.Load() {
				t.Error("the input function had not returned when the panic left the loop")
			}
			mustRelease(t, p)
		})
	}
}

func TestMapSeqIteratesItsInputOnTheRangingGoroutine(t *testing.T) {
	p, _ := ants.NewPool(4)
	fn := func(_ context.Context, i int) (int, error) {
		for range i % 3 {
			runtime.Gosched()
		}
		if i%50 == 7 {
			return 0, errBoom
		}
		return i, nil
	}
	for _, opts := range [][]ants.GroupOption{nil, {ants.WithCollectErrors()}} {
		for _, where := range []string{"the test goroutine", "another goroutine"} {
			probe := newSeqProbe(t, 4)
			done := make(chan int, 1)
			ranger := func() {
				vals, _ := probe.drain(ants.MapSeq(context.Background(), p, probe.ints(500), fn, opts...))
				done <- len(vals)
			}
			if where == "the test goroutine" {
				ranger()
			} else {
				go ranger()
			}
			n := <-done
			if n == 0 || probe.calls.Load() != 1 {
				t.Errorf("ranging on %s with %d options: %d pairs, input called %d times; want some pairs and one call", where, len(opts), n, probe.calls.Load())
			}
		}
	}
	mustRelease(t, p)
}

// ---- memory ----

// mapSeqPeakHeap runs MapSeq over n tiny items on r and returns the highest
// HeapAlloc seen, sampled every `every` items, after a GC at the start.
func mapSeqPeakHeap(tb testing.TB, r ants.Runner, n, every int) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	peak := ms.HeapAlloc
	in := func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
	got := 0
	for v, err := range ants.MapSeq(context.Background(), r, in, func(_ context.Context, x int) (int, error) { return x + 1, nil }) {
		if err != nil || v != got+1 {
			tb.Errorf("pair %d = (%d, %v), want (%d, nil)", got, v, err, got+1)
			break
		}
		got++
		if got%every == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	}
	if got != n {
		tb.Errorf("%d pairs, want %d", got, n)
	}
	return peak
}

// MapSeq holds a window of items, not the input: ten times the items must
// not raise the peak heap. The peak of a flat run is the GC's heap goal.
// GOGC=10 puts that goal just above the live heap and makes even the small
// run span many GC cycles (at the default 100, a run of 10,000 items ends
// before the first); then the peak follows what MapSeq holds, and the
// margin covers the garbage made between two samples and the goal's drift.
// A leak of even 8 bytes an item would add 7 MiB over 900,000 items.
func TestMapSeqHoldsTheHeapFlat(t *testing.T) {
	big := rounds(1_000_000, 100_000)
	small := big / 10
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	p, _ := ants.NewPool(runtime.GOMAXPROCS(0))
	const every = 128
	smallPeak := mapSeqPeakHeap(t, p, small, every)
	bigPeak := mapSeqPeakHeap(t, p, big, every)
	t.Logf("peak heap: %d items: %d B (%.2f MiB); %d items: %d B (%.2f MiB)",
		small, smallPeak, float64(smallPeak)/(1<<20), big, bigPeak, float64(bigPeak)/(1<<20))
	if bigPeak > smallPeak+1<<20 {
		t.Errorf("peak heap grew from %d B for %d items to %d B for %d items: MapSeq holds more than its window", smallPeak, small, bigPeak, big)
	}
	mustRelease(t, p)
}
