// Command example runs a fleet of consumers on one NATS JetStream work
// queue with natsjs: it publishes a batch of jobs, some slow, some flaky,
// some bad, runs a few consumers on their own connections and pools, stops
// one of them midway, and checks that nothing was lost.
//
// It starts an embedded nats-server (JetStream, 127.0.0.1, a temporary
// directory) unless -server points at a real one:
//
//	cd contrib/natsjs && go run ./example
//	cd contrib/natsjs && go run ./example -server nats://127.0.0.1:4222 -jobs 20000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/antspool/ants"
	"github.com/antspool/ants/contrib/natsjs"
)

func main() {
	url := flag.String("server", "", "a NATS server with JetStream to use, instead of an embedded one")
	jobs := flag.Int("jobs", 3000, "jobs to publish")
	consumers := flag.Int("consumers", 3, "consumers (each with its own connection and pool)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *url, *jobs, *consumers); err != nil {
		log.Fatal(err)
	}
}

// tally is what one consumer did.
type tally struct {
	done, retried, dead, told atomic.Int64 // told: failures WithOnError was told of
}

// run publishes jobs jobs and consumes them with consumers consumers,
// stopping the first one a third of the way, and reports to out.
func run(ctx context.Context, out io.Writer, url string, jobs, consumers int) error {
	if url == "" {
		dir, err := os.MkdirTemp("", "natsjs-example")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
		if err != nil {
			return err
		}
		go srv.Start()
		defer func() {
			srv.Shutdown()
			srv.WaitForShutdown()
		}()
		if !srv.ReadyForConnections(10 * time.Second) {
			return errors.New("embedded nats-server not ready")
		}
		url = srv.ClientURL()
		fmt.Fprintln(out, "embedded nats-server with JetStream at", url)
	}

	nc, js, err := connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	stream := "EXAMPLE_JOBS"
	_ = js.DeleteStream(ctx, stream) // a fresh queue, on a real server too
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: stream, Subjects: []string{"example.jobs.>"}, Retention: jetstream.WorkQueuePolicy,
	}); err != nil {
		return err
	}
	defer func() { _ = js.DeleteStream(context.Background(), stream) }()
	if _, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy,
		AckWait: 5 * time.Second, MaxDeliver: 3, MaxAckPending: 10000,
	}); err != nil {
		return err
	}

	// Every 20th job fails once, every 100th always fails (dead-lettered
	// after 3 deliveries), every 150th is bad input (Permanent), every
	// 10th is slow; the rest take a millisecond.
	start := time.Now()
	for i := range jobs {
		if _, err := js.PublishAsync("example.jobs."+strconv.Itoa(i), []byte(strconv.Itoa(i)), jetstream.WithMsgID("example-"+strconv.Itoa(i))); err != nil {
			return err
		}
	}
	<-js.PublishAsyncComplete()
	fmt.Fprintf(out, "published %d jobs\n", jobs)

	var effects sync.Map // job -> *atomic.Int32: times its work was done
	var deadMu sync.Mutex
	dead := map[int]string{}
	var finished atomic.Int64 // jobs done or dead-lettered
	tallies := make([]tally, consumers)
	handler := func(t *tally) natsjs.Handler {
		return func(ctx context.Context, msg jetstream.Msg) error {
			id, _ := strconv.Atoi(string(msg.Data()))
			meta, _ := msg.Metadata()
			switch {
			case id%150 == 149:
				return natsjs.Permanent(fmt.Errorf("job %d: bad input", id))
			case id%100 == 99:
				t.retried.Add(1)
				return fmt.Errorf("job %d: downstream unavailable", id)
			case id%20 == 19 && meta.NumDelivered == 1:
				t.retried.Add(1)
				return fmt.Errorf("job %d: conflict", id)
			case id%10 == 9:
				time.Sleep(20 * time.Millisecond)
			default:
				time.Sleep(time.Millisecond)
			}
			n, _ := effects.LoadOrStore(id, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
			t.done.Add(1)
			finished.Add(1)
			return nil
		}
	}
	deadLetter := func(t *tally) func(context.Context, jetstream.Msg, error) {
		return func(_ context.Context, msg jetstream.Msg, err error) {
			id, _ := strconv.Atoi(string(msg.Data()))
			deadMu.Lock()
			dead[id] = err.Error()
			deadMu.Unlock()
			t.dead.Add(1)
			finished.Add(1)
		}
	}

	var wg sync.WaitGroup
	cancels := make([]context.CancelFunc, consumers)
	errs := make([]error, consumers)
	for i := range consumers {
		cnc, cjs, err := connect(url)
		if err != nil {
			return err
		}
		defer cnc.Close()
		cons, err := cjs.Consumer(ctx, stream, "workers")
		if err != nil {
			return err
		}
		pool, _ := ants.NewPool(8)
		defer pool.Release()
		cctx, cancel := context.WithCancel(ctx)
		cancels[i] = cancel
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = natsjs.Run(cctx, cons, pool, handler(&tallies[i]),
				natsjs.WithDeadLetter(deadLetter(&tallies[i])),
				natsjs.WithOnError(func(jetstream.Msg, error) { tallies[i].told.Add(1) }),
				natsjs.WithBackOff(func() backoff.BackOff { return backoff.NewConstantBackOff(100 * time.Millisecond) }),
				natsjs.WithDrainTimeout(2*time.Second))
		}()
	}

	// Stop the first consumer a third of the way: it hands back what it has
	// not started, and finishes what it runs.
	for finished.Load() < int64(jobs/3) {
		time.Sleep(10 * time.Millisecond)
	}
	stopAt := time.Now()
	cancels[0]()
	fmt.Fprintf(out, "consumer 0 stopping after %d jobs finished in all\n", finished.Load())

	deadline := time.Now().Add(50 * time.Second)
	for finished.Load() < int64(jobs) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	for _, cancel := range cancels {
		cancel()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("consumer %d: %w", i, err)
		}
	}

	for i := range tallies {
		t := &tallies[i]
		note := ""
		if i == 0 {
			note = fmt.Sprintf(" (stopped %v in)", stopAt.Sub(start).Round(time.Millisecond))
		}
		fmt.Fprintf(out, "consumer %d%s: %d done, %d failures retried, %d dead-lettered, %d errors told\n", i, note, t.done.Load(), t.retried.Load(), t.dead.Load(), t.told.Load())
	}
	// Nothing lost: every job done, or dead-lettered for a reason; none both.
	doneJobs, twice := 0, 0
	for i := range jobs {
		v, ok := effects.Load(i)
		deadMu.Lock()
		_, isDead := dead[i]
		deadMu.Unlock()
		switch {
		case ok && isDead:
			return fmt.Errorf("job %d both done and dead-lettered", i)
		case !ok && !isDead:
			return fmt.Errorf("job %d lost: neither done nor dead-lettered", i)
		case ok:
			doneJobs++
			if v.(*atomic.Int32).Load() > 1 {
				twice++
			}
		}
	}
	ci, err := js.Consumer(ctx, stream, "workers")
	if err != nil {
		return err
	}
	info, err := ci.Info(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d jobs in %v: %d done (%d twice), %d dead-lettered; %d pending, %d unacked\n",
		jobs, elapsed.Round(time.Millisecond), doneJobs, twice, len(dead), info.NumPending, info.NumAckPending)
	if info.NumPending != 0 || info.NumAckPending != 0 {
		return errors.New("jobs left in the queue")
	}
	fmt.Fprintln(out, "nothing lost")
	return nil
}

func connect(url string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}
