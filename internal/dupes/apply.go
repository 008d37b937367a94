package dupes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/abkit/abkit/internal/fsutil"
	"github.com/abkit/abkit/internal/ldif"
	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/progress"
	"github.com/go-ldap/ldap/v3"
)

// EntryDeleter deletes AbUserEntry rows. Implementations write a backup of every row to
// backupPath (and sync it) before deleting anything, and delete all rows or none. rtcdb
// implements it.
type EntryDeleter interface {
	DeleteEntries(ctx context.Context, guids []GUID, backupPath string) error
}

// EntryRestorer re-inserts the rows of a backup written by an EntryDeleter.
type EntryRestorer interface {
	RestoreEntries(ctx context.Context, backupPath string) error
}

// Files of an undo folder.
const (
	ManifestFile  = "manifest.json"
	PlanFile      = "plan.json"
	RTCBackupFile = "rtc-backup.json"
)

// Manifest describes an undo folder: the plan, one undo LDIF per forest and the rtc backup.
type Manifest struct {
	Created   time.Time         `json:"created"`
	Plan      string            `json:"plan"`
	UndoLDIF  map[string]string `json:"undo_ldif"`            // forest name -> file in the folder
	RTCBackup string            `json:"rtc_backup,omitempty"` // file in the folder, when rows are deleted
}

// ApplyOptions are Apply's inputs besides the plan.
type ApplyOptions struct {
	// UndoDir receives the undo files before any write; it must not exist or be empty.
	UndoDir string
	// Modifiers write to the live forests, by forest name.
	Modifiers map[string]ldapsync.Modifier
	// Rows deletes AbUserEntry rows; nil leaves the database alone.
	Rows     EntryDeleter
	DryRun   bool // build every request and the undo data, write nothing
	Progress progress.Reporter
}

// ItemFailure is one change that could not be made.
type ItemFailure struct {
	Forest string `json:"forest"`
	DN     string `json:"dn"`
	GUID   GUID   `json:"guid"`
	Error  string `json:"error"`
}

// Result is what Apply did.
type Result struct {
	UndoDir     string        `json:"undo_dir,omitempty"`
	Modified    int           `json:"modified"`
	Failed      []ItemFailure `json:"failed,omitempty"`
	RowsDeleted []GUID        `json:"rows_deleted,omitempty"`
	RowsError   string        `json:"rows_error,omitempty"` // the row deletion failed (none deleted); the modifies still ran
}

// Partial reports whether some change or the row deletion failed.
func (r *Result) Partial() bool { return len(r.Failed) > 0 || r.RowsError != "" }

// ModifyRequest returns the conditional modify of c: one delete of the exact old values per
// attribute, so that the whole request fails when any of them changed.
func (c *Change) ModifyRequest() *ldap.ModifyRequest {
	req := ldap.NewModifyRequest(c.DN, nil)
	for _, av := range c.Remove {
		req.Delete(av.Attr, av.Values)
	}
	return req
}

// undoRequest adds back what c's modify deletes.
func (c *Change) undoRequest() *ldap.ModifyRequest {
	req := ldap.NewModifyRequest(c.DN, nil)
	for _, av := range c.Remove {
		req.Add(av.Attr, av.Values)
	}
	return req
}

