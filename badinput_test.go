package ants_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/antspool/ants"
)

func TestBadInput(t *testing.T) {
	fn := func(any) {}
	gfn := func(int) {}
	ctors := map[string]func(size int, opts ...ants.Option) error{
		"NewPool": func(size int, opts ...ants.Option) error {
			p, err := ants.NewPool(size, opts...)
			if err == nil {
				p.Release()
			}
			return err
		},
		"NewPoolWithFunc": func(size int, opts ...ants.Option) error {
			p, err := ants.NewPoolWithFunc(size, fn, opts...)
			if err == nil {
				p.Release()
			}
			return err
		},
		"NewPoolWithFuncGeneric": func(size int, opts ...ants.Option) error {
			p, err := ants.NewPoolWithFuncGeneric(size, gfn, opts...)
			if err == nil {
				p.Release()
			}
			return err
		},
	}
	tests := []struct {
		name string
		size int
		opts []ants.Option
		want error
	}{
		{"negative expiry", 1, []ants.Option{ants.WithExpiryDuration(-1)}, ants.ErrInvalidPoolExpiry},
		{"negative expiry, unlimited", -1, []ants.Option{ants.WithExpiryDuration(-1)}, ants.ErrInvalidPoolExpiry},
		{"negative expiry without purge is unused", 1, []ants.Option{ants.WithExpiryDuration(-1), ants.WithDisablePurge(true)}, nil},
		{"prealloc, size 0", 0, []ants.Option{ants.WithPreAlloc(true)}, ants.ErrInvalidPreAllocSize},
		{"prealloc, negative size", -5, []ants.Option{ants.WithPreAlloc(true)}, ants.ErrInvalidPreAllocSize},
		{"negative MaxBlockingTasks", 1, []ants.Option{ants.WithMaxBlockingTasks(-1)}, ants.ErrInvalidMaxBlockingTasks},
		{"nil option is ignored", 1, []ants.Option{nil}, nil},
		{"size 0 means unlimited", 0, nil, nil},
	}
	for name, ctor := range ctors {
		for _, tt := range tests {
			if err := ctor(tt.size, tt.opts...); !errors.Is(err, tt.want) {
				t.Errorf("%s, %s: err = %v, want %v", name, tt.name, err, tt.want)
			}
		}
	}
	if _, err := ants.NewPoolWithFunc(1, nil); !errors.Is(err, ants.ErrLackPoolFunc) {
		t.Errorf("NewPoolWithFunc(nil) = %v, want ErrLackPoolFunc", err)
	}
	if _, err := ants.NewPoolWithFuncGeneric[int](1, nil); !errors.Is(err, ants.ErrLackPoolFunc) {
		t.Errorf("NewPoolWithFuncGeneric(nil) = %v, want ErrLackPoolFunc", err)
	}

	p, _ := ants.NewPool(1)
	if err := p.Submit(nil); !errors.Is(err, ants.ErrNilTask) {
		t.Errorf("Submit(nil) = %v, want ErrNilTask", err)
	}
	if err := p.SubmitCtx(context.Background(), nil); !errors.Is(err, ants.ErrNilTask) {
		t.Errorf("SubmitCtx(ctx, nil) = %v, want ErrNilTask", err)
	}
	//lint:ignore SA1012 a nil ctx is the bad input under test
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := p.SubmitCtx(nil, func(context.Context) {}); !errors.Is(err, ants.ErrNilContext) {
		t.Errorf("SubmitCtx(nil, task) = %v, want ErrNilContext", err)
	}
	f, _ := ants.NewPoolWithFunc(1, fn)
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := f.InvokeCtx(nil, 1); !errors.Is(err, ants.ErrNilContext) {
		t.Errorf("InvokeCtx(nil, 1) = %v, want ErrNilContext", err)
	}
	g, _ := ants.NewPoolWithFuncGeneric(1, gfn)
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := g.InvokeCtx(nil, 1); !errors.Is(err, ants.ErrNilContext) {
		t.Errorf("generic InvokeCtx(nil, 1) = %v, want ErrNilContext", err)
	}
	if p.Running()+f.Running()+g.Running() != 0 {
		t.Error("bad input started a worker")
	}
	mustRelease(t, p)
	mustRelease(t, f)
	mustRelease(t, g)
}

