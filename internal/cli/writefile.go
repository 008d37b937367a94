package cli

import (
	"errors"
	"io"
	"io/fs"

	"github.com/abkit/abkit/internal/fsutil"
)

// writeFileAtomic writes a file for others to read (address books, exports) through the one
// atomic writer, fsutil.Write, with Shared permissions; see writeFileAs.
func writeFileAtomic(path string, force bool, write func(w io.Writer) error) error {
	return writeFileAs(path, fsutil.Shared, force, write)
}

// writeFileAs writes path through fsutil.Write with permissions perm. An existing file is bad
// input unless force is set; something that is not a regular file (a device, FIFO, socket, or a
// link to one) is always bad input and left untouched. An error write returns with an exit code
// keeps it; any other failure is a runtime failure.
func writeFileAs(path string, perm fs.FileMode, force bool, write func(w io.Writer) error) error {
	err := fsutil.Write(path, perm, force, write)
	var ee *exitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		return err
	case errors.Is(err, fs.ErrExist):
		return badInputf("%s exists: pass --force to overwrite it", path)
	case errors.Is(err, fsutil.ErrNotRegular):
		return badInput(err)
	}
	return runtimeFailure(err)
}
