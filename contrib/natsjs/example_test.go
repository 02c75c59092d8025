package natsjs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/antspool/ants"
	"github.com/antspool/ants/contrib/natsjs"
)

// Run a work queue's messages on a pool: nil acks, Permanent terms (after
// the dead-letter hook), any other error retries later. Every process of a
// fleet runs the same Run on the same durable consumer.
func ExampleRun() {
	dir, _ := os.MkdirTemp("", "natsjs")
	defer os.RemoveAll(dir)
	srv, _ := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	go srv.Start()
	defer srv.WaitForShutdown()
	defer srv.Shutdown()
	srv.ReadyForConnections(10e9)

	nc, _ := nats.Connect(srv.ClientURL())
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, stop := context.WithCancel(context.Background())
	_, _ = js.CreateStream(ctx, jetstream.StreamConfig{Name: "JOBS", Subjects: []string{"jobs.>"}, Retention: jetstream.WorkQueuePolicy})
	cons, _ := js.CreateOrUpdateConsumer(ctx, "JOBS", jetstream.ConsumerConfig{Durable: "workers", AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: 3})
	for i := range 3 {
		_, _ = js.Publish(ctx, "jobs."+strconv.Itoa(i), []byte(strconv.Itoa(i)))
	}

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
