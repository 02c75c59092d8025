package antskafka_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/antspool/ants"
	antskafka "github.com/antspool/ants/contrib/kafka"
	"github.com/antspool/ants/retry"
)

// tally counts the records handled, by partition and offset, and closes
// all once want distinct records are.
type tally struct {
	mu       sync.Mutex
	times    map[[2]int64]int
	want     int
	all      chan struct{}
	order    map[string]int64 // partition/key -> the last offset started
	disorder int
}

func newTally(want int) *tally {
	return &tally{times: make(map[[2]int64]int), want: want, all: make(chan struct{}), order: make(map[string]int64)}
}

// start notes a record's start, checking its key's order.
func (t *tally) start(rec *kgo.Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := fmt.Sprintf("%d/%s", rec.Partition, rec.Key)
	if last, ok := t.order[k]; ok && rec.Offset <= last && t.times[[2]int64{int64(rec.Partition), rec.Offset}] == 0 {
		t.disorder++
	}
	t.order[k] = rec.Offset
}

// done notes a record handled.
func (t *tally) done(rec *kgo.Record) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := [2]int64{int64(rec.Partition), rec.Offset}
	t.times[id]++
	if t.times[id] == 1 && len(t.times) == t.want {
		close(t.all)
	}
}

func (t *tally) await(tb testing.TB) {
	tb.Helper()
	select {
	case <-t.all:
	case <-time.After(60 * time.Second):
		t.mu.Lock()
		defer t.mu.Unlock()
		tb.Fatalf("handled %d distinct records of %d", len(t.times), t.want)
	}
}

func (t *tally) count(partition int32, offset int64) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.times[[2]int64{int64(partition), offset}]
}

// Records of one key in one partition run one at a time, in offset order,
// while keys run in parallel; everything is committed at the end.
func TestKeyOrderAndFinalCommit(t *testing.T) {
	const n, parts, keys = 2000, 4, 10
	c := newCluster(t, parts)
	c.produce(keyed(n, parts, keys)...)
	cl := c.consumer("order")
	pool := newPool(t, 32)
	tl := newTally(n)
	var running sync.Map // partition/key -> busy
	var overlap, peak, now atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(ctx, cl, pool, func(ctx context.Context, rec *kgo.Record) error {
		k := fmt.Sprintf("%d/%s", rec.Partition, rec.Key)
		if _, busy := running.LoadOrStore(k, true); busy {
			overlap.Add(1)
		}
		tl.start(rec)
		cur := now.Add(1)
		for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
		}
		if rec.Offset%7 == 0 {
			time.Sleep(time.Millisecond) // the work: some records are slow
		}
		now.Add(-1)
		running.Delete(k)
		tl.done(rec)
		return nil
	}, antskafka.WithCommitInterval(50*time.Millisecond))
	tl.await(t)
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	if o := overlap.Load(); o != 0 {
		t.Errorf("%d records ran beside another of their key", o)
	}
	if tl.disorder != 0 {
		t.Errorf("%d records ran before an earlier one of their key", tl.disorder)
	}
	if p := peak.Load(); p < 2 {
		t.Errorf("at most %d handlers ran at once; keys should run in parallel", p)
	}
	for p, off := range c.committed("order") {
		if off != n/parts {
			t.Errorf("partition %d committed at %d, want %d", p, off, n/parts)
		}
	}
	if got := len(c.committed("order")); got != parts {
		t.Errorf("%d partitions committed, want %d", got, parts)
	}
}

