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
	if err := run(context.Background(), &out, "", 900, 3); err != nil {
		t.Fatalf("run = %v\n%s", err, out.String())
	}
	for _, want := range []string{"published 900 jobs", "consumer 0 stopping", "dead-lettered; 0 pending, 0 unacked", "nothing lost"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
