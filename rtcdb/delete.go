package rtcdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
)

// FollowUpOCS is what an administrator must do after AbUserEntry rows were deleted on OCS 2007 R2.
var FollowUpOCS = []string{
	"ABServer.exe -regenUR   (on the server running the Address Book Server: User Replicator regenerates the address book data)",
	"ABServer.exe -syncNow   (then: the Address Book Server writes new address book files)",
	fixAD,
}

// FollowUpLync is what an administrator must do after AbUserEntry rows were deleted on Lync
// Server 2010 and later or Skype for Business Server.
var FollowUpLync = []string{
	"Update-CsAddressBook   (Lync Server Management Shell: the address book is regenerated from the user store and new files are written)",
	fixAD,
}

const fixAD = "Fix the AD object too (remove the sip: address from the group's proxyAddresses, or clear its msRTCSIP attributes): otherwise User Replicator writes the row again on its next pass."

// FollowUpFor returns the follow-up for a layout: FollowUpLync for rtcab, FollowUpOCS otherwise.
func FollowUpFor(l Layout) []string {
	if l == LayoutRTCAB {
		return FollowUpLync
	}
	return FollowUpOCS
}

// DeleteOptions control Delete.
type DeleteOptions struct {
	// BackupPath is the backup file to create (it must not exist); required unless DryRun.
	BackupPath string
	// DryRun reads the rows and reports what would be deleted, changing nothing.
	DryRun   bool
	Progress Progress // nil = nopProgress{}
}

// DeleteResult says what Delete did.
type DeleteResult struct {
	Server     string   `json:"server"`
	Database   string   `json:"database"`
	Layout     Layout   `json:"layout"`
	DryRun     bool     `json:"dry_run"`
	Entries    []*Entry `json:"entries"` // the rows as read before deleting (Present false: no row)
	Missing    []GUID   `json:"missing"` // GUIDs without a row (a dry run reports them; a real run refuses)
	Deleted    []GUID   `json:"deleted"` // rows removed by a committed transaction; empty otherwise
	Committed  bool     `json:"committed"`
	Status     string   `json:"status"` // the backup status, or "dry-run"
	Reason     string   `json:"reason,omitempty"`
	BackupPath string   `json:"backup,omitempty"`
	FollowUp   []string `json:"follow_up,omitempty"` // set when rows were deleted
}

const (
	qEntryLocked   = "SELECT UserData FROM %s WITH (UPDLOCK, HOLDLOCK) WHERE UserGuid = @guid"
	qEntryLockedAB = "SELECT UserId, UserData FROM %s WITH (UPDLOCK, HOLDLOCK) WHERE UserGuid = @guid"
	qDnLocked      = "SELECT AdDn FROM %s WITH (UPDLOCK, HOLDLOCK) WHERE UserId = @uid ORDER BY AdDn"
	qDelete        = "DELETE FROM %s WHERE UserGuid = @guid"
	qDeleteDn      = "DELETE FROM %s WHERE UserId = @uid"
	qInsert        = "INSERT INTO %s (UserGuid, UserData) VALUES (@guid, @data)"
	qInsertAB      = "INSERT INTO %s (UserId, UserGuid, UserData) VALUES (@uid, @guid, @data)"
	// SET IDENTITY_INSERT lasts only as long as the batch that sets it when sent through
	// sp_executesql, so it travels in the same statement as the INSERT.
	qInsertABIdentity = "SET IDENTITY_INSERT %[1]s ON; INSERT INTO %[1]s (UserId, UserGuid, UserData) VALUES (@uid, @guid, @data); SET IDENTITY_INSERT %[1]s OFF"
	qInsertDn         = "INSERT INTO %s (UserId, AdDn) VALUES (@uid, @dn)"
)

