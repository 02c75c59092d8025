package queue

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type item struct {
	id   int
	used time.Time
}

func (i *item) LastUsed() time.Time { return i.used }

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(id, sec int) *item { return &item{id: id, used: t0.Add(time.Duration(sec) * time.Second)} }

// container is what both queues offer; the tests run on each.
type container interface {
	Len() int
	Push(*item) bool
	Pop() (*item, bool)
	Expire(time.Time) []*item
	Drain() []*item
}

func containers(size int) map[string]func() container {
	return map[string]func() container{
		"Stack": func() container { return new(Stack[*item]) },
		"Ring":  func() container { return NewRing[*item](size) },
	}
}

func ids(items []*item) []int {
	out := []int{}
	for _, it := range items {
		out = append(out, it.id)
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPopReturnsNewestFirst(t *testing.T) {
	for name, mk := range containers(4) {
		t.Run(name, func(t *testing.T) {
			c := mk()
			if _, ok := c.Pop(); ok {
				t.Fatal("Pop on empty container reported an item")
			}
			for i := 1; i <= 3; i++ {
				c.Push(at(i, i))
			}
			var got []int
			for c.Len() > 0 {
				it, _ := c.Pop()
				got = append(got, it.id)
			}
			if !equal(got, []int{3, 2, 1}) {
				t.Fatalf("Pop order = %v, want [3 2 1]", got)
			}
		})
	}
}

func TestExpire(t *testing.T) {
	// Items used at seconds 1..5; Expire(cutoff) removes those used strictly before cutoff.
	tests := []struct {
		cutoff   int
		expired  []int
		remained []int
	}{
		{cutoff: 0, expired: []int{}, remained: []int{1, 2, 3, 4, 5}},
		{cutoff: 1, expired: []int{}, remained: []int{1, 2, 3, 4, 5}},
		{cutoff: 2, expired: []int{1}, remained: []int{2, 3, 4, 5}},
		{cutoff: 4, expired: []int{1, 2, 3}, remained: []int{4, 5}},
		{cutoff: 6, expired: []int{1, 2, 3, 4, 5}, remained: []int{}},
	}
	for name, mk := range containers(5) {
		for _, tt := range tests {
			c := mk()
			for i := 1; i <= 5; i++ {
				c.Push(at(i, i))
			}
			got := ids(c.Expire(t0.Add(time.Duration(tt.cutoff) * time.Second)))
			if !equal(got, tt.expired) {
				t.Errorf("%s: Expire(%ds) = %v, want %v", name, tt.cutoff, got, tt.expired)
			}
			if rest := ids(c.Drain()); !equal(rest, tt.remained) {
				t.Errorf("%s: after Expire(%ds) left %v, want %v", name, tt.cutoff, rest, tt.remained)
			}
			if c.Len() != 0 {
				t.Errorf("%s: Len after Drain = %d, want 0", name, c.Len())
			}
		}
	}
}

func TestExpireKeepsEqualTimes(t *testing.T) {
	// A pool stamps many workers with the same coarse time: none of them is
	// stale at a cutoff equal to that time.
	for name, mk := range containers(4) {
		c := mk()
		for i := range 4 {
			c.Push(at(i, 7))
		}
		if got := c.Expire(t0.Add(7 * time.Second)); len(got) != 0 {
			t.Errorf("%s: Expire at the items' own time removed %v", name, ids(got))
		}
	}
}

func TestRingIsFixedSize(t *testing.T) {
	r := NewRing[*item](2)
	if !r.Push(at(1, 1)) || !r.Push(at(2, 2)) {
		t.Fatal("Push into a ring with room failed")
	}
	if r.Push(at(3, 3)) {
		t.Fatal("Push into a full ring succeeded")
	}
	if r.Len() != 2 || r.Cap() != 2 {
		t.Fatalf("Len, Cap = %d, %d; want 2, 2", r.Len(), r.Cap())
	}
}

func TestRingWrapsAround(t *testing.T) {
	// Expire from the head and push at the tail many times over, so the
	// items straddle the end of the buffer, and check the order each time.
	r := NewRing[*item](3)
	next := 0
	for round := range 10 {
		for r.Len() < 3 {
			next++
			r.Push(at(next, next))
		}
		got := ids(r.Expire(t0.Add(time.Duration(next) * time.Second)))
		if want := []int{next - 2, next - 1}; !equal(got, want) {
			t.Fatalf("round %d: Expire = %v, want %v", round, got, want)
		}
		if it, ok := r.Pop(); !ok || it.id != next {
			t.Fatalf("round %d: Pop = %v, want %d", round, it, next)
		}
	}
}

func TestPopClearsSlot(t *testing.T) {
	// A popped worker must not stay reachable from the queue's memory.
	s := new(Stack[*item])
	s.Push(at(1, 1))
	s.Pop()
	if s.items[:1][0] != nil {
		t.Error("Stack kept a reference to a popped item")
	}
	r := NewRing[*item](1)
	r.Push(at(1, 1))
	r.Pop()
	if r.items[0] != nil {
		t.Error("Ring kept a reference to a popped item")
	}
}

func TestNewRingNegativeSizePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewRing(-1) did not panic")
		}
	}()
	NewRing[*item](-1)
}
