// Package antskafka runs the records of a Kafka consumer group on an ants
// pool, in parallel beyond the partition count, in key order, committing
// only offsets below which every record is done, so that neither a crash
// nor a rebalance loses a record.
//
//	pool, _ := ants.NewPool(64)
//	cl, _ := kgo.NewClient(append(antskafka.ClientOpts(),
//		kgo.SeedBrokers("localhost:9092"),
//		kgo.ConsumerGroup("workers"),
//		kgo.ConsumeTopics("jobs"),
//	)...)
//	defer cl.Close() // after Run has returned
//	err := antskafka.Run(ctx, cl, pool, func(ctx context.Context, rec *kgo.Record) error {
//		return process(ctx, rec.Value) // nil: done; retry.Permanent(err): dead letter; else: retried
//	})
//
// Every process of a fleet runs the same Run with a client of the same
// consumer group; Kafka gives each partition to one of them.
//
// What happens to a record, in every state:
//
//   - Fetched and not started: it waits in its lane (its key's, within its
//     partition) for the records before it, then for a worker. On a revoke
//     or a stop it is dropped, uncommitted: the partition's next owner
//     fetches it again.
//   - Running: its handler's context stays live. On a revoke or a stop
//     Run waits for it up to the drain timeout (WithDrainTimeout), then
//     cancels the context; if it has not finished by the commit, its offset
//     is not committed and the next owner handles it again.
//   - Returned nil: done. Returned an error (a panic is one): retried after
//     the back-off policy's delay (WithBackOff), holding no worker and
//     keeping its key's turn; on retry.Permanent, or when the policy allows
//     no more retries, the dead-letter hook (WithDeadLetter) is told, and
//     it is done.
//   - Done: its offset is committed once every record before it in its
//     partition is done too (the partition's contiguous watermark), at the
//     next commit: every commit interval, at its partition's revoke, and at
//     the stop.
//
// Delivery is at least once: a process killed abruptly leaves its
// partitions at their last commit, and the records above it, handled or
// not, are handled by the next owner. Make handlers idempotent.
//
// Traps this package handles, and that a hand-written loop meets:
//
//   - With kgo.BlockRebalanceOnPoll, which Run needs (a record is only
//     started while its partition is owned), Close and LeaveGroup block for
//     ever if records were polled and AllowRebalance was not called after.
//     Run always calls it before it returns; close the client only after
//     Run has returned.
//   - A fetch with no new data waits up to kgo.FetchMaxWait (5s by
//     default) and a rebalance waits for it: every rebalance takes that
//     long. ClientOpts sets 100ms.
//   - Kafka commits one offset per partition. Records finish out of order,
//     so Run commits a partition's watermark, never a finished record's own
//     offset.
package antskafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/antspool/ants"
	"github.com/antspool/ants/retry"
)

// Handler processes one record. It returns nil when the record is done, an
// error made by retry.Permanent when it never will be (it goes to the
// dead-letter hook), or another error to have it retried. ctx is the
// record's partition's: it is cancelled once the partition is revoked or
// Run stops and the drain timeout has passed; a handler should then return.
// A panic is an error, retried like any other.
type Handler func(ctx context.Context, rec *kgo.Record) error

var (
	// ErrNilClient is Run's error for a nil client.
	ErrNilClient = errors.New("antskafka: nil client")
	// ErrNilHandler is Run's error for a nil handler.
	ErrNilHandler = errors.New("antskafka: nil handler")
	// ErrClientOpts is Run's error for a client not made with ClientOpts,
	// or without a consumer group.
	ErrClientOpts = errors.New("antskafka: the client must be a group consumer made with antskafka.ClientOpts()")
	// ErrRunning is Run's error for a client that another Run is using.
	ErrRunning = errors.New("antskafka: another Run is using this client")
)

