package ants_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/antspool/ants"
)

func TestPoolTaskPanics(t *testing.T) {
	t.Run("handler", func(t *testing.T) { // gets every value, and the pool keeps its capacity
		for _, k := range allKinds.each() {
			t.Run(k.String(), func(t *testing.T) {
				got := make(chan any, 5)
				p := newPool(t, k, 1, ants.WithPanicHandler(func(v any) { got <- v }))
				for i := range 5 {
					if err := p.submit(func() { panic(i) }); err != nil {
						t.Fatalf("Submit after %d panics = %v", i, err)
					}
				}
				done := make(chan struct{})
				if err := p.submit(func() { close(done) }); err != nil {
					t.Fatalf("Submit after panics = %v", err)
				}
				<-done
				mustRelease(t, p)
				close(got)
				// Each handler runs on the goroutine that panicked, after its
				// slot went to the next task: the calls may overlap, in any order.
				var vals []int
				for v := range got {
					vals = append(vals, v.(int))
				}
				slices.Sort(vals)
				if fmt.Sprint(vals) != "[0 1 2 3 4]" {
					t.Errorf("handler got %v, want each of [0 1 2 3 4] once", vals)
				}
			})
		}
	})
	t.Run("logged", func(t *testing.T) { // without a handler, with its stack
		for _, k := range allKinds.each() {
			t.Run(k.String(), func(t *testing.T) {
				var log logBuffer
				p := newPool(t, k, 1, ants.WithLogger(&log))
				_ = p.submit(panicInTask)
				mustRelease(t, p)
				s := log.String()
				if !strings.Contains(s, "boom") || !strings.Contains(s, "panicInTask") {
					t.Errorf("log = %q, want the value and the panicking function", s)
				}
			})
		}
	})
	t.Run("running-drops", func(t *testing.T) { // before the handler runs
		for _, k := range allKinds.each() {
			t.Run(k.String(), func(t *testing.T) {
				seen := make(chan int, 1)
				var p *testPool
				p = newPool(t, k, 1, ants.WithPanicHandler(func(any) { seen <- p.Running() }))
				_ = p.submit(func() { panic("x") })
				if n := <-seen; n != 0 {
					t.Errorf("Running in PanicHandler = %d, want 0", n)
				}
				mustRelease(t, p)
			})
		}
	})
}

//go:noinline
func panicInTask() { panic("boom") }

type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format, args...)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestPanickingTasksDoNotStarveWaiters(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var handled atomic.Int32
				p := newPool(t, k, 1, ants.WithPanicHandler(func(any) { handled.Add(1) }))
				b := newBlocker()
				b.fill(t, p.submit, 1)
				for range 5 {
					go func() { _ = p.submit(func() { panic("boom") }) }()
					synctest.Wait() // in line, in order
				}
				served := make(chan time.Time, 1)
				go func() { _ = p.submit(func() { served <- time.Now() }) }()
				synctest.Wait()
				start := time.Now()
				b.open()
				if at := <-served; at.Sub(start) != 0 {
					t.Errorf("the caller behind 5 panicking tasks waited %v", at.Sub(start))
				}
				mustRelease(t, p)
				if handled.Load() != 5 {
					t.Errorf("PanicHandler saw %d panics, want 5", handled.Load())
				}
			})
		})
	}
}

func TestGoexitLeavesThePoolWhole(t *testing.T) {
	for _, k := range allKinds.each() {
		t.Run(k.String(), func(t *testing.T) {
			p := newPool(t, k, 1)
			for range 3 {
				if err := p.submit(func() { runtime.Goexit() }); err != nil {
					t.Fatalf("Submit after Goexit = %v", err)
				}
			}
			done := make(chan struct{})
			if err := p.submit(func() { close(done) }); err != nil {
				t.Fatalf("Submit = %v", err)
			}
			<-done
			if err := p.ReleaseTimeout(5 * time.Second); err != nil {
				t.Fatalf("ReleaseTimeout = %v", err)
			}
			if p.Running() != 0 {
				t.Errorf("Running = %d after release, want 0", p.Running())
			}
		})
	}
}

func TestGroupPanicBecomesPanicError(t *testing.T) {
	p, _ := ants.NewPool(1, ants.WithPanicHandler(func(v any) {
		t.Errorf("a group task's panic reached the pool's PanicHandler: %v", v)
	}))
	for _, tc := range []struct {
		name  string
		value any
	}{
		{"value", "kaboom"},
		{"error", errBoom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attempts := 0
			g := p.Group(context.Background(), ants.WithRetry(constantRetry(time.Millisecond)))
			g.Go(func(context.Context) error { attempts++; panicInGroupTask(tc.value); return nil })
			err := g.Wait()
			var pe *ants.PanicError
			if !errors.As(err, &pe) {
				t.Fatalf("Wait = %v, want a *PanicError", err)
			}
			if pe.Value != tc.value {
				t.Errorf("PanicError.Value = %v, want %v", pe.Value, tc.value)
			}
			if !strings.Contains(string(pe.Stack), "panicInGroupTask") {
				t.Errorf("PanicError.Stack lacks the panicking function:\n%s", pe.Stack)
			}
			if _, isErr := tc.value.(error); isErr != errors.Is(err, errBoom) {
				t.Errorf("errors.Is(err, errBoom) = %v; Unwrap should expose only error values", !isErr)
			}
			if attempts != 1 {
				t.Errorf("a panicking task ran %d times, want 1: panics are not retried", attempts)
			}
			if !errors.Is(context.Cause(g.Context()), err) {
				t.Error("the panic did not cancel the group")
			}
		})
	}
	// The worker survived: the pool still has it, and it serves the next task.
	if p.Running() != 1 {
		t.Errorf("Running = %d after group panics, want 1 (the same worker)", p.Running())
	}
	g := p.Group(context.Background())
	g.Go(func(context.Context) error { return nil })
	if err := g.Wait(); err != nil {
		t.Errorf("Wait = %v", err)
	}
	mustRelease(t, p)
}

