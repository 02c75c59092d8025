// Package retry runs an operation again after failures, on a BackOff
// policy. It is what ants.WithRetry uses inside a Group, and it works on its
// own:
//
//	body, err := retry.DoValue(ctx, func() backoff.BackOff {
//		return backoff.WithMaxRetries(backoff.NewExponentialBackOff(), 3)
//	}, fetch)
//
// BackOff is this package's interface, and the policies of
// github.com/cenkalti/backoff v4 and v5 satisfy it: Do, DoValue and New are
// generic over the policy type, so a factory may return backoff.BackOff
// (either version), a concrete policy such as *backoff.ExponentialBackOff,
// or any type of your own with the two methods.
//
// Retries stop when the operation succeeds, when it returns an error made
// by Permanent (or by backoff/v4's backoff.Permanent; the error inside is
// returned), when the policy returns Stop, or when ctx is done. The error
// returned is the last attempt's: a cancelled retry loop does not hide why
// it was retrying.
//
// Policies are built by a factory, once per operation and only once it has
// failed, because BackOff values are stateful and not safe for concurrent
// use; each policy is Reset once, when it is built, before its first
// NextBackOff (backoff/v5's ExponentialBackOff needs that). A nil factory, or a factory that returns a nil policy (a nil
// interface, or a nil pointer or other nil value of the policy type), means
// no retries: the operation runs once. The factory must be a typed nil to
// mean that: an untyped nil, as in Do(ctx, nil, op), leaves the policy type
// unknown and does not compile.
//
// Pitfalls worth knowing:
//   - backoff.WithMaxRetries(b, n) (v4) allows n retries, so n+1 attempts.
//   - backoff/v4's NewExponentialBackOff stops (returns Stop) after
//     MaxElapsedTime, 15 minutes by default, counted from the first failure
//     here; set it to 0 to retry without a time limit.
//   - backoff/v5's policies never stop on their own, except StopBackOff: v5
//     moved the limits on tries and elapsed time (WithMaxTries,
//     WithMaxElapsedTime) into its own Retry function, which this package
//     does not use. Bound a v5 policy with a ctx deadline or a policy of your
//     own that returns Stop.
//   - backoff/v5's Permanent is not recognised: its error is retried like any
//     other. Return Permanent from this package.
//   - The exponential policies (v4 and v5) randomize their delays by ±50%
//     (RandomizationFactor) and start at 500ms (InitialInterval).
package retry

import (
	"context"
	"errors"
	"reflect"
	"time"

	backoffv4 "github.com/cenkalti/backoff/v4"
)

var (
	// ErrNilContext is returned by Do and DoValue for a nil context.
	ErrNilContext = errors.New("retry: nil context")
	// ErrNilOperation is returned by Do and DoValue for a nil operation.
	ErrNilOperation = errors.New("retry: nil operation")
)

// BackOff is a retry policy: NextBackOff returns the delay before the next
// retry, or Stop for none, and Reset returns the policy to its initial
// state. The policies of github.com/cenkalti/backoff v4 and v5 satisfy it.
// A BackOff need not be safe for concurrent use: this package builds one
// per operation and calls it from one goroutine at a time.
type BackOff interface {
	NextBackOff() time.Duration
	Reset()
}

// Stop is what a policy's NextBackOff returns when no more retries should
// be made. It equals backoff.Stop of backoff v4 and v5, so a policy from
// either stops here too.
const Stop time.Duration = -1

// Notify is told of every retry before its delay: attempt counts the
// retries (1 for the first), err is the error of the attempt that failed,
// and next is the delay before the retry.
type Notify func(attempt int, err error, next time.Duration)

// PermanentError marks an error that retrying cannot fix; see Permanent.
// Err is the operation's error. A PermanentError with a nil Err stops
// retrying too, and is then itself the operation's error.
type PermanentError struct {
	Err error
}