// ClientOpts returns the options a client given to Run must be made with,
// first, before the client's own (seed brokers, group, topics):
//
//   - kgo.BlockRebalanceOnPoll: a rebalance never runs while Run hands out
//     records it has just polled;
//   - kgo.DisableAutoCommit: Run commits, and only its watermarks;
//   - kgo.OnPartitionsRevoked and kgo.OnPartitionsLost: Run's hooks, which
//     drain and commit (revoked) or drop (lost) a partition's records;
//   - kgo.FetchMaxWait(100ms), instead of the 5s default that every
//     rebalance would wait for. A later FetchMaxWait replaces it.
//
// Run returns ErrClientOpts for a client made without them, or without a
// group (kgo itself refuses DisableAutoCommit without a group). Options
// after them may set FetchMaxWait and OnPartitionsAssigned, but must not
// set OnPartitionsRevoked or OnPartitionsLost: they would replace Run's
// hooks (which Run cannot tell), and a revoked partition would be let go
// neither drained nor committed. The hooks do nothing while no Run uses
// the client. A client made with these options must have AllowRebalance
// called after each poll of its own: use it only with Run.
func ClientOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.FetchMaxWait(100 * time.Millisecond),
		kgo.BlockRebalanceOnPoll(),
		kgo.DisableAutoCommit(),
		kgo.OnPartitionsRevoked(onRevoked),
		kgo.OnPartitionsLost(onLost),
		kgo.WithHooks(mark{}),
	}
}

// mark is a hook that tells Run a client was made with ClientOpts.
type mark struct{}

// OnNewClient makes mark a kgo.HookNewClient; it does nothing.
func (mark) OnNewClient(*kgo.Client) {}

// Order says which records Run keeps in order; see WithOrder.
type Order uint8

const (
	// ByKey runs the records of one key within one partition one at a
	// time, in offset order; records of other keys run in parallel. A
	// record without a key (nil) has no order to keep. The default.
	ByKey Order = iota
	// ByPartition runs the records of one partition one at a time, in
	// offset order: parallel only across partitions.
	ByPartition
	// Unordered runs every record as soon as a worker is free.
	Unordered
)

// An Option configures Run.
type Option func(*config)

type config struct {
	order      Order
	inFlight   int                  // <= 0: 4 × the runner's Cap
	newBackOff func() retry.BackOff // nil: defaultBackOff; returning nil: no retries
	backOffSet bool
	deadLetter func(ctx context.Context, rec *kgo.Record, err error)
	onError    func(err error)
	interval   time.Duration
	drain      time.Duration
}

// WithOrder sets which records run in order: ByKey (the default),
// ByPartition or Unordered. Another value is ByKey.
func WithOrder(o Order) Option { return func(c *config) { c.order = o } }

// WithMaxInFlight bounds the records Run holds: fetched and not finished,
// waiting in their lane, waiting for a worker, running, or waiting for a
// retry. At it Run pauses fetching from the partitions it holds
// (PauseFetchPartitions), and resumes once a quarter of it is free (at
// least one record), so that it polls in batches. n <= 0 means the
// default: 4 × the runner's Cap() when it has one (> 0), else 8 ×
// GOMAXPROCS.
func WithMaxInFlight(n int) Option { return func(c *config) { c.inFlight = n } }

// WithBackOff sets the retry policy for a record whose handler failed: a
// fresh policy from newBackOff per record, built at its first failure,
// whose NextBackOff gives the delay before each retry; retry.Stop, or a nil
// policy, means no more retries: the dead-letter hook, then done. Between
// attempts the record holds no worker; the records behind it in its lane
// wait. Any retry.BackOff fits (backoff v4 or v5). A nil newBackOff keeps
// the default: 3 retries, after about 100ms, 200ms and 400ms (±20%).
func WithBackOff[B retry.BackOff](newBackOff func() B) Option {
	if newBackOff == nil {
		return func(c *config) { c.newBackOff, c.backOffSet = nil, false }
	}
	return func(c *config) {
		c.newBackOff = func() retry.BackOff {
			b := newBackOff()
			if isNilValue(b) {
				return nil
			}
			return b
		}
		c.backOffSet = true
	}
}

// WithDeadLetter sets the hook told of every record that will not be
// retried: its handler returned a retry.Permanent error, or failed and the
// policy allowed no more retries. It is called on the worker, with the
// handler's context, the record and the error, before the record counts as
// done; it should be quick (produce the record to a dead-letter topic, log
// it). A panic in it is recovered and reported to the error hook. Without
// one, such a record is logged with slog at warn level.
func WithDeadLetter(hook func(ctx context.Context, rec *kgo.Record, err error)) Option {
	return func(c *config) { c.deadLetter = hook }
}

