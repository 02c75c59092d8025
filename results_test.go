package ants_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

func TestResultGroupValuesAreInGoOrder(t *testing.T) {
	for _, k := range runnerKinds.each() { // whatever order the tasks finish in
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 4)
			const n = 4 // every task runs at once: the runners have 4 workers
			// Task i returns only after task i+1 has: the last one given to
			// Go finishes first.
			returned := make([]chan struct{}, n+1)
			for i := range returned {
				returned[i] = make(chan struct{})
			}
			close(returned[n])
			var mu sync.Mutex
			var finished []int
			rg := ants.NewResultGroup[string](context.Background(), p.runner)
			for i := range n {
				rg.Go(func(context.Context) (string, error) {
					defer close(returned[i])
					<-returned[i+1]
					mu.Lock()
					finished = append(finished, i)
					mu.Unlock()
					return fmt.Sprintf("v%d", i), nil
				})
			}
			values, err := rg.Wait()
			if err != nil {
				t.Fatalf("Wait = %v, want nil", err)
			}
			if want := []int{3, 2, 1, 0}; !slices.Equal(finished, want) {
				t.Fatalf("tasks finished in order %v, want %v (the test's own ordering failed)", finished, want)
			}
			if want := []string{"v0", "v1", "v2", "v3"}; !slices.Equal(values, want) {
				t.Errorf("Wait values = %q, want %q (Go order)", values, want)
			}
			res := rg.Results()
			if len(res) != n {
				t.Fatalf("len(Results()) = %d, want %d", len(res), n)
			}
			for i, r := range res {
				if want := fmt.Sprintf("v%d", i); r.Value != want || r.Err != nil {
					t.Errorf("Results()[%d] = {%q, %v}, want {%q, nil}", i, r.Value, r.Err, want)
				}
			}
			mustRelease(t, p)
		})
	}
}

