package antsotel_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/antspool/ants"
	antsotel "github.com/antspool/ants/contrib/otel"
)

// metered is a MeterProvider of the SDK read by hand.
type metered struct {
	mp     *sdkmetric.MeterProvider
	reader *sdkmetric.ManualReader
}

func newMetered(t *testing.T) *metered {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		if err := mp.Shutdown(context.Background()); err != nil {
			t.Errorf("MeterProvider.Shutdown = %v", err)
		}
	})
	return &metered{mp: mp, reader: reader}
}

// collect returns the metrics of this package's scope, by name.
func (m *metered) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := make(map[string]metricdata.Metrics)
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != antsotel.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// point is one metric's value for one pool: kind is "gauge", "updown",
// "counter" or "histogram"; value is the count of a histogram.
type point struct {
	kind  string
	value float64
	unit  string
}

// pointOf returns the data point of m for the pool named pool.
func pointOf(t *testing.T, m metricdata.Metrics, pool string) (point, bool) {
	t.Helper()
	switch d := m.Data.(type) {
	case metricdata.Gauge[int64]:
		return find(d.DataPoints, pool, point{kind: "gauge", unit: m.Unit}, func(dp metricdata.DataPoint[int64]) (attribute.Set, float64) {
			return dp.Attributes, float64(dp.Value)
		})
	case metricdata.Sum[int64]:
		return find(d.DataPoints, pool, point{kind: sumKind(d.IsMonotonic), unit: m.Unit}, func(dp metricdata.DataPoint[int64]) (attribute.Set, float64) {
			return dp.Attributes, float64(dp.Value)
		})
	case metricdata.Sum[float64]:
		return find(d.DataPoints, pool, point{kind: sumKind(d.IsMonotonic), unit: m.Unit}, func(dp metricdata.DataPoint[float64]) (attribute.Set, float64) {
			return dp.Attributes, dp.Value
		})
	case metricdata.Histogram[float64]:
		return find(d.DataPoints, pool, point{kind: "histogram", unit: m.Unit}, func(dp metricdata.HistogramDataPoint[float64]) (attribute.Set, float64) {
			return dp.Attributes, float64(dp.Count)
		})
	}
	t.Fatalf("%s: unexpected data %T", m.Name, m.Data)
	return point{}, false
}

func sumKind(monotonic bool) string {
	if monotonic {
		return "counter"
	}
	return "updown"
}

// find returns p with the value of the data point of pool among dps, and
// whether there is one; read gives a data point's attributes and value.
func find[DP any](dps []DP, pool string, p point, read func(DP) (attribute.Set, float64)) (point, bool) {
	for _, dp := range dps {
		attrs, v := read(dp)
		if name, ok := attrs.Value(antsotel.PoolNameKey); ok && name.AsString() == pool {
			p.value = v
			return p, true
		}
	}
	return p, false
}