// WithOnError sets the hook told of the errors Run goes on after: a
// fetch's, a commit's (a record whose commit failed is committed with a
// later one, or fetched again by the partition's next owner), a
// dead-letter hook's panic. It may be called from several of Run's
// goroutines at once: keep it quick and safe for concurrent use. Without
// one, they are logged with slog at warn level.
func WithOnError(hook func(err error)) Option { return func(c *config) { c.onError = hook } }

// WithCommitInterval sets how often Run commits the partitions' watermarks
// that moved: d <= 0 means the default, one second. Run also commits a
// partition at its revoke, and all of them at the stop.
func WithCommitInterval(d time.Duration) Option { return func(c *config) { c.interval = d } }

// WithDrainTimeout sets how long a revoke, or the stop, waits for the
// running handlers of the partitions it lets go before it cancels their
// context and commits: default 10s; d <= 0 cancels them at once. Keep it
// well under the group's rebalance timeout (kgo.RebalanceTimeout, 60s by
// default): the rebalance waits for it.
func WithDrainTimeout(d time.Duration) Option { return func(c *config) { c.drain = d } }

// defaultBackOff is the retry policy without WithBackOff; see there.
func defaultBackOff() retry.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 100 * time.Millisecond
	b.Multiplier = 2
	b.RandomizationFactor = 0.2
	b.MaxElapsedTime = 0
	return backoff.WithMaxRetries(b, 3)
}

// sessions holds the session of each client that a Run is using, for the
// rebalance hooks, which are given the client.
var sessions sync.Map // *kgo.Client -> *session

// Run polls cl and runs h on each record, on r's workers, until ctx ends;
// see the package doc for what happens to each record. cl must be made
// with ClientOpts and a consumer group. Run blocks until it has stopped:
//
//  1. it stops polling and starting records; records not started are
//     dropped, uncommitted;
//  2. it waits for the running handlers up to the drain timeout
//     (WithDrainTimeout), then cancels their context;
//  3. it commits every partition's watermark, sets the client's fetch
//     positions back to them (a later Run on the same client fetches the
//     dropped records again), and allows rebalancing;
//  4. it waits for the handlers it started to return, then returns nil.
//
// It closes neither the client nor the pool: close the client after Run
// has returned (while Run polls, Close would wait for it). If the client is
// closed under it, or r refuses a task (a released pool), Run stops the
// same way, without waiting for the drain timeout, and returns that error.
// A nil ctx, cl, r or h is an error (ants.ErrNilContext, ErrNilClient,
// ants.ErrNilRunner, ErrNilHandler), and so is a client made without
// ClientOpts (ErrClientOpts) or one another Run is using (ErrRunning):
// nothing is started then.
func Run(ctx context.Context, cl *kgo.Client, r ants.Runner, h Handler, opts ...Option) error {
	switch {
	case ctx == nil:
		return ants.ErrNilContext
	case cl == nil:
		return ErrNilClient
	case r == nil || isNilValue(r):
		return ants.ErrNilRunner
	case h == nil:
		return ErrNilHandler
	case !madeWithClientOpts(cl):
		return ErrClientOpts
	}
	cfg := config{interval: time.Second, drain: 10 * time.Second}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.interval <= 0 {
		cfg.interval = time.Second
	}
	if !cfg.backOffSet {
		cfg.newBackOff = defaultBackOff
	}
	n := cfg.inFlight
	if n <= 0 {
		n = 8 * runtime.GOMAXPROCS(0)
		if c, ok := r.(interface{ Cap() int }); ok && c.Cap() > 0 {
			n = 4 * c.Cap()
		}
	}
	s := &session{
		cl: cl, cfg: cfg, handler: h, runner: r, max: n, resume: n - max(n/4, 1),
		base:  context.WithoutCancel(ctx),
		parts: make(map[topicPartition]*partition),
	}
	s.failed, s.fail = context.WithCancelCause(context.Background())
	defer s.fail(nil)
	if _, loaded := sessions.LoadOrStore(cl, s); loaded {
		return ErrRunning
	}
	stopCommits := s.startCommits()
	pollErr := s.poll(ctx)
	s.stop(pollErr != nil)
	sessions.Delete(cl)
	cl.AllowRebalance()
	s.reapers.Wait()
	stopCommits()
	return pollErr
}

