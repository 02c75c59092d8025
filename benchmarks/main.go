// Command benchmarks runs the same workloads on this module's pools and on
// what Go programs use instead — ants v2, pond v2, conc, errgroup,
// workerpool, go-pkgz/pool, semaphores and plain goroutines — each in its
// library's fastest idiomatic form, and prints the report, RESULTS.md: what
// each workload is, how to read the tables, the machine, and a markdown
// table per workload.
//
// Every measurement runs in a fresh child process (so one contender's heap,
// goroutines and GC state never weigh on the next), and repetitions are
// interleaved, A B C A B C, so that drift of the machine hits every
// contender alike. A cell shows the median and, in brackets, the min–max.
//
//	cd benchmarks && go run .            # the full run: about 20 minutes on 2 idle cores
//	cd benchmarks && go run . -quick     # scaled down: checks that it all runs
//	cd benchmarks && go run . -only W2   # one workload
//	cd benchmarks && go run . -child "W1/this Pool Submit+WaitGroup" -cpuprofile w1.prof  # one measurement, profiled
//
// RESULTS.md, results.json and chart.svg come from one full run:
//
//	cd benchmarks && go run . -json results.json > RESULTS.md && go run . -chart chart.svg -from results.json
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// result is what a child reports for one measurement.
type result struct {
	WallNs     int64              // time to run the workload
	Tasks      int64              // tasks in the workload
	CPUNs      int64              // user + system CPU time of the process during the workload
	RSSKB      int64              // peak resident memory of the process (VmHWM)
	Mallocs    uint64             // heap allocations during the workload
	Goroutines uint64             // goroutines created during the workload
	Extra      map[string]float64 // workload-specific figures, such as delays
}

func main() {
	quick := flag.Bool("quick", false, "scale every workload down (for CI: checks that all runs, says nothing of speed)")
	reps := flag.Int("reps", 5, "repetitions of each measurement (1 with -quick)")
	only := flag.String("only", "", "run only the workloads whose key starts with this, e.g. W2")
	child := flag.String("child", "", "run one measurement, workload/contender (e.g. \"W1/this Pool Submit+WaitGroup\"), and print its result as JSON")
	cpuprofile := flag.String("cpuprofile", "", "with -child: write a CPU profile of the measurement to this file")
	jsonOut := flag.String("json", "", "also write every measurement to this file, for -chart")
	chart := flag.String("chart", "", "draw wall time and peak memory per workload, as SVG, into this file, from the -from results (runs nothing)")
	from := flag.String("from", "results.json", "with -chart: the file a run wrote with -json")
	flag.Parse()

	if *chart != "" {
		if err := drawChart(*from, *chart); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}

	if *child != "" {
		if err := runChild(*child, *quick, *cpuprofile); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if *quick {
		*reps = 1
	}
	if err := runParent(*quick, *reps, *only, *jsonOut); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// runChild runs one contender's workload and prints its result as JSON.
// If profile is set, it writes a CPU profile of the workload there.
func runChild(id string, quick bool, profile string) error {
	w, c, err := find(id)
	if err != nil {
		return err
	}
	cfg := w.config(quick)
	if w.prepare != nil {
		w.prepare(cfg)
	}
	extra := map[string]float64{}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	runtime.GC()
	cpu0, mallocs0, gs0 := cpuTime(), mallocs(), goroutinesCreated()
	start := time.Now()
	c.run(cfg, extra)
	wall := time.Since(start)
	res := result{
		WallNs:     int64(wall),
		Tasks:      int64(cfg.tasks),
		CPUNs:      int64(cpuTime() - cpu0),
		RSSKB:      peakRSS(),
		Mallocs:    mallocs() - mallocs0,
		Goroutines: goroutinesCreated() - gs0,
		Extra:      extra,
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func find(id string) (*workload, *contender, error) {
	wkey, cname, _ := strings.Cut(id, "/")
	for _, w := range workloads() {
		if w.key != wkey {
			continue
		}
		for i := range w.contenders {
			if w.contenders[i].name == cname {
				return w, &w.contenders[i], nil
			}
		}
	}
	return nil, nil, fmt.Errorf("no measurement %q", id)
}

// run is one workload's results, as -json writes them and -chart reads
// them.
type run struct {
	Key, Name, Reference string
	Contenders           []string            // in table order
	Results              map[string][]result // by contender, one per repetition
}

// runParent runs every measurement of the selected workloads in child
// processes, then prints the report; with jsonOut, it also saves the
// results. Progress goes to stderr.
func runParent(quick bool, reps int, only, jsonOut string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var ws []*workload
	for _, w := range workloads() {
		if strings.HasPrefix(w.key, only) {
			ws = append(ws, w)
		}
	}
	info := runInfo{date: time.Now(), quick: quick, reps: reps, args: os.Args[1:], jsonOut: jsonOut}
	var runs []run
	for _, w := range ws {
		fmt.Fprintf(os.Stderr, "%s: %d contenders × %d repetitions\n", w.key, len(w.contenders), reps)
		results := make(map[string][]result)
		for range reps { // A B C, A B C: drift hits everyone alike
			for _, c := range w.contenders {
				args := []string{"-child", w.key + "/" + c.name}
				if quick {
					args = append(args, "-quick")
				}
				cmd := exec.Command(self, args...)
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				if err := cmd.Run(); err != nil {
					return fmt.Errorf("%s/%s: %v\n%s", w.key, c.name, err, errb.String())
				}
				var r result
				if err := json.Unmarshal(out.Bytes(), &r); err != nil {
					return fmt.Errorf("%s/%s: %v", w.key, c.name, err)
				}
				results[c.name] = append(results[c.name], r)
			}
		}
		r := run{Key: w.key, Name: w.name, Reference: w.reference, Results: results}
		for _, c := range w.contenders {
			r.Contenders = append(r.Contenders, c.name)
		}
		runs = append(runs, r)
	}
	info.took = time.Since(info.date)
	var report bytes.Buffer
	writeReport(&report, info, ws, runs)
	if _, err := os.Stdout.Write(report.Bytes()); err != nil {
		return err
	}
	if jsonOut == "" {
		return nil
	}
	b, err := json.MarshalIndent(runs, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(jsonOut, b, 0o644)
}

// cell formats the median of f over rs, with the min–max when there are
// several.
func cell(rs []result, f func(result) float64, medFmt, rangeFmt string) string {
	vs := values(rs, f)
	s := fmt.Sprintf(medFmt, median(rs, f))
	if len(vs) > 1 {
		s += fmt.Sprintf(" ("+rangeFmt+"–"+rangeFmt+")", vs[0], vs[len(vs)-1])
	}
	return s
}

func values(rs []result, f func(result) float64) []float64 {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = f(r)
	}
	sort.Float64s(vs)
	return vs
}

func median(rs []result, f func(result) float64) float64 {
	vs := values(rs, f)
	if len(vs) == 0 {
		return 0
	}
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

func goroutinesCreated() uint64 {
	s := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// peakRSS returns the process's peak resident set (VmHWM) in KiB, or 0
// where /proc is not there.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
