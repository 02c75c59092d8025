// Package natsjs runs the messages of a NATS JetStream pull consumer on an
// ants pool, so that a job can outgrow one machine without losing work:
// every process runs one Run on the same durable consumer, and the stream
// hands each message to one of them.
//
//	pool, _ := ants.NewPool(64)
//	cons, _ := js.Consumer(ctx, "JOBS", "workers") // one durable, shared by every process
//	err := natsjs.Run(ctx, cons, pool, func(ctx context.Context, msg jetstream.Msg) error {
//		return process(ctx, msg.Data()) // nil: ack; natsjs.Permanent(err): term; else: retry later
//	})
//
// What happens to a message, in every state, and when a process dies:
//
//   - Held by no process (in the stream): the next pull of any process
//     takes it.
//   - Pulled, not yet started (in the client's buffer, at most the
//     in-flight bound): started as a worker frees up; on a graceful stop,
//     handed back (nak'ed, no delay) once this process's pull has ended, so
//     another process takes it; if the process dies, redelivered after
//     AckWait.
//   - Running: its handler's context stays live; InProgress is sent every
//     progress interval (AckWait/2 by default), so a long handler keeps it.
//     If the process dies, it is redelivered after AckWait: its effect may
//     be applied twice. Make handlers idempotent, or dedupe by message id.
//   - Returned nil: acked (WithDoubleAck waits for the server to confirm).
//     Permanent: dead-letter hook, then termed. Another error, a panic, or
//     RetryAfter: nak'ed with a delay, redelivered later, to any process;
//     on the consumer's last delivery (MaxDeliver), dead-letter hook, then
//     termed instead.
//
// Delivery is at least once. Run retries with NakWithDelay only: do not
// give the consumer a BackOff list (it replaces AckWait and stretches every
// delay; Run refuses such a consumer). Set MaxAckPending for every process
// together (it is shared, and counts messages waiting out a retry delay):
// at least processes × in-flight bound, plus room for retries.
package natsjs

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/antspool/ants"
	"github.com/antspool/ants/retry"
)

// Handler processes one message. It returns nil when the work is done (the
// message is acked), an error wrapped by Permanent (or retry.Permanent,
// the same) when it never will be (termed), or another error to have it
// retried later (nak'ed with a delay; RetryAfter chooses the delay). ctx is
// live until the drain deadline after Run's context ends; a handler that
// outlives it should return, and its message is redelivered.
type Handler func(ctx context.Context, msg jetstream.Msg) error

var (
	// ErrNilConsumer is Run's error for a nil consumer.
	ErrNilConsumer = errors.New("natsjs: nil consumer")
	// ErrNilHandler is Run's error for a nil handler.
	ErrNilHandler = errors.New("natsjs: nil handler")
	// ErrConsumerBackOff is Run's error for a consumer with a BackOff list:
	// it replaces AckWait and stretches NakWithDelay, so Run, which retries
	// with NakWithDelay (see WithBackOff), does not run on one.
	ErrConsumerBackOff = errors.New("natsjs: the consumer has a BackOff list; Run retries with WithBackOff instead")
)

// Permanent wraps err so that Run terms the message, after the dead-letter
// hook, instead of retrying it. It makes the same error as retry.Permanent
// (a *retry.PermanentError), and Run terms on either, and on backoff/v4's
// Permanent too, as package retry stops on it. Run finds it with errors.As,
// so a wrapped Permanent error counts too. Permanent(nil) is nil.
func Permanent(err error) error { return retry.Permanent(err) }

// retryAfterError asks for a retry after a given delay.
type retryAfterError struct {
	err   error
	delay time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter wraps err so that Run naks the message with delay d
// (NakWithDelay), whatever the backoff policy says; on the consumer's last
// delivery it is dead-lettered and termed like any failure. RetryAfter(nil,
// d) is nil.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err, d}
}

// An Option configures Run.
type Option func(*config)

type config struct {
	inFlight   int                  // messages pulled and not finished at most; <= 0: the default
	newBackOff func() retry.BackOff // retry delay by delivery count; nil: defaultBackOff
	deadLetter func(ctx context.Context, msg jetstream.Msg, err error)
	progress   time.Duration // InProgress interval; <= 0: AckWait/2
	drain      time.Duration // how long running handlers may go on after a stop
	doubleAck  bool
}

