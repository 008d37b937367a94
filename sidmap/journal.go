package sidmap

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Journal statuses.
const (
	statusApplied = "applied"
	statusAlready = "already"
	statusFailed  = "failed"
)

// journalSyncEvery bounds how long finished items wait in memory before the journal is fsynced.
// Items lost in a crash are harmless: on the re-run their conditional change fails, they are read
// back, and they count as done.
const journalSyncEvery = 200 * time.Millisecond

// journalHeader is the first line of a journal.
type journalHeader struct {
	Journal string `json:"journal"` // "abkit-sidmap"
	Version int    `json:"version"`
	ID      string `json:"id"` // the plan or undo file it belongs to
}

// journalRecord is one finished item.
type journalRecord struct {
	I      int    `json:"i"`
	DN     string `json:"dn"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// journal appends records to a JSON-lines file.
type journal struct {
	f        *os.File
	w        *bufio.Writer
	lastSync time.Time
}

// readJournal returns the items a journal records as done (index → DN). A missing file records
// nothing; a journal of another plan is refused.
func readJournal(path, id string) (map[int]string, error) {
	done := map[int]string{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), maxLDIFLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return done, nil // created but empty: nothing recorded
	}
	var h journalHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Journal != "abkit-sidmap" {
		return nil, &OptionsError{Reason: fmt.Sprintf("%s is not an abkit sidmap journal", path)}
	}
	if h.ID != id {
		return nil, &OptionsError{Reason: fmt.Sprintf("journal %s belongs to another plan (%s): name a new journal", path, h.ID)}
	}
	for sc.Scan() {
		var r journalRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue // a line cut short by a crash
		}
		if r.Status == statusApplied || r.Status == statusAlready {
			done[r.I] = r.DN
		} else {
			delete(done, r.I)
		}
	}
	return done, sc.Err()
}

// openJournal reads what an existing journal records as done and opens it for appending, or
// creates it with its header; either way the header is on disk before the first write.
func openJournal(path, id string) (*journal, map[int]string, error) {
	done, err := readJournal(path, id)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	j := &journal{f: f, w: bufio.NewWriter(f), lastSync: time.Now()}
	st, err := f.Stat()
	if err == nil && st.Size() == 0 {
		b, _ := json.Marshal(journalHeader{Journal: "abkit-sidmap", Version: 1, ID: id})
		j.w.Write(append(b, '\n'))
	} else if err == nil {
		j.w.WriteByte('\n') // end a line a crash may have cut short
	}
	if err == nil {
		err = j.sync()
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return j, done, nil
}

// record appends one finished item; the file is fsynced at most every journalSyncEvery.
func (j *journal) record(i int, dn, status, errText string) error {
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

func (j *journal) sync() error {
	if err := j.w.Flush(); err != nil {
		return err
	}
	j.lastSync = time.Now()
	return j.f.Sync()
}

func (j *journal) close() error {
	err := j.sync()
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	return err
}
