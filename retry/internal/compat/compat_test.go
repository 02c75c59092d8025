package compat_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	backoffv4 "github.com/cenkalti/backoff/v4"
	backoffv5 "github.com/cenkalti/backoff/v5"
	"go.uber.org/goleak"

	"github.com/antspool/ants"
	"github.com/antspool/ants/retry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Both versions' BackOff interfaces are ours.
var (
	_ retry.BackOff     = backoffv4.BackOff(nil)
	_ retry.BackOff     = backoffv5.BackOff(nil)
	_ backoffv5.BackOff = retry.BackOff(nil)
)

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

// run calls DoValue with newBackOff on an op that fails twice, and checks
// that it succeeds on the third attempt after two notified retries.
func run[B retry.BackOff](t *testing.T, newBackOff func() B) {
	t.Helper()
	op, calls := failing(2)
	notified := 0
	v, err := retry.DoValue(context.Background(), newBackOff, op, func(int, error, time.Duration) { notified++ })
	if v != "ok" || err != nil || *calls != 3 || notified != 2 {
		t.Errorf("DoValue = %q, %v after %d calls and %d notes; want ok, nil after 3 and 2", v, err, *calls, notified)
	}
}

func TestStopIsBackoffsStop(t *testing.T) {
	for v, stop := range []time.Duration{4: backoffv4.Stop, 5: backoffv5.Stop} {
		if v >= 4 && stop != retry.Stop {
			t.Errorf("retry.Stop = %v, backoff/v%d's Stop = %v", retry.Stop, v, stop)
		}
	}
}

func TestPolicies(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"v4 interface", func(t *testing.T) {
			run(t, func() backoffv4.BackOff {
				return backoffv4.WithMaxRetries(backoffv4.NewExponentialBackOff(), 3)
			})
		}},
		{"v4 concrete", func(t *testing.T) {
			run(t, func() *backoffv4.ExponentialBackOff { return backoffv4.NewExponentialBackOff() })
		}},
		{"v5 interface", func(t *testing.T) {
			run(t, func() backoffv5.BackOff { return backoffv5.NewConstantBackOff(time.Millisecond) })
		}},
		{"v5 concrete", func(t *testing.T) {
			run(t, func() *backoffv5.ExponentialBackOff { return backoffv5.NewExponentialBackOff() })
		}},
		{"v5 zero", func(t *testing.T) {
			run(t, func() *backoffv5.ZeroBackOff { return &backoffv5.ZeroBackOff{} })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { synctest.Test(t, tt.run) })
	}
}

func TestDoAndRetrier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		v5 := func() *backoffv5.ConstantBackOff { return backoffv5.NewConstantBackOff(time.Millisecond) }
		calls := 0
		if err := retry.Do(ctx, v5, func(context.Context) error {
			calls++
			if calls < 3 {
				return errFlaky
			}
			return nil
		}); err != nil || calls != 3 {
			t.Errorf("Do with a v5 policy = %v after %d calls; want nil after 3", err, calls)
		}
		op, _ := failing(1)
		if v, err := retry.DoValue[string](ctx, v5, op); v != "ok" || err != nil {
			t.Errorf("DoValue[string] with a v5 policy = %q, %v; want ok, nil", v, err)
		}
		r := retry.New(ctx, v5)
		if d, again, _ := r.Next(errFlaky); !again || d != time.Millisecond {
			t.Errorf("Retrier with a v5 policy: again=%v delay=%v; want a retry after 1ms", again, d)
		}
		r = retry.New(ctx, func() backoffv4.BackOff { return &backoffv4.StopBackOff{} })
		if _, again, final := r.Next(errFlaky); again || final != errFlaky {
			t.Errorf("Retrier with v4's StopBackOff: again=%v final=%v; want no retry", again, final)
		}
	})
}

func TestStopsAndPermanent(t *testing.T) {
	v5 := func() backoffv5.BackOff { return backoffv5.NewConstantBackOff(time.Millisecond) }
	tests := []struct {
		name      string
		policy    func() backoffv5.BackOff
		err       func(attempt int) error
		wantCalls int
		wantErr   string
	}{
		{"v5 StopBackOff runs once", func() backoffv5.BackOff { return &backoffv5.StopBackOff{} },
			func(int) error { return errFlaky }, 1, "flaky"},
		{"a nil v5 pointer runs once", func() backoffv5.BackOff { return (*backoffv5.ExponentialBackOff)(nil) },
			func(int) error { return errFlaky }, 1, "flaky"},
		{"retry.Permanent stops", v5,
			func(int) error { return retry.Permanent(errors.New("bad")) }, 1, "bad"},
		{"v4's Permanent stops", v5,
			func(int) error { return backoffv4.Permanent(errors.New("bad")) }, 1, "bad"},
		{"v5's Permanent is retried like any error", v5,
			func(n int) error {
				if n < 3 {
					return backoffv5.Permanent(fmt.Errorf("attempt %d", n))
				}
				return retry.Permanent(errors.New("bad"))
			}, 3, "bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				err := retry.Do(context.Background(), tt.policy, func(context.Context) error {
					calls++
					return tt.err(calls)
				})
				if err == nil || err.Error() != tt.wantErr || calls != tt.wantCalls {
					t.Errorf("Do = %v after %d calls; want %q after %d", err, calls, tt.wantErr, tt.wantCalls)
				}
			})
		})
	}
	t.Run("a nil v5 pointer from a concrete factory runs once", func(t *testing.T) {
		calls := 0
		err := retry.Do(context.Background(), func() *backoffv5.ExponentialBackOff { return nil },
			func(context.Context) error { calls++; return errFlaky })
		if err != errFlaky || calls != 1 {
			t.Errorf("Do = %v after %d calls; want errFlaky after 1", err, calls)
		}
	})
}

// ants.WithRetry takes a factory of either version's policies, and of
// ours, unchanged; a typed nil factory means no retries.
func TestGroupWithRetry(t *testing.T) {
	fast := func() *backoffv5.ExponentialBackOff {
		return &backoffv5.ExponentialBackOff{InitialInterval: time.Millisecond, Multiplier: 1, MaxInterval: time.Millisecond}
	}
	var noFactory func() backoffv4.BackOff
	cases := []struct {
		name  string
		opt   ants.GroupOption
		calls int
	}{
		{"v4", ants.WithRetry(func() backoffv4.BackOff { return backoffv4.NewConstantBackOff(time.Millisecond) }), 3},
		{"v4-concrete", ants.WithRetry(func() *backoffv4.ConstantBackOff { return backoffv4.NewConstantBackOff(time.Millisecond) }), 3},
		{"v5", ants.WithRetry(fast), 3},
		{"v5-interface", ants.WithRetry(func() backoffv5.BackOff { return fast() }), 3},
		{"retry", ants.WithRetry(func() retry.BackOff { return fast() }), 3},
		{"typed-nil", ants.WithRetry(noFactory), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p, err := ants.NewPool(2)
				if err != nil {
					t.Fatal(err)
				}
				op, calls := failing(2)
				g := p.Group(context.Background(), tc.opt)
				g.Go(func(ctx context.Context) error { _, err := op(ctx); return err })
				err = g.Wait()
				if *calls != tc.calls {
					t.Errorf("calls = %d, want %d", *calls, tc.calls)
				}
				if (err == nil) != (tc.calls == 3) {
					t.Errorf("Wait = %v after %d calls", err, *calls)
				}
				if err := p.ReleaseContext(context.Background()); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}
