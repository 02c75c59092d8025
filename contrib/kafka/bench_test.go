package antskafka_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/antspool/ants"
	antskafka "github.com/antspool/ants/contrib/kafka"
)

// The benchmarks consume benchRecords records, keyed (1,000 keys), from 12
// partitions of a kfake cluster, each iteration in a new group from the
// start, and report records/s from the first record's start to the last
// one's end (the group's join is not counted), and records/s-wall over the
// whole iteration (join, first fetch and stop included). The handler waits 1ms (an
// I/O call); or waits 1ms, and 20ms for one record in 50; or does nothing.
//
//	go test -run '^$' -bench . -benchtime 3x -count 3
const (
	benchParts   = 12
	benchRecords = 12000
	benchPool    = 64
)

func BenchmarkConsume(b *testing.B) {
	c := newCluster(b, benchParts)
	c.produce(keyed(benchRecords, benchParts, 1000/benchParts)...)
	wait1ms := func(*kgo.Record) { time.Sleep(time.Millisecond) }
	// 1ms, but one record in 50 waits 20ms: a slow call among quick ones.
	tail := func(r *kgo.Record) {
		if r.Offset%50 == 7 {
			time.Sleep(20 * time.Millisecond)
			return
		}
		time.Sleep(time.Millisecond)
	}
	noop := func(*kgo.Record) {}
	for _, h := range []struct {
		name string
		work func(*kgo.Record)
	}{{"wait1ms", wait1ms}, {"wait1ms-tail", tail}, {"noop", noop}} {
		b.Run("Run/"+h.name, func(b *testing.B) { benchConsume(b, c, h.work, consumeRun) })
		b.Run("PartitionLoop/"+h.name, func(b *testing.B) { benchConsume(b, c, h.work, consumePerPartition) })
		b.Run("PollBarrier/"+h.name, func(b *testing.B) { benchConsume(b, c, h.work, consumeBarrier) })
	}
}

var benchGroups atomic.Int64

// consumer consumes from cl, calling handle on each record, until ctx
// ends.
type consumer func(ctx context.Context, cl *kgo.Client, handle func(*kgo.Record))

func benchConsume(b *testing.B, c *cluster, work func(*kgo.Record), consume consumer) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		cl := c.consumer(fmt.Sprintf("bench-%d", benchGroups.Add(1))) // a new group: from the start
		var first, last atomic.Int64
		var done atomic.Int64
		all := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		finished := make(chan struct{})
		b.StartTimer()
		go func() {
			defer close(finished)
			consume(ctx, cl, func(r *kgo.Record) {
				first.CompareAndSwap(0, time.Now().UnixNano())
				work(r)
				if done.Add(1) == benchRecords {
					last.Store(time.Now().UnixNano())
					close(all)
				}
			})
		}()
		select {
		case <-all:
		case <-time.After(2 * time.Minute):
			b.Fatalf("%d of %d records handled", done.Load(), benchRecords)
		}
		b.StopTimer()
		cancel()
		<-finished
		cl.Close()
		total += time.Duration(last.Load() - first.Load())
	}
	b.ReportMetric(float64(b.N*benchRecords)/total.Seconds(), "records/s")
	b.ReportMetric(float64(b.N*benchRecords)/b.Elapsed().Seconds(), "records/s-wall") // join, fetches and stop included
}

// consumeRun is antskafka.Run on a pool of 64.
func consumeRun(ctx context.Context, cl *kgo.Client, handle func(*kgo.Record)) {
	pool, _ := ants.NewPool(benchPool)
	defer pool.Release()
	_ = antskafka.Run(ctx, cl, pool, func(_ context.Context, rec *kgo.Record) error {
		handle(rec)
		return nil
	})
}

