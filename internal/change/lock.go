package change

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/abkit/abkit/internal/fsutil"
)

// Lock is an exclusive lock on a file (flock on Unix, LockFileEx on Windows), held by one
// process at a time. The operating system releases it when the process ends, so a crashed run
// leaves no stale lock; the file keeps the last holder's process id, host and start time for the
// message a second run prints.
type Lock struct {
	f *os.File
}

// LockedError reports a lock held by another run.
type LockedError struct {
	Path   string
	Holder string // "pid N on HOST since TIME", as far as the file tells
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("change: %s is locked by another abkit run (%s): wait for it to finish, then run again", e.Path, e.Holder)
}

// BadInput marks a held lock as a usage problem: the run did nothing.
func (e *LockedError) BadInput() bool { return true }

// AcquireLock takes the lock on path (a regular file, created 0600 when missing) without waiting: a lock held by
// another process is a *LockedError.
func AcquireLock(path string) (*Lock, error) {
	// Created (or checked) under the one file policy, then opened for reading and writing:
	// Windows locks need more than append access.
	f, err := fsutil.OpenAppend(path)
	if err != nil {
		return nil, err
	}
	f.Close()
	if f, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("change: lock %s is not a regular file", path)
	}
	ok, err := tryLock(f)
	if err != nil || !ok {
		holder := "holder unknown"
		if b, rerr := os.ReadFile(path); rerr == nil && len(b) > 0 {
			holder = strings.TrimSpace(string(b))
		}
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("change: lock %s: %w", path, err)
		}
		return nil, &LockedError{Path: path, Holder: holder}
	}
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d on %s since %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	}
	return &Lock{f: f}, nil
}

// Release releases the lock; the file stays.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