func TestResultGroupResultsHoldEachTasksOwnError(t *testing.T) {
	t.Run("outcomes", func(t *testing.T) { // a value, an error, a panic and a Goexit stay at their index, with T's zero value where the task failed
		for _, k := range runnerKinds.each() {
			t.Run(k.String(), func(t *testing.T) {
				p := newPool(t, k, 4)
				rg := ants.NewResultGroup[int](context.Background(), p.runner, ants.WithCollectErrors())
				rg.Go(func(context.Context) (int, error) { return 1, nil })
				rg.Go(func(context.Context) (int, error) { return 2, errBoom }) // its 2 must not be kept
				rg.Go(func(context.Context) (int, error) { panicInGroupTask("kaboom"); return 3, nil })
				rg.Go(func(context.Context) (int, error) { runtime.Goexit(); return 4, nil })
				rg.Go(func(context.Context) (int, error) { return 5, nil })
				values, err := rg.Wait()
				if err == nil {
					t.Error("Wait = nil, want the joined errors")
				}
				if want := []int{1, 0, 0, 0, 5}; !slices.Equal(values, want) {
					t.Errorf("Wait values = %v, want %v", values, want)
				}
				res := rg.Results()
				if len(res) != 5 {
					t.Fatalf("len(Results()) = %d, want 5", len(res))
				}
				if res[0].Value != 1 || res[0].Err != nil {
					t.Errorf("Results()[0] = %+v, want {1 <nil>}", res[0])
				}
				if res[1].Value != 0 || !errors.Is(res[1].Err, errBoom) {
					t.Errorf("Results()[1] = %+v, want {0 errBoom}", res[1])
				}
				var pe *ants.PanicError
				if res[2].Value != 0 || !errors.As(res[2].Err, &pe) || pe.Value != "kaboom" {
					t.Errorf("Results()[2] = %+v, want {0 *PanicError(kaboom)}", res[2])
				}
				if res[3].Value != 0 || !errors.Is(res[3].Err, ants.ErrGoexit) {
					t.Errorf("Results()[3] = %+v, want {0 ErrGoexit}", res[3])
				}
				if res[4].Value != 5 || res[4].Err != nil {
					t.Errorf("Results()[4] = %+v, want {5 <nil>}", res[4])
				}
				mustRelease(t, p)
			})
		}
	})

	t.Run("released", func(t *testing.T) { // a released pool refuses the task with ErrPoolClosed and it never runs
		for _, k := range runnerKinds.each() {
			t.Run(k.String(), func(t *testing.T) {
				p := newPool(t, k, 4)
				mustRelease(t, p)
				var ran atomic.Bool
				rg := ants.NewResultGroup[int](context.Background(), p.runner)
				rg.Go(func(context.Context) (int, error) { ran.Store(true); return 1, nil })
				values, err := rg.Wait()
				if !errors.Is(err, ants.ErrPoolClosed) {
					t.Errorf("Wait = %v, want ErrPoolClosed", err)
				}
				if !slices.Equal(values, []int{0}) {
					t.Errorf("Wait values = %v, want [0]", values)
				}
				if res := rg.Results(); len(res) != 1 || !errors.Is(res[0].Err, ants.ErrPoolClosed) {
					t.Errorf("Results() = %+v, want [{0 ErrPoolClosed}]", res)
				}
				if ran.Load() {
					t.Error("the refused task ran")
				}
			})
		}
	})

	t.Run("overload", func(t *testing.T) { // a full nonblocking pool refuses the task with ErrPoolOverload and it never runs
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1, ants.WithNonblocking(true))
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			var ran atomic.Bool
			rg := ants.NewResultGroup[int](context.Background(), p, ants.WithCollectErrors())
			rg.Go(func(context.Context) (int, error) { ran.Store(true); return 1, nil })
			b.open()
			synctest.Wait() // the worker is idle again
			rg.Go(func(context.Context) (int, error) { return 2, nil })
			values, err := rg.Wait()
			if !errors.Is(err, ants.ErrPoolOverload) {
				t.Errorf("Wait = %v, want ErrPoolOverload", err)
			}
			if !slices.Equal(values, []int{0, 2}) {
				t.Errorf("Wait values = %v, want [0 2]", values)
			}
			res := rg.Results()
			if len(res) != 2 || !errors.Is(res[0].Err, ants.ErrPoolOverload) || res[1].Err != nil {
				t.Errorf("Results() = %+v, want [{0 ErrPoolOverload} {2 <nil>}]", res)
			}
			mustRelease(t, p)
			if ran.Load() {
				t.Error("the refused task ran")
			}
		})
	})

	t.Run("skipped-after-failure", func(t *testing.T) { // a task skipped after a sibling failed gets the group context's cause
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(1)
			fail := make(chan struct{})
			rg := ants.NewResultGroup[int](context.Background(), p)
			rg.Go(func(context.Context) (int, error) { <-fail; return 1, errBoom })
			var ran atomic.Bool
			returned := make(chan struct{})
			go func() {
				rg.Go(func(context.Context) (int, error) { ran.Store(true); return 2, nil }) // waits for the only worker
				close(returned)
			}()
			synctest.Wait()
			if isClosed(returned) {
				t.Fatal("Go returned while the pool's only worker was busy")
			}
			close(fail)
			<-returned
			<-rg.Context().Done()
			rg.Go(func(context.Context) (int, error) { ran.Store(true); return 3, nil }) // after the failure
			values, err := rg.Wait()
			if !errors.Is(err, errBoom) {
				t.Errorf("Wait = %v, want errBoom", err)
			}
			if !slices.Equal(values, []int{0, 0, 0}) {
				t.Errorf("Wait values = %v, want [0 0 0]", values)
			}
			cause := context.Cause(rg.Context())
			if !errors.Is(cause, errBoom) {
				t.Errorf("Cause(rg.Context()) = %v, want errBoom", cause)
			}
			res := rg.Results()
			if len(res) != 3 {
				t.Fatalf("len(Results()) = %d, want 3", len(res))
			}
			for i := 1; i < 3; i++ {
				if res[i].Err != cause || res[i].Value != 0 {
					t.Errorf("Results()[%d] = %+v, want {0 %v} (the group context's cause)", i, res[i], cause)
				}
			}
			mustRelease(t, p)
			if ran.Load() {
				t.Error("a skipped task ran")
			}
		})
	})

	t.Run("skipped-after-cancel", func(t *testing.T) { // a task skipped because the parent was cancelled gets the parent's cause
		errStop := errors.New("stop")
		p, _ := ants.NewPool(2)
		parent, cancel := context.WithCancelCause(context.Background())
		rg := ants.NewResultGroup[int](parent, p, ants.WithCollectErrors())
		started := make(chan struct{})
		rg.Go(func(context.Context) (int, error) { close(started); return 1, nil })
		<-started // a task that has started runs to its end
		cancel(errStop)
		var ran atomic.Bool
		rg.Go(func(context.Context) (int, error) { ran.Store(true); return 2, nil })
		values, err := rg.Wait()
		if !errors.Is(err, errStop) {
			t.Errorf("Wait = %v, want errStop", err)
		}
		if !slices.Equal(values, []int{1, 0}) {
			t.Errorf("Wait values = %v, want [1 0]", values)
		}
		res := rg.Results()
		if len(res) != 2 || res[0].Err != nil || res[1].Err != context.Cause(rg.Context()) || !errors.Is(res[1].Err, errStop) {
			t.Errorf("Results() = %+v, want [{1 <nil>} {0 errStop}]", res)
		}
		mustRelease(t, p)
		if ran.Load() {
			t.Error("the skipped task ran")
		}
	})
}

