package queue

import (
	"slices"
	"testing"
)

func TestFIFOKeepsOrderAcrossGrowth(t *testing.T) {
	var q FIFO[int]
	if _, ok := q.Pop(); ok || q.Len() != 0 {
		t.Fatal("the zero FIFO is not empty")
	}
	next, want := 0, 0
	// Interleave pushes and pops so the ring wraps before it grows.
	for round := range 6 {
		for range 5 + round*7 {
			q.Push(next)
			next++
		}
		for range 3 + round*4 {
			v, ok := q.Pop()
			if !ok || v != want {
				t.Fatalf("Pop = %d, %v; want %d", v, ok, want)
			}
			want++
		}
	}
	for q.Len() > 0 {
		v, _ := q.Pop()
		if v != want {
			t.Fatalf("Pop = %d, want %d", v, want)
		}
		want++
	}
	if want != next {
		t.Fatalf("popped %d items, pushed %d", want, next)
	}
}

func TestFIFORemoveKeepsTheRestInOrder(t *testing.T) {
	var q FIFO[int]
	for i := range 20 {
		q.Push(i)
	}
	for range 5 {
		q.Pop() // the ring has wrapped past its start
	}
	for i := 20; i < 25; i++ {
		q.Push(i)
	}
	removed := q.Remove(func(v int) bool { return v%3 == 0 })
	if want := []int{6, 9, 12, 15, 18, 21, 24}; !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	var rest []int
	for q.Len() > 0 {
		v, _ := q.Pop()
		rest = append(rest, v)
	}
	if want := []int{5, 7, 8, 10, 11, 13, 14, 16, 17, 19, 20, 22, 23}; !slices.Equal(rest, want) {
		t.Errorf("kept %v, want %v", rest, want)
	}
}

// Pop and Remove clear the slots they empty: the queue keeps no pointer to
// an item it no longer holds.
func TestFIFOClearsWhatItGivesUp(t *testing.T) {
	var q FIFO[*int]
	for range 4 {
		v := new(int)
		q.Push(v)
	}
	q.Pop()
	q.Remove(func(*int) bool { return true })
	for i, p := range q.items {
		if p != nil {
			t.Errorf("slot %d still holds %p", i, p)
		}
	}
}