// WithInFlight bounds the messages this process holds: pulled and not yet
// finished, running or waiting for a worker; the client's pull buffer is
// sized to it too. n <= 0 means the default: the runner's Cap() when it has
// one (> 0), else 2 × GOMAXPROCS. Back-pressure comes from this count,
// never from the pool's Free().
func WithInFlight(n int) Option { return func(c *config) { c.inFlight = n } }

// WithBackOff sets the retry policy: the delay before the redelivery of a
// message that failed on its k-th delivery is the k-th NextBackOff of a
// fresh policy from newBackOff. retry.Stop (the Stop of backoff v4 and v5),
// or a factory that returns a nil policy, means no retry: dead letter, then
// term. Any retry.BackOff fits, such as func() backoff.BackOff or
// func() *backoff.ExponentialBackOff of backoff v4 or v5. A nil newBackOff
// keeps the default (it must be typed: an untyped nil does not compile):
// exponential from about one second, doubling, each delay under 30
// seconds, randomized by ±20%.
func WithBackOff[B retry.BackOff](newBackOff func() B) Option {
	if newBackOff == nil {
		return func(c *config) { c.newBackOff = nil }
	}
	return func(c *config) { c.newBackOff = func() retry.BackOff { return newBackOff() } }
}

// WithDeadLetter sets the hook told of every message about to be termed:
// one whose handler returned a Permanent error, or that failed on the
// consumer's last delivery (MaxDeliver), or whose retry policy said Stop.
// It is called on the worker, with the handler's context, the message and
// the error, before the Term; it should be quick (publish the message to a
// dead-letter subject, log it). Without one, such messages are termed.
func WithDeadLetter(hook func(ctx context.Context, msg jetstream.Msg, err error)) Option {
	return func(c *config) { c.deadLetter = hook }
}

// WithProgressInterval sets how often a running handler's message is
// marked InProgress, so the server does not redeliver it while it runs. d
// <= 0 means the default, half the consumer's AckWait.
func WithProgressInterval(d time.Duration) Option { return func(c *config) { c.progress = d } }

// WithDrainTimeout sets how long, after Run's context ends, running
// handlers may go on before their contexts are cancelled: default 10s; d
// <= 0 cancels them at once.
func WithDrainTimeout(d time.Duration) Option { return func(c *config) { c.drain = d } }

// WithDoubleAck makes Run ack with DoubleAck, which waits for the server
// to confirm the ack (a plain Ack returning nil only means it was queued).
// It costs a round trip per message.
func WithDoubleAck() Option { return func(c *config) { c.doubleAck = true } }

// defaultBackOff is the default retry policy; see WithBackOff.
func defaultBackOff() retry.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = time.Second
	b.Multiplier = 2
	b.RandomizationFactor = 0.2
	b.MaxInterval = 24 * time.Second // 28.8s at most, randomized
	b.MaxElapsedTime = 0
	return b
}

