// Command example runs a fleet of Kafka consumers of one group with
// antskafka: it produces a batch of keyed records, some slow, some flaky,
// some bad, runs a few consumers on their own clients and pools, stops one
// of them midway, and checks that nothing was lost: every record handled
// or dead-lettered, in key order, and the group committed at the end of
// every partition.
//
// It starts an in-process cluster (kfake, 127.0.0.1) unless -brokers
// points at a real one, where it uses (and creates if need be) the topic
// -topic:
//
//	cd contrib/kafka && go run ./example
//	cd contrib/kafka && go run ./example -brokers 127.0.0.1:9092 -records 50000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/antspool/ants"
	antskafka "github.com/antspool/ants/contrib/kafka"
)

func main() {
	brokers := flag.String("brokers", "", "host:port,... of a Kafka cluster to use, instead of an in-process one")
	topic := flag.String("topic", "antskafka-example", "the topic, created with -partitions if it does not exist")
	partitions := flag.Int("partitions", 12, "partitions of the topic")
	records := flag.Int("records", 6000, "records to produce")
	consumers := flag.Int("consumers", 3, "consumers (each with its own client and pool)")
	flag.Parse()
	cfg := config{brokers: *brokers, topic: *topic, partitions: int32(*partitions), records: *records, consumers: *consumers}
	if err := run(context.Background(), os.Stdout, cfg); err != nil {
		log.Fatal(err)
	}
}

type config struct {
	brokers    string
	topic      string
	partitions int32
	records    int
	consumers  int
}

// The records' kinds, by index: most are quick; some are slow; some fail
// their first two attempts (flaky); some always fail (bad).
func kind(i int) string {
	switch {
	case i%97 == 13:
		return "bad"
	case i%23 == 5:
		return "flaky"
	case i%41 == 3:
		return "slow"
	}
	return "quick"
}

// outcome is what became of the records, across the fleet.
type outcome struct {
	mu       sync.Mutex
	handled  map[string]int // value -> times handled (done)
	dead     map[string]int // value -> times dead-lettered
	attempts map[string]int // value -> attempts
	last     map[string]int // partition/key -> the last index handled, for the order
	disorder int
	retried  atomic.Int64
	left     int // records neither handled nor dead-lettered yet
	allDone  chan struct{}
}

func (o *outcome) settle(rec *kgo.Record, dead bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v := string(rec.Value)
	first := o.handled[v] == 0 && o.dead[v] == 0
	if dead {
		o.dead[v]++
	} else {
		o.handled[v]++
	}
	if first {
		o.left--
		if o.left == 0 {
			close(o.allDone)
		}
	}
}

