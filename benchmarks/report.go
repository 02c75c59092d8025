package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// runInfo is what the report says of the run itself.
type runInfo struct {
	date    time.Time
	took    time.Duration
	quick   bool
	reps    int
	args    []string // the command line's flags
	jsonOut string   // the -json file, if any
}

// The libraries measured, by module path, in the order the report names them.
var libraries = []struct{ path, name string }{
	{"github.com/antspool/ants", "this module"},
	{"github.com/panjf2000/ants/v2", "ants v2"},
	{"github.com/alitto/pond/v2", "pond"},
	{"github.com/sourcegraph/conc", "conc"},
	{"golang.org/x/sync", "errgroup and semaphore.Weighted"},
	{"github.com/gammazero/workerpool", "workerpool"},
	{"github.com/go-pkgz/pool", "go-pkgz/pool"},
	{"golang.org/x/time", "rate.Limiter"},
}

// writeReport writes RESULTS.md: what was measured and how, how to read
// the tables, every form measured, and a table per workload.
func writeReport(out io.Writer, info runInfo, ws []*workload, runs []run) {
	p := func(format string, args ...any) { fmt.Fprintf(out, format, args...) }

	p("# Pool benchmarks\n\n")
	p("The same workloads, run on this module's pools (`github.com/antspool/ants`) and on what Go programs use instead: " +
		"ants v2, pond v2, conc, errgroup, workerpool, go-pkgz/pool, a channel semaphore, `semaphore.Weighted` and plain goroutines. " +
		"Each contender does each job in its library's fastest idiomatic form, and its row's label names that form: " +
		"the library, then the calls it makes. Where a library has two forms worth comparing, each has its own row.\n\n")
	if info.quick {
		p("**This is a `-quick` run**: every workload scaled down and measured once. It checks that everything runs, and says nothing of speed.\n\n")
	}

	p("## The run\n\n")
	p("- %s, %s/%s, GOMAXPROCS=%d, %s.\n", machine(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.Version())
	p("- %s; %d repetition%s of each measurement; the run took %s.\n", info.date.UTC().Format("2006-01-02"),
		info.reps, map[bool]string{true: "", false: "s"}[info.reps == 1], roundTook(info.took))
	if libs := versions(); len(libs) > 0 {
		p("- Libraries: %s.\n", strings.Join(libs, ", "))
	}
	p("\nThis report is the output of\n\n```sh\n%s\n```\n\n", command(info))
	if info.jsonOut != "" {
		p("![Median wall time and peak RSS per workload, as a multiple of each workload's reference row](chart.svg)\n\n")
	}

	p("## How it measures\n\n")
	p("- Every measurement runs in a fresh child process (`go run . -child \"W2-8/pond Go+StopAndWait\"` runs one alone), " +
		"so one contender's heap, goroutines and GC state never weigh on the next.\n")
	p("- Repetitions are interleaved, A B C, A B C, so that drift of the machine hits every contender alike.\n")
	p("- A measurement starts after a garbage collection, with the pool not yet made, and ends when the form's wait returns: " +
		"making the pool, submitting every task, waiting for them and shutting the pool down are all in it.\n")
	p("- After the wait, the child checks that every task has run (W4: that the wait returned the failing task's error); " +
		"a form whose wait returned early would fail the run.\n\n")

	p("## Reading the tables\n\n")
	p("A cell is the median over the repetitions and, in brackets, the min–max.\n\n")
	p("- **wall**: the measurement's time.\n")
	p("- **× reference**: the median wall time as a multiple of the workload's reference row, named in the column's header (that row reads 1.00); below 1 is faster.\n")
	p("- **ns/task**: wall time per task.\n")
	p("- **CPU**: user and system CPU time of the process during the measurement; above the wall time when more than one core was busy.\n")
	p("- **peak RSS**: the child process's peak resident memory (VmHWM), the Go runtime included.\n")
	p("- **allocs/task**: heap allocations during the measurement, per task (the pool's own included).\n")
	p("- **goroutines**: goroutines started during the measurement: the workers a pool started, or one per task for the forms without a pool.\n")
	p("- A workload's own columns are explained under its table.\n\n")

	p("## The forms\n\n")
	p("\"this\" and `ants.` are this module, \"ants v2\" and `antsv2.` are `github.com/panjf2000/ants/v2`. " +
		"\"queue\" is one of this module's pools made with `WithQueueSize(1024)`: a submit that finds every worker busy queues the task and returns, and workers take queued tasks in order without going idle. " +
		"A \"drain\" waits for the tasks by shutting the pool down with a call that returns once every task has returned, instead of counting the tasks with a WaitGroup.\n\n")
	p("| row | what it does |\n|---|---|\n")
	seen := map[string]bool{}
	for _, w := range ws {
		for _, c := range w.contenders {
			if !seen[c.name] {
				seen[c.name] = true
				p("| %s | %s |\n", c.name, c.how)
			}
		}
	}
	p("\n")

	for i, w := range ws {
		cfg := w.config(info.quick)
		p("## %s %s\n\n%s\n\n", w.key, w.name, w.desc(cfg))
		writeTable(out, w, runs[i].Results)
		if len(w.extras) > 0 {
			keys := make([]string, 0, len(w.extras))
			for k := range w.extras {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p("- **%s**: %s.\n", k, w.extras[k])
			}
			p("\n")
		}
	}
}

// writeTable writes one workload's results: medians, and min–max.
func writeTable(out io.Writer, w *workload, results map[string][]result) {
	extras := []string{}
	for _, rs := range results {
		for k := range rs[0].Extra {
			if !slices.Contains(extras, k) {
				extras = append(extras, k)
			}
		}
	}
	sort.Strings(extras)
	ref := median(results[w.reference], func(r result) float64 { return float64(r.WallNs) })
	head := []string{"contender", "wall", "× " + w.reference, "ns/task", "CPU", "peak RSS", "allocs/task", "goroutines"}
	head = append(head, extras...)
	fmt.Fprintln(out, "| "+strings.Join(head, " | ")+" |")
	fmt.Fprintln(out, "|"+strings.Repeat("---|", len(head)))
	for _, c := range w.contenders {
		rs := results[c.name]
		row := []string{c.name,
			cell(rs, func(r result) float64 { return float64(r.WallNs) / 1e6 }, "%.0f ms", "%.0f"),
			fmt.Sprintf("%.2f", median(rs, func(r result) float64 { return float64(r.WallNs) })/ref),
			cell(rs, func(r result) float64 { return float64(r.WallNs) / float64(r.Tasks) }, "%.0f", "%.0f"),
			cell(rs, func(r result) float64 { return float64(r.CPUNs) / 1e6 }, "%.0f ms", "%.0f"),
			cell(rs, func(r result) float64 { return float64(r.RSSKB) / 1024 }, "%.0f MiB", "%.0f"),
			cell(rs, func(r result) float64 { return float64(r.Mallocs) / float64(r.Tasks) }, "%.2f", "%.2f"),
			cell(rs, func(r result) float64 { return float64(r.Goroutines) }, "%.0f", "%.0f"),
		}
		for _, k := range extras {
			f := func(r result) float64 { return r.Extra[k] }
			vs := values(rs, f)
			s := short(median(rs, f))
			if len(vs) > 1 {
				s += " (" + short(vs[0]) + "–" + short(vs[len(vs)-1]) + ")"
			}
			row = append(row, s)
		}
		fmt.Fprintln(out, "| "+strings.Join(row, " | ")+" |")
	}
	fmt.Fprintln(out)
}

// short formats a workload's own figure: three significant digits, or
// the whole number from 1,000 on.
func short(v float64) string {
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// machine describes the CPU from /proc/cpuinfo where there is one.
func machine() string {
	model, vm := "", false
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "model name":
				if model == "" {
					model = strings.TrimSpace(v)
				}
			case "flags":
				vm = vm || slices.Contains(strings.Fields(v), "hypervisor")
			}
		}
	}
	s := fmt.Sprintf("%d logical CPUs", runtime.NumCPU())
	if model != "" {
		s = model + ", " + s
	}
	if vm {
		s += " (a virtual machine)"
	}
	return s
}

