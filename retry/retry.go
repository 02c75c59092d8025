// Package retry runs an operation again after failures, on a policy from
// github.com/cenkalti/backoff/v4. It is what ants.WithRetry uses inside a
// Group, and it works on its own:
//
//	body, err := retry.DoValue(ctx, func() backoff.BackOff {
//		return backoff.WithMaxRetries(backoff.NewExponentialBackOff(), 3)
//	}, fetch)
//
// Retries stop when the operation succeeds, when it returns an error wrapped
// with backoff.Permanent (the error inside is returned), when the policy
// returns backoff.Stop, or when ctx is done. The error returned is the last
// attempt's: a cancelled retry loop does not hide why it was retrying.
//
// Policies are built by a factory, once per operation, because BackOff
// values are stateful and not safe for concurrent use. Pitfalls of
// backoff/v4 worth knowing:
//   - backoff.WithMaxRetries(b, n) allows n retries, so n+1 attempts.
//   - backoff.NewExponentialBackOff stops (returns Stop) after MaxElapsedTime,
//     15 minutes by default, counted from the first failure here; set it to
//     0 to retry without a time limit.
//   - Its delays are randomized by ±50% (RandomizationFactor) and start at
//     500ms (InitialInterval).
package retry

import (
	"context"
	"errors"
	"time"

	"github.com/cenkalti/backoff/v4"
)

var (
	// ErrNilContext is returned by Do and DoValue for a nil context.
	ErrNilContext = errors.New("retry: nil context")
	// ErrNilOperation is returned by Do and DoValue for a nil operation.
	ErrNilOperation = errors.New("retry: nil operation")
)

// Notify is told of every retry before its delay: attempt counts the
// retries (1 for the first), err is the error of the attempt that failed,
// and next is the delay before the retry.
type Notify func(attempt int, err error, next time.Duration)

// Retrier decides, after each attempt of one operation, whether to try
// again and after what delay. It builds its BackOff from the factory at the
// first failure. A Retrier serves one operation; it is not safe for
// concurrent use. The zero Retrier never retries.
type Retrier struct {
	ctx        context.Context
	newBackOff func() backoff.BackOff
	b          backoff.BackOff // built at the first failure
	retries    int
}

// New returns a Retrier whose policy comes from newBackOff and ends with
// ctx: once ctx is done, Next does not retry. A nil newBackOff, or a
// factory that returns nil, means no retries.
func New(ctx context.Context, newBackOff func() backoff.BackOff) Retrier {
	return Retrier{ctx: ctx, newBackOff: newBackOff}
}

// Next takes the error of the attempt that just returned. It reports
// again = true and the delay to wait if the operation should run again.
// Otherwise final is the operation's outcome: nil on success, the error
// inside a backoff.Permanent, or err itself when the policy stops, there is
// no policy, or ctx is done.
func (r *Retrier) Next(err error) (delay time.Duration, again bool, final error) {
	if err == nil {
		return 0, false, nil
	}
	var permanent *backoff.PermanentError
	if errors.As(err, &permanent) {
		return 0, false, permanent.Err
	}
	if r.newBackOff == nil || (r.ctx != nil && r.ctx.Err() != nil) {
		return 0, false, err
	}
	if r.b == nil {
		b := r.newBackOff()
		if b == nil {
			r.newBackOff = nil
			return 0, false, err
		}
		b.Reset()
		if r.ctx != nil {
			b = backoff.WithContext(b, r.ctx)
		}
		r.b = b
	}
	delay = r.b.NextBackOff()
	if delay == backoff.Stop {
		return 0, false, err
	}
	r.retries++
	return delay, true, err
}

// Retries returns how many retries Next has allowed so far.
func (r *Retrier) Retries() int { return r.retries }

// Do runs op until it succeeds or retrying stops (see the package doc),
// waiting between attempts as the policy from newBackOff says, and returns
// nil or the last attempt's error. Each notify is told of every retry.
//
// If ctx is done before the first attempt, op does not run and Do returns
// ctx.Err(). A nil ctx returns ErrNilContext, a nil op ErrNilOperation; a
// nil newBackOff runs op once. Do blocks until it returns; op is called on
// the caller's goroutine and is handed ctx.
func Do(ctx context.Context, newBackOff func() backoff.BackOff, op func(context.Context) error, notify ...Notify) error {
	if op == nil {
		return ErrNilOperation
	}
	_, err := DoValue(ctx, newBackOff, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, op(ctx)
	}, notify...)
	return err
}

// DoValue is Do for an operation that returns a value: it returns the
// value of the successful attempt, or else the last attempt's value and
// error.
func DoValue[T any](ctx context.Context, newBackOff func() backoff.BackOff, op func(context.Context) (T, error), notify ...Notify) (T, error) {
	var zero T
	switch {
	case ctx == nil:
		return zero, ErrNilContext
	case op == nil:
		return zero, ErrNilOperation
	}
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	r := New(ctx, newBackOff)
	for {
		v, err := op(ctx)
		delay, again, final := r.Next(err)
		if !again {
			return v, final
		}
		for _, n := range notify {
			n(r.Retries(), err, delay)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
		if ctx.Err() != nil { // the timer and ctx fired together
			return v, err
		}
	}
}
