package ants_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/antspool/ants"
)

// Stats is a snapshot of the pool's gauges and counters. Busy, not Free,
// says how many workers can take a task now: a warm pool's idle workers
// count as running.
func ExamplePool_Stats() {
	pool, _ := ants.NewPool(4, ants.WithPanicHandler(func(any) {}))

	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		_ = pool.Submit(func() {
			defer wg.Done()
			if i == 3 {
				panic("bad record")
			}
		})
	}
	wg.Wait()
	_ = pool.ReleaseContext(context.Background()) // every worker gone: the counts are final
	_ = pool.Submit(func() {})                    // refused: released

	s := pool.Stats()
	fmt.Printf("submitted %d, completed %d, panicked %d, rejected %d\n", s.Submitted, s.Completed, s.Panicked, s.Rejected)
	fmt.Printf("busy %d of %d\n", s.Busy, s.Cap)
	// Output:
	// submitted 10, completed 10, panicked 1, rejected 1
	// busy 0 of 4
}

// A task observer sees each task's wait and run time, on the worker that
// ran it: feed it to histograms or traces.
func ExampleWithTaskObserver() {
	var mu sync.Mutex
	var slow int
	observe := func(ti ants.TaskInfo) {
		if ti.Run >= 10*time.Millisecond {
			mu.Lock()
			slow++
			mu.Unlock()
		}
	}
	pool, _ := ants.NewPool(2, ants.WithTaskObserver(observe))

	for _, d := range []time.Duration{0, 20 * time.Millisecond, 0, 30 * time.Millisecond} {
		_ = pool.Submit(func() { time.Sleep(d) })
	}
	_ = pool.ReleaseContext(context.Background()) // waits for the tasks, and so for the observer

	fmt.Println("tasks of 10ms or more:", slow)
	// Output:
	// tasks of 10ms or more: 2
}

// SlogLogger logs a task's panic as one structured record, the value and
// the stack as attributes.
func ExampleSlogLogger() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "stack" { // not reproducible: left out here
				return slog.Attr{}
			}
			return a
		},
	})
	pool, _ := ants.NewPool(1, ants.WithLogger(ants.SlogLogger(slog.New(h))))

	_ = pool.Submit(func() { panic("nil map write") })
	_ = pool.ReleaseContext(context.Background()) // waits for the panic to be logged
	// Output:
	// level=ERROR msg="ants: worker exits from panic" panic="nil map write"
}
