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

// dupesRows adapts rtcdb to the dupes interfaces for AbUserEntry rows.
type dupesRows struct{ db *rtcdb.DB }

func (r dupesRows) EntriesPresent(ctx context.Context, guids []dupes.GUID) (map[dupes.GUID]bool, error) {
	return r.db.EntriesPresent(ctx, guids)
}

// DeleteEntries deletes the rows in one transaction after writing the backup (rtcdb.Delete).
func (r dupesRows) DeleteEntries(ctx context.Context, guids []dupes.GUID, backupPath string) error {
	res, err := r.db.Delete(ctx, guids, rtcdb.DeleteOptions{BackupPath: backupPath})
	if err != nil {
		return err
	}
	if !res.Committed {
		return fmt.Errorf("rows not deleted: %s %s", res.Status, res.Reason)
	}
	return nil
}

// RestoreEntries re-inserts the missing rows of a backup (rtcdb.Restore).
func (r dupesRows) RestoreEntries(ctx context.Context, backupPath string) error {
	_, err := r.db.Restore(ctx, backupPath, false)
	return err
}
