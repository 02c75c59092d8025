// Package compat holds a test, in a module of its own, that package retry
// accepts the policies of github.com/cenkalti/backoff v4 and v5 alike. The
// module ants does not depend on backoff/v5; this one does.
package compat
