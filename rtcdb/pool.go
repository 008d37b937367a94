package rtcdb

import (
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
)

// A Lync / Skype for Business pool keeps the address book rows in several databases: the pool's
// back end and a local copy in each Front End's <server>\RTCLOCAL instance. A Pool reads all of
// them and deletes from every copy, each with its own transaction and backup. There is no
// transaction across instances: a copy that fails is reported as failed, the others as changed
// or unchanged, and nothing is said to be done that was not.

// DefaultFrontEndInstance is the named instance of a Front End's local databases.
const DefaultFrontEndInstance = "RTCLOCAL"

// Member is one database of a pool, to be opened.
type Member struct {
	Role    string // "back end" or "front end"
	Options Options
}

// Copy is one opened (or failed) database of a pool.
type Copy struct {
	Name string `json:"name"` // the server label: host, host\instance, host:port
	Role string `json:"role"`
	DB   *DB    `json:"-"`
	Err  error  `json:"-"` // why the copy could not be opened; DB is nil then
}

// Pool is the set of databases of a pool.
type Pool struct {
	Name   string
	Copies []*Copy
}

// OpenPool opens every member. A member that cannot be opened is kept with its error (Copy.Err),
// so that reads can show it and writes report it; OpenPool itself fails only on bad input in
// some member's options, before connecting to any.
func OpenPool(ctx context.Context, name string, members []Member) (*Pool, error) {
	for _, m := range members {
		if _, _, err := m.Options.dsn(); err != nil {
			return nil, err
		}
	}
	p := &Pool{Name: name}
	for _, m := range members {
		db, err := Open(ctx, m.Options)
		c := &Copy{Role: m.Role, DB: db, Err: err}
		if db != nil {
			c.Name = db.Server()
		} else {
			_, cfg, _ := m.Options.dsn()
			c.Name = serverLabel(cfg)
		}
		p.Copies = append(p.Copies, c)
	}
	return p, nil
}

// Close closes every opened copy.
func (p *Pool) Close() error {
	var errs []error
	for _, c := range p.Copies {
		if c.DB != nil {
			errs = append(errs, c.DB.Close())
		}
	}
	return errors.Join(errs...)
}

// CopyDiscovery is the discovery of one copy, or why it failed.
type CopyDiscovery struct {
	Copy      string     `json:"copy"`
	Role      string     `json:"role"`
	Discovery *Discovery `json:"discovery"`
	Counts    *Counts    `json:"counts"`
	Error     string     `json:"error,omitempty"`
}

// Discover discovers every copy and counts its rows. The error is the first copy's failure;
// every copy is tried regardless.
func (p *Pool) Discover(ctx context.Context) ([]CopyDiscovery, error) {
	var out []CopyDiscovery
	var first error
	for _, c := range p.Copies {
		cd := CopyDiscovery{Copy: c.Name, Role: c.Role}
		err := c.Err
		if err == nil {
			cd.Discovery, err = c.DB.Discover(ctx)
		}
		if err == nil && cd.Discovery.Database != "" && cd.Discovery.Layout != LayoutUnknown {
			cd.Counts, err = c.DB.Counts(ctx)
		}
		if err != nil {
			cd.Error = err.Error()
			first = firstErr(first, err)
		}
		out = append(out, cd)
	}
	return out, first
}

func firstErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// CopyEntry is one copy's row of a GUID.
type CopyEntry struct {
	Copy  string `json:"copy"`
	Entry *Entry `json:"entry"` // nil when the copy could not be read
	Error string `json:"error,omitempty"`
}

// PoolEntry is what every copy holds for one GUID.
type PoolEntry struct {
	GUID   GUID        `json:"guid"`
	Copies []CopyEntry `json:"copies"`
	// Where lists the copies holding a row; Agree is false when the copies that could be read
	// differ in presence, UserData (SHA-256) or AD DN.
	Where []string `json:"present_in"`
	Agree bool     `json:"agree"`
}

// Entries reads the rows of guids from every copy. The error is the first copy's failure; the
// entries of the other copies are returned regardless.
func (p *Pool) Entries(ctx context.Context, guids []GUID) ([]PoolEntry, error) {
	var out []PoolEntry
	var first error
	for _, g := range guids {
		pe := PoolEntry{GUID: g, Agree: true, Where: []string{}}
		var ref *Entry
		for _, c := range p.Copies {
			ce := CopyEntry{Copy: c.Name}
			err := c.Err
			if err == nil {
				ce.Entry, err = c.DB.Entry(ctx, g)
			}
			if err != nil {
				ce.Error = err.Error()
				first = firstErr(first, err)
			} else {
				if ce.Entry.Present {
					pe.Where = append(pe.Where, c.Name)
				}
				if ref == nil {
					ref = ce.Entry
				} else if !sameEntry(ref, ce.Entry) {
					pe.Agree = false
				}
			}
			pe.Copies = append(pe.Copies, ce)
		}
		out = append(out, pe)
	}
	return out, first
}