func TestResultGroupWaitReturnsTheFirstErrorByDefault(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 4)
			rg := ants.NewResultGroup[int](context.Background(), p.runner)
			started := make(chan struct{}, 2)
			rg.Go(func(context.Context) (int, error) { started <- struct{}{}; return 1, nil })
			rg.Go(func(ctx context.Context) (int, error) {
				started <- struct{}{}
				<-ctx.Done() // runs until the failure cancels it
				return 2, ctx.Err()
			})
			<-started // both have started, so the failure skips neither
			<-started
			rg.Go(func(context.Context) (int, error) { return 3, errBoom })
			values, err := rg.Wait()
			if err != errBoom {
				t.Errorf("Wait = %v, want errBoom (the first error, not the sibling's cancellation)", err)
			}
			if !slices.Equal(values, []int{1, 0, 0}) {
				t.Errorf("Wait values = %v, want [1 0 0]", values)
			}
			res := rg.Results()
			if len(res) != 3 || res[0].Err != nil || !errors.Is(res[1].Err, context.Canceled) || res[2].Err != errBoom {
				t.Errorf("Results() = %+v, want [{1 <nil>} {0 context.Canceled} {0 errBoom}]", res)
			}
			if cause := context.Cause(rg.Context()); cause != errBoom {
				t.Errorf("Cause(rg.Context()) = %v, want errBoom", cause)
			}
			mustRelease(t, p)
		})
	}
}

