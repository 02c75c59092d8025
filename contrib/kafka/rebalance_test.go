package antskafka_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	antskafka "github.com/antspool/ants/contrib/kafka"
)

// A second member joins mid-run and takes some partitions; later it stops
// and leaves, and the first takes them back. Every record is handled; a
// record is handled twice only if it was in flight at a hand-over (done
// above a record not started, which the next owner fetches again); key
// order holds but for those; the group ends committed at every partition's
// end.
func TestRebalanceJoinAndLeave(t *testing.T) {
	const parts, perPhase = 6, 600
	c := newCluster(t, parts)
	w := c.watchCommits()
	tl := newTally(3 * perPhase)
	var mu sync.Mutex
	byMember := make(map[string]int)
	joined := make(chan struct{})
	var joinedOnce, bWorkedOnce sync.Once
	bWorked := make(chan struct{})
	handler := func(member string) antskafka.Handler {
		return func(ctx context.Context, rec *kgo.Record) error {
			tl.start(rec)
			mu.Lock()
			byMember[member]++
			mu.Unlock()
			if member == "b" {
				bWorkedOnce.Do(func() { close(bWorked) })
			}
			tl.done(rec)
			return nil
		}
	}
	pool := newPool(t, 16)
	opts := []antskafka.Option{antskafka.WithCommitInterval(20 * time.Millisecond), antskafka.WithDrainTimeout(5 * time.Second)}

	ctxA, stopA := context.WithCancel(context.Background())
	doneA := runAsync(ctxA, c.consumer("rebalance"), pool, handler("a"), opts...)
	recs := keyed(3*perPhase, parts, 12)
	c.produce(recs[:perPhase]...)

	clB := c.consumer("rebalance", kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
		if len(m[topic]) > 0 {
			joinedOnce.Do(func() { close(joined) })
		}
	}))
	ctxB, stopB := context.WithCancel(context.Background())
	doneB := runAsync(ctxB, clB, pool, handler("b"), opts...)
	<-joined // b has partitions
	c.produce(recs[perPhase : 2*perPhase]...)

	<-bWorked
	stopB()
	if err := wait(t, doneB); err != nil {
		t.Fatal(err)
	}
	clB.Close() // leaves the group: a takes b's partitions back
	c.produce(recs[2*perPhase:]...)
	tl.await(t)
	// Every record is handled, but the ones b left above its last commit
	// may still be on their way to a second run: a stops once its commits
	// reach every partition's end.
	w.await(t, func(seen map[int32][]int64) bool {
		for p := range int32(parts) {
			if s := seen[p]; len(s) == 0 || s[len(s)-1] != 3*perPhase/parts {
				return false
			}
		}
		return true
	})
	stopA()
	if err := wait(t, doneA); err != nil {
		t.Fatal(err)
	}

	if tl.disorder != 0 {
		t.Errorf("%d records ran before an earlier one of their key", tl.disorder)
	}
	twice := 0
	for id, n := range tl.times {
		switch {
		case n == 2:
			twice++
		case n != 1:
			t.Errorf("record %v handled %d times", id, n)
		}
	}
	// Two hand-overs (a to b, b to a), each of at most the in-flight bound.
	if bound := 2 * 4 * pool.Cap(); twice > bound {
		t.Errorf("%d records handled twice, more than the %d in flight at the hand-overs", twice, bound)
	}
	t.Logf("%d records of %d handled twice", twice, len(tl.times))
	if byMember["a"] == 0 || byMember["b"] == 0 {
		t.Errorf("records handled by member: %v; want both to have handled some", byMember)
	}
	got := c.committed("rebalance")
	for p := range int32(parts) {
		if got[p] != 3*perPhase/parts {
			t.Errorf("partition %d committed at %d, want %d", p, got[p], 3*perPhase/parts)
		}
	}
}