func sameEntry(a, b *Entry) bool {
	return a.Present == b.Present && a.SHA256 == b.SHA256 && strings.Join(a.ADDN, "\n") == strings.Join(b.ADDN, "\n")
}

// PoolBackupFormat identifies the index file of a pool delete: it names one backup file per copy.
const PoolBackupFormat = "abkit-rtcdb-pool-backup/1"

// PoolBackup is the index file a pool delete writes before touching any copy.
type PoolBackup struct {
	Format  string           `json:"format"`
	Pool    string           `json:"pool"`
	Created time.Time        `json:"created"`
	Updated time.Time        `json:"updated"`
	Copies  []PoolBackupCopy `json:"copies"`
}

// PoolBackupCopy names the backup file of one copy (relative to the index file's folder).
type PoolBackupCopy struct {
	Copy   string `json:"copy"`
	Backup string `json:"backup"`
	Status string `json:"status"` // the copy's backup status, or "failed" / "not-deleted"
	Error  string `json:"error,omitempty"`
}

// Pool delete statuses of a copy besides the backup statuses.
const (
	StatusFailed = "failed"  // the copy could not be opened, checked or changed; see the error
	StatusNoRows = "no-rows" // the copy holds none of the GUIDs: nothing to delete there
	StatusDryRun = "dry-run" // a dry run: nothing was changed
)

// CopyDelete is what a pool delete did on one copy.
type CopyDelete struct {
	Copy    string        `json:"copy"`
	Role    string        `json:"role"`
	Backup  string        `json:"backup,omitempty"`
	Result  *DeleteResult `json:"result"` // nil when the copy failed before reading rows
	Status  string        `json:"status"`
	Changed bool          `json:"changed"` // rows were deleted in this copy (committed)
	Error   string        `json:"error,omitempty"`
}

// PoolDeleteResult says what a pool delete did, copy by copy.
type PoolDeleteResult struct {
	Pool     string       `json:"pool"`
	DryRun   bool         `json:"dry_run"`
	Index    string       `json:"backup_index,omitempty"`
	Copies   []CopyDelete `json:"copies"`
	Changed  []string     `json:"changed"`   // copies whose rows were deleted
	Failed   []string     `json:"failed"`    // copies that failed (see their error)
	Missing  []GUID       `json:"missing"`   // GUIDs no copy holds (the delete is refused)
	FollowUp []string     `json:"follow_up"` // set when some copy changed
}

