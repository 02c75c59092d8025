package antskafka_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/antspool/ants"
	antskafka "github.com/antspool/ants/contrib/kafka"
)

const topic = "jobs"

// cluster is a kfake cluster of one broker on 127.0.0.1 with topic's
// partitions, closed at the test's end.
type cluster struct {
	t     testing.TB
	c     *kfake.Cluster
	addrs []string
}

func newCluster(t testing.TB, partitions int32, opts ...kfake.Opt) *cluster {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic), kfake.GroupMinSessionTimeout(100 * time.Millisecond)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &cluster{t: t, c: c, addrs: c.ListenAddrs()}
}

// produce writes recs, each to the partition it names, and waits for them.
func (c *cluster) produce(recs ...*kgo.Record) {
	c.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0), kgo.MaxBufferedRecords(len(recs)+1))
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close()
	for _, r := range recs {
		if r.Topic == "" {
			r.Topic = topic
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		c.t.Fatal(err)
	}
}

// keyed returns n records spread over partitions in turn, with keys
// "k0".."k<keys-1>" in turn within each partition, and values "0".."n-1".
func keyed(n, partitions, keys int) []*kgo.Record {
	recs := make([]*kgo.Record, n)
	for i := range recs {
		p := i % partitions
		recs[i] = &kgo.Record{Partition: int32(p), Key: fmt.Appendf(nil, "k%d", (i/partitions)%keys), Value: fmt.Append(nil, i)}
	}
	return recs
}

// consumer is a group consumer made for Run, closed at the test's end.
func (c *cluster) consumer(group string, opts ...kgo.Opt) *kgo.Client {
	c.t.Helper()
	all := append(antskafka.ClientOpts(),
		kgo.SeedBrokers(c.addrs...),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(50*time.Millisecond),
		kgo.SessionTimeout(time.Second),
		kgo.HeartbeatInterval(100*time.Millisecond),
	)
	cl, err := kgo.NewClient(append(all, opts...)...)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(cl.Close)
	return cl
}

// committed returns the group's committed offset of each partition.
func (c *cluster) committed(group string) map[int32]int64 {
	c.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addrs...))
	if err != nil {
		c.t.Fatal(err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).FetchOffsets(context.Background(), group)
	if err != nil {
		c.t.Fatal(err)
	}
	out := make(map[int32]int64)
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil {
			out[o.Partition] = o.At
		}
	})
	return out
}

// commits records every offset commit request the cluster receives,
// (the test clusters have one topic), in order, until the test ends.
type commits struct {
	mu   sync.Mutex
	seen map[int32][]int64
	cond func(map[int32][]int64) bool
	met  chan struct{}
}

func (c *cluster) watchCommits() *commits {
	w := &commits{seen: make(map[int32][]int64)}
	c.c.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, t := range req.(*kmsg.OffsetCommitRequest).Topics {
			for _, p := range t.Partitions {
				w.seen[p.Partition] = append(w.seen[p.Partition], p.Offset)
			}
		}
		if w.cond != nil && w.cond(w.seen) {
			w.cond = nil
			close(w.met)
		}
		return nil, nil, false
	})
	return w
}

// await waits until cond holds of the commits seen, or fails the test
// after a generous bound.
func (w *commits) await(t testing.TB, cond func(map[int32][]int64) bool) {
	t.Helper()
	w.mu.Lock()
	if cond(w.seen) {
		w.mu.Unlock()
		return
	}
	met := make(chan struct{})
	w.cond, w.met = cond, met
	w.mu.Unlock()
	select {
	case <-met:
	case <-time.After(30 * time.Second):
		t.Fatal("timed out waiting for commits")
	}
}

// snapshot copies the commits seen so far.
func (w *commits) snapshot() map[int32][]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[int32][]int64, len(w.seen))
	for p, s := range w.seen {
		out[p] = append([]int64(nil), s...)
	}
	return out
}

func newPool(t testing.TB, n int) *ants.Pool {
	t.Helper()
	p, err := ants.NewPool(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.ReleaseContext(context.Background()) })
	return p
}

// runAsync starts Run and returns a channel that gets its error.
func runAsync(ctx context.Context, cl *kgo.Client, r ants.Runner, h antskafka.Handler, opts ...antskafka.Option) <-chan error {
	done := make(chan error, 1)
	go func() { done <- antskafka.Run(ctx, cl, r, h, opts...) }()
	return done
}

// wait returns Run's error, or fails the test if Run takes too long.
func wait(t testing.TB, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

// within waits for ch to close, or fails the test after d.
func within(t testing.TB, d time.Duration, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("waited %v for %s", d, what)
	}
}
