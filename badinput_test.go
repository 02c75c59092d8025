package ants_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/antspool/ants"
)

// Every constructor rejects a bad option value with its error; size <= 0
// is not bad input but no limit, and a nil option is ignored.
func TestConstructorsRejectBadOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		size int
		opts []ants.Option
		want error
	}{
		{"neg-expiry", 1, []ants.Option{ants.WithExpiryDuration(-1)}, ants.ErrInvalidPoolExpiry},
		{"neg-expiry/unlimited", -1, []ants.Option{ants.WithExpiryDuration(-1)}, ants.ErrInvalidPoolExpiry},
		{"neg-expiry/no-purge", 1, []ants.Option{ants.WithExpiryDuration(-1), ants.WithDisablePurge(true)}, nil}, // unused
		{"prealloc/size-0", 0, []ants.Option{ants.WithPreAlloc(true)}, ants.ErrInvalidPreAllocSize},
		{"prealloc/neg-size", -5, []ants.Option{ants.WithPreAlloc(true)}, ants.ErrInvalidPreAllocSize},
		{"neg-max-blocking", 1, []ants.Option{ants.WithMaxBlockingTasks(-1)}, ants.ErrInvalidMaxBlockingTasks},
		{"neg-queue", 2, []ants.Option{ants.WithQueueSize(-1)}, ants.ErrInvalidQueueSize},
		{"queue-0", 2, []ants.Option{ants.WithQueueSize(0)}, nil}, // no queue
		{"nil-option", 1, []ants.Option{nil}, nil},
		{"size-0", 0, nil, nil}, // unlimited
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range allKinds.each() {
				p, err := buildPool(k, tt.size, tt.opts...)
				if !errors.Is(err, tt.want) {
					t.Errorf("%s: err = %v, want %v", k, err, tt.want)
				}
				if err == nil {
					mustRelease(t, p)
				}
			}
		})
	}
}

// The func pools' constructors refuse a nil function.
func TestFuncPoolConstructorsRejectNilFunction(t *testing.T) {
	for name, err := range map[string]error{
		"NewPoolWithFunc":             second(ants.NewPoolWithFunc(1, nil)),
		"NewPoolWithFuncGeneric":      second(ants.NewPoolWithFuncGeneric[int](1, nil)),
		"NewMultiPoolWithFunc":        second(ants.NewMultiPoolWithFunc(2, 1, nil, ants.RoundRobin)),
		"NewMultiPoolWithFuncGeneric": second(ants.NewMultiPoolWithFuncGeneric[int](2, 1, nil, ants.LeastTasks)),
	} {
		if !errors.Is(err, ants.ErrLackPoolFunc) {
			t.Errorf("%s(nil) = %v, want ErrLackPoolFunc", name, err)
		}
	}
}

// second returns a constructor's error.
func second[T any](_ T, err error) error { return err }

// A nil task or a nil context is an error, and starts no worker. (A func
// pool's nil argument is not a nil task: see
// TestInvokeNilRunsTheFunctionWithNil.)
func TestNilTaskOrContextIsAnError(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			if p.runner != nil {
				if err := p.submit(nil); !errors.Is(err, ants.ErrNilTask) {
					t.Errorf("Submit(nil) = %v, want ErrNilTask", err)
				}
				if err := p.submitCtx(context.Background(), nil); !errors.Is(err, ants.ErrNilTask) {
					t.Errorf("SubmitCtx(ctx, nil) = %v, want ErrNilTask", err)
				}
			}
			if err := p.submitCtx(nil, func() { t.Error("the task of a nil ctx ran") }); !errors.Is(err, ants.ErrNilContext) {
				t.Errorf("SubmitCtx or InvokeCtx(nil, task) = %v, want ErrNilContext", err)
			}
			if p.Running() != 0 {
				t.Error("bad input started a worker")
			}
			mustRelease(t, p)
		})
	}
}

