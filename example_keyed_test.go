package ants_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/antspool/ants"
)

// Per-account order: each account's operations apply one at a time, in the
// order they arrived, while different accounts proceed in parallel on the
// pool's workers. An operation waiting behind its account holds no worker.
func ExampleNewKeyedGroup() {
	pool, _ := ants.NewPool(4)
	defer pool.Release()

	type op struct {
		account string
		amount  int
	}
	ops := []op{{"alice", 100}, {"bob", 50}, {"alice", -30}, {"carol", 10}, {"bob", -20}, {"alice", -70}}

	var mu sync.Mutex
	balances := map[string][]int{} // each account's running balance, step by step
	kg := ants.NewKeyedGroup[string](context.Background(), pool)
	for _, o := range ops {
		kg.Go(o.account, func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			steps := balances[o.account]
			last := 0
			if len(steps) > 0 {
				last = steps[len(steps)-1]
			}
			balances[o.account] = append(steps, last+o.amount)
			return nil
		})
	}
	if err := kg.Wait(); err != nil {
		fmt.Println(err)
	}
	accounts := make([]string, 0, len(balances))
	for a := range balances {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	for _, a := range accounts {
		fmt.Println(a, balances[a])
	}
	// Output:
	// alice [100 70 0]
	// bob [50 30]
	// carol [10]
}

// A polite crawler: at most one request at a time per host, in the order
// the links were found, and no more than 100 requests per second in all,
// retries included. A request waiting for its host or for the rate limit
// holds no worker.
func ExampleWithRateLimit() {
	pool, _ := ants.NewPool(8)
	defer pool.Release()

	limiter := rate.NewLimiter(100, 1) // 100 requests per second, no burst
	kg := ants.NewKeyedGroup[string](context.Background(), pool, ants.WithRateLimit(limiter))

	var mu sync.Mutex
	fetched := map[string][]string{}
	links := []string{"a.example/1", "b.example/1", "a.example/2", "b.example/2", "a.example/3"}
	start := time.Now()
	for _, link := range links {
		host, _, _ := strings.Cut(link, "/")
		kg.Go(host, func(ctx context.Context) error {
			mu.Lock()
			fetched[host] = append(fetched[host], link) // fetch(ctx, link) here
			mu.Unlock()
			return nil
		})
	}
	if err := kg.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Println(fetched["a.example"])
	fmt.Println(fetched["b.example"])
	fmt.Println("paced:", time.Since(start) >= 35*time.Millisecond) // 5 requests at 100/s: 40 ms
	// Output:
	// [a.example/1 a.example/2 a.example/3]
	// [b.example/1 b.example/2]
	// paced: true
}
