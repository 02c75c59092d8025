package retry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.uber.org/goleak"

	"github.com/antspool/ants/retry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errFlaky = errors.New("flaky")

// failing returns an op that fails n times, then succeeds with "ok", and a
// counter of its calls.
func failing(n int) (func(context.Context) (string, error), *int) {
	calls := 0
	return func(context.Context) (string, error) {
		calls++
		if calls <= n {
			return "", fmt.Errorf("attempt %d: %w", calls, errFlaky)
		}
		return "ok", nil
	}, &calls
}

func constant(d time.Duration) func() backoff.BackOff {
	return func() backoff.BackOff { return backoff.NewConstantBackOff(d) }
}

// fewRetries is a policy of 5 quick retries: an op it should not retry
// fails the test instead of running forever.
func fewRetries() backoff.BackOff {
	return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 5)
}

func TestRetriesUntilSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		op, calls := failing(3)
		type note struct {
			attempt int
			next    time.Duration
		}
		var notes []note
		start := time.Now()
		v, err := retry.DoValue(context.Background(), constant(10*time.Millisecond), op,
			func(attempt int, err error, next time.Duration) {
				if !errors.Is(err, errFlaky) {
					t.Errorf("notify got %v", err)
				}
				notes = append(notes, note{attempt, next})
			})
		if v != "ok" || err != nil {
			t.Fatalf("DoValue = %q, %v; want ok, nil", v, err)
		}
		if *calls != 4 {
			t.Errorf("op ran %d times, want 4", *calls)
		}
		if d := time.Since(start); d != 30*time.Millisecond {
			t.Errorf("took %v, want 3 delays of 10ms", d)
		}
		want := []note{{1, 10 * time.Millisecond}, {2, 10 * time.Millisecond}, {3, 10 * time.Millisecond}}
		if !slices.Equal(notes, want) {
			t.Errorf("notify saw %v, want %v", notes, want)
		}
	})
}

func TestStops(t *testing.T) {
	tests := []struct {
		name      string
		policy    func() backoff.BackOff
		op        func(context.Context) (string, error)
		wantCalls int
		wantErr   string
	}{
		{
			name:      "WithMaxRetries(n) makes n+1 attempts and returns the last error",
			policy:    func() backoff.BackOff { return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 2) },
			wantCalls: 3,
			wantErr:   "attempt 3: flaky",
		},
		{
			name:   "Permanent stops at once and returns the error inside",
			policy: fewRetries,
			op: func(context.Context) (string, error) {
				return "", retry.Permanent(errors.New("bad request"))
			},
			wantCalls: 1,
			wantErr:   "bad request",
		},
		{
			name:   "backoff/v4's Permanent stops at once and returns the error inside",
			policy: fewRetries,
			op: func(context.Context) (string, error) {
				return "", backoff.Permanent(errors.New("bad request"))
			},
			wantCalls: 1,
			wantErr:   "bad request",
		},
		{
			name:   "a wrapped Permanent stops too",
			policy: fewRetries,
			op: func(context.Context) (string, error) {
				return "", fmt.Errorf("fetch: %w", retry.Permanent(errors.New("bad request")))
			},
			wantCalls: 1,
			wantErr:   "bad request",
		},
		{
			name:   "a wrapped backoff/v4 Permanent stops too",
			policy: fewRetries,
			op: func(context.Context) (string, error) {
				return "", fmt.Errorf("fetch: %w", backoff.Permanent(errors.New("bad request")))
			},
			wantCalls: 1,
			wantErr:   "bad request",
		},
		{
			name:   "a Permanent in errors.Join stops too",
			policy: fewRetries,
			op: func(context.Context) (string, error) {
				return "", errors.Join(errors.New("first"), retry.Permanent(errors.New("bad request")))
			},
			wantCalls: 1,
			wantErr:   "bad request",
		},
		{
			name:      "Stop from a policy of our own stops",
			policy:    func() backoff.BackOff { return &retriesThenStop{n: 2, d: time.Millisecond} },
			wantCalls: 3,
			wantErr:   "attempt 3: flaky",
		},
		{
			name:      "a factory returning a nil pointer runs once",
			policy:    func() backoff.BackOff { return (*backoff.ExponentialBackOff)(nil) },
			wantCalls: 1,
			wantErr:   "attempt 1: flaky",
		},
		{
			name:      "no policy runs once",
			policy:    nil,
			wantCalls: 1,
			wantErr:   "attempt 1: flaky",
		},
		{
			name:      "a factory returning nil runs once",
			policy:    func() backoff.BackOff { return nil },
			wantCalls: 1,
			wantErr:   "attempt 1: flaky",
		},
		{
			name:      "StopBackOff runs once",
			policy:    func() backoff.BackOff { return &backoff.StopBackOff{} },
			wantCalls: 1,
			wantErr:   "attempt 1: flaky",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				op, calls := failing(100)
				if tt.op != nil {
					inner := tt.op
					op = func(ctx context.Context) (string, error) { *calls++; return inner(ctx) }
				}
				_, err := retry.DoValue(context.Background(), tt.policy, op)
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				if *calls != tt.wantCalls {
					t.Errorf("op ran %d times, want %d", *calls, tt.wantCalls)
				}
			})
		})
	}
}

