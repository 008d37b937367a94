//go:build !race

package cli

// raceEnabled: this test binary is built without -race, so peak RSS is the program's own.
const raceEnabled = false
