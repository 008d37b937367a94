package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/abkit/abkit/internal/change"
	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
	"github.com/spf13/cobra"
)

type dupesFixOptions struct {
	f           *Factory
	src         dupesSourceFlags
	yes         bool
	undoDir     string
	concurrency int
	batch       int
	noTxn       bool
	now         func() time.Time
}

func newCmdDupesFix(f *Factory, runF func(*dupesFixOptions) error) *cobra.Command {
	opts := &dupesFixOptions{f: f, now: time.Now}
	cmd := &cobra.Command{
		Use:   "fix",
		Short: "Plan and apply the repair of duplicate SIP addresses (dry run unless --yes)",
		Long: withExitStatus(`Find duplicate SIP addresses as 'abkit dupes' does, then plan the repair of every losing object
and print the plan: remove the colliding sip: proxyAddresses value (remove-proxy) or clear the
object's msRTCSIP attributes (clear-sip), chosen per kind by the dupes.fix section of the
configuration (default: clear-sip for users and contacts, remove-proxy for groups), and delete the
loser's AbUserEntry row (with --rtc).

Nothing is written without --yes. With --yes, first an undo folder is written and locked (the
plan, then per forest an undo LDIF and a journal); then the losers' AbUserEntry rows are backed up into it and deleted in one
transaction; then each losing object gets one conditional modify that deletes exactly the values
the plan saw, so an object changed since fails alone instead of being overwritten (its row, if
deleted, comes back with User Replicator's next pass). Changes run concurrently (--concurrency),
or in LDAP transactions of --batch where the server offers them (a batch that does not commit is
retried change by change). Only the SIP attributes the plan names, under each forest's base,
are ever written. If the run is cut short, 'abkit dupes fix --yes --undo-dir DIR' with the same
folder resumes it from the plan saved there. Objects in LDIF snapshots and objects known only from an address book file are
planned but never changed. 'abkit dupes undo DIR' reverses a fix.

JSON output is {"plan": {...}, "result": {...}} (result is null on a dry run).
Exit status 1 on a dry run that plans changes; 3 when a change or the row deletion failed.`),
		Example: `  # show the plan
  abkit dupes fix --config abkit.yaml --rtc

  # apply it, keeping the undo files in a named folder
  abkit dupes fix --config abkit.yaml --rtc --yes --undo-dir undo-2026-11-22`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return dupesFixRun(cmd.Context(), opts)
		},
	}
	opts.src.register(cmd)
	cmd.Flags().BoolVar(&opts.yes, "yes", false, "apply the plan (default: dry run)")
	cmd.Flags().StringVar(&opts.undoDir, "undo-dir", "", "folder for the undo files (default: ./abkit-dupes-undo-<UTC time>); an earlier fix's folder resumes that fix")
	cmd.Flags().IntVar(&opts.concurrency, "concurrency", change.DefaultConcurrency, "changes in flight per forest")
	cmd.Flags().IntVar(&opts.batch, "batch", change.DefaultBatchSize, "changes per LDAP transaction, when the server offers them")
	cmd.Flags().BoolVar(&opts.noTxn, "no-txn", false, "send changes one by one even when the server offers LDAP transactions (RFC 5805)")
	return cmd
}

// fixOutput is the JSON output of dupes fix.
type fixOutput struct {
	Plan   *dupes.Plan   `json:"plan"`
	Result *dupes.Result `json:"result"`
}

