package natsjs_test

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/antspool/ants"
	"github.com/antspool/ants/contrib/natsjs"
)

// The fleet test's consumer processes are this test binary, started again
// with these variables set; TestMain hands them to runFleetChild.
const (
	fleetURLEnv = "NATSJS_FLEET_URL"
	fleetLogEnv = "NATSJS_FLEET_LOG"
)

// The fleet's faults, in each consumer process: its pool is busy with other
// work past AckWait once, after fleetBusyAfter jobs; a job whose number
// is a multiple of fleetPanicEvery panics on its first delivery.
const (
	fleetAckWait    = 2 * time.Second
	fleetBusyAfter  = 300
	fleetBusyFor    = 3 * time.Second // 1.5 AckWaits
	fleetPanicEvery = 97
)

// fleetLog is a consumer process's record, one line per event, appended
// to a file the parent reads once the process has exited (or been
// killed): "applied <job>" before the job's handler returns nil (so an
// effect may lack its ack if the process dies); "error <job> <error>" for
// what WithOnError is told of a message; "run-error <error>" for what it
// is told with none; "slow-consumer"; and at a clean exit "panicked <n>",
// the pool's Stats.Panicked.
type fleetLog struct {
	mu sync.Mutex
	f  *os.File
}

func (l *fleetLog) line(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.f, format+"\n", args...)
}

// runFleetChild is one consumer process of the fleet test, if the
// environment says so: it runs Run on the shared durable until SIGINT,
// with the faults above, logging to its file, then exits. It reports
// whether it ran.
func runFleetChild() bool {
	url := os.Getenv(fleetURLEnv)
	if url == "" {
		return false
	}
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "fleet child: %v\n", err)
		os.Exit(1)
	}
	f, err := os.OpenFile(os.Getenv(fleetLogEnv), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fail(err)
	}
	log := &fleetLog{f: f}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) {
				log.line("slow-consumer")
			}
		}))
	if err != nil {
		fail(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		fail(err)
	}
	cons, err := js.Consumer(ctx, "JOBS", "workers")
	if err != nil {
		fail(err)
	}
	pool, _ := ants.NewPool(8, ants.WithPanicHandler(func(any) {})) // told through WithOnError
	var handled atomic.Int32
	var busy sync.WaitGroup
	err = natsjs.Run(ctx, cons, pool, func(ctx context.Context, msg jetstream.Msg) error {
		job := string(msg.Data())
		if handled.Add(1) == fleetBusyAfter {
			// The service's other work takes every worker, past AckWait.
			busy.Go(func() {
				for range pool.Cap() {
					_ = pool.Submit(func() { time.Sleep(fleetBusyFor) })
				}
			})
		}
		if n, _ := strconv.Atoi(job); n%fleetPanicEvery == 0 && deliveries(msg) == 1 {
			panic("poison " + job)
		}
		spinFor(200 * time.Microsecond) // the work
		log.line("applied %s %d", job, time.Now().UnixNano())
		return nil
	}, natsjs.WithDoubleAck(),
		natsjs.WithBackOff(func() backoff.BackOff { return backoff.NewConstantBackOff(100 * time.Millisecond) }),
		natsjs.WithOnError(func(msg jetstream.Msg, err error) {
			if msg == nil {
				log.line("run-error %v", err)
				return
			}
			log.line("error %s %v", msg.Data(), err)
		}))
	if err != nil {
		fail(err)
	}
	busy.Wait()
	if err := pool.ReleaseContext(context.Background()); err != nil {
		fail(err)
	}
	log.line("panicked %d", pool.Stats().Panicked)
	if err := nc.Drain(); err != nil {
		fail(err)
	}
	if err := f.Close(); err != nil {
		fail(err)
	}
	os.Exit(0)
	return true
}

