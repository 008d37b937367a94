//go:build !windows

package fsutil

import (
	"errors"
	"io/fs"
	"os"
)

// SyncDir syncs the folder dir, so that the files created or renamed in it survive a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// publish gives the finished temporary file tmp the name dest. With overwrite it renames (which
// replaces dest atomically); without, it hard-links, which fails if dest appeared since it was
// checked, and falls back to checking again and renaming only on file systems without hard links.
func publish(tmp, dest string, overwrite bool) error {
	if !overwrite {
		err := os.Link(tmp, dest)
		if err == nil {
			return os.Remove(tmp)
		}
		if errors.Is(err, fs.ErrExist) {
			return &fs.PathError{Op: "write", Path: dest, Err: fs.ErrExist}
		}
		if _, err := os.Lstat(dest); !errors.Is(err, fs.ErrNotExist) {
			return &fs.PathError{Op: "write", Path: dest, Err: fs.ErrExist}
		}
	}
	return os.Rename(tmp, dest)
}