func TestResultGroupCollectErrorsRunsEveryTaskAndJoinsErrorsInGoOrder(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			errA := errors.New("item 1 failed")
			errB := fmt.Errorf("item 3: %w", errBoom)
			const n = 6
			p := newPool(t, k, n)
			// Task i returns only after task i+1 has, so errors arrive in the
			// reverse of Go order.
			returned := make([]chan struct{}, n+1)
			for i := range returned {
				returned[i] = make(chan struct{})
			}
			close(returned[n])
			outcomes := []func() (int, error){
				func() (int, error) { return 10, nil },
				func() (int, error) { return 11, errA },
				func() (int, error) { return 12, nil },
				func() (int, error) { return 13, errB },
				func() (int, error) { panicInGroupTask("kaboom"); return 14, nil },
				func() (int, error) { runtime.Goexit(); return 15, nil },
			}
			var ran atomic.Int32
			rg := ants.NewResultGroup[int](context.Background(), p.runner, ants.WithCollectErrors())
			for i, outcome := range outcomes {
				rg.Go(func(ctx context.Context) (int, error) {
					defer close(returned[i])
					<-returned[i+1]
					ran.Add(1)
					if ctx.Err() != nil {
						t.Errorf("task %d: group context done (%v) with WithCollectErrors", i, context.Cause(ctx))
					}
					return outcome()
				})
			}
			values, err := rg.Wait()
			if got := ran.Load(); got != n {
				t.Errorf("%d tasks ran, want %d", got, n)
			}
			for _, want := range []error{errA, errB, errBoom, ants.ErrGoexit} {
				if !errors.Is(err, want) {
					t.Errorf("Wait = %v, want it to include %v", err, want)
				}
			}
			var pe *ants.PanicError
			if !errors.As(err, &pe) || pe.Value != "kaboom" {
				t.Errorf("Wait = %v, want it to include the *PanicError", err)
			}
			if err != nil {
				lines := strings.Split(err.Error(), "\n")
				want := []string{errA.Error(), errB.Error(), (&ants.PanicError{Value: "kaboom"}).Error(), ants.ErrGoexit.Error()}
				if !slices.Equal(lines, want) {
					t.Errorf("Wait error lines = %q, want %q (Go order)", lines, want)
				}
			}
			if want := []int{10, 0, 12, 0, 0, 0}; !slices.Equal(values, want) {
				t.Errorf("Wait values = %v, want %v", values, want)
			}
			mustRelease(t, p)
		})
	}
}

func TestResultGroupKeepsTheValueOfTheAttemptThatSucceeds(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			t.Run("success", func(t *testing.T) { // the attempt that succeeds gives the value
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 2)
					rg := ants.NewResultGroup[int](context.Background(), p.runner, ants.WithRetry(constantRetry(time.Second)))
					var calls atomic.Int32
					rg.Go(func(context.Context) (int, error) {
						if c := calls.Add(1); c <= 2 {
							return int(c), fmt.Errorf("attempt %d: %w", c, errBoom) // a value that must not be kept
						}
						return 42, nil
					})
					values, err := rg.Wait()
					if err != nil {
						t.Errorf("Wait = %v, want nil", err)
					}
					if got := calls.Load(); got != 3 {
						t.Errorf("%d attempts, want 3", got)
					}
					if !slices.Equal(values, []int{42}) {
						t.Errorf("Wait values = %v, want [42]", values)
					}
					if res := rg.Results(); len(res) != 1 || res[0].Value != 42 || res[0].Err != nil {
						t.Errorf("Results() = %+v, want [{42 <nil>}]", res)
					}
					mustRelease(t, p)
				})
			})

			t.Run("all-fail", func(t *testing.T) { // a task whose every attempt fails keeps T's zero value and its last error
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 2)
					retries := func() backoff.BackOff {
						return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Second), 2)
					}
					rg := ants.NewResultGroup[int](context.Background(), p.runner, ants.WithRetry(retries))
					var calls atomic.Int32
					rg.Go(func(context.Context) (int, error) {
						c := calls.Add(1)
						return int(c), fmt.Errorf("attempt %d: %w", c, errBoom)
					})
					values, err := rg.Wait()
					if err == nil || err.Error() != "attempt 3: boom" {
						t.Errorf("Wait = %v, want attempt 3's error", err)
					}
					if !slices.Equal(values, []int{0}) {
						t.Errorf("Wait values = %v, want [0]", values)
					}
					if res := rg.Results(); len(res) != 1 || res[0].Value != 0 || res[0].Err != err {
						t.Errorf("Results() = %+v, want [{0 %v}]", res, err)
					}
					mustRelease(t, p)
				})
			})
		})
	}
}

