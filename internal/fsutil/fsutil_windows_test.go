//go:build windows

package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/windows"
)

func TestMoveFlags(t *testing.T) {
	if got := moveFlags(false); got != windows.MOVEFILE_WRITE_THROUGH {
		t.Errorf("moveFlags(false) = %#x, want MOVEFILE_WRITE_THROUGH only", got)
	}
	if got := moveFlags(true); got != windows.MOVEFILE_WRITE_THROUGH|windows.MOVEFILE_REPLACE_EXISTING {
		t.Errorf("moveFlags(true) = %#x, want WRITE_THROUGH|REPLACE_EXISTING", got)
	}
}

func TestPublishWindows(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "plan.json")
	os.WriteFile(dest, []byte("old"), 0o600)
	tmp := filepath.Join(dir, "tmp")
	os.WriteFile(tmp, []byte("new"), 0o600)
	if err := publish(tmp, dest, false); !errors.Is(err, fs.ErrExist) {
		t.Errorf("MoveFileEx without REPLACE_EXISTING over a file: %v, want fs.ErrExist", err)
	}
	if err := publish(tmp, dest, true); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "new" {
		t.Errorf("dest holds %q, want new", b)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary file still there: %v", err)
	}
	// The NUL device is not a regular file.
	if err := Write("NUL", Shared, true, WriteBytes([]byte("x"))); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Write to NUL: %v, want ErrNotRegular", err)
	}
}
