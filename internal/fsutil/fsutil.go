// Package fsutil writes files durably, for the packages that keep backups, undo files, plans
// and journals: a file is synced to disk before it is relied on, and its folder is synced after
// the file is created or renamed in it, so that both survive a crash. It works on local file
// systems; a folder that cannot be synced (some network file systems) is an error.
package fsutil

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
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

// WriteNew creates path, which must not exist, with permissions perm; writes what write
// produces; syncs and closes the file, then syncs its folder. On failure the file is removed.
func WriteNew(path string, perm fs.FileMode, write func(w io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if err := writeSyncClose(f, write); err != nil {
		_ = os.Remove(path)
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// Replace replaces path, or creates it, atomically with what write produces: a temporary file
// in the same folder (permissions 0600) is written, synced and renamed over path, then the
// folder is synced. On failure path is left as it was and the temporary file is removed.
func Replace(path string, write func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	if err := writeSyncClose(tmp, write); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// WriteBytes returns a write function for WriteNew and Replace that writes b.
func WriteBytes(b []byte) func(w io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}
}

// writeSyncClose writes what write produces to f, syncs and closes it (always closed).
func writeSyncClose(f *os.File, write func(w io.Writer) error) error {
	err := write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
