package ants

import "time"

// Stats is a snapshot of a pool's gauges and counters, as Pool.Stats
// returns it. It is a plain value, cheap to take: a pool takes its lock
// once to fill it, and never stops running for it. Gauges and counters are
// read together under that lock, but a snapshot of a multi-pool is the sum
// of its sub-pools' taken one after the other. Taking one changes nothing
// in the pool.
//
// Counters only grow, from the pool's creation, through Release and
// Reboot. Submitted - Completed is the number of tasks accepted and not yet
// finished. Each task is in at most one gauge: Busy once a worker has it,
// Queued while it waits, accepted, for a worker.
type Stats struct {
	// Cap is the pool's capacity, -1 if it has none (Pool.Cap).
	Cap int
	// Running is the number of worker goroutines alive, busy or idle, as
	// Pool.Running counts them.
	Running int
	// Busy is the number of workers running a task (or about to: handed
	// one). Cap - Busy workers can take a task without waiting, which is
	// what back-pressure wants; Free cannot tell, since an idle worker
	// counts as running until it expires.
	Busy int
	// Idle is Running - Busy: workers waiting for a task (or woken for a
	// queued one they have not taken yet), or exiting without one (expired,
	// or the pool released).
	Idle int
	// Waiting is the number of callers blocked in a submit (Pool.Waiting).
	Waiting int
	// Queued is the number of tasks accepted and not yet started that no
	// caller waits for: the tasks in the queue (WithQueueSize), and Group
	// retries waiting out their delay or waiting for a worker.
	Queued int

	// Submitted counts the tasks accepted: submits that returned nil (a
	// task counts when it is handed to a worker or queued), and every
	// attempt of a Group task (a retry counts when it gets its worker).
	Submitted uint64
	// Completed counts the tasks that returned, normally, by a panic, or by
	// runtime.Goexit.
	Completed uint64
	// Panicked counts the tasks that panicked: pool tasks (whose panics go
	// to the PanicHandler) and Group and SubmitValue tasks (whose panics
	// become a *PanicError).
	Panicked uint64
	// Rejected counts the submits refused with ErrPoolOverload (TrySubmit's
	// and TryGo's misses included) or ErrPoolClosed.
	Rejected uint64
	// Canceled counts the submits whose context ended before their task
	// was accepted (already done included), Group tasks skipped because the
	// group's context ended included.
	Canceled uint64
	// WaitTime is the total time the accepted tasks waited between their
	// submit and their start. In the default mode it counts every task that
	// waited in line (a caller blocked in a submit, a Group retry waiting
	// for a worker). In queue mode it counts waits only on a pool with a
	// task observer (WithTaskObserver), and then every queued task's. A
	// task that found a free worker waited 0.
	//
	// Timing a wait costs two clock reads (about 40 ns each on a small VM):
	// little next to a caller that parks, but a queue hands a task over in
	// less, and a producer that keeps the queue full parks for nearly every
	// task, so in queue mode waits are timed only when an observer needs
	// them.
	WaitTime time.Duration
}

// TaskInfo describes one task a worker ran, for a task observer (see
// WithTaskObserver).
type TaskInfo struct {
	// Wait is how long the task waited for a worker, from its submit (or a
	// Group retry's due time) to its start; 0 if a worker was free.
	Wait time.Duration
	// Run is how long the task ran.
	Run time.Duration
	// Panicked reports whether the task panicked (a Group or SubmitValue
	// task included, whose panic became a *PanicError).
	Panicked bool
}

// clockBase anchors nanotime: time.Since reads only the monotonic clock,
// one cheap read, where time.Now reads the wall clock too.
var clockBase = time.Now()

// nanotime returns the monotonic clock in nanoseconds since clockBase, and
// never 0, which the pool uses for "not read".
func nanotime() int64 { return int64(time.Since(clockBase)) | 1 }

// Stats returns a snapshot of the pool's gauges and counters; see Stats.
// It is safe to call at any time, on a released pool too.
func (p *core[T]) Stats() Stats {
	s := p.stats()
	p.waiters.addStats(&s)
	return s
}

// stats fills the pool's own part of a Stats: all but what its line holds,
// which a multi-pool's sub-pools share.
func (p *core[T]) stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	running, idle := int(p.running.Load()), p.idle.Len()
	return Stats{
		Cap:       p.Cap(),
		Running:   running,
		Busy:      running - idle - p.stopping - p.waking,
		Idle:      idle + p.stopping + p.waking,
		Queued:    p.queue.Len() + int(p.run.delayed.Load()),
		Submitted: p.submitted,
		Completed: p.completed,
		Panicked:  p.panicked,
		Rejected:  p.rejected.Load(),
		Canceled:  p.canceled.Load(),
		WaitTime:  time.Duration(p.waitTotal),
	}
}

// addStats adds what the line holds to s: its blocked callers, and the
// posted tasks (Group retries) in it.
func (l *line[T]) addStats(s *Stats) {
	l.mu.Lock()
	callers := l.waiting()
	s.Waiting += callers
	s.Queued += l.len() - callers
	l.mu.Unlock()
}

// Stats returns the sum of the sub-pools' Stats: their gauges and counters
// added up, the shared line counted once, and Cap as the multi-pool's.
func (mp *multiPool[T]) Stats() Stats {
	var s Stats
	for _, p := range mp.pools {
		ps := p.stats()
		s.Running += ps.Running
		s.Busy += ps.Busy
		s.Idle += ps.Idle
		s.Queued += ps.Queued
		s.Submitted += ps.Submitted
		s.Completed += ps.Completed
		s.Panicked += ps.Panicked
		s.Rejected += ps.Rejected
		s.Canceled += ps.Canceled
		s.WaitTime += ps.WaitTime
	}
	s.Cap = mp.Cap()
	mp.waiters.addStats(&s)
	return s
}

// tally counts err, a submit's refusal, in the pool's counters, and
// returns it.
func (p *core[T]) tally(err error) error {
	switch err {
	case nil, ErrNilTask, ErrNilContext:
	case ErrPoolOverload, ErrPoolClosed:
		p.rejected.Add(1)
	default: // a context's error
		p.canceled.Add(1)
	}
	return err
}

// tally counts a refusal of the multi-pool's in its first sub-pool: the
// multi-pool's Stats adds them up.
func (mp *multiPool[T]) tally(err error) error { return mp.pools[0].tally(err) }
