package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Every record runs: the 1 in 200 rejected and the 1 in 500 that never
// succeed are reported, the 1 in 20 that fail once are retried and written.
func TestBatchRunsEveryRecordAndReportsEachFailure(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out, 1000, 16); err != nil {
		t.Fatalf("run = %v", err)
	}
	// 5 rejected (199, 399, ...), 2 always down (3, 503); 50 fail once.
	for _, want := range []string{
		"record 3: store unavailable",
		"record 199: rejected: malformed address",
		"1000 records in",
		"993 written, 7 failed; 1056 attempts, 56 retries",
		"pool released",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
	goleak.VerifyNone(t)
}

func TestInterruptedBatchSkipsTheRestAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if Ctrl-C came before the first record
	var out strings.Builder
	if err := run(ctx, &out, 1000, 4); err != nil {
		t.Fatalf("run = %v", err)
	}
	for _, want := range []string{"0 written, 1000 failed; 0 attempts", "interrupted", "pool released"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
}
