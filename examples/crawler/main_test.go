package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCrawlCompletesAndReleasesThePool(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out, 60, 4, 40*time.Millisecond); err != nil {
		t.Fatalf("run = %v", err)
	}
	for _, want := range []string{"fetched 60 pages", "with 4 workers", "pool released"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
	goleak.VerifyNone(t) // ReleaseContext returned: nothing of the pool runs
}

func TestInterruptedCrawlStopsAdmittingAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as if Ctrl-C came before the first page
	var out strings.Builder
	if err := run(ctx, &out, 1000, 4, 40*time.Millisecond); err != nil {
		t.Fatalf("run = %v", err)
	}
	for _, want := range []string{"stopped submitting after 0 pages: context canceled", "fetched 0 pages", "pool released"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output %q lacks %q", out.String(), want)
		}
	}
}
