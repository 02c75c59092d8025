package ants_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/time/rate"

	"github.com/antspool/ants"
)

// Tasks of one key run one at a time, in Go order; every task runs once;
// keys run in parallel. On every Runner kind, in both modes.
func TestKeyedGroupRunsEachKeyInOrder(t *testing.T) {
	for _, k := range (runnerKinds | bothModes).each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 4)
			const keys, perKey = 16, 50
			var mu sync.Mutex
			seen := make(map[int][]int)
			var inKey [keys]atomic.Int32
			var overlap atomic.Bool
			kg := ants.NewKeyedGroup[int](context.Background(), p.runner)
			r := rand.New(rand.NewPCG(1, 2))
			for n := range keys * perKey {
				key := r.IntN(keys)
				pause := time.Duration(r.IntN(50)) * time.Microsecond
				kg.Go(key, func(context.Context) error {
					if inKey[key].Add(1) > 1 {
						overlap.Store(true)
					}
					time.Sleep(pause)
					mu.Lock()
					seen[key] = append(seen[key], n)
					mu.Unlock()
					inKey[key].Add(-1)
					return nil
				})
			}
			if err := kg.Wait(); err != nil {
				t.Fatal(err)
			}
			mustRelease(t, p)
			if overlap.Load() {
				t.Error("two tasks of one key ran at once")
			}
			total := 0
			for key, ns := range seen {
				total += len(ns)
				if !slices.IsSorted(ns) {
					t.Errorf("key %d ran out of order: %v", key, ns)
				}
			}
			if total != keys*perKey {
				t.Errorf("%d tasks ran, want %d", total, keys*perKey)
			}
		})
	}
}

// A key whose task blocks delays only its own tasks: other keys' tasks all
// run meanwhile, and two keys run at once.
func TestKeyedGroupSlowKeyDelaysOnlyItself(t *testing.T) {
	for _, k := range (runnerKinds | bothModes).each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 2)
			kg := ants.NewKeyedGroup[string](context.Background(), p.runner)
			slowStarted, release := make(chan struct{}), make(chan struct{})
			kg.Go("slow", func(context.Context) error { close(slowStarted); <-release; return nil })
			var slowNext atomic.Bool
			kg.Go("slow", func(context.Context) error { slowNext.Store(true); return nil })
			<-slowStarted
			var fast atomic.Int32
			fastDone := make(chan struct{})
			for i := range 20 {
				kg.Go("fast", func(context.Context) error {
					if fast.Add(1) == 20 {
						close(fastDone)
					}
					_ = i
					return nil
				})
			}
			<-fastDone // all of them ran while the slow key's task was running
			if slowNext.Load() {
				t.Error("the slow key's second task ran before its first returned")
			}
			close(release)
			if err := kg.Wait(); err != nil {
				t.Fatal(err)
			}
			if !slowNext.Load() {
				t.Error("the slow key's second task never ran")
			}
			mustRelease(t, p)
		})
	}
}

// With a limit of one task at a time, keys take turns: after each task a
// key goes to the back of the keys ready to run.
func TestKeyedGroupServesKeysFairly(t *testing.T) {
	p, _ := ants.NewPool(4)
	gate := make(chan struct{})
	var mu sync.Mutex
	var order []string
	kg := ants.NewKeyedGroup[string](context.Background(), p, ants.WithLimit(1))
	kg.Go("gate", func(context.Context) error { <-gate; return nil }) // holds the one slot
	for i := range 3 {
		for _, key := range []string{"a", "b", "c"} {
			kg.Go(key, func(context.Context) error {
				mu.Lock()
				order = append(order, fmt.Sprintf("%s%d", key, i))
				mu.Unlock()
				return nil
			})
		}
	}
	close(gate)
	if err := kg.Wait(); err != nil {
		t.Fatal(err)
	}
	mustRelease(t, p)
	want := []string{"a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"}
	if !slices.Equal(order, want) {
		t.Errorf("order = %v, want %v", order, want)
	}
}

// A retrying task keeps its key's turn: the key's next task starts after
// the retry's final outcome.
func TestKeyedGroupRetryKeepsTheTurn(t *testing.T) {
	for _, k := range (runnerKinds | bothModes).each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 4)
			policy := func() backoff.BackOff { return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 5) }
			kg := ants.NewKeyedGroup[int](context.Background(), p.runner, ants.WithRetry(policy))
			var mu sync.Mutex
			var log []string
			var attempts atomic.Int32
			kg.Go(1, func(context.Context) error {
				n := attempts.Add(1)
				mu.Lock()
				log = append(log, fmt.Sprintf("first#%d", n))
				mu.Unlock()
				if n < 3 {
					return errors.New("again")
				}
				return nil
			})
			kg.Go(1, func(context.Context) error {
				mu.Lock()
				log = append(log, "second")
				mu.Unlock()
				return nil
			})
			if err := kg.Wait(); err != nil {
				t.Fatal(err)
			}
			mustRelease(t, p)
			if want := []string{"first#1", "first#2", "first#3", "second"}; !slices.Equal(log, want) {
				t.Errorf("log = %v, want %v", log, want)
			}
		})
	}
}

