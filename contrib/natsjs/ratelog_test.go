package natsjs

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// Without a WithOnError hook, errors are logged at warn level, at most one
// line a second per kind, and the next line counts the ones left out.
func TestRateLogOneLineASecondPerKind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		l := rateLog{logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		}))}
		lines := func() []string { return strings.Split(strings.TrimSpace(buf.String()), "\n") }
		for i := range 5 {
			l.warn(kindSettle, nil, errors.New("ack failed "+string(rune('a'+i))))
		}
		l.warn(kindHandler, nil, errors.New("boom"))
		if got := lines(); len(got) != 2 ||
			got[0] != `level=WARN msg="natsjs: ack error" kind=ack error="ack failed a"` ||
			got[1] != `level=WARN msg="natsjs: handler error" kind=handler error=boom` {
			t.Fatalf("first second: want one line per kind, got:\n%s", buf.String())
		}
		time.Sleep(999 * time.Millisecond)
		l.warn(kindSettle, nil, errors.New("still failing"))
		if got := lines(); len(got) != 2 {
			t.Fatalf("a line within the second: got:\n%s", buf.String())
		}
		time.Sleep(time.Millisecond)
		l.warn(kindSettle, nil, errors.New("after a second"))
		if got := lines(); len(got) != 3 ||
			got[2] != `level=WARN msg="natsjs: ack error" kind=ack error="after a second" skipped=5` {
			t.Fatalf("after a second: want a line counting the 5 left out, got:\n%s", buf.String())
		}
	})
}