func TestGroupGoexitFailsTheGroupWithErrGoexit(t *testing.T) {
	p, _ := ants.NewPool(1)
	g := p.Group(context.Background())
	g.Go(func(context.Context) error { runtime.Goexit(); return nil })
	if err := g.Wait(); !errors.Is(err, ants.ErrGoexit) {
		t.Errorf("Wait = %v, want ErrGoexit", err)
	}
	g = p.Group(context.Background())
	g.Go(func(context.Context) error { return nil }) // the pool replaced its worker
	if err := g.Wait(); err != nil {
		t.Errorf("Wait = %v", err)
	}
	mustRelease(t, p)
}

func TestPanicErrorMessageIsOneLine(t *testing.T) {
	p, _ := ants.NewPool(1)
	defer mustRelease(t, p)
	g := p.Group(context.Background())
	g.Go(func(context.Context) error { panicInGroupTask("kaboom"); return nil })
	err := g.Wait()
	var pe *ants.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Wait = %v, want a *PanicError", err)
	}
	const want = "ants: group task panicked: kaboom"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	for _, verb := range []string{"%v", "%s"} {
		if got := fmt.Sprintf(verb, err); got != want {
			t.Errorf("Sprintf(%s) = %q, want %q", verb, got, want)
		}
	}
	if got := fmt.Sprintf("%q", err); got != fmt.Sprintf("%q", want) {
		t.Errorf("Sprintf(%%q) = %s", got)
	}
	long := fmt.Sprintf("%+v", err)
	if !strings.HasPrefix(long, want+"\n") || !strings.Contains(long, "panicInGroupTask") {
		t.Errorf("Sprintf(%%+v) = %q, want the message and then the stack", long)
	}
	if !strings.Contains(string(pe.Stack), "panicInGroupTask") {
		t.Errorf("Stack lacks the panicking function:\n%s", pe.Stack)
	}
}

func TestSubmitValuePanicBecomesPanicErrorNotPanicHandler(t *testing.T) {
	p, _ := ants.NewPool(1, ants.WithPanicHandler(func(v any) {
		t.Errorf("PanicHandler got %v; a SubmitValue panic must not reach it", v)
	}))
	ctx := context.Background()
	_, err := ants.SubmitValue(ctx, p, func(context.Context) (int, error) { panicInGroupTask("kaboom"); return 1, nil }).Wait()
	var pe *ants.PanicError
	if !errors.As(err, &pe) || pe.Value != "kaboom" || len(pe.Stack) == 0 {
		t.Errorf("Wait error = %v, want a *PanicError with value kaboom and a stack", err)
	}
	_, err = ants.SubmitValue(ctx, p, func(context.Context) (int, error) { panicInGroupTask(errBoom); return 1, nil }).Wait()
	if !errors.As(err, &pe) || !errors.Is(err, errBoom) {
		t.Errorf("Wait error = %v, want a *PanicError that unwraps to errBoom", err)
	}
	if v, err := ants.SubmitValue(ctx, p, func(context.Context) (int, error) { return 2, nil }).Wait(); v != 2 || err != nil {
		t.Errorf("after the panics, Wait = %d, %v, want 2, nil (the pool still works)", v, err)
	}
	mustRelease(t, p)
}

func TestSubmitValueGoexitResolvesWithErrGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := ants.NewPool(1)
		f := ants.SubmitValue(context.Background(), p, func(context.Context) (int, error) { runtime.Goexit(); return 1, nil })
		synctest.Wait()
		if !isClosed(f.Done()) {
			t.Fatal("the future of a task that called runtime.Goexit is not resolved")
		}
		if v, err := f.Wait(); v != 0 || !errors.Is(err, ants.ErrGoexit) {
			t.Errorf("Wait = %d, %v, want 0, ErrGoexit", v, err)
		}
		if v, err := ants.SubmitValue(context.Background(), p, func(context.Context) (int, error) { return 2, nil }).Wait(); v != 2 || err != nil {
			t.Errorf("after the Goexit, Wait = %d, %v, want 2, nil (the pool still works)", v, err)
		}
		mustRelease(t, p)
	})
}

//go:noinline
func panicForSlog() { panic("boom") }

// SlogLogger logs a panic as one record with the value and the stack as
// attributes; other messages as Info records.
func TestSlogLoggerLogsAPanicAsOneRecord(t *testing.T) {
	var buf syncBuffer
	l := ants.SlogLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	p, _ := ants.NewPool(1, ants.WithLogger(l))
	_ = p.Submit(panicForSlog)
	mustRelease(t, p) // the panic is logged before the worker exits
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d records, want 1:\n%s", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["level"] != "ERROR" || rec["msg"] != "ants: worker exits from panic" || rec["panic"] != "boom" {
		t.Errorf("record = %v", rec)
	}
	if stack, _ := rec["stack"].(string); !strings.Contains(stack, "panicForSlog") {
		t.Errorf("the stack attribute lacks the panicking function: %q", stack)
	}

	buf.Reset()
	l.Printf("hello %d\n", 42)
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["level"] != "INFO" || rec["msg"] != "hello 42" {
		t.Errorf("Printf record = %v (%v)", rec, err)
	}
}

// syncBuffer is a bytes.Buffer safe for a worker to write while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.b.Bytes()...)
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