// Error returns Err's message.
func (e *PermanentError) Error() string {
	if e.Err == nil {
		return "retry: permanent error"
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err in a *PermanentError, so that retrying stops at once
// and the operation's error is err. It is found with errors.As, so a
// Permanent error wrapped further (fmt.Errorf with %w, errors.Join) stops
// retrying too. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// permanent reports whether err says not to retry, made by Permanent or by
// backoff/v4's Permanent, and if so the operation's error: the one inside,
// or err itself if there is none.
func permanent(err error) (inner error, ok bool) {
	var ours *PermanentError
	if errors.As(err, &ours) {
		inner = ours.Err
	} else {
		var v4 *backoffv4.PermanentError
		if !errors.As(err, &v4) {
			return nil, false
		}
		inner = v4.Err
	}
	if inner == nil {
		inner = err
	}
	return inner, true
}

// Retrier decides, after each attempt of one operation, whether to try
// again and after what delay. It builds its policy from the factory at the
// first failure. A Retrier serves one operation: once Next has said not to
// retry, it never retries again. It is not safe for concurrent use, and it
// may be copied only before its first Next. The zero Retrier never
// retries.
type Retrier struct {
	ctx        context.Context
	newBackOff func() BackOff // nil: no retries
	b          BackOff        // built at the first failure
	retries    int
	done       bool // Next has said not to retry
}

// New returns a Retrier whose policy comes from newBackOff and ends with
// ctx: once ctx is done, Next does not retry. A nil ctx never ends. A nil
// newBackOff (typed: an untyped nil does not compile), or a factory that
// returns a nil policy, means no retries. New does not call newBackOff;
// Next calls it at most once, at the first failure.
func New[B BackOff](ctx context.Context, newBackOff func() B) Retrier {
	r := Retrier{ctx: ctx}
	if newBackOff == nil {
		return r
	}
	if f, ok := any(newBackOff).(func() BackOff); ok { // B is BackOff: no wrapper needed
		r.newBackOff = f
	} else {
		r.newBackOff = func() BackOff { return newBackOff() }
	}
	return r
}

// Next takes the error of the attempt that just returned. It reports
// again = true and the delay to wait if the operation should run again;
// a negative delay from the policy, other than Stop, counts as 0.
// Otherwise final is the operation's outcome: nil on success, the error
// inside a Permanent error (or a backoff/v4 one), or err itself when the
// policy returns Stop, there is no policy, ctx is done, or Next has said
// not to retry before. Next does not block.
func (r *Retrier) Next(err error) (delay time.Duration, again bool, final error) {
	if err == nil {
		r.done = true
		return 0, false, nil
	}
	if inner, ok := permanent(err); ok {
		r.done = true
		return 0, false, inner
	}
	if r.done || r.newBackOff == nil || (r.ctx != nil && r.ctx.Err() != nil) {
		r.done = true
		return 0, false, err
	}
	if r.b == nil {
		b := r.newBackOff()
		if isNil(b) {
			r.done = true
			return 0, false, err
		}
		b.Reset()
		r.b = b
	}
	delay = r.b.NextBackOff()
	if delay == Stop {
		r.done = true
		return 0, false, err
	}
	r.retries++
	return max(delay, 0), true, err
}

// Retries returns how many retries Next has allowed so far.
func (r *Retrier) Retries() int { return r.retries }

// isNil reports whether b is a nil interface or holds a nil pointer, map,
// slice, func or channel: a policy whose methods would most likely panic,
// taken to mean no retries.
func isNil(b BackOff) bool {
	if b == nil {
		return true
	}
	switch v := reflect.ValueOf(b); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return v.IsNil()
	}
	return false
}

// Do runs op until it succeeds or retrying stops (see the package doc),
// waiting between attempts as the policy from newBackOff says, and returns
// nil or the last attempt's error (the error inside it, for a Permanent
// error). Each notify is told of every retry, before its delay, on the
// caller's goroutine.
//
// Do blocks until it returns; op is called on the caller's goroutine and
// is handed ctx. The wait between attempts ends early when ctx is done:
// Do then returns the last attempt's error at once, without another
// attempt. If ctx is done before the first attempt, op does not run and
// Do returns ctx.Err(). A nil ctx returns ErrNilContext, a nil op
// ErrNilOperation. newBackOff is called once, at the first failure; a nil
// newBackOff (typed: an untyped nil does not compile), or a nil policy,
// runs op once.
func Do[B BackOff](ctx context.Context, newBackOff func() B, op func(context.Context) error, notify ...Notify) error {
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
// error. Its type parameters are the value's type first, so
// DoValue[string](ctx, newBackOff, op) names T and infers the policy type.
func DoValue[T any, B BackOff](ctx context.Context, newBackOff func() B, op func(context.Context) (T, error), notify ...Notify) (T, error) {
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
