package main

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/antspool/ants"
)

// W7-rate: tasks paced by a rate limiter, rateTarget a second, no burst.
const rateTarget = 500

// gate is the limiter the W7-rate forms wait on: a rate.Limiter that
// counts the waits under way and the attempts it has let through, so that
// the sampler knows when the pool is throttled.
type gate struct {
	l       *rate.Limiter
	waiting atomic.Int64 // Waits under way
	granted atomic.Int64 // Waits that returned nil
}

func (g *gate) Wait(ctx context.Context) error {
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	err := g.l.Wait(ctx)
	if err == nil {
		g.granted.Add(1)
	}
	return err
}

// busySample is what the sampler saw of a pool while it was throttled.
type busySample struct {
	n, sum, max int
}

// sampleBusy reads p.Stats().Busy every 200 µs until stop is closed, and
// keeps the readings taken while throttled: a wait for g under way before
// and after the reading, and every attempt g let through completed (the
// pool's Completed, in the same snapshot as Busy, equals g's count, which
// did not move during the reading). A worker is then Busy only if a wait
// for the limiter holds it.
func sampleBusy(p *ants.Pool, g *gate, stop <-chan struct{}) *busySample {
	var s busySample
	for {
		select {
		case <-stop:
			return &s
		default:
		}
		w1, g1 := g.waiting.Load(), g.granted.Load()
		st := p.Stats()
		w2, g2 := g.waiting.Load(), g.granted.Load()
		if w1 > 0 && w2 > 0 && g1 == g2 && uint64(g1) == st.Completed {
			s.n++
			s.sum += st.Busy
			s.max = max(s.max, st.Busy)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// A rateForm runs n tasks on a pool of capacity workers, each task
// calling work once g lets it through: it calls watch with the pool once
// it has made it, and returns once every task has returned and the pool
// is released.
type rateForm struct {
	name, how string
	run       func(capacity, n int, g *gate, work func(), watch func(*ants.Pool))
}

func rateForms() []rateForm {
	ctx := context.Background()
	return []rateForm{
		{"this Group WithRateLimit Go+Wait", "`p.Group(ctx, ants.WithRateLimit(rate.NewLimiter(500, 1)))` on `ants.NewPool(GOMAXPROCS)`; `Go` per task; `Wait()`. Each attempt waits for the limiter on the caller of `Go`, before it takes a worker.", func(c, n int, g *gate, work func(), watch func(*ants.Pool)) {
			p, _ := ants.NewPool(c)
			watch(p)
			grp := p.Group(ctx, ants.WithRateLimit(g))
			for range n {
				grp.Go(func(context.Context) error { work(); return nil })
			}
			must(grp.Wait())
			must(p.ReleaseContext(ctx))
		}},
		{"this KeyedGroup WithRateLimit Go+Wait", "`ants.NewKeyedGroup[int](ctx, p, ants.WithRateLimit(rate.NewLimiter(500, 1)))` on `ants.NewPool(GOMAXPROCS)`, tasks over 10 keys; `Go` per task; `Wait()`. A task whose key's turn has come waits for the limiter on a goroutine of its own, holding no worker.", func(c, n int, g *gate, work func(), watch func(*ants.Pool)) {
			p, _ := ants.NewPool(c)
			watch(p)
			kg := ants.NewKeyedGroup[int](ctx, p, ants.WithRateLimit(g))
			for i := range n {
				kg.Go(i%10, func(context.Context) error { work(); return nil })
			}
			must(kg.Wait())
			must(p.ReleaseContext(ctx))
		}},
		{"this Pool Submit, limiter.Wait in the task", "`ants.NewPool(GOMAXPROCS)`; per task, `Submit` of a closure that calls `limiter.Wait(ctx)`, then runs the task; at the end `ReleaseContext(ctx)`. What a user of a pool without rate limits writes: the wait holds a worker.", func(c, n int, g *gate, work func(), watch func(*ants.Pool)) {
			p, _ := ants.NewPool(c)
			watch(p)
			for range n {
				must(p.Submit(func() { must(g.Wait(ctx)); work() }))
			}
			must(p.ReleaseContext(ctx))
		}},
	}
}

func rateLimit() *workload {
	procs := runtime.GOMAXPROCS(0)
	w := &workload{key: "W7-rate", name: "rate limit", reference: "this Group WithRateLimit Go+Wait",
		desc: func(cfg config) string {
			return fmt.Sprintf("%s tasks of about %v on a pool of GOMAXPROCS (%d) workers, paced by `rate.NewLimiter(%d, 1)` (`golang.org/x/time/rate`): about %v at the target rate. "+
				"A sampler reads the pool's `Stats().Busy` every 200 µs, and keeps the readings taken while the pool is throttled: an attempt waiting for the limiter, and every attempt it let through completed. "+
				"Busy is then the number of workers a wait for the limiter holds.",
				num(cfg.tasks), keyWork, procs, rateTarget, time.Duration(cfg.tasks)*time.Second/rateTarget)
		},
		extras: map[string]string{
			"rate /s":                   "tasks started per second, from the first task's start to the last's",
			"rate error %":              fmt.Sprintf("the rate's distance from %d/s, in per cent of it", rateTarget),
			"Busy while throttled, max": "the largest `Stats().Busy` read while throttled",
			"Busy while throttled, avg": "the mean of the same",
			"samples throttled":         "readings taken while throttled",
		},
		full:  config{tasks: 1000, capacity: procs},
		quick: config{tasks: 50, capacity: procs},
	}
	for _, f := range rateForms() {
		w.contenders = append(w.contenders, contender{f.name, f.how, func(cfg config, extra map[string]float64) {
			g := &gate{l: rate.NewLimiter(rateTarget, 1)}
			starts := make([]int64, cfg.tasks)
			var next atomic.Int64
			work := func() {
				s := clock()
				starts[next.Add(1)-1] = s
				for clock()-s < int64(keyWork) {
				}
			}
			stop := make(chan struct{})
			sampled := make(chan *busySample, 1)
			f.run(cfg.capacity, cfg.tasks, g, work, func(p *ants.Pool) {
				go func() { sampled <- sampleBusy(p, g, stop) }()
			})
			close(stop)
			s := <-sampled
			if int(next.Load()) != cfg.tasks {
				panic(fmt.Sprintf("%s: %d of %d tasks had run", f.name, next.Load(), cfg.tasks))
			}
			lo, hi := slices.Min(starts), slices.Max(starts)
			r := float64(cfg.tasks-1) / (float64(hi-lo) / 1e9)
			extra["rate /s"] = r
			extra["rate error %"] = (r - rateTarget) / rateTarget * 100
			extra["samples throttled"] = float64(s.n)
			extra["Busy while throttled, max"] = float64(s.max)
			if s.n > 0 {
				extra["Busy while throttled, avg"] = float64(s.sum) / float64(s.n)
			}
		}})
	}
	return w
}
