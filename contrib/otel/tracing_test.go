package antsotel_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/antspool/ants"
	antsotel "github.com/antspool/ants/contrib/otel"
)

// traced is a TracerProvider of the SDK whose spans a recorder keeps, and
// a tracer of it for the submitters' own spans.
type traced struct {
	tp    *sdktrace.TracerProvider
	rec   *tracetest.SpanRecorder
	ends  chan string    // the name of each span that ends, from endNotifier
	ended map[string]int // the ends read from ends, by name
}

// endNotifier is a SpanProcessor that tells of every span's end.
type endNotifier struct {
	sdktrace.SpanProcessor // the recorder: for the other methods
	ends                   chan<- string
}

func (n endNotifier) OnEnd(s sdktrace.ReadOnlySpan) {
	n.SpanProcessor.OnEnd(s)
	n.ends <- s.Name()
}

func newTraced(t *testing.T) *traced {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	ends := make(chan string, 1<<14) // more than any test's spans
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(endNotifier{rec, ends}))
	t.Cleanup(func() {
		if err := tp.Shutdown(context.Background()); err != nil {
			t.Errorf("TracerProvider.Shutdown = %v", err)
		}
	})
	return &traced{tp: tp, rec: rec, ends: ends, ended: make(map[string]int)}
}

// parent starts a submitter's span and returns the context that carries it.
func (tr *traced) parent(name string) (context.Context, trace.Span) {
	return tr.tp.Tracer("submitter").Start(context.Background(), name)
}

// tasks waits until n spans named name have ended in all (a task's span
// ends after the task returns, so after anything the task did), then
// returns the ended spans of that name, in the order they ended.
func (tr *traced) tasks(t *testing.T, name string, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for tr.ended[name] < n {
		select {
		case name := <-tr.ends:
			tr.ended[name]++
		case <-timeout:
			t.Fatalf("%d spans named %q ended, want %d", tr.ended[name], name, n)
		}
	}
	var out []sdktrace.ReadOnlySpan
	for _, s := range tr.rec.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// startedTasks counts the started spans named name.
func (tr *traced) startedTasks(name string) int {
	n := 0
	for _, s := range tr.rec.Started() {
		if s.Name() == name {
			n++
		}
	}
	return n
}

func newPool(t *testing.T, size int, opts ...ants.Option) *ants.Pool {
	t.Helper()
	p, err := ants.NewPool(size, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // unless the test released it
		if !p.IsClosed() {
			mustRelease(t, p)
		}
	})
	return p
}