func TestResultGroupTryGoTakesAnIndexOnlyWhenItReturnsTrue(t *testing.T) {
	t.Run("busy", func(t *testing.T) { // on a pool whose workers are busy it returns false and the next Go takes that index
		for _, k := range runnerKinds.each() {
			t.Run(k.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					p := newPool(t, k, 2)
					b := newBlocker()
					b.fill(t, p.submit, 2)
					var refusedRan atomic.Bool
					rg := ants.NewResultGroup[string](context.Background(), p.runner)
					if rg.TryGo(func(context.Context) (string, error) { refusedRan.Store(true); return "refused", nil }) {
						t.Error("TryGo = true with every worker busy")
					}
					b.open()
					rg.Go(func(context.Context) (string, error) { return "a", nil })
					synctest.Wait() // "a" has returned and the worker is idle
					if !rg.TryGo(func(context.Context) (string, error) { return "b", nil }) {
						t.Error("TryGo = false with the pool's workers idle")
					}
					values, err := rg.Wait()
					if err != nil {
						t.Errorf("Wait = %v, want nil", err)
					}
					if want := []string{"a", "b"}; !slices.Equal(values, want) {
						t.Errorf("Wait values = %q, want %q (no gap for the refused TryGo)", values, want)
					}
					if res := rg.Results(); len(res) != 2 || res[0].Err != nil || res[1].Err != nil {
						t.Errorf("Results() = %+v, want two successes", res)
					}
					mustRelease(t, p)
					if refusedRan.Load() {
						t.Error("the task of a TryGo that returned false ran")
					}
				})
			})
		}
	})

	t.Run("limit", func(t *testing.T) { // past WithLimit it returns false and takes no index
		synctest.Test(t, func(t *testing.T) {
			p, _ := ants.NewPool(4)
			gate := make(chan struct{})
			rg := ants.NewResultGroup[string](context.Background(), p, ants.WithLimit(1))
			rg.Go(func(context.Context) (string, error) { <-gate; return "held", nil })
			var refusedRan atomic.Bool
			if rg.TryGo(func(context.Context) (string, error) { refusedRan.Store(true); return "refused", nil }) {
				t.Error("TryGo = true with the group's only limit slot held")
			}
			close(gate)
			synctest.Wait() // the slot is free again
			if !rg.TryGo(func(context.Context) (string, error) { return "b", nil }) {
				t.Error("TryGo = false with the limit slot free")
			}
			values, err := rg.Wait()
			if err != nil {
				t.Errorf("Wait = %v, want nil", err)
			}
			if want := []string{"held", "b"}; !slices.Equal(values, want) {
				t.Errorf("Wait values = %q, want %q", values, want)
			}
			mustRelease(t, p)
			if refusedRan.Load() {
				t.Error("the task of a TryGo that returned false ran")
			}
		})
	})
}

func TestResultGroupConcurrentGoAndTryGoTakeDenseIndexes(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 4)
			const callers, calls = 16, 40
			for round := range rounds(20, 5) {
				rg := ants.NewResultGroup[int](context.Background(), p.runner)
				var ids atomic.Int32 // ids start at 1: a zero in the values is a hole
				admitted := make(chan int, callers*calls)
				var wg sync.WaitGroup
				for c := range callers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for k := range calls {
							id := int(ids.Add(1))
							task := func(context.Context) (int, error) { return id, nil }
							if (c+k)%2 == 0 {
								rg.Go(task)
								admitted <- id
							} else if rg.TryGo(task) {
								admitted <- id
							}
						}
					}()
				}
				wg.Wait()
				values, err := rg.Wait()
				close(admitted)
				if err != nil {
					t.Fatalf("round %d: Wait = %v, want nil", round, err)
				}
				var want []int
				for id := range admitted {
					want = append(want, id)
				}
				slices.Sort(want)
				if got := slices.Sorted(slices.Values(values)); !slices.Equal(got, want) {
					holes := len(values) - len(slices.DeleteFunc(slices.Clone(values), func(v int) bool { return v == 0 }))
					t.Fatalf("round %d: %d values with %d zero holes, want a permutation of the %d admitted ids", round, len(values), holes, len(want))
				}
				for i, r := range rg.Results() {
					if r.Err != nil || r.Value == 0 {
						t.Fatalf("round %d: Results()[%d] = %+v, want a value and no error", round, i, r)
					}
				}
			}
			mustRelease(t, p)
		})
	}
}

