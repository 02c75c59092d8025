package natsjs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// errorKind is a class of the errors Run reports, each rate-limited on its
// own when logged.
type errorKind int

const (
	kindHandler  errorKind = iota // a handler's failure
	kindSettle                    // an ack, nak or term that failed
	kindProgress                  // an InProgress that failed
	kindConsume                   // an error of a pull, which the client recovers from
	numKinds
)

var kindNames = [numKinds]string{"handler", "ack", "in progress", "consume"}

// rateLog logs errors with slog at warn level, at most one line a second
// per kind, and counts the ones it leaves out. The zero value logs to
// slog.Default(); it is safe for concurrent use.
type rateLog struct {
	logger *slog.Logger // nil: slog.Default() at each line

	mu      sync.Mutex          // guards the fields below
	next    [numKinds]time.Time // when a kind may log again
	skipped [numKinds]int       // a kind's errors left out since its last line
}

// warn logs err, of kind, about msg (nil: about no message), unless its
// kind logged less than a second ago.
func (l *rateLog) warn(kind errorKind, msg jetstream.Msg, err error) {
	now := time.Now()
	l.mu.Lock()
	if now.Before(l.next[kind]) {
		l.skipped[kind]++
		l.mu.Unlock()
		return
	}
	l.next[kind] = now.Add(time.Second)
	skipped := l.skipped[kind]
	l.skipped[kind] = 0
	l.mu.Unlock()

	attrs := make([]slog.Attr, 0, 6)
	attrs = append(attrs, slog.String("kind", kindNames[kind]), slog.String("error", err.Error()))
	if msg != nil {
		attrs = append(attrs, slog.String("subject", msg.Subject()))
		if meta, merr := msg.Metadata(); merr == nil {
			attrs = append(attrs, slog.Uint64("stream_seq", meta.Sequence.Stream), slog.Uint64("delivered", meta.NumDelivered))
		}
	}
	if skipped > 0 {
		attrs = append(attrs, slog.Int("skipped", skipped))
	}
	logger := l.logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.LogAttrs(context.Background(), slog.LevelWarn, "natsjs: "+kindNames[kind]+" error", attrs...)
}