// A slow record holds its partition's commit back: no commit goes past it
// while it runs, though every record after it is done; once it finishes
// the partition is committed to its end.
func TestCommitStopsAtUnfinishedRecord(t *testing.T) {
	const n, slow = 10, 3
	c := newCluster(t, 1)
	w := c.watchCommits()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Key: fmt.Append(nil, i)} // a key each: all run at once
	}
	c.produce(recs...)
	cl := c.consumer("slow")
	release := make(chan struct{})
	others := make(chan struct{}, n)
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(ctx, cl, newPool(t, 16), func(ctx context.Context, rec *kgo.Record) error {
		if rec.Offset == slow {
			<-release
			return nil
		}
		others <- struct{}{}
		return nil
	}, antskafka.WithCommitInterval(10*time.Millisecond), antskafka.WithOnError(func(err error) { t.Log(err) }))
	for range n - 1 {
		<-others
	}
	// Every record but one is done: the commits reach the slow one and
	// no further.
	w.await(t, func(seen map[int32][]int64) bool {
		s := seen[0]
		return len(s) > 0 && s[len(s)-1] >= slow
	})
	close(release)
	w.await(t, func(seen map[int32][]int64) bool {
		s := seen[0]
		return len(s) > 0 && s[len(s)-1] == n
	})
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	seen := w.snapshot()[0]
	for i, off := range seen {
		if i > 0 && off < seen[i-1] {
			t.Errorf("commits went back: %v", seen)
		}
	}
	before := 0
	for _, off := range seen {
		if off < n {
			before++
			if off > slow {
				t.Errorf("committed %d while the record at %d ran: %v", off, slow, seen)
			}
		}
	}
	if before == 0 || seen[before-1] != slow {
		t.Errorf("commits before the slow record finished: %v, want the last at %d", seen[:before], slow)
	}
	if got := c.committed("slow")[0]; got != n {
		t.Errorf("committed at %d, want %d", got, n)
	}
}

// A failing record is retried with the policy, keeping its key's turn; a
// Permanent error, a record that fails every attempt, and a panicking one
// go to the dead-letter hook, and then count as done.
func TestRetriesAndDeadLetter(t *testing.T) {
	c := newCluster(t, 1)
	vals := []string{"flaky", "after-flaky", "permanent", "always", "panics", "ok"}
	recs := make([]*kgo.Record, len(vals))
	for i, v := range vals {
		recs[i] = &kgo.Record{Key: []byte("one"), Value: []byte(v)} // one key: in order
	}
	c.produce(recs...)
	cl := c.consumer("retry")
	var mu sync.Mutex
	attempts := make(map[string]int)
	var order []string
	dead := make(map[string]error)
	finished := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(ctx, cl, newPool(t, 4), func(ctx context.Context, rec *kgo.Record) error {
		v := string(rec.Value)
		mu.Lock()
		attempts[v]++
		a := attempts[v]
		order = append(order, v)
		mu.Unlock()
		switch v {
		case "flaky":
			if a < 3 {
				return errors.New("not yet")
			}
		case "permanent":
			return retry.Permanent(errors.New("bad record"))
		case "always":
			return errors.New("down")
		case "panics":
			panic("boom")
		case "ok":
			close(finished)
		}
		return nil
	},
		antskafka.WithBackOff(func() backoff.BackOff { return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 2) }),
		antskafka.WithDeadLetter(func(ctx context.Context, rec *kgo.Record, err error) {
			mu.Lock()
			dead[string(rec.Value)] = err
			mu.Unlock()
		}),
		antskafka.WithCommitInterval(10*time.Millisecond),
	)
	<-finished
	w := c.watchCommits()
	w.await(t, func(seen map[int32][]int64) bool {
		s := seen[0]
		return len(s) > 0 && s[len(s)-1] == int64(len(vals))
	})
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"flaky": 3, "after-flaky": 1, "permanent": 1, "always": 3, "panics": 3, "ok": 1}
	for v, n := range want {
		if attempts[v] != n {
			t.Errorf("%s: %d attempts, want %d", v, attempts[v], n)
		}
	}
	wantOrder := "[flaky flaky flaky after-flaky permanent always always always panics panics panics ok]"
	if got := fmt.Sprint(order); got != wantOrder {
		t.Errorf("attempts in order %s, want %s", got, wantOrder)
	}
	if len(dead) != 3 || dead["permanent"] == nil || dead["always"] == nil || dead["panics"] == nil {
		t.Errorf("dead-lettered %v, want permanent, always and panics", dead)
	}
	if err := dead["permanent"]; err == nil || err.Error() != "bad record" {
		t.Errorf("permanent's error %v, want the one inside Permanent", err)
	}
	var pe *ants.PanicError
	if !errors.As(dead["panics"], &pe) || pe.Value != "boom" || len(pe.Stack) == 0 {
		t.Errorf("panic's error %#v, want an *ants.PanicError with the value and a stack", dead["panics"])
	}
}