// Delete removes the rows of guids from every copy that holds them. It first checks every copy
// (opened, writable, which GUIDs it holds); a GUID no copy holds refuses the whole delete
// (KindNotFound, nothing written). Unless dryRun it then writes the index file at indexPath
// (synced) and deletes copy by copy with Delete, each with its own backup file next to the index
// and its own transaction. A copy that fails is recorded and the others go on; the error returned
// then names every failed and every changed copy.
func (p *Pool) Delete(ctx context.Context, guids []GUID, indexPath string, dryRun bool) (*PoolDeleteResult, error) {
	guids = dedupe(guids)
	if len(guids) == 0 {
		return nil, badInput("delete", "no GUIDs given")
	}
	if !dryRun && indexPath == "" {
		return nil, badInput("delete", "a backup file name is required")
	}
	res := &PoolDeleteResult{Pool: p.Name, DryRun: dryRun, Changed: []string{}, Failed: []string{}}
	held := map[GUID]bool{}
	todo := make([][]GUID, len(p.Copies))
	var layouts []Layout
	for i, c := range p.Copies {
		cd := CopyDelete{Copy: c.Name, Role: c.Role}
		err := c.Err
		var disc *Discovery
		if err == nil {
			disc, err = c.DB.writableDB(ctx)
		}
		var present map[GUID]bool
		if err == nil {
			present, err = c.DB.EntriesPresent(ctx, guids)
		}
		if err != nil {
			cd.Status, cd.Error = StatusFailed, err.Error()
			res.Failed = append(res.Failed, c.Name)
		} else {
			layouts = append(layouts, disc.Layout)
			for _, g := range guids {
				if present[g] {
					held[g] = true
					todo[i] = append(todo[i], g)
				}
			}
			if len(todo[i]) == 0 {
				cd.Status = StatusNoRows
			}
		}
		res.Copies = append(res.Copies, cd)
	}
	for _, g := range guids {
		if !held[g] {
			res.Missing = append(res.Missing, g)
		}
	}
	if len(res.Failed) == len(p.Copies) {
		return res, res.err()
	}
	if len(res.Missing) > 0 {
		return res, &Error{Op: "delete", Server: p.Name, Object: "dbo." + TableEntry, Kind: KindNotFound,
			Err:  fmt.Errorf("no copy %sholds a row for %s", map[bool]string{true: "that could be checked "}[len(res.Failed) > 0], guidList(res.Missing)),
			Hint: "nothing was changed; remove these GUIDs from the list (`abkit rtc entry` shows what is there)"}
	}
	if dryRun {
		for i, c := range p.Copies {
			cd := &res.Copies[i]
			if cd.Status != "" {
				continue
			}
			dr, err := c.DB.Delete(ctx, todo[i], DeleteOptions{DryRun: true})
			cd.Result, cd.Status = dr, StatusDryRun
			if err != nil {
				cd.Status, cd.Error = StatusFailed, err.Error()
				res.Failed = append(res.Failed, c.Name)
			}
		}
		return res, res.err()
	}

	index := &PoolBackup{Format: PoolBackupFormat, Pool: p.Name, Created: time.Now().UTC()}
	for i, c := range p.Copies {
		index.Copies = append(index.Copies, PoolBackupCopy{Copy: c.Name, Backup: copyBackupName(indexPath, i, c.Name),
			Status: res.Copies[i].Status, Error: res.Copies[i].Error})
		if res.Copies[i].Status == "" {
			index.Copies[i].Status = StatusPending
		}
	}
	if err := fsutil.WriteNew(indexPath, 0o600, index.encode); err != nil {
		return res, &Error{Op: "delete: write backup index", Server: p.Name, Kind: KindBadInput, Err: err, Hint: "nothing was changed"}
	}
	res.Index = indexPath
	for i, c := range p.Copies {
		cd := &res.Copies[i]
		if cd.Status != "" {
			continue
		}
		path := filepath.Join(filepath.Dir(indexPath), index.Copies[i].Backup)
		dr, err := c.DB.Delete(ctx, todo[i], DeleteOptions{BackupPath: path})
		cd.Result = dr
		if dr != nil && dr.BackupPath != "" {
			cd.Backup = path
		}
		switch {
		case err != nil:
			cd.Status, cd.Error = StatusFailed, err.Error()
			if dr != nil && dr.Status == StatusUnknown {
				cd.Status = StatusUnknown
			}
			res.Failed = append(res.Failed, c.Name)
		default:
			cd.Status, cd.Changed = dr.Status, dr.Committed
			if dr.Committed {
				res.Changed = append(res.Changed, c.Name)
			}
		}
		index.Copies[i].Status, index.Copies[i].Error = cd.Status, cd.Error
	}
	if len(res.Changed) > 0 {
		res.FollowUp = FollowUpFor(commonLayout(layouts))
	}
	index.Updated = time.Now().UTC()
	if err := fsutil.Replace(indexPath, index.encode); err != nil {
		return res, &Error{Op: "delete: update backup index", Server: p.Name, Kind: KindSQL, Err: err,
			Hint: "the per-copy backup files say what was done: " + strings.Join(res.Changed, ", ") + " changed"}
	}
	return res, res.err()
}

// err summarizes the failed copies, naming the changed ones too.
func (r *PoolDeleteResult) err() error {
	if len(r.Failed) == 0 {
		return nil
	}
	var why []string
	for _, c := range r.Copies {
		if c.Status == StatusFailed || c.Status == StatusUnknown {
			why = append(why, c.Copy+": "+c.Error)
		}
	}
	changed, hint := "no copy was changed", "fix the cause and run the command again"
	if len(r.Changed) > 0 {
		changed = "changed: " + strings.Join(r.Changed, ", ")
		hint = "the copies disagree now: fix the cause and run the delete again for the failed copies (`abkit rtc entry` shows where rows remain)"
	}
	return &Error{Op: "delete", Server: r.Pool, Object: "dbo." + TableEntry, Kind: KindSQL,
		Err:  fmt.Errorf("%d of %d copies failed (%s); %s", len(r.Failed), len(r.Copies), strings.Join(why, "; "), changed),
		Hint: hint}
}

