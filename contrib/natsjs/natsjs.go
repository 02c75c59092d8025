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
//   - Pulled, not yet started (waiting for a worker; with the running ones
//     at most the in-flight bound): started as a worker frees up, however
//     long the pool stays busy with other work, since it is marked
//     InProgress every progress interval (AckWait/2 by default) from the
//     moment it arrives. On a graceful stop, handed back (nak'ed, no
//     delay) once this process's pull has ended, so another process takes
//     it; if the process dies, redelivered after AckWait.
//   - Running: its handler's context stays live, and InProgress goes on,
//     so a long handler keeps it. If the process dies, it is redelivered
//     after AckWait: its effect may be applied twice. Make handlers
//     idempotent, or dedupe by message id.
//   - Returned nil: acked (WithDoubleAck waits for the server to confirm).
//     Permanent: dead-letter hook, then termed. Another error, a panic, or
//     RetryAfter: nak'ed with a delay, redelivered later, to any process;
//     on the consumer's last delivery (MaxDeliver), dead-letter hook, then
//     termed instead.
//
// Delivery is at least once. A live process never loses a message it
// holds to another process while the server runs; a message is run twice
// only if the process that held it died, if its ack did not reach the
// server (a failed ack is reported, see WithOnError), or if the server
// stopped as it took the ack, or stayed down longer than AckWait minus the
// progress interval. Run retries with NakWithDelay only: do
// not give the consumer a BackOff list (it replaces AckWait and stretches
// every delay; Run refuses such a consumer). Give the consumer a
// MaxDeliver (5 to 10, say): with the server's default, unlimited, a
// message that always fails, or panics, is retried for ever and never
// reaches the dead-letter hook. Set MaxAckPending for every process
// together (it is shared, and counts messages waiting out a retry delay):
// at least processes × in-flight bound, plus room for retries.
//
// A handler's panic is a panic of the pool's task: Run naks (or
// dead-letters) the message, then panics again with the same value on the
// worker, so that an ants pool counts it (Stats.Panicked, the task
// observer) and hands it to its PanicHandler, or logs it with its stack.
// Every failure, retried or final, every failed ack, nak, term or
// InProgress, and every error Run recovers from is told to the WithOnError
// hook, or logged with slog at warn level, at most once a second per kind.
package natsjs

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go"
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
	onError    func(msg jetstream.Msg, err error) // nil: the rate-limited slog warning
	progress   time.Duration                      // InProgress interval; <= 0: AckWait/2
	drain      time.Duration                      // how long running handlers may go on after a stop
	doubleAck  bool
}

// WithInFlight bounds the messages this process holds: pulled and not yet
// finished, running or waiting for a worker. Run asks the server for no
// more than the room left under it, so the client buffers nothing beyond
// it, and a worker it waits for does not cost a message its ack deadline.
// n <= 0 means the default: the runner's Cap() when it has
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

// WithProgressInterval sets how often each message this process holds,
// running or waiting for a worker, is marked InProgress, so the server
// does not redeliver it meanwhile. d <= 0 means the default, half the
// consumer's AckWait. It should be well under AckWait: the marks are sent
// from one goroutine per Run, which looks at the held messages four times
// an interval.
func WithProgressInterval(d time.Duration) Option { return func(c *config) { c.progress = d } }

// WithDrainTimeout sets how long, after Run's context ends, running
// handlers may go on before their contexts are cancelled: default 10s; d
// <= 0 cancels them at once.
func WithDrainTimeout(d time.Duration) Option { return func(c *config) { c.drain = d } }

