//go:build linux

package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestAbsApplyMemory: abs apply of a generated 200,000-contact full file and its delta and
// compact delta over 29 days (tens of MB each), run as a child process, keeps its peak RSS
// (VmHWM) within the full file's size + 64 MB, the README's bound, and writes the generated
// file of the last day byte for byte. A memory assertion, not a timed test.
func TestAbsApplyMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a 200,000-contact address book")
	}
	if raceEnabled {
		t.Skip("peak RSS under -race is the race detector's shadow memory: scripts/test.sh runs this test again without -race")
	}
	dir := t.TempDir()
	const n = 200_000
	if _, stderr, code := runCLI(t, "--no-progress", "abs", "gen", "--contacts", strconv.Itoa(n), "--seed", "3",
		"--day", "0A10", "--delta-to", "0A2D", "--dir", dir); code != ExitOK {
		t.Fatalf("gen: exit %d: %s", code, stderr)
	}
	full := filepath.Join(dir, "F-0A10.lsabs")
	st, err := os.Stat(full)
	if err != nil {
		t.Fatal(err)
	}
	for _, delta := range []string{"D-0A10-0A2D.lsabs", "C-0A10-0A2D.lsabs"} {
		out := filepath.Join(dir, "out-"+delta)
		code, stderr, rss, read := runChild(t, "--no-progress", "abs", "apply", full, filepath.Join(dir, delta), "-w", out)
		t.Logf("apply %s: full file %.1f MB, exit %d, peak RSS %.1f MB, %.1f MB read", delta, float64(st.Size())/1e6, code, float64(rss)/1e6, float64(read)/1e6)
		if code != ExitOK {
			t.Fatalf("apply %s: exit %d: %s", delta, code, stderr)
		}
		if limit := st.Size() + 64<<20; rss > limit {
			t.Errorf("apply %s: peak RSS %d bytes, want at most the full file's size + 64 MB = %d", delta, rss, limit)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(dir, "F-0A2D.lsabs"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("apply %s: %d bytes, not the generated F-0A2D.lsabs (%d bytes)", delta, len(got), len(want))
		}
	}
}