// consumePerPartition is the usual franz-go loop: one goroutine per
// partition handles its records in order; the poll loop hands each
// partition's records to its goroutine and commits what the goroutines
// have finished.
func consumePerPartition(ctx context.Context, cl *kgo.Client, handle func(*kgo.Record)) {
	type tp struct {
		t string
		p int32
	}
	workers := make(map[tp]chan []*kgo.Record)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var finished []*kgo.Record
	defer func() {
		for _, ch := range workers {
			close(ch)
		}
		wg.Wait()
		cl.AllowRebalance()
	}()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			key := tp{p.Topic, p.Partition}
			ch := workers[key]
			if ch == nil {
				ch = make(chan []*kgo.Record, 64)
				workers[key] = ch
				wg.Add(1)
				go func() {
					defer wg.Done()
					for recs := range ch {
						for _, r := range recs {
							handle(r)
						}
						mu.Lock()
						finished = append(finished, recs[len(recs)-1])
						mu.Unlock()
					}
				}()
			}
			ch <- p.Records
		})
		mu.Lock()
		commit := finished
		finished = nil
		mu.Unlock()
		if len(commit) > 0 {
			_ = cl.CommitRecords(ctx, commit...)
		}
		cl.AllowRebalance()
	}
}

// consumeBarrier polls, runs the poll's records on a pool of 64 as a
// Group, waits for all of them, commits, and polls again.
func consumeBarrier(ctx context.Context, cl *kgo.Client, handle func(*kgo.Record)) {
	pool, _ := ants.NewPool(benchPool)
	defer pool.Release()
	defer cl.AllowRebalance()
	for {
		fs := cl.PollRecords(ctx, 4*benchPool)
		if ctx.Err() != nil {
			return
		}
		g := pool.Group(ctx)
		fs.EachRecord(func(r *kgo.Record) {
			g.Go(func(context.Context) error {
				handle(r)
				return nil
			})
		})
		_ = g.Wait()
		_ = cl.CommitUncommittedOffsets(ctx)
		cl.AllowRebalance()
	}
}

// BenchmarkHandOver measures a member's leaving: two members run Run on
// an idle topic; the second stops, records are produced to its partitions,
// and it closes (leaves the group). Timed: from its Close to the first
// member having handled those records, with ClientOpts' FetchMaxWait
// (100ms) and with kgo's default (5s): the partitions it takes over are
// fetched only once its fetch in flight, on its own idle partitions,
// returns.
//
//	go test -run '^$' -bench HandOver -benchtime 3x .
func BenchmarkHandOver(b *testing.B) {
	for _, fw := range []time.Duration{100 * time.Millisecond, 5 * time.Second} {
		b.Run("FetchMaxWait="+fw.String(), func(b *testing.B) {
			pool := newPool(b, benchPool)
			b.StopTimer()
			for range b.N {
				c := newCluster(b, benchParts) // an empty topic: the members start at its start
				group := fmt.Sprintf("handover-%d", benchGroups.Add(1))
				var mu sync.Mutex
				var secondParts []int32
				assigned := make(chan struct{}, 2)
				onAssigned := func(second bool) kgo.Opt {
					return kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
						if second {
							mu.Lock()
							secondParts = append(secondParts, m[topic]...)
							mu.Unlock()
						}
						if len(m) > 0 {
							assigned <- struct{}{}
						}
					})
				}
				handled := make(chan struct{}, benchParts)
				h := func(context.Context, *kgo.Record) error {
					handled <- struct{}{}
					return nil
				}
				ctx, cancel := context.WithCancel(context.Background())
				first := c.consumer(group, kgo.FetchMaxWait(fw), onAssigned(false))
				done1 := runAsync(ctx, first, pool, h)
				<-assigned
				ctx2, cancel2 := context.WithCancel(context.Background())
				second := c.consumer(group, kgo.FetchMaxWait(fw), onAssigned(true))
				done2 := runAsync(ctx2, second, pool, h)
				<-assigned
				for len(handled) > 0 {
					<-handled
				}
				cancel2()
				<-done2
				mu.Lock()
				recs := make([]*kgo.Record, len(secondParts))
				for i, p := range secondParts {
					recs[i] = &kgo.Record{Partition: p}
				}
				mu.Unlock()
				c.produce(recs...)
				b.StartTimer()
				second.Close()
				for range recs {
					<-handled
				}
				b.StopTimer()
				cancel()
				<-done1
				first.Close()
				c.c.Close()
			}
		})
	}
}
