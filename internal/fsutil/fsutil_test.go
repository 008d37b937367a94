package fsutil

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteNew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.json")
	if err := WriteNew(path, 0o600, WriteBytes([]byte("one"))); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "one" {
		t.Fatalf("read back %q, %v", b, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	// An existing file is never replaced.
	if err := WriteNew(path, 0o600, WriteBytes([]byte("two"))); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second WriteNew: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "one" {
		t.Errorf("existing file changed to %q", b)
	}
	// A failed write leaves no file.
	bad := filepath.Join(dir, "b.json")
	boom := errors.New("boom")
	if err := WriteNew(bad, 0o600, func(io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing write: %v, want boom", err)
	}
	if _, err := os.Stat(bad); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file of a failed write left behind: %v", err)
	}
}

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "undo.ldif")
	if err := Replace(path, WriteBytes([]byte("first"))); err != nil {
		t.Fatal(err)
	}
	if err := Replace(path, WriteBytes([]byte("second"))); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "second" {
		t.Errorf("content %q, want second", b)
	}
	// A failed write keeps the old content and leaves no temporary file.
	boom := errors.New("boom")
	if err := Replace(path, func(w io.Writer) error { w.Write([]byte("half")); return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing write: %v, want boom", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "second" {
		t.Errorf("content after a failed replace %q, want second", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("folder holds %d files, want 1 (no temporary file left)", len(ents))
	}
	if err := SyncDir(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir of a missing folder: %v", err)
	}
}

func TestWriteModesAndOverwritePolicy(t *testing.T) {
	dir := t.TempDir()
	for _, perm := range []fs.FileMode{Private, Shared} {
		path := filepath.Join(dir, perm.String())
		if err := WriteNew(path, perm, WriteBytes([]byte("x"))); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != perm {
			t.Errorf("%s: mode %v, want %v", path, st.Mode().Perm(), perm)
		}
		// Overwriting sets the policy's mode, not the old file's.
		os.Chmod(path, 0o666)
		if err := Write(path, perm, true, WriteBytes([]byte("y"))); err != nil {
			t.Fatal(err)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != perm {
			t.Errorf("%s after overwrite: mode %v, want %v", path, st.Mode().Perm(), perm)
		}
	}
	// Replace writes private files.
	undo := filepath.Join(dir, "undo.ldif")
	if err := Replace(undo, WriteBytes([]byte("u"))); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(undo); st.Mode().Perm() != Private {
		t.Errorf("Replace: mode %v, want 0600", st.Mode().Perm())
	}
	// A folder is never replaced.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	if err := Write(sub, Shared, true, WriteBytes([]byte("x"))); !errors.Is(err, ErrNotRegular) {
		t.Errorf("writing over a folder: %v, want ErrNotRegular", err)
	}
	if st, err := os.Stat(sub); err != nil || !st.IsDir() {
		t.Errorf("folder changed: %v %v", st, err)
	}
}

func TestOpenAppend(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "journal")
	for _, line := range []string{"a\n", "b\n"} {
		f, err := OpenAppend(path)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString(line)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "a\nb\n" {
		t.Errorf("journal %q, want a, b", b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != Private {
		t.Errorf("journal mode %v, want 0600", st.Mode().Perm())
	}
	if _, err := OpenAppend(dir); !errors.Is(err, ErrNotRegular) {
		t.Errorf("OpenAppend of a folder: %v, want ErrNotRegular", err)
	}
}
