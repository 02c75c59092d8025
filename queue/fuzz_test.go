package queue

import (
	"slices"
	"testing"
	"time"
)

// FuzzIdleQueues runs the same operations on a Stack, a Ring and a plain
// slice, and checks that the queues agree with the slice: Pop returns the
// newest item, Expire removes exactly the items used before the cutoff,
// oldest first, Drain returns the rest, and the Ring refuses a push only
// when full; and that a FIFO fed the same pushes pops them oldest first
// and removes exactly what Remove is asked to, keeping the rest in order.
func FuzzIdleQueues(f *testing.F) {
	f.Add(uint8(3), []byte{0, 0, 0, 1, 2, 0, 3, 0, 0, 4})
	f.Add(uint8(1), []byte{0, 0, 1, 1, 1, 0, 2})
	f.Add(uint8(5), []byte{0, 0, 0, 0, 0, 0, 2, 0, 0, 1, 2, 0, 0, 3})
	f.Fuzz(func(t *testing.T, size uint8, ops []byte) {
		ringSize := int(size % 16)
		s := new(Stack[*item])
		r := NewRing[*item](ringSize)
		var model, ringModel []*item // oldest first
		var fifo FIFO[*item]         // alongside: a FIFO of the same pushes, popped oldest first
		var fifoModel []*item
		clock, id := 0, 0
		for _, op := range ops {
			switch op % 5 {
			case 0, 1: // push a newer item (op 1: same time as the last)
				if op%5 == 0 {
					clock += int(op>>3) % 3
				}
				id++
				it := at(id, clock)
				s.Push(it)
				model = append(model, it)
				fifo.Push(it)
				fifoModel = append(fifoModel, it)
				if ok := r.Push(it); ok != (len(ringModel) < ringSize) {
					t.Fatalf("Ring.Push = %v with %d of %d items", ok, len(ringModel), ringSize)
				} else if ok {
					ringModel = append(ringModel, it)
				}
			case 2: // pop the newest (the FIFO: the oldest)
				popAndCheck(t, "Stack", s.Pop, &model)
				popAndCheck(t, "Ring", r.Pop, &ringModel)
				got, ok := fifo.Pop()
				if len(fifoModel) == 0 {
					if ok {
						t.Fatalf("FIFO.Pop on empty returned %d", got.id)
					}
				} else if !ok || got != fifoModel[0] {
					t.Fatalf("FIFO.Pop = %v, %v; want the oldest, %d", got, ok, fifoModel[0].id)
				} else {
					fifoModel = fifoModel[1:]
				}
			case 3: // expire before a cutoff near the clock
				cutoff := clock - int(op>>3)%4
				when := t0.Add(time.Duration(cutoff) * time.Second)
				expireAndCheck(t, "Stack", s.Expire(when), &model, cutoff)
				expireAndCheck(t, "Ring", r.Expire(when), &ringModel, cutoff)
			case 4:
				odd := func(it *item) bool { return it.id%2 == 1 }
				removed := fifo.Remove(odd)
				if want := slices.DeleteFunc(slices.Clone(fifoModel), func(it *item) bool { return !odd(it) }); !slices.Equal(removed, want) {
					t.Fatalf("FIFO.Remove = %v, want %v", ids(removed), ids(want))
				}
				fifoModel = slices.DeleteFunc(fifoModel, odd)
				if got := s.Drain(); !slices.Equal(got, model) {
					t.Fatalf("Stack.Drain = %v, want %v", ids(got), ids(model))
				}
				if got := r.Drain(); !slices.Equal(got, ringModel) {
					t.Fatalf("Ring.Drain = %v, want %v", ids(got), ids(ringModel))
				}
				model, ringModel = nil, nil
			}
			if s.Len() != len(model) || r.Len() != len(ringModel) || fifo.Len() != len(fifoModel) {
				t.Fatalf("Len = %d, %d, %d; want %d, %d, %d", s.Len(), r.Len(), fifo.Len(), len(model), len(ringModel), len(fifoModel))
			}
		}
	})
}

func popAndCheck(t *testing.T, name string, pop func() (*item, bool), model *[]*item) {
	t.Helper()
	got, ok := pop()
	if n := len(*model); n == 0 {
		if ok {
			t.Fatalf("%s.Pop on empty returned %v", name, got.id)
		}
	} else {
		if !ok || got != (*model)[n-1] {
			t.Fatalf("%s.Pop = %v, %v; want the newest, %d", name, got, ok, (*model)[n-1].id)
		}
		*model = (*model)[:n-1]
	}
}

func expireAndCheck(t *testing.T, name string, got []*item, model *[]*item, cutoff int) {
	t.Helper()
	when := t0.Add(time.Duration(cutoff) * time.Second)
	k := 0
	for k < len(*model) && (*model)[k].used.Before(when) {
		k++
	}
	if !slices.Equal(got, (*model)[:k]) && !(len(got) == 0 && k == 0) {
		t.Fatalf("%s.Expire(%d) = %v, want %v", name, cutoff, ids(got), ids((*model)[:k]))
	}
	*model = slices.Clone((*model)[k:])
}
