// Package antsotel traces the tasks of an ants pool with OpenTelemetry, and
// exports the pool's Stats and task timings as OpenTelemetry metrics. It
// lives in a module of its own, github.com/antspool/ants/contrib/otel, so
// that a user of the pool who does not use OpenTelemetry never downloads it.
//
// Tracing is an ants.Interceptor: give it to the pool, and every task that
// has a context (SubmitCtx, Group and the helpers built on it, SubmitValue)
// runs in a span of its own, child of the span in the context it was
// submitted with:
//
//	pool, _ := ants.NewPool(64, ants.WithInterceptor(antsotel.Tracing(antsotel.WithPoolName("crawler"))))
//
// Metrics and NewTaskTimings do for OpenTelemetry what contrib/prometheus
// does for Prometheus:
//
//	timings, _ := antsotel.NewTaskTimings("crawler")
//	pool, _ := ants.NewPool(64, ants.WithTaskObserver(timings.Observe))
//	reg, _ := antsotel.Metrics("crawler", pool)
//	defer reg.Unregister()
package antsotel

import (
	"context"
	"fmt"
	"slices"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/antspool/ants"
)

// ScopeName is the instrumentation scope of the tracer and the meter this
// package takes from its providers.
const ScopeName = "github.com/antspool/ants/contrib/otel"

// DefaultSpanName is the name of a task's span unless WithSpanName says
// otherwise.
const DefaultSpanName = "ants.task"

// The attributes of a task's span, and of every metric (PoolNameKey).
const (
	// PoolNameKey names the pool (WithPoolName; the pool argument of
	// Metrics and NewTaskTimings).
	PoolNameKey = attribute.Key("ants.pool.name")
	// AttemptKey is the task's attempt: 1 for its first run, n for its
	// n-th when a Group retries it (ants.TaskMeta.Attempt).
	AttemptKey = attribute.Key("ants.task.attempt")
	// WaitKey is how long the task waited for a worker, in seconds
	// (ants.TaskMeta.Wait): 0 if a worker was free or it ran on its caller.
	WaitKey = attribute.Key("ants.task.wait")
)

// A TracingOption configures Tracing. A nil TracingOption is ignored.
type TracingOption func(*tracingConfig)

type tracingConfig struct {
	provider   trace.TracerProvider
	spanName   string
	attrs      []attribute.KeyValue
	linkedRoot bool
}

// WithTracerProvider sets the TracerProvider the spans come from. nil, the
// default, means the global one (otel.GetTracerProvider), as it is when
// Tracing is called: a global provider set later is used too, if none was
// set before (the global provider's delegation).
func WithTracerProvider(tp trace.TracerProvider) TracingOption {
	return func(c *tracingConfig) { c.provider = tp }
}

// WithSpanName sets the name of every task's span; "" keeps
// DefaultSpanName. Span names should be few: name the kind of work (the
// pool), not each task.
func WithSpanName(name string) TracingOption {
	return func(c *tracingConfig) { c.spanName = name }
}

// WithPoolName adds the attribute ants.pool.name (PoolNameKey) with the
// given value to every task's span; "" adds none.
func WithPoolName(name string) TracingOption {
	return func(c *tracingConfig) {
		if name != "" {
			c.attrs = append(c.attrs, PoolNameKey.String(name))
		}
	}
}

// WithAttributes adds attrs to every task's span. Repeated, the calls add
// up.
func WithAttributes(attrs ...attribute.KeyValue) TracingOption {
	return func(c *tracingConfig) { c.attrs = append(c.attrs, attrs...) }
}

// WithLinkedRoot makes each task's span the root of a trace of its own,
// linked to the span of the context the task was submitted with (if that
// has one), instead of that span's child. It is for fire-and-forget work,
// which would otherwise extend its submitter's trace long after the
// submitter has answered. false, the default, makes children.
func WithLinkedRoot(linked bool) TracingOption {
	return func(c *tracingConfig) { c.linkedRoot = linked }
}

