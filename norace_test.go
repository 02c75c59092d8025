//go:build !race

package ants_test

const raceEnabled = false
