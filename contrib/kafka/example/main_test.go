package main

import (
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestExampleLosesNothing(t *testing.T) {
	var out strings.Builder
	cfg := config{topic: "t", partitions: 6, records: 1500, consumers: 3}
	if err := run(context.Background(), &out, cfg); err != nil {
		t.Fatalf("run = %v\n%s", err, out.String())
	}
	for _, want := range []string{"produced 1500 records", "consumer 0 stopping", "key-order violations: 0; partitions committed short of their end: 0", "nothing lost"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