// Stopped with records in flight, Run commits nothing past a record that
// has not finished; a later Run, on the same client and then on a new one,
// handles every record left, so each is handled at least once.
func TestStopWithRecordsInFlight(t *testing.T) {
	const n, stuck = 30, 10
	c := newCluster(t, 1)
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Key: []byte{byte(i)}}
	}
	c.produce(recs[:n/2]...)
	cl := c.consumer("stop")
	tl := newTally(n)
	pool := newPool(t, 8)
	started := make(chan struct{})
	others := make(chan struct{}, n)
	ctx, cancel := context.WithCancel(context.Background())
	done := runAsync(ctx, cl, pool, func(ctx context.Context, rec *kgo.Record) error {
		if rec.Offset == stuck {
			close(started)
			<-ctx.Done() // a handler that runs until its context ends
			return ctx.Err()
		}
		tl.done(rec)
		others <- struct{}{}
		return nil
	}, antskafka.WithDrainTimeout(20*time.Millisecond), antskafka.WithCommitInterval(10*time.Millisecond))
	<-started
	for range n/2 - 1 {
		<-others
	}
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	if got := c.committed("stop")[0]; got != stuck {
		t.Fatalf("committed at %d after the stop, want %d (the unfinished record)", got, stuck)
	}
	if tl.count(0, stuck) != 0 {
		t.Fatal("the stuck record counted as handled")
	}

	// Again on the same client: it fetches from the unfinished record on.
	handle := func(ctx context.Context, rec *kgo.Record) error {
		tl.done(rec)
		return nil
	}
	c.produce(recs[n/2:]...)
	ctx, cancel = context.WithCancel(context.Background())
	done = runAsync(ctx, cl, pool, handle, antskafka.WithCommitInterval(10*time.Millisecond))
	tl.await(t)
	cancel()
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	if got := c.committed("stop")[0]; got != n {
		t.Fatalf("committed at %d, want %d", got, n)
	}
	for i := range int64(n) {
		if tl.count(0, i) == 0 {
			t.Errorf("record %d never handled", i)
		}
	}
	// Records after the stuck one were done before the stop, but not
	// committed: handled again, never lost.
	if tl.count(0, stuck+1) != 2 {
		t.Errorf("the record after the stuck one handled %d times, want 2", tl.count(0, stuck+1))
	}
}

// The stop waits the drain timeout once, not once per partition: with
// handlers that run until their context ends in several partitions, Run
// cancels them all when it is over and returns.
func TestDrainTimeoutEndsForEveryPartition(t *testing.T) {
	const parts = 3
	c := newCluster(t, parts)
	c.produce(keyed(parts, parts, 1)...)
	started := make(chan struct{}, parts)
	ctx, stop := context.WithCancel(context.Background())
	done := runAsync(ctx, c.consumer("drain"), newPool(t, parts), func(ctx context.Context, rec *kgo.Record) error {
		started <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}, antskafka.WithDrainTimeout(50*time.Millisecond))
	for range parts {
		<-started
	}
	stop()
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	within(t, 10*time.Second, returned, "Run to return after the drain timeout")
}

// A released pool refuses the records: Run stops with its error.
func TestReleasedPoolStopsRun(t *testing.T) {
	c := newCluster(t, 1)
	c.produce(&kgo.Record{Value: []byte("x")})
	pool := newPool(t, 1)
	_ = pool.ReleaseContext(context.Background())
	err := wait(t, runAsync(context.Background(), c.consumer("released"), pool, func(context.Context, *kgo.Record) error { return nil }))
	if err == nil {
		t.Fatal("Run on a released pool returned nil")
	}
}

