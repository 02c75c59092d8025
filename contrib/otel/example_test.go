package antsotel_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/antspool/ants"
	antsotel "github.com/antspool/ants/contrib/otel"
)

// Trace a pool's tasks: each runs in a span, child of the span of the
// context it was submitted with. A real program sets up an exporter and
// leaves WithTracerProvider out to use the global provider.
func ExampleTracing() {
	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	pool, _ := ants.NewPool(4, ants.WithInterceptor(antsotel.Tracing(
		antsotel.WithTracerProvider(tp), antsotel.WithPoolName("thumbnails"))))

	ctx, request := tp.Tracer("server").Start(context.Background(), "GET /album")
	g := pool.Group(ctx)
	for range 3 {
		g.Go(func(ctx context.Context) error { return nil }) // ctx carries the task's span
	}
	_ = g.Wait()
	request.End()
	_ = pool.ReleaseContext(context.Background()) // every task's span has ended

	for _, s := range recorder.Ended() {
		if s.Name() == antsotel.DefaultSpanName {
			fmt.Println(s.Name(), "child of GET /album:", s.Parent().SpanID() == request.SpanContext().SpanID())
		}
	}
	// Output:
	// ants.task child of GET /album: true
	// ants.task child of GET /album: true
	// ants.task child of GET /album: true
}

// Export a pool's Stats and task timings as OpenTelemetry metrics. A real
// program gives the MeterProvider a periodic reader and an exporter, or
// leaves WithMeterProvider out to use the global provider.
func ExampleMetrics() {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer func() { _ = mp.Shutdown(context.Background()) }()

	timings, _ := antsotel.NewTaskTimings("crawler", antsotel.WithMeterProvider(mp))
	pool, _ := ants.NewPool(8, ants.WithTaskObserver(timings.Observe))
	reg, _ := antsotel.Metrics("crawler", pool, antsotel.WithMeterProvider(mp))
	defer func() { _ = reg.Unregister() }() // stop reading the pool's Stats

	for range 100 {
		_ = pool.Submit(func() {})
	}
	_ = pool.ReleaseContext(context.Background()) // every worker gone: the counts are final

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	var completed int64
	var runs uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if m.Name == "ants.pool.tasks.completed" {
					completed = d.DataPoints[0].Value
				}
			case metricdata.Histogram[float64]:
				if m.Name == "ants.pool.task.run.duration" {
					runs = d.DataPoints[0].Count
				}
			}
		}
	}
	fmt.Println("ants.pool.tasks.completed", completed)
	fmt.Println("ants.pool.task.run.duration count", runs)
	// Output:
	// ants.pool.tasks.completed 100
	// ants.pool.task.run.duration count 100
}
