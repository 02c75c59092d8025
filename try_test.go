package ants_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/antspool/ants"
)

// tryPool is one of the six pool types, seen through its non-blocking
// submit, with two workers in all.
type tryPool struct {
	try    func(task func()) error // TrySubmit(task), or TryInvoke with task as the argument
	submit func(task func()) error // Submit, or Invoke: waits for a worker
	tryNil func() error            // TrySubmit(nil); nil for the func pools
	pool   releaser
}

// runArg is the function of the func pools: it runs its argument.
func runArg(a any) { a.(func())() }

func runFunc(f func()) { f() }

var tryPoolTypes = []struct {
	name       string
	takesTasks bool // Pool and MultiPool: TrySubmit, which has a nil task to refuse
	new        func(opts ...ants.Option) (tryPool, error)
}{
	{"Pool", true, func(opts ...ants.Option) (tryPool, error) {
		p, err := ants.NewPool(2, opts...)
		if err != nil {
			return tryPool{}, err
		}
		return tryPool{p.TrySubmit, p.Submit, func() error { return p.TrySubmit(nil) }, p}, nil
	}},
	{"MultiPool", true, func(opts ...ants.Option) (tryPool, error) {
		p, err := ants.NewMultiPool(2, 1, ants.RoundRobin, opts...)
		if err != nil {
			return tryPool{}, err
		}
		return tryPool{p.TrySubmit, p.Submit, func() error { return p.TrySubmit(nil) }, p}, nil
	}},
	{"PoolWithFunc", false, func(opts ...ants.Option) (tryPool, error) {
		p, err := ants.NewPoolWithFunc(2, runArg, opts...)
		if err != nil {
			return tryPool{}, err
		}
		return tryPool{
			func(f func()) error { return p.TryInvoke(f) },
			func(f func()) error { return p.Invoke(f) },
			nil, p,
		}, nil
	}},
	{"PoolWithFuncGeneric", false, func(opts ...ants.Option) (tryPool, error) {
		p, err := ants.NewPoolWithFuncGeneric(2, runFunc, opts...)
		if err != nil {
			return tryPool{}, err
		}
		return tryPool{p.TryInvoke, p.Invoke, nil, p}, nil
	}},
	{"MultiPoolWithFunc", false, func(opts ...ants.Option) (tryPool, error) {
		p, err := ants.NewMultiPoolWithFunc(2, 1, runArg, ants.RoundRobin, opts...)
		if err != nil {
			return tryPool{}, err
		}
		return tryPool{
			func(f func()) error { return p.TryInvoke(f) },
			func(f func()) error { return p.Invoke(f) },
			nil, p,
		}, nil
	}},
	{"MultiPoolWithFuncGeneric", false, func(opts ...ants.Option) (tryPool, error) {
		p, err := ants.NewMultiPoolWithFuncGeneric(2, 1, runFunc, ants.RoundRobin, opts...)
		if err != nil {
			return tryPool{}, err
		}
		return tryPool{p.TryInvoke, p.Invoke, nil, p}, nil
	}},
}

func TestTrySubmitAndTryInvokeNeverBlock(t *testing.T) {
	modes := []struct {
		name string
		opts []ants.Option
	}{
		{"a blocking pool", nil},
		{"a pool with MaxBlockingTasks", []ants.Option{ants.WithMaxBlockingTasks(4)}},
		{"a nonblocking pool", []ants.Option{ants.WithNonblocking(true)}},
	}
	for _, pt := range tryPoolTypes {
		newPool := func(t *testing.T, opts ...ants.Option) tryPool {
			t.Helper()
			tp, err := pt.new(opts...)
			if err != nil {
				t.Fatal(err)
			}
			return tp
		}
		t.Run(pt.name, func(t *testing.T) {
			t.Run("with a free worker it runs the task once", func(t *testing.T) {
				tp := newPool(t)
				var runs atomic.Int32
				ran := make(chan struct{}, 2)
				if err := tp.try(func() { runs.Add(1); ran <- struct{}{} }); err != nil {
					t.Errorf("try = %v, want nil", err)
				} else {
					<-ran
				}
				mustRelease(t, tp.pool)
				if got := runs.Load(); got != 1 {
					t.Errorf("the task ran %d times, want 1", got)
				}
			})

			t.Run("with one worker busy it uses the other", func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					tp := newPool(t)
					b := newBlocker()
					b.fill(t, tp.submit, 1)
					var runs atomic.Int32
					for i := range 2 { // round-robin: one of the two picks the busy sub-pool first
						if err := tp.try(func() { runs.Add(1) }); err != nil {
							t.Errorf("try %d = %v with a worker free, want nil", i, err)
						}
						synctest.Wait() // the task has run and its worker is idle
					}
					b.open()
					mustRelease(t, tp.pool)
					if got := runs.Load(); got != 2 {
						t.Errorf("the tasks ran %d times, want 2", got)
					}
				})
			})

			for _, mode := range modes {
				t.Run("with every worker busy it returns ErrPoolOverload at once, on "+mode.name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						tp := newPool(t, mode.opts...)
						b := newBlocker()
						b.fill(t, tp.submit, 2)
						var ran atomic.Bool
						result := make(chan error, 1)
						go func() { result <- tp.try(func() { ran.Store(true) }) }()
						synctest.Wait()
						select {
						case err := <-result:
							if err != ants.ErrPoolOverload {
								t.Errorf("try = %v, want ErrPoolOverload", err)
							}
						default:
							t.Error("try blocked with every worker busy")
						}
						b.open()
						mustRelease(t, tp.pool)
						if ran.Load() {
							t.Error("the refused task ran")
						}
					})
				})
			}

			t.Run("on a released pool it returns ErrPoolClosed", func(t *testing.T) {
				tp := newPool(t)
				mustRelease(t, tp.pool)
				var ran atomic.Bool
				if err := tp.try(func() { ran.Store(true) }); err != ants.ErrPoolClosed {
					t.Errorf("try = %v, want ErrPoolClosed", err)
				}
				if tp.tryNil != nil {
					if err := tp.tryNil(); err != ants.ErrPoolClosed {
						t.Errorf("TrySubmit(nil) on a released pool = %v, want ErrPoolClosed (checked first)", err)
					}
				}
				if ran.Load() {
					t.Error("the refused task ran")
				}
			})

			if pt.takesTasks {
				t.Run("TrySubmit(nil) returns ErrNilTask on an open pool", func(t *testing.T) {
					tp := newPool(t)
					if err := tp.tryNil(); err != ants.ErrNilTask {
						t.Errorf("TrySubmit(nil) = %v, want ErrNilTask", err)
					}
					mustRelease(t, tp.pool)
				})
			}
		})
	}
}

func TestTryInvokeWithNilArgRunsTheFunctionWithNil(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func(pf func(any)) (func(any) error, releaser)
	}{
		{"PoolWithFunc", func(pf func(any)) (func(any) error, releaser) {
			p, _ := ants.NewPoolWithFunc(1, pf)
			return p.TryInvoke, p
		}},
		{"MultiPoolWithFunc", func(pf func(any)) (func(any) error, releaser) {
			p, _ := ants.NewMultiPoolWithFunc(2, 1, pf, ants.RoundRobin)
			return p.TryInvoke, p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := make(chan any, 1)
			tryInvoke, p := tc.new(func(a any) { args <- a })
			if err := tryInvoke(nil); err != nil {
				t.Fatalf("TryInvoke(nil) = %v, want nil", err)
			}
			if a := <-args; a != nil {
				t.Errorf("the function got %v, want nil", a)
			}
			mustRelease(t, p)
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
