package dupes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/abkit/abkit/internal/change"
	"github.com/abkit/abkit/internal/fsutil"
	"github.com/abkit/abkit/ldapsync"
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
	LockFile      = "lock"
)

// Manifest describes an undo folder: the plan, one undo LDIF and one journal per forest, and the
// rtc backup.
type Manifest struct {
	Created   time.Time         `json:"created"`
	Plan      string            `json:"plan"`
	UndoLDIF  map[string]string `json:"undo_ldif"`            // forest name -> file in the folder
	Journal   map[string]string `json:"journal"`              // forest name -> file in the folder
	RTCBackup string            `json:"rtc_backup,omitempty"` // file in the folder, when rows are deleted
}

// ApplyOptions are Apply's inputs besides the plan.
type ApplyOptions struct {
	// UndoDir receives the plan, the undo files and the journals before any write. It must not
	// exist or be empty, or hold the undo folder of an earlier run of the same plan: that run is
	// then resumed (done changes are skipped, the rest re-sent conditionally).
	UndoDir string
	// Modifiers write to the live forests, by forest name. Each must also report its base DN
	// (ldapsync.Source does): every DN written must be under it.
	Modifiers map[string]ldapsync.Modifier
	// Rows deletes AbUserEntry rows; nil leaves the database alone.
	Rows     EntryDeleter
	DryRun   bool // check every change against the policy, write nothing
	Progress ldapsync.Progress
	// Concurrency, NoTransactions and BatchSize are the change engine's (change.Options).
	Concurrency    int
	NoTransactions bool
	BatchSize      int
}

// ItemFailure is one change that could not be made.
type ItemFailure struct {
	Forest  string `json:"forest"`
	DN      string `json:"dn"`
	GUID    GUID   `json:"guid"`
	Outcome string `json:"outcome"` // refused (changed since the plan), failed, in flight
	Error   string `json:"error"`
}

// Result is what Apply did.
type Result struct {
	UndoDir      string        `json:"undo_dir,omitempty"`
	Resumed      bool          `json:"resumed"`
	Modified     int           `json:"modified"`      // changes written by this run
	AlreadyDone  int           `json:"already_done"`  // done by an earlier run, or already as planned
	NotAttempted int           `json:"not_attempted"` // the run was cut short before them
	Transactions int           `json:"transactions"`
	Failed       []ItemFailure `json:"failed,omitempty"`
	RowsDeleted  []GUID        `json:"rows_deleted,omitempty"`
	RowsError    string        `json:"rows_error,omitempty"` // the row deletion failed (none deleted); the modifies still ran
	RowsNote     string        `json:"rows_note,omitempty"`
}

// Partial reports whether some change or the row deletion failed, or the run was cut short.
func (r *Result) Partial() bool { return len(r.Failed) > 0 || r.RowsError != "" || r.NotAttempted > 0 }

// ModifyRequest returns the conditional modify of c: one delete of the exact old values per
// attribute, so that the whole request fails when any of them changed.
func (c *Change) ModifyRequest() *ldap.ModifyRequest { return c.item().Request() }

// item is c as a change-engine item: the values to delete, nothing to add.
func (c *Change) item() change.Item {
	it := change.Item{DN: c.DN}
	for _, av := range c.Remove {
		old := make([][]byte, len(av.Values))
		for i, v := range av.Values {
			old[i] = []byte(v)
		}
		it.Changes = append(it.Changes, change.AttrChange{Attr: av.Attr, Old: old})
	}
	return it
}

// SIPAttr reports whether a fix may write attribute a: proxyAddresses (its sip: values) and
// every msRTCSIP-* attribute except msRTCSIP-OriginatorSid.
func SIPAttr(a string) bool {
	l := strings.ToLower(a)
	return l == strings.ToLower(ldapsync.AttrProxyAddresses) ||
		strings.HasPrefix(l, "msrtcsip-") && !strings.EqualFold(a, ldapsync.AttrOriginatorSid)
}