// Delete removes the AbUserEntry rows of guids, all or none; in the rtcab layout each row's
// AbDnMapping rows go with it, in the same transaction. Unless opts.DryRun it first reads
// every row inside the transaction (locked until the end), writes them to a new backup file and
// syncs it to disk, then deletes each row with its own parameterized DELETE that must affect
// exactly one row (and its AbDnMapping rows with one that must affect exactly as many rows as
// were backed up). Any failure, and cancellation of ctx, rolls the whole transaction back and
// marks the backup file rolled-back; the result then has Committed false and the error says why.
//
// Delete refuses to run when discovery failed or found unexpected column types, and when a GUID
// has no row (KindNotFound; nothing is written).
func (d *DB) Delete(ctx context.Context, guids []GUID, opts DeleteOptions) (*DeleteResult, error) {
	guids = dedupe(guids)
	if len(guids) == 0 {
		return nil, badInput("delete", "no GUIDs given")
	}
	if !opts.DryRun && opts.BackupPath == "" {
		return nil, badInput("delete", "a backup file name is required")
	}
	disc, err := d.writableDB(ctx)
	if err != nil {
		return nil, err
	}
	db := disc.Database
	res := &DeleteResult{Server: d.server, Database: db, Layout: disc.Layout, DryRun: opts.DryRun}
	if opts.DryRun {
		res.Status = "dry-run"
		for _, g := range guids {
			e, err := d.Entry(ctx, g)
			if err != nil {
				return nil, err
			}
			res.Entries = append(res.Entries, e)
			if !e.Present {
				res.Missing = append(res.Missing, g)
			}
		}
		return res, nil
	}

	tx, end, err := d.begin(ctx, "delete", db, 4*len(guids))
	if err != nil {
		return nil, err
	}
	defer end()

	backup := newBackup(d.server, disc)
	for _, g := range guids {
		e, err := d.entryLocked(ctx, tx, disc, g)
		if err != nil {
			return nil, err
		}
		res.Entries = append(res.Entries, e)
		if !e.Present {
			res.Missing = append(res.Missing, g)
			continue
		}
		backup.Entries = append(backup.Entries, BackupEntry{GUID: g, UserData: e.data, Size: e.Size,
			SHA256: e.SHA256, UserID: e.UserID, ADDN: e.ADDN, Status: StatusPending})
	}
	if len(res.Missing) > 0 {
		return res, &Error{Op: "delete", Server: d.server, Database: db, Object: "dbo." + TableEntry, Kind: KindNotFound,
			Err:  fmt.Errorf("no row for %s", guidList(res.Missing)),
			Hint: "nothing was changed; remove these GUIDs from the list (`abkit rtc entry` shows what is there)"}
	}
	if err := backup.writeNew(opts.BackupPath); err != nil {
		return res, &Error{Op: "delete: write backup", Server: d.server, Database: db, Kind: KindBadInput,
			Err: err, Hint: "nothing was changed"}
	}
	res.BackupPath = opts.BackupPath

	fail := func(cause error) (*DeleteResult, error) {
		rbErr := tx.Rollback()
		reason := cause.Error()
		switch {
		case errors.Is(cause, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
			reason = "cancelled: " + reason
		case rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone):
			reason += "; the rollback could not be sent (" + rbErr.Error() +
				"), but SQL Server rolls back a transaction whose connection ends before COMMIT"
		}
		backup.setStatus(StatusRolledBack, reason)
		res.Status, res.Reason = StatusRolledBack, reason
		if werr := backup.update(opts.BackupPath); werr != nil {
			res.Reason += "; updating the backup file failed: " + werr.Error()
		}
		return res, cause
	}

	rep := progressOrNop(opts.Progress)
	rep.Start(int64(len(guids)), "rows")
	defer rep.Done()
	for _, e := range res.Entries {
		if err := d.deleteRow(ctx, tx, db, e); err != nil {
			return fail(err)
		}
		rep.Add(1)
	}
	if err := ctx.Err(); err != nil { // cancelled before COMMIT: roll back
		return fail(classify(err, "delete", d.server, db, "dbo."+TableEntry))
	}
	if err := tx.Commit(); err != nil {
		cerr := classify(err, "delete: commit", d.server, db, "dbo."+TableEntry)
		var se mssql.Error
		if !errors.As(err, &se) {
			// Not the server's answer: the COMMIT may or may not have taken effect.
			reason := "COMMIT did not complete (" + err.Error() + "): whether the rows are gone is unknown; check with `abkit rtc entry`"
			backup.setStatus(StatusUnknown, reason)
			res.Status, res.Reason = StatusUnknown, reason
			if werr := backup.update(opts.BackupPath); werr != nil {
				res.Reason += "; updating the backup file failed: " + werr.Error()
			}
			return res, cerr
		}
		return fail(cerr)
	}
	res.Committed, res.Status = true, StatusDeleted
	res.Deleted = append(res.Deleted, guids...)
	res.FollowUp = FollowUpFor(disc.Layout)
	backup.setStatus(StatusDeleted, "")
	if werr := backup.update(opts.BackupPath); werr != nil {
		res.Reason = "the rows were deleted, but updating the backup file's status failed: " + werr.Error()
	}
	return res, nil
}