// madeWithClientOpts reports whether cl is a group consumer made with
// ClientOpts, and with the options of it that Run can see still in force.
// (A later OnPartitionsRevoked or OnPartitionsLost cannot be seen: the
// client wraps its hooks.)
func madeWithClientOpts(cl *kgo.Client) bool {
	group, _ := cl.OptValue(kgo.ConsumerGroup).(string)
	block, _ := cl.OptValue(kgo.BlockRebalanceOnPoll).(bool)
	noAuto, _ := cl.OptValue(kgo.DisableAutoCommit).(bool)
	if group == "" || !block || !noAuto {
		return false
	}
	hooks := reflect.ValueOf(cl.OptValue(kgo.WithHooks))
	if hooks.Kind() != reflect.Slice {
		return false
	}
	for i := range hooks.Len() {
		if _, ok := hooks.Index(i).Interface().(mark); ok {
			return true
		}
	}
	return false
}

// onRevoked is the client's OnPartitionsRevoked: the session using it, if
// any, drains and commits the partitions, then lets them go.
func onRevoked(_ context.Context, cl *kgo.Client, revoked map[string][]int32) {
	if v, ok := sessions.Load(cl); ok {
		v.(*session).revoke(revoked, false)
	}
}

// onLost is the client's OnPartitionsLost: the session using it, if any,
// drops the partitions' records at once, committing nothing (the group
// has given them to others already).
func onLost(_ context.Context, cl *kgo.Client, lost map[string][]int32) {
	if v, ok := sessions.Load(cl); ok {
		v.(*session).revoke(lost, true)
	}
}

type topicPartition struct {
	topic     string
	partition int32
}

// laneKey is a record's lane within its partition: one lane per key
// (ByKey), one for the partition (ByPartition), one per record (Unordered,
// and records without a key).
type laneKey struct {
	key    string
	offset int64 // -1 for a shared lane
}

// Causes of a partition's context's end that are Run's own doing.
var (
	errRevoked = errors.New("antskafka: partition revoked")
	errStopped = errors.New("antskafka: Run stopped")
)

// session is one Run.
type session struct {
	cl      *kgo.Client
	cfg     config
	handler Handler
	runner  ants.Runner
	max     int             // records held at most
	resume  int             // a full poll loop polls again once the records held are down to this: a batch, not one at a time
	base    context.Context // Run's context without its cancellation: the partitions' parent

	failed context.Context // done when Run must stop on an error: its cause
	fail   context.CancelCauseFunc

	// revokeMu is held by a revoke (hook or stop) from its start to its
	// commit, so revokes and the stop never interleave. Taken before mu.
	revokeMu sync.Mutex
	stopped  bool // guarded by revokeMu: the stop has run; hooks do nothing

	// commitMu is held from reading watermarks to the commit's answer, so
	// an older watermark is never sent after a newer one. Taken before a
	// partition's mu.
	commitMu sync.Mutex

	mu       sync.Mutex // guards the fields below; taken before a partition's mu
	parts    map[topicPartition]*partition
	inFlight int           // records accepted and not released
	room     chan struct{} // closed when inFlight drops to resume; nil unless the poll loop waits

	reapers sync.WaitGroup // one per partition let go, until its group's Wait returns
}

// partition is one partition while this session owns it: its group (the
// lanes), and its records from the oldest not committed on.
type partition struct {
	topicPartition
	kg     *ants.KeyedGroup[laneKey]
	cancel context.CancelCauseFunc // ends the partition's context, and so its group's

	mu      sync.Mutex // guards the fields below
	revoked bool       // no record of it starts any more
	gone    bool       // let go: never committed again
	running int        // handlers running now (dead-letter hooks included)
	drained chan struct{}
	queue   []*entry        // records fetched, in offset order, from the oldest not done
	commit  kgo.EpochOffset // the watermark: the offset after the last record of the done prefix; -1 before one
	sent    int64           // the last watermark committed
}

// entry is one fetched record.
type entry struct {
	rec      *kgo.Record
	done     bool          // handled, or dead-lettered; guarded by partition.mu
	released bool          // no longer counted in flight; guarded by partition.mu
	retrier  retry.Retrier // decides its retries; used by one attempt at a time
	failed   bool          // retrier is set
}

