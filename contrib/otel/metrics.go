package antsotel

import (
	"context"
	"errors"
	"reflect"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/antspool/ants"
)

// ErrNilSource is returned by Metrics for a nil StatsSource (a nil
// interface, or a nil pointer in one).
var ErrNilSource = errors.New("antsotel: nil stats source")

// StatsSource is what Metrics reads: every pool type and multi-pool of
// package ants has a Stats method.
type StatsSource interface {
	Stats() ants.Stats
}

// DefaultBuckets are the bucket bounds, in seconds, of the histograms of
// TaskTimings unless WithBuckets says otherwise: 10µs to about 42s, each
// bound four times the last (contrib/prometheus's DefaultBuckets).
var DefaultBuckets = []float64{
	10e-6, 40e-6, 160e-6, 640e-6, 2.56e-3, 10.24e-3,
	40.96e-3, 163.84e-3, 655.36e-3, 2.62144, 10.48576, 41.94304,
}

// A MetricsOption configures Metrics and NewTaskTimings. A nil
// MetricsOption is ignored.
type MetricsOption func(*metricsConfig)

type metricsConfig struct {
	provider                metric.MeterProvider
	waitBuckets, runBuckets []float64
}

// WithMeterProvider sets the MeterProvider the instruments come from. nil,
// the default, means the global one (otel.GetMeterProvider), as it is when
// Metrics or NewTaskTimings is called: a global provider set later is used
// too, if none was set before (the global provider's delegation).
func WithMeterProvider(mp metric.MeterProvider) MetricsOption {
	return func(c *metricsConfig) { c.provider = mp }
}

// WithBuckets sets the explicit bucket bounds, in seconds, that
// NewTaskTimings advises for its histograms: wait for the wait times, run
// for the run times. A nil or empty slice keeps DefaultBuckets. A View of
// the MeterProvider overrides them. Metrics ignores it.
func WithBuckets(wait, run []float64) MetricsOption {
	return func(c *metricsConfig) { c.waitBuckets, c.runBuckets = wait, run }
}

func newMetricsConfig(opts []MetricsOption) metricsConfig {
	c := metricsConfig{}
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	if c.provider == nil {
		c.provider = otel.GetMeterProvider()
	}
	return c
}

// instrumentKind is the kind of an instrument of a Stats count.
type instrumentKind uint8

const (
	gauge   instrumentKind = iota // a value that does not add up across pools
	upDown                        // a current count, which adds up
	counter                       // a total since the pool was created
)

// statsCount describes one instrument of a Stats snapshot's counts.
type statsCount struct {
	kind              instrumentKind
	name, unit, about string
	value             func(ants.Stats) int64
}

// statsCounts are Metrics' integer instruments, in the order of its doc.
var statsCounts = []statsCount{
	{gauge, "ants.pool.capacity", "{worker}", "The most workers the pool runs at once; -1 for no limit.",
		func(s ants.Stats) int64 { return int64(s.Cap) }},
	{upDown, "ants.pool.workers", "{worker}", "Worker goroutines alive, busy or idle.",
		func(s ants.Stats) int64 { return int64(s.Running) }},
	{upDown, "ants.pool.workers.busy", "{worker}", "Workers running a task.",
		func(s ants.Stats) int64 { return int64(s.Busy) }},
	{upDown, "ants.pool.workers.idle", "{worker}", "Workers waiting for a task.",
		func(s ants.Stats) int64 { return int64(s.Idle) }},
	{upDown, "ants.pool.callers.waiting", "{caller}", "Callers blocked in a submit, waiting for a worker.",
		func(s ants.Stats) int64 { return int64(s.Waiting) }},
	{upDown, "ants.pool.tasks.queued", "{task}", "Tasks accepted and not yet started: queued (WithQueueSize), or Group retries.",
		func(s ants.Stats) int64 { return int64(s.Queued) }},
	{counter, "ants.pool.tasks.submitted", "{task}", "Tasks handed to a worker.",
		func(s ants.Stats) int64 { return int64(s.Submitted) }},
	{counter, "ants.pool.tasks.completed", "{task}", "Tasks that returned, normally, by a panic or by runtime.Goexit.",
		func(s ants.Stats) int64 { return int64(s.Completed) }},
	{counter, "ants.pool.tasks.panicked", "{task}", "Tasks that panicked.",
		func(s ants.Stats) int64 { return int64(s.Panicked) }},
	{counter, "ants.pool.submits.rejected", "{submit}", "Submits refused with ErrPoolOverload or ErrPoolClosed.",
		func(s ants.Stats) int64 { return int64(s.Rejected) }},
	{counter, "ants.pool.submits.canceled", "{submit}", "Submits whose context ended before a worker took the task.",
		func(s ants.Stats) int64 { return int64(s.Canceled) }},
}

