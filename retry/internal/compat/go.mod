module github.com/antspool/ants/retry/internal/compat

go 1.26.0

require (
	github.com/antspool/ants v0.0.0
	github.com/cenkalti/backoff/v4 v4.3.0
	github.com/cenkalti/backoff/v5 v5.0.3
	go.uber.org/goleak v1.3.0
)

replace github.com/antspool/ants => ../../..
