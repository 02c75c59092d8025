package antsprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/antspool/ants"
)

// DefaultBuckets are the upper bounds, in seconds, of the histograms of
// TaskTimings unless WithBuckets says otherwise: 10µs to about 42s, each
// bound four times the last.
var DefaultBuckets = prometheus.ExponentialBuckets(10e-6, 4, 12)

// TaskTimings is a prometheus.Collector of two histograms, fed by a pool's
// task observer:
//
//	ants_pool_task_wait_seconds{pool}  how long each task waited for a worker
//	ants_pool_task_run_seconds{pool}   how long each task ran
//
// Give its Observe method to the pool, ants.WithTaskObserver(t.Observe),
// and register it. Its methods are safe for concurrent use; Observe costs
// two histogram observations, lock-free, on the worker.
type TaskTimings struct {
	wait, run prometheus.Histogram
}

// An Option configures TaskTimings.
type Option func(*options)

type options struct {
	waitBuckets, runBuckets []float64
}

// WithBuckets sets the histograms' bucket bounds, in seconds: wait for the
// wait times, run for the run times. A nil or empty slice keeps
// DefaultBuckets.
func WithBuckets(wait, run []float64) Option {
	return func(o *options) { o.waitBuckets, o.runBuckets = wait, run }
}

// NewTaskTimings returns the histograms for the pool named pool (the
// "pool" label of both).
func NewTaskTimings(pool string, opts ...Option) *TaskTimings {
	o := options{}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	buckets := func(b []float64) []float64 {
		if len(b) == 0 {
			return DefaultBuckets
		}
		return b
	}
	labels := prometheus.Labels{"pool": pool}
	return &TaskTimings{
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        "ants_pool_task_wait_seconds",
			Help:        "How long tasks waited for a worker, from submit to start.",
			ConstLabels: labels,
			Buckets:     buckets(o.waitBuckets),
		}),
		run: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:        "ants_pool_task_run_seconds",
			Help:        "How long tasks ran.",
			ConstLabels: labels,
			Buckets:     buckets(o.runBuckets),
		}),
	}
}

// Observe records one task; it is an ants task observer.
func (t *TaskTimings) Observe(ti ants.TaskInfo) {
	t.wait.Observe(ti.Wait.Seconds())
	t.run.Observe(ti.Run.Seconds())
}

// Describe implements prometheus.Collector.
func (t *TaskTimings) Describe(ch chan<- *prometheus.Desc) {
	t.wait.Describe(ch)
	t.run.Describe(ch)
}

// Collect implements prometheus.Collector.
func (t *TaskTimings) Collect(ch chan<- prometheus.Metric) {
	t.wait.Collect(ch)
	t.run.Collect(ch)
}