func mustRelease(t *testing.T, p interface{ ReleaseContext(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.ReleaseContext(ctx); err != nil {
		t.Fatalf("ReleaseContext = %v", err)
	}
}

func attr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// checkChild fails unless span is a child of parent, and the task ran
// with span in its context (seen).
func checkChild(t *testing.T, span sdktrace.ReadOnlySpan, parent, seen trace.SpanContext) {
	t.Helper()
	if got := span.Parent(); got.SpanID() != parent.SpanID() || got.TraceID() != parent.TraceID() {
		t.Errorf("task span's parent = %v/%v, want the submitter's %v/%v", got.TraceID(), got.SpanID(), parent.TraceID(), parent.SpanID())
	}
	if span.SpanContext().TraceID() != parent.TraceID() {
		t.Errorf("task span in trace %v, want the submitter's %v", span.SpanContext().TraceID(), parent.TraceID())
	}
	if !seen.Equal(span.SpanContext()) {
		t.Errorf("the task ran with span %v in its context, want its own span %v", seen.SpanID(), span.SpanContext().SpanID())
	}
	if span.EndTime().IsZero() {
		t.Error("task span not ended")
	}
}

// Each way of running a task with a context gives it a span, child of the
// submitter's, with the attempt, the wait and the pool's name.
func TestSpanIsTheSubmittersChild(t *testing.T) {
	type submitFunc func(t *testing.T, p ants.Runner, ctx context.Context, task func(context.Context))
	ways := []struct {
		name   string
		opts   []ants.Option
		submit submitFunc
	}{
		{"SubmitCtx", nil, func(t *testing.T, p ants.Runner, ctx context.Context, task func(context.Context)) {
			done := make(chan struct{})
			if err := p.SubmitCtx(ctx, func(ctx context.Context) { defer close(done); task(ctx) }); err != nil {
				t.Fatal(err)
			}
			<-done
		}},
		{"SubmitCtx/queue", []ants.Option{ants.WithQueueSize(4)}, func(t *testing.T, p ants.Runner, ctx context.Context, task func(context.Context)) {
			done := make(chan struct{})
			if err := p.SubmitCtx(ctx, func(ctx context.Context) { defer close(done); task(ctx) }); err != nil {
				t.Fatal(err)
			}
			<-done
		}},
		{"Group", nil, func(t *testing.T, p ants.Runner, ctx context.Context, task func(context.Context)) {
			g := p.Group(ctx)
			g.Go(func(ctx context.Context) error { task(ctx); return nil })
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
		}},
		{"KeyedGroup", nil, func(t *testing.T, p ants.Runner, ctx context.Context, task func(context.Context)) {
			kg := ants.NewKeyedGroup[string](ctx, p)
			kg.Go("account-1", func(ctx context.Context) error { task(ctx); return nil })
			if err := kg.Wait(); err != nil {
				t.Fatal(err)
			}
		}},
		{"Map", nil, func(t *testing.T, p ants.Runner, ctx context.Context, task func(context.Context)) {
			_, err := ants.Map(ctx, p, []int{1}, func(ctx context.Context, _ int) (int, error) { task(ctx); return 0, nil })
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"SubmitValue", nil, func(t *testing.T, p ants.Runner, ctx context.Context, task func(context.Context)) {
			if _, err := ants.SubmitValue(ctx, p, func(ctx context.Context) (int, error) { task(ctx); return 1, nil }).Wait(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, w := range ways {
		t.Run(w.name, func(t *testing.T) {
			tr := newTraced(t)
			opts := append([]ants.Option{ants.WithInterceptor(antsotel.Tracing(
				antsotel.WithTracerProvider(tr.tp), antsotel.WithPoolName("crawler")))}, w.opts...)
			p := newPool(t, 2, opts...)
			ctx, parent := tr.parent("request")
			var seen trace.SpanContext
			w.submit(t, p, ctx, func(ctx context.Context) { seen = trace.SpanContextFromContext(ctx) })
			parent.End()
			spans := tr.tasks(t, antsotel.DefaultSpanName, 1)
			if len(spans) != 1 {
				t.Fatalf("%d task spans, want 1", len(spans))
			}
			s := spans[0]
			checkChild(t, s, parent.SpanContext(), seen)
			if v, ok := attr(s, antsotel.AttemptKey); !ok || v.AsInt64() != 1 {
				t.Errorf("attempt attribute = %v (present %v), want 1", v.String(), ok)
			}
			if v, ok := attr(s, antsotel.WaitKey); !ok || v.Type() != attribute.FLOAT64 || v.AsFloat64() < 0 {
				t.Errorf("wait attribute = %v (present %v), want seconds >= 0", v.String(), ok)
			}
			if v, ok := attr(s, antsotel.PoolNameKey); !ok || v.AsString() != "crawler" {
				t.Errorf("pool name attribute = %q (present %v), want crawler", v.String(), ok)
			}
			if s.SpanKind() != trace.SpanKindInternal {
				t.Errorf("span kind = %v, want internal", s.SpanKind())
			}
			if s.Status().Code != codes.Unset {
				t.Errorf("status = %v, want unset for a task that returned nil", s.Status())
			}
		})
	}
}

// A MultiPool's tasks are traced as a Pool's.
func TestMultiPoolSpans(t *testing.T) {
	tr := newTraced(t)
	mp, err := ants.NewMultiPool(2, 1, ants.RoundRobin, ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp))))
	if err != nil {
		t.Fatal(err)
	}
	defer mustRelease(t, mp)
	ctx, parent := tr.parent("request")
	seen := make([]trace.SpanContext, 4)
	g := mp.Group(ctx)
	for i := range seen {
		g.Go(func(ctx context.Context) error { seen[i] = trace.SpanContextFromContext(ctx); return nil })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := tr.tasks(t, antsotel.DefaultSpanName, len(seen))
	if len(spans) != len(seen) {
		t.Fatalf("%d task spans, want %d", len(spans), len(seen))
	}
	for _, s := range spans {
		i := slices.IndexFunc(seen, func(sc trace.SpanContext) bool { return sc.Equal(s.SpanContext()) })
		if i < 0 {
			t.Fatalf("span %v is no task's", s.SpanContext().SpanID())
		}
		checkChild(t, s, parent.SpanContext(), seen[i])
	}
}

// Each attempt of a retried Group task has its own span, child of the
// submitter's, with its attempt number; the failed ones have status Error.
func TestRetrySpanPerAttempt(t *testing.T) {
	tr := newTraced(t)
	p := newPool(t, 2, ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp))))
	ctx, parent := tr.parent("request")
	policy := func() backoff.BackOff { return backoff.WithMaxRetries(backoff.NewConstantBackOff(time.Millisecond), 5) }
	g := p.Group(ctx, ants.WithRetry(policy))
	var calls atomic.Int32
	seen := make([]trace.SpanContext, 3)
	g.Go(func(ctx context.Context) error {
		n := calls.Add(1)
		seen[n-1] = trace.SpanContextFromContext(ctx)
		if n < 3 {
			return fmt.Errorf("attempt %d failed", n)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	parent.End()
	spans := tr.tasks(t, antsotel.DefaultSpanName, 3)
	if len(spans) != 3 {
		t.Fatalf("%d task spans, want 3 (one per attempt)", len(spans))
	}
	for i, s := range spans {
		checkChild(t, s, parent.SpanContext(), seen[i])
		if v, _ := attr(s, antsotel.AttemptKey); v.AsInt64() != int64(i+1) {
			t.Errorf("span %d: attempt = %v, want %d", i, v.String(), i+1)
		}
		want := codes.Unset
		if i < 2 {
			want = codes.Error
		}
		if s.Status().Code != want {
			t.Errorf("span of attempt %d: status %v, want %v", i+1, s.Status(), want)
		}
	}
	if d := spans[0].Status().Description; d != "attempt 1 failed" {
		t.Errorf("first attempt's status description = %q, want the task's error", d)
	}
}

// A task run on its caller (WithCallerRuns; a nested fan-out run inline)
// gets its span, child of the submitter's, as a worker's task does.
func TestInlineRunSpans(t *testing.T) {
	t.Run("caller runs", func(t *testing.T) {
		tr := newTraced(t)
		p := newPool(t, 1, ants.WithCallerRuns(true), ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp))))
		started, gate := make(chan struct{}), make(chan struct{})
		if err := p.Submit(func() { close(started); <-gate }); err != nil { // the only worker, held
			t.Fatal(err)
		}
		<-started
		defer close(gate)
		ctx, parent := tr.parent("request")
		var seen trace.SpanContext
		ran := false
		if err := p.SubmitCtx(ctx, func(ctx context.Context) { seen, ran = trace.SpanContextFromContext(ctx), true }); err != nil {
			t.Fatal(err)
		}
		if !ran { // the only worker is held: had it not run here, it would not have run yet
			t.Fatal("SubmitCtx returned before its task ran: not run on the caller")
		}
		parent.End()
		spans := tr.tasks(t, antsotel.DefaultSpanName, 1)
		if len(spans) != 1 {
			t.Fatalf("%d task spans, want 1", len(spans))
		}
		checkChild(t, spans[0], parent.SpanContext(), seen)
		if v, _ := attr(spans[0], antsotel.WaitKey); v.AsFloat64() != 0 {
			t.Errorf("wait of a task run on its caller = %v, want 0", v.AsFloat64())
		}
	})
	t.Run("nested fan-out", func(t *testing.T) {
		tr := newTraced(t)
		p := newPool(t, 1, ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp))))
		ctx, parent := tr.parent("request")
		var outer trace.SpanContext
		inner := make([]trace.SpanContext, 3)
		g := p.Group(ctx)
		g.Go(func(ctx context.Context) error {
			outer = trace.SpanContextFromContext(ctx)
			// The pool's one worker runs this task: its group's tasks run here.
			sub := p.Group(ctx)
			for i := range inner {
				sub.Go(func(ctx context.Context) error { inner[i] = trace.SpanContextFromContext(ctx); return nil })
			}
			return sub.Wait()
		})
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		parent.End()
		spans := tr.tasks(t, antsotel.DefaultSpanName, 4)
		if len(spans) != 4 {
			t.Fatalf("%d task spans, want 4", len(spans))
		}
		outerSpan := spans[len(spans)-1] // it ends last
		checkChild(t, outerSpan, parent.SpanContext(), outer)
		for i, s := range spans[:3] {
			checkChild(t, s, outer, inner[i])
		}
	})
}