// Metrics registers, with a meter of the MeterProvider (WithMeterProvider;
// the global one by default), asynchronous instruments that report the
// Stats of source, the pool named pool. Each carries the attribute
// ants.pool.name=pool. Every collection calls source.Stats once, which
// changes nothing in the pool:
//
//	ants.pool.capacity          gauge            {worker}  Stats.Cap (-1: no limit)
//	ants.pool.workers           updowncounter    {worker}  Stats.Running: worker goroutines alive
//	ants.pool.workers.busy      updowncounter    {worker}  Stats.Busy: workers running a task
//	ants.pool.workers.idle      updowncounter    {worker}  Stats.Idle
//	ants.pool.callers.waiting   updowncounter    {caller}  Stats.Waiting: callers blocked in a submit
//	ants.pool.tasks.queued      updowncounter    {task}    Stats.Queued: accepted, not started
//	ants.pool.tasks.submitted   counter          {task}    Stats.Submitted
//	ants.pool.tasks.completed   counter          {task}    Stats.Completed
//	ants.pool.tasks.panicked    counter          {task}    Stats.Panicked
//	ants.pool.submits.rejected  counter          {submit}  Stats.Rejected
//	ants.pool.submits.canceled  counter          {submit}  Stats.Canceled
//	ants.pool.wait.time         counter (float)  s         Stats.WaitTime
//
// These are contrib/prometheus's metrics under OpenTelemetry's names: the
// current counts are up-down counters (they add up across pools), the
// capacity a gauge (it does not: -1 means no limit), the totals
// monotonic counters. ants.pool.wait.time counts the waits in line (callers
// blocked in a submit, Group retries waiting for a worker); on a
// queue-mode pool it counts waits only when the pool has a task observer
// (such as TaskTimings.Observe): see ants.Stats.WaitTime.
//
// The returned Registration's Unregister stops the reports: after it
// returns, source is no longer read, and the provider keeps no reference
// to it. Register a pool once, under a name of its own; two pools under one
// name report the same series. Metrics returns ErrNilSource for a nil
// source, and the meter's error if an instrument or the callback cannot
// be made or the callback registered (then no callback is registered).
func Metrics(pool string, source StatsSource, opts ...MetricsOption) (metric.Registration, error) {
	if source == nil {
		return nil, ErrNilSource
	}
	if v := reflect.ValueOf(source); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, ErrNilSource
	}
	c := newMetricsConfig(opts)
	meter := c.provider.Meter(ScopeName)
	var errs []error
	counts := make([]metric.Int64Observable, len(statsCounts))
	observables := make([]metric.Observable, 0, len(statsCounts)+1)
	for i, sc := range statsCounts {
		unit, about := metric.WithUnit(sc.unit), metric.WithDescription(sc.about)
		var err error
		switch sc.kind {
		case gauge:
			counts[i], err = meter.Int64ObservableGauge(sc.name, unit, about)
		case upDown:
			counts[i], err = meter.Int64ObservableUpDownCounter(sc.name, unit, about)
		case counter:
			counts[i], err = meter.Int64ObservableCounter(sc.name, unit, about)
		}
		errs = append(errs, err)
		observables = append(observables, counts[i])
	}
	waitTime, err := meter.Float64ObservableCounter("ants.pool.wait.time", metric.WithUnit("s"),
		metric.WithDescription("Total time accepted tasks waited for a worker."))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	observables = append(observables, waitTime)
	attrs := metric.WithAttributeSet(attribute.NewSet(PoolNameKey.String(pool)))
	return meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := source.Stats()
		for i, sc := range statsCounts {
			o.ObserveInt64(counts[i], sc.value(s), attrs)
		}
		o.ObserveFloat64(waitTime, s.WaitTime.Seconds(), attrs)
		return nil
	}, observables...)
}

// TaskTimings records two histograms, fed by a pool's task observer:
//
//	ants.pool.task.wait.duration  s  how long each task waited for a worker, from submit to start
//	ants.pool.task.run.duration   s  how long each task ran
//
// Both carry the attribute ants.pool.name. Give its Observe method to the
// pool, ants.WithTaskObserver(t.Observe). Its methods are safe for
// concurrent use. The histograms are synchronous instruments: there is
// nothing to unregister, a TaskTimings nobody calls reports nothing new.
type TaskTimings struct {
	wait, run metric.Float64Histogram
	record    []metric.RecordOption // ants.pool.name; made once, so that a Record allocates nothing
}

// NewTaskTimings returns the histograms for the pool named pool, from a
// meter of the MeterProvider (WithMeterProvider; the global one by
// default), with the bucket bounds of WithBuckets (DefaultBuckets by
// default). It returns the meter's error if an instrument cannot be made
// (with the SDK: bounds of WithBuckets that do not increase).
func NewTaskTimings(pool string, opts ...MetricsOption) (*TaskTimings, error) {
	c := newMetricsConfig(opts)
	buckets := func(b []float64) []float64 {
		if len(b) == 0 {
			return DefaultBuckets
		}
		return b
	}
	meter := c.provider.Meter(ScopeName)
	wait, errWait := meter.Float64Histogram("ants.pool.task.wait.duration", metric.WithUnit("s"),
		metric.WithDescription("How long tasks waited for a worker, from submit to start."),
		metric.WithExplicitBucketBoundaries(buckets(c.waitBuckets)...))
	run, errRun := meter.Float64Histogram("ants.pool.task.run.duration", metric.WithUnit("s"),
		metric.WithDescription("How long tasks ran."),
		metric.WithExplicitBucketBoundaries(buckets(c.runBuckets)...))
	if err := errors.Join(errWait, errRun); err != nil {
		return nil, err
	}
	return &TaskTimings{
		wait:   wait,
		run:    run,
		record: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(PoolNameKey.String(pool)))},
	}, nil
}

// Observe records one task's wait and run times; it is an ants task
// observer (ants.WithTaskObserver). It never blocks and never panics.
func (t *TaskTimings) Observe(ti ants.TaskInfo) {
	ctx := context.Background()
	t.wait.Record(ctx, ti.Wait.Seconds(), t.record...)
	t.run.Record(ctx, ti.Run.Seconds(), t.record...)
}
