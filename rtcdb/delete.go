package rtcdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/abkit/abkit/progress"
	mssql "github.com/microsoft/go-mssqldb"
)

// FollowUp is what an administrator must do after AbUserEntry rows were deleted.
var FollowUp = []string{
	"ABServer.exe -regenUR   (on the server running the Address Book Server: User Replicator regenerates the address book data)",
	"ABServer.exe -syncNow   (then: the Address Book Server writes new address book files)",
	"Fix the AD object too (remove the sip: address from the group's proxyAddresses, or clear its msRTCSIP attributes): otherwise User Replicator writes the row again on its next pass.",
}

// DeleteOptions control Delete.
type DeleteOptions struct {
	// BackupPath is the backup file to create (it must not exist); required unless DryRun.
	BackupPath string
	// DryRun reads the rows and reports what would be deleted, changing nothing.
	DryRun   bool
	Progress progress.Reporter // nil = progress.Nop
}

// DeleteResult says what Delete did.
type DeleteResult struct {
	Server     string   `json:"server"`
	Database   string   `json:"database"`
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
	qEntryLocked = "SELECT UserData FROM %s WITH (UPDLOCK, HOLDLOCK) WHERE UserGuid = @guid"
	qDelete      = "DELETE FROM %s WHERE UserGuid = @guid"
	qInsert      = "INSERT INTO %s (UserGuid, UserData) VALUES (@guid, @data)"
)

// Delete removes the AbUserEntry rows of guids, all or none. Unless opts.DryRun it first reads
// every row inside the transaction (locked until the end), writes them to a new backup file and
// syncs it to disk, then deletes each row with its own parameterized DELETE that must affect
// exactly one row. Any failure, and cancellation of ctx, rolls the whole transaction back and
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
	db, err := d.writableDB(ctx)
	if err != nil {
		return nil, err
	}
	res := &DeleteResult{Server: d.server, Database: db, DryRun: opts.DryRun}
	if opts.DryRun {
		res.Status = "dry-run"
		for _, g := range guids {
			e, err := d.entry(ctx, d.db, db, g)
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

	tx, end, err := d.begin(ctx, "delete", db, 2*len(guids))
	if err != nil {
		return nil, err
	}
	defer end()

	backup := &Backup{Format: BackupFormat, Server: d.server, Database: db, Table: "dbo." + TableEntry,
		Created: time.Now().UTC(), Status: StatusPending}
	for _, g := range guids {
		e, err := d.entryLocked(ctx, tx, db, g)
		if err != nil {
			return nil, err
		}
		res.Entries = append(res.Entries, e)
		if !e.Present {
			res.Missing = append(res.Missing, g)
			continue
		}
		backup.Entries = append(backup.Entries, BackupEntry{GUID: g, UserData: e.data, Size: e.Size,
			SHA256: e.SHA256, Status: StatusPending})
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

	rep := progress.OrNop(opts.Progress)
	rep.Start(int64(len(guids)), "rows")
	defer rep.Done()
	for _, g := range guids {
		n, err := d.exec(ctx, tx, fmt.Sprintf(qDelete, table(db, TableEntry)), sql.Named("guid", uid(g)))
		if err != nil {
			return fail(classify(err, "delete "+g.String(), d.server, db, "dbo."+TableEntry))
		}
		if n != 1 {
			return fail(&Error{Op: "delete " + g.String(), Server: d.server, Database: db, Object: "dbo." + TableEntry,
				Kind: KindSQL, Err: fmt.Errorf("affected %d rows, want exactly 1: transaction rolled back", n)})
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
	res.FollowUp = FollowUp
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

func (d *DB) entryLocked(ctx context.Context, tx *sql.Tx, db string, g GUID) (*Entry, error) {
	cctx, cancel := d.call(ctx)
	defer cancel()
	var data []byte
	err := tx.QueryRowContext(cctx, fmt.Sprintf(qEntryLocked, table(db, TableEntry)), sql.Named("guid", uid(g))).Scan(&data)
	if err == sql.ErrNoRows {
		return &Entry{GUID: g}, nil
	}
	if err != nil {
		return nil, classify(err, "read entry "+g.String(), d.server, db, "dbo."+TableEntry)
	}
	return newEntry(g, data), nil
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
	BackupPath string `json:"backup"`
	DryRun     bool   `json:"dry_run"`
	Restored   []GUID `json:"restored"` // inserted (dry run: would be inserted)
	Existing   []GUID `json:"existing"` // rows already present, left alone
	Committed  bool   `json:"committed"`
}

// Restore re-inserts the rows of the backup file at path that are missing from AbUserEntry, in
// one transaction; rows that exist are reported and left alone. It refuses to run when discovery
// failed or found unexpected column types, and when the backup is of another database.
func (d *DB) Restore(ctx context.Context, path string, dryRun bool) (*RestoreResult, error) {
	b, err := ReadBackup(path)
	if err != nil {
		return nil, err
	}
	db, err := d.writableDB(ctx)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(b.Database, db) {
		return nil, &Error{Op: "restore " + path, Server: d.server, Database: db, Kind: KindBadInput,
			Err: fmt.Errorf("the backup is of database %s, but this server keeps AbUserEntry in %s", b.Database, db)}
	}
	res := &RestoreResult{Server: d.server, Database: db, BackupPath: path, DryRun: dryRun}
	if dryRun {
		for _, be := range b.Entries {
			e, err := d.entry(ctx, d.db, db, be.GUID)
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

	tx, end, err := d.begin(ctx, "restore", db, 2*len(b.Entries))
	if err != nil {
		return nil, err
	}
	defer end()
	var inserted []GUID
	for _, be := range b.Entries {
		e, err := d.entryLocked(ctx, tx, db, be.GUID)
		if err != nil {
			return nil, err
		}
		if e.Present {
			res.Existing = append(res.Existing, be.GUID)
			continue
		}
		n, err := d.exec(ctx, tx, fmt.Sprintf(qInsert, table(db, TableEntry)),
			sql.Named("guid", uid(be.GUID)), sql.Named("data", be.UserData))
		if err != nil {
			return nil, classify(err, "restore "+be.GUID.String(), d.server, db, "dbo."+TableEntry)
		}
		if n != 1 {
			return nil, &Error{Op: "restore " + be.GUID.String(), Server: d.server, Database: db, Object: "dbo." + TableEntry,
				Kind: KindSQL, Err: fmt.Errorf("affected %d rows, want 1: transaction rolled back", n)}
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
