package ants

import (
	"context"
	"sync"

	"github.com/antspool/ants/queue"
)

// KeyedGroup is a Group whose tasks each carry a key: tasks given the same
// key run one at a time, in the order Go was called, while tasks of
// different keys run in parallel, up to the pool's capacity and WithLimit.
// Everything else is a Group's: the first error cancels the group (or, with
// WithCollectErrors, every error is joined in Go order), WithRetry (a
// retrying task keeps its key's turn: the key's next task starts after the
// retry's final outcome), WithTaskTimeout, WithRateLimit, and a panic is a
// *PanicError.
//
// A task waiting behind its key holds no worker and no goroutine: it sits
// in its key's lane, a first-in first-out list that exists only while the
// key has work, so a key with nothing pending or running costs nothing. A
// slow key delays only its own tasks (keys are not hashed onto workers),
// and keys are served fairly: after each task a key with more waiting goes
// to the back of the keys ready to run (with WithLimit, the group's own
// list of ready keys; without, the pool's line or queue).
//
// Go never waits for a worker: it returns once its task is accepted,
// behind its key or handed to the pool (placed, or posted in the pool's
// line). It waits, until the group's context ends, only while the group
// holds WithMaxPending(n) tasks accepted and not yet started (1024 unless
// set): tasks behind their key, and tasks in the pool's line or queue. A
// KeyedGroup made with the context of one of its pool's tasks is nested, as
// a Group is: its Wait runs its tasks not yet started itself.
//
// Once the group's context is done, the tasks not yet started are skipped,
// behind their key or in the pool, and Wait waits only for the ones
// running.
//
// Create one with NewKeyedGroup; it must not be copied. Go, TryGo and Wait
// are safe for concurrent use; a task may call Go on its own group.
type KeyedGroup[K comparable] struct {
	g *Group

	mu      sync.Mutex       // guards the fields below; taken before the pool's locks
	lanes   map[K]*lane[K]   // the keys with work: a task accepted and not finished
	running map[int]*lane[K] // the lane of each task handed to the pool, by index
	ready   laneQueue[K]     // lanes whose next task may start, oldest first (it waits for a WithLimit slot)

	// With WithRateLimit: the tasks whose turn has come, oldest first,
	// waiting for the limiter, and whether the one goroutine that waits
	// for it on their behalf runs (it exits once throttled is empty).
	throttled  queue.FIFO[keyedTask]
	throttling bool
}

// lane is one key's work: whether a task of it is handed to the pool (at
// most one is), and the tasks waiting behind it, oldest first.
type lane[K comparable] struct {
	key     K
	busy    bool
	waiting queue.FIFO[keyedTask]
	next    *lane[K] // in the ready queue
}

type keyedTask struct {
	i  int
	fn func(ctx context.Context) error
}

// laneQueue is a first-in first-out list of lanes.
type laneQueue[K comparable] struct{ head, tail *lane[K] }

func (q *laneQueue[K]) push(l *lane[K]) {
	l.next = nil
	if q.tail != nil {
		q.tail.next = l
	} else {
		q.head = l
	}
	q.tail = l
}

func (q *laneQueue[K]) pop() *lane[K] {
	l := q.head
	if l != nil {
		q.head = l.next
		if q.head == nil {
			q.tail = nil
		}
		l.next = nil
	}
	return l
}

// defaultMaxPending is a KeyedGroup's WithMaxPending when none is given.
const defaultMaxPending = 1024

// NewKeyedGroup returns a KeyedGroup that runs its tasks on r's workers,
// with a context derived from ctx, configured by opts: every GroupOption
// applies. A nil ctx or r gives a group that runs nothing and whose Wait
// returns ErrNilContext or ErrNilRunner, as NewResultGroup does;
// WithMaxPending(n) with n < 1 one whose Wait returns ErrInvalidMaxPending.
func NewKeyedGroup[K comparable](ctx context.Context, r Runner, opts ...GroupOption) *KeyedGroup[K] {
	kg := &KeyedGroup[K]{lanes: make(map[K]*lane[K]), running: make(map[int]*lane[K])}
	opts = append([]GroupOption{WithMaxPending(defaultMaxPending)}, opts...)
	if isNil(r) || ctx == nil {
		kg.g = newGroup(nil, ctx, opts)
	} else {
		kg.g = r.Group(ctx, opts...)
	}
	kg.g.track = true // every task is posted, and listed: a Wait may take it
	kg.g.after = kg.ended
	kg.g.onDone = kg.drain
	return kg
}

