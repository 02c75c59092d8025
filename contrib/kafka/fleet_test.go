package antskafka_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/antspool/ants"
	antskafka "github.com/antspool/ants/contrib/kafka"
)

// A member process of the fleet test is this test binary run with these
// set in its environment: TestMain then runs runFleetChild instead of the
// tests.
const (
	fleetBrokersEnv = "ANTSKAFKA_FLEET_BROKERS"
	fleetIDEnv      = "ANTSKAFKA_FLEET_ID"
)

// runFleetChild is one consumer process of the fleet test, if the
// environment says so: it runs Run in the group "fleet" until SIGINT,
// writing to stdout its member id at each assignment ("M id") and each
// record it handled ("H partition offset key"), unbuffered, before the
// handler returns, so a line the parent reads may lack its commit if the
// process dies, never the reverse. It reports whether it ran.
func runFleetChild() bool {
	brokers, isChild := os.LookupEnv(fleetBrokersEnv)
	if !isChild {
		return false
	}
	exitOn := func(err error) {
		if err != nil {
			fmt.Fprintf(os.Stderr, "fleet member %s: %v\n", os.Getenv(fleetIDEnv), err)
			os.Exit(1)
		}
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		_, _ = fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cl, err := kgo.NewClient(append(antskafka.ClientOpts(),
		kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.ConsumerGroup("fleet"),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(50*time.Millisecond),
		kgo.SessionTimeout(time.Second),
		kgo.HeartbeatInterval(100*time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, cl *kgo.Client, m map[string][]int32) {
			member, _ := cl.GroupMetadata()
			say("M %s %d", member, len(m[topic]))
		}),
	)...)
	exitOn(err)
	pool, _ := ants.NewPool(16)
	err = antskafka.Run(ctx, cl, pool, func(ctx context.Context, rec *kgo.Record) error {
		say("H %d %d %s", rec.Partition, rec.Offset, rec.Key)
		return nil
	}, antskafka.WithCommitInterval(100*time.Millisecond))
	exitOn(err)
	cl.Close()
	exitOn(pool.ReleaseContext(context.Background()))
	os.Exit(0)
	return true
}

// fleetLog gathers what the processes report, and the commits the
// cluster receives.
type fleetLog struct {
	mu       sync.Mutex
	handled  map[[2]int64][]int // partition/offset -> the processes that handled it, in order
	members  map[string]int     // member id -> process
	commits  []fleetCommit
	byProc   []map[string][]int64 // process -> partition/key -> offsets handled, in order
	joined   int
	distinct int
	events   map[int]chan struct{} // distinct count -> closed on reaching it
	allIn    chan struct{}         // every process has an assignment
	ends     []int64               // each partition's end
	atEnd    int                   // partitions committed at their end
	settled  chan struct{}         // closed once every partition is
}

type fleetCommit struct {
	member    string
	partition int32
	offset    int64
}

// read takes in what process proc writes on r until EOF. The victim's last
// line may be cut short by the kill: its lines that do not parse are left
// out.
func (l *fleetLog) read(t *testing.T, proc int, victim bool, r io.Reader, wg *sync.WaitGroup) {
	defer wg.Done()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		l.mu.Lock()
		switch {
		case strings.HasPrefix(line, "M "):
			var member string
			var n int
			if _, err := fmt.Sscanf(line, "M %s %d", &member, &n); err != nil {
				l.bad(t, proc, victim, line)
				break
			}
			if _, seen := l.members[member]; !seen && n > 0 {
				l.joined++
				if l.joined == len(l.byProc) {
					close(l.allIn)
				}
			}
			if n > 0 {
				l.members[member] = proc
			}
		case strings.HasPrefix(line, "H "):
			var p, off int64
			var key string
			if _, err := fmt.Sscanf(line, "H %d %d %s", &p, &off, &key); err != nil {
				l.bad(t, proc, victim, line)
				break
			}
			id := [2]int64{p, off}
			if len(l.handled[id]) == 0 {
				l.distinct++
				if ch := l.events[l.distinct]; ch != nil {
					close(ch)
				}
			}
			l.handled[id] = append(l.handled[id], proc)
			k := fmt.Sprintf("%d/%s", p, key)
			l.byProc[proc][k] = append(l.byProc[proc][k], off)
		default:
			l.bad(t, proc, victim, line)
		}
		l.mu.Unlock()
	}
}

// bad reports a line that does not parse, unless the victim wrote it.
func (l *fleetLog) bad(t *testing.T, proc int, victim bool, line string) {
	if !victim {
		t.Errorf("process %d wrote %q", proc, line)
	}
}

// at returns a channel closed once n distinct records are handled.
func (l *fleetLog) at(n int) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	if l.distinct >= n {
		close(ch)
	} else {
		l.events[n] = ch
	}
	return ch
}

