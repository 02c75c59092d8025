//go:build race

package ants_test

// raceEnabled reports whether the race detector is on: it changes allocation
// counts (sync.Pool drops items on purpose), so allocation tests skip.
const raceEnabled = true