// Apply makes the plan's changes. Before any write it writes the undo folder (plan, one undo
// LDIF per forest, manifest; each synced); then, when rows are to go, it hands their GUIDs to
// Rows, which writes its backup into the folder and deletes them all or none; then it modifies
// each object (a failure is recorded and the others go on). A row deleted for an object whose
// modify then fails comes back with User Replicator's next pass, as the object still carries the
// address; the result says which. With DryRun it checks that every change can be attempted and
// writes nothing.
func Apply(ctx context.Context, plan *Plan, opts ApplyOptions) (*Result, error) {
	res := &Result{}
	undo := map[string][]*ldap.ModifyRequest{}
	var todo []*Change
	var rows []GUID
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Skip != "" {
			continue
		}
		if modifierFor(opts.Modifiers, c.Forest) == nil {
			return nil, &InputError{Msg: fmt.Sprintf("forest %s: no writable connection for %s", c.Forest, c.DN)}
		}
		todo = append(todo, c)
		undo[c.Forest] = append(undo[c.Forest], c.undoRequest())
		if c.DeleteRow && opts.Rows != nil {
			rows = append(rows, c.GUID)
		}
	}
	if opts.DryRun || len(todo) == 0 {
		return res, nil
	}
	if opts.UndoDir == "" {
		return nil, &InputError{Msg: "an undo folder is required before any write"}
	}
	if err := writeUndo(opts.UndoDir, plan, undo, len(rows) > 0); err != nil {
		return nil, err
	}
	res.UndoDir = opts.UndoDir
	deleted := map[GUID]bool{}
	if len(rows) > 0 {
		if err := opts.Rows.DeleteEntries(ctx, rows, filepath.Join(opts.UndoDir, RTCBackupFile)); err != nil {
			res.RowsError = err.Error()
		} else {
			res.RowsDeleted = rows
			for _, g := range rows {
				deleted[g] = true
			}
		}
	}

	pr := progress.OrNop(opts.Progress)
	pr.Start(int64(len(todo)), "changes")
	defer pr.Done()
	for _, c := range todo {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		err := modifierFor(opts.Modifiers, c.Forest).Modify(ctx, c.ModifyRequest())
		pr.Add(1)
		if err != nil {
			msg := err.Error()
			if deleted[c.GUID] {
				msg += " (its AbUserEntry row was deleted; User Replicator will write it again)"
			}
			res.Failed = append(res.Failed, ItemFailure{Forest: c.Forest, DN: c.DN, GUID: c.GUID, Error: msg})
			continue
		}
		res.Modified++
	}
	return res, nil
}

func modifierFor(m map[string]ldapsync.Modifier, forest string) ldapsync.Modifier {
	for name, mod := range m {
		if strings.EqualFold(name, forest) {
			return mod
		}
	}
	return nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// writeUndo creates dir and writes, each synced: plan.json, undo-<forest>.ldif, manifest.json.
func writeUndo(dir string, plan *Plan, undo map[string][]*ldap.ModifyRequest, rows bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("dupes: undo folder: %w", err)
	}
	if ents, err := os.ReadDir(dir); err != nil {
		return fmt.Errorf("dupes: undo folder: %w", err)
	} else if len(ents) > 0 {
		return &InputError{Msg: fmt.Sprintf("undo folder %s is not empty: choose a new one", dir)}
	}
	m := Manifest{Created: plan.Created, Plan: PlanFile, UndoLDIF: map[string]string{}}
	planJSON, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return err
	}
	if err := writeSynced(filepath.Join(dir, PlanFile), planJSON); err != nil {
		return err
	}
	for forest, reqs := range undo {
		var text bytes.Buffer
		lw := ldif.NewWriter(&text)
		lw.Header("abkit dupes undo for forest " + forest + ": adds back the values the fix deleted.")
		for _, r := range reqs {
			lw.WriteModify(r)
		}
		if err := lw.Flush(); err != nil {
			return fmt.Errorf("dupes: undo LDIF for forest %s: %w", forest, err)
		}
		name := "undo-" + unsafeName.ReplaceAllString(forest, "_") + ".ldif"
		if err := writeSynced(filepath.Join(dir, name), text.Bytes()); err != nil {
			return err
		}
		m.UndoLDIF[forest] = name
	}
	if rows {
		m.RTCBackup = RTCBackupFile
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeSynced(filepath.Join(dir, ManifestFile), mj)
}

// writeSynced creates path (never replacing a file) with data, synced with its folder.
func writeSynced(path string, data []byte) error {
	if err := fsutil.WriteNew(path, 0o600, fsutil.WriteBytes(data)); err != nil {
		return fmt.Errorf("dupes: %w", err)
	}
	return nil
}

// UndoOptions are Undo's inputs besides the folder.
type UndoOptions struct {
	Modifiers map[string]ldapsync.Modifier
	Rows      EntryRestorer // nil: the rtc backup is not restored
	DryRun    bool
}