// run produces cfg.records records and consumes them with cfg.consumers
// consumers, stopping the first one a third of the way, and reports to
// out. It returns an error if anything was lost.
func run(ctx context.Context, out io.Writer, cfg config) error {
	start := time.Now()
	var addrs []string
	if cfg.brokers == "" {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(cfg.partitions, cfg.topic), kfake.GroupMinSessionTimeout(100*time.Millisecond))
		if err != nil {
			return err
		}
		defer c.Close()
		addrs = c.ListenAddrs()
		fmt.Fprintf(out, "started an in-process Kafka (kfake) at %s\n", strings.Join(addrs, ","))
	} else {
		addrs = strings.Split(cfg.brokers, ",")
	}
	admin, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		return err
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	if cfg.brokers != "" {
		if _, err := adm.CreateTopic(ctx, cfg.partitions, -1, nil, cfg.topic); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return err
		}
	}
	group := fmt.Sprintf("antskafka-example-%d", time.Now().UnixNano())
	ends, err := adm.ListEndOffsets(ctx, cfg.topic)
	if err != nil {
		return err
	}
	base := make(map[int32]int64) // the topic's end before this run: where the group starts
	ends.Each(func(o kadm.ListedOffset) { base[o.Partition] = o.Offset })

	// A new group, started at the topic's end before this run: the fleet
	// consumes this run's records only.
	if err := startAt(ctx, adm, group, cfg.topic, base); err != nil {
		return err
	}
	if err := produce(ctx, admin, cfg); err != nil {
		return err
	}
	fmt.Fprintf(out, "produced %d records over %d partitions, 100 keys: quick, slow (20ms), flaky (fail twice), bad (always fail)\n", cfg.records, cfg.partitions)

	o := &outcome{
		handled: make(map[string]int), dead: make(map[string]int), attempts: make(map[string]int),
		last: make(map[string]int), left: cfg.records, allDone: make(chan struct{}),
	}
	third := make(chan struct{})
	var thirdOnce sync.Once
	handler := func(ctx context.Context, rec *kgo.Record) error {
		v := string(rec.Value)
		var i int
		fmt.Sscan(v, &i)
		o.mu.Lock()
		o.attempts[v]++
		attempt := o.attempts[v]
		k := fmt.Sprintf("%d/%s", rec.Partition, rec.Key)
		if prev, ok := o.last[k]; ok && prev > i && o.handled[v] == 0 && o.dead[v] == 0 {
			o.disorder++
		}
		o.last[k] = i
		if o.left <= cfg.records*2/3 {
			thirdOnce.Do(func() { close(third) })
		}
		o.mu.Unlock()
		switch kind(i) {
		case "slow":
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		case "flaky":
			if attempt%3 != 0 {
				o.retried.Add(1)
				return errors.New("flaky: try again")
			}
		case "bad":
			if attempt < 3 {
				o.retried.Add(1)
			}
			return errors.New("bad record")
		}
		o.settle(rec, false)
		return nil
	}
	opts := []antskafka.Option{
		antskafka.WithBackOff(func() backoff.BackOff { // two retries, 5ms apart
			return backoff.WithMaxRetries(backoff.NewConstantBackOff(5*time.Millisecond), 2)
		}),
		antskafka.WithDeadLetter(func(ctx context.Context, rec *kgo.Record, err error) { o.settle(rec, true) }),
		antskafka.WithCommitInterval(200 * time.Millisecond),
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stops := make([]context.CancelFunc, cfg.consumers)
	errs := make([]chan error, cfg.consumers)
	clients := make([]*kgo.Client, cfg.consumers)
	for i := range cfg.consumers {
		cl, err := kgo.NewClient(append(antskafka.ClientOpts(),
			kgo.SeedBrokers(addrs...),
			kgo.ConsumerGroup(group),
			kgo.ConsumeTopics(cfg.topic),
			kgo.SessionTimeout(6*time.Second),
		)...)
		if err != nil {
			return err
		}
		clients[i] = cl
		defer cl.Close()
		pool, err := ants.NewPool(32)
		if err != nil {
			return err
		}
		defer pool.Release()
		cctx, stop := context.WithCancel(ctx)
		stops[i], errs[i] = stop, make(chan error, 1)
		go func() { errs[i] <- antskafka.Run(cctx, cl, pool, handler, opts...) }()
	}
	select {
	case <-third:
	case <-time.After(45 * time.Second):
		return errors.New("the fleet did not get a third of the way")
	}
	fmt.Fprintf(out, "consumer 0 stopping, a third of the way: it drains, commits and leaves the group\n")
	stops[0]()
	if err := <-errs[0]; err != nil {
		return err
	}
	clients[0].Close()

	select {
	case <-o.allDone:
	case <-time.After(45 * time.Second):
		o.mu.Lock()
		defer o.mu.Unlock()
		return fmt.Errorf("%d records neither handled nor dead-lettered", o.left)
	}
	// Every record is handled or dead-lettered once; those a stopped
	// member left above its last commit may still be on their way to a
	// second run: wait for the group's commits to reach every end.
	if err := awaitCommits(ctx, adm, group, cfg.topic, cfg.partitions); err != nil {
		return err
	}
	// Stop the others.
	for i := 1; i < cfg.consumers; i++ {
		stops[i]()
		if err := <-errs[i]; err != nil {
			return err
		}
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return err
	}
	ends, err = adm.ListEndOffsets(ctx, cfg.topic)
	if err != nil {
		return err
	}
	behind := 0
	ends.Each(func(e kadm.ListedOffset) {
		if c, ok := committed.Lookup(cfg.topic, e.Partition); !ok || c.At != e.Offset {
			behind++
		}
	})

	o.mu.Lock()
	defer o.mu.Unlock()
	twice := 0
	for _, n := range o.handled {
		if n > 1 {
			twice++
		}
	}
	fmt.Fprintf(out, "handled %d, retried %d times, dead-lettered %d; %d handled twice (in flight at a hand-over)\n",
		len(o.handled), o.retried.Load(), len(o.dead), twice)
	fmt.Fprintf(out, "key-order violations: %d; partitions committed short of their end: %d\n", o.disorder, behind)
	if o.left != 0 || o.disorder != 0 || behind != 0 {
		return errors.New("something was lost or out of order")
	}
	fmt.Fprintf(out, "nothing lost: every record handled or dead-lettered, the group committed at every partition's end (%v)\n",
		time.Since(start).Round(time.Millisecond))
	return nil
}

// awaitCommits waits until the group's committed offset of every
// partition of topic is the partition's end, checking every 20ms, for at
// most 30 seconds.
func awaitCommits(ctx context.Context, adm *kadm.Client, group, topic string, partitions int32) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		committed, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return err
		}
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return err
		}
		atEnd := int32(0)
		ends.Each(func(e kadm.ListedOffset) {
			if c, ok := committed.Lookup(topic, e.Partition); ok && c.At == e.Offset {
				atEnd++
			}
		})
		if atEnd == partitions {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d partitions of %d committed short of their end", partitions-atEnd, partitions)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// produce writes cfg.records records: value i, key "k<i mod 100>".
func produce(ctx context.Context, cl *kgo.Client, cfg config) error {
	recs := make([]*kgo.Record, cfg.records)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: cfg.topic, Key: fmt.Appendf(nil, "k%d", i%100), Value: fmt.Append(nil, i)}
	}
	return cl.ProduceSync(ctx, recs...).FirstErr()
}

// startAt commits the group's start, at the ends listed before this run,
// so the fleet consumes only this run's records.
func startAt(ctx context.Context, adm *kadm.Client, group, topic string, at map[int32]int64) error {
	var start kadm.Offsets
	for p, off := range at {
		start.Add(kadm.Offset{Topic: topic, Partition: p, At: off, LeaderEpoch: -1})
	}
	resp, err := adm.CommitOffsets(ctx, group, start)
	if err != nil {
		return err
	}
	return resp.Error()
}
