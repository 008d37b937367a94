package cli

import (
	"context"
	"fmt"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/rtcdb"
)

// dupesOpenForest opens one configured forest: a snapshot, streamed (dupes reads a snapshot
// once, or twice for a plan, so holding it in memory would only cost memory), or a live
// connection (which also implements ldapsync.Modifier).
func (f *Factory) dupesOpenForest(ctx context.Context, fc *config.Forest) (ldapsync.Source, error) {
	if !fc.Live() {
		s, err := f.openStreamSnapshot(fc)
		if err != nil {
			return nil, badInput(err)
		}
		return s, nil
	}
	// Dial's errors keep their own exit status: bad input (BadInput) or a runtime failure.
	return f.openConfiguredForest(ctx, fc, false, nil)
}

// dupesRows adapts rtcdb to the dupes interfaces for AbUserEntry rows: one database (db), or
// every copy of a pool (pool). Its methods take the value, so that dupesRows{db: db} and
// &dupesRows{...} both serve.
type dupesRows struct {
	db   *rtcdb.DB
	pool *rtcdb.Pool
	last *poolDeletes // set with pool
}

// poolDeletes keeps the result of the last pool delete, for the follow-up text.
type poolDeletes struct{ res *rtcdb.PoolDeleteResult }

// Close closes the database or the pool.
func (r dupesRows) Close() error {
	if r.pool != nil {
		return r.pool.Close()
	}
	return r.db.Close()
}

func toRTC(guids []dupes.GUID) []rtcdb.GUID {
	out := make([]rtcdb.GUID, len(guids))
	for i, g := range guids {
		out[i] = rtcdb.GUID(g)
	}
	return out
}

// EntriesPresent reports which GUIDs have a row (in a pool: in any copy that could be opened;
// those that could not were reported when the pool was opened, and fail the call when none
// could be).
func (r dupesRows) EntriesPresent(ctx context.Context, guids []dupes.GUID) (map[dupes.GUID]bool, error) {
	dbs := []*rtcdb.DB{r.db}
	if r.pool != nil {
		dbs = dbs[:0]
		for _, c := range r.pool.Copies {
			if c.DB != nil {
				dbs = append(dbs, c.DB)
			}
		}
		if len(dbs) == 0 {
			return nil, r.pool.Copies[0].Err
		}
	}
	out := make(map[dupes.GUID]bool, len(guids))
	for _, db := range dbs {
		m, err := db.EntriesPresent(ctx, toRTC(guids))
		if err != nil {
			return nil, err
		}
		for g, ok := range m {
			out[dupes.GUID(g)] = out[dupes.GUID(g)] || ok
		}
	}
	return out, nil
}

// DeleteEntries deletes the rows in one transaction after writing the backup (rtcdb.Delete); in
// a pool, from every copy, each with its own backup named in an index at backupPath
// (rtcdb.Pool.Delete): the error then names the copies that failed and those that changed.
func (r dupesRows) DeleteEntries(ctx context.Context, guids []dupes.GUID, backupPath string) error {
	if r.pool != nil {
		res, err := r.pool.Delete(ctx, toRTC(guids), backupPath, false)
		r.last.res = res
		return err
	}
	res, err := r.db.Delete(ctx, toRTC(guids), rtcdb.DeleteOptions{BackupPath: backupPath})
	if err != nil {
		return err
	}
	if !res.Committed {
		return fmt.Errorf("rows not deleted: %s %s", res.Status, res.Reason)
	}
	return nil
}

// RestoreEntries re-inserts the missing rows of a backup (rtcdb.Restore), or of every copy of a
// pool backup index (rtcdb.Pool.Restore).
func (r dupesRows) RestoreEntries(ctx context.Context, backupPath string) error {
	if r.pool != nil {
		if !rtcdb.IsPoolBackup(backupPath) {
			return fmt.Errorf("%s is not a pool backup index, but the configuration names a pool", backupPath)
		}
		_, err := r.pool.Restore(ctx, backupPath, false)
		return err
	}
	_, err := r.db.Restore(ctx, backupPath, false)
	return err
}

// followUp is the server-side step for the layout found (Update-CsAddressBook on Lync and later,
// ABServer.exe on OCS 2007 R2); def when it is not known.
func (r dupesRows) followUp(def []string) []string {
	switch {
	case r.last != nil && r.last.res != nil && r.last.res.FollowUp != nil:
		return r.last.res.FollowUp
	case r.db != nil && r.db.Layout() != "":
		return rtcdb.FollowUpFor(r.db.Layout())
	case r.pool != nil:
		for _, c := range r.pool.Copies {
			if c.DB != nil && c.DB.Layout() != "" {
				return rtcdb.FollowUpFor(c.DB.Layout())
			}
		}
	}
	return def
}