// opentelemetry-go-compile-instrumentation #673: a reused worker carried
// one task's parent span into the next task. On a pool of one worker, tasks
// submitted alternately from two traces each get their own submitter's
// span as parent, never the previous task's.
func TestReusedWorkerKeepsEachTasksParent(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []ants.Option
	}{{"default", nil}, {"queue", []ants.Option{ants.WithQueueSize(8)}}} {
		t.Run(mode.name, func(t *testing.T) {
			tr := newTraced(t)
			opts := append([]ants.Option{ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp)))}, mode.opts...)
			p := newPool(t, 1, opts...)
			ctxA, spanA := tr.parent("trace A")
			ctxB, spanB := tr.parent("trace B")
			const n = 40
			submitters := make([]trace.SpanContext, n)
			seen := make([]trace.SpanContext, n)
			var wg sync.WaitGroup
			for i := range n {
				ctx, want := ctxA, spanA.SpanContext()
				if i%2 == 1 {
					ctx, want = ctxB, spanB.SpanContext()
				}
				submitters[i] = want
				wg.Add(1)
				err := p.SubmitCtx(ctx, func(ctx context.Context) {
					defer wg.Done()
					seen[i] = trace.SpanContextFromContext(ctx)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			wg.Wait()
			spanA.End()
			spanB.End()
			spans := tr.tasks(t, antsotel.DefaultSpanName, n)
			if len(spans) != n {
				t.Fatalf("%d task spans, want %d", len(spans), n)
			}
			wrong := 0
			for _, s := range spans {
				i := slices.IndexFunc(seen, func(sc trace.SpanContext) bool { return sc.Equal(s.SpanContext()) })
				if i < 0 {
					t.Fatalf("span %v is no task's", s.SpanContext().SpanID())
				}
				if !s.Parent().Equal(submitters[i]) || s.SpanContext().TraceID() != submitters[i].TraceID() {
					wrong++
					t.Errorf("task %d: parent %v in trace %v, want its submitter's %v in %v",
						i, s.Parent().SpanID(), s.SpanContext().TraceID(), submitters[i].SpanID(), submitters[i].TraceID())
				}
			}
			if wrong == 0 && spanA.SpanContext().TraceID() == spanB.SpanContext().TraceID() {
				t.Fatal("the two submitters share a trace: the test proves nothing")
			}
		})
	}
}