func spinFor(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// Three consumer processes share one durable, with every fault at once:
// each one's pool is busy with other work past AckWait for a while, some
// jobs panic on their first delivery, one process is killed (SIGKILL) a
// fifth of the way, and the server restarts (same store, same port) two
// fifths of the way. Every job is applied; a job is applied twice only
// if the killed process held it, or if a process was told (WithOnError)
// that its ack failed; every panic is the pool's and is told; no process
// reports a slow consumer; nothing is left pending.
func TestFleetFaultsLoseNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes; run without -short")
	}
	const processes, victim = 3, 0
	jobs := 6000
	if n, err := strconv.Atoi(os.Getenv("NATSJS_FLEET_JOBS")); err == nil && n > 0 {
		jobs = n
	}
	dir := t.TempDir()
	store := filepath.Join(dir, "store")
	srv := startServerOn(t, -1, store)
	port := srv.Addr().(*net.TCPAddr).Port
	_, js := connect(t, srv, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "JOBS", Subjects: []string{"jobs.>"}, Retention: jetstream.WorkQueuePolicy,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, "JOBS", jetstream.ConsumerConfig{
		Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: fleetAckWait, MaxDeliver: 10, MaxAckPending: jobs,
	}); err != nil {
		t.Fatal(err)
	}
	// Publish before the processes start: the server's restart must not
	// cut a publish short.
	for i := range jobs {
		if _, err := js.PublishAsync("jobs."+strconv.Itoa(i), []byte(strconv.Itoa(i)), jetstream.WithMsgID("job-"+strconv.Itoa(i)), stallWait); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("publishing did not complete")
	}

	logs := make([]string, processes)
	cmds := make([]*exec.Cmd, processes)
	for i := range cmds {
		logs[i] = filepath.Join(dir, "process-"+strconv.Itoa(i)+".log")
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), fleetURLEnv+"="+srv.ClientURL(), fleetLogEnv+"="+logs[i])
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	defer func() {
		for _, cmd := range cmds {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		}
	}()
	start := time.Now()

	// left is the number of jobs not yet acked or termed, as the consumer
	// counts them (pending, and delivered without an ack); polled: the
	// server has no event for it.
	left := func() uint64 {
		c, err := js.Consumer(ctx, "JOBS", "workers")
		if err != nil {
			return uint64(jobs) // the server is restarting
		}
		ci := c.CachedInfo()
		return ci.NumPending + uint64(ci.NumAckPending)
	}
	until := func(what string, n uint64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for left() > n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d jobs left after 60s", what, left())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	until("the kill", uint64(jobs*4/5))
	if err := cmds[victim].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmds[victim].Wait()

	until("the restart", uint64(jobs*3/5))
	down := time.Now()
	srv.Shutdown()
	srv.WaitForShutdown()
	startServerOn(t, port, store)
	up := time.Now()
	outage := up.Sub(down)
	until("the end", 0)
	elapsed := time.Since(start)

	for i, cmd := range cmds {
		if i == victim {
			continue
		}
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("process %d: %v, want a clean exit after SIGINT", i, err)
		}
	}

	r := readFleetLogs(t, logs)
	r.sortByTime()
	duplicates, byVictim, held, reported, stopping := 0, 0, 0, 0, 0
	for i := range jobs {
		job := strconv.Itoa(i)
		who := r.applied[job]
		if len(who) == 0 {
			t.Fatalf("job %d was never applied", i)
		}
		for _, p := range who {
			if p == victim {
				byVictim++
			}
		}
		if len(who) == 1 {
			continue
		}
		duplicates += len(who) - 1
		// Each application but the last must have lost its ack: the
		// killed process held it, or its process was told.
		for _, p := range who[:len(who)-1] {
			switch {
			case p == victim:
				held++
			case r.ackFailed[p][job]:
				reported++
			case r.within(job, p, down.Add(-200*time.Millisecond), up):
				// Acked as the server stopped: it confirmed the ack (a
				// DoubleAck returned nil) and redelivered the message
				// after its restart all the same.
				stopping++
			default:
				var at []string
				for _, ns := range r.when[job] {
					at = append(at, time.Unix(0, ns).Sub(down).Round(time.Millisecond).String())
				}
				t.Errorf("job %d applied by processes %v, at %v from the restart (down for %v): process %d applied it, and was not told its ack failed",
					i, who, at, outage.Round(time.Millisecond), p)
			}
		}
	}
	panicsTold := 0
	for i := range processes {
		panicsTold += r.panicsTold[i]
		if i != victim && r.panicked[i] != r.panicsTold[i] {
			t.Errorf("process %d: Stats.Panicked %d, WithOnError told of %d panics", i, r.panicked[i], r.panicsTold[i])
		}
	}
	if panicsTold < jobs/fleetPanicEvery/2 {
		t.Errorf("%d panics told, want about one per %dth job", panicsTold, fleetPanicEvery)
	}
	if r.slow > 0 {
		t.Errorf("%d slow consumer events", r.slow)
	}
	t.Logf("%d jobs on %d processes, busy pools, %d panics, one killed at a fifth, the server restarted at two fifths (down %v): "+
		"%d applied twice (%d held by the killed one, %d told of a failed ack, %d acked as the server stopped); the killed one applied %d; %d errors told in all; %v, %.0f jobs/s",
		jobs, processes, panicsTold, outage.Round(time.Millisecond), duplicates, held, reported, stopping, byVictim, r.errors, elapsed.Round(time.Millisecond),
		float64(jobs)/elapsed.Seconds())
}