func TestResultGroupWaitOnEmptyGroupAndWaitAgain(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			t.Run("empty", func(t *testing.T) { // Wait on an empty group returns an empty non-nil slice and nil
				p := newPool(t, k, 1)
				rg := ants.NewResultGroup[int](context.Background(), p.runner)
				values, err := rg.Wait()
				if values == nil || len(values) != 0 || err != nil {
					t.Errorf("Wait = %#v, %v, want []int{}, nil", values, err)
				}
				if res := rg.Results(); len(res) != 0 {
					t.Errorf("Results() = %+v, want none", res)
				}
				mustRelease(t, p)
			})

			t.Run("wait-twice", func(t *testing.T) { // Wait twice returns the same values
				p := newPool(t, k, 2)
				rg := ants.NewResultGroup[int](context.Background(), p.runner)
				rg.Go(func(context.Context) (int, error) { return 1, nil })
				rg.Go(func(context.Context) (int, error) { return 2, nil })
				first, err1 := rg.Wait()
				second, err2 := rg.Wait()
				if err1 != nil || err2 != nil || !slices.Equal(first, []int{1, 2}) || !slices.Equal(second, []int{1, 2}) {
					t.Errorf("Wait, Wait = %v, %v; %v, %v, want [1 2], nil both times", first, err1, second, err2)
				}
				res := rg.Results()
				res[0].Value = 99 // Results returns a new slice each call
				if again := rg.Results(); again[0].Value != 1 {
					t.Errorf("Results()[0].Value = %d after changing an earlier copy, want 1", again[0].Value)
				}
				mustRelease(t, p)
			})

			t.Run("go-after-wait", func(t *testing.T) { // a Go after Wait is skipped and the next Wait reports context.Canceled
				p := newPool(t, k, 2)
				rg := ants.NewResultGroup[int](context.Background(), p.runner)
				rg.Go(func(context.Context) (int, error) { return 1, nil })
				if _, err := rg.Wait(); err != nil {
					t.Fatalf("first Wait = %v, want nil", err)
				}
				var ran atomic.Bool
				rg.Go(func(context.Context) (int, error) { ran.Store(true); return 2, nil })
				values, err := rg.Wait()
				if !errors.Is(err, context.Canceled) {
					t.Errorf("second Wait = %v, want context.Canceled", err)
				}
				if !slices.Equal(values, []int{1, 0}) {
					t.Errorf("second Wait values = %v, want [1 0]", values)
				}
				if res := rg.Results(); len(res) != 2 || !errors.Is(res[1].Err, context.Canceled) {
					t.Errorf("Results() = %+v, want index 1 skipped with context.Canceled", res)
				}
				mustRelease(t, p)
				if ran.Load() {
					t.Error("the task given to Go after Wait ran")
				}
			})
		})
	}
}

func TestSubmitValueReturnsTheTasksValueAndError(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 4)
			ctx := context.Background()
			if v, err := ants.SubmitValue(ctx, p.runner, func(context.Context) (string, error) { return "ok", nil }).Wait(); v != "ok" || err != nil {
				t.Errorf("Wait = %q, %v, want \"ok\", nil", v, err)
			}
			if v, err := ants.SubmitValue(ctx, p.runner, func(context.Context) (string, error) { return "partial", errBoom }).Wait(); v != "partial" || err != errBoom {
				t.Errorf("Wait = %q, %v, want \"partial\", errBoom (the task's value and error)", v, err)
			}
			type key struct{}
			got := ants.SubmitValue(context.WithValue(ctx, key{}, "seen"), p.runner, func(ctx context.Context) (any, error) {
				return ctx.Value(key{}), nil
			})
			if v, err := got.Wait(); v != "seen" || err != nil {
				t.Errorf("the task's ctx carries value %v (err %v), want the submit's ctx value", v, err)
			}
			mustRelease(t, p)
		})
	}
}

