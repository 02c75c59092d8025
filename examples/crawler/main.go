// Command crawler fetches a simulated site with a bounded pool of workers:
// each fetch has its own deadline, the crawl as a whole can be interrupted
// with Ctrl-C, and shutdown waits for the pool with ReleaseContext.
//
// It needs no network: fetch sleeps for a latency drawn from a fixed seed,
// as a slow server would, and honours its context as an HTTP client does.
//
//	go run ./examples/crawler              # 400 pages, 16 workers, ~1 s
//	go run ./examples/crawler -pages 5000  # press Ctrl-C to stop early
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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/antspool/ants"
)

func main() {
	pages := flag.Int("pages", 400, "pages to fetch")
	workers := flag.Int("workers", 16, "pool capacity: fetches in flight at most")
	timeout := flag.Duration("timeout", 40*time.Millisecond, "deadline of one fetch")
	flag.Parse()

	// Ctrl-C (or SIGTERM) cancels ctx: no new fetch is admitted, and the
	// fetches in flight see their contexts end.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *pages, *workers, *timeout); err != nil {
		log.Fatal(err)
	}
}

// run crawls pages pages with a pool of workers workers until done or until
// ctx ends, reports to out, and shuts the pool down.
func run(ctx context.Context, out io.Writer, pages, workers int, timeout time.Duration) error {
	pool, err := ants.NewPool(workers)
	if err != nil {
		return err
	}

	var ok, slow, interrupted, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	submitted := 0
	for i := range pages {
		url := fmt.Sprintf("https://example.test/page/%d", i)
		wg.Add(1)
		// SubmitCtx waits for a free worker, but not past ctx: after Ctrl-C
		// it returns ctx's error and the page is not fetched.
		err := pool.SubmitCtx(ctx, func(ctx context.Context) {
			defer wg.Done()
			fctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			switch _, err := fetch(fctx, url, uint64(i)); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, context.DeadlineExceeded):
				slow.Add(1)
			case errors.Is(err, context.Canceled):
				interrupted.Add(1)
			default:
				failed.Add(1)
			}
		})
		if err != nil {
			wg.Done()
			fmt.Fprintf(out, "stopped submitting after %d pages: %v\n", submitted, err)
			break
		}
		submitted++
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Shutdown: release the pool and wait, up to 5s, until nothing of it runs.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := pool.ReleaseContext(sctx); err != nil {
		return fmt.Errorf("pool did not shut down: %w", err)
	}

	fmt.Fprintf(out, "fetched %d pages in %v with %d workers: %d ok, %d past the %v deadline, %d failed, %d interrupted\n",
		submitted, elapsed.Round(time.Millisecond), workers, ok.Load(), slow.Load(), timeout, failed.Load(), interrupted.Load())
	fmt.Fprintln(out, "pool released: no worker left running")
	return nil
}

// fetch pretends to download url: it takes 5–50ms, one page in ten fails,
// and it gives up as soon as ctx ends.
func fetch(ctx context.Context, url string, seed uint64) (string, error) {
	r := rand.New(rand.NewPCG(seed, 42))
	latency := time.Duration(5+r.IntN(46)) * time.Millisecond
	select {
	case <-time.After(latency):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if r.IntN(10) == 0 {
		return "", fmt.Errorf("fetch %s: 503 Service Unavailable", url)
	}
	return "<html>" + url + "</html>", nil
}
