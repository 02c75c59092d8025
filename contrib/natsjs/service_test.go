package natsjs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/antspool/ants"
	"github.com/antspool/ants/contrib/natsjs"
)

// ledger counts, per job, the handler runs that applied it.
type ledger struct {
	mu    sync.Mutex
	runs  map[string]int
	want  int
	all   chan struct{} // closed when every one of want jobs has been applied once
	total int
}

func newLedger(want int) *ledger {
	return &ledger{runs: make(map[string]int), want: want, all: make(chan struct{})}
}

func (l *ledger) apply(job string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs[job]++
	l.total++
	if l.runs[job] == 1 && len(l.runs) == l.want {
		close(l.all)
	}
}

// duplicates is the number of extra runs: runs beyond one per job.
func (l *ledger) duplicates() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total - len(l.runs)
}

func (l *ledger) wait(t testing.TB, within time.Duration) {
	t.Helper()
	select {
	case <-l.all:
	case <-time.After(within):
		l.mu.Lock()
		defer l.mu.Unlock()
		t.Fatalf("%d of %d jobs applied after %v", len(l.runs), l.want, within)
	}
}

// A pool shared with other work, busy past AckWait: the messages each Run
// pulled wait for a worker, and still no live process gets another's
// message. Two Runs, each on its own connection and on a pool of 2 whose
// workers are busy for 2.5 AckWaits.
func TestRunBusySharedPoolKeepsItsMessages(t *testing.T) {
	const ackWait, busy, jobs = time.Second, 2500 * time.Millisecond, 4
	s := newSetup(t, jetstream.ConsumerConfig{AckWait: ackWait})
	l := newLedger(jobs)
	h := func(ctx context.Context, msg jetstream.Msg) error {
		l.apply(string(msg.Data()))
		return nil
	}
	var stops []func() error
	for range 2 {
		p := newPool(t, 2)
		for range 2 { // the service's other work: both workers busy
			if err := p.Submit(func() { time.Sleep(busy) }); err != nil {
				t.Fatal(err)
			}
		}
		_, js := connect(t, s.srv)
		cons, err := js.Consumer(context.Background(), "JOBS", "workers")
		if err != nil {
			t.Fatal(err)
		}
		stops = append(stops, runAsync(t, cons, p, h))
	}
	s.publish(t, jobs)
	l.wait(t, 20*time.Second)
	s.settled(t, 10*time.Second)
	for _, stop := range stops {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}
	if d := l.duplicates(); d != 0 {
		t.Errorf("%d of %d jobs applied twice by live processes sharing a busy pool", d, jobs)
	}
}

// The server restarts (the same store, the same port) while Runs hold
// messages: one whose handlers are busy, and one whose pull waits on an
// empty stream. The connection reconnects on its own, every job is
// applied, and the client never reports a slow consumer.
func TestRunServerRestartNoSlowConsumer(t *testing.T) {
	dir := t.TempDir()
	srv := startServerOn(t, -1, dir)
	port := srv.Addr().(*net.TCPAddr).Port
	var slow atomic.Int32
	reconnected := make(chan struct{}, 1)
	_, js := connect(t, srv, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				slow.Add(1)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			select {
			case reconnected <- struct{}{}:
			default:
			}
		}))
	ctx := context.Background()
	consumer := func(stream, subjects string) jetstream.Consumer {
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
			Name: stream, Subjects: []string{subjects}, Retention: jetstream.WorkQueuePolicy,
		}); err != nil {
			t.Fatal(err)
		}
		cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
			Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		return cons
	}
	busyCons, idleCons := consumer("JOBS", "jobs.>"), consumer("LATE", "late.>")
	publish := func(subject string, from, to int) {
		for i := from; i < to; i++ {
			id := strconv.Itoa(i)
			if _, err := js.Publish(ctx, subject+"."+id, []byte(id), jetstream.WithMsgID(subject+"-"+id)); err != nil {
				t.Fatal(err)
			}
		}
	}
	const jobs, late = 20, 5
	publish("jobs", 0, jobs)

	busy, idle := newLedger(jobs), newLedger(late)
	gate := make(chan struct{})
	started := make(chan struct{}, jobs*4)
	stopBusy := runAsync(t, busyCons, newPool(t, 2), func(ctx context.Context, msg jetstream.Msg) error {
		started <- struct{}{}
		<-gate
		busy.apply(string(msg.Data()))
		return nil
	})
	stopIdle := runAsync(t, idleCons, newPool(t, 2), func(ctx context.Context, msg jetstream.Msg) error {
		idle.apply(string(msg.Data()))
		return nil
	})
	<-started
	<-started // both workers busy, more messages held

	srv.Shutdown()
	srv.WaitForShutdown()
	startServerOn(t, port, dir)
	select {
	case <-reconnected:
	case <-time.After(20 * time.Second):
		t.Fatal("no reconnect within 20s of the restart")
	}
	publish("late", 0, late) // for the pull that waited across the restart
	close(gate)
	busy.wait(t, 30*time.Second)
	idle.wait(t, 30*time.Second)
	for _, stop := range []func() error{stopBusy, stopIdle} {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}
	if n := slow.Load(); n != 0 {
		t.Errorf("the client reported a slow consumer %d times after the restart", n)
	}
	t.Logf("%d jobs across a server restart: %d applied twice", jobs+late, busy.duplicates()+idle.duplicates())
}

