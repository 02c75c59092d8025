package ants_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/antspool/ants"
)

// fuzzTask is one task of FuzzPoolOperations: held tasks wait for the gate
// they were given.
type fuzzTask struct {
	runs     int32 // written by the task, read after the pool's release
	accepted bool
	gate     chan struct{} // nil: the task returns at once
	inUse    *gauge
}

func (ft *fuzzTask) run() {
	ft.inUse.enter()
	ft.runs++
	ft.inUse.exit()
	if ft.gate != nil {
		<-ft.gate
	}
}

// newFuzzPool builds the pool kind and options that opts and size encode:
// a Pool, a PoolWithFuncGeneric or a MultiPool (opts%3), of n workers in all
// (n <= 0: no limit), in queue mode if size says so. It returns the
// constructor's error for option values it must reject.
func newFuzzPool(opts, size byte) (p *testPool, n int, err error) {
	n = 1 + int(size%4)
	if size&0x80 != 0 {
		n = -int(size % 2) // 0 or -1: no limit
	}
	var options []ants.Option
	if opts&0x04 != 0 {
		options = append(options, ants.WithPreAlloc(true))
	}
	if opts&0x08 != 0 {
		options = append(options, ants.WithNonblocking(true))
	}
	if m := int(opts>>4) % 3; m != 0 {
		options = append(options, ants.WithMaxBlockingTasks(m))
	}
	if opts&0x40 != 0 {
		options = append(options, ants.WithExpiryDuration(50*time.Microsecond))
	}
	if opts&0x80 != 0 {
		options = append(options, ants.WithExpiryDuration(-time.Second))
	}
	k := []kinds{kindPool, kindGeneric, kindMulti}[opts%3]
	if size&0x40 != 0 {
		k |= queueMode
		options = append(options, ants.WithQueueSize(1+int(size>>4)%3))
	}
	p, err = buildPool(k, n, options...)
	return p, n, err
}