// begin starts a transaction. Its own context is not cancelled with ctx, only bounded in time
// (calls statements plus begin and commit): statements run under ctx, so Ctrl-C interrupts
// them, while ROLLBACK and COMMIT are always sent and answered, never cut off half-way. end rolls
// the transaction back unless it was committed, and releases the context.
func (d *DB) begin(ctx context.Context, op, db string, calls int) (*sql.Tx, func(), error) {
	txCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.timeout*time.Duration(calls+2))
	tx, err := d.db.BeginTx(txCtx, nil)
	if err != nil {
		cancel()
		return nil, nil, classify(err, op+": begin transaction", d.server, db, "")
	}
	return tx, func() {
		_ = tx.Rollback() // sql.ErrTxDone after a commit or an earlier rollback
		cancel()
	}, nil
}

// entryLocked reads the row of g inside tx with UPDLOCK, HOLDLOCK; in the rtcab layout also its
// AbDnMapping rows.
func (d *DB) entryLocked(ctx context.Context, tx *sql.Tx, disc *Discovery, g GUID) (*Entry, error) {
	db := disc.Database
	if disc.Layout != LayoutRTCAB {
		return d.entry(ctx, tx, qEntryLocked, db, g)
	}
	op := "read entry " + g.String()
	cctx, cancel := d.call(ctx)
	defer cancel()
	var id int64
	var data []byte
	err := tx.QueryRowContext(cctx, fmt.Sprintf(qEntryLockedAB, table(db, TableEntry)), sql.Named("guid", uid(g))).Scan(&id, &data)
	if err == sql.ErrNoRows {
		return &Entry{GUID: g}, nil
	}
	if err != nil {
		return nil, classify(err, op, d.server, db, "dbo."+TableEntry)
	}
	e := newEntry(g, data)
	e.UserID = &id
	rows, err := tx.QueryContext(cctx, fmt.Sprintf(qDnLocked, table(db, TableDnMapping)), sql.Named("uid", id))
	if err != nil {
		return nil, classify(err, op, d.server, db, "dbo."+TableDnMapping)
	}
	defer rows.Close()
	for rows.Next() {
		var dn string
		if err := rows.Scan(&dn); err != nil {
			return nil, classify(err, op, d.server, db, "dbo."+TableDnMapping)
		}
		e.ADDN = append(e.ADDN, dn)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err, op, d.server, db, "dbo."+TableDnMapping)
	}
	return e, nil
}

// deleteRow deletes the AbDnMapping rows of e (rtcab layout), which must be exactly the ones
// read, then e's AbUserEntry row, which must be exactly one.
func (d *DB) deleteRow(ctx context.Context, tx *sql.Tx, db string, e *Entry) error {
	op := "delete " + e.GUID.String()
	if e.UserID != nil {
		n, err := d.exec(ctx, tx, fmt.Sprintf(qDeleteDn, table(db, TableDnMapping)), sql.Named("uid", *e.UserID))
		if err != nil {
			return classify(err, op, d.server, db, "dbo."+TableDnMapping)
		}
		if n != int64(len(e.ADDN)) {
			return &Error{Op: op, Server: d.server, Database: db, Object: "dbo." + TableDnMapping, Kind: KindSQL,
				Err: fmt.Errorf("affected %d rows, want exactly %d (the rows backed up): transaction rolled back", n, len(e.ADDN))}
		}
	}
	n, err := d.exec(ctx, tx, fmt.Sprintf(qDelete, table(db, TableEntry)), sql.Named("guid", uid(e.GUID)))
	if err != nil {
		return classify(err, op, d.server, db, "dbo."+TableEntry)
	}
	if n != 1 {
		return &Error{Op: op, Server: d.server, Database: db, Object: "dbo." + TableEntry,
			Kind: KindSQL, Err: fmt.Errorf("affected %d rows, want exactly 1: transaction rolled back", n)}
	}
	return nil
}