// Context returns the group's context; see Group.Context.
func (kg *KeyedGroup[K]) Context() context.Context { return kg.g.Context() }

// Go accepts task(ctx) for key: it runs after every task given earlier for
// the same key has finished (retries included), on a pool worker, with the
// group's context. Go does not wait for a worker; it waits, until the
// group's context is done, only while the group holds WithMaxPending tasks
// accepted and not yet started. A task skipped because the group's context
// is done, refused by a released pool, or nil is reported by Wait, as with
// Group.Go.
func (kg *KeyedGroup[K]) Go(key K, task func(ctx context.Context) error) {
	kg.launch(key, task, true)
}

// TryGo accepts task for key as Go does, but only if it would not wait: it
// returns false, without a group error, where Go would wait for room
// (WithMaxPending) or the group's context is done; on a released pool, and
// for a nil task, it returns false and the group fails as with Go. A task
// behind a busy key is accepted.
func (kg *KeyedGroup[K]) TryGo(key K, task func(ctx context.Context) error) bool {
	return kg.launch(key, task, false)
}

// Wait waits for every task accepted, then returns as Group.Wait does: the
// first error, or with WithCollectErrors every task's error joined in Go
// order. Once the group's context is done, Wait skips the tasks not yet
// started, behind their key or in the pool, and waits only for the ones
// running.
func (kg *KeyedGroup[K]) Wait() error { return kg.g.Wait() }

// launch accepts task for key, blocking (Go) or not (TryGo), and reports
// whether it did.
func (kg *KeyedGroup[K]) launch(key K, task func(ctx context.Context) error, block bool) bool {
	g := kg.g
	switch {
	case g.pool != nil && g.pool.IsClosed():
		g.finish(g.take(), g.pool.tally(ErrPoolClosed))
		return false
	case task == nil:
		g.finish(g.take(), ErrNilTask)
		return false
	case g.ctx.Err() != nil:
		if block {
			g.cancelled(g.take())
		}
		return false
	case block && !g.waitRoom():
		g.cancelled(g.take())
		return false
	case !block && !g.room():
		return false
	}
	g.seq.Lock() // the index and the lane's order follow the order of acceptance
	defer g.seq.Unlock()
	i := g.next
	g.next++
	g.accept()
	g.wg.Add(1)
	g.active.Add(1)
	kg.mu.Lock()
	l := kg.lanes[key]
	if l == nil {
		l = &lane[K]{key: key}
		kg.lanes[key] = l
		kg.ready.push(l)
	}
	l.waiting.Push(keyedTask{i, task})
	start := kg.startLocked()
	kg.mu.Unlock()
	kg.start(start)
	return true
}

// startLocked takes, from the ready lanes, oldest first, the tasks that
// may start now — each holding a WithLimit slot if the group has a limit
// — and returns them, to be handed to the pool once mu is released. mu
// must be held.
func (kg *KeyedGroup[K]) startLocked() []keyedTask {
	var start []keyedTask
	for kg.ready.head != nil {
		if kg.g.sem != nil {
			select {
			case kg.g.sem <- struct{}{}:
			default:
				return start
			}
		}
		l := kg.ready.pop()
		t, _ := l.waiting.Pop()
		l.busy = true
		kg.running[t.i] = l
		start = append(start, t)
	}
	return start
}

