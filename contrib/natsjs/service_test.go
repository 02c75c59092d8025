package natsjs_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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

// The server restarts (the same store, the same port) while Run holds
// messages, its handlers busy: the connection reconnects on its own, every
// job is applied, and the client never reports a slow consumer.
func TestRunServerRestartNoSlowConsumer(t *testing.T) {
	dir := t.TempDir()
	srv := startServerOn(t, -1, dir)
	port := srv.Addr().(*net.TCPAddr).Port
	var slow atomic.Int32
	reconnected := make(chan struct{}, 1)
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
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
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "JOBS", Subjects: []string{"jobs.>"}, Retention: jetstream.WorkQueuePolicy,
	}); err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "JOBS", jetstream.ConsumerConfig{
		Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	const jobs = 20
	for i := range jobs {
		if _, err := js.Publish(ctx, "jobs."+strconv.Itoa(i), []byte(strconv.Itoa(i)), jetstream.WithMsgID("job-"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}

	l := newLedger(jobs)
	gate := make(chan struct{})
	started := make(chan struct{}, jobs*4)
	p := newPool(t, 2)
	stop := runAsync(t, cons, p, func(ctx context.Context, msg jetstream.Msg) error {
		started <- struct{}{}
		<-gate
		l.apply(string(msg.Data()))
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
	close(gate)
	l.wait(t, 30*time.Second)
	if err := stop(); err != nil {
		t.Error(err)
	}
	if n := slow.Load(); n != 0 {
		t.Errorf("the client reported a slow consumer %d times after the restart", n)
	}
	t.Logf("%d jobs across a server restart: %d applied twice", jobs, l.duplicates())
}

var _ = natsjs.Permanent