// insertRow inserts the AbUserEntry row of be and, in the rtcab layout, its AbDnMapping rows;
// each INSERT must affect exactly one row.
func (d *DB) insertRow(ctx context.Context, tx *sql.Tx, disc *Discovery, be BackupEntry) error {
	db, op := disc.Database, "restore "+be.GUID.String()
	one := func(n int64, err error, obj string) error {
		if err != nil {
			return classify(err, op, d.server, db, obj)
		}
		if n != 1 {
			return &Error{Op: op, Server: d.server, Database: db, Object: obj, Kind: KindSQL,
				Err: fmt.Errorf("affected %d rows, want 1: transaction rolled back", n)}
		}
		return nil
	}
	entry := table(db, TableEntry)
	if disc.Layout != LayoutRTCAB {
		n, err := d.exec(ctx, tx, fmt.Sprintf(qInsert, entry), sql.Named("guid", uid(be.GUID)), sql.Named("data", be.UserData))
		return one(n, err, "dbo."+TableEntry)
	}
	q := qInsertAB
	if disc.UserIDIdentity {
		q = qInsertABIdentity
	}
	n, err := d.exec(ctx, tx, fmt.Sprintf(q, entry), sql.Named("uid", *be.UserID), sql.Named("guid", uid(be.GUID)), sql.Named("data", be.UserData))
	if err := one(n, err, "dbo."+TableEntry); err != nil {
		return err
	}
	for _, dn := range be.ADDN {
		n, err := d.exec(ctx, tx, fmt.Sprintf(qInsertDn, table(db, TableDnMapping)), sql.Named("uid", *be.UserID), sql.Named("dn", dn))
		if err := one(n, err, "dbo."+TableDnMapping); err != nil {
			return err
		}
	}
	return nil
}

func (d *DB) exec(ctx context.Context, q querier, query string, args ...any) (int64, error) {
	cctx, cancel := d.call(ctx)
	defer cancel()
	r, err := q.ExecContext(cctx, query, args...)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Server     string `json:"server"`
	Database   string `json:"database"`
	Layout     Layout `json:"layout"`
	BackupPath string `json:"backup"`
	DryRun     bool   `json:"dry_run"`
	Restored   []GUID `json:"restored"` // inserted (dry run: would be inserted)
	Existing   []GUID `json:"existing"` // rows already present, left alone
	Committed  bool   `json:"committed"`
}

// Restore re-inserts the rows of the backup file at path that are missing from AbUserEntry (in
// the rtcab layout with their UserId and AbDnMapping rows), in one transaction; rows that exist
// are reported and left alone. It refuses to run when discovery failed or found unexpected column
// types, and when the backup is of another database or layout.
func (d *DB) Restore(ctx context.Context, path string, dryRun bool) (*RestoreResult, error) {
	b, err := ReadBackup(path)
	if err != nil {
		return nil, err
	}
	disc, err := d.writableDB(ctx)
	if err != nil {
		return nil, err
	}
	db := disc.Database
	if !strings.EqualFold(b.Database, db) {
		return nil, &Error{Op: "restore " + path, Server: d.server, Database: db, Kind: KindBadInput,
			Err: fmt.Errorf("the backup is of database %s, but this server keeps AbUserEntry in %s", b.Database, db)}
	}
	if b.layout() != disc.Layout {
		return nil, &Error{Op: "restore " + path, Server: d.server, Database: db, Kind: KindBadInput,
			Err: fmt.Errorf("the backup is of the %s layout, but this server has the %s layout", b.layout(), disc.Layout)}
	}
	res := &RestoreResult{Server: d.server, Database: db, Layout: disc.Layout, BackupPath: path, DryRun: dryRun}
	if dryRun {
		for _, be := range b.Entries {
			e, err := d.Entry(ctx, be.GUID)
			if err != nil {
				return nil, err
			}
			if e.Present {
				res.Existing = append(res.Existing, be.GUID)
			} else {
				res.Restored = append(res.Restored, be.GUID)
			}
		}
		return res, nil
	}

	calls := 0
	for _, be := range b.Entries {
		calls += 3 + len(be.ADDN)
	}
	tx, end, err := d.begin(ctx, "restore", db, calls)
	if err != nil {
		return nil, err
	}
	defer end()
	var inserted []GUID
	for _, be := range b.Entries {
		e, err := d.entryLocked(ctx, tx, disc, be.GUID)
		if err != nil {
			return nil, err
		}
		if e.Present {
			res.Existing = append(res.Existing, be.GUID)
			continue
		}
		if err := d.insertRow(ctx, tx, disc, be); err != nil {
			return nil, err
		}
		inserted = append(inserted, be.GUID)
	}
	if err := ctx.Err(); err != nil { // cancelled before COMMIT: roll back
		return nil, classify(err, "restore", d.server, db, "dbo."+TableEntry)
	}
	if err := tx.Commit(); err != nil {
		return nil, classify(err, "restore: commit", d.server, db, "dbo."+TableEntry)
	}
	res.Committed, res.Restored = true, inserted
	return res, nil
}

func dedupe(guids []GUID) []GUID {
	seen := make(map[GUID]bool, len(guids))
	out := make([]GUID, 0, len(guids))
	for _, g := range guids {
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

func guidList(gs []GUID) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = g.String()
	}
	return strings.Join(s, ", ")
}