func dupesFixRun(ctx context.Context, opts *dupesFixOptions) error {
	f := opts.f
	s, err := openDupesSources(ctx, f, &opts.src, "reading objects")
	if err != nil {
		return err
	}
	defer s.close()
	policy := dupes.DefaultPolicy()
	if s.cfg != nil && s.cfg.Dupes != nil {
		if policy, err = dupes.ParsePolicy(s.cfg.Dupes.Fix); err != nil {
			return err
		}
	}
	var plan *dupes.Plan
	var rep *dupes.Report
	resume := false
	if opts.yes && opts.undoDir != "" {
		if _, err := os.Stat(filepath.Join(opts.undoDir, dupes.ManifestFile)); err == nil {
			resume = true
		}
	}
	if resume {
		// Resume the fix recorded in the folder: its plan, not a new one.
		if plan, err = dupes.LoadPlan(opts.undoDir); err != nil {
			return err
		}
		rep = &dupes.Report{}
		fmt.Fprintf(f.IO.ErrOut, "abkit: resuming the fix recorded in %s\n", opts.undoDir)
	} else {
		if rep, err = dupes.Find(ctx, s.inputs); err != nil {
			return runtimeOrBadInput(err)
		}
		printWarnings(f, rep.Warnings)
		plan, err = dupes.BuildPlan(ctx, rep, dupes.PlanOptions{Forests: s.inputs.Forests, Policy: policy, Now: opts.now})
		if err != nil {
			return runtimeOrBadInput(err)
		}
	}
	modifies, rows := plan.Writes()
	aopts := dupes.ApplyOptions{Modifiers: s.modifiers(), DryRun: !opts.yes, Progress: f.progressReporter("fixing"),
		Concurrency: opts.concurrency, BatchSize: opts.batch, NoTransactions: opts.noTxn}
	if s.rows != nil {
		aopts.Rows = s.rows
	}
	if opts.yes {
		aopts.UndoDir = opts.undoDir
		if aopts.UndoDir == "" {
			aopts.UndoDir = "abkit-dupes-undo-" + opts.now().UTC().Format("20060102-150405")
		}
	}
	// The plan is printed before anything is written; JSON, being one document, comes at the end
	// with the result.
	jsonOut := f.format() == FormatJSON
	if !jsonOut {
		if err := f.writeData(dupesPlanTable(plan), nil); err != nil {
			return err
		}
	}
	res, applyErr := dupes.Apply(ctx, plan, aopts)
	if res == nil {
		return runtimeOrBadInput(applyErr)
	}
	if jsonOut {
		out := fixOutput{Plan: plan}
		if opts.yes {
			out.Result = res
		}
		if err := f.writeData(Table{}, out); err != nil {
			return err
		}
	}
	e := f.IO.ErrOut
	if !opts.yes {
		if modifies == 0 {
			fmt.Fprintf(e, "abkit: nothing to change (%d duplicated addresses, %d objects planned, none writable)\n", len(rep.SIP), len(plan.Changes))
			return findings(len(rep.SIP), "duplicate SIP addresses")
		}
		fmt.Fprintf(e, "abkit: dry run: %d object(s) would be modified and %d AbUserEntry row(s) deleted; run again with --yes to apply\n", modifies, rows)
		return findings(modifies, "planned changes (dry run)")
	}
	if modifies == 0 {
		fmt.Fprintln(e, "abkit: nothing to change")
		return findings(len(rep.SIP), "duplicate SIP addresses")
	}
	undoAbs, _ := filepath.Abs(res.UndoDir)
	fmt.Fprintf(e, "abkit: modified %d of %d object(s), %d already done, %d not attempted, %d transactions; undo files in %s\n",
		res.Modified, modifies, res.AlreadyDone, res.NotAttempted, res.Transactions, undoAbs)
	for _, fl := range res.Failed {
		fmt.Fprintf(e, "abkit: %s %s %s: %s\n", strings.ToUpper(fl.Outcome), fl.Forest, fl.DN, fl.Error)
	}
	if res.RowsNote != "" {
		fmt.Fprintln(e, "abkit: "+res.RowsNote)
	}
	if len(res.RowsDeleted) > 0 {
		fmt.Fprintf(e, "abkit: deleted %d AbUserEntry row(s); backup %s\n", len(res.RowsDeleted), filepath.Join(undoAbs, dupes.RTCBackupFile))
	}
	if res.RowsError != "" {
		none := " (none deleted)"
		if s.rows != nil && s.rows.pool != nil {
			none = "" // a pool's error names the copies that changed
		}
		fmt.Fprintf(e, "abkit: FAILED to delete AbUserEntry rows%s: %s\n", none, res.RowsError)
	}
	followUp := dupes.FollowUp
	if s.rows != nil {
		followUp = s.rows.followUp(followUp)
	}
	fmt.Fprintln(e, "\nNext steps:")
	for _, l := range followUp {
		fmt.Fprintln(e, "  "+l)
	}
	fmt.Fprintf(e, "To reverse this fix: abkit dupes undo %s --yes\n", undoAbs)
	if applyErr != nil || res.NotAttempted > 0 {
		return runtimeFailure(fmt.Errorf("the fix was cut short (%v): finish it with 'abkit dupes fix --yes --undo-dir %s'", applyErr, undoAbs))
	}
	if res.Partial() {
		return runtimeFailure(fmt.Errorf("%d change(s) failed%s", len(res.Failed), map[bool]string{true: ", and the row deletion failed"}[res.RowsError != ""]))
	}
	return nil
}

func dupesPlanTable(p *dupes.Plan) Table {
	t := Table{Columns: []string{"forest", "dn", "guid", "kind", "addresses", "action", "remove", "delete_row", "skip", "note"}}
	for _, c := range p.Changes {
		var rm []string
		for _, av := range c.Remove {
			rm = append(rm, av.Attr+": "+strings.Join(av.Values, " | "))
		}
		row := "no"
		if c.DeleteRow {
			row = "yes"
		}
		t.Append(c.Forest, c.DN, c.GUID.String(), string(c.Kind), strings.Join(c.Addresses, ","), string(c.Action),
			strings.Join(rm, "; "), row, c.Skip, c.Note)
	}
	return t
}

type dupesUndoOptions struct {
	f   *Factory
	dir string
	yes bool
}

