package antsprom_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/antspool/ants"
	antsprom "github.com/antspool/ants/contrib/prometheus"
)

// Register a pool's Stats and its task timings; serve them with promhttp
// (http.Handle("/metrics", promhttp.Handler()) for the default registry).
func Example() {
	timings := antsprom.NewTaskTimings("crawler")
	pool, _ := ants.NewPool(8, ants.WithTaskObserver(timings.Observe))

	reg := prometheus.NewRegistry() // or prometheus.DefaultRegisterer
	reg.MustRegister(antsprom.NewStatsCollector("crawler", pool), timings)

	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		_ = pool.Submit(func() { defer wg.Done() })
	}
	wg.Wait()
	_ = pool.ReleaseContext(context.Background()) // every worker gone: the counts are final

	families, _ := reg.Gather()
	for _, f := range families {
		m := f.GetMetric()[0]
		switch f.GetName() {
		case "ants_pool_tasks_completed_total":
			fmt.Println(f.GetName(), m.GetCounter().GetValue())
		case "ants_pool_task_run_seconds":
			fmt.Println(f.GetName(), "count", m.GetHistogram().GetSampleCount())
		}
	}
	// Output:
	// ants_pool_task_run_seconds count 100
	// ants_pool_tasks_completed_total 100
}
