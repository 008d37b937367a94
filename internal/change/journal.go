package change

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/abkit/abkit/internal/fsutil"
)

// Status is how one item ended, as the journal records it.
type Status string

// Item statuses.
const (
	StatusApplied Status = "applied" // written by a run
	StatusAlready Status = "already" // the entry already held the target values
	StatusRefused Status = "refused" // the entry no longer holds the values the change expects
	StatusFailed  Status = "failed"  // the server refused the change for another reason
	// StatusInFlight: sent when the run was cut (cancelled, connection lost); it may or may not
	// have reached the server. A re-run resolves it by re-sending it conditionally and reading
	// the entry back.
	StatusInFlight Status = "in-flight"
)

// journalSyncEvery bounds how long finished items wait in memory before the journal is fsynced.
// Items lost in a crash are harmless: on the re-run their conditional change fails, they are read
// back, and they count as done.
const journalSyncEvery = 200 * time.Millisecond

const journalKind = "abkit-change"

// Header is the first line of a journal: what the run was allowed to do and which undo file it
// wrote before its first change.
type Header struct {
	Journal    string   `json:"journal"` // "abkit-change"
	Version    int      `json:"version"`
	ID         string   `json:"id"`    // the plan or undo file the run applies
	Op         string   `json:"op"`    // Policy.Name
	Attrs      []string `json:"attrs"` // Policy.Attrs
	Base       string   `json:"base"`  // Policy.Base
	UndoSHA256 string   `json:"undo_sha256"`
}

// journalRecord is one finished item.
type journalRecord struct {
	I      int    `json:"i"`
	DN     string `json:"dn"`
	Status Status `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Journal is what a journal file records: its header and the last status of each item (by index).
type Journal struct {
	Header Header
	Status map[int]Status
	DN     map[int]string
}

// done reports whether the journal records item i (with that DN) as done.
func (j *Journal) done(i int, dn string) bool {
	s := j.Status[i]
	return (s == StatusApplied || s == StatusAlready) && strings.EqualFold(j.DN[i], dn)
}

// ReadJournal reads a journal file. A missing or empty file gives a nil Journal and no error.
func ReadJournal(path string) (*Journal, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), maxLDIFLine)
	if !sc.Scan() {
		return nil, sc.Err()
	}
	j := &Journal{Status: map[int]Status{}, DN: map[int]string{}}
	if err := json.Unmarshal(sc.Bytes(), &j.Header); err != nil || j.Header.Journal != journalKind {
		return nil, &OptionsError{Reason: fmt.Sprintf("%s is not an abkit change journal", path)}
	}
	for sc.Scan() {
		var r journalRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.I < 0 {
			continue // a line cut short by a crash
		}
		j.Status[r.I], j.DN[r.I] = r.Status, r.DN
	}
	return j, sc.Err()
}

// journalWriter appends records to a JSON-lines file.
type journalWriter struct {
	f        *os.File
	w        *bufio.Writer
	lastSync time.Time
}

// openJournal reads an existing journal, which must carry the header h, and opens it for
// appending, or creates it with h; either way the header is on disk before the first write.
func openJournal(path string, h Header) (*journalWriter, *Journal, error) {
	old, err := ReadJournal(path)
	if err != nil {
		return nil, nil, err
	}
	if old != nil {
		switch {
		case old.Header.ID != h.ID:
			return nil, nil, &OptionsError{Reason: fmt.Sprintf("journal %s belongs to another run (%s): name a new journal", path, old.Header.ID)}
		case old.Header.UndoSHA256 != h.UndoSHA256 || !strings.EqualFold(old.Header.Base, h.Base) || old.Header.Op != h.Op:
			return nil, nil, &OptionsError{Reason: fmt.Sprintf("journal %s was written for another undo file, base or operation: name a new journal", path)}
		}
	} else {
		old = &Journal{Header: h, Status: map[int]Status{}, DN: map[int]string{}}
	}
	f, err := fsutil.OpenAppend(path)
	if err != nil {
		return nil, nil, err
	}
	j := &journalWriter{f: f, w: bufio.NewWriter(f), lastSync: time.Now()}
	st, err := f.Stat()
	if err == nil && st.Size() == 0 {
		b, _ := json.Marshal(h)
		j.w.Write(append(b, '\n'))
	} else if err == nil {
		j.w.WriteByte('\n') // end a line a crash may have cut short
	}
	if err == nil {
		err = j.sync()
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return j, old, nil
}

// record appends one finished item; the file is fsynced at most every journalSyncEvery.
func (j *journalWriter) record(i int, dn string, status Status, errText string) error {
	b, err := json.Marshal(journalRecord{I: i, DN: dn, Status: status, Error: errText})
	if err != nil {
		return err
	}
	if _, err := j.w.Write(append(b, '\n')); err != nil {
		return err
	}
	if time.Since(j.lastSync) >= journalSyncEvery {
		return j.sync()
	}
	return nil
}

func (j *journalWriter) sync() error {
	if err := j.w.Flush(); err != nil {
		return err
	}
	j.lastSync = time.Now()
	return j.f.Sync()
}

func (j *journalWriter) close() error {
	err := j.sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}