// WithOnError sets the hook told of what goes wrong while Run goes on:
//
//   - every handler failure, retried or final (a returned error, a panic
//     as an error whose %+v shows the stack, runtime.Goexit as
//     ants.ErrGoexit), with its message; the delivery count is in the
//     message's Metadata, the consumer's MaxDeliver says whether it was the
//     last;
//   - every ack, nak, term or InProgress that failed, with its message (an
//     ack that failed leaves the message to be redelivered after AckWait:
//     its effect may be applied twice);
//   - every error Run recovers from, with msg nil (a missed heartbeat, a
//     consumer leader change, a refused pull).
//
// It is called on the goroutine where the error happened (a worker, Run's
// own, the client's, the InProgress goroutine), possibly from several at
// once, and should be quick. Without a hook (or with nil), these errors
// are logged with slog's default logger at warn level, at most once a
// second per kind (handler, ack, in progress, consume) and Run, with the
// number left out since the last line. The errors that stop Run are returned by
// Run, not told here.
func WithOnError(hook func(msg jetstream.Msg, err error)) Option {
	return func(c *config) { c.onError = hook }
}

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
//
// r runs each message as a task (SubmitCtx) and must recover a task's
// panic, as ants' pools do: Run panics again on the worker after a
// handler's panic (see the package doc).
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
	s := &session{cfg: cfg, cons: cons, handler: h, runner: r, maxDeliver: info.Config.MaxDeliver}
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
	s.bound = s.cfg.inFlight
	if s.bound <= 0 {
		s.bound = 2 * runtime.GOMAXPROCS(0)
		if c, ok := r.(interface{ Cap() int }); ok && c.Cap() > 0 {
			s.bound = c.Cap()
		}
	}
	s.hctx, s.cancelHandlers = context.WithCancel(context.WithoutCancel(ctx))
	defer s.cancelHandlers()
	var cancelSubmit context.CancelCauseFunc
	s.submitCtx, cancelSubmit = context.WithCancelCause(ctx)
	defer cancelSubmit(nil)
	s.fail = cancelSubmit
	s.wake = make(chan struct{}, 1)
	s.held = make(map[*job]struct{})
	stopProgress := s.startProgress()
	defer stopProgress()

	return s.stop(s.loop(ctx))
}

// session is one Run.
//
// Its goroutines: Run's own (loop, then stop), which opens the pulls and
// submits the messages; the client's, which delivers messages to receive;
// the workers running process; and the InProgress goroutine
// (startProgress), which Run stops before it returns.
type session struct {
	cfg        config
	cons       jetstream.Consumer
	handler    Handler
	runner     ants.Runner
	maxDeliver int
	bound      int // the in-flight bound: messages held at most
	log        rateLog

	hctx           context.Context // the handlers': live until the drain deadline after a stop
	cancelHandlers context.CancelFunc
	submitCtx      context.Context         // ends with Run's ctx, or when fail is called
	fail           context.CancelCauseFunc // ends submitCtx with the error that stops Run
	wake           chan struct{}           // (1) tells loop to look again: a message came, one left, an error
	wg             sync.WaitGroup          // one per message submitted, until process returns

	// mu guards the fields below and job.progress. It is taken last: no
	// other lock, no hook and no call to the client under it.
	mu sync.Mutex
	// held is every message this process holds and has not settled or
	// handed back: the ones waiting in queue, and the ones submitted.
	// len(held) + reserved <= bound.
	held     map[*job]struct{}
	queue    []*job                   // received and not yet submitted, in their order
	reserved int                      // messages the open pull may still deliver; 0: no pull open
	pull     jetstream.ConsumeContext // the last pull opened, or nil
}

// job is one message in this process's hands.
type job struct {
	msg      jetstream.Msg
	settled  atomic.Bool // acked, nak'ed or termed, or handed back: by its handler's end, or by Run
	progress time.Time   // its arrival, or the last InProgress; guarded by session.mu
}

// signal wakes loop, if it is not awake already.
func (s *session) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loop is Run's goroutine until a stop: it opens a pull for the room left
// under the in-flight bound whenever none is open, and submits the
// messages that came, in order. It returns nil when ctx ends, or the error
// that stops Run.
func (s *session) loop(ctx context.Context) error {
	var ended <-chan struct{} // the open pull's Closed, if it may end early
	for {
		if s.submitCtx.Err() != nil {
			if ctx.Err() != nil {
				return nil
			}
			return context.Cause(s.submitCtx)
		}
		s.mu.Lock()
		var next *job
		if len(s.queue) > 0 {
			next = s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
		}
		room := 0
		if s.reserved == 0 {
			room = s.bound - len(s.held)
			s.reserved = max(room, 0)
		}
		s.mu.Unlock()

		if room > 0 {
			ended = s.open(room)
		}
		if next == nil {
			select {
			case <-s.wake:
			case <-s.submitCtx.Done():
			case <-ended:
				// The client ended the pull before it delivered what it
				// was opened for: open another for the room left.
				ended = nil
				s.mu.Lock()
				s.reserved = 0
				s.mu.Unlock()
			}
			continue
		}
		s.wg.Add(1)
		if err := s.runner.SubmitCtx(s.submitCtx, func(context.Context) { s.process(next) }); err != nil {
			s.wg.Done()
			s.mu.Lock()
			s.queue = append([]*job{next}, s.queue...) // handed back by stop
			s.mu.Unlock()
			if s.submitCtx.Err() == nil {
				s.fail(fmt.Errorf("natsjs: %w", err))
			}
		}
	}
}