// policy returns what the fix may touch in one forest: only the SIP attributes its changes
// plan, under base. A planned removal outside SIP attributes or sip: addresses is refused.
func policy(forest, base string, todo []*Change) (change.Policy, error) {
	p := change.Policy{Name: "dupes fix", Base: base}
	for _, c := range todo {
		for _, av := range c.Remove {
			if !SIPAttr(av.Attr) {
				return p, &InputError{Msg: fmt.Sprintf("forest %s: %s: attribute %s is not a SIP attribute a fix may change", forest, c.DN, av.Attr)}
			}
			if strings.EqualFold(av.Attr, ldapsync.AttrProxyAddresses) {
				for _, v := range av.Values {
					if !strings.HasPrefix(strings.ToLower(v), "sip:") {
						return p, &InputError{Msg: fmt.Sprintf("forest %s: %s: proxyAddresses value %q is not a sip: address", forest, c.DN, v)}
					}
				}
			}
			if !p.Allows(av.Attr) {
				p.Attrs = append(p.Attrs, av.Attr)
			}
		}
	}
	return p, nil
}

// baseOf returns the base DN a modifier reports.
func baseOf(m ldapsync.Modifier) string {
	if b, ok := m.(interface{ BaseDN() string }); ok {
		return b.BaseDN()
	}
	return ""
}

// forestWork is one forest's share of a fix.
type forestWork struct {
	forest string
	mod    ldapsync.Modifier
	todo   []*Change
	op     change.Operation
}