// A multi-pool of <= 0 sub-pools, or with an unknown strategy, is an
// error. (sizePerPool <= 0 is no limit, as in ants: see
// TestConstructorsRejectBadOptions and TestUnlimitedPoolNeverWaits.)
func TestMultiPoolConstructorsRejectBadInput(t *testing.T) {
	fn := func(any) {}
	for _, tt := range []struct {
		name string
		new  func() error
		want error
	}{
		{"size-0", func() error { _, err := ants.NewMultiPool(0, 1, ants.RoundRobin); return err }, ants.ErrInvalidMultiPoolSize},
		{"neg-size", func() error { _, err := ants.NewMultiPoolWithFunc(-1, 1, fn, ants.RoundRobin); return err }, ants.ErrInvalidMultiPoolSize},
		{"unknown-strategy", func() error { _, err := ants.NewMultiPool(2, 1, 8); return err }, ants.ErrInvalidLoadBalancingStrategy},
		{"strategy-0", func() error { _, err := ants.NewMultiPoolWithFuncGeneric(2, 1, func(int) {}, 0); return err }, ants.ErrInvalidLoadBalancingStrategy},
	} {
		if err := tt.new(); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestGroupBadInputIsAnError(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			//lint:ignore SA1012 a nil context is the bad input under test
			g := p.runner.Group(nil)
			var ran atomic.Bool
			g.Go(func(context.Context) error { ran.Store(true); return nil })
			if err := g.Wait(); !errors.Is(err, ants.ErrNilContext) {
				t.Errorf("Group(nil).Wait = %v, want ErrNilContext", err)
			}
			if ran.Load() {
				t.Error("a task of a nil-context group ran")
			}
			g = p.runner.Group(context.Background())
			g.Go(nil)
			if err := g.Wait(); !errors.Is(err, ants.ErrNilTask) {
				t.Errorf("Go(nil); Wait = %v, want ErrNilTask", err)
			}
			g = p.runner.Group(context.Background(), nil) // a nil option is ignored
			g.Go(func(context.Context) error { return nil })
			if err := g.Wait(); err != nil {
				t.Errorf("Wait = %v", err)
			}
			mustRelease(t, p)
		})
	}
}

func TestResultGroupBadInputNeverPanicsOrHangs(t *testing.T) {
	t.Run("nil-ctx", func(t *testing.T) { // a nil ctx gives a group that runs nothing and whose Wait returns ErrNilContext
		p, _ := ants.NewPool(1)
		var nilCtx context.Context
		rg := ants.NewResultGroup[int](nilCtx, p)
		var ran atomic.Bool
		rg.Go(func(context.Context) (int, error) { ran.Store(true); return 1, nil })
		if rg.TryGo(func(context.Context) (int, error) { ran.Store(true); return 2, nil }) {
			t.Error("TryGo = true on a group with a nil ctx")
		}
		values, err := rg.Wait()
		if !errors.Is(err, ants.ErrNilContext) {
			t.Errorf("Wait = %v, want ErrNilContext", err)
		}
		if !slices.Equal(values, []int{0}) {
			t.Errorf("Wait values = %v, want [0]", values)
		}
		if rg.Context() == nil {
			t.Error("Context() = nil")
		}
		mustRelease(t, p)
		if ran.Load() {
			t.Error("a task ran on a group with a nil ctx")
		}
	})

	t.Run("nil-runner", func(t *testing.T) { // a nil runner, or a nil *Pool in one, gives a group whose Wait returns ErrNilRunner
		for _, r := range []ants.Runner{nil, (*ants.Pool)(nil), (*ants.MultiPool)(nil)} {
			rg := ants.NewResultGroup[int](context.Background(), r)
			var ran atomic.Bool
			rg.Go(func(context.Context) (int, error) { ran.Store(true); return 1, nil })
			if rg.TryGo(func(context.Context) (int, error) { ran.Store(true); return 2, nil }) {
				t.Errorf("%T: TryGo = true on a group with a nil runner", r)
			}
			values, err := rg.Wait()
			if !errors.Is(err, ants.ErrNilRunner) {
				t.Errorf("%T: Wait = %v, want ErrNilRunner", r, err)
			}
			if !slices.Equal(values, []int{0}) {
				t.Errorf("%T: Wait values = %v, want [0]", r, values)
			}
			if ran.Load() {
				t.Errorf("%T: a task ran on a group with a nil runner", r)
			}
		}
	})

	t.Run("go-nil", func(t *testing.T) { // Go(nil) gives that index ErrNilTask
		p, _ := ants.NewPool(2)
		rg := ants.NewResultGroup[int](context.Background(), p, ants.WithCollectErrors())
		rg.Go(func(context.Context) (int, error) { return 1, nil })
		rg.Go(nil)
		rg.Go(func(context.Context) (int, error) { return 3, nil })
		values, err := rg.Wait()
		if !errors.Is(err, ants.ErrNilTask) {
			t.Errorf("Wait = %v, want ErrNilTask", err)
		}
		if !slices.Equal(values, []int{1, 0, 3}) {
			t.Errorf("Wait values = %v, want [1 0 3]", values)
		}
		res := rg.Results()
		if len(res) != 3 || res[0].Err != nil || !errors.Is(res[1].Err, ants.ErrNilTask) || res[2].Err != nil {
			t.Errorf("Results() = %+v, want [{1 <nil>} {0 ErrNilTask} {3 <nil>}]", res)
		}
		mustRelease(t, p)
	})

	t.Run("trygo-nil", func(t *testing.T) { // TryGo(nil) returns false, takes no index, and fails the group with ErrNilTask
		p, _ := ants.NewPool(2)
		rg := ants.NewResultGroup[int](context.Background(), p)
		if rg.TryGo(nil) {
			t.Error("TryGo(nil) = true")
		}
		values, err := rg.Wait()
		if !errors.Is(err, ants.ErrNilTask) {
			t.Errorf("Wait = %v, want ErrNilTask", err)
		}
		if len(values) != 0 {
			t.Errorf("Wait values = %v, want none (TryGo(nil) takes no index)", values)
		}
		mustRelease(t, p)
	})
}

