// Package fsutil is the one place abkit writes files: plans, journals, undo files, backups,
// reports, address books and exports all go through Write (or its shorthands), so they share one
// overwrite policy:
//
//   - only a regular file is ever replaced: a device (/dev/full), FIFO, socket or folder at the
//     path is refused with ErrNotRegular and left untouched, even when overwriting is allowed;
//   - a symbolic link is resolved deliberately: a link to a regular file has that file replaced
//     (the link stays), a link to anything else or to nothing is refused;
//   - an existing file is replaced only when the caller allows it; otherwise Write fails with an
//     error matching fs.ErrExist, also when the file appears while Write runs;
//   - the data goes to a temporary file in the destination's folder, is synced, and only then
//     takes the destination's name, so a reader or a crash never sees a half-written file. On
//     Unix the folder is synced after the rename; on Windows, where a folder cannot be synced,
//     the file is flushed (FlushFileBuffers) and moved with MoveFileEx and
//     MOVEFILE_WRITE_THROUGH, which returns only once the move is on disk.
//
// Plans, journals, undo files and backups are written with Private (0600) permissions.
package fsutil

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Permissions for Write.
const (
	// Private is for plans, journals, undo files and backups: they hold directory data and are
	// read back by abkit only.
	Private fs.FileMode = 0o600
	// Shared is for reports, exports and address book files meant for other readers.
	Shared fs.FileMode = 0o644
)

// ErrNotRegular is returned (wrapped in an *fs.PathError) for a path that exists and is not a
// regular file, or is a symbolic link to one that is not or to nothing.
var ErrNotRegular = errors.New("not a regular file")

// Write writes what write produces to path, all or nothing, with permissions perm (Private or
// Shared). An existing regular file is replaced only if overwrite is set, else the error matches
// fs.ErrExist; anything else at path is refused (ErrNotRegular) and left untouched. A symbolic
// link to a regular file has its target replaced. On failure path is left as it was and no
// temporary file remains.
func Write(path string, perm fs.FileMode, overwrite bool, write func(w io.Writer) error) (err error) {
	dest, err := destination(path, overwrite)
	if err != nil {
		return err
	}
	dir := filepath.Dir(dest)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := writeSyncClose(tmp, perm, write); err != nil {
		return err
	}
	if err := publish(tmp.Name(), dest, overwrite); err != nil {
		return err
	}
	return SyncDir(dir)
}

// WriteNew writes path, which must not exist (else the error matches fs.ErrExist), with
// permissions perm; see Write.
func WriteNew(path string, perm fs.FileMode, write func(w io.Writer) error) error {
	return Write(path, perm, false, write)
}

// Replace replaces path, or creates it, with Private permissions; see Write.
func Replace(path string, write func(w io.Writer) error) error {
	return Write(path, Private, true, write)
}

// WriteBytes returns a write function for Write that writes b.
func WriteBytes(b []byte) func(w io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}
}

// OpenAppend opens path for appending, creating it with Private permissions, for journals that
// grow record by record. It follows the same policy as Write: anything that is not a regular
// file (after resolving a symbolic link) is refused. A newly created file's folder is synced
// before OpenAppend returns. The caller syncs the file (f.Sync) after the records it relies on.
func OpenAppend(path string) (*os.File, error) {
	dest, err := destination(path, true)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_WRONLY|os.O_APPEND, Private)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() { // replaced by something else since destination ran
		err = &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	if err == nil && st.Size() == 0 {
		err = SyncDir(filepath.Dir(dest))
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// destination returns the file Write replaces or creates for path: path itself, or the target of
// the symbolic link path is. It applies the overwrite policy to what exists there.
func destination(path string, overwrite bool) (string, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err != nil {
		return "", err
	}
	dest := path
	if st.Mode()&fs.ModeSymlink != 0 {
		dest, err = filepath.EvalSymlinks(path)
		if err != nil {
			return "", &fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("%w: symbolic link that cannot be resolved: %v", ErrNotRegular, err)}
		}
		if st, err = os.Lstat(dest); err != nil {
			return "", err
		}
	}
	if !st.Mode().IsRegular() {
		var what error
		if dest != path {
			what = fmt.Errorf("%w: symbolic link to %s (%s)", ErrNotRegular, dest, kind(st.Mode()))
		} else {
			what = fmt.Errorf("%w (%s)", ErrNotRegular, kind(st.Mode()))
		}
		return "", &fs.PathError{Op: "write", Path: path, Err: what}
	}
	if !overwrite {
		return "", &fs.PathError{Op: "write", Path: path, Err: fs.ErrExist}
	}
	return dest, nil
}

// kind names the type of a file that is not regular, for error messages.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "folder"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	default:
		return "special file " + m.Type().String()
	}
}

// writeSyncClose writes what write produces to f through a buffer, sets its permissions, syncs
// it (FlushFileBuffers on Windows) and closes it; f is always closed.
func writeSyncClose(f *os.File, perm fs.FileMode, write func(w io.Writer) error) error {
	bw := bufio.NewWriterSize(f, 1<<20)
	err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
