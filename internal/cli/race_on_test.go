//go:build race

package cli

// raceEnabled: this test binary is built with -race, whose shadow memory multiplies a child
// process's peak RSS; memory assertions run in scripts/test.sh's pass without -race.
const raceEnabled = true
