package antskafka_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/antspool/ants"
	antskafka "github.com/antspool/ants/contrib/kafka"
	"github.com/antspool/ants/retry"
)

// Run a consumer group's records on a pool: a handler's nil means done, a
// retry.Permanent error goes to the dead-letter hook, another error is
// retried. Every process of a fleet runs the same Run in the same group.
func ExampleRun() {
	cluster, _ := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	defer cluster.Close()
	producer, _ := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	defer producer.Close()
	for _, v := range []string{"apple", "pear", "rotten plum"} {
		producer.ProduceSync(context.Background(), &kgo.Record{Topic: "orders", Key: []byte("basket-1"), Value: []byte(v)})
	}

	// The client is made with ClientOpts first, then its own options.
	cl, _ := kgo.NewClient(append(antskafka.ClientOpts(),
		kgo.SeedBrokers(cluster.ListenAddrs()...),
		kgo.ConsumerGroup("packers"),
		kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)...)
	defer cl.Close() // after Run has returned

	pool, _ := ants.NewPool(8)
	defer pool.Release()
	ctx, stop := context.WithCancel(context.Background())
	seen := 0
	err := antskafka.Run(ctx, cl, pool, func(ctx context.Context, rec *kgo.Record) error {
		// One key: one record at a time, in offset order.
		seen++
		if seen == 3 {
			defer stop() // the demo ends after the third record
		}
		if string(rec.Value) == "rotten plum" {
			return retry.Permanent(errors.New("cannot pack a rotten plum"))
		}
		fmt.Println("packed", string(rec.Value))
		return nil
	}, antskafka.WithDeadLetter(func(ctx context.Context, rec *kgo.Record, err error) {
		fmt.Printf("dead letter: %s (%v)\n", rec.Value, err)
	}), antskafka.WithDrainTimeout(time.Second))
	fmt.Println("Run:", err)
	// Output:
	// packed apple
	// packed pear
	// dead letter: rotten plum (cannot pack a rotten plum)
	// Run: <nil>
}
