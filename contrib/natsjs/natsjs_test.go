package natsjs_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/antspool/ants"
	"github.com/antspool/ants/contrib/natsjs"
	"github.com/antspool/ants/retry"
)

func TestMain(m *testing.M) {
	if runFleetChild() { // a fleet test's consumer process: see fleet_test.go
		return
	}
	goleak.VerifyTestMain(m)
}

// startServer runs an embedded nats-server with JetStream on 127.0.0.1, a
// random port and a temporary directory, until the test ends.
func startServer(t testing.TB) *server.Server { return startServerOn(t, -1, t.TempDir()) }

// startServerOn runs an embedded nats-server with JetStream on 127.0.0.1,
// on port (-1: a random one) and store dir, until the test ends or it is
// shut down.
func startServerOn(t testing.TB, port int, dir string) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// setup is one test's server, connection, work-queue stream JOBS and
// durable pull consumer "workers".
type setup struct {
	srv  *server.Server
	nc   *nats.Conn
	js   jetstream.JetStream
	cons jetstream.Consumer
}

func newSetup(t testing.TB, cc jetstream.ConsumerConfig) *setup {
	t.Helper()
	srv := startServer(t)
	nc, js := connect(t, srv)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "JOBS", Subjects: []string{"jobs.>"}, Retention: jetstream.WorkQueuePolicy,
	}); err != nil {
		t.Fatal(err)
	}
	cc.Durable = "workers"
	cc.AckPolicy = jetstream.AckExplicitPolicy
	cons, err := js.CreateOrUpdateConsumer(ctx, "JOBS", cc)
	if err != nil {
		t.Fatal(err)
	}
	return &setup{srv, nc, js, cons}
}

// connect opens a connection to srv, with opts, closed when the test ends.
func connect(t testing.TB, srv *server.Server, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// publish puts n jobs on jobs.<i>, with message ids, and returns their data.
func (s *setup) publish(t testing.TB, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		if _, err := s.js.Publish(ctx, "jobs."+strconv.Itoa(i), []byte(strconv.Itoa(i)), jetstream.WithMsgID("job-"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
}

// settled waits until the consumer has nothing pending or unacked, and the
// stream is empty (a work queue drops what was acked or termed).
func (s *setup) settled(t testing.TB, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		ci, err := s.cons.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.js.Stream(context.Background(), "JOBS")
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumPending == 0 && ci.NumAckPending == 0 && ci.NumRedelivered == 0 && st.CachedInfo().State.Msgs == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not settled after %v: pending %d, ack pending %d, redelivered %d, stream %d",
				within, ci.NumPending, ci.NumAckPending, ci.NumRedelivered, st.CachedInfo().State.Msgs)
		}
		time.Sleep(20 * time.Millisecond) // polling the server, which has no event for this
	}
}

// runAsync starts Run and returns a function that cancels it and returns
// its error.
func runAsync(t testing.TB, cons jetstream.Consumer, r ants.Runner, h natsjs.Handler, opts ...natsjs.Option) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- natsjs.Run(ctx, cons, r, h, opts...) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return within 30s of its context's end")
			return nil
		}
	}
}

func newPool(t testing.TB, n int, opts ...ants.Option) *ants.Pool {
	t.Helper()
	p, err := ants.NewPool(n, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.ReleaseContext(ctx); err != nil && !errors.Is(err, ants.ErrPoolClosed) {
			t.Errorf("pool release: %v", err)
		}
	})
	return p
}

func deliveries(msg jetstream.Msg) uint64 {
	meta, err := msg.Metadata()
	if err != nil {
		return 0
	}
	return meta.NumDelivered
}