// A handler's panic is a task panic of the pool: counted in Stats, seen by
// the observer, logged with its stack through the pool's Logger; its
// message is nak'ed as a failure, and on the consumer's last delivery goes
// to the dead-letter hook and is termed. WithOnError is told of each.
func TestRunPanicIsThePoolsPanic(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{MaxDeliver: 3})
	logged := make(chan string, 8)
	var observed atomic.Int32
	p, err := ants.NewPool(2,
		ants.WithLogger(loggerFunc(func(format string, args ...any) { logged <- fmt.Sprintf(format, args...) })),
		ants.WithTaskObserver(func(ti ants.TaskInfo) {
			if ti.Panicked {
				observed.Add(1)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	s.publish(t, 1)
	dead := make(chan error, 1)
	var told atomic.Int32
	stop := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		var counts map[string]int
		//lint:ignore SA5000 the handler's bug under test
		counts[string(msg.Data())]++
		return nil
	}, natsjs.WithBackOff(func() backoff.BackOff { return backoff.NewConstantBackOff(10 * time.Millisecond) }),
		natsjs.WithDeadLetter(func(_ context.Context, msg jetstream.Msg, err error) { dead <- err }),
		natsjs.WithOnError(func(msg jetstream.Msg, err error) {
			if msg != nil && strings.Contains(err.Error(), "nil map") {
				told.Add(1)
			}
		}))
	var deadErr error
	select {
	case deadErr = <-dead:
	case <-time.After(20 * time.Second):
		t.Fatal("the poison message never reached the dead-letter hook")
	}
	for i := range 3 {
		select {
		case line := <-logged:
			if !strings.Contains(line, "nil map") || !strings.Contains(line, "TestRunPanicIsThePoolsPanic") {
				t.Errorf("the pool's log of panic %d lacks the value or the handler in its stack:\n%s", i+1, line)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the pool logged %d of the 3 panics", i)
		}
	}
	s.settled(t, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Panicked != 3 {
		t.Errorf("Stats.Panicked = %d, want 3", st.Panicked)
	}
	if n := observed.Load(); n != 3 {
		t.Errorf("the observer saw %d panics, want 3", n)
	}
	if n := told.Load(); n != 3 {
		t.Errorf("WithOnError was told of %d panics, want 3", n)
	}
	var re runtime.Error
	if !strings.Contains(deadErr.Error(), "handler panicked") || !errors.As(deadErr, &re) ||
		!strings.Contains(fmt.Sprintf("%+v", deadErr), "TestRunPanicIsThePoolsPanic") {
		t.Errorf("dead letter error %q: want the panic, its runtime.Error, and its stack with %%+v", deadErr)
	}
}

type loggerFunc func(format string, args ...any)

func (f loggerFunc) Printf(format string, args ...any) { f(format, args...) }

// WithOnError is told of every handler failure, retried or final, and of
// every ack, term and InProgress that failed, with the message.
func TestRunOnErrorIsToldOfFailures(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{MaxDeliver: 2})
	p := newPool(t, 4)
	// jobs.0: fails once; jobs.1: always fails; jobs.2: acks itself, so
	// Run's ack fails; jobs.3: acks itself, returns Permanent (the term
	// fails); jobs.4: acks itself, then runs past the progress interval
	// (InProgress fails).
	s.publish(t, 5)
	var mu sync.Mutex
	var told []string
	finished := make(chan struct{}, 16)
	stop := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		defer func() { finished <- struct{}{} }()
		switch string(msg.Data()) {
		case "0":
			if deliveries(msg) == 1 {
				return errors.New("flaky")
			}
		case "1":
			return errors.New("down")
		case "2":
			return msg.Ack()
		case "3":
			if err := msg.Ack(); err != nil {
				return err
			}
			return natsjs.Permanent(errors.New("bad"))
		case "4":
			if err := msg.Ack(); err != nil {
				return err
			}
			time.Sleep(200 * time.Millisecond) // the work, over several progress intervals
		}
		return nil
	}, natsjs.WithBackOff(func() backoff.BackOff { return backoff.NewConstantBackOff(10 * time.Millisecond) }),
		natsjs.WithProgressInterval(40*time.Millisecond),
		natsjs.WithOnError(func(msg jetstream.Msg, err error) {
			if msg == nil {
				t.Errorf("told of a Run error: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			told = append(told, fmt.Sprintf("%s@%d: %v", msg.Data(), deliveries(msg), err))
		}))
	for range 7 { // 0 twice, 1 twice, 2, 3 and 4 once
		<-finished
	}
	s.settled(t, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(told, "\n")
	for _, want := range []string{
		"0@1: flaky", "1@1: down", "1@2: down",
		"2@1: natsjs: ack: " + jetstream.ErrMsgAlreadyAckd.Error(),
		"3@1: bad", "3@1: natsjs: term: " + jetstream.ErrMsgAlreadyAckd.Error(),
		"4@1: natsjs: in progress: " + jetstream.ErrMsgAlreadyAckd.Error(),
	} {
		if !strings.Contains(got, want+"\n") && !strings.HasSuffix(got, want) {
			t.Errorf("WithOnError was not told %q; it was told:\n%s", want, got)
		}
	}
	if strings.Contains(got, "0@2") {
		t.Errorf("WithOnError told of a success:\n%s", got)
	}
}

// Without WithOnError, failures are logged with slog's default logger at
// warn level, no more than one line a second per kind.
func TestRunLogsFailuresRateLimited(t *testing.T) {
	var mu sync.Mutex
	var buf strings.Builder
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), nil)))
	defer slog.SetDefault(prev)

	s := newSetup(t, jetstream.ConsumerConfig{})
	p := newPool(t, 4)
	const jobs = 20
	s.publish(t, jobs)
	done := make(chan struct{}, jobs)
	start := time.Now()
	stop := runAsync(t, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		defer func() { done <- struct{}{} }()
		return natsjs.Permanent(errors.New("bad input"))
	})
	for range jobs {
		<-done
	}
	s.settled(t, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	lines := strings.Count(buf.String(), `level=WARN msg="natsjs: handler error" kind=handler error="bad input"`)
	if lines < 1 || lines > 1+int(elapsed/time.Second) {
		t.Errorf("%d handler error lines in %v for %d failures, want one a second at most, and one at least:\n%s", lines, elapsed, jobs, buf.String())
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// If the consumer is deleted under it, Run stops and says so within
// seconds.
func TestRunReturnsErrorWhenTheConsumerIsDeleted(t *testing.T) {
	s := newSetup(t, jetstream.ConsumerConfig{})
	p := newPool(t, 2)
	handled := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- natsjs.Run(context.Background(), s.cons, p, func(context.Context, jetstream.Msg) error {
			handled <- struct{}{}
			return nil
		}, natsjs.WithOnError(func(jetstream.Msg, error) {}))
	}()
	s.publish(t, 1)
	<-handled // Run is pulling
	if err := s.js.DeleteConsumer(context.Background(), "JOBS", "workers"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, jetstream.ErrConsumerDeleted) {
			t.Errorf("Run = %v after the consumer was deleted, want ErrConsumerDeleted", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run still running 10s after its consumer was deleted")
	}
}
