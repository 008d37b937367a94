package cli

import (
	"fmt"
	"io"
	"sync"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/ldapsync"
)

// snapshotReports collects the LDIF snapshots a command opened, to report after it ran what
// their reading skipped.
type snapshotReports struct {
	mu   sync.Mutex
	srcs []ldapsync.Reporter
}

func (r *snapshotReports) add(s ldapsync.Reporter) {
	r.mu.Lock()
	r.srcs = append(r.srcs, s)
	r.mu.Unlock()
}

// partial returns the reports of the snapshots that skipped records, and the first record that
// a --strict snapshot refused.
func (r *snapshotReports) partial() (reps []ldapsync.ReadReport, refused *ldapsync.LDIFError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.srcs {
		rep := s.ReadReport()
		if rep.Partial() {
			reps = append(reps, rep)
		}
		if refused == nil {
			refused = rep.Refused
		}
	}
	return reps, refused
}

// maxShownProblems bounds the skipped records listed on stderr per file.
const maxShownProblems = 20

// check writes what the snapshots skipped on w and returns the command's error, made a partial
// failure (exit 3) when records were skipped and the command did not fail otherwise, or bad
// input (exit 2) when a --strict snapshot refused a record.
func (r *snapshotReports) check(w io.Writer, err error) error {
	reps, refused := r.partial()
	if refused != nil {
		if err == nil || exitCode(err) == ExitFindings {
			err = refused
		}
		return badInput(err)
	}
	if len(reps) == 0 {
		return err
	}
	total := 0
	for _, rep := range reps {
		for i, p := range rep.Problems {
			if i == maxShownProblems {
				fmt.Fprintf(w, "abkit: %s: %d more skipped records not shown\n", rep.Path, rep.Skipped-i)
				break
			}
			fmt.Fprintf(w, "abkit: skipped: %v\n", p)
		}
		total += rep.Skipped
	}
	return partialInput(err, fmt.Sprintf("partial input: %d LDIF records could not be read and were skipped (--strict refuses such a file)", total))
}

// openSnapshot reads a configured snapshot forest into memory, as --strict says, and remembers
// it for the partial-input report.
func (f *Factory) openSnapshot(fc *config.Forest) (*ldapsync.Snapshot, error) {
	s, err := ldapsync.OpenSnapshotWith(fc.Name, fc.LDIF, fc.Base, ldapsync.ReadOptions{Strict: f.Strict})
	if err != nil {
		return nil, err
	}
	f.snapshots.add(s)
	return s, nil
}

// openStreamSnapshot is openSnapshot for a snapshot streamed from its file at each search.
func (f *Factory) openStreamSnapshot(fc *config.Forest) (*ldapsync.StreamSnapshot, error) {
	s, err := ldapsync.OpenStreamSnapshotWith(fc.Name, fc.LDIF, fc.Base, ldapsync.ReadOptions{Strict: f.Strict})
	if err != nil {
		return nil, err
	}
	f.snapshots.add(s)
	return s, nil
}