// versions names each library measured with the version this binary was
// built with.
func versions() []string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	var libs []string
	for _, l := range libraries {
		for _, d := range bi.Deps {
			if d.Path != l.path {
				continue
			}
			switch {
			case d.Replace != nil && strings.HasPrefix(d.Replace.Path, "."):
				libs = append(libs, fmt.Sprintf("%s (`%s`, from this repository's working tree)", l.name, l.path))
			case d.Replace != nil:
				libs = append(libs, fmt.Sprintf("%s (`%s` %s)", l.name, d.Replace.Path, d.Replace.Version))
			default:
				libs = append(libs, fmt.Sprintf("%s (`%s` %s)", l.name, l.path, d.Version))
			}
		}
	}
	return libs
}

// command is the command line that wrote the report, as run from the
// repository's root.
func command(info runInfo) string {
	var sb strings.Builder
	sb.WriteString("cd benchmarks && go run .")
	for _, a := range info.args {
		sb.WriteString(" ")
		if strings.ContainsAny(a, " \"'$&|;<>*?") {
			a = strconv.Quote(a)
		}
		sb.WriteString(a)
	}
	sb.WriteString(" > RESULTS.md")
	if info.jsonOut != "" {
		sb.WriteString(" && go run . -chart chart.svg -from " + info.jsonOut)
	}
	return sb.String()
}

// roundTook rounds the run's time for the report: seconds, or tenths of a
// second under ten seconds.
func roundTook(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