// A pool's Stats and task timings, after a known workload, are what the
// instruments report; after Unregister the Stats are no longer reported.
func TestMetricsAfterAWorkload(t *testing.T) {
	m := newMetered(t)
	timings, err := antsotel.NewTaskTimings("crawler", antsotel.WithMeterProvider(m.mp))
	if err != nil {
		t.Fatal(err)
	}
	handled := make(chan any, 16)
	p := newPool(t, 2, ants.WithTaskObserver(timings.Observe), ants.WithPanicHandler(func(v any) { handled <- v }))
	reg, err := antsotel.Metrics("crawler", p, antsotel.WithMeterProvider(m.mp))
	if err != nil {
		t.Fatal(err)
	}

	// 10 tasks, 3 of which panic.
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		err := p.SubmitCtx(context.Background(), func(context.Context) {
			defer wg.Done()
			if i%4 == 0 {
				panic("boom")
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	for range 3 {
		<-handled
	}
	// Both workers held: each has observed its earlier tasks (a worker
	// observes a task before it takes the next). A TrySubmit is then
	// rejected, and a SubmitCtx with a done context canceled.
	started, gate := make(chan struct{}, 2), make(chan struct{})
	for range 2 {
		if err := p.Submit(func() { started <- struct{}{}; <-gate }); err != nil {
			t.Fatal(err)
		}
	}
	<-started
	<-started
	if err := p.TrySubmit(func() {}); !errors.Is(err, ants.ErrPoolOverload) {
		t.Fatalf("TrySubmit on a full pool = %v, want ErrPoolOverload", err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.SubmitCtx(canceled, func(context.Context) {}); !errors.Is(err, context.Canceled) {
		t.Fatalf("SubmitCtx with a done context = %v, want context.Canceled", err)
	}

	got := m.collect(t)
	want := map[string]point{
		"ants.pool.capacity":           {"gauge", 2, "{worker}"},
		"ants.pool.workers":            {"updown", 2, "{worker}"},
		"ants.pool.workers.busy":       {"updown", 2, "{worker}"},
		"ants.pool.workers.idle":       {"updown", 0, "{worker}"},
		"ants.pool.callers.waiting":    {"updown", 0, "{caller}"},
		"ants.pool.tasks.queued":       {"updown", 0, "{task}"},
		"ants.pool.tasks.submitted":    {"counter", 12, "{task}"},
		"ants.pool.tasks.completed":    {"counter", 10, "{task}"},
		"ants.pool.tasks.panicked":     {"counter", 3, "{task}"},
		"ants.pool.submits.rejected":   {"counter", 1, "{submit}"},
		"ants.pool.submits.canceled":   {"counter", 1, "{submit}"},
		"ants.pool.task.wait.duration": {"histogram", 10, "s"},
		"ants.pool.task.run.duration":  {"histogram", 10, "s"},
	}
	for name, w := range want {
		mt, ok := got[name]
		if !ok {
			t.Errorf("%s: not reported", name)
			continue
		}
		if p, ok := pointOf(t, mt, "crawler"); !ok || p != w {
			t.Errorf("%s = %+v (present %v), want %+v", name, p, ok, w)
		}
	}
	if mt, ok := got["ants.pool.wait.time"]; !ok {
		t.Error("ants.pool.wait.time: not reported")
	} else if pt, ok := pointOf(t, mt, "crawler"); !ok || pt.kind != "counter" || pt.unit != "s" || pt.value != p.Stats().WaitTime.Seconds() {
		t.Errorf("ants.pool.wait.time = %+v, want a counter in s of Stats.WaitTime (%v)", pt, p.Stats().WaitTime)
	}
	h := got["ants.pool.task.run.duration"].Data.(metricdata.Histogram[float64])
	if b := h.DataPoints[0].Bounds; !slices.Equal(b, antsotel.DefaultBuckets) {
		t.Errorf("run histogram bounds = %v, want DefaultBuckets", b)
	}

	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	close(gate)
	got = m.collect(t)
	for name := range got {
		if mt := got[name]; name != "ants.pool.task.wait.duration" && name != "ants.pool.task.run.duration" {
			if _, ok := pointOf(t, mt, "crawler"); ok {
				t.Errorf("%s still reported after Unregister", name)
			}
		}
	}
}

// Two pools registered under their names report apart.
func TestMetricsOfTwoPools(t *testing.T) {
	m := newMetered(t)
	a, b := newPool(t, 3), newPool(t, -1)
	for name, p := range map[string]*ants.Pool{"a": a, "b": b} {
		reg, err := antsotel.Metrics(name, p, antsotel.WithMeterProvider(m.mp))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = reg.Unregister() }()
	}
	got := m.collect(t)["ants.pool.capacity"]
	for name, want := range map[string]float64{"a": 3, "b": -1} {
		if p, ok := pointOf(t, got, name); !ok || p.value != want {
			t.Errorf("capacity of pool %s = %v (present %v), want %v", name, p.value, ok, want)
		}
	}
}

// WithBuckets sets the histograms' bounds.
func TestTaskTimingsBuckets(t *testing.T) {
	m := newMetered(t)
	wait, run := []float64{0.001, 0.1}, []float64{0.5, 1, 2}
	timings, err := antsotel.NewTaskTimings("p", nil, antsotel.WithMeterProvider(m.mp), antsotel.WithBuckets(wait, run))
	if err != nil {
		t.Fatal(err)
	}
	timings.Observe(ants.TaskInfo{Wait: 0, Run: 1500e6}) // 1.5s
	got := m.collect(t)
	for name, bounds := range map[string][]float64{"ants.pool.task.wait.duration": wait, "ants.pool.task.run.duration": run} {
		dp := got[name].Data.(metricdata.Histogram[float64]).DataPoints[0]
		if !slices.Equal(dp.Bounds, bounds) || dp.Count != 1 {
			t.Errorf("%s: bounds %v, count %d; want %v, 1", name, dp.Bounds, dp.Count, bounds)
		}
	}
	run15 := got["ants.pool.task.run.duration"].Data.(metricdata.Histogram[float64]).DataPoints[0]
	if !slices.Equal(run15.BucketCounts, []uint64{0, 0, 1, 0}) {
		t.Errorf("run bucket counts = %v, want the 1.5s run in (1, 2]", run15.BucketCounts)
	}
}

// A nil MeterProvider means the global one.
func TestNilMeterProviderIsTheGlobal(t *testing.T) {
	m := newMetered(t)
	otel.SetMeterProvider(m.mp)
	t.Cleanup(func() { otel.SetMeterProvider(noop.NewMeterProvider()) })
	p := newPool(t, 4)
	reg, err := antsotel.Metrics("global", p, antsotel.WithMeterProvider(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = reg.Unregister() }()
	timings, err := antsotel.NewTaskTimings("global")
	if err != nil {
		t.Fatal(err)
	}
	timings.Observe(ants.TaskInfo{})
	got := m.collect(t)
	if pt, ok := pointOf(t, got["ants.pool.capacity"], "global"); !ok || pt.value != 4 {
		t.Errorf("capacity from the global provider = %v (present %v), want 4", pt.value, ok)
	}
	if pt, ok := pointOf(t, got["ants.pool.task.run.duration"], "global"); !ok || pt.value != 1 {
		t.Errorf("run histogram count from the global provider = %v (present %v), want 1", pt.value, ok)
	}
}

// A nil source is an error, and nothing is registered.
func TestMetricsNilSource(t *testing.T) {
	m := newMetered(t)
	var nilPool *ants.Pool
	for _, src := range []antsotel.StatsSource{nil, nilPool} {
		if reg, err := antsotel.Metrics("p", src, antsotel.WithMeterProvider(m.mp)); !errors.Is(err, antsotel.ErrNilSource) || reg != nil {
			t.Errorf("Metrics(%#v) = %v, %v; want nil, ErrNilSource", src, reg, err)
		}
	}
	if got := m.collect(t); len(got) != 0 {
		t.Errorf("after refused registrations, %d metrics reported", len(got))
	}
}

// Bucket bounds the SDK refuses (not increasing) are NewTaskTimings' error.
func TestTaskTimingsBadBuckets(t *testing.T) {
	m := newMetered(t)
	timings, err := antsotel.NewTaskTimings("p", antsotel.WithMeterProvider(m.mp), antsotel.WithBuckets([]float64{2, 1}, nil))
	if err == nil || timings != nil {
		t.Fatalf("NewTaskTimings with bounds [2 1] = %v, %v; want nil and an error", timings, err)
	}
}
