//go:build !windows

package fsutil

import (
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// assertUntouched fails unless path still is a file of type typ (a device, FIFO, socket...).
func assertUntouched(t *testing.T, path string, typ fs.FileMode) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if st.Mode().Type() != typ {
		t.Errorf("%s is now %v, want type %v (left untouched)", path, st.Mode().Type(), typ)
	}
}

// assertNoTemp fails if dir holds more than n entries (a temporary file left behind).
func assertNoTemp(t *testing.T, dir string, n int) {
	t.Helper()
	if ents, _ := os.ReadDir(dir); len(ents) != n {
		t.Errorf("%s holds %d entries, want %d", dir, len(ents), n)
	}
}

func TestFIFORefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, overwrite := range []bool{false, true} {
		if err := Write(fifo, Shared, overwrite, WriteBytes([]byte("x"))); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Write(overwrite=%v) to a FIFO: %v, want ErrNotRegular", overwrite, err)
		}
	}
	if _, err := OpenAppend(fifo); !errors.Is(err, ErrNotRegular) {
		t.Errorf("OpenAppend of a FIFO: %v, want ErrNotRegular", err)
	}
	assertUntouched(t, fifo, fs.ModeNamedPipe)
	// A symbolic link to the FIFO is refused too.
	link := filepath.Join(dir, "link")
	os.Symlink(fifo, link)
	if err := Replace(link, WriteBytes([]byte("x"))); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Replace through a link to a FIFO: %v, want ErrNotRegular", err)
	}
	assertUntouched(t, fifo, fs.ModeNamedPipe)
	assertUntouched(t, link, fs.ModeSymlink)
	assertNoTemp(t, dir, 2)
}

func TestSocketRefused(t *testing.T) {
	dir, err := os.MkdirTemp("", "sock") // short: socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := Write(sock, Shared, true, WriteBytes([]byte("x"))); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Write to a socket: %v, want ErrNotRegular", err)
	}
	assertUntouched(t, sock, fs.ModeSocket)
}

func TestDeviceRefused(t *testing.T) {
	// A symbolic link to a device is refused, whoever runs the test.
	dir := t.TempDir()
	link := filepath.Join(dir, "out.lsabs")
	if err := os.Symlink("/dev/null", link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, Shared, true, WriteBytes([]byte("x"))); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Write through a link to /dev/null: %v, want ErrNotRegular", err)
	}
	assertUntouched(t, "/dev/null", fs.ModeDevice|fs.ModeCharDevice)
	assertUntouched(t, link, fs.ModeSymlink)
	assertNoTemp(t, dir, 1)

	// The device itself: only root may create files in /dev, so only root could replace it.
	if os.Geteuid() != 0 {
		t.Log("not root: /dev/full itself is checked only when run as root (CI runs as root)")
		return
	}
	before, _ := os.ReadDir("/dev")
	for _, overwrite := range []bool{false, true} {
		if err := Write("/dev/full", Shared, overwrite, WriteBytes([]byte("x"))); !errors.Is(err, ErrNotRegular) {
			t.Errorf("Write(overwrite=%v) to /dev/full: %v, want ErrNotRegular", overwrite, err)
		}
	}
	assertUntouched(t, "/dev/full", fs.ModeDevice|fs.ModeCharDevice)
	assertNoTemp(t, "/dev", len(before))
}

func TestSymlinkToRegularFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "plan.json")
	os.WriteFile(target, []byte("old"), 0o600)
	os.Symlink("real.json", link)
	// Without overwrite the existing target counts as existing.
	if err := WriteNew(link, Private, WriteBytes([]byte("new"))); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteNew through a link to a file: %v, want fs.ErrExist", err)
	}
	if err := Replace(link, WriteBytes([]byte("new"))); err != nil {
		t.Fatal(err)
	}
	assertUntouched(t, link, fs.ModeSymlink)
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q, want new", b)
	}
	// A dangling link is refused rather than followed into a file nobody named.
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	if err := Replace(dangling, WriteBytes([]byte("x"))); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Replace through a dangling link: %v, want ErrNotRegular", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("dangling link's target was created: %v", err)
	}
	assertNoTemp(t, dir, 3)
}