// retriesThenStop allows n retries after d each, then returns retry.Stop.
type retriesThenStop struct {
	n, left int
	d       time.Duration
}

func (b *retriesThenStop) Reset() { b.left = b.n }
func (b *retriesThenStop) NextBackOff() time.Duration {
	if b.left == 0 {
		return retry.Stop
	}
	b.left--
	return b.d
}

// inBubble runs f as subtest name, in a synctest bubble.
func inBubble(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	t.Run(name, func(t *testing.T) { synctest.Test(t, f) })
}

func TestPolicyTypes(t *testing.T) {
	ctx := context.Background()
	inBubble(t, "a concrete backoff/v4 policy", func(t *testing.T) {
		op, calls := failing(2)
		v, err := retry.DoValue(ctx, func() *backoff.ConstantBackOff { return backoff.NewConstantBackOff(time.Millisecond) }, op)
		if v != "ok" || err != nil || *calls != 3 {
			t.Errorf("DoValue = %q, %v after %d calls; want ok, nil after 3", v, err, *calls)
		}
	})
	inBubble(t, "a policy of our own", func(t *testing.T) {
		op, calls := failing(100)
		_, err := retry.DoValue(ctx, func() *retriesThenStop { return &retriesThenStop{n: 1} }, op)
		if err == nil || err.Error() != "attempt 2: flaky" || *calls != 2 {
			t.Errorf("DoValue = %v after %d calls; want attempt 2's error after 2", err, *calls)
		}
	})
	inBubble(t, "retry.BackOff itself", func(t *testing.T) {
		op, calls := failing(1)
		_, err := retry.DoValue(ctx, func() retry.BackOff { return &retriesThenStop{n: 5} }, op)
		if err != nil || *calls != 2 {
			t.Errorf("DoValue = %v after %d calls; want nil after 2", err, *calls)
		}
	})
	inBubble(t, "a nil pointer of a concrete type runs once", func(t *testing.T) {
		op, calls := failing(100)
		_, err := retry.DoValue(ctx, func() *backoff.ExponentialBackOff { return nil }, op)
		if err == nil || *calls != 1 {
			t.Errorf("DoValue = %v after %d calls; want the first error after 1", err, *calls)
		}
	})
	inBubble(t, "a typed nil factory runs once", func(t *testing.T) {
		var f func() backoff.BackOff
		calls := 0
		err := retry.Do(ctx, f, func(context.Context) error { calls++; return errFlaky })
		if err != errFlaky || calls != 1 {
			t.Errorf("Do = %v after %d calls; want errFlaky after 1", err, calls)
		}
	})
	inBubble(t, "a negative delay counts as 0", func(t *testing.T) {
		op, calls := failing(2)
		start := time.Now()
		var delays []time.Duration
		_, err := retry.DoValue(ctx, constant(-5*time.Second), op, func(_ int, _ error, next time.Duration) {
			delays = append(delays, next)
		})
		if err != nil || *calls != 3 || time.Since(start) != 0 || !slices.Equal(delays, []time.Duration{0, 0}) {
			t.Errorf("DoValue = %v after %d calls, %v, delays %v; want nil after 3, no wait, delays 0",
				err, *calls, time.Since(start), delays)
		}
	})
}