// open opens a pull of n messages: the client asks the server for n, and
// ends the pull once they have come. It returns the channel closed when
// the pull has ended, or nil if it could not open one, and then stops Run.
func (s *session) open(n int) <-chan struct{} {
	pull, err := s.cons.Consume(s.receive,
		jetstream.PullMaxMessages(n), jetstream.StopAfter(n),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) { s.pullError(err) }))
	if err != nil {
		s.fail(fmt.Errorf("natsjs: %w", err))
		return nil
	}
	s.mu.Lock()
	s.pull = pull
	s.mu.Unlock()
	return pull.Closed()
}

// receive takes a message the client delivered: from now on it is held,
// and marked InProgress until it is settled. It never blocks on a worker.
func (s *session) receive(msg jetstream.Msg) {
	j := &job{msg: msg}
	s.mu.Lock()
	j.progress = time.Now()
	s.held[j] = struct{}{}
	if s.reserved > 0 {
		s.reserved--
	}
	s.queue = append(s.queue, j)
	s.mu.Unlock()
	s.signal()
}

// pullError handles an error of a pull: the ones that end the consumer or
// the connection stop Run; the client recovers from the others itself, and
// they are reported.
func (s *session) pullError(err error) {
	switch {
	case errors.Is(err, jetstream.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound),
		errors.Is(err, jetstream.ErrBadRequest):
		s.fail(fmt.Errorf("natsjs: %w", err))
		s.signal()
	default:
		s.report(kindConsume, nil, fmt.Errorf("natsjs: pull: %w", err))
	}
}

// stop ends Run: it ends the pull and hands back what it holds and has
// not submitted, lets the running handlers finish until the drain deadline
// (at once if runErr, the reason Run stops, is not nil), cancels them, and
// naks what is left. It returns runErr.
func (s *session) stop(runErr error) error {
	s.mu.Lock()
	pull := s.pull
	s.mu.Unlock()
	if pull != nil {
		// Drain ends the pull request and delivers what the client has:
		// once it is closed, nothing more comes. A bound keeps a server
		// that never confirms it from holding Run for ever.
		pull.Drain()
		t := time.NewTimer(5 * time.Second)
		select {
		case <-pull.Closed():
		case <-t.C:
		}
		t.Stop()
	}
	s.mu.Lock()
	back := s.queue
	s.queue = nil
	s.mu.Unlock()
	for _, j := range back { // the pull has ended: these go to other processes
		s.giveUp(j)
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
	rest := make([]*job, 0, len(s.held))
	for j := range s.held {
		rest = append(rest, j)
	}
	s.mu.Unlock()
	for _, j := range rest {
		s.giveUp(j)
	}
	return runErr
}

// giveUp naks j's message, without delay, unless it was settled already,
// and lets it go.
func (s *session) giveUp(j *job) {
	if j.settled.CompareAndSwap(false, true) {
		if err := j.msg.Nak(); err != nil {
			s.report(kindSettle, j.msg, fmt.Errorf("natsjs: nak: %w", err))
		}
	}
	s.release(j)
}

// release lets j go: it is no longer held, and its room may be pulled
// again.
func (s *session) release(j *job) {
	s.mu.Lock()
	delete(s.held, j)
	s.mu.Unlock()
	s.signal()
}

// process runs the handler on j's message, on a worker, and settles the
// message by what it returned. A panic settles it as a failure, and then
// goes on, for the pool to count and report; so does runtime.Goexit.
func (s *session) process(j *job) {
	defer s.wg.Done()
	defer s.release(j)
	if j.settled.Load() {
		return // Run handed it back while it waited for this worker
	}
	returned := false
	defer func() {
		if returned {
			return
		}
		v := recover()
		if v == nil { // runtime.Goexit (a nil panic is a *runtime.PanicNilError)
			s.finish(j, ants.ErrGoexit)
			return
		}
		s.finish(j, &panicError{value: v, stack: debug.Stack()})
		panic(v) // the pool's: counted, observed, and logged with the stack above
	}()
	err := s.handler(s.hctx, j.msg)
	returned = true
	s.finish(j, err)
}

// finish reports a handler's failure and settles j's message by err,
// unless Run has given up on it already.
func (s *session) finish(j *job, err error) {
	if !j.settled.CompareAndSwap(false, true) {
		return // Run gave up on it and nak'ed it already
	}
	if err != nil {
		s.report(kindHandler, j.msg, err)
	}
	s.settle(j.msg, err)
}

// panicError is a handler's panic, as its message's failure.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("natsjs: handler panicked: %v", e.value) }

// Format prints Error, and for %+v the stack of the panic after it.
func (e *panicError) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('+') {
		fmt.Fprintf(f, "%s\n\n%s", e.Error(), e.stack)
		return
	}
	fmt.Fprint(f, e.Error())
}