func TestRunBadInput(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{})
	p := newPool(t, 2)
	h := func(context.Context, jetstream.Msg) error { return nil }
	ctx := context.Background()
	for name, tc := range map[string]struct {
		err  error
		want error
	}{
		"nil ctx":      {natsjs.Run(nil, s.cons, p, h), ants.ErrNilContext}, //lint:ignore SA1012 a nil context is the bad input under test
		"nil consumer": {natsjs.Run(ctx, nil, p, h), natsjs.ErrNilConsumer},
		"nil runner":   {natsjs.Run(ctx, s.cons, nil, h), ants.ErrNilRunner},
		"nil handler":  {natsjs.Run(ctx, s.cons, p, nil), natsjs.ErrNilHandler},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: Run = %v, want %v", name, tc.err, tc.want)
		}
	}
	if _, err := s.js.CreateStream(ctx, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other.>"}}); err != nil {
		t.Fatal(err)
	}
	bo, err := s.js.CreateOrUpdateConsumer(ctx, "OTHER", jetstream.ConsumerConfig{
		Durable: "with-backoff", AckPolicy: jetstream.AckExplicitPolicy,
		BackOff: []time.Duration{time.Second}, MaxDeliver: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := natsjs.Run(ctx, bo, p, h); !errors.Is(err, natsjs.ErrConsumerBackOff) {
		t.Errorf("a consumer with a BackOff list: Run = %v, want ErrConsumerBackOff", err)
	}
}

// A handler that returns nil gets its message acked: every job runs once,
// and the work queue ends empty.
func TestRunAcksAfterSuccess(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{})
	p := newPool(t, 4)
	const n = 200
	s.publish(t, n)
	var seen sync.Map
	var count atomic.Int32
	all := make(chan struct{})
	stop := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		if _, dup := seen.LoadOrStore(string(msg.Data()), true); dup {
			t.Errorf("job %s ran twice", msg.Data())
		}
		if count.Add(1) == n {
			close(all)
		}
		return nil
	})
	<-all
	s.settled(t, 10*time.Second)
	if err := stop(); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	if !s.nc.IsConnected() || p.IsClosed() {
		t.Error("Run closed the connection or the pool")
	}
}

// Permanent (natsjs's, retry's or backoff/v4's) terms the message after
// the dead-letter hook; other errors and panics are nak'ed with the
// policy's delay and redelivered; on the last delivery the dead-letter hook
// is told and the message is termed.
func TestRunRetriesTermsAndDeadLetters(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{MaxDeliver: 3, AckWait: 30 * time.Second})
	p := newPool(t, 4, ants.WithPanicHandler(func(any) {})) // jobs.2's panic
	// jobs.0: permanent; jobs.1: fails once; jobs.2: panics once; jobs.3:
	// always fails; jobs.4: RetryAfter, always; jobs.5: retry.Permanent;
	// jobs.6: backoff/v4's Permanent.
	s.publish(t, 7)
	type delivery struct {
		job string
		n   uint64
		at  time.Time
	}
	var mu sync.Mutex
	var log []delivery
	var dead []string
	done := make(chan string, 16)
	const delay = 150 * time.Millisecond
	stop := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		d := delivery{string(msg.Data()), deliveries(msg), time.Now()}
		mu.Lock()
		log = append(log, d)
		mu.Unlock()
		switch d.job {
		case "0":
			return fmt.Errorf("wrapped: %w", natsjs.Permanent(errors.New("malformed")))
		case "1":
			if d.n == 1 {
				return errors.New("flaky")
			}
		case "2":
			if d.n == 1 {
				panic("boom")
			}
		case "3":
			return errors.New("down")
		case "4":
			return natsjs.RetryAfter(errors.New("rate limited"), 2*delay)
		case "5":
			return retry.Permanent(errors.New("gone"))
		case "6":
			return backoff.Permanent(errors.New("forbidden"))
		}
		done <- d.job
		return nil
	}, natsjs.WithBackOff(func() backoff.BackOff { return backoff.NewConstantBackOff(delay) }),
		natsjs.WithDeadLetter(func(ctx context.Context, msg jetstream.Msg, err error) {
			mu.Lock()
			dead = append(dead, fmt.Sprintf("%s@%d: %v", msg.Data(), deliveries(msg), err))
			mu.Unlock()
			if ctx.Err() != nil {
				t.Error("the dead-letter hook got a done context")
			}
		}))
	for range 2 {
		<-done // jobs 1 and 2, on their second delivery
	}
	s.settled(t, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	count := map[string]int{}
	first := map[string]time.Time{}
	for _, d := range log {
		count[d.job]++
		if d.n == 1 {
			first[d.job] = d.at
		}
		if d.n == 2 && d.at.Sub(first[d.job]) < delay {
			t.Errorf("job %s redelivered after %v, before the %v delay", d.job, d.at.Sub(first[d.job]), delay)
		}
	}
	if want := map[string]int{"0": 1, "1": 2, "2": 2, "3": 3, "4": 3, "5": 1, "6": 1}; fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("deliveries by job = %v, want %v", count, want)
	}
	if want := "[0@1: wrapped: malformed 3@3: down 4@3: rate limited 5@1: gone 6@1: forbidden]"; fmt.Sprint(sorted(dead)) != want {
		t.Errorf("dead letters = %v, want %v", sorted(dead), want)
	}
}