func TestMappingBadInputIsAnErrorNeverAPanic(t *testing.T) {
	p, _ := ants.NewPool(2)
	var calls atomic.Int32
	fn := func(context.Context, int) (int, error) { calls.Add(1); return 1, nil }
	var nilCtx context.Context
	var nilFn mappingFn
	for _, tc := range []struct {
		name string
		ctx  context.Context
		r    ants.Runner
		fn   mappingFn
		want error
	}{
		{"nil-ctx", nilCtx, p, fn, ants.ErrNilContext},
		{"nil-runner", context.Background(), nil, fn, ants.ErrNilRunner},
		{"nil-pool", context.Background(), (*ants.Pool)(nil), fn, ants.ErrNilRunner},
		{"nil-multi", context.Background(), (*ants.MultiPool)(nil), fn, ants.ErrNilRunner},
		{"nil-fn", context.Background(), p, nilFn, ants.ErrNilTask},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, m := range mappingFuncs {
				out, err := m.run(tc.ctx, tc.r, seq(3), tc.fn)
				if err != tc.want || out != nil {
					t.Errorf("%s = %v, %v; want nil, %v", m.name, out, err, tc.want)
				}
			}
			probe := newSeqProbe(t, 1)
			probe.owner = goroutineID()
			vals, errs := probe.drain(ants.MapSeq(tc.ctx, tc.r, probe.ints(3), tc.fn))
			if !slices.Equal(vals, []int{0}) || !slices.Equal(errs, []error{tc.want}) {
				t.Errorf("MapSeq yielded values %v, errors %v; want one pair (0, %v)", vals, errs, tc.want)
			}
			if c := probe.calls.Load(); c != 0 {
				t.Errorf("MapSeq called its input %d times, want never", c)
			}
		})
	}
	t.Run("nil-seq", func(t *testing.T) { // a nil input makes MapSeq yield nothing
		n := 0
		for range ants.MapSeq(context.Background(), p, nil, fn) {
			n++
		}
		if n != 0 {
			t.Errorf("MapSeq over a nil input yielded %d pairs, want none", n)
		}
	})
	if c := calls.Load(); c != 0 {
		t.Errorf("fn ran %d times on bad input", c)
	}
	mustRelease(t, p)
}
