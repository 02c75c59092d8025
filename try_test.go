package ants_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/antspool/ants"
)

// TrySubmit (Pool, MultiPool) and TryInvoke (the func pools) take a free
// worker now or refuse; Group.TryGo takes a free worker and limit slot now
// or returns false.

func TestTrySubmitAndTryInvokeNeverBlock(t *testing.T) {
	overload := []struct {
		name string
		opts []ants.Option
	}{
		{"blocking", nil},
		{"max-blocking", []ants.Option{ants.WithMaxBlockingTasks(4)}},
		{"nonblocking", []ants.Option{ants.WithNonblocking(true)}},
	}
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			t.Run("free", func(t *testing.T) { // with a free worker it runs the task once
				p := newPool(t, k, 2)
				var runs atomic.Int32
				ran := make(chan struct{}, 2)
				if err := p.try(func() { runs.Add(1); ran <- struct{}{} }); err != nil {
					t.Errorf("try = %v, want nil", err)
				} else {
					<-ran
				}
				mustRelease(t, p)
				if got := runs.Load(); got != 1 {
					t.Errorf("the task ran %d times, want 1", got)
				}
			})

			t.Run("one-busy", func(t *testing.T) { // with one worker busy it uses the other
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 2)
					b := newBlocker()
					b.fill(t, p.submit, 1)
					var runs atomic.Int32
					for i := range 2 { // round-robin: one of the two picks the busy sub-pool first
						if err := p.try(func() { runs.Add(1) }); err != nil {
							t.Errorf("try %d = %v with a worker free, want nil", i, err)
						}
						synctest.Wait() // the task has run and its worker is idle
					}
					b.open()
					mustRelease(t, p)
					if got := runs.Load(); got != 2 {
						t.Errorf("the tasks ran %d times, want 2", got)
					}
				})
			})

			for _, mode := range overload { // with every worker busy it returns ErrPoolOverload at once
				t.Run("full/"+mode.name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						p := newPool(t, k, 2, mode.opts...)
						b := newBlocker()
						b.fill(t, p.submit, 2)
						var ran atomic.Bool
						result := make(chan error, 1)
						go func() { result <- p.try(func() { ran.Store(true) }) }()
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
						mustRelease(t, p)
						if ran.Load() {
							t.Error("the refused task ran")
						}
					})
				})
			}

			t.Run("released", func(t *testing.T) { // ErrPoolClosed, checked before a nil task
				p := newPool(t, k, 2)
				mustRelease(t, p)
				var ran atomic.Bool
				if err := p.try(func() { ran.Store(true) }); err != ants.ErrPoolClosed {
					t.Errorf("try = %v, want ErrPoolClosed", err)
				}
				if err := p.try(nil); err != ants.ErrPoolClosed {
					t.Errorf("try(nil) on a released pool = %v, want ErrPoolClosed (checked first)", err)
				}
				if ran.Load() {
					t.Error("the refused task ran")
				}
			})

			if k&runnerKinds != 0 {
				t.Run("nil-task", func(t *testing.T) {
					p := newPool(t, k, 2)
					if err := p.try(nil); err != ants.ErrNilTask {
						t.Errorf("TrySubmit(nil) = %v, want ErrNilTask", err)
					}
					mustRelease(t, p)
				})
			}
		})
	}
}

func TestGroupTryGoNeverBlocks(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 2)
				g := p.runner.Group(context.Background(), ants.WithLimit(1))
				gate := make(chan struct{})
				if !g.TryGo(func(context.Context) error { <-gate; return nil }) {
					t.Fatal("TryGo on an idle pool returned false")
				}
				var ran atomic.Bool
				if g.TryGo(func(context.Context) error { ran.Store(true); return nil }) {
					t.Error("TryGo at the group limit returned true")
				}
				close(gate)
				synctest.Wait()

				h := p.runner.Group(context.Background())
				b := newBlocker()
				b.fill(t, p.submit, 2)
				if h.TryGo(func(context.Context) error { ran.Store(true); return nil }) {
					t.Error("TryGo on a full pool returned true")
				}
				b.open()
				for _, grp := range []*ants.Group{g, h} {
					if err := grp.Wait(); err != nil {
						t.Errorf("Wait = %v: a TryGo that returned false must not fail the group", err)
					}
				}
				if h.TryGo(func(context.Context) error { ran.Store(true); return nil }) {
					t.Error("TryGo after Wait (context done) returned true")
				}
				if err := h.Wait(); err != nil {
					t.Errorf("Wait = %v after a refused TryGo", err)
				}
				mustRelease(t, p)
				if ran.Load() {
					t.Error("a task refused by TryGo ran")
				}
			})
		})
	}
}