// Apply makes the plan's changes through the change engine, one run per forest. Before any
// write it writes the undo folder (plan and manifest, synced) and locks it; when rows are to go,
// it hands their GUIDs to Rows, which writes its backup into the folder and deletes them all or
// none; then each forest's changes run (undo LDIF and journal first, concurrently or in LDAP
// transactions, each conditional). A row deleted for an object whose modify then fails comes
// back with User Replicator's next pass, as the object still carries the address; the result
// says which. Run again on the same folder (with the plan it holds, see LoadPlan) it resumes.
// With DryRun it checks every change against the policy and writes nothing.
func Apply(ctx context.Context, plan *Plan, opts ApplyOptions) (*Result, error) {
	res := &Result{}
	byForest := map[string]*forestWork{}
	var order []string
	var rows []GUID
	for i := range plan.Changes {
		c := &plan.Changes[i]
		if c.Skip != "" {
			continue
		}
		mod := modifierFor(opts.Modifiers, c.Forest)
		if mod == nil {
			return nil, &InputError{Msg: fmt.Sprintf("forest %s: no writable connection for %s", c.Forest, c.DN)}
		}
		w := byForest[c.Forest]
		if w == nil {
			w = &forestWork{forest: c.Forest, mod: mod}
			byForest[c.Forest] = w
			order = append(order, c.Forest)
		}
		w.todo = append(w.todo, c)
		if c.DeleteRow && opts.Rows != nil {
			rows = append(rows, c.GUID)
		}
	}
	id, err := change.ID("dupes-plan", plan)
	if err != nil {
		return nil, err
	}
	for _, w := range byForest {
		pol, err := policy(w.forest, baseOf(w.mod), w.todo)
		if err != nil {
			return nil, err
		}
		w.op = change.Operation{ID: id + ":" + w.forest, Policy: pol,
			UndoComment: "abkit dupes undo for forest " + w.forest + ": adds back the values the fix deleted."}
		for _, c := range w.todo {
			w.op.Items = append(w.op.Items, c.item())
		}
		if err := pol.Check(w.op.Items); err != nil {
			return nil, err
		}
	}
	if opts.DryRun || len(order) == 0 {
		return res, nil
	}
	if opts.UndoDir == "" {
		return nil, &InputError{Msg: "an undo folder is required before any write"}
	}
	if err := os.MkdirAll(opts.UndoDir, 0o700); err != nil {
		return nil, fmt.Errorf("dupes: undo folder: %w", err)
	}
	lock, err := change.AcquireLock(filepath.Join(opts.UndoDir, LockFile))
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	m, resumed, err := prepareUndoDir(opts.UndoDir, plan, order, len(rows) > 0)
	if err != nil {
		return nil, err
	}
	res.UndoDir, res.Resumed = opts.UndoDir, resumed
	deleted := map[GUID]bool{}
	backup := filepath.Join(opts.UndoDir, RTCBackupFile)
	_, statErr := os.Stat(backup)
	switch {
	case len(rows) == 0:
	case resumed && statErr == nil:
		res.RowsNote = "the rows were handled by the first run (its backup is " + backup + ")"
	default:
		if err := opts.Rows.DeleteEntries(ctx, rows, backup); err != nil {
			res.RowsError = err.Error()
		} else {
			res.RowsDeleted = rows
			for _, g := range rows {
				deleted[g] = true
			}
		}
	}
	var firstErr error
	for _, forest := range order {
		w := byForest[forest]
		r, err := change.Run(ctx, w.op, w.mod, change.Options{
			Concurrency: opts.Concurrency, NoTransactions: opts.NoTransactions, BatchSize: opts.BatchSize, Progress: opts.Progress,
			JournalPath: filepath.Join(opts.UndoDir, m.Journal[forest]), UndoPath: filepath.Join(opts.UndoDir, m.UndoLDIF[forest])})
		if r == nil {
			return res, err
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		res.Modified += r.Applied
		res.AlreadyDone += r.AlreadyDone
		res.NotAttempted += r.NotAttempted
		res.Transactions += r.Transactions
		guid := map[string]GUID{}
		for _, c := range w.todo {
			guid[strings.ToLower(c.DN)] = c.GUID
		}
		for _, fl := range failures(forest, r, guid) {
			if deleted[fl.GUID] {
				fl.Error += " (its AbUserEntry row was deleted; User Replicator will write it again)"
			}
			res.Failed = append(res.Failed, fl)
		}
	}
	return res, firstErr
}

// failures lists the refused, failed and in-flight items of one forest's run, with the GUIDs
// guid gives their DNs (lower case).
func failures(forest string, r *change.Result, guid map[string]GUID) []ItemFailure {
	var out []ItemFailure
	for k, list := range [][]change.Failure{r.Refused, r.Failed, r.InFlight} {
		outcome := [...]string{"refused", "failed", "in flight"}[k]
		for _, fl := range list {
			out = append(out, ItemFailure{Forest: forest, DN: fl.DN, GUID: guid[strings.ToLower(fl.DN)], Outcome: outcome, Error: fl.Error})
		}
	}
	return out
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

// prepareUndoDir writes plan.json and manifest.json (each synced) into the empty folder dir, or,
// when dir holds the folder of an earlier run of the same plan, reads its manifest back.
func prepareUndoDir(dir string, plan *Plan, forests []string, rows bool) (*Manifest, bool, error) {
	planJSON, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return nil, false, err
	}
	if old, err := ReadManifest(dir); err == nil {
		have, err := os.ReadFile(filepath.Join(dir, PlanFile))
		if err != nil || !bytes.Equal(have, planJSON) {
			return nil, false, &InputError{Msg: fmt.Sprintf("undo folder %s belongs to another fix: choose a new one", dir)}
		}
		return old, true, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, fmt.Errorf("dupes: undo folder: %w", err)
	}
	for _, e := range ents {
		if e.Name() != LockFile {
			return nil, false, &InputError{Msg: fmt.Sprintf("undo folder %s is not empty: choose a new one", dir)}
		}
	}
	m := Manifest{Created: plan.Created, Plan: PlanFile, UndoLDIF: map[string]string{}, Journal: map[string]string{}}
	for _, forest := range forests {
		name := unsafeName.ReplaceAllString(forest, "_")
		m.UndoLDIF[forest] = "undo-" + name + ".ldif"
		m.Journal[forest] = "journal-" + name + ".jsonl"
	}
	if rows {
		m.RTCBackup = RTCBackupFile
	}
	if err := writeSynced(filepath.Join(dir, PlanFile), planJSON); err != nil {
		return nil, false, err
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, false, err
	}
	return &m, false, writeSynced(filepath.Join(dir, ManifestFile), mj)
}

// LoadPlan reads the plan an undo folder holds, to resume its fix with Apply.
func LoadPlan(dir string) (*Plan, error) {
	var p Plan
	return &p, readFolderJSON(dir, PlanFile, &p)
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
	Progress  ldapsync.Progress
}

// UndoResult is what Undo did.
type UndoResult struct {
	Restored       int           `json:"restored"`
	AlreadyPresent int           `json:"already_present"` // the values were there already (change never applied)
	NeverApplied   int           `json:"never_applied"`   // the fix never made these changes: nothing to undo
	NotAttempted   int           `json:"not_attempted"`   // the undo was cut short before them
	Failed         []ItemFailure `json:"failed,omitempty"`
	RowsRestored   bool          `json:"rows_restored"`
	RowsError      string        `json:"rows_error,omitempty"`
}

// ReadManifest reads an undo folder's manifest.
func ReadManifest(dir string) (*Manifest, error) {
	var m Manifest
	return &m, readFolderJSON(dir, ManifestFile, &m)
}

// readFolderJSON decodes the JSON file name of the undo folder dir into v.
func readFolderJSON(dir, name string, v any) error {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return &InputError{Msg: fmt.Sprintf("undo folder %s: %v", dir, err)}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &InputError{Msg: fmt.Sprintf("undo folder %s: %s: %v", dir, name, err)}
	}
	return nil
}

