package natsjs_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/antspool/ants"
	"github.com/antspool/ants/contrib/natsjs"
)

// BenchmarkFleet is jobs through a fleet, end to end: an embedded server,
// three Runs on their own connections and pools sharing one durable,
// no-op handlers, plain acks. One op is one job, published before the
// timer starts; the op ends when every job is acked. It reports jobs/s.
func BenchmarkFleet(b *testing.B) {
	s := newSetup(b, jetstream.ConsumerConfig{MaxAckPending: 1 << 16})
	for i := range b.N {
		if _, err := s.js.PublishAsync("jobs."+strconv.Itoa(i%100), nil, jetstream.WithMsgID("job-"+strconv.Itoa(i)), stallWait); err != nil {
			b.Fatal(err)
		}
	}
	<-s.js.PublishAsyncComplete()

	var handled atomic.Int64
	all := make(chan struct{})
	h := func(context.Context, jetstream.Msg) error {
		if handled.Add(1) == int64(b.N) {
			close(all)
		}
		return nil
	}
	b.ResetTimer()
	start := time.Now()
	var stops []func() error
	for range 3 {
		_, js := connect(b, s.srv)
		cons, err := js.Consumer(context.Background(), "JOBS", "workers")
		if err != nil {
			b.Fatal(err)
		}
		p, _ := ants.NewPool(64)
		stops = append(stops, runAsync(b, cons, p, h))
		b.Cleanup(p.Release)
	}
	<-all
	s.settled(b, time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	for _, stop := range stops {
		if err := stop(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "jobs/s")
}

// BenchmarkGracefulStop times a busy process's stop: from its context's end
// to Run's return, with its handlers running and its buffer full, drain
// deadline 0. One op is one stop.
func BenchmarkGracefulStop(b *testing.B) {
	s := newSetup(b, jetstream.ConsumerConfig{AckWait: time.Minute, MaxAckPending: 1 << 16})
	p := newPool(b, 16)
	var total time.Duration
	for round := range b.N {
		for i := range 64 { // ids unique across rounds: the stream drops duplicates
			id := "round-" + strconv.Itoa(round) + "-" + strconv.Itoa(i)
			if _, err := s.js.Publish(context.Background(), "jobs."+strconv.Itoa(i), nil, jetstream.WithMsgID(id)); err != nil {
				b.Fatal(err)
			}
		}
		started := make(chan struct{}, 64)
		stop := runAsync(b, s.cons, p, func(ctx context.Context, msg jetstream.Msg) error {
			started <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}, natsjs.WithDrainTimeout(0), natsjs.WithOnError(func(jetstream.Msg, error) {})) // cancelled on purpose
		for range 16 {
			<-started // busy: every slot taken
		}
		t0 := time.Now()
		if err := stop(); err != nil {
			b.Fatal(err)
		}
		total += time.Since(t0)
		// Take the jobs back out, for the next round.
		drain := runAsync(b, s.cons, p, func(context.Context, jetstream.Msg) error { return nil })
		s.settled(b, time.Minute)
		if err := drain(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/stop")
}
