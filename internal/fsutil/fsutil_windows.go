//go:build windows

package fsutil

import (
	"os"

	"golang.org/x/sys/windows"
)

// SyncDir does nothing on Windows, where a folder handle cannot be synced: Write's durability
// there comes from flushing the file and moving it with MOVEFILE_WRITE_THROUGH. It returns an
// error only if dir does not exist.
func SyncDir(dir string) error {
	_, err := os.Stat(dir)
	return err
}

// publish gives the finished temporary file tmp the name dest with MoveFileEx: with overwrite,
// MOVEFILE_REPLACE_EXISTING replaces dest atomically; without, the move fails if dest exists
// (the error matches fs.ErrExist). MOVEFILE_WRITE_THROUGH returns only once the move is on disk.
func publish(tmp, dest string, overwrite bool) error {
	return moveFile(tmp, dest, moveFlags(overwrite))
}

// moveFlags returns the MoveFileEx flags publish uses.
func moveFlags(overwrite bool) uint32 {
	flags := uint32(windows.MOVEFILE_WRITE_THROUGH)
	if overwrite {
		flags |= windows.MOVEFILE_REPLACE_EXISTING
	}
	return flags
}

// moveFile calls MoveFileEx(from, to, flags) and reports a failure as an *os.LinkError.
func moveFile(from, to string, flags uint32) error {
	f, err := windows.UTF16PtrFromString(from)
	if err != nil {
		return &os.LinkError{Op: "movefileex", Old: from, New: to, Err: err}
	}
	t, err := windows.UTF16PtrFromString(to)
	if err != nil {
		return &os.LinkError{Op: "movefileex", Old: from, New: to, Err: err}
	}
	if err := windows.MoveFileEx(f, t, flags); err != nil {
		return &os.LinkError{Op: "movefileex", Old: from, New: to, Err: err}
	}
	return nil
}
