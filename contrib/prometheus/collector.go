// Package antsprom exports the Stats of an ants pool, and the wait and run
// times of its tasks, as Prometheus metrics. It lives in a module of its
// own, github.com/antspool/ants/contrib/prometheus, so that a user of the
// pool who does not use Prometheus never downloads client_golang.
//
//	timings := antsprom.NewTaskTimings("crawler")
//	pool, _ := ants.NewPool(64, ants.WithTaskObserver(timings.Observe))
//	prometheus.MustRegister(antsprom.NewStatsCollector("crawler", pool), timings)
//
// Every metric carries a constant label pool="crawler", so several pools
// can be registered side by side under their own names.
package antsprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/antspool/ants"
)

// StatsSource is what NewStatsCollector reads: every pool type and
// multi-pool of package ants has a Stats method.
type StatsSource interface {
	Stats() ants.Stats
}

// statsMetric is one metric of a Stats snapshot.
type statsMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(ants.Stats) float64
}

// statsCollector exports a pool's Stats: one snapshot per scrape.
type statsCollector struct {
	source  StatsSource
	metrics []statsMetric
}

// NewStatsCollector returns a collector that exports the Stats of source,
// which is the pool named pool (the metrics' "pool" label): gauges for
// what a snapshot measures now, counters for what it has counted since the
// pool was created.
//
//	ants_pool_capacity{pool}               gauge    Stats.Cap (-1: no limit)
//	ants_pool_workers{pool}                gauge    Stats.Running: worker goroutines alive
//	ants_pool_busy_workers{pool}           gauge    Stats.Busy: workers running a task
//	ants_pool_idle_workers{pool}           gauge    Stats.Idle
//	ants_pool_waiting_callers{pool}        gauge    Stats.Waiting: callers blocked in a submit
//	ants_pool_queued_tasks{pool}           gauge    Stats.Queued: accepted, not started
//	ants_pool_tasks_submitted_total{pool}  counter  Stats.Submitted
//	ants_pool_tasks_completed_total{pool}  counter  Stats.Completed
//	ants_pool_tasks_panicked_total{pool}   counter  Stats.Panicked
//	ants_pool_submits_rejected_total{pool} counter  Stats.Rejected
//	ants_pool_submits_canceled_total{pool} counter  Stats.Canceled
//	ants_pool_wait_seconds_total{pool}     counter  Stats.WaitTime
//
// Each scrape calls source.Stats once, which changes nothing in the pool.
// ants_pool_wait_seconds_total counts the waits in line (callers blocked
// in a submit, Group retries waiting for a worker); on a queue-mode pool it
// counts waits only when the pool has a task observer (such as
// TaskTimings.Observe): see ants.Stats.WaitTime.
func NewStatsCollector(pool string, source StatsSource) prometheus.Collector {
	labels := prometheus.Labels{"pool": pool}
	metric := func(name, help string, kind prometheus.ValueType, value func(ants.Stats) float64) statsMetric {
		return statsMetric{prometheus.NewDesc("ants_pool_"+name, help, nil, labels), kind, value}
	}
	gauge, counter := prometheus.GaugeValue, prometheus.CounterValue
	return &statsCollector{source: source, metrics: []statsMetric{
		metric("capacity", "The most workers the pool runs at once; -1 for no limit.",
			gauge, func(s ants.Stats) float64 { return float64(s.Cap) }),
		metric("workers", "Worker goroutines alive, busy or idle.",
			gauge, func(s ants.Stats) float64 { return float64(s.Running) }),
		metric("busy_workers", "Workers running a task.",
			gauge, func(s ants.Stats) float64 { return float64(s.Busy) }),
		metric("idle_workers", "Workers waiting for a task.",
			gauge, func(s ants.Stats) float64 { return float64(s.Idle) }),
		metric("waiting_callers", "Callers blocked in a submit, waiting for a worker.",
			gauge, func(s ants.Stats) float64 { return float64(s.Waiting) }),
		metric("queued_tasks", "Tasks accepted and not yet started: queued (WithQueueSize), or Group retries.",
			gauge, func(s ants.Stats) float64 { return float64(s.Queued) }),
		metric("tasks_submitted_total", "Tasks handed to a worker.",
			counter, func(s ants.Stats) float64 { return float64(s.Submitted) }),
		metric("tasks_completed_total", "Tasks that returned, normally, by a panic or by runtime.Goexit.",
			counter, func(s ants.Stats) float64 { return float64(s.Completed) }),
		metric("tasks_panicked_total", "Tasks that panicked.",
			counter, func(s ants.Stats) float64 { return float64(s.Panicked) }),
		metric("submits_rejected_total", "Submits refused with ErrPoolOverload or ErrPoolClosed.",
			counter, func(s ants.Stats) float64 { return float64(s.Rejected) }),
		metric("submits_canceled_total", "Submits whose context ended before a worker took the task.",
			counter, func(s ants.Stats) float64 { return float64(s.Canceled) }),
		metric("wait_seconds_total", "Total time accepted tasks waited for a worker.",
			counter, func(s ants.Stats) float64 { return s.WaitTime.Seconds() }),
	}}
}

// Describe implements prometheus.Collector.
func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
}

// Collect implements prometheus.Collector: one Stats snapshot per call.
func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.source.Stats()
	for _, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(s))
	}
}