// poll is Run's loop: room, then records, then a lane for each. It returns
// when ctx ends (nil) or with the error that stops Run.
func (s *session) poll(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.failed, cancel)()
	for {
		room, wait := s.roomLeft()
		if room <= 0 {
			if err := s.waitRoom(ctx, wait); err != nil || ctx.Err() != nil {
				return err
			}
			continue
		}
		fs := s.cl.PollRecords(ctx, room)
		var stopErr error
		fs.EachError(func(topic string, part int32, err error) {
			switch {
			case errors.Is(err, kgo.ErrClientClosed):
				stopErr = err
			case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			default:
				s.report(fmt.Errorf("antskafka: fetch %s/%d: %w", topic, part, err))
			}
		})
		fs.EachRecord(s.dispatch)
		if stopErr != nil {
			return stopErr
		}
		if ctx.Err() != nil {
			return context.Cause(s.failed)
		}
		s.cl.AllowRebalance()
	}
}

// roomLeft returns how many more records Run may take, and, if none, a
// channel closed when there is room again.
func (s *session) roomLeft() (int, chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.max - s.inFlight
	if n > 0 {
		return n, nil
	}
	if s.room == nil {
		s.room = make(chan struct{})
	}
	return 0, s.room
}

// waitRoom pauses fetching from the partitions this session owns until
// room is closed or ctx ends, then resumes them. It returns the error that
// stops Run, if one does.
func (s *session) waitRoom(ctx context.Context, room chan struct{}) error {
	s.mu.Lock()
	paused := make(map[string][]int32)
	for tp := range s.parts {
		paused[tp.topic] = append(paused[tp.topic], tp.partition)
	}
	s.mu.Unlock()
	s.cl.PauseFetchPartitions(paused)
	defer s.cl.ResumeFetchPartitions(paused)
	select {
	case <-room:
		return nil
	case <-ctx.Done():
		return context.Cause(s.failed)
	}
}

// dispatch gives rec to its partition's lanes. It runs on the poll loop
// while the partition is owned: no revoke can run meanwhile.
func (s *session) dispatch(rec *kgo.Record) {
	tp := topicPartition{rec.Topic, rec.Partition}
	s.mu.Lock()
	p := s.parts[tp]
	if p == nil {
		p = s.newPartition(tp)
		s.parts[tp] = p
	}
	s.inFlight++
	s.mu.Unlock()
	e := &entry{rec: rec}
	p.mu.Lock()
	p.queue = append(p.queue, e)
	p.mu.Unlock()
	key := laneKey{offset: -1}
	switch {
	case s.cfg.order == Unordered, s.cfg.order != ByPartition && rec.Key == nil:
		key.offset = rec.Offset
	case s.cfg.order != ByPartition:
		key.key = string(rec.Key)
	}
	p.kg.Go(key, func(ctx context.Context) error { return s.process(ctx, p, e) })
}

// newPartition readies tp's state and group. s.mu is held.
func (s *session) newPartition(tp topicPartition) *partition {
	ctx, cancel := context.WithCancelCause(s.base)
	p := &partition{topicPartition: tp, cancel: cancel, commit: kgo.EpochOffset{Epoch: -1, Offset: -1}, sent: -1}
	p.kg = ants.NewKeyedGroup[laneKey](ctx, s.runner,
		ants.WithRetry(s.groupBackOff), ants.WithMaxPending(s.max))
	gctx := p.kg.Context()
	context.AfterFunc(gctx, func() {
		// The group ends on the partition's end (a revoke, the stop), or
		// when a task of it fails: only the pool's refusal can make one.
		if cause := context.Cause(gctx); !errors.Is(cause, errRevoked) && !errors.Is(cause, errStopped) {
			s.fail(fmt.Errorf("antskafka: %w", cause))
		}
	})
	return p
}

// groupBackOff is the policy of the partitions' groups, which only time
// the retries: whether a record is retried is decided by its own retrier
// (process), from a policy of the same factory, so a policy here that says
// Stop (a time limit reached a moment earlier) waits its last delay again.
func (s *session) groupBackOff() retry.BackOff {
	b := s.cfg.newBackOff
	if b == nil {
		return &timing{}
	}
	return &timing{b: b()}
}

// timing is a policy that never stops: see groupBackOff.
type timing struct {
	b    retry.BackOff
	last time.Duration
}