// Tracing returns an ants.Interceptor (for ants.WithInterceptor) that runs
// every task in a span of its own. The span starts when the task starts,
// on the goroutine that runs it (a worker, or the caller for a task run
// inline), and ends when the task returns or panics, before the worker
// takes another task: no span outlives its task, and a worker keeps none.
//
// Parent: the span in the context the task was submitted with (SubmitCtx's
// ctx; a Group task's context, derived from the group's), so a task joins
// its own submitter's trace whichever worker runs it, and a task started
// by another task is that task's span's child. With WithLinkedRoot(true),
// each span is a new root linked to that span instead. A context with no
// span gives a root span without a link.
//
// Attributes: ants.task.attempt (1, or the attempt of a retried Group
// task), ants.task.wait (seconds spent waiting for a worker), and those of
// WithPoolName and WithAttributes. The span kind is internal.
//
// Status: a task that returns an error (a Group, ResultGroup or
// SubmitValue task's; ants.TaskMeta.Err) has its error recorded on the
// span and the status Error with the error's text. A task that panics has
// the panic recorded as an error event, with its stack, and the status
// Error with "panic: " and the value; the span ends, and the panic goes
// on, with the same value, where it would have gone without Tracing (the
// pool's PanicHandler, or a Group's *ants.PanicError). A task that calls
// runtime.Goexit ends its span with the status Error and the description
// "runtime.Goexit". A task that returns nil leaves the status unset.
//
// The interceptor is safe for concurrent use, and one may serve several
// pools. Its cost per task is mostly the provider's span, plus the pool's
// two allocations for calling an interceptor: of its own it allocates the
// attempt and wait attributes of a recording span, and with
// WithLinkedRoot the link. With a no-op provider that makes three
// allocations in all; with the SDK, ten, and a few microseconds (measured
// in the package README).
func Tracing(opts ...TracingOption) ants.Interceptor {
	c := tracingConfig{}
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	if c.provider == nil {
		c.provider = otel.GetTracerProvider()
	}
	if c.spanName == "" {
		c.spanName = DefaultSpanName
	}
	t := &tracer{tracer: c.provider.Tracer(ScopeName), name: c.spanName, linkedRoot: c.linkedRoot}
	// The options every span starts with, made once: a span's own
	// attributes are set once it has started, and only if it records.
	if len(c.attrs) > 0 {
		t.start = append(t.start, trace.WithAttributes(c.attrs...))
	}
	if c.linkedRoot {
		t.start = append(t.start, trace.WithNewRoot())
	}
	return t.intercept
}

// tracer is what Tracing's interceptor reads; it never changes.
type tracer struct {
	tracer     trace.Tracer
	name       string
	start      []trace.SpanStartOption // WithPoolName's and WithAttributes' attributes; WithNewRoot if linkedRoot
	linkedRoot bool
}

// intercept runs one task in its span.
func (t *tracer) intercept(ctx context.Context, run func(context.Context)) {
	start := t.start
	if t.linkedRoot {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			start = append(slices.Clip(start), trace.WithLinks(trace.Link{SpanContext: sc}))
		}
	}
	spanCtx, span := t.tracer.Start(ctx, t.name, start...)
	if span.IsRecording() {
		if meta, ok := ants.TaskMetaFrom(ctx); ok {
			span.SetAttributes(AttemptKey.Int(meta.Attempt), WaitKey.Float64(meta.Wait.Seconds()))
		}
	}

	returned := false
	defer func() {
		if returned {
			return
		}
		// The task panicked or called runtime.Goexit: end the span here, and
		// let the panic go on.
		v := recover()
		if v == nil { // runtime.Goexit: recover sees no panic (panic(nil) is a *runtime.PanicNilError)
			span.SetStatus(codes.Error, "runtime.Goexit")
			span.End()
			return
		}
		desc := fmt.Sprint("panic: ", v)
		err, ok := v.(error)
		if !ok {
			err = panicError(desc)
		}
		span.RecordError(err, trace.WithStackTrace(true))
		span.SetStatus(codes.Error, desc)
		span.End()
		panic(v)
	}()
	run(spanCtx)
	returned = true

	if meta, ok := ants.TaskMetaFrom(ctx); ok && meta.Err != nil {
		span.RecordError(meta.Err)
		span.SetStatus(codes.Error, meta.Err.Error())
	}
	span.End()
}

// panicError is the error recorded for a panic whose value is not an error.
type panicError string

func (e panicError) Error() string { return string(e) }
