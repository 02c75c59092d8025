package ants_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/antspool/ants"
)

// In queue mode a busy pool accepts tasks without parking the submitter,
// and runs them in the order they were submitted; Release lets the queue
// drain.
func ExampleWithQueueSize() {
	pool, _ := ants.NewPool(1, ants.WithQueueSize(100))

	started, release := make(chan struct{}), make(chan struct{})
	_ = pool.Submit(func() { close(started); <-release })
	<-started // the only worker is busy

	var mu sync.Mutex
	var order []int
	for i := range 5 {
		_ = pool.Submit(func() { // queued: returns at once
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
		})
	}
	fmt.Println("queued:", pool.Stats().Queued)

	close(release)
	_ = pool.ReleaseContext(context.Background()) // the queue drains first
	fmt.Println("ran in order:", order)
	// Output:
	// queued: 5
	// ran in order: [0 1 2 3 4]
}