// UndoResult is what Undo did.
type UndoResult struct {
	Restored       int           `json:"restored"`
	AlreadyPresent int           `json:"already_present"` // the values were there already (change never applied)
	Failed         []ItemFailure `json:"failed,omitempty"`
	RowsRestored   bool          `json:"rows_restored"`
	RowsError      string        `json:"rows_error,omitempty"`
}

// ReadManifest reads an undo folder's manifest.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("undo folder %s: %v", dir, err)}
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("undo folder %s: %s: %v", dir, ManifestFile, err)}
	}
	return &m, nil
}

// ReadUndo returns the undo requests of one forest from an undo folder.
func ReadUndo(dir string, m *Manifest, forest string) ([]*ldap.ModifyRequest, error) {
	name := m.UndoLDIF[forest]
	if name == "" || name != filepath.Base(name) {
		return nil, &InputError{Msg: fmt.Sprintf("undo folder %s: no undo LDIF for forest %q", dir, forest)}
	}
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, &InputError{Msg: err.Error()}
	}
	defer f.Close()
	var out []*ldap.ModifyRequest
	sc := ldif.NewScanner(f, ldif.Options{Path: name})
	for {
		rec, err := sc.Next()
		switch {
		case errors.Is(err, io.EOF):
			return out, nil
		case err != nil:
			return nil, &InputError{Msg: err.Error()}
		case rec.Kind != ldif.Modify:
			return nil, &InputError{Msg: fmt.Sprintf("%s:%d: only modify records are expected", name, rec.Line)}
		}
		out = append(out, ldif.ModifyRequest(rec))
	}
}

// Undo adds back, object by object, the values a fix deleted (each add fails if the attribute
// meanwhile got a conflicting value), then restores the AbUserEntry rows from the backup.
func Undo(ctx context.Context, dir string, opts UndoOptions) (*UndoResult, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	res := &UndoResult{}
	work := map[string][]*ldap.ModifyRequest{}
	for forest := range m.UndoLDIF {
		reqs, err := ReadUndo(dir, m, forest)
		if err != nil {
			return nil, err
		}
		if modifierFor(opts.Modifiers, forest) == nil {
			return nil, &InputError{Msg: fmt.Sprintf("forest %s: no writable connection to undo its changes", forest)}
		}
		work[forest] = reqs
	}
	backup := ""
	if m.RTCBackup != "" && m.RTCBackup == filepath.Base(m.RTCBackup) {
		if _, err := os.Stat(filepath.Join(dir, m.RTCBackup)); err == nil {
			backup = filepath.Join(dir, m.RTCBackup)
		}
	}
	if backup != "" && opts.Rows == nil && !opts.DryRun {
		return nil, &InputError{Msg: "the undo folder holds an rtc backup: a database connection is needed to restore it"}
	}
	if opts.DryRun {
		return res, nil
	}
	for forest, reqs := range work {
		mod := modifierFor(opts.Modifiers, forest)
		for _, r := range reqs {
			err := mod.Modify(ctx, r)
			switch {
			case err == nil:
				res.Restored++
			case ldap.IsErrorWithCode(err, ldap.LDAPResultAttributeOrValueExists):
				res.AlreadyPresent++
			default:
				res.Failed = append(res.Failed, ItemFailure{Forest: forest, DN: r.DN, Error: err.Error()})
			}
		}
	}
	if backup != "" {
		if err := opts.Rows.RestoreEntries(ctx, backup); err != nil {
			res.RowsError = err.Error()
		} else {
			res.RowsRestored = true
		}
	}
	return res, nil
}

// FollowUp is what an administrator does after a fix, in order.
var FollowUp = []string{
	"ABServer.exe -regenUR   (on the Address Book Server: User Replicator regenerates the address book data from AD)",
	"ABServer.exe -syncNow   (the Address Book Server writes new address book files now instead of at 01:30)",
	"Clients pick up the corrected file with their next daily download; Communicator may show the old entry until then.",
}
