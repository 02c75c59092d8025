package natsjs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/antspool/ants"
	"github.com/antspool/ants/contrib/natsjs"
)

// exampleQueue starts an embedded server with a work queue JOBS, a durable
// consumer on it with MaxDeliver 3, and jobs jobs.0 to jobs.<jobs-1>; done
// shuts it all down.
func exampleQueue(jobs int) (cons jetstream.Consumer, done func()) {
	dir, _ := os.MkdirTemp("", "natsjs")
	srv, _ := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	go srv.Start()
	srv.ReadyForConnections(10e9)
	nc, _ := nats.Connect(srv.ClientURL())
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	_, _ = js.CreateStream(ctx, jetstream.StreamConfig{Name: "JOBS", Subjects: []string{"jobs.>"}, Retention: jetstream.WorkQueuePolicy})
	cons, _ = js.CreateOrUpdateConsumer(ctx, "JOBS", jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 3})
	for i := range jobs {
		_, _ = js.Publish(ctx, "jobs."+strconv.Itoa(i), []byte(strconv.Itoa(i)))
	}
	return cons, func() {
		nc.Close()
		srv.Shutdown()
		srv.WaitForShutdown()
		os.RemoveAll(dir)
	}
}

// Run a work queue's messages on a pool: nil acks, Permanent terms (after
// the dead-letter hook), any other error retries later. Every process of a
// fleet runs the same Run on the same durable consumer.
func ExampleRun() {
	cons, done := exampleQueue(3)
	defer done()
	ctx, stop := context.WithCancel(context.Background())
	pool, _ := ants.NewPool(1) // one at a time, for a stable output
	defer pool.Release()
	finished := 0
	err := natsjs.Run(ctx, cons, pool, func(ctx context.Context, msg jetstream.Msg) error {
		defer func() {
			if finished++; finished == 3 {
				stop() // a real consumer runs until its process is told to stop
			}
		}()
		if string(msg.Data()) == "1" {
			return natsjs.Permanent(errors.New("bad input"))
		}
		fmt.Println("job", string(msg.Data()), "done")
		return nil
	}, natsjs.WithInFlight(1), natsjs.WithDeadLetter(func(_ context.Context, msg jetstream.Msg, err error) {
		fmt.Println("job", string(msg.Data()), "dead-lettered:", err)
	}))
	fmt.Println("Run:", err)
	// Output:
	// job 0 done
	// job 1 dead-lettered: bad input
	// job 2 done
	// Run: <nil>
}

// WithOnError is told of every failure, the retried ones too, with the
// message (its delivery count in the metadata), and of every ack, nak,
// term or InProgress that failed. Without it, these are logged with slog,
// at most once a second per kind.
func ExampleWithOnError() {
	cons, done := exampleQueue(1)
	defer done()
	ctx, stop := context.WithCancel(context.Background())
	pool, _ := ants.NewPool(1)
	defer pool.Release()
	err := natsjs.Run(ctx, cons, pool, func(ctx context.Context, msg jetstream.Msg) error {
		meta, _ := msg.Metadata()
		if meta.NumDelivered == 1 {
			return errors.New("downstream unavailable")
		}
		fmt.Println("job", string(msg.Data()), "done on delivery", meta.NumDelivered)
		stop()
		return nil
	}, natsjs.WithBackOff(func() backoff.BackOff { return backoff.NewConstantBackOff(10 * time.Millisecond) }),
		natsjs.WithOnError(func(msg jetstream.Msg, err error) {
			if msg == nil {
				fmt.Println("Run recovered from:", err)
				return
			}
			meta, _ := msg.Metadata()
			fmt.Printf("job %s, delivery %d of %d: %v\n", msg.Data(), meta.NumDelivered, 3, err)
		}))
	fmt.Println("Run:", err)
	// Output:
	// job 0, delivery 1 of 3: downstream unavailable
	// job 0 done on delivery 2
	// Run: <nil>
}