// A member whose heartbeat is answered UnknownMemberID loses its
// partitions (kgo's OnPartitionsLost) while a handler of each runs, records
// wait behind it and the records done wait for a commit (the interval is an
// hour): Run cancels those handlers at once (not after the drain timeout),
// commits nothing in the lost session (neither the records done nor the
// handler that returns nil once cancelled), reports the session's error
// and goes on; the member rejoins, handles every record again (none was
// committed), and its stop commits every partition's end.
func TestLostPartitionsDroppedUncommitted(t *testing.T) {
	const parts, perPart, stuck = 3, 20, 5
	c := newCluster(t, parts)

	// Every commit request, with its generation.
	type commit struct {
		gen       int32
		partition int32
		offset    int64
	}
	var commitMu sync.Mutex
	var sent []commit
	c.c.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r := req.(*kmsg.OffsetCommitRequest)
		commitMu.Lock()
		defer commitMu.Unlock()
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				sent = append(sent, commit{r.Generation, p.Partition, p.Offset})
			}
		}
		return nil, nil, false
	})

	// Once armed, the next heartbeat is answered UnknownMemberID: the
	// member's session ends and its partitions are lost.
	var armed atomic.Bool
	lostGen := make(chan int32, 1)
	c.c.ControlKey(int16(kmsg.Heartbeat), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if !armed.Load() {
			return nil, nil, false
		}
		r := req.(*kmsg.HeartbeatRequest)
		lostGen <- r.Generation
		resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp, nil, true // handled: this control is dropped
	})

	// before counts the records handled before the loss, after those
	// handled once a lost handler was cancelled: the loss marks every
	// partition revoked before it cancels one, and every record that ran
	// before it has returned, so each record counted in after ran in the
	// session after the rejoin.
	before := make(chan struct{}, parts*perPart)
	after := newTally(parts * perPart)
	var lost atomic.Bool
	var mu sync.Mutex
	blocked := make(map[int32]bool)
	started := make(chan struct{}, parts)
	cancelled := make(chan struct{}, parts)
	handler := func(ctx context.Context, rec *kgo.Record) error {
		mu.Lock()
		block := rec.Offset == stuck && !blocked[rec.Partition]
		if block {
			blocked[rec.Partition] = true
		}
		mu.Unlock()
		switch {
		case block:
			started <- struct{}{}
			<-ctx.Done()
			lost.Store(true)
			cancelled <- struct{}{}
			return nil // finishes anyway: still not to be committed
		case lost.Load():
			after.done(rec)
		default:
			before <- struct{}{}
		}
		return nil
	}
	sessionErr := make(chan struct{})
	var sessionOnce sync.Once
	onError := func(err error) {
		if ge := (*kgo.ErrGroupSession)(nil); errors.As(err, &ge) {
			sessionOnce.Do(func() { close(sessionErr) })
		}
	}

	c.produce(keyed(parts*perPart, parts, 4)...)
	ctx, stop := context.WithCancel(context.Background())
	done := runAsync(ctx, c.consumer("lost"), newPool(t, 8), handler,
		antskafka.WithCommitInterval(time.Hour),    // commits only at a revoke and the stop
		antskafka.WithDrainTimeout(20*time.Second), // a revoke would wait this long
		antskafka.WithOnError(onError))
	returned := false
	t.Cleanup(func() { // on a failure, before the client's Close
		if !returned {
			stop()
			<-done
		}
	})

	// Keys k0..k3 in turn: the stuck record (k1) holds the three records of
	// its key after it; the other 16 of each partition are done.
	for range parts {
		<-started
	}
	for range parts * (perPart - 4) {
		<-before
	}

	armed.Store(true)
	var gen int32
	select {
	case gen = <-lostGen:
	case <-time.After(10 * time.Second):
		t.Fatal("no heartbeat after arming")
	}
	// The drain timeout is 20s: only the lost path cancels this soon.
	for range parts {
		select {
		case <-cancelled:
		case <-time.After(5 * time.Second):
			t.Fatal("a lost partition's handler was not cancelled")
		}
	}
	// kgo calls the error hook after OnPartitionsLost has returned.
	within(t, 5*time.Second, sessionErr, "the group session's error")
	noLostCommit := func() {
		t.Helper()
		commitMu.Lock()
		defer commitMu.Unlock()
		for _, cm := range sent {
			if cm.gen <= gen {
				t.Fatalf("partition %d committed at %d in generation %d, the lost session's", cm.partition, cm.offset, cm.gen)
			}
		}
	}
	noLostCommit()

	// Nothing was committed: the rejoined member handles every record.
	after.await(t)
	select {
	case err := <-done:
		t.Fatalf("Run returned %v after losing its partitions", err)
	default:
	}
	stop()
	err := wait(t, done)
	returned = true
	if err != nil {
		t.Fatal(err)
	}
	noLostCommit()
	got := c.committed("lost")
	for p := range int32(parts) {
		if got[p] != perPart {
			t.Errorf("partition %d committed at %d, want %d", p, got[p], perPart)
		}
	}
}