// The first error cancels the group and the tasks behind their keys are
// skipped; WithCollectErrors runs every task and joins the errors in Go
// order.
func TestKeyedGroupErrors(t *testing.T) {
	errA, errB := errors.New("a failed"), errors.New("b failed")
	t.Run("first", func(t *testing.T) {
		p, _ := ants.NewPool(2)
		kg := ants.NewKeyedGroup[string](context.Background(), p)
		var after atomic.Bool
		kg.Go("a", func(context.Context) error { return errA })
		kg.Go("a", func(context.Context) error { after.Store(true); return nil })
		if err := kg.Wait(); err != errA {
			t.Errorf("Wait = %v, want %v", err, errA)
		}
		mustRelease(t, p)
		if after.Load() {
			t.Error("a task behind the failed one ran after the group was cancelled")
		}
	})
	t.Run("collect", func(t *testing.T) {
		p, _ := ants.NewPool(2)
		kg := ants.NewKeyedGroup[string](context.Background(), p, ants.WithCollectErrors())
		var ran atomic.Int32
		kg.Go("b", func(context.Context) error { ran.Add(1); return errB })
		kg.Go("a", func(context.Context) error { ran.Add(1); return errA })
		kg.Go("a", func(context.Context) error { ran.Add(1); return nil })
		err := kg.Wait()
		mustRelease(t, p)
		if ran.Load() != 3 || !slices.Equal(unjoin(err), []error{errB, errA}) {
			t.Errorf("ran %d, Wait = %v; want 3 and [b failed, a failed]", ran.Load(), err)
		}
	})
}

// Cancelling the group while tasks wait behind a blocked key and in a busy
// pool ends Wait once the running tasks return: the others are skipped.
func TestKeyedGroupCancelWithPendingTasks(t *testing.T) {
	for _, k := range (runnerKinds | bothModes).each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			ctx, cancel := context.WithCancel(context.Background())
			kg := ants.NewKeyedGroup[int](ctx, p.runner)
			started, release := make(chan struct{}), make(chan struct{})
			kg.Go(0, func(context.Context) error { close(started); <-release; return nil })
			<-started
			var ran atomic.Int32
			for i := range 50 {
				kg.Go(i%5, func(context.Context) error { ran.Add(1); return nil })
			}
			cancel()
			waited := make(chan error, 1)
			go func() { waited <- kg.Wait() }()
			close(release)
			if err := <-waited; !errors.Is(err, context.Canceled) {
				t.Errorf("Wait = %v, want context.Canceled", err)
			}
			mustRelease(t, p)
			if n := ran.Load(); n != 0 {
				t.Errorf("%d skipped tasks ran", n)
			}
		})
	}
}

// Go waits while WithMaxPending tasks are accepted and not started; TryGo
// returns false there; a task behind a busy key is accepted.
func TestKeyedGroupMaxPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		kg := ants.NewKeyedGroup[int](context.Background(), p, ants.WithMaxPending(3))
		started, release := make(chan struct{}), make(chan struct{})
		kg.Go(0, func(context.Context) error { close(started); <-release; return nil })
		<-started
		for range 3 {
			if !kg.TryGo(0, func(context.Context) error { return nil }) { // behind the busy key
				t.Fatal("TryGo refused a task with room")
			}
		}
		if kg.TryGo(1, func(context.Context) error { return nil }) {
			t.Error("TryGo accepted a 4th pending task")
		}
		accepted := make(chan struct{})
		go func() {
			kg.Go(1, func(context.Context) error { return nil })
			close(accepted)
		}()
		synctest.Wait()
		select {
		case <-accepted:
			t.Fatal("Go returned with no room")
		default:
		}
		close(release)
		<-accepted
		if err := kg.Wait(); err != nil {
			t.Fatal(err)
		}
		mustRelease(t, p)
	})
}

// Memory follows the keys with work: many distinct keys, all done, leave
// the heap where it started.
func TestKeyedGroupForgetsFinishedKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	p, _ := ants.NewPool(8)
	kg := ants.NewKeyedGroup[int](context.Background(), p)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	kg.Go(-1, func(context.Context) error { return nil })
	before := heap()
	for key := range 200_000 {
		kg.Go(key, func(context.Context) error { return nil })
	}
	if err := kg.Wait(); err != nil {
		t.Fatal(err)
	}
	after := heap()
	runtime.KeepAlive(kg)
	mustRelease(t, p)
	if after > before+1<<20 {
		t.Errorf("heap grew from %d to %d bytes after 200,000 keys, all done", before, after)
	}
}