// fleetResult is what the processes' logs say.
type fleetResult struct {
	applied    map[string][]int   // job -> the processes that applied it, in their order
	when       map[string][]int64 // job -> when each application was logged (Unix ns), in the order of applied
	ackFailed  []map[string]bool  // per process: the jobs whose ack it was told failed
	panicsTold []int              // per process: panics WithOnError was told of
	panicked   []int              // per process: its pool's Stats.Panicked at exit
	slow       int                // slow consumer events
	errors     int                // lines WithOnError wrote
}

// sortByTime puts each job's applications in the order they happened.
func (r *fleetResult) sortByTime() {
	for job, who := range r.applied {
		when := r.when[job]
		idx := make([]int, len(who))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(when[a], when[b]) })
		w2, t2 := make([]int, len(who)), make([]int64, len(who))
		for i, k := range idx {
			w2[i], t2[i] = who[k], when[k]
		}
		r.applied[job], r.when[job] = w2, t2
	}
}

// within reports whether process p applied job between from and to.
func (r *fleetResult) within(job string, p int, from, to time.Time) bool {
	for i, q := range r.applied[job] {
		if at := time.Unix(0, r.when[job][i]); q == p && !at.Before(from) && !at.After(to) {
			return true
		}
	}
	return false
}

func readFleetLogs(t *testing.T, logs []string) *fleetResult {
	r := &fleetResult{
		applied:    map[string][]int{},
		when:       map[string][]int64{},
		ackFailed:  make([]map[string]bool, len(logs)),
		panicsTold: make([]int, len(logs)),
		panicked:   make([]int, len(logs)),
	}
	for p, name := range logs {
		r.ackFailed[p] = map[string]bool{}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			kind, rest, _ := strings.Cut(sc.Text(), " ")
			switch kind {
			case "applied":
				job, when, _ := strings.Cut(rest, " ")
				ns, _ := strconv.ParseInt(when, 10, 64)
				r.applied[job] = append(r.applied[job], p)
				r.when[job] = append(r.when[job], ns)
			case "error":
				r.errors++
				job, text, _ := strings.Cut(rest, " ")
				switch {
				case strings.HasPrefix(text, "natsjs: ack:"):
					r.ackFailed[p][job] = true
				case strings.HasPrefix(text, "natsjs: handler panicked: poison"):
					r.panicsTold[p]++
				}
			case "run-error":
				r.errors++
			case "slow-consumer":
				r.slow++
			case "panicked":
				r.panicked[p], _ = strconv.Atoi(rest)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// stallWait lets an async publish wait, on a loaded machine, for the
// server's acks to drain the publisher's window (4,000 messages by
// default) instead of failing after the default 200 ms.
var stallWait = jetstream.WithStallWait(30 * time.Second)
