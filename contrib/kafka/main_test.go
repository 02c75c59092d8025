package antskafka_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if runFleetChild() {
		return
	}
	goleak.VerifyTestMain(m)
}