// Three consumer processes share one group; one is killed (SIGKILL)
// mid-run. Every record is handled at least once, a record is handled
// twice only if the killed process handled it above its last commit of the
// partition, key order holds within each process but for redeliveries, and
// the group ends committed at the end of every partition.
func TestFleetKilledMemberLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes; run without -short")
	}
	const records, parts, keys, processes, victim = 20000, 12, 200, 3, 0
	c := newCluster(t, parts)
	l := &fleetLog{
		handled: make(map[[2]int64][]int, records),
		members: make(map[string]int),
		byProc:  make([]map[string][]int64, processes),
		events:  make(map[int]chan struct{}),
		allIn:   make(chan struct{}),
	}
	for i := range l.byProc {
		l.byProc[i] = make(map[string][]int64)
	}
	l.ends = make([]int64, parts) // keyed puts record i in partition i % parts
	for i := range records {
		l.ends[i%parts]++
	}
	l.settled = make(chan struct{})
	reached := make(map[int32]bool)
	c.c.ControlKey(int16(kmsg.OffsetCommit), func(req kmsg.Request) (kmsg.Response, error, bool) {
		r := req.(*kmsg.OffsetCommitRequest)
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				l.commits = append(l.commits, fleetCommit{r.MemberID, p.Partition, p.Offset})
				if p.Offset == l.ends[p.Partition] && !reached[p.Partition] {
					reached[p.Partition] = true
					if l.atEnd++; l.atEnd == parts {
						close(l.settled)
					}
				}
			}
		}
		return nil, nil, false
	})

	var readers sync.WaitGroup
	cmds := make([]*exec.Cmd, processes)
	for i := range cmds {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), fleetBrokersEnv+"="+strings.Join(c.addrs, ","), fmt.Sprintf("%s=%d", fleetIDEnv, i))
		cmd.Stderr = os.Stderr
		// A pipe of our own, not StdoutPipe: Wait closes that one, and with
		// it the lines a killed member wrote and we have not read yet.
		out, in, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = in
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		in.Close() // the member holds the write end: EOF when it exits
		readers.Add(1)
		go func() {
			defer out.Close()
			l.read(t, i, i == victim, out, &readers)
		}()
		cmds[i] = cmd
	}
	defer func() {
		for _, cmd := range cmds {
			if cmd.ProcessState == nil {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
		}
	}()
	within(t, 30*time.Second, l.allIn, "every member to get partitions")

	start := time.Now()
	killAt, all := l.at(records/5), l.at(records)
	c.produce(keyed(records, parts, keys)...)
	within(t, 60*time.Second, killAt, "a fifth of the records")
	if err := cmds[victim].Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	killed := time.Now()
	_ = cmds[victim].Wait()
	select {
	case <-all:
	case <-time.After(60 * time.Second):
		l.mu.Lock()
		defer l.mu.Unlock()
		t.Fatalf("only %d of %d records handled after the kill", l.distinct, records)
	}
	recovered := time.Since(killed)
	elapsed := time.Since(start)
	// Every record is handled; the ones the victim left above its last
	// commit may still be on their way to a second run, after which the
	// commits reach every partition's end.
	within(t, 60*time.Second, l.settled, "the group's commits to reach every partition's end")
	survivors := append(cmds[:victim:victim], cmds[victim+1:]...)
	for _, cmd := range survivors { // all stop at once: none takes the others' partitions
		_ = cmd.Process.Signal(os.Interrupt)
	}
	for _, cmd := range survivors {
		if err := cmd.Wait(); err != nil {
			t.Errorf("a member exited with %v after SIGINT; want 0", err)
		}
	}
	readers.Wait()

	ends := l.ends
	committed := c.committed("fleet")
	for p := range int32(parts) {
		if committed[p] != ends[p] {
			t.Errorf("partition %d committed at %d, want its end, %d", p, committed[p], ends[p])
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	// The victim's last commit of each partition.
	last := make(map[int32]int64)
	for _, cm := range l.commits {
		if proc, ok := l.members[cm.member]; ok && proc == victim {
			last[cm.partition] = max(last[cm.partition], cm.offset)
		}
	}
	twice, byVictim := 0, 0
	for p := range int64(parts) {
		for off := range ends[p] {
			who := l.handled[[2]int64{p, off}]
			if len(who) == 0 {
				t.Errorf("record %d/%d never handled", p, off)
				continue
			}
			for _, w := range who {
				if w == victim {
					byVictim++
				}
			}
			if len(who) == 1 {
				continue
			}
			twice++
			if who[0] != victim || off < last[int32(p)] {
				t.Errorf("record %d/%d handled by %v; the victim's last commit of the partition was %d", p, off, who, last[int32(p)])
			}
		}
	}
	disorder := 0
	for proc, byKey := range l.byProc {
		for k, offs := range byKey {
			var p int64
			fmt.Sscanf(k, "%d/", &p)
			for i := 1; i < len(offs); i++ {
				if offs[i] <= offs[i-1] && len(l.handled[[2]int64{p, offs[i]}]) == 1 {
					disorder++
					t.Errorf("process %d, key %s: offset %d after %d", proc, k, offs[i], offs[i-1])
				}
			}
		}
	}
	if byVictim == 0 {
		t.Error("the victim handled nothing before it was killed")
	}
	t.Logf("%d records, %d partitions, %d processes, one killed after %d: %d handled by it, %d handled twice "+
		"(all by it, above its last commit), %d key-order violations; all handled %v after the kill, %v in all (%.0f records/s)",
		records, parts, processes, records/5, byVictim, twice, disorder,
		recovered.Round(time.Millisecond), elapsed.Round(time.Millisecond), float64(records)/elapsed.Seconds())
}
