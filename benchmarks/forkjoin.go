package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alitto/pond/v2"
	antsv2 "github.com/panjf2000/ants/v2"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/antspool/ants"
)

// W6: a recursive fan-out. Each internal node of a tree runs its children
// and sums their values; a leaf spins for leafWork. The pools run every
// node as a task of one shared pool of GOMAXPROCS workers, so a node waits
// for children that need a worker while it holds one.
const (
	treeFan  = 4
	leafWork = 5 * time.Microsecond
)

// stuckAfter is how long a form may take before its row says "deadlocked":
// the tree takes well under a second on any form that finishes.
const stuckAfter = 10 * time.Second

// sumTree is a form's way to sum a tree of the given depth: it returns the
// number of leaves it ran.
type sumTree func(ctx context.Context, depth int) int

func leaf(ctx context.Context) int {
	_ = spin(ctx, leafWork)
	return 1
}

func forkJoin() *workload {
	procs := runtime.GOMAXPROCS(0)
	depth := func(cfg config) int { // cfg.tasks is the number of leaves, a power of treeFan
		d := 0
		for n := 1; n < cfg.tasks; n *= treeFan {
			d++
		}
		return d
	}
	type form struct {
		name, how string
		start     func(capacity int) (sumTree, func())
	}
	ourTree := func(p ants.Runner) sumTree {
		var node sumTree
		node = func(ctx context.Context, depth int) int {
			if depth == 0 {
				return leaf(ctx)
			}
			var sum atomic.Int64
			g := p.Group(ctx)
			for range treeFan {
				g.Go(func(ctx context.Context) error { sum.Add(int64(node(ctx, depth-1))); return nil })
			}
			must(g.Wait())
			return int(sum.Load())
		}
		return node
	}
	forms := []form{
		{"sequential (floor)", "The tree walked on one goroutine: no concurrency, the floor the ideal is derived from.", func(int) (sumTree, func()) {
			var node sumTree
			node = func(ctx context.Context, depth int) int {
				if depth == 0 {
					return leaf(ctx)
				}
				sum := 0
				for range treeFan {
					sum += node(ctx, depth-1)
				}
				return sum
			}
			return node, func() {}
		}},
		{"this Group nested", "`p.Group(ctx)` per node, on one `ants.NewPool(GOMAXPROCS)`: a node's children are `Go`s of its group, made with the node's own context, and the node `Wait`s. A call from a task of the pool never waits for a worker (it runs the child itself), and `Wait` runs the children not yet started.", func(c int) (sumTree, func()) {
			p, _ := ants.NewPool(c)
			return ourTree(p), func() { must(p.ReleaseContext(context.Background())) }
		}},
		{"this Group nested, queue", "As above, on `ants.NewPool(GOMAXPROCS, ants.WithQueueSize(1024))`: children are queued while there is room, and a waiting node runs its own queued children.", func(c int) (sumTree, func()) {
			p, _ := ants.NewPool(c, ants.WithQueueSize(queueSize))
			return ourTree(p), func() { must(p.ReleaseContext(context.Background())) }
		}},
		{"errgroup nested Go+Wait", "`errgroup.WithContext(ctx)` per node, a goroutine per child, no limit (a limit would deadlock the nesting).", func(int) (sumTree, func()) {
			var node sumTree
			node = func(ctx context.Context, depth int) int {
				if depth == 0 {
					return leaf(ctx)
				}
				var sum atomic.Int64
				g, ctx := errgroup.WithContext(ctx)
				for range treeFan {
					g.Go(func() error { sum.Add(int64(node(ctx, depth-1))); return nil })
				}
				must(g.Wait())
				return int(sum.Load())
			}
			return node, func() {}
		}},
		{"conc nested pools Go+Wait", "`pool.NewWithResults[int]().WithContext(ctx)` per node, a goroutine per child (conc's pools have no shared bound).", func(int) (sumTree, func()) {
			var node sumTree
			node = func(ctx context.Context, depth int) int {
				if depth == 0 {
					return leaf(ctx)
				}
				p := concpool.NewWithResults[int]().WithContext(ctx)
				for range treeFan {
					p.Go(func(ctx context.Context) (int, error) { return node(ctx, depth-1), nil })
				}
				vals, err := p.Wait()
				must(err)
				sum := 0
				for _, v := range vals {
					sum += v
				}
				return sum
			}
			return node, func() {}
		}},
		{"goroutines nested go+WaitGroup", "A `go` statement per child and a WaitGroup per node.", func(int) (sumTree, func()) {
			var node sumTree
			node = func(ctx context.Context, depth int) int {
				if depth == 0 {
					return leaf(ctx)
				}
				var sum atomic.Int64
				var wg sync.WaitGroup
				for range treeFan {
					wg.Go(func() { sum.Add(int64(node(ctx, depth-1))) })
				}
				wg.Wait()
				return int(sum.Load())
			}
			return node, func() {}
		}},
		{"pond nested groups", "`NewGroupContext(ctx)` per node on one `pond.NewPool(GOMAXPROCS)`; `SubmitErr` per child, `Wait()`. pond documents that a group's wait inside its own pool can block: once every worker waits, nothing moves.", func(c int) (sumTree, func()) {
			p := pond.NewPool(c)
			var node sumTree
			node = func(ctx context.Context, depth int) int {
				if depth == 0 {
					return leaf(ctx)
				}
				var sum atomic.Int64
				g := p.NewGroupContext(ctx)
				for range treeFan {
					g.SubmitErr(func() error { sum.Add(int64(node(g.Context(), depth-1))); return nil })
				}
				if g.Wait() != nil {
					return 0
				}
				return int(sum.Load())
			}
			return node, func() { p.Stop() }
		}},
		{"ants v2 nested Submit+WaitGroup", "By hand on one `antsv2.NewPool(GOMAXPROCS)`: a node `Submit`s its children and waits on a WaitGroup (ants #197: a submit from a task of a full pool blocks).", func(c int) (sumTree, func()) {
			p, _ := antsv2.NewPool(c)
			var node sumTree
			node = func(ctx context.Context, depth int) int {
				if depth == 0 {
					return leaf(ctx)
				}
				var sum atomic.Int64
				var wg sync.WaitGroup
				for range treeFan {
					wg.Add(1)
					must(p.Submit(func() { defer wg.Done(); sum.Add(int64(node(ctx, depth-1))) }))
				}
				wg.Wait()
				return int(sum.Load())
			}
			return node, func() { p.Release() }
		}},
	}
	w := &workload{key: "W6", name: "fork-join", reference: "errgroup nested Go+Wait",
		desc: func(cfg config) string {
			return fmt.Sprintf("A tree of fan-out %d and depth %d (%s leaves, %s nodes in all): each node runs its children and sums their values; "+
				"a leaf spins for about %v of CPU. The pools run every node as a task of one shared pool of GOMAXPROCS (%d) workers, "+
				"so a node waits for its children while it holds a worker: a pool whose nodes can take every worker and then wait for one deadlocks. "+
				"A form that has not finished after %v is recorded as deadlocked, and its goroutines are left where they hang (each measurement runs in a process of its own). "+
				"The ideal is the leaves' own work (measured in each run) divided by GOMAXPROCS.",
				treeFan, depth(cfg), num(cfg.tasks), num(nodes(depth(cfg))), leafWork, procs, stuckAfter)
		},
		extras: map[string]string{
			"× ideal":    "wall time ÷ (leaves × a leaf's measured cost ÷ GOMAXPROCS), the sequential time spread over every core: 1.00 is perfect; ns/task is per leaf",
			"deadlocked": "1 if the form had not finished after the time limit",
		},
		full:  config{tasks: 16384, capacity: procs}, // 4^7 leaves
		quick: config{tasks: 256, capacity: procs},   // 4^4
	}
	for _, f := range forms {
		w.contenders = append(w.contenders, contender{f.name, f.how, func(cfg config, extra map[string]float64) {
			sum, stop := f.start(cfg.capacity)
			// The ideal: the leaves' own work, measured here, spread over
			// every core (a leaf's spin costs more than leafWork: its clock
			// reads).
			calib := time.Now()
			for range 1000 {
				leaf(context.Background())
			}
			ideal := time.Since(calib) * time.Duration(cfg.tasks) / 1000 / time.Duration(procs)
			start := time.Now()
			done := make(chan int, 1)
			go func() { done <- sum(context.Background(), depth(cfg)) }()
			select {
			case got := <-done:
				if got != cfg.tasks {
					panic(fmt.Sprintf("%s: summed %d leaves, want %d", f.name, got, cfg.tasks))
				}
				extra["× ideal"] = float64(time.Since(start)) / float64(ideal)
				stop()
			case <-time.After(stuckAfter):
				extra["deadlocked"] = 1
			}
		}})
	}
	return w
}

// nodes is the number of nodes of a tree of fan-out treeFan and the given
// depth.
func nodes(depth int) int {
	n, level := 0, 1
	for range depth + 1 {
		n += level
		level *= treeFan
	}
	return n
}
