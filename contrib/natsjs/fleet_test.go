package natsjs_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/antspool/ants"
	"github.com/antspool/ants/contrib/natsjs"
)

// The fleet test's consumer processes are this test binary, started again
// with these variables set; TestMain hands them to runFleetChild.
const (
	fleetURLEnv = "NATSJS_FLEET_URL"
	fleetIDEnv  = "NATSJS_FLEET_ID"
)

// runFleetChild is one consumer process of the fleet test, if the
// environment says so: it runs Run on the shared durable until SIGINT,
// reporting each job's effect on the core subject "effects" before its
// handler returns (so an effect the parent sees may still lack its ack, if
// the process dies), then exits. It reports whether it ran.
func runFleetChild() bool {
	url := os.Getenv(fleetURLEnv)
	if url == "" {
		return false
	}
	id := os.Getenv(fleetIDEnv)
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "fleet child %s: %v\n", id, err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	nc, err := nats.Connect(url)
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
	pool, _ := ants.NewPool(8)
	err = natsjs.Run(ctx, cons, pool, func(ctx context.Context, msg jetstream.Msg) error {
		spinFor(200 * time.Microsecond) // the work
		return nc.Publish("effects", []byte(string(msg.Data())+" "+id))
	})
	if err != nil {
		fail(err)
	}
	if err := pool.ReleaseContext(context.Background()); err != nil {
		fail(err)
	}
	if err := nc.Drain(); err != nil {
		fail(err)
	}
	os.Exit(0)
	return true
}

func spinFor(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// Three consumer processes share one durable; one is killed (SIGKILL)
// mid-run. Every job's effect is applied at least once, a job is applied
// twice only if the killed process held it, and nothing is left pending.
func TestFleetKilledProcessLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes; run without -short")
	}
	const jobs, processes, victim = 10000, 3, 0
	s := newSetup(t, jetstream.ConsumerConfig{AckWait: 2 * time.Second, MaxAckPending: jobs})

	// Effects, as the processes report them: job -> the processes that applied it.
	var mu sync.Mutex
	applied := make(map[string][]int, jobs)
	distinct := 0
	killAt, allApplied := make(chan struct{}), make(chan struct{})
	sub, err := s.nc.Subscribe("effects", func(m *nats.Msg) {
		job, who, _ := strings.Cut(string(m.Data), " ")
		p, _ := strconv.Atoi(who)
		mu.Lock()
		defer mu.Unlock()
		if len(applied[job]) == 0 {
			distinct++
			switch distinct {
			case jobs / 5:
				close(killAt)
			case jobs:
				close(allApplied)
			}
		}
		applied[job] = append(applied[job], p)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	cmds := make([]*exec.Cmd, processes)
	for i := range cmds {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), fleetURLEnv+"="+s.srv.ClientURL(), fleetIDEnv+"="+strconv.Itoa(i))
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
	// Publish asynchronously: the processes are consuming meanwhile.
	for i := range jobs {
		if _, err := s.js.PublishAsync("jobs."+strconv.Itoa(i), []byte(strconv.Itoa(i)), jetstream.WithMsgID("job-"+strconv.Itoa(i)), stallWait); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-s.js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		t.Fatal("publishing did not complete")
	}

	select {
	case <-killAt:
	case <-time.After(60 * time.Second):
		t.Fatal("the fleet did not get a fifth of the way")
	}
	if err := cmds[victim].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = cmds[victim].Wait()

	select {
	case <-allApplied:
	case <-time.After(60 * time.Second):
		mu.Lock()
		t.Fatalf("only %d of %d jobs applied after the kill", distinct, jobs)
	}
	s.settled(t, 30*time.Second)
	drained := time.Since(killed)
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
	if err := s.nc.Flush(); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	duplicates, byVictim := 0, 0
	for i := range jobs {
		who := applied[strconv.Itoa(i)]
		if len(who) == 0 {
			t.Fatalf("job %d was never applied", i)
		}
		for _, p := range who {
			if p == victim {
				byVictim++
			}
		}
		if len(who) > 1 {
			duplicates++
			fromVictim := false
			for _, p := range who[:len(who)-1] {
				fromVictim = fromVictim || p == victim
			}
			if !fromVictim {
				t.Errorf("job %d applied by %v: a duplicate the killed process did not hold", i, who)
			}
		}
	}
	// The killed process held at most its in-flight bound (its pool's 8)
	// running and as many buffered: only those may have run twice.
	if duplicates > 16 {
		t.Errorf("%d jobs applied twice, more than the killed process could hold", duplicates)
	}
	t.Logf("%d jobs on %d processes, one killed after %d: %d applied twice (all held by the killed one), "+
		"%d applied by it in all; settled %v after the kill; %v in all, %.0f jobs/s",
		jobs, processes, jobs/5, duplicates, byVictim, drained.Round(time.Millisecond), elapsed.Round(time.Millisecond),
		float64(jobs)/elapsed.Seconds())
}

// stallWait lets an async publish wait, on a loaded machine, for the
// server's acks to drain the publisher's window (4,000 messages by
// default) instead of failing after the default 200 ms.
var stallWait = jetstream.WithStallWait(30 * time.Second)
