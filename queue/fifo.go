package queue

// FIFO is a first-in first-out queue: a ring buffer that grows, by
// doubling, as items are pushed, and never shrinks. A pool in queue mode
// keeps its accepted tasks in one and bounds its length itself. The zero
// FIFO is empty and ready to use. It is not safe for concurrent use.
type FIFO[T any] struct {
	items []T // len is a power of two, or 0
	head  int // index of the oldest item
	n     int // items held
}

// Len returns the number of items.
func (q *FIFO[T]) Len() int { return q.n }

// Push adds v at the back.
func (q *FIFO[T]) Push(v T) {
	if q.n == len(q.items) {
		q.grow()
	}
	q.items[(q.head+q.n)&(len(q.items)-1)] = v
	q.n++
}

// Pop removes and returns the item at the front, or false if there is
// none. The slot it leaves is cleared, so the queue keeps nothing of it.
func (q *FIFO[T]) Pop() (T, bool) {
	var zero T
	if q.n == 0 {
		return zero, false
	}
	v := q.items[q.head]
	q.items[q.head] = zero
	q.head = (q.head + 1) & (len(q.items) - 1)
	q.n--
	return v, true
}

// Remove takes out every item for which drop reports true, keeping the
// others in order, and returns the removed ones, oldest first.
func (q *FIFO[T]) Remove(drop func(T) bool) (removed []T) {
	var zero T
	kept := 0
	for i := range q.n {
		j := (q.head + i) & (len(q.items) - 1)
		v := q.items[j]
		q.items[j] = zero
		if drop(v) {
			removed = append(removed, v)
			continue
		}
		q.items[(q.head+kept)&(len(q.items)-1)] = v
		kept++
	}
	q.n = kept
	return removed
}

// grow doubles the ring (from 8), keeping the items in order.
func (q *FIFO[T]) grow() {
	items := make([]T, max(8, 2*len(q.items)))
	for i := range q.n {
		items[i] = q.items[(q.head+i)&(len(q.items)-1)]
	}
	q.items, q.head = items, 0
}