func TestMultiPoolBadInput(t *testing.T) {
	fn := func(any) {}
	tests := []struct {
		name string
		new  func() error
		want error
	}{
		{"size 0", func() error { _, err := ants.NewMultiPool(0, 1, ants.RoundRobin); return err }, ants.ErrInvalidMultiPoolSize},
		{"negative size", func() error { _, err := ants.NewMultiPoolWithFunc(-1, 1, fn, ants.RoundRobin); return err }, ants.ErrInvalidMultiPoolSize},
		{"unknown strategy", func() error { _, err := ants.NewMultiPool(2, 1, 8); return err }, ants.ErrInvalidLoadBalancingStrategy},
		{"strategy 0", func() error { _, err := ants.NewMultiPoolWithFuncGeneric(2, 1, func(int) {}, 0); return err }, ants.ErrInvalidLoadBalancingStrategy},
		{"nil function", func() error { _, err := ants.NewMultiPoolWithFunc(2, 1, nil, ants.RoundRobin); return err }, ants.ErrLackPoolFunc},
		{"nil generic function", func() error {
			_, err := ants.NewMultiPoolWithFuncGeneric[int](2, 1, nil, ants.LeastTasks)
			return err
		}, ants.ErrLackPoolFunc},
		{"bad option", func() error {
			_, err := ants.NewMultiPool(2, 1, ants.RoundRobin, ants.WithExpiryDuration(-1))
			return err
		}, ants.ErrInvalidPoolExpiry},
		{"prealloc, unlimited sub-pools", func() error {
			_, err := ants.NewMultiPool(2, 0, ants.RoundRobin, ants.WithPreAlloc(true))
			return err
		}, ants.ErrInvalidPreAllocSize},
	}
	for _, tt := range tests {
		if err := tt.new(); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}

	mp, _ := ants.NewMultiPool(2, 0, ants.RoundRobin) // sizePerPool <= 0: unlimited, as in ants
	if mp.Cap() != -1 || mp.Free() != -1 {
		t.Errorf("unlimited multi-pool: Cap, Free = %d, %d; want -1, -1", mp.Cap(), mp.Free())
	}
	if err := mp.Submit(nil); !errors.Is(err, ants.ErrNilTask) {
		t.Errorf("Submit(nil) = %v, want ErrNilTask", err)
	}
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := mp.SubmitCtx(nil, func(context.Context) {}); !errors.Is(err, ants.ErrNilContext) {
		t.Errorf("SubmitCtx(nil, task) = %v, want ErrNilContext", err)
	}
	mustRelease(t, mp)
	if err := mp.Submit(nil); !errors.Is(err, ants.ErrPoolClosed) {
		t.Errorf("Submit(nil) after release = %v, want ErrPoolClosed", err)
	}
}

func TestQueueSizeValidation(t *testing.T) {
	bad := ants.WithQueueSize(-1)
	fn := func(any) {}
	gfn := func(int) {}
	for name, err := range map[string]error{
		"NewPool":                     second(ants.NewPool(2, bad)),
		"NewPoolWithFunc":             second(ants.NewPoolWithFunc(2, fn, bad)),
		"NewPoolWithFuncGeneric":      second(ants.NewPoolWithFuncGeneric(2, gfn, bad)),
		"NewMultiPool":                second(ants.NewMultiPool(2, 2, ants.RoundRobin, bad)),
		"NewMultiPoolWithFunc":        second(ants.NewMultiPoolWithFunc(2, 2, fn, ants.RoundRobin, bad)),
		"NewMultiPoolWithFuncGeneric": second(ants.NewMultiPoolWithFuncGeneric(2, 2, gfn, ants.RoundRobin, bad)),
	} {
		if !errors.Is(err, ants.ErrInvalidQueueSize) {
			t.Errorf("%s with WithQueueSize(-1): err = %v, want ErrInvalidQueueSize", name, err)
		}
	}
	p, err := ants.NewPool(2, ants.WithQueueSize(0))
	if err != nil {
		t.Fatalf("WithQueueSize(0): %v", err)
	}
	mustRelease(t, p)
}

func second[T any](_ T, err error) error { return err }

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

func TestResultGroupBadInputNeverPanicsOrHangs(t *testing.T) {
	t.Run("a nil ctx gives a group that runs nothing and whose Wait returns ErrNilContext", func(t *testing.T) {
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

	t.Run("a nil runner gives a group whose Wait returns ErrNilRunner", func(t *testing.T) {
		rg := ants.NewResultGroup[int](context.Background(), nil)
		var ran atomic.Bool
		rg.Go(func(context.Context) (int, error) { ran.Store(true); return 1, nil })
		if rg.TryGo(func(context.Context) (int, error) { ran.Store(true); return 2, nil }) {
			t.Error("TryGo = true on a group with a nil runner")
		}
		values, err := rg.Wait()
		if !errors.Is(err, ants.ErrNilRunner) {
			t.Errorf("Wait = %v, want ErrNilRunner", err)
		}
		if !slices.Equal(values, []int{0}) {
			t.Errorf("Wait values = %v, want [0]", values)
		}
		if ran.Load() {
			t.Error("a task ran on a group with a nil runner")
		}
	})

	t.Run("Go(nil) gives that index ErrNilTask", func(t *testing.T) {
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

	t.Run("TryGo(nil) returns false, takes no index, and fails the group with ErrNilTask", func(t *testing.T) {
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
		{"a nil context is ErrNilContext", nilCtx, p, fn, ants.ErrNilContext},
		{"a nil runner is ErrNilRunner", context.Background(), nil, fn, ants.ErrNilRunner},
		{"a nil fn is ErrNilTask", context.Background(), p, nilFn, ants.ErrNilTask},
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
	t.Run("a nil input makes MapSeq yield nothing", func(t *testing.T) {
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