func newCmdDupesUndo(f *Factory, runF func(*dupesUndoOptions) error) *cobra.Command {
	opts := &dupesUndoOptions{f: f}
	cmd := &cobra.Command{
		Use:   "undo DIR",
		Short: "Reverse a 'dupes fix' from its undo folder (dry run unless --yes)",
		Long: withExitStatus(`Add back, object by object, the values a 'dupes fix' deleted (from the undo LDIF of each
forest; each add fails on its own when the attribute got a conflicting value since), then
re-insert the AbUserEntry rows from the rtc backup (rows that exist again are left alone). The
forests and the rtc database come from the configuration. Nothing is written without --yes.`),
		Example: `  abkit dupes undo abkit-dupes-undo-20261122-010000 --config abkit.yaml
  abkit dupes undo abkit-dupes-undo-20261122-010000 --config abkit.yaml --yes`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError(cmd, "want exactly one undo folder, got %d arguments", len(args))
			}
			opts.dir = args[0]
			if runF != nil {
				return runF(opts)
			}
			return dupesUndoRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.yes, "yes", false, "write the changes (default: dry run)")
	return cmd
}

func dupesUndoRun(ctx context.Context, opts *dupesUndoOptions) error {
	f := opts.f
	m, err := dupes.ReadManifest(opts.dir)
	if err != nil {
		return err
	}
	cfg, err := f.loadConfig()
	if err != nil {
		return err
	}
	uo := dupes.UndoOptions{Modifiers: map[string]ldapsync.Modifier{}, DryRun: !opts.yes}
	t := Table{Columns: []string{"forest", "dn", "add"}}
	for forest := range m.UndoLDIF {
		fc, err := cfg.Forest(forest)
		if err != nil {
			return err
		}
		src, err := f.dupesOpenForest(ctx, fc)
		if err != nil {
			return err
		}
		defer src.Close()
		mod, ok := src.(ldapsync.Modifier)
		if !ok {
			return badInputf("forest %s is configured as a snapshot: undo needs a live connection", forest)
		}
		uo.Modifiers[forest] = mod
		op, err := dupes.PrepareUndo(opts.dir, m, forest, src.BaseDN())
		if err != nil {
			return err
		}
		for i, it := range op.Items {
			if op.Skip[i] {
				continue
			}
			var adds []string
			for _, c := range it.Changes {
				adds = append(adds, c.Attr+": "+string(bytes.Join(c.New, []byte(" | "))))
			}
			t.Append(forest, it.DN, strings.Join(adds, "; "))
		}
	}
	backup := ""
	if m.RTCBackup != "" {
		if _, err := os.Stat(filepath.Join(opts.dir, m.RTCBackup)); err == nil {
			backup = filepath.Join(opts.dir, m.RTCBackup)
		}
	}
	if backup != "" {
		if cfg.RTC == nil {
			return badInputf("the undo folder holds an rtc backup, but the configuration has no rtc section")
		}
		rows, err := f.openRTCRows(ctx)
		if err != nil {
			return runtimeOrBadInput(err)
		}
		defer rows.Close()
		uo.Rows = rows
	}
	uo.Progress = f.progressReporter("restoring")
	res, err := dupes.Undo(ctx, opts.dir, uo)
	if res == nil {
		return runtimeOrBadInput(err)
	}
	if err := f.writeData(t, map[string]any{"dry_run": !opts.yes, "changes": t.Rows, "rtc_backup": backup, "result": res}); err != nil {
		return err
	}
	e := f.IO.ErrOut
	if !opts.yes {
		fmt.Fprintf(e, "abkit: dry run: %d object(s) would get values back", len(t.Rows))
		if backup != "" {
			fmt.Fprintf(e, " and the AbUserEntry rows of %s would be restored", backup)
		}
		fmt.Fprintln(e, "; run again with --yes")
		return nil
	}
	fmt.Fprintf(e, "abkit: restored %d object(s), %d already as before, %d never changed by the fix, %d not attempted\n",
		res.Restored, res.AlreadyPresent, res.NeverApplied, res.NotAttempted)
	for _, fl := range res.Failed {
		fmt.Fprintf(e, "abkit: %s %s %s: %s\n", strings.ToUpper(fl.Outcome), fl.Forest, fl.DN, fl.Error)
	}
	if res.RowsRestored {
		fmt.Fprintln(e, "abkit: AbUserEntry rows restored from the backup")
	}
	if res.RowsError != "" {
		fmt.Fprintf(e, "abkit: FAILED to restore AbUserEntry rows: %s\n", res.RowsError)
	}
	if err != nil {
		return runtimeFailure(fmt.Errorf("%w; run the same command again to finish", err))
	}
	if len(res.Failed) > 0 || res.RowsError != "" {
		return runtimeFailure(fmt.Errorf("%d undo item(s) failed", len(res.Failed)+map[bool]int{true: 1}[res.RowsError != ""]))
	}
	return nil
}