func TestSubmitValueDoneClosesOnlyAfterTheTaskReturns(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			started, gate := make(chan struct{}), make(chan struct{})
			var returning atomic.Bool
			f := ants.SubmitValue(context.Background(), p.runner, func(context.Context) (int, error) {
				close(started)
				<-gate
				returning.Store(true)
				return 42, nil
			})
			<-started
			if isClosed(f.Done()) {
				t.Fatal("Done is closed while the task is blocked")
			}
			close(gate)
			<-f.Done()
			if !returning.Load() {
				t.Error("Done closed before the task returned")
			}
			if v, err := f.Wait(); v != 42 || err != nil {
				t.Errorf("Wait = %d, %v, want 42, nil", v, err)
			}
			mustRelease(t, p)
		})
	}
}

func TestSubmitValueRefusedSubmitResolvesAtOnce(t *testing.T) {
	type submit func(t *testing.T, task func(context.Context) (int, error)) (f *ants.Future[int], cleanup func())
	for _, tc := range []struct {
		name   string
		want   error
		submit submit
	}{
		{"released", ants.ErrPoolClosed, func(t *testing.T, task func(context.Context) (int, error)) (*ants.Future[int], func()) {
			p, _ := ants.NewPool(1)
			mustRelease(t, p)
			return ants.SubmitValue(context.Background(), p, task), func() {}
		}},
		{"cancelled", context.Canceled, func(t *testing.T, task func(context.Context) (int, error)) (*ants.Future[int], func()) {
			p, _ := ants.NewPool(1)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ants.SubmitValue(ctx, p, task), func() { mustRelease(t, p) }
		}},
		{"overload", ants.ErrPoolOverload, func(t *testing.T, task func(context.Context) (int, error)) (*ants.Future[int], func()) {
			p, _ := ants.NewPool(1, ants.WithNonblocking(true))
			b := newBlocker()
			b.fill(t, p.Submit, 1)
			return ants.SubmitValue(context.Background(), p, task), func() { b.open(); mustRelease(t, p) }
		}},
		{"nil-ctx", ants.ErrNilContext, func(t *testing.T, task func(context.Context) (int, error)) (*ants.Future[int], func()) {
			p, _ := ants.NewPool(1)
			var nilCtx context.Context
			return ants.SubmitValue(nilCtx, p, task), func() { mustRelease(t, p) }
		}},
		{"nil-task", ants.ErrNilTask, func(t *testing.T, _ func(context.Context) (int, error)) (*ants.Future[int], func()) {
			p, _ := ants.NewPool(1)
			return ants.SubmitValue[int](context.Background(), p, nil), func() { mustRelease(t, p) }
		}},
		{"nil-runner", ants.ErrNilRunner, func(t *testing.T, task func(context.Context) (int, error)) (*ants.Future[int], func()) {
			return ants.SubmitValue(context.Background(), nil, task), func() {}
		}},
		{"nil-pool", ants.ErrNilRunner, func(t *testing.T, task func(context.Context) (int, error)) (*ants.Future[int], func()) {
			return ants.SubmitValue(context.Background(), (*ants.Pool)(nil), task), func() {}
		}},
		{"nil-multi", ants.ErrNilRunner, func(t *testing.T, task func(context.Context) (int, error)) (*ants.Future[int], func()) {
			return ants.SubmitValue(context.Background(), (*ants.MultiPool)(nil), task), func() {}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran atomic.Bool
			f, cleanup := tc.submit(t, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
			resolved := isClosed(f.Done())
			cleanup()
			if !resolved {
				t.Fatal("the future of a refused submit is not resolved when SubmitValue returns")
			}
			if v, err := f.Wait(); v != 0 || !errors.Is(err, tc.want) {
				t.Errorf("Wait = %d, %v, want 0, %v", v, err, tc.want)
			}
			if ran.Load() {
				t.Error("the refused task ran")
			}
		})
	}
}

func TestSubmitValueBlockedOnFullPoolReturnsWhenCtxCancelled(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newPool(t, k, 1)
				b := newBlocker()
				b.fill(t, p.submit, 1)
				ctx, cancel := context.WithCancel(context.Background())
				var ran atomic.Bool
				futures := make(chan *ants.Future[int], 1)
				go func() {
					futures <- ants.SubmitValue(ctx, p.runner, func(context.Context) (int, error) { ran.Store(true); return 1, nil })
				}()
				synctest.Wait()
				select {
				case <-futures:
					t.Error("SubmitValue returned while the pool's only worker was busy")
				default:
				}
				cancel()
				f := <-futures
				if !isClosed(f.Done()) {
					t.Error("the future is not resolved when SubmitValue returns after ctx was cancelled")
				}
				if v, err := f.Wait(); v != 0 || !errors.Is(err, context.Canceled) {
					t.Errorf("Wait = %d, %v, want 0, context.Canceled", v, err)
				}
				b.open()
				mustRelease(t, p)
				if ran.Load() {
					t.Error("the task ran after its submit was cancelled")
				}
			})
		})
	}
}