type leakMark struct{}

// After many tasks, every task span has ended, and no worker holds a
// task's context (so neither its span): each one becomes garbage, and a
// task submitted with a context that has no span gets a root span.
func TestNoSpanOutlivesItsTask(t *testing.T) {
	tr := newTraced(t)
	const workers = 4
	p := newPool(t, workers, ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp))))
	n := 2000
	if testing.Short() {
		n = 200
	}
	freed := make(chan struct{}, n)
	traces := make(map[trace.TraceID]bool)
	var wg sync.WaitGroup
	for i := range n {
		ctx, parent := tr.parent("request")
		traces[parent.SpanContext().TraceID()] = true
		// mark becomes garbage once nothing holds ctx: its cleanup says so.
		mark := new([64]byte)
		runtime.AddCleanup(mark, func(ch chan struct{}) { ch <- struct{}{} }, freed)
		ctx = context.WithValue(ctx, leakMark{}, mark)
		wg.Add(1)
		var err error
		if i%2 == 0 {
			err = p.SubmitCtx(ctx, func(context.Context) { wg.Done() })
		} else {
			g := p.Group(ctx)
			g.Go(func(context.Context) error { wg.Done(); return nil })
			err = g.Wait()
		}
		if err != nil {
			t.Fatal(err)
		}
		parent.End()
	}
	wg.Wait()
	if started, ended := tr.startedTasks(antsotel.DefaultSpanName), len(tr.tasks(t, antsotel.DefaultSpanName, n)); started != n || ended != n {
		t.Fatalf("%d task spans started, %d ended, want %d and %d", started, ended, n, n)
	}

	// The workers are alive and idle: a span, or a context, kept on one
	// would keep its mark. A worker that has just ended a span may still
	// be on its way back to idle, holding the task's context for a moment:
	// collect again until every mark is freed (a cleanup runs after the
	// collection that freed its object), or give up after 10s.
	timeout := time.After(10 * time.Second)
	collect := time.NewTicker(20 * time.Millisecond)
	defer collect.Stop()
	runtime.GC()
	for got := 0; got < n; {
		select {
		case <-freed:
			got++
		case <-collect.C:
			runtime.GC()
		case <-timeout:
			t.Fatalf("%d of %d task contexts freed; the others are still held (by a worker?)", got, n)
		}
	}

	done := make(chan struct{})
	var seen trace.SpanContext
	if err := p.SubmitCtx(context.Background(), func(ctx context.Context) {
		defer close(done)
		seen = trace.SpanContextFromContext(ctx)
	}); err != nil {
		t.Fatal(err)
	}
	<-done
	spans := tr.tasks(t, antsotel.DefaultSpanName, n+1)
	last := spans[len(spans)-1]
	if !last.SpanContext().Equal(seen) {
		t.Fatal("the last task did not run in its own span")
	}
	if last.Parent().IsValid() || traces[last.SpanContext().TraceID()] {
		t.Errorf("a task submitted with no span got parent %v in trace %v: a span of an earlier task", last.Parent().SpanID(), last.SpanContext().TraceID())
	}
}