// start hands tasks, each holding its slot, to the pool. With a rate
// limit they join the throttled list instead, and one goroutine of the
// group, counted in the pool's run, waits for the limiter for each in turn
// (a limiter lets attempts through one at a time anyway), so that neither
// the caller (Go never waits for a worker) nor a worker (the hook of a
// finished task) waits, and a throttled task holds no goroutine of its
// own.
func (kg *KeyedGroup[K]) start(tasks []keyedTask) {
	if kg.g.cfg.limiter == nil {
		for _, t := range tasks {
			kg.dispatch(t)
		}
		return
	}
	if len(tasks) == 0 {
		return
	}
	kg.mu.Lock()
	for _, t := range tasks {
		kg.throttled.Push(t)
	}
	if kg.throttling {
		kg.mu.Unlock()
		return
	}
	kg.throttling = true
	kg.mu.Unlock()
	r, ok := kg.g.pool.hold(1)
	if !ok { // the pool is released: every task is refused where it lands
		for t, ok := kg.nextThrottled(); ok; t, ok = kg.nextThrottled() {
			kg.dispatch(t)
		}
		return
	}
	go kg.throttle(r)
}

// throttle waits for the limiter for each throttled task in turn and hands
// it to the pool, until none is left. The wait ends early when the group's
// context is done or the pool is released; the task is then handed over
// all the same, to be skipped or refused where it lands.
func (kg *KeyedGroup[K]) throttle(r *run) {
	defer r.exit()
	g := kg.g
	ctx, cancel := context.WithCancel(g.ctx)
	defer cancel()
	defer context.AfterFunc(r.ctx, cancel)()
	for t, ok := kg.nextThrottled(); ok; t, ok = kg.nextThrottled() {
		switch err := g.throttle(ctx); {
		case err == nil, g.ctx.Err() != nil, r.ctx.Err() != nil:
			kg.dispatch(t)
		default: // the limiter's own error (say, a wait past the context's deadline)
			g.unaccept()
			g.end(t.i, err)
		}
	}
}

// nextThrottled takes the oldest throttled task, or reports that none is
// left, and then that the throttling goroutine is gone.
func (kg *KeyedGroup[K]) nextThrottled() (keyedTask, bool) {
	kg.mu.Lock()
	defer kg.mu.Unlock()
	t, ok := kg.throttled.Pop()
	if !ok {
		kg.throttling = false
	}
	return t, ok
}

// dispatch hands t to the pool; if the pool is released, t ends with
// ErrPoolClosed, and so does every task waiting behind a key: none of
// them can be handed to the pool any more.
func (kg *KeyedGroup[K]) dispatch(t keyedTask) {
	err := kg.g.dispatch(t.i, t.fn)
	if err == nil {
		return
	}
	kg.mu.Lock()
	if l := kg.running[t.i]; l != nil {
		l.busy = false
		delete(kg.running, t.i)
	}
	refused := kg.emptyLanesLocked()
	kg.mu.Unlock()
	kg.g.end(t.i, err) // frees its slot; ended finds it gone
	for _, i := range refused {
		kg.g.unaccept()
		kg.g.finish(i, err)
		kg.g.done()
	}
}

// ended is the group's hook at the end of task i, once its slot is free:
// the key's next task goes to the back of the ready lanes, or the lane
// goes away; then the ready tasks that may start do.
func (kg *KeyedGroup[K]) ended(i int) {
	kg.mu.Lock()
	l := kg.running[i]
	if l == nil { // skipped before it was handed to the pool
		kg.mu.Unlock()
		return
	}
	delete(kg.running, i)
	l.busy = false
	if l.waiting.Len() > 0 {
		kg.ready.push(l)
	} else {
		delete(kg.lanes, l.key)
	}
	start := kg.startLocked()
	kg.mu.Unlock()
	kg.start(start)
}

// drain skips every task waiting behind its key, once the group's context
// is done: Wait then waits only for the tasks handed to the pool.
func (kg *KeyedGroup[K]) drain() {
	kg.mu.Lock()
	skipped := kg.emptyLanesLocked()
	kg.mu.Unlock()
	for _, i := range skipped {
		kg.g.drop(i)
	}
}

// emptyLanesLocked takes every task waiting behind its key out of its lane
// and returns their indexes; the lanes with no task handed to the pool go
// away, and no lane is ready any more. mu must be held.
func (kg *KeyedGroup[K]) emptyLanesLocked() []int {
	var taken []int
	for key, l := range kg.lanes {
		for t, ok := l.waiting.Pop(); ok; t, ok = l.waiting.Pop() {
			taken = append(taken, t.i)
		}
		if !l.busy {
			delete(kg.lanes, key)
		}
	}
	kg.ready = laneQueue[K]{}
	return taken
}
