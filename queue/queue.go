// Package queue holds the containers a pool keeps its idle workers in,
// Stack and Ring, and FIFO, the queue of tasks of a pool in queue mode.
//
// Both containers keep workers in the order they were pushed, which is also
// the order of their LastUsed times: a pool stamps a worker when it goes idle
// and pushes it at once, under one lock, so the times never decrease from the
// oldest item to the newest. Expire relies on that order to find the stale
// workers by binary search.
//
// Neither container is safe for concurrent use; the pool's mutex guards them.
package queue

import (
	"sort"
	"time"
)

// An Item is something a queue holds: it reports when it was last used.
type Item interface {
	LastUsed() time.Time
}

// Stack is a LIFO of idle workers: Pop returns the one pushed last, so the
// pool keeps reusing its warm workers and lets the cold ones at the bottom
// expire. It grows as needed. The zero Stack is empty and ready to use.
type Stack[W Item] struct {
	items   []W // oldest first
	expired []W // scratch returned by Expire
}

// Len returns the number of items.
func (s *Stack[W]) Len() int { return len(s.items) }

// Push adds w as the newest item. It always succeeds and returns true.
func (s *Stack[W]) Push(w W) bool {
	s.items = append(s.items, w)
	return true
}

// Pop removes and returns the newest item, or reports false if s is empty.
func (s *Stack[W]) Pop() (W, bool) {
	var zero W
	n := len(s.items)
	if n == 0 {
		return zero, false
	}
	w := s.items[n-1]
	s.items[n-1] = zero // let the worker be collected once it is gone
	s.items = s.items[:n-1]
	return w, true
}

// Expire removes and returns, oldest first, the items last used before
// cutoff. The returned slice is reused by the next call to Expire.
func (s *Stack[W]) Expire(cutoff time.Time) []W {
	i := staleCount(len(s.items), func(j int) W { return s.items[j] }, cutoff)
	if i == 0 {
		return nil
	}
	s.expired = append(s.expired[:0], s.items[:i]...)
	m := copy(s.items, s.items[i:])
	clear(s.items[m:])
	s.items = s.items[:m]
	return s.expired
}

// Drain removes every item and returns them, oldest first, in a new slice.
func (s *Stack[W]) Drain() []W {
	out := s.items
	s.items = nil
	s.expired = nil
	return out
}

// Ring is a fixed-size circular buffer of idle workers, for pools created
// with WithPreAlloc: its memory is allocated once, by NewRing, and never
// again. Like Stack, Pop returns the newest item (LIFO), and Expire drops
// the oldest ones, from the other end, without moving the rest.
type Ring[W Item] struct {
	items   []W
	head    int // index of the oldest item
	n       int // number of items
	expired []W // scratch returned by Expire
}

// NewRing returns an empty Ring that holds at most size items.
// It panics if size is negative.
func NewRing[W Item](size int) *Ring[W] {
	if size < 0 {
		panic("queue: negative Ring size")
	}
	return &Ring[W]{items: make([]W, size)}
}

// Len returns the number of items.
func (r *Ring[W]) Len() int { return r.n }

// Cap returns the most items r can hold.
func (r *Ring[W]) Cap() int { return len(r.items) }

// at returns the slot of the j-th item, counting from the oldest.
func (r *Ring[W]) at(j int) int {
	i := r.head + j
	if i >= len(r.items) {
		i -= len(r.items)
	}
	return i
}

// Push adds w as the newest item and reports true, or reports false, leaving
// r unchanged, if r is full.
func (r *Ring[W]) Push(w W) bool {
	if r.n == len(r.items) {
		return false
	}
	r.items[r.at(r.n)] = w
	r.n++
	return true
}

// Pop removes and returns the newest item, or reports false if r is empty.
func (r *Ring[W]) Pop() (W, bool) {
	var zero W
	if r.n == 0 {
		return zero, false
	}
	i := r.at(r.n - 1)
	w := r.items[i]
	r.items[i] = zero
	r.n--
	return w, true
}

// Expire removes and returns, oldest first, the items last used before
// cutoff. The returned slice is reused by the next call to Expire.
func (r *Ring[W]) Expire(cutoff time.Time) []W {
	var zero W
	k := staleCount(r.n, func(j int) W { return r.items[r.at(j)] }, cutoff)
	r.expired = r.expired[:0]
	for range k {
		r.expired = append(r.expired, r.items[r.head])
		r.items[r.head] = zero
		r.head = r.at(1)
		r.n--
	}
	if r.n == 0 {
		r.head = 0
	}
	return r.expired
}

// Drain removes every item and returns them, oldest first, in a new slice.
func (r *Ring[W]) Drain() []W {
	var zero W
	out := make([]W, 0, r.n)
	for r.n > 0 {
		out = append(out, r.items[r.head])
		r.items[r.head] = zero
		r.head = r.at(1)
		r.n--
	}
	r.head = 0
	return out
}

// staleCount returns how many of the n items, oldest first as given by item,
// were last used before cutoff. The items' times must not decrease.
func staleCount[W Item](n int, item func(int) W, cutoff time.Time) int {
	return sort.Search(n, func(j int) bool { return !item(j).LastUsed().Before(cutoff) })
}