// WithLinkedRoot(true): each task's span is a root, linked to its
// submitter's span.
func TestLinkedRoot(t *testing.T) {
	tr := newTraced(t)
	p := newPool(t, 2, ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp), antsotel.WithLinkedRoot(true))))
	ctx, parent := tr.parent("request")
	run := func(ctx context.Context) trace.SpanContext {
		t.Helper()
		var seen trace.SpanContext
		done := make(chan struct{})
		if err := p.SubmitCtx(ctx, func(ctx context.Context) { defer close(done); seen = trace.SpanContextFromContext(ctx) }); err != nil {
			t.Fatal(err)
		}
		<-done
		return seen
	}
	seen := run(ctx)
	parent.End()
	spans := tr.tasks(t, antsotel.DefaultSpanName, 1)
	if len(spans) != 1 {
		t.Fatalf("%d task spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Parent().IsValid() {
		t.Errorf("linked root has parent %v", s.Parent().SpanID())
	}
	if s.SpanContext().TraceID() == parent.SpanContext().TraceID() {
		t.Error("linked root is in its submitter's trace")
	}
	if !s.SpanContext().Equal(seen) {
		t.Error("the task did not run in its span")
	}
	if links := s.Links(); len(links) != 1 || !links[0].SpanContext.Equal(parent.SpanContext()) {
		t.Errorf("links = %v, want one, to the submitter's span", links)
	}

	run(context.Background()) // no span to link to
	spans = tr.tasks(t, antsotel.DefaultSpanName, 2)
	if s := spans[len(spans)-1]; len(s.Links()) != 0 || s.Parent().IsValid() {
		t.Errorf("a task submitted with no span: %d links, parent %v; want none", len(s.Links()), s.Parent())
	}
}

