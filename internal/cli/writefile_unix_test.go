//go:build !windows

package cli

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteFileRefusesSpecialFiles: `abs apply -w /dev/full --force` (as root) and a FIFO used
// to be replaced by a regular file; now they are bad input and left as they were.
func TestWriteFileRefusesSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	targets := map[string]fs.FileMode{fifo: fs.ModeNamedPipe}
	if os.Geteuid() == 0 {
		targets["/dev/full"] = fs.ModeDevice | fs.ModeCharDevice
	}
	write := func(w io.Writer) error { _, err := io.WriteString(w, "book"); return err }
	for path, typ := range targets {
		if err := writeFileAtomic(path, true, write); exitCode(err) != ExitBadInput {
			t.Errorf("write %s --force: %v (exit %d), want exit %d", path, err, exitCode(err), ExitBadInput)
		}
		if st, err := os.Lstat(path); err != nil || st.Mode().Type() != typ {
			t.Errorf("%s changed: %v, %v", path, st, err)
		}
	}
	// A plan goes to a private file.
	plan := filepath.Join(t.TempDir(), "plan.json")
	if err := writeFileAs(plan, 0o600, false, write); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(plan); st.Mode().Perm() != 0o600 {
		t.Errorf("plan mode %v, want 0600", st.Mode().Perm())
	}
}
