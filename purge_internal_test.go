package ants

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// goroutines returns how many goroutines of p's current run are running.
func (p *core[T]) goroutines() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.run.live.Load()
	if p.state.Load() == OPENED {
		n-- // the open pool's own reference
	}
	return n
}

// An idle pool holds no goroutine: the purger exits with the last worker
// and starts again with the next one.
func TestPurgerExitsWithTheLastWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := NewPool(4, WithExpiryDuration(time.Second))
		if n := p.goroutines(); n != 0 {
			t.Fatalf("new pool runs %d goroutines, want 0", n)
		}
		for round := range 3 {
			done := make(chan struct{})
			_ = p.Submit(func() { close(done) })
			<-done
			synctest.Wait()
			if n := p.goroutines(); n != 2 {
				t.Fatalf("round %d: %d goroutines with one worker, want 2 (worker, purger)", round, n)
			}
			time.Sleep(2*time.Second + time.Millisecond)
			synctest.Wait()
			if n := p.goroutines(); n != 0 {
				t.Fatalf("round %d: %d goroutines after the worker expired, want 0", round, n)
			}
		}
		if err := p.ReleaseContext(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