// WithSpanName and WithAttributes set the span's name and add attributes.
func TestSpanNameAndAttributes(t *testing.T) {
	tr := newTraced(t)
	p := newPool(t, 1, ants.WithInterceptor(antsotel.Tracing(nil, antsotel.WithTracerProvider(tr.tp),
		antsotel.WithSpanName("resize"), antsotel.WithAttributes(attribute.String("tier", "gold")))))
	done := make(chan struct{})
	if err := p.SubmitCtx(context.Background(), func(context.Context) { close(done) }); err != nil {
		t.Fatal(err)
	}
	<-done
	mustRelease(t, p)
	spans := tr.tasks(t, "resize", 1)
	if len(spans) != 1 {
		t.Fatalf("%d spans named resize, want 1", len(spans))
	}
	if v, ok := attr(spans[0], "tier"); !ok || v.AsString() != "gold" {
		t.Errorf("tier = %q (present %v), want gold", v.String(), ok)
	}
	if _, ok := attr(spans[0], antsotel.PoolNameKey); ok {
		t.Error("pool name attribute present without WithPoolName")
	}
}

func exceptionEvent(s sdktrace.ReadOnlySpan) (msg string, stack bool, ok bool) {
	for _, e := range s.Events() {
		if e.Name != "exception" {
			continue
		}
		for _, kv := range e.Attributes {
			switch kv.Key {
			case "exception.message":
				msg = kv.Value.AsString()
			case "exception.stacktrace":
				stack = kv.Value.AsString() != ""
			}
		}
		return msg, stack, true
	}
	return "", false, false
}

// A task that returns an error: the error is recorded and the status is
// Error.
func TestErrorStatus(t *testing.T) {
	tr := newTraced(t)
	p := newPool(t, 2, ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp))))
	errNo := errors.New("no such page")
	g := p.Group(context.Background())
	g.Go(func(context.Context) error { return errNo })
	if err := g.Wait(); !errors.Is(err, errNo) {
		t.Fatalf("Wait = %v, want %v", err, errNo)
	}
	if _, err := ants.SubmitValue(context.Background(), p, func(context.Context) (int, error) { return 0, errNo }).Wait(); !errors.Is(err, errNo) {
		t.Fatalf("Future.Wait = %v, want %v", err, errNo)
	}
	spans := tr.tasks(t, antsotel.DefaultSpanName, 2)
	if len(spans) != 2 {
		t.Fatalf("%d task spans, want 2", len(spans))
	}
	for _, s := range spans {
		if st := s.Status(); st.Code != codes.Error || st.Description != errNo.Error() {
			t.Errorf("status = %v, want Error %q", st, errNo)
		}
		if msg, _, ok := exceptionEvent(s); !ok || msg != errNo.Error() {
			t.Errorf("exception event: message %q (present %v), want %q", msg, ok, errNo)
		}
	}
}