// Run pulls messages from cons and runs h on each, on r's workers, until
// ctx ends; see the package doc for what happens to each message. It
// blocks until it has stopped:
//
//  1. it stops pulling, and hands back (naks, without delay) the messages
//     pulled and not started, once its pull request has ended;
//  2. it lets running handlers finish until the drain deadline
//     (WithDrainTimeout), then cancels their contexts, waits a moment (a
//     second) for them, and naks the messages of those still running (a
//     handler that ignores its context goes on running on the pool after
//     Run returns; whatever it returns then is ignored);
//  3. it returns nil. It closes neither the pool nor the connection.
//
// If the connection closes, the consumer is deleted, or r refuses a task
// (a released pool), Run stops the same way, without waiting for the drain
// deadline, and returns that error. A nil ctx, cons, r or h is an error
// (ants.ErrNilContext, ErrNilConsumer, ants.ErrNilRunner, ErrNilHandler),
// and so is a consumer with a BackOff list (ErrConsumerBackOff).
func Run(ctx context.Context, cons jetstream.Consumer, r ants.Runner, h Handler, opts ...Option) error {
	switch {
	case ctx == nil:
		return ants.ErrNilContext
	case cons == nil:
		return ErrNilConsumer
	case r == nil || isNilPointer(r):
		return ants.ErrNilRunner
	case h == nil:
		return ErrNilHandler
	}
	cfg := config{drain: 10 * time.Second}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	info := cons.CachedInfo()
	if info == nil {
		var err error
		if info, err = cons.Info(ctx); err != nil {
			return fmt.Errorf("natsjs: consumer info: %w", err)
		}
	}
	if len(info.Config.BackOff) > 0 {
		return ErrConsumerBackOff
	}
	s := &session{cfg: cfg, handler: h, runner: r, maxDeliver: info.Config.MaxDeliver}
	if s.cfg.newBackOff == nil {
		s.cfg.newBackOff = defaultBackOff
	}
	if s.cfg.progress <= 0 {
		ackWait := info.Config.AckWait
		if ackWait <= 0 {
			ackWait = 30 * time.Second // the server's default
		}
		s.cfg.progress = ackWait / 2
	}
	n := s.cfg.inFlight
	if n <= 0 {
		n = 2 * runtime.GOMAXPROCS(0)
		if c, ok := r.(interface{ Cap() int }); ok && c.Cap() > 0 {
			n = c.Cap()
		}
	}
	iter, err := cons.Messages(jetstream.PullMaxMessages(n))
	if err != nil {
		return fmt.Errorf("natsjs: %w", err)
	}
	s.hctx, s.cancelHandlers = context.WithCancel(context.WithoutCancel(ctx))
	defer s.cancelHandlers()
	s.slots = make(chan struct{}, n)
	s.running = make(map[*job]struct{})
	stopProgress := s.startProgress()
	defer stopProgress()

	back, runErr := s.pull(ctx, iter)
	return s.stop(iter, back, runErr)
}

// session is one Run.
type session struct {
	cfg        config
	handler    Handler
	runner     ants.Runner
	maxDeliver int

	hctx           context.Context // the handlers': live until the drain deadline after a stop
	cancelHandlers context.CancelFunc
	slots          chan struct{} // one per message pulled and not finished (the in-flight bound)
	wg             sync.WaitGroup

	mu      sync.Mutex        // guards running
	running map[*job]struct{} // handlers running, for InProgress and the final nak
}

// job is one message in this process's hands.
type job struct {
	msg      jetstream.Msg
	settled  atomic.Bool // acked, nak'ed or termed: by the handler's end, or by Run's final nak
	progress time.Time   // the last InProgress (or the start); guarded by session.mu
}

// pull is Run's loop: a slot, then a message, then a worker for it. It
// returns when ctx ends (err nil), or with the error that stops it, and
// the message it pulled and could not start, if any, to hand back.
func (s *session) pull(ctx context.Context, iter jetstream.MessagesContext) (back []jetstream.Msg, err error) {
	for {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, nil
		}
		msg, err := iter.Next(jetstream.NextContext(ctx))
		if err != nil {
			<-s.slots
			switch {
			case ctx.Err() != nil:
				return nil, nil
			case errors.Is(err, jetstream.ErrNoHeartbeat):
				continue // the iterator goes on pulling
			}
			return nil, fmt.Errorf("natsjs: %w", err)
		}
		j := &job{msg: msg}
		s.wg.Add(1)
		if err := s.runner.SubmitCtx(ctx, func(context.Context) { s.process(j) }); err != nil {
			s.wg.Done()
			<-s.slots
			if ctx.Err() != nil {
				return []jetstream.Msg{msg}, nil
			}
			return []jetstream.Msg{msg}, fmt.Errorf("natsjs: %w", err)
		}
	}
}