// Unwrap returns the panic's value if it is an error.
func (e *panicError) Unwrap() error {
	err, _ := e.value.(error)
	return err
}

// settle acks, naks or terms msg by the handler's error, and reports an
// ack, nak or term that failed.
func (s *session) settle(msg jetstream.Msg, err error) {
	if err == nil {
		var aerr error
		if s.cfg.doubleAck {
			aerr = msg.DoubleAck(s.hctx)
		} else {
			aerr = msg.Ack()
		}
		if aerr != nil {
			s.report(kindSettle, msg, fmt.Errorf("natsjs: ack: %w", aerr))
		}
		return
	}
	if s.hctx.Err() != nil { // cancelled at the drain deadline: another process takes it now
		s.nak(msg, 0)
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
		s.nak(msg, after.delay)
	default:
		delay, again := s.delay(delivered, err)
		if !again {
			s.term(msg, err)
			return
		}
		s.nak(msg, delay)
	}
}

// nak naks msg with delay d (none if 0), and reports a failure.
func (s *session) nak(msg jetstream.Msg, d time.Duration) {
	var err error
	if d > 0 {
		err = msg.NakWithDelay(d)
	} else {
		err = msg.Nak()
	}
	if err != nil {
		s.report(kindSettle, msg, fmt.Errorf("natsjs: nak: %w", err))
	}
}

// term tells the dead-letter hook of msg, then terms it.
func (s *session) term(msg jetstream.Msg, err error) {
	if s.cfg.deadLetter != nil {
		s.cfg.deadLetter(s.hctx, msg, err)
	}
	if terr := msg.TermWithReason(truncate(err.Error(), 200)); terr != nil {
		s.report(kindSettle, msg, fmt.Errorf("natsjs: term: %w", terr))
	}
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

// report tells the WithOnError hook of err, or logs it, rate-limited.
func (s *session) report(kind errorKind, msg jetstream.Msg, err error) {
	if s.cfg.onError != nil {
		s.cfg.onError(msg, err)
		return
	}
	s.log.warn(kind, msg, err)
}

// startProgress starts the goroutine that marks every held message
// InProgress every progress interval, whether it runs or waits for a
// worker, and returns its stop, which waits for it to exit.
func (s *session) startProgress() (stop func()) {
	quit, exited := make(chan struct{}), make(chan struct{})
	every := s.cfg.progress
	go func() {
		defer close(exited)
		tick := time.NewTicker(max(every/4, time.Millisecond))
		defer tick.Stop()
		var due []*job
		for {
			select {
			case <-quit:
				return
			case now := <-tick.C:
				due = due[:0]
				s.mu.Lock()
				for j := range s.held {
					if now.Sub(j.progress) >= every {
						j.progress = now
						due = append(due, j)
					}
				}
				s.mu.Unlock()
				for _, j := range due {
					if j.settled.Load() {
						continue
					}
					if err := j.msg.InProgress(); err != nil && !j.settled.Load() {
						s.report(kindProgress, j.msg, fmt.Errorf("natsjs: in progress: %w", err))
					}
				}
				clear(due)
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