// A task that panics: its span records the panic, with the stack, has
// status Error and ends; the panic goes on where it would have gone, with
// its value. runtime.Goexit ends the span too.
func TestPanicStatus(t *testing.T) {
	t.Run("SubmitCtx", func(t *testing.T) {
		tr := newTraced(t)
		handled := make(chan any, 1)
		p := newPool(t, 1, ants.WithPanicHandler(func(v any) { handled <- v }),
			ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp))))
		if err := p.SubmitCtx(context.Background(), func(context.Context) { panic("boom") }); err != nil {
			t.Fatal(err)
		}
		if v := <-handled; v != "boom" {
			t.Fatalf("PanicHandler got %v, want the task's value boom", v)
		}
		mustRelease(t, p) // the span has ended before the worker exits
		spans := tr.tasks(t, antsotel.DefaultSpanName, 1)
		if len(spans) != 1 {
			t.Fatalf("%d task spans, want 1", len(spans))
		}
		s := spans[0]
		if st := s.Status(); st.Code != codes.Error || st.Description != "panic: boom" {
			t.Errorf("status = %v, want Error \"panic: boom\"", st)
		}
		if msg, stack, ok := exceptionEvent(s); !ok || msg != "panic: boom" || !stack {
			t.Errorf("exception event: message %q, stack %v, present %v; want \"panic: boom\" with a stack", msg, stack, ok)
		}
		if s.EndTime().IsZero() {
			t.Error("span not ended")
		}
	})
	t.Run("Group", func(t *testing.T) {
		tr := newTraced(t)
		p := newPool(t, 1, ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp))))
		errBad := errors.New("bad state")
		g := p.Group(context.Background())
		g.Go(func(context.Context) error { panic(errBad) })
		err := g.Wait()
		var pe *ants.PanicError
		if !errors.As(err, &pe) || pe.Value != errBad {
			t.Fatalf("Wait = %v, want a *PanicError of the task's value", err)
		}
		spans := tr.tasks(t, antsotel.DefaultSpanName, 1)
		if len(spans) != 1 {
			t.Fatalf("%d task spans, want 1", len(spans))
		}
		if st := spans[0].Status(); st.Code != codes.Error || st.Description != "panic: bad state" {
			t.Errorf("status = %v, want Error \"panic: bad state\"", st)
		}
		if msg, _, _ := exceptionEvent(spans[0]); msg != errBad.Error() {
			t.Errorf("exception message = %q, want the panic's error %q", msg, errBad)
		}
	})
	t.Run("Goexit", func(t *testing.T) {
		tr := newTraced(t)
		p := newPool(t, 1, ants.WithInterceptor(antsotel.Tracing(antsotel.WithTracerProvider(tr.tp))))
		exited := make(chan struct{})
		if err := p.SubmitCtx(context.Background(), func(context.Context) { close(exited); runtime.Goexit() }); err != nil {
			t.Fatal(err)
		}
		<-exited
		mustRelease(t, p)
		spans := tr.tasks(t, antsotel.DefaultSpanName, 1)
		if len(spans) != 1 {
			t.Fatalf("%d task spans, want 1", len(spans))
		}
		if st := spans[0].Status(); st.Code != codes.Error || st.Description != "runtime.Goexit" {
			t.Errorf("status = %v, want Error \"runtime.Goexit\"", st)
		}
	})
}

// A nil TracerProvider means the global one.
func TestNilTracerProviderIsTheGlobal(t *testing.T) {
	tr := newTraced(t)
	otel.SetTracerProvider(tr.tp)
	t.Cleanup(func() { otel.SetTracerProvider(noop.NewTracerProvider()) })
	for _, ic := range []ants.Interceptor{antsotel.Tracing(), antsotel.Tracing(antsotel.WithTracerProvider(nil))} {
		p := newPool(t, 1, ants.WithInterceptor(ic))
		done := make(chan struct{})
		if err := p.SubmitCtx(context.Background(), func(context.Context) { close(done) }); err != nil {
			t.Fatal(err)
		}
		<-done
		mustRelease(t, p)
	}
	if n := len(tr.tasks(t, antsotel.DefaultSpanName, 2)); n != 2 {
		t.Errorf("%d task spans from the global provider, want 2", n)
	}
}