// stop ends Run: it stops pulling and hands back what it pulled and did not
// start, lets the running handlers finish until the drain deadline (at
// once if runErr, the reason Run stops, is not nil), cancels them, and naks
// what is left. It returns runErr.
func (s *session) stop(iter jetstream.MessagesContext, back []jetstream.Msg, runErr error) error {
	iter.Drain()
	for {
		// After Drain, Next gives what was buffered, then says closed; a
		// bound keeps a server that never confirms the drain from holding
		// Run for ever.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		msg, err := iter.Next(jetstream.NextContext(ctx))
		cancel()
		if err != nil {
			break
		}
		back = append(back, msg)
	}
	for _, msg := range back { // the pull has ended: these go to other processes
		_ = msg.Nak()
	}

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	drain := s.cfg.drain
	if runErr != nil {
		drain = 0
	}
	if drain > 0 {
		t := time.NewTimer(drain)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
	}
	s.cancelHandlers()
	t := time.NewTimer(time.Second) // a moment for handlers that watch their context
	select {
	case <-done:
	case <-t.C:
	}
	t.Stop()
	s.mu.Lock()
	for j := range s.running {
		if j.settled.CompareAndSwap(false, true) {
			_ = j.msg.Nak()
		}
	}
	s.mu.Unlock()
	return runErr
}

// process runs the handler on msg, on a worker, and settles the message
// by what it returned.
func (s *session) process(j *job) {
	defer func() {
		<-s.slots
		s.wg.Done()
	}()
	s.mu.Lock()
	j.progress = time.Now()
	s.running[j] = struct{}{}
	s.mu.Unlock()

	err := s.call(j.msg)

	s.mu.Lock()
	delete(s.running, j)
	s.mu.Unlock()
	if !j.settled.CompareAndSwap(false, true) {
		return // Run gave up on it and nak'ed it already
	}
	s.settle(j.msg, err)
}

// call runs the handler, turning a panic into an error.
func (s *session) call(msg jetstream.Msg) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("natsjs: handler panicked: %v", v)
		}
	}()
	return s.handler(s.hctx, msg)
}

// settle acks, naks or terms msg by the handler's error.
func (s *session) settle(msg jetstream.Msg, err error) {
	if err == nil {
		if s.cfg.doubleAck {
			_ = msg.DoubleAck(s.hctx)
		} else {
			_ = msg.Ack()
		}
		return
	}
	if s.hctx.Err() != nil { // cancelled at the drain deadline: another process takes it now
		_ = msg.Nak()
		return
	}
	var delivered uint64 = 1
	if meta, merr := msg.Metadata(); merr == nil {
		delivered = meta.NumDelivered
	}
	var permanent *retry.PermanentError
	var after *retryAfterError
	last := s.maxDeliver > 0 && delivered >= uint64(s.maxDeliver)
	switch {
	case errors.As(err, &permanent), last:
		s.term(msg, err)
	case errors.As(err, &after):
		_ = msg.NakWithDelay(after.delay)
	default:
		delay, again := s.delay(delivered, err)
		if !again {
			s.term(msg, err)
			return
		}
		_ = msg.NakWithDelay(delay)
	}
}

// term tells the dead-letter hook of msg, then terms it.
func (s *session) term(msg jetstream.Msg, err error) {
	if s.cfg.deadLetter != nil {
		s.cfg.deadLetter(s.hctx, msg, err)
	}
	_ = msg.TermWithReason(truncate(err.Error(), 200))
}

// delay is the retry policy's delay after the delivered-th delivery failed
// with err, or again = false if the policy allows no more retries. A
// Retrier asks a fresh policy, so what stops package retry stops here: a
// nil policy, retry.Stop, and backoff/v4's Permanent error.
func (s *session) delay(delivered uint64, err error) (d time.Duration, again bool) {
	r := retry.New(context.Background(), s.cfg.newBackOff)
	for range max(delivered, 1) {
		if d, again, _ = r.Next(err); !again {
			return 0, false
		}
	}
	return d, true
}

// startProgress starts the goroutine that marks long-running messages
// InProgress every progress interval, and returns its stop, which waits for
// it to exit.
func (s *session) startProgress() (stop func()) {
	quit, exited := make(chan struct{}), make(chan struct{})
	every := s.cfg.progress
	go func() {
		defer close(exited)
		tick := time.NewTicker(max(every/4, time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case now := <-tick.C:
				s.mu.Lock()
				for j := range s.running {
					if now.Sub(j.progress) >= every {
						j.progress = now
						_ = j.msg.InProgress()
					}
				}
				s.mu.Unlock()
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// isNilPointer reports whether r holds a nil pointer (a nil *ants.Pool,
// say), which Run treats as a nil Runner.
func isNilPointer(r ants.Runner) bool {
	v := reflect.ValueOf(r)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