func TestFutureWaitFromManyGoroutinesReturnsTheSame(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			gate := make(chan struct{})
			want := new(int)
			f := ants.SubmitValue(context.Background(), p.runner, func(context.Context) (*int, error) { <-gate; return want, errBoom })
			type outcome struct {
				v   *int
				err error
			}
			const waiters = 16
			got := make(chan outcome, waiters)
			for range waiters {
				go func() {
					v, err := f.Wait()
					got <- outcome{v, err}
				}()
			}
			close(gate)
			for range waiters {
				if o := <-got; o.v != want || o.err != errBoom {
					t.Errorf("Wait = %p, %v, want %p, errBoom", o.v, o.err, want)
				}
			}
			if v, err := f.Wait(); v != want || err != errBoom {
				t.Errorf("Wait again = %p, %v, want %p, errBoom", v, err, want)
			}
			mustRelease(t, p)
		})
	}
}

// Results reports what Wait has waited for: nothing before Wait returns,
// so a task still running is never shown as {zero, nil}, a success.
func TestResultGroupResultsBeforeWaitIsNil(t *testing.T) {
	for _, k := range runnerKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2)
			rg := ants.NewResultGroup[int](context.Background(), p.runner)
			finished, release := make(chan struct{}), make(chan struct{})
			rg.Go(func(context.Context) (int, error) { defer close(finished); return 1, nil })
			rg.Go(func(context.Context) (int, error) { <-release; return 2, nil })
			<-finished
			if res := rg.Results(); res != nil {
				t.Errorf("Results() before Wait = %+v, want nil", res)
			}
			close(release)
			if _, err := rg.Wait(); err != nil {
				t.Fatal(err)
			}
			rg.Go(func(context.Context) (int, error) { return 3, nil }) // skipped: after Wait
			if res := rg.Results(); len(res) != 2 || res[0].Value != 1 || res[1].Value != 2 {
				t.Errorf("Results() after Wait = %+v, want [{1 <nil>} {2 <nil>}]", res)
			}
			if _, err := rg.Wait(); !errors.Is(err, context.Canceled) {
				t.Errorf("second Wait = %v, want context.Canceled", err)
			}
			if res := rg.Results(); len(res) != 3 || !errors.Is(res[2].Err, context.Canceled) {
				t.Errorf("Results() after the second Wait = %+v, want index 2 skipped", res)
			}
			mustRelease(t, p)
		})
	}
}