// folderFile returns the file name the manifest gives for forest, refusing paths.
func folderFile(dir string, names map[string]string, forest, what string) (string, error) {
	name := names[forest]
	if name == "" || name != filepath.Base(name) {
		return "", &InputError{Msg: fmt.Sprintf("undo folder %s: no %s for forest %q", dir, what, forest)}
	}
	return filepath.Join(dir, name), nil
}

// undoPolicy is what a dupes undo may touch at most in a forest under base.
func undoPolicy(base string) change.Policy {
	return change.Policy{Name: "dupes undo", Base: base, Match: SIPAttr}
}

// PrepareUndo returns the change-engine operation that undoes the fix of one forest: the undo
// LDIF must be the one the fix's journal records, and only what the fix applied is undone, only
// in its own SIP attributes, under base.
func PrepareUndo(dir string, m *Manifest, forest, base string) (change.Operation, error) {
	path, err := folderFile(dir, m.UndoLDIF, forest, "undo LDIF")
	if err != nil {
		return change.Operation{}, err
	}
	journal, err := folderFile(dir, m.Journal, forest, "journal")
	if err != nil {
		return change.Operation{}, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return change.Operation{}, &InputError{Msg: err.Error()}
	}
	op, err := change.PrepareUndo(data, journal, undoPolicy(base))
	if err != nil {
		return change.Operation{}, fmt.Errorf("%s: %w", path, err)
	}
	return op, nil
}

// Undo adds back, object by object, the values a fix deleted (each add conditional: it fails if
// the attribute meanwhile got a conflicting value), then restores the AbUserEntry rows from the
// backup. It runs through the change engine with its own journal and redo file per forest in
// the folder, so a re-run resumes.
func Undo(ctx context.Context, dir string, opts UndoOptions) (*UndoResult, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	res := &UndoResult{}
	ops := map[string]change.Operation{}
	for forest := range m.UndoLDIF {
		mod := modifierFor(opts.Modifiers, forest)
		if mod == nil {
			return nil, &InputError{Msg: fmt.Sprintf("forest %s: no writable connection to undo its changes", forest)}
		}
		if ops[forest], err = PrepareUndo(dir, m, forest, baseOf(mod)); err != nil {
			return nil, err
		}
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
	var firstErr error
	for forest, op := range ops {
		name := unsafeName.ReplaceAllString(forest, "_")
		r, err := change.Run(ctx, op, modifierFor(opts.Modifiers, forest), change.Options{DryRun: opts.DryRun, Progress: opts.Progress,
			JournalPath: filepath.Join(dir, "undo-journal-"+name+".jsonl"), UndoPath: filepath.Join(dir, "redo-"+name+".ldif"),
			Locks: []string{filepath.Join(dir, LockFile)}})
		if r == nil {
			return nil, err
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		res.Restored += r.Applied
		res.AlreadyPresent += r.AlreadyDone
		res.NeverApplied += r.NeverApplied
		res.NotAttempted += r.NotAttempted - r.NeverApplied
		res.Failed = append(res.Failed, failures(forest, r, nil)...)
	}
	if opts.DryRun || firstErr != nil {
		return res, firstErr
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
