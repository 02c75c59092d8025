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
			policy: constant(time.Millisecond),
			op: func(context.Context) (string, error) {
				return "", backoff.Permanent(errors.New("bad request"))
			},
			wantCalls: 1,
			wantErr:   "bad request",
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
