package ants_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/antspool/ants"
)

// Values come back in the order the tasks were given to Go, whatever order
// they finish in; Results has each task's own error.
func ExampleResultGroup() {
	pool, _ := ants.NewPool(4)
	defer pool.Release()

	rg := ants.NewResultGroup[string](context.Background(), pool, ants.WithCollectErrors())
	for _, name := range []string{"alpha", "", "gamma"} {
		rg.Go(func(ctx context.Context) (string, error) {
			if name == "" {
				return "", errors.New("empty name")
			}
			return strings.ToUpper(name), nil
		})
	}
	values, err := rg.Wait()
	fmt.Printf("%q %v\n", values, err)
	for i, r := range rg.Results() {
		fmt.Println(i, r.Value, r.Err)
	}
	// Output:
	// ["ALPHA" "" "GAMMA"] empty name
	// 0 ALPHA <nil>
	// 1  empty name
	// 2 GAMMA <nil>
}

// SubmitValue runs one task and returns a Future for its value.
func ExampleSubmitValue() {
	pool, _ := ants.NewPool(2)
	defer pool.Release()

	f := ants.SubmitValue(context.Background(), pool, func(ctx context.Context) (int, error) {
		return 6 * 7, nil
	})
	// ... do other work, then:
	v, err := f.Wait()
	fmt.Println(v, err)
	// Output:
	// 42 <nil>
}

// Done lets a caller wait for a future and a context in one select.
func ExampleFuture_Done() {
	pool, _ := ants.NewPool(1)
	defer pool.Release()

	f := ants.SubmitValue(context.Background(), pool, func(ctx context.Context) (string, error) {
		return "", errors.New("upstream: 503")
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case <-f.Done():
		_, err := f.Wait() // ready: does not block
		fmt.Println("done:", err)
	case <-ctx.Done():
		fmt.Println("gave up:", ctx.Err())
	}
	// Output:
	// done: upstream: 503
}