// Past the in-flight bound Run pauses fetching, and takes no more records
// until one finishes.
func TestBackPressurePausesFetching(t *testing.T) {
	const n, bound = 40, 5
	c := newCluster(t, 2)
	c.produce(keyed(n, 2, n)...)
	cl := c.consumer("bound")
	release := make(chan struct{})
	var started, peak atomic.Int64
	full := make(chan struct{})
	tl := newTally(n)
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(ctx, cl, newPool(t, 64), func(ctx context.Context, rec *kgo.Record) error {
		cur := started.Add(1)
		for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
		}
		if cur == bound {
			close(full)
		}
		<-release
		started.Add(-1)
		tl.done(rec)
		return nil
	}, antskafka.WithMaxInFlight(bound))
	<-full
	// Run holds the bound: it pauses the partitions it has.
	deadline := time.Now().Add(30 * time.Second)
	for len(cl.PauseFetchPartitions(nil)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("fetching was not paused at the bound")
		}
		time.Sleep(time.Millisecond) // polling the client's state; no event to wait on
	}
	if got := started.Load(); got != bound {
		t.Errorf("%d handlers running at the bound, want %d", got, bound)
	}
	close(release)
	tl.await(t)
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p != bound {
		t.Errorf("at most %d handlers ran at once, want %d (the bound)", p, bound)
	}
	if paused := cl.PauseFetchPartitions(nil); len(paused) != 0 {
		t.Errorf("partitions still paused after Run: %v", paused)
	}
}