// natsjs.Permanent makes retry.Permanent's error.
func TestPermanentIsRetrysPermanent(t *testing.T) {
	inner := errors.New("malformed")
	var pe *retry.PermanentError
	if err := natsjs.Permanent(inner); !errors.As(err, &pe) || pe.Err != inner || err.Error() != "malformed" {
		t.Errorf("natsjs.Permanent(inner) = %#v, want a *retry.PermanentError holding inner", err)
	}
	if natsjs.Permanent(nil) != nil {
		t.Error("natsjs.Permanent(nil) != nil")
	}
}

// A policy that allows no retry (a nil one, here a nil pointer of a
// concrete policy type) dead-letters and terms a failed message on its
// first delivery.
func TestRunTermsWhenThePolicyAllowsNoRetry(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{MaxDeliver: 5})
	p := newPool(t, 2)
	s.publish(t, 1)
	dead := make(chan string, 1)
	var runs atomic.Int32
	stop := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		runs.Add(1)
		return errors.New("down")
	}, natsjs.WithBackOff(func() *backoff.ExponentialBackOff { return nil }),
		natsjs.WithDeadLetter(func(_ context.Context, msg jetstream.Msg, err error) {
			dead <- fmt.Sprintf("%s@%d: %v", msg.Data(), deliveries(msg), err)
		}))
	if got := <-dead; got != "0@1: down" {
		t.Errorf("dead letter %q, want 0@1: down", got)
	}
	s.settled(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// A handler that runs past AckWait keeps its message: InProgress is sent
// every AckWait/2, so the server does not redeliver it.
func TestRunKeepsLongHandlersMessages(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{AckWait: 600 * time.Millisecond})
	p := newPool(t, 2)
	s.publish(t, 1)
	var runs atomic.Int32
	finished := make(chan struct{})
	stop := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		if runs.Add(1) == 1 {
			time.Sleep(2 * time.Second) // the work: over three AckWaits
			close(finished)
		}
		return nil
	})
	<-finished
	s.settled(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if runs.Load() != 1 {
		t.Errorf("the handler ran %d times, want 1: the message was redelivered while it ran", runs.Load())
	}
}

// The in-flight bound holds whatever the pool's size: never more handlers
// at once than it allows.
func TestRunInFlightBound(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{})
	p := newPool(t, 16)
	s.publish(t, 60)
	var cur, peak atomic.Int32
	var count atomic.Int32
	all := make(chan struct{})
	stop := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		n := cur.Add(1)
		for m := peak.Load(); n > m && !peak.CompareAndSwap(m, n); m = peak.Load() {
		}
		time.Sleep(time.Millisecond)
		cur.Add(-1)
		if count.Add(1) == 60 {
			close(all)
		}
		return nil
	}, natsjs.WithInFlight(3))
	<-all
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if m := peak.Load(); m > 3 || m < 2 {
		t.Errorf("%d handlers ran at once, want at most the bound of 3 (and more than one)", m)
	}
}