// commonLayout is LayoutRTC when every copy has it, LayoutRTCAB otherwise (a pool of Lync
// instances, or a mix, is served by the Lync follow-up).
func commonLayout(ls []Layout) Layout {
	for _, l := range ls {
		if l != LayoutRTC {
			return LayoutRTCAB
		}
	}
	return LayoutRTC
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// copyBackupName is the backup file name of copy i next to the index file: <index stem>.<n>-<copy>.json.
func copyBackupName(indexPath string, i int, name string) string {
	base := filepath.Base(indexPath)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	return fmt.Sprintf("%s.%d-%s.json", stem, i+1, strings.Trim(unsafeName.ReplaceAllString(name, "_"), "_"))
}

func (b *PoolBackup) encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(b)
}

// IsPoolBackup reports whether the file at path is a pool backup index (by its format field).
func IsPoolBackup(path string) bool {
	var head struct {
		Format string `json:"format"`
	}
	return readJSONFile("", path, "", &head) == nil && head.Format == PoolBackupFormat
}

// ReadPoolBackup reads and checks a pool backup index: format, and copy backup names that stay
// in the index's folder.
func ReadPoolBackup(path string) (*PoolBackup, error) {
	op := "read backup index " + path
	var b PoolBackup
	if err := readJSONFile(op, path, "a backup index", &b); err != nil {
		return nil, err
	}
	if b.Format != PoolBackupFormat {
		return nil, badInput(op, "format %q, want %q", b.Format, PoolBackupFormat)
	}
	for i, c := range b.Copies {
		if c.Backup == "" || c.Backup != filepath.Base(c.Backup) || c.Backup == "." || c.Backup == ".." {
			return nil, badInput(op, "copy %d (%s): backup %q is not a file name in the index's folder", i, c.Copy, c.Backup)
		}
	}
	return &b, nil
}

// CopyRestore is what a pool restore did on one copy.
type CopyRestore struct {
	Copy   string         `json:"copy"`
	Backup string         `json:"backup"`
	Result *RestoreResult `json:"result"`
	Error  string         `json:"error,omitempty"`
}

// PoolRestoreResult says what a pool restore did, copy by copy.
type PoolRestoreResult struct {
	Pool     string        `json:"pool"`
	DryRun   bool          `json:"dry_run"`
	Copies   []CopyRestore `json:"copies"`
	Restored []string      `json:"restored"` // copies where rows were inserted
	Failed   []string      `json:"failed"`
}

// Restore puts back the rows of a pool delete: for each copy of the index whose backup file
// exists, Restore on the copy of the same name. A copy of the index this pool does not have, or
// that fails, is recorded and the others go on; the error then names them.
func (p *Pool) Restore(ctx context.Context, indexPath string, dryRun bool) (*PoolRestoreResult, error) {
	idx, err := ReadPoolBackup(indexPath)
	if err != nil {
		return nil, err
	}
	res := &PoolRestoreResult{Pool: p.Name, DryRun: dryRun, Restored: []string{}, Failed: []string{}}
	for _, ic := range idx.Copies {
		path := filepath.Join(filepath.Dir(indexPath), ic.Backup)
		if _, err := os.Stat(path); err != nil {
			continue // no backup: nothing was deleted there
		}
		cr := CopyRestore{Copy: ic.Copy, Backup: path}
		var c *Copy
		for _, pc := range p.Copies {
			if strings.EqualFold(pc.Name, ic.Copy) {
				c = pc
			}
		}
		switch {
		case c == nil:
			err = fmt.Errorf("the configuration has no copy %s", ic.Copy)
		case c.Err != nil:
			err = c.Err
		default:
			cr.Result, err = c.DB.Restore(ctx, path, dryRun)
		}
		if err != nil {
			cr.Error = err.Error()
			res.Failed = append(res.Failed, ic.Copy)
		} else if len(cr.Result.Restored) > 0 {
			res.Restored = append(res.Restored, ic.Copy)
		}
		res.Copies = append(res.Copies, cr)
	}
	if len(res.Failed) > 0 {
		return res, &Error{Op: "restore " + indexPath, Server: p.Name, Kind: KindSQL,
			Err: fmt.Errorf("%d copies failed (%s); restored: %s", len(res.Failed), strings.Join(res.Failed, ", "), orNone(res.Restored))}
	}
	return res, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
