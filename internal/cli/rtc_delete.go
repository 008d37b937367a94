package cli

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/abkit/abkit/rtcdb"
	"github.com/spf13/cobra"
)

// rtcDeleteOptions are the options of `abkit rtc delete`.
type rtcDeleteOptions struct {
	f         *Factory
	ctx       context.Context
	GUIDs     []string
	GUIDsFile string
	Yes       bool
	Backup    string
	now       func() time.Time // names the default backup file
}

func newCmdRTCDelete(f *Factory, runF func(*rtcDeleteOptions) error) *cobra.Command {
	opts := &rtcDeleteOptions{f: f, now: time.Now}
	cmd := &cobra.Command{
		Use:   "delete --guid GUID... [--guids-file FILE] [--yes] [--backup FILE]",
		Short: "Delete AbUserEntry rows (dry run unless --yes), with a backup file first",
		Long: withExitStatus(`Delete the AbUserEntry rows of the given objectGUIDs: the hand-typed
DELETE FROM AbUserEntry WHERE UserGuid = '...' of the duplicate fix, made safe.

Without --yes nothing is changed: the rows are read and shown. With --yes, in one transaction,
every row is read and locked, written to a backup file (JSON: server, database, time, each GUID
with its UserData in base64) that is synced to disk, and then deleted with one parameterized DELETE
per GUID that must affect exactly one row. Anything else — a row missing, a second row, an error,
a dropped connection, Ctrl-C — rolls the whole transaction back and the backup file says so.
'abkit rtc restore BACKUP' puts deleted rows back.

In the rtcab layout (Lync 2010 and later) each row's AbDnMapping rows are read, backed up and
deleted with it, in the same transaction.

On a pool (front_ends in the configuration) every copy is checked first; a GUID no copy holds
refuses the whole delete. Then each copy that holds rows is changed in its own transaction with
its own backup file, named in an index file (--backup names the index). A copy that fails is
reported and the others go on: the output names the changed and the failed copies, and the exit
status is 3. 'abkit rtc restore INDEX' restores every copy.

Afterwards run the server-side step for the version found — ABServer.exe -regenUR then
ABServer.exe -syncNow on OCS 2007 R2, Update-CsAddressBook on Lync and later — and fix the AD
object too: otherwise User Replicator writes the row again on its next pass.

Delete refuses to run when 'abkit rtc info' reports problems (tables missing, column types not
uniqueidentifier and image/varbinary(max)).`),
		Example: `  # see what would be deleted
  abkit rtc delete --guid 96bd221f-8492-4450-abb2-2bd6828db27a
  # delete, writing the backup to a chosen file
  abkit rtc delete --guid 96bd221f-8492-4450-abb2-2bd6828db27a --yes --backup dupes-backup.json
  # many GUIDs, one per line (# comments allowed)
  abkit rtc delete --guids-file losers.txt --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.GUIDs) == 0 && opts.GUIDsFile == "" {
				return usageError(cmd, "give --guid or --guids-file")
			}
			opts.ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return rtcDeleteRun(opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.GUIDs, "guid", nil, "objectGUID to delete (repeatable, or comma-separated)")
	cmd.Flags().StringVar(&opts.GUIDsFile, "guids-file", "", "file with one GUID per line (# starts a comment)")
	cmd.Flags().BoolVar(&opts.Yes, "yes", false, "really delete (default: dry run)")
	cmd.Flags().StringVar(&opts.Backup, "backup", "", "backup file to create (default rtc-backup-<UTC time>.json)")
	return cmd
}

// readGUIDLines reads one GUID per line; blank lines and # comments are skipped.
func readGUIDLines(path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, badInputf("--guids-file: %v", err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, badInputf("--guids-file %s: %v", path, err)
	}
	return out, nil
}

func rtcDeleteRun(opts *rtcDeleteOptions) error {
	f := opts.f
	texts := opts.GUIDs
	if opts.GUIDsFile != "" {
		lines, err := readGUIDLines(opts.GUIDsFile)
		if err != nil {
			return err
		}
		texts = append(append([]string{}, texts...), lines...)
	}
	guids, err := rtcdb.ParseGUIDs(texts) // before connecting
	if err != nil {
		return err
	}
	if len(guids) == 0 {
		return badInputf("--guids-file %s holds no GUIDs", opts.GUIDsFile)
	}
	backup := opts.Backup
	if backup == "" && opts.Yes {
		backup = "rtc-backup-" + opts.now().UTC().Format("20060102T150405Z") + ".json"
	}
	if p, err := f.rtcPool(opts.ctx); err != nil || p != nil {
		if err != nil {
			return err
		}
		defer p.Close()
		return rtcDeletePoolRun(f, opts.ctx, p, guids, backup, opts.Yes)
	}
	db, err := f.openRTC(opts.ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	res, derr := db.Delete(opts.ctx, guids, rtcdb.DeleteOptions{
		BackupPath: backup, DryRun: !opts.Yes, Progress: f.progressReporter("deleting AbUserEntry rows"),
	})
	if res != nil {
		t := entryTable(res.Entries, func(e *rtcdb.Entry) string {
			switch {
			case !e.Present:
				return "no row"
			case res.DryRun:
				return "would delete"
			}
			return res.Status
		})
		if err := f.writeData(t, res); err != nil {
			return err
		}
	}
	if derr != nil {
		switch {
		case res == nil || res.BackupPath == "":
		case res.Status == rtcdb.StatusUnknown:
			fmt.Fprintf(f.IO.ErrOut, "abkit: %s; backup: %s\n", res.Reason, res.BackupPath)
		default:
			fmt.Fprintf(f.IO.ErrOut, "abkit: nothing was deleted: the transaction was rolled back; backup %s has status %s\n", res.BackupPath, res.Status)
		}
		return derr
	}
	if res.DryRun {
		fmt.Fprintf(f.IO.ErrOut, "dry run: nothing was deleted; run again with --yes to delete %d rows (a backup file is written first)\n",
			len(res.Entries)-len(res.Missing))
		if len(res.Missing) > 0 {
			return badInputf("%d GUIDs have no AbUserEntry row in %s; a run with --yes would refuse: remove them from the list", len(res.Missing), res.Database)
		}
		return nil
	}
	fmt.Fprintf(f.IO.ErrOut, "deleted %d AbUserEntry rows from %s on %s; backup: %s\n", len(res.Deleted), res.Database, res.Server, res.BackupPath)
	if res.Reason != "" {
		fmt.Fprintf(f.IO.ErrOut, "abkit: warning: %s\n", res.Reason)
	}
	fmt.Fprintln(f.IO.ErrOut, "Next steps:")
	for _, s := range res.FollowUp {
		fmt.Fprintf(f.IO.ErrOut, "  - %s\n", s)
	}
	return nil
}

// rtcRestoreOptions are the options of `abkit rtc restore`.
type rtcRestoreOptions struct {
	f      *Factory
	ctx    context.Context
	Backup string
	Yes    bool
}

func newCmdRTCRestore(f *Factory, runF func(*rtcRestoreOptions) error) *cobra.Command {
	opts := &rtcRestoreOptions{f: f}
	cmd := &cobra.Command{
		Use:   "restore BACKUP [--yes]",
		Short: "Re-insert the rows of a delete backup that are missing (dry run unless --yes)",
		Long: withExitStatus(`Put back AbUserEntry rows from a backup file written by 'abkit rtc delete': every row of the
backup that is missing is inserted, in one transaction; rows that exist (User Replicator may have
written them again) are reported and left alone. The backup is checked first (format, GUIDs, size
and SHA-256 of each UserData) and must be of the database this server keeps AbUserEntry in.
In the rtcab layout the rows go back with their UserId and AbDnMapping rows. With a pool in the
configuration, BACKUP may be the index of a pool delete (every copy is restored from its own
file) or one copy's backup (restored on the copy it names). Without --yes nothing is changed.`),
		Example: `  abkit rtc restore rtc-backup-20260122T013000Z.json
  abkit rtc restore rtc-backup-20260122T013000Z.json --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Backup = args[0]
			opts.ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return rtcRestoreRun(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Yes, "yes", false, "really insert (default: dry run)")
	return cmd
}

func rtcRestoreRun(opts *rtcRestoreOptions) error {
	f := opts.f
	check := func(path string) error { _, err := rtcdb.ReadBackup(path); return err }
	if rtcdb.IsPoolBackup(opts.Backup) {
		check = func(path string) error { _, err := rtcdb.ReadPoolBackup(path); return err }
	}
	if err := check(opts.Backup); err != nil { // before connecting
		return err
	}
	if p, err := f.rtcPool(opts.ctx); err != nil || p != nil {
		if err != nil {
			return err
		}
		defer p.Close()
		return rtcRestorePoolRun(f, opts.ctx, p, opts.Backup, opts.Yes)
	}
	if rtcdb.IsPoolBackup(opts.Backup) {
		return badInputf("%s is the index of a pool delete: the rtc section must name the pool's front_ends to restore it", opts.Backup)
	}
	db, err := f.openRTC(opts.ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	return rtcRestoreWith(f, opts.ctx, db, opts.Backup, opts.Yes)
}

// restoreRows calls row for each GUID of res with what was (or would be) done.
func restoreRows(res *rtcdb.RestoreResult, row func(guid, action string)) {
	action := "restored"
	if res.DryRun {
		action = "would restore"
	}
	for _, g := range res.Restored {
		row(g.String(), action)
	}
	for _, g := range res.Existing {
		row(g.String(), "exists, left alone")
	}
}

// rtcRestoreWith restores the backup at path into db and reports it.
func rtcRestoreWith(f *Factory, ctx context.Context, db *rtcdb.DB, path string, yes bool) error {
	res, err := db.Restore(ctx, path, !yes)
	if err != nil {
		return err
	}
	t := Table{Columns: []string{"guid", "action"}}
	restoreRows(res, func(g, action string) { t.Append(g, action) })
	if err := f.writeData(t, res); err != nil {
		return err
	}
	if res.DryRun {
		fmt.Fprintf(f.IO.ErrOut, "dry run: nothing was inserted; run again with --yes to restore %d rows\n", len(res.Restored))
	} else {
		fmt.Fprintf(f.IO.ErrOut, "restored %d rows into %s on %s; %d existed and were left alone\n", len(res.Restored), res.Database, res.Server, len(res.Existing))
	}
	return nil
}