// Bad input: an error, nothing started.
func TestBadInput(t *testing.T) {
	c := newCluster(t, 1)
	cl := c.consumer("bad")
	pool := newPool(t, 1)
	h := func(context.Context, *kgo.Record) error { return nil }
	var nilPool *ants.Pool
	// Clients of other groups: in "bad" they could take its one partition.
	plain, err := kgo.NewClient(kgo.SeedBrokers(c.addrs...), kgo.ConsumerGroup("bad-plain"), kgo.ConsumeTopics(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	// ClientOpts without a group: the client itself refuses them.
	if _, err := kgo.NewClient(append(antskafka.ClientOpts(), kgo.SeedBrokers(c.addrs...), kgo.ConsumeTopics(topic))...); err == nil {
		t.Error("kgo accepted ClientOpts without a group")
	}
	lookalike, err := kgo.NewClient(kgo.SeedBrokers(c.addrs...), kgo.ConsumerGroup("bad-lookalike"), kgo.ConsumeTopics(topic),
		kgo.BlockRebalanceOnPoll(), kgo.DisableAutoCommit()) // the options, but not Run's hooks
	if err != nil {
		t.Fatal(err)
	}
	defer lookalike.Close()
	cases := []struct {
		name string
		err  error
		run  func() error
	}{
		{"nil ctx", ants.ErrNilContext, func() error { return antskafka.Run(nil, cl, pool, h) }}, //lint:ignore SA1012 a nil context is the bad input under test
		{"nil client", antskafka.ErrNilClient, func() error { return antskafka.Run(context.Background(), nil, pool, h) }},
		{"nil runner", ants.ErrNilRunner, func() error { return antskafka.Run(context.Background(), cl, nil, h) }},
		{"nil *Pool", ants.ErrNilRunner, func() error { return antskafka.Run(context.Background(), cl, nilPool, h) }},
		{"nil handler", antskafka.ErrNilHandler, func() error { return antskafka.Run(context.Background(), cl, pool, nil) }},
		{"plain client", antskafka.ErrClientOpts, func() error { return antskafka.Run(context.Background(), plain, pool, h) }},
		{"without the hooks", antskafka.ErrClientOpts, func() error { return antskafka.Run(context.Background(), lookalike, pool, h) }},
	}
	for _, tc := range cases {
		if err := tc.run(); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}

	// A second Run on a client in use.
	c.produce(&kgo.Record{Value: []byte("x")})
	var once sync.Once
	busy := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(ctx, cl, pool, func(context.Context, *kgo.Record) error {
		once.Do(func() { close(busy) })
		return nil
	})
	<-busy
	if err := antskafka.Run(context.Background(), cl, pool, h); !errors.Is(err, antskafka.ErrRunning) {
		t.Errorf("second Run: %v, want ErrRunning", err)
	}
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
}

// WithOrder(ByPartition) runs one record of a partition at a time, in
// offset order, whatever the keys; WithOrder(Unordered) runs records of one
// key side by side.
func TestOrderOptions(t *testing.T) {
	const n, parts = 200, 2
	for _, tc := range []struct {
		name  string
		order antskafka.Order
		keys  int
	}{{"ByPartition", antskafka.ByPartition, n}, {"Unordered", antskafka.Unordered, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, parts)
			c.produce(keyed(n, parts, tc.keys)...)
			tl := newTally(n)
			var mu sync.Mutex
			busy := make(map[int32]int) // partition -> handlers running
			last := make(map[int32]int64)
			overlap, disorder, together := 0, 0, 0
			done := make(chan error, 1)
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				done <- antskafka.Run(ctx, c.consumer("order-"+tc.name), newPool(t, 16), func(ctx context.Context, rec *kgo.Record) error {
					mu.Lock()
					if busy[rec.Partition] > 0 {
						overlap++
					}
					if l, ok := last[rec.Partition]; ok && rec.Offset < l {
						disorder++
					}
					last[rec.Partition] = rec.Offset
					busy[rec.Partition]++
					mu.Unlock()
					time.Sleep(100 * time.Microsecond) // the work
					mu.Lock()
					if busy[rec.Partition] > 1 {
						together++
					}
					busy[rec.Partition]--
					mu.Unlock()
					tl.done(rec)
					return nil
				}, antskafka.WithOrder(tc.order))
			}()
			tl.await(t)
			cancel()
			if err := wait(t, done); err != nil {
				t.Fatal(err)
			}
			switch tc.order {
			case antskafka.ByPartition:
				if overlap != 0 || disorder != 0 {
					t.Errorf("%d records ran beside another of their partition, %d out of offset order", overlap, disorder)
				}
			case antskafka.Unordered:
				if together == 0 {
					t.Error("records of one key never ran side by side")
				}
			}
		})
	}
}

// A nil policy means no retries; a dead-letter hook's panic goes to the
// error hook, and the record still counts as done.
func TestNoRetriesAndDeadLetterPanic(t *testing.T) {
	c := newCluster(t, 1)
	c.produce(&kgo.Record{Value: []byte("fails")})
	w := c.watchCommits()
	var attempts atomic.Int64
	reported := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(ctx, c.consumer("noretry"), newPool(t, 2), func(context.Context, *kgo.Record) error {
		attempts.Add(1)
		return errors.New("down")
	},
		antskafka.WithBackOff(func() retry.BackOff { return nil }),
		antskafka.WithDeadLetter(func(context.Context, *kgo.Record, error) { panic("dead-letter topic unreachable") }),
		antskafka.WithOnError(func(err error) {
			select {
			case reported <- err:
			default:
			}
		}),
		antskafka.WithCommitInterval(10*time.Millisecond),
	)
	w.await(t, func(seen map[int32][]int64) bool {
		s := seen[0]
		return len(s) > 0 && s[len(s)-1] == 1
	})
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	if n := attempts.Load(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	select {
	case err := <-reported:
		if !strings.Contains(err.Error(), "dead-letter topic unreachable") {
			t.Errorf("error hook told %v, want the dead-letter hook's panic", err)
		}
	default:
		t.Error("the dead-letter hook's panic was not reported")
	}
}