func TestPermanent(t *testing.T) {
	inner := errors.New("bad request")
	err := fmt.Errorf("fetch: %w", retry.Permanent(inner))
	var pe *retry.PermanentError
	if !errors.As(err, &pe) || pe.Err != inner {
		t.Fatalf("errors.As(%v) = %v; want the PermanentError holding inner", err, pe)
	}
	if !errors.Is(err, inner) || err.Error() != "fetch: bad request" {
		t.Errorf("a Permanent error unwraps to %v and reads %q; want inner, \"fetch: bad request\"", inner, err)
	}
	if retry.Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	var r retry.Retrier
	empty := &retry.PermanentError{}
	if _, again, final := r.Next(empty); again || final != empty || empty.Error() == "" {
		t.Errorf("a PermanentError with no Err: again=%v final=%v; want no retry, the error itself", again, final)
	}
}

func TestNotifySeesEveryRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		op, calls := failing(100)
		var first, second []int
		_, err := retry.DoValue(context.Background(), func() backoff.BackOff {
			return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 3)
		}, op,
			func(attempt int, err error, _ time.Duration) {
				if want := fmt.Sprintf("attempt %d: flaky", attempt); err.Error() != want {
					t.Errorf("notify got %v for retry %d, want %q", err, attempt, want)
				}
				first = append(first, attempt)
			},
			func(attempt int, _ error, _ time.Duration) { second = append(second, attempt) })
		if err == nil || *calls != 4 {
			t.Fatalf("DoValue = %v after %d calls; want an error after 4", err, *calls)
		}
		want := []int{1, 2, 3}
		if !slices.Equal(first, want) || !slices.Equal(second, want) {
			t.Errorf("notifies saw %v and %v, want %v each", first, second, want)
		}
	})
}

func TestRetrierStopsForGood(t *testing.T) {
	t.Run("after Stop", func(t *testing.T) {
		built := 0
		r := retry.New(context.Background(), func() backoff.BackOff {
			built++
			return &retriesThenStop{n: 1}
		})
		if _, again, _ := r.Next(errFlaky); !again {
			t.Fatal("first failure: no retry, want one")
		}
		if _, again, final := r.Next(errFlaky); again || final != errFlaky {
			t.Fatalf("second failure: again=%v final=%v; want Stop", again, final)
		}
		for range 2 {
			if _, again, final := r.Next(errFlaky); again || final != errFlaky {
				t.Errorf("after Stop: again=%v final=%v; want no retry", again, final)
			}
		}
		if built != 1 || r.Retries() != 1 {
			t.Errorf("built %d policies, allowed %d retries; want 1, 1", built, r.Retries())
		}
	})
	t.Run("after ctx is done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		r := retry.New(ctx, constant(time.Millisecond))
		if _, again, _ := r.Next(errFlaky); !again {
			t.Fatal("first failure: no retry, want one")
		}
		cancel()
		if _, again, final := r.Next(errFlaky); again || final != errFlaky {
			t.Errorf("after cancel: again=%v final=%v; want no retry, the error", again, final)
		}
	})
	t.Run("a nil ctx never ends", func(t *testing.T) {
		//lint:ignore SA1012 a nil context is documented to never end
		r := retry.New(nil, constant(time.Millisecond))
		if _, again, _ := r.Next(errFlaky); !again {
			t.Error("nil ctx: no retry, want one")
		}
	})
}