// A graceful stop hands back what was pulled and not started (another
// process gets it at once, not after AckWait), lets the running handlers
// finish and acks them, and returns nil, leaving the pool and the
// connection open.
func TestRunGracefulStopHandsBackAndFinishes(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{AckWait: time.Minute})
	p := newPool(t, 2)
	s.publish(t, 20)
	release := make(chan struct{})
	started := make(chan string, 20)
	var finishedA atomic.Int32
	stopA := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		started <- string(msg.Data())
		<-release
		finishedA.Add(1)
		return nil
	}, natsjs.WithInFlight(2))
	<-started
	<-started // both slots busy; up to two more sit in the pull buffer

	stopped := make(chan error, 1)
	go func() { stopped <- stopA() }()
	// B, on its own connection and pool, gets the rest at once.
	_, jsB := connect(t, s.srv)
	consB, err := jsB.Consumer(context.Background(), "JOBS", "workers")
	if err != nil {
		t.Fatal(err)
	}
	var countB atomic.Int32
	allB := make(chan struct{})
	stopB := runAsync(t, consB, newPool(t, 4), func(ctx context.Context, msg jetstream.Msg) error {
		if countB.Add(1) == 18 {
			close(allB)
		}
		return nil
	})
	select {
	case <-allB:
	case <-time.After(20 * time.Second): // AckWait is a minute: only a hand-back gets them here
		t.Fatalf("B got %d of the 18 jobs A did not start", countB.Load())
	}
	select {
	case err := <-stopped:
		t.Fatalf("A's Run returned %v while its handlers still ran", err)
	default:
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Errorf("A's Run = %v, want nil", err)
	}
	s.settled(t, 10*time.Second)
	if err := stopB(); err != nil {
		t.Error(err)
	}
	if finishedA.Load() != 2 {
		t.Errorf("A finished %d handlers, want its 2 running ones", finishedA.Load())
	}
	if !s.nc.IsConnected() || p.IsClosed() || p.Submit(func() {}) != nil {
		t.Error("Run closed the connection or the pool")
	}
}

// Past the drain deadline, running handlers see their contexts cancelled,
// and their messages go back at once to be redelivered.
func TestRunDrainDeadlineCancelsAndNaks(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{AckWait: time.Minute})
	p := newPool(t, 2)
	s.publish(t, 1)
	started := make(chan struct{}, 2)
	var deliveriesSeen sync.Map
	stop := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		deliveriesSeen.Store(deliveries(msg), true)
		started <- struct{}{}
		<-ctx.Done() // a handler that would run for ever, but watches its context
		return ctx.Err()
	}, natsjs.WithDrainTimeout(200*time.Millisecond))
	<-started
	t0 := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("Run returned %v after the stop, want just past the 200ms drain deadline", d)
	}
	// Redelivered at once (AckWait is a minute) to the next consumer.
	got := make(chan uint64, 1)
	stop2 := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		got <- deliveries(msg)
		return nil
	})
	select {
	case n := <-got:
		if n != 2 {
			t.Errorf("redelivered as delivery %d, want 2", n)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the cancelled handler's message was not handed back")
	}
	if err := stop2(); err != nil {
		t.Error(err)
	}
}

// If the connection closes under it, Run stops and says so within seconds.
func TestRunReturnsErrorWhenTheConnectionCloses(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{})
	p := newPool(t, 2)
	done := make(chan error, 1)
	handled := make(chan struct{}, 3)
	go func() {
		done <- natsjs.Run(context.Background(), s.cons, p, func(context.Context, jetstream.Msg) error {
			handled <- struct{}{}
			return nil
		})
	}()
	s.publish(t, 3)
	<-handled // Run is pulling
	s.nc.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Run = nil after the connection closed, want an error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still running 10s after its connection closed")
	}
}

// A panic in a handler does not crash the process: the message is nak'ed
// and redelivered, the pool's PanicHandler gets the value, and the pool
// goes on.
func TestRunSurvivesAPanic(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{})
	panics := make(chan any, 1)
	p := newPool(t, 2, ants.WithPanicHandler(func(v any) { panics <- v }))
	s.publish(t, 1)
	ok := make(chan uint64, 1)
	stop := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		if deliveries(msg) == 1 {
			panic("handler bug")
		}
		ok <- deliveries(msg)
		return nil
	}, natsjs.WithBackOff(func() backoff.BackOff { return backoff.NewConstantBackOff(10 * time.Millisecond) }))
	if n := <-ok; n != 2 {
		t.Errorf("succeeded on delivery %d, want 2", n)
	}
	if v := <-panics; v != "handler bug" {
		t.Errorf("the PanicHandler got %v, want the handler's value", v)
	}
	s.settled(t, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
