package antsprom_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/antspool/ants"
	antsprom "github.com/antspool/ants/contrib/prometheus"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fixedStats is a StatsSource with a snapshot of our choosing.
type fixedStats ants.Stats

func (s fixedStats) Stats() ants.Stats { return ants.Stats(s) }

// Every field of Stats comes out under its name, counters as counters and
// gauges as gauges, with the pool label.
func TestStatsCollectorExportsEveryField(t *testing.T) {
	c := antsprom.NewStatsCollector("jobs", fixedStats{
		Cap: 8, Running: 6, Busy: 4, Idle: 2, Waiting: 3, Queued: 1,
		Submitted: 100, Completed: 96, Panicked: 2, Rejected: 5, Canceled: 7,
		WaitTime: 1500 * time.Millisecond,
	})
	want := `
# HELP ants_pool_busy_workers Workers running a task.
# TYPE ants_pool_busy_workers gauge
ants_pool_busy_workers{pool="jobs"} 4
# HELP ants_pool_capacity The most workers the pool runs at once; -1 for no limit.
# TYPE ants_pool_capacity gauge
ants_pool_capacity{pool="jobs"} 8
# HELP ants_pool_idle_workers Workers waiting for a task.
# TYPE ants_pool_idle_workers gauge
ants_pool_idle_workers{pool="jobs"} 2
# HELP ants_pool_queued_tasks Tasks accepted and not yet started: queued (WithQueueSize), or Group retries.
# TYPE ants_pool_queued_tasks gauge
ants_pool_queued_tasks{pool="jobs"} 1
# HELP ants_pool_submits_canceled_total Submits whose context ended before a worker took the task.
# TYPE ants_pool_submits_canceled_total counter
ants_pool_submits_canceled_total{pool="jobs"} 7
# HELP ants_pool_submits_rejected_total Submits refused with ErrPoolOverload or ErrPoolClosed.
# TYPE ants_pool_submits_rejected_total counter
ants_pool_submits_rejected_total{pool="jobs"} 5
# HELP ants_pool_tasks_completed_total Tasks that returned, normally, by a panic or by runtime.Goexit.
# TYPE ants_pool_tasks_completed_total counter
ants_pool_tasks_completed_total{pool="jobs"} 96
# HELP ants_pool_tasks_panicked_total Tasks that panicked.
# TYPE ants_pool_tasks_panicked_total counter
ants_pool_tasks_panicked_total{pool="jobs"} 2
# HELP ants_pool_tasks_submitted_total Tasks handed to a worker.
# TYPE ants_pool_tasks_submitted_total counter
ants_pool_tasks_submitted_total{pool="jobs"} 100
# HELP ants_pool_wait_seconds_total Total time accepted tasks waited for a worker.
# TYPE ants_pool_wait_seconds_total counter
ants_pool_wait_seconds_total{pool="jobs"} 1.5
# HELP ants_pool_waiting_callers Callers blocked in a submit, waiting for a worker.
# TYPE ants_pool_waiting_callers gauge
ants_pool_waiting_callers{pool="jobs"} 3
# HELP ants_pool_workers Worker goroutines alive, busy or idle.
# TYPE ants_pool_workers gauge
ants_pool_workers{pool="jobs"} 6
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c); n != 12 {
		t.Errorf("%d metrics, want 12", n)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) != 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
}

// A real pool, a real run: the counters follow the pool, and the
// histograms count every task, Group attempts and panics included.
func TestCollectorsFollowARealPool(t *testing.T) {
	timings := antsprom.NewTaskTimings("real")
	pool, err := ants.NewPool(4, ants.WithTaskObserver(timings.Observe), ants.WithPanicHandler(func(any) {}))
	if err != nil {
		t.Fatal(err)
	}
	stats := antsprom.NewStatsCollector("real", pool)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(stats, timings)

	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		if err := pool.Submit(func() {
			defer wg.Done()
			if i == 7 {
				panic("task 7")
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	g := pool.Group(context.Background(), ants.WithCollectErrors())
	for range 10 {
		g.Go(func(context.Context) error { return errors.New("failed") })
	}
	_ = g.Wait()
	if err := pool.ReleaseContext(context.Background()); err != nil {
		t.Fatal(err)
	}

	for name, want := range map[string]float64{
		"ants_pool_tasks_submitted_total": 60,
		"ants_pool_tasks_completed_total": 60,
		"ants_pool_tasks_panicked_total":  1,
		"ants_pool_workers":               0,
		"ants_pool_busy_workers":          0,
	} {
		if got := testutil.ToFloat64(filter(stats, name)); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, f := range families {
		if h := f.GetMetric()[0].GetHistogram(); h != nil {
			counts[f.GetName()] = h.GetSampleCount()
		}
	}
	if counts["ants_pool_task_wait_seconds"] != 60 || counts["ants_pool_task_run_seconds"] != 60 {
		t.Errorf("histogram sample counts = %v, want 60 each", counts)
	}
}

// filter keeps the one metric of c named name, for testutil.ToFloat64.
func filter(c prometheus.Collector, name string) prometheus.Collector {
	return collectorFunc(func(ch chan<- prometheus.Metric) {
		all := make(chan prometheus.Metric, 32)
		c.Collect(all)
		close(all)
		for m := range all {
			if strings.Contains(m.Desc().String(), `"`+name+`"`) {
				ch <- m
			}
		}
	})
}

type collectorFunc func(chan<- prometheus.Metric)

func (f collectorFunc) Describe(chan<- *prometheus.Desc)    {}
func (f collectorFunc) Collect(ch chan<- prometheus.Metric) { f(ch) }

// Serve /metrics on 127.0.0.1 with promhttp and scrape it over HTTP, as
// Prometheus would: two pools side by side, told apart by their label.
func TestScrapeOverHTTP(t *testing.T) {
	a, _ := ants.NewPool(2)
	b, _ := ants.NewMultiPool(2, 2, ants.RoundRobin)
	reg := prometheus.NewRegistry()
	reg.MustRegister(antsprom.NewStatsCollector("a", a), antsprom.NewStatsCollector("b", b))
	done := make(chan struct{}, 7)
	for range 3 {
		_ = a.Submit(func() { done <- struct{}{} })
	}
	for range 4 {
		_ = b.Submit(func() { done <- struct{}{} })
	}
	for range 7 {
		<-done
	}
	// Released, every worker gone: the counters are final.
	if err := b.ReleaseContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	_ = a.Submit(func() {}) // rejected: a is released

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()

	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + ln.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %v", resp.Status, err)
	}
	body := string(raw)
	for _, want := range []string{
		`ants_pool_tasks_completed_total{pool="a"} 3`,
		`ants_pool_tasks_completed_total{pool="b"} 4`,
		`ants_pool_tasks_submitted_total{pool="b"} 4`,
		`ants_pool_submits_rejected_total{pool="a"} 1`,
		`ants_pool_capacity{pool="b"} 4`,
		"# TYPE ants_pool_tasks_completed_total counter",
		"# TYPE ants_pool_busy_workers gauge",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestWithBuckets(t *testing.T) {
	timings := antsprom.NewTaskTimings("b", antsprom.WithBuckets([]float64{1}, []float64{0.5, 2}))
	timings.Observe(ants.TaskInfo{Wait: 2 * time.Second, Run: time.Second})
	want := `
# HELP ants_pool_task_run_seconds How long tasks ran.
# TYPE ants_pool_task_run_seconds histogram
ants_pool_task_run_seconds_bucket{pool="b",le="0.5"} 0
ants_pool_task_run_seconds_bucket{pool="b",le="2"} 1
ants_pool_task_run_seconds_bucket{pool="b",le="+Inf"} 1
ants_pool_task_run_seconds_sum{pool="b"} 1
ants_pool_task_run_seconds_count{pool="b"} 1
# HELP ants_pool_task_wait_seconds How long tasks waited for a worker, from submit to start.
# TYPE ants_pool_task_wait_seconds histogram
ants_pool_task_wait_seconds_bucket{pool="b",le="1"} 0
ants_pool_task_wait_seconds_bucket{pool="b",le="+Inf"} 1
ants_pool_task_wait_seconds_sum{pool="b"} 2
ants_pool_task_wait_seconds_count{pool="b"} 1
`
	if err := testutil.CollectAndCompare(timings, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if n := len(antsprom.DefaultBuckets); n != 12 || antsprom.DefaultBuckets[0] != 10e-6 {
		t.Errorf("DefaultBuckets = %v", antsprom.DefaultBuckets)
	}
}