// countingLimiter lets an attempt go each time a token is sent, and counts
// the waits.
type countingLimiter struct {
	tokens chan struct{}
	waits  atomic.Int32
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.waits.Add(1)
	select {
	case <-l.tokens:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Every attempt, retries included, waits for the limiter, holding no
// worker; cancelling the group ends the wait and skips the task.
func TestRateLimitEveryAttempt(t *testing.T) {
	t.Run("attempts", func(t *testing.T) {
		p, _ := ants.NewPool(2)
		l := &countingLimiter{tokens: make(chan struct{}, 10)}
		for range 10 {
			l.tokens <- struct{}{}
		}
		policy := func() backoff.BackOff { return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 5) }
		g := p.Group(context.Background(), ants.WithRateLimit(l), ants.WithRetry(policy))
		var n atomic.Int32
		g.Go(func(context.Context) error {
			if n.Add(1) < 3 {
				return errors.New("again")
			}
			return nil
		})
		g.Go(func(context.Context) error { return nil })
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		mustRelease(t, p)
		if w := l.waits.Load(); w != 4 {
			t.Errorf("limiter waited %d times, want 4 (3 attempts + 1)", w)
		}
	})
	t.Run("no-worker-held", func(t *testing.T) {
		for _, keyed := range []bool{false, true} {
			t.Run(fmt.Sprint("keyed=", keyed), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					p, _ := ants.NewPool(2)
					l := &countingLimiter{tokens: make(chan struct{})}
					ctx, cancel := context.WithCancel(context.Background())
					var ran atomic.Bool
					var wait func() error
					if keyed {
						kg := ants.NewKeyedGroup[int](ctx, p, ants.WithRateLimit(l))
						kg.Go(1, func(context.Context) error { ran.Store(true); return nil })
						wait = kg.Wait
					} else {
						g := p.Group(ctx, ants.WithRateLimit(l))
						go g.Go(func(context.Context) error { ran.Store(true); return nil })
						wait = g.Wait
					}
					synctest.Wait() // throttled
					if s := p.Stats(); s.Busy != 0 || l.waits.Load() != 1 {
						t.Errorf("while throttled: Busy = %d, limiter waits %d; want 0, 1", s.Busy, l.waits.Load())
					}
					cancel()
					synctest.Wait() // the throttled Go (or the key's turn) sees it
					if err := wait(); !errors.Is(err, context.Canceled) {
						t.Errorf("Wait = %v, want context.Canceled", err)
					}
					mustRelease(t, p)
					if ran.Load() {
						t.Error("the throttled task ran after the group was cancelled")
					}
				})
			})
		}
	})
	t.Run("x-time-rate", func(t *testing.T) { // *rate.Limiter fits; TryGo uses Allow
		p, _ := ants.NewPool(2)
		l := rate.NewLimiter(rate.Inf, 1)
		g := p.Group(context.Background(), ants.WithRateLimit(l))
		if !g.TryGo(func(context.Context) error { return nil }) {
			t.Error("TryGo refused under an infinite rate")
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		mustRelease(t, p)
	})
}

// A limiter of 500 per second paces 1,000 tasks over 2 s of (fake)
// time, within 5%, and no worker is busy while the tasks wait for it.
func TestRateLimitPace(t *testing.T) {
	for _, keyed := range []bool{false, true} {
		t.Run(fmt.Sprint("keyed=", keyed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 1000
				before := runtime.NumGoroutine()
				p, _ := ants.NewPool(4)
				l := rate.NewLimiter(500, 1)
				var mu sync.Mutex
				var starts []time.Time
				task := func(context.Context) error {
					mu.Lock()
					starts = append(starts, time.Now())
					mu.Unlock()
					return nil
				}
				var wait func() error
				submitted := make(chan struct{})
				if keyed {
					kg := ants.NewKeyedGroup[int](context.Background(), p, ants.WithRateLimit(l))
					go func() {
						for i := range n {
							kg.Go(i%100, task)
						}
						close(submitted)
					}()
					wait = kg.Wait
				} else {
					g := p.Group(context.Background(), ants.WithRateLimit(l))
					go func() {
						for range n {
							g.Go(task)
						}
						close(submitted)
					}()
					wait = g.Wait
				}
				samples, most := 0, 0
				for {
					synctest.Wait() // everything waits for the limiter's next token
					if b := p.Stats().Busy; b != 0 {
						t.Fatalf("Busy = %d while throttled, want 0", b)
					}
					most = max(most, runtime.NumGoroutine())
					samples++
					mu.Lock()
					all := len(starts) == n
					mu.Unlock()
					if all {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				<-submitted
				if err := wait(); err != nil {
					t.Fatal(err)
				}
				mustRelease(t, p)
				got := float64(n-1) / starts[n-1].Sub(starts[0]).Seconds()
				t.Logf("%.1f tasks/s, Busy sampled %d times", got, samples)
				if got < 475 || got > 525 {
					t.Errorf("achieved %.1f tasks/s over %v, want 500 ± 5%%", got, starts[n-1].Sub(starts[0]))
				}
				if samples < 150 {
					t.Errorf("sampled Busy %d times, want one every 10ms of the 2s", samples)
				}
				// The test, its producer, the pool's (at most 4) workers and
				// purger, the group's one throttling goroutine, the runtime's
				// own: a task waiting for the limiter holds no goroutine.
				if most > before+8 {
					t.Errorf("up to %d goroutines while throttled (%d before), want no goroutine per waiting task", most, before)
				}
			})
		})
	}
}

