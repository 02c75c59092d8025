// Command batch runs a batch job that must not stop at its first bad item:
// 10,000 records go to a simulated store on a bounded pool, flaky writes
// are retried with backoff (a record waiting for its retry holds no
// worker), each attempt has its own deadline, and every record's outcome
// comes back at its index.
//
// It needs no network: the store sleeps for a latency drawn from a fixed
// seed and fails some writes, as a real one would.
//
//	go run ./examples/batch                  # 10,000 records, 64 workers, well under a second
//	go run ./examples/batch -records 100000  # press Ctrl-C to stop early
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/antspool/ants"
)

func main() {
	records := flag.Int("records", 10000, "records in the batch")
	workers := flag.Int("workers", 64, "pool capacity: writes in flight at most")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *records, *workers); err != nil {
		log.Fatal(err)
	}
}

// errRejected is the store's answer to a record it will never accept.
var errRejected = errors.New("rejected")

// run writes records records on a pool of workers workers, reports each
// failure and a summary to out, and shuts the pool down.
func run(ctx context.Context, out io.Writer, records, workers int) error {
	pool, err := ants.NewPool(workers)
	if err != nil {
		return err
	}
	retry := func() backoff.BackOff {
		b := backoff.NewExponentialBackOff()
		b.InitialInterval = 2 * time.Millisecond
		return backoff.WithMaxRetries(b, 3) // four attempts in all
	}
	db := &store{tried: make([]atomic.Bool, records)}
	var attempts, retries atomic.Int64
	rg := ants.NewResultGroup[string](ctx, pool,
		ants.WithCollectErrors(), // a bad record does not stop the batch
		ants.WithRetry(retry, func(int, error, time.Duration) { retries.Add(1) }),
		ants.WithTaskTimeout(250*time.Millisecond), // each attempt's own deadline
	)

	start := time.Now()
	for id := range records {
		rg.Go(func(ctx context.Context) (string, error) {
			attempts.Add(1)
			receipt, err := db.write(ctx, id)
			if errors.Is(err, errRejected) {
				return "", backoff.Permanent(err) // retrying cannot help
			}
			return receipt, err
		})
	}
	receipts, err := rg.Wait() // receipts[i] belongs to record i
	elapsed := time.Since(start)

	written, failed := 0, 0
	for i, r := range rg.Results() {
		if r.Err != nil {
			failed++
			if failed <= 5 {
				fmt.Fprintf(out, "record %d: %v\n", i, r.Err)
			}
			continue
		}
		if receipts[i] != r.Value {
			return fmt.Errorf("record %d: Wait and Results disagree", i)
		}
		written++
	}
	if failed > 5 {
		fmt.Fprintf(out, "... and %d more failures\n", failed-5)
	}
	fmt.Fprintf(out, "%d records in %v on %d workers: %d written, %d failed; %d attempts, %d retries\n",
		records, elapsed.Round(time.Millisecond), workers, written, failed, attempts.Load(), retries.Load())
	if err != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(out, "interrupted: the records not started were skipped")
	}

	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := pool.ReleaseContext(sctx); err != nil {
		return fmt.Errorf("pool did not shut down: %w", err)
	}
	fmt.Fprintln(out, "pool released: no worker left running")
	return nil
}

// store is a simulated database.
type store struct {
	tried []atomic.Bool // by record: has had an attempt, for the one-off failures
}

// write pretends to write record id: it takes up to 2ms; one record in 200
// is rejected for good, one in 500 finds the store down on every attempt,
// and one in 20 fails its first attempt only. It gives up when ctx ends.
func (s *store) write(ctx context.Context, id int) (string, error) {
	first := !s.tried[id].Swap(true)
	r := rand.New(rand.NewPCG(uint64(id), 7))
	select {
	case <-time.After(time.Duration(r.IntN(2000)) * time.Microsecond):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	switch {
	case id%200 == 199:
		return "", fmt.Errorf("%w: malformed address", errRejected)
	case id%500 == 3:
		return "", errors.New("store unavailable")
	case id%20 == 7 && first:
		return "", errors.New("write conflict")
	}
	return fmt.Sprintf("receipt-%d", id), nil
}