func (t *timing) NextBackOff() time.Duration {
	if t.b == nil {
		return t.last
	}
	if d := t.b.NextBackOff(); d >= 0 {
		t.last = d
	}
	return t.last
}

func (t *timing) Reset() {
	if t.b != nil {
		t.b.Reset()
	}
}

// process is one attempt of e's record, a task of p's group. It returns
// an error only to have the group retry the record after its delay.
func (s *session) process(ctx context.Context, p *partition, e *entry) error {
	if !p.begin() {
		s.release(p, e, false) // revoked before it started: the next owner takes it
		return nil
	}
	err := s.call(ctx, e.rec)
	if err != nil && ctx.Err() != nil {
		p.end()
		s.release(p, e, false) // cancelled by a revoke or the stop: not done
		return nil
	}
	if err != nil {
		if !e.failed {
			e.retrier, e.failed = retry.New(context.Background(), s.cfg.newBackOff), true
		}
		_, again, final := e.retrier.Next(err)
		if again {
			p.end()
			return err
		}
		s.deadLetter(ctx, e.rec, final)
	}
	s.release(p, e, true) // done before a drain waiting for it is told
	p.end()
	return nil
}

// call runs the handler, turning a panic into an *ants.PanicError.
func (s *session) call(ctx context.Context, rec *kgo.Record) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &ants.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return s.handler(ctx, rec)
}

// deadLetter tells the hook of a record that will not be retried.
func (s *session) deadLetter(ctx context.Context, rec *kgo.Record, err error) {
	if s.cfg.deadLetter == nil {
		slog.Warn("antskafka: record failed, not retried", "topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset, "err", err)
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.report(fmt.Errorf("antskafka: dead-letter hook panicked on %s/%d@%d: %v", rec.Topic, rec.Partition, rec.Offset, v))
		}
	}()
	s.cfg.deadLetter(ctx, rec, err)
}

// begin counts a handler about to run, unless p is revoked.
func (p *partition) begin() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.revoked {
		return false
	}
	p.running++
	return true
}

// end counts a handler's end, and tells a revoke waiting for the last.
func (p *partition) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running--
	if p.running == 0 && p.drained != nil {
		close(p.drained)
		p.drained = nil
	}
}

// release takes e out of the records in flight, once, after marking it
// done (and moving the watermark past the done prefix) if done.
func (s *session) release(p *partition, e *entry, done bool) {
	p.mu.Lock()
	if done {
		e.done = true
		i := 0
		for ; i < len(p.queue) && p.queue[i].done; i++ {
			r := p.queue[i].rec
			p.commit = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
			p.queue[i] = nil
		}
		p.queue = p.queue[i:]
	}
	first := !e.released
	e.released = true
	p.mu.Unlock()
	if first {
		s.releaseSlots(1)
	}
}

// releaseSlots takes n records out of the count in flight.
func (s *session) releaseSlots(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inFlight -= n
	if s.room != nil && s.inFlight <= s.resume {
		close(s.room)
		s.room = nil
	}
}

// revoke lets go of the partitions in m, if this session holds them:
// drained and committed, or, if lost, dropped at once.
func (s *session) revoke(m map[string][]int32, lost bool) {
	s.revokeMu.Lock()
	defer s.revokeMu.Unlock()
	if s.stopped {
		return
	}
	var parts []*partition
	s.mu.Lock()
	for topic, ps := range m {
		for _, id := range ps {
			tp := topicPartition{topic, id}
			if p := s.parts[tp]; p != nil {
				parts = append(parts, p)
				delete(s.parts, tp)
			}
		}
	}
	s.mu.Unlock()
	s.letGo(parts, errRevoked, !lost, !lost)
}

// stop lets go of every partition, as a revoke would, then sets the
// client's fetch positions back to the watermarks, so that the records
// dropped are fetched again by a later Run on this client. It runs on the
// poll loop's goroutine, before AllowRebalance. failed skips the drain.
func (s *session) stop(failed bool) {
	s.revokeMu.Lock()
	defer s.revokeMu.Unlock()
	s.stopped = true
	s.mu.Lock()
	parts := make([]*partition, 0, len(s.parts))
	for _, p := range s.parts {
		parts = append(parts, p)
	}
	clear(s.parts)
	s.mu.Unlock()
	s.letGo(parts, errStopped, !failed, true)
	rewind := make(map[string]map[int32]kgo.EpochOffset)
	for _, p := range parts {
		p.mu.Lock()
		if len(p.queue) > 0 {
			if rewind[p.topic] == nil {
				rewind[p.topic] = make(map[int32]kgo.EpochOffset)
			}
			r := p.queue[0].rec
			rewind[p.topic][p.partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset}
		}
		p.mu.Unlock()
	}
	if len(rewind) > 0 {
		s.cl.SetOffsets(rewind)
	}
}