func TestCancelDuringDelayReturnsLastErrorAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		op, calls := failing(100)
		time.AfterFunc(15*time.Millisecond, cancel) // during the second delay
		start := time.Now()
		_, err := retry.DoValue(ctx, constant(10*time.Millisecond), op)
		if d := time.Since(start); d != 15*time.Millisecond {
			t.Errorf("returned after %v, want at the cancel (15ms)", d)
		}
		if err == nil || err.Error() != "attempt 2: flaky" {
			t.Errorf("err = %v, want the last attempt's error", err)
		}
		if *calls != 2 {
			t.Errorf("op ran %d times, want 2", *calls)
		}
	})
}

func TestFactoryCalledOncePerOperation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		built := 0
		policy := func() backoff.BackOff {
			built++
			return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 5)
		}
		for range 3 {
			op, _ := failing(2)
			if _, err := retry.DoValue(context.Background(), policy, op); err != nil {
				t.Fatal(err)
			}
		}
		if built != 3 {
			t.Errorf("factory called %d times for 3 operations, want 3", built)
		}
		op, _ := failing(0)
		_, _ = retry.DoValue(context.Background(), policy, op)
		if built != 3 {
			t.Error("factory called for an operation that never failed")
		}
	})
}

func TestBadInput(t *testing.T) {
	ran := false
	op := func(context.Context) error { ran = true; return nil }
	var none func() backoff.BackOff
	//lint:ignore SA1012 a nil context is the bad input under test
	if err := retry.Do(nil, none, op); !errors.Is(err, retry.ErrNilContext) {
		t.Errorf("Do(nil ctx) = %v, want ErrNilContext", err)
	}
	if err := retry.Do(context.Background(), none, nil); !errors.Is(err, retry.ErrNilOperation) {
		t.Errorf("Do(nil op) = %v, want ErrNilOperation", err)
	}
	if _, err := retry.DoValue[string](context.Background(), none, nil); !errors.Is(err, retry.ErrNilOperation) {
		t.Errorf("DoValue(nil op) = %v, want ErrNilOperation", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := retry.Do(ctx, none, op); !errors.Is(err, context.Canceled) {
		t.Errorf("Do(done ctx) = %v, want context.Canceled", err)
	}
	if ran {
		t.Error("op ran despite bad input or a done ctx")
	}
}

func TestZeroRetrierNeverRetries(t *testing.T) {
	var r retry.Retrier
	if _, again, final := r.Next(errFlaky); again || final != errFlaky {
		t.Errorf("zero Retrier: again=%v final=%v", again, final)
	}
	if _, again, final := r.Next(nil); again || final != nil {
		t.Errorf("zero Retrier on success: again=%v final=%v", again, final)
	}
}

func ExampleDo() {
	attempts := 0
	err := retry.Do(context.Background(), func() backoff.BackOff {
		return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 3)
	}, func(ctx context.Context) error {
		attempts++
		if attempts < 3 {
			return errors.New("connection refused")
		}
		return nil
	}, func(attempt int, err error, next time.Duration) {
		fmt.Printf("retry %d after %v: %v\n", attempt, next, err)
	})
	fmt.Println("attempts:", attempts, "err:", err)
	// Output:
	// retry 1 after 1ms: connection refused
	// retry 2 after 1ms: connection refused
	// attempts: 3 err: <nil>
}

func ExamplePermanent() {
	attempts := 0
	_, err := retry.DoValue(context.Background(), func() backoff.BackOff {
		return backoff.NewConstantBackOff(time.Millisecond)
	}, func(ctx context.Context) (string, error) {
		attempts++
		return "", retry.Permanent(errors.New("404 not found")) // retrying cannot help
	})
	var pe *retry.PermanentError
	fmt.Println("attempts:", attempts, "err:", err, "permanent:", errors.As(err, &pe))
	// Output:
	// attempts: 1 err: 404 not found permanent: false
}
