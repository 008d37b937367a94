package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// writeFileAtomic creates path with the bytes that write produces, all or nothing: it writes a
// temporary file in the same directory, syncs it, renames it over path and syncs the directory,
// so that path is never seen half-written. An existing path is refused (bad input) unless force
// is set. On any error the temporary file is removed and path is left as it was.
func writeFileAtomic(path string, force bool, write func(w io.Writer) error) (err error) {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return badInputf("%s exists: pass --force to overwrite it", path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return runtimeFailure(err)
		}
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return runtimeFailure(err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return runtimeFailure(fmt.Errorf("write %s: %w", tmp.Name(), err))
	}
	if err := tmp.Chmod(0o644); err != nil {
		return runtimeFailure(err)
	}
	if err := tmp.Sync(); err != nil {
		return runtimeFailure(fmt.Errorf("sync %s: %w", tmp.Name(), err))
	}
	if err := tmp.Close(); err != nil {
		return runtimeFailure(err)
	}
	if err := publish(tmp.Name(), path, force); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return nil
}

// publish moves the finished temporary file to path. Without force it links, which fails when path
// appeared since the check (a rename would replace it), and falls back to a rename only on file
// systems without hard links.
func publish(tmp, path string, force bool) error {
	if !force {
		err := os.Link(tmp, path)
		if err == nil {
			_ = os.Remove(tmp) // path holds the data; a leftover name is harmless
			return nil
		}
		if errors.Is(err, fs.ErrExist) {
			return badInputf("%s exists: pass --force to overwrite it", path)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return runtimeFailure(err)
	}
	return nil
}