// Releasing the pool ends the waits for the limiter: ReleaseContext
// returns without waiting for tokens that come once an hour, the tasks
// still throttled end with ErrPoolClosed, and nothing is left running.
func TestRateLimitRelease(t *testing.T) {
	p, _ := ants.NewPool(2)
	kg := ants.NewKeyedGroup[int](context.Background(), p, ants.WithRateLimit(rate.NewLimiter(rate.Every(time.Hour), 1)))
	var ran atomic.Int32
	for i := range 6 {
		kg.Go(i, func(context.Context) error { ran.Add(1); return nil })
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.ReleaseContext(ctx); err != nil {
		t.Fatalf("ReleaseContext = %v with tasks waiting for the limiter", err)
	}
	if err := kg.Wait(); !errors.Is(err, ants.ErrPoolClosed) {
		t.Errorf("Wait = %v, want ErrPoolClosed", err)
	}
	if n := ran.Load(); n > 1 {
		t.Errorf("%d tasks ran, want at most the one the limiter's burst lets through", n)
	}
}

// Bad input to a KeyedGroup is an error from Wait, never a panic.
func TestKeyedGroupBadInput(t *testing.T) {
	p, _ := ants.NewPool(1)
	var nilCtx context.Context
	for _, tc := range []struct {
		name string
		kg   *ants.KeyedGroup[int]
		want error
	}{
		{"nil-ctx", ants.NewKeyedGroup[int](nilCtx, p), ants.ErrNilContext},
		{"nil-runner", ants.NewKeyedGroup[int](context.Background(), nil), ants.ErrNilRunner},
		{"nil-pool", ants.NewKeyedGroup[int](context.Background(), (*ants.Pool)(nil)), ants.ErrNilRunner},
		{"max-pending-0", ants.NewKeyedGroup[int](context.Background(), p, ants.WithMaxPending(0)), ants.ErrInvalidMaxPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran atomic.Bool
			tc.kg.Go(1, func(context.Context) error { ran.Store(true); return nil })
			if err := tc.kg.Wait(); !errors.Is(err, tc.want) {
				t.Errorf("Wait = %v, want %v", err, tc.want)
			}
			if ran.Load() {
				t.Error("a task ran")
			}
		})
	}
	t.Run("nil-task", func(t *testing.T) {
		kg := ants.NewKeyedGroup[int](context.Background(), p)
		kg.Go(1, nil)
		if err := kg.Wait(); !errors.Is(err, ants.ErrNilTask) {
			t.Errorf("Wait = %v, want ErrNilTask", err)
		}
	})
	t.Run("group-max-pending-0", func(t *testing.T) {
		g := p.Group(context.Background(), ants.WithMaxPending(0))
		g.Go(func(context.Context) error { return nil })
		if err := g.Wait(); !errors.Is(err, ants.ErrInvalidMaxPending) {
			t.Errorf("Wait = %v, want ErrInvalidMaxPending", err)
		}
	})
	mustRelease(t, p)
}

// A KeyedGroup inside a task of its own pool of one worker finishes.
func TestKeyedGroupNested(t *testing.T) {
	for _, k := range (runnerKinds | bothModes).each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			var ran atomic.Int32
			f := ants.SubmitValue(context.Background(), p.runner, func(ctx context.Context) (int, error) {
				kg := ants.NewKeyedGroup[int](ctx, p.runner)
				for i := range 12 {
					kg.Go(i%3, func(context.Context) error { ran.Add(1); return nil })
				}
				return 0, kg.Wait()
			})
			if _, err := f.Wait(); err != nil {
				t.Fatal(err)
			}
			mustRelease(t, p)
			if n := ran.Load(); n != 12 {
				t.Errorf("%d tasks ran, want 12", n)
			}
		})
	}
}