// letGo stops parts' records from starting, waits for their running
// handlers up to the drain timeout (if drain), cancels their contexts with
// cause, commits their watermarks (if commit), and marks them gone. A
// reaper per partition waits for its group and releases the records that
// never ran. revokeMu is held.
func (s *session) letGo(parts []*partition, cause error, drain, commit bool) {
	var waits []chan struct{}
	for _, p := range parts {
		p.mu.Lock()
		p.revoked = true
		if p.running > 0 {
			if p.drained == nil {
				p.drained = make(chan struct{})
			}
			waits = append(waits, p.drained)
		}
		p.mu.Unlock()
	}
	if drain && s.cfg.drain > 0 && len(waits) > 0 {
		t := time.NewTimer(s.cfg.drain)
	drainWait:
		for _, w := range waits {
			select {
			case <-w:
			case <-t.C: // fires once: the timeout is over for every partition
				break drainWait
			}
		}
		t.Stop()
	}
	for _, p := range parts {
		p.cancel(cause)
	}
	if commit {
		s.commitParts(parts)
	}
	for _, p := range parts {
		p.mu.Lock()
		p.gone = true
		p.mu.Unlock()
		s.reapers.Add(1)
		go s.reap(p)
	}
}

// reap waits for p's group to finish, every task run or skipped, then
// releases the records that never reached an end.
func (s *session) reap(p *partition) {
	defer s.reapers.Done()
	_ = p.kg.Wait()
	n := 0
	p.mu.Lock()
	for _, e := range p.queue {
		if !e.released {
			e.released = true
			n++
		}
	}
	p.mu.Unlock()
	if n > 0 {
		s.releaseSlots(n)
	}
}

// startCommits starts the goroutine that commits the watermarks that moved
// every commit interval, and returns its stop, which waits for it.
func (s *session) startCommits() (stop func()) {
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(s.cfg.interval)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				s.mu.Lock()
				parts := make([]*partition, 0, len(s.parts))
				for _, p := range s.parts {
					parts = append(parts, p)
				}
				s.mu.Unlock()
				s.commitParts(parts)
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
	}
}

// commitTimeout bounds one commit.
const commitTimeout = 10 * time.Second

// commitParts commits the watermarks of parts that moved since their last
// commit, skipping partitions let go.
func (s *session) commitParts(parts []*partition) {
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	offsets := make(map[string]map[int32]kgo.EpochOffset)
	byTP := make(map[topicPartition]*partition)
	for _, p := range parts {
		p.mu.Lock()
		if !p.gone && p.commit.Offset > p.sent {
			if offsets[p.topic] == nil {
				offsets[p.topic] = make(map[int32]kgo.EpochOffset)
			}
			offsets[p.topic][p.partition] = p.commit
			byTP[p.topicPartition] = p
		}
		p.mu.Unlock()
	}
	if len(byTP) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
	defer cancel()
	s.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, req *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			s.report(fmt.Errorf("antskafka: commit: %w", err))
			return
		}
		for _, t := range resp.Topics {
			for _, rp := range t.Partitions {
				p := byTP[topicPartition{t.Topic, rp.Partition}]
				if p == nil {
					continue
				}
				if err := kerr.ErrorForCode(rp.ErrorCode); err != nil {
					s.report(fmt.Errorf("antskafka: commit %s/%d: %w", t.Topic, rp.Partition, err))
					continue
				}
				p.mu.Lock()
				p.sent = max(p.sent, offsets[t.Topic][rp.Partition].Offset)
				p.mu.Unlock()
			}
		}
	})
}

// report tells the error hook of err, or logs it.
func (s *session) report(err error) {
	if s.cfg.onError != nil {
		s.cfg.onError(err)
		return
	}
	slog.Warn(err.Error())
}

// isNilValue reports whether v holds a nil pointer, func, map, chan,
// slice or interface.
func isNilValue(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
