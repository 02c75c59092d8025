package antsotel_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/antspool/ants"
	antsotel "github.com/antspool/ants/contrib/otel"
)

// discard is a SpanProcessor that drops every span: the SDK records the
// spans (IDs, attributes, timestamps), and nothing exports them.
type discard struct{}

func (discard) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discard) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discard) Shutdown(context.Context) error                  { return nil }
func (discard) ForceFlush(context.Context) error                { return nil }

// BenchmarkSubmitCtx submits one empty task per op with SubmitCtx, from a
// context whose span is sampled: without an interceptor, with Tracing on
// a no-op TracerProvider, and with Tracing on the SDK with a processor
// that drops the spans.
func BenchmarkSubmitCtx(b *testing.B) {
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discard{}))
	defer func() { _ = sdk.Shutdown(context.Background()) }()
	cases := []struct {
		name string
		opts []ants.Option
	}{
		{"none", nil},
		{"noop", []ants.Option{ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(noop.NewTracerProvider())))}},
		{"sdk", []ants.Option{ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(sdk), antsotel.WithPoolName("bench")))}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p, err := ants.NewPool(runtime.GOMAXPROCS(0), c.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = p.ReleaseContext(context.Background()) }()
			ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
				TraceID:    trace.TraceID{1},
				SpanID:     trace.SpanID{1},
				TraceFlags: trace.FlagsSampled,
			}))
			var wg sync.WaitGroup
			task := func(context.Context) { wg.Done() }
			b.ReportAllocs()
			for b.Loop() {
				wg.Add(1)
				if err := p.SubmitCtx(ctx, task); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		})
	}
}

// BenchmarkTaskTimings submits one empty task per op with SubmitCtx to a
// pool whose task observer is TaskTimings.Observe on the SDK (no reader
// collects): the cost of the two histogram records and the clock reads.
func BenchmarkTaskTimings(b *testing.B) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	timings, err := antsotel.NewTaskTimings("bench", antsotel.WithMeterProvider(mp))
	if err != nil {
		b.Fatal(err)
	}
	p, err := ants.NewPool(runtime.GOMAXPROCS(0), ants.WithTaskObserver(timings.Observe))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = p.ReleaseContext(context.Background()) }()
	var wg sync.WaitGroup
	task := func(context.Context) { wg.Done() }
	b.ReportAllocs()
	for b.Loop() {
		wg.Add(1)
		if err := p.SubmitCtx(context.Background(), task); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
}