// FuzzPoolOperations runs a sequence of operations, one per byte of ops,
// on a pool whose kind and options come from opts and size, and checks:
// constructors reject bad option values with their errors; no call hangs
// (every wait is bounded by a context); a task accepted ran exactly once,
// a task refused never; no more tasks ran at once than the capacity; and
// the pool releases cleanly at the end.
func FuzzPoolOperations(f *testing.F) {
	f.Add(byte(0), byte(1), []byte{0, 0, 1, 1, 0, 2, 4, 0, 9, 5, 6, 0})
	f.Add(byte(1), byte(2), []byte{1, 1, 1, 3, 0, 7, 2, 6, 0, 0, 8})
	f.Add(byte(2), byte(0), []byte{1, 0, 0, 9, 4, 12, 2, 5, 0, 6, 1, 2})
	f.Add(byte(0x4c), byte(3), []byte{1, 1, 1, 1, 0, 0, 2, 4, 20, 0, 7, 2, 6})
	f.Add(byte(0x1e), byte(1), []byte{1, 0, 0, 0, 9, 2, 5, 3, 6})
	f.Add(byte(0x84), byte(0x80), []byte{0})
	f.Add(byte(0x06), byte(0x81), []byte{0, 1})
	f.Add(byte(0), byte(1), []byte{0x81, 0x80, 0x81, 2, 0x89, 5, 0x80, 6, 0x80})
	f.Add(byte(1), byte(0), []byte{0x81, 0x81, 0x80, 2, 0x80})
	f.Add(byte(0), byte(0x41), []byte{1, 1, 1, 1, 0x81, 0, 9, 5, 2, 6, 1, 1, 4, 2})
	f.Add(byte(2), byte(0x51), []byte{1, 1, 1, 1, 1, 0x89, 7, 2, 6, 0, 0})
	f.Add(byte(1), byte(0x61), []byte{1, 1, 1, 1, 0x80, 3, 8, 5, 6, 1, 4, 2})
	f.Fuzz(func(t *testing.T, opts, size byte, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		p, n, err := newFuzzPool(opts, size)
		switch {
		case opts&0x80 != 0:
			if !errors.Is(err, ants.ErrInvalidPoolExpiry) {
				t.Fatalf("negative expiry: err = %v, want ErrInvalidPoolExpiry", err)
			}
			return
		case opts&0x04 != 0 && n <= 0:
			if !errors.Is(err, ants.ErrInvalidPreAllocSize) {
				t.Fatalf("PreAlloc without a size: err = %v, want ErrInvalidPreAllocSize", err)
			}
			return
		case err != nil:
			t.Fatalf("constructor: %v", err)
		}
		perPool := n // the capacity of each sub-pool (<= 0: no limit)
		if n > 0 {
			perPool = p.Cap() / p.subPools
		}
		maxPerPool := perPool // the largest capacity per sub-pool ever set

		var inUse gauge
		var tasks []*fuzzTask
		gate := make(chan struct{})
		openGate := func() { close(gate); gate = make(chan struct{}) }
		timeout := func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), time.Millisecond)
		}
		for _, op := range ops {
			switch op % 10 {
			case 0, 1: // a quick task, or one held until the gate opens; TrySubmit'ed if op's top bit is set
				ft := &fuzzTask{inUse: &inUse}
				if op%10 == 1 {
					ft.gate = gate
				}
				var err error
				if op&0x80 != 0 {
					err = p.try(ft.run)
				} else {
					ctx, cancel := timeout()
					err = p.submitCtx(ctx, ft.run)
					cancel()
				}
				ft.accepted = err == nil
				tasks = append(tasks, ft)
				if err != nil && !errors.Is(err, ants.ErrPoolClosed) && !errors.Is(err, ants.ErrPoolOverload) &&
					!errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("submit = %v", err)
				}
			case 2:
				openGate()
			case 3: // a context already done: refused
				ft := &fuzzTask{inUse: &inUse}
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				err := p.submitCtx(ctx, ft.run)
				if !errors.Is(err, context.Canceled) && !errors.Is(err, ants.ErrPoolClosed) {
					t.Fatalf("submit with a done ctx = %v", err)
				}
				tasks = append(tasks, ft)
			case 4: // no effect on unlimited or PreAlloc pools
				c := 1 + int(op>>4)%5
				p.Tune(c)
				if perPool > 0 && opts&0x04 == 0 {
					maxPerPool = max(maxPerPool, c)
				}
			case 5:
				p.Release()
			case 6: // Reboot waits for the workers, so let the held tasks go first
				openGate()
				p.Reboot()
			case 7:
				err := p.ReleaseTimeout(time.Millisecond)
				if err != nil && !errors.Is(err, ants.ErrTimeout) && !errors.Is(err, ants.ErrPoolClosed) {
					t.Fatalf("ReleaseTimeout = %v", err)
				}
			case 8:
				var err error
				if p.runner != nil {
					err = p.submit(nil)
				} else {
					err = p.submitCtx(nil, nil)
				}
				if !errors.Is(err, ants.ErrNilTask) && !errors.Is(err, ants.ErrNilContext) && !errors.Is(err, ants.ErrPoolClosed) {
					t.Fatalf("submit of nil = %v", err)
				}
			case 9: // a small group, its waits bounded by its context
				if p.runner == nil {
					continue
				}
				ctx, cancel := timeout()
				gopts := []ants.GroupOption{ants.WithLimit(int(op>>4) % 3)}
				if op&0x80 != 0 {
					gopts = append(gopts, ants.WithCollectErrors())
				}
				g := p.runner.Group(ctx, gopts...)
				for i := range 3 {
					g.Go(func(ctx context.Context) error {
						if i == 1 {
							return errInjected
						}
						return nil
					})
				}
				if size&0x40 != 0 {
					// Queued group tasks are accepted: even when the group's
					// context ends, Wait waits for them to reach a worker,
					// which the held tasks would keep from them.
					openGate()
				}
				err := g.Wait()
				cancel()
				if err == nil {
					t.Fatal("group Wait = nil although a task failed")
				}
			}
		}
		openGate()
		if p.IsClosed() {
			p.Reboot()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := p.ReleaseContext(ctx); err != nil {
			t.Fatalf("final ReleaseContext = %v", err)
		}
		for i, ft := range tasks {
			switch {
			case ft.accepted && ft.runs != 1:
				t.Fatalf("task %d was accepted and ran %d times", i, ft.runs)
			case !ft.accepted && ft.runs != 0:
				t.Fatalf("task %d was refused and ran %d times", i, ft.runs)
			}
		}
		if m := int(inUse.max.Load()); perPool > 0 && m > maxPerPool*p.subPools {
			t.Fatalf("%d tasks ran at once, capacity at most %d", m, maxPerPool*p.subPools)
		}
	})
}
