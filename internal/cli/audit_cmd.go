package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/abkit/abkit/internal/audit"
	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/internal/dupes"
	"github.com/spf13/cobra"
)

type auditOptions struct {
	f *Factory

	ABSFolder string        // --abs-folder, overrides abs.folder of the configuration
	MaxAge    time.Duration // --max-age, overrides abs.max_age
	maxAgeSet bool
	RTC       bool   // --rtc: the duplicate checks read AbUserEntry rows from the rtc database
	Out       string // --out
	History   string // --history

	// Now is the clock of the run; nil means time.Now. Tests set it.
	Now func() time.Time
}

func newCmdAudit(f *Factory, runF func(*auditOptions) error) *cobra.Command {
	opts := &auditOptions{f: f}
	cmd := &cobra.Command{
		Use:   "audit --out DIR",
		Short: "Run every check and write dated reports (JSON, CSV, HTML, Prometheus)",
		Long: withExitStatus(`Run every audit check on the forests, address book folder and rules of the configuration
and write the results into --out with stable dated names:

  abkit-audit-YYYY-MM-DD.json          every check, its findings or the reason it could not run
  abkit-audit-YYYY-MM-DD-<check>.csv   one per check: check, severity, object, message
  abkit-audit-YYYY-MM-DD.html          a self-contained report with charts (no scripts, no links)
  abkit.prom                           abkit_findings{check}, abkit_check_errors{check} and
                                       abkit_last_run_timestamp_seconds, for the node exporter's
                                       textfile collector

A summary table goes to stdout (-o json prints the whole report). A second run on the same UTC
day replaces that day's files. With --history, a small summary of each run is kept there and the
HTML report draws the trend of the findings over the runs found.

Checks (a check whose inputs are not configured is left out, with a note on stderr):
  duplicate-sip        SIP addresses carried by more than one user, contact or group
  duplicate-phone      phone lines carried by more than one SIP-enabled user
                       (both also read the address book folder, the newest full file with its
                       deltas, to say which objects are in it; with --rtc, also which have an
                       AbUserEntry row in the rtc database)
  sidmap               resource accounts whose msRTCSIP-OriginatorSid is missing or wrong
                       (needs the sidmap section)
  hidden-sip           SIP-enabled objects hidden from address lists
  disabled-sip         SIP-enabled accounts disabled in a user forest
  abs-freshness        newest full address book file older than --max-age; missing deltas
                       (needs an address book folder)
  phone-normalization  telephone numbers no normalization rule matches (needs the rules file
                       abs.rules, or a full file in the address book folder)

Forests are read once (live or from LDIF snapshots), so the audit runs on snapshots with no
server. A check that cannot run (a forest that cannot be read, a missing folder, an rtc database
that cannot be reached with --rtc) is reported as such while the others still report; the exit
status is then 3. Without --rtc the database is not contacted, so a scheduled audit needs no
database access.`),
		Example: `  # the nightly job: reports in /var/lib/abkit, trend over earlier runs
  abkit --config /etc/abkit.yaml audit --out /var/lib/abkit/reports --history /var/lib/abkit/history

  # the committed sample data, no server needed
  abkit --config testdata/demo/abkit.yaml audit --out /tmp/abkit-demo

  # also say which duplicates have an AbUserEntry row (needs the rtc section)
  abkit --config /etc/abkit.yaml audit --rtc --out /var/lib/abkit/reports

  # only the address book files of a folder
  abkit audit --abs-folder '\\abserver\ABFiles\...\Files' --max-age 48h --out reports`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(cmd, "unexpected argument %q", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Out == "" {
				return usageError(cmd, "--out DIR is required")
			}
			opts.maxAgeSet = cmd.Flags().Changed("max-age")
			if opts.maxAgeSet && opts.MaxAge <= 0 {
				return usageError(cmd, "--max-age must be positive")
			}
			if runF != nil {
				return runF(opts)
			}
			return auditRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.ABSFolder, "abs-folder", "", "address book folder (F-/D-/C- files); default abs.folder of the configuration")
	fl.DurationVar(&opts.MaxAge, "max-age", audit.DefaultMaxAge, "the newest full address book file may be at most this old; default abs.max_age or 36h")
	fl.BoolVar(&opts.RTC, "rtc", false, "duplicate checks: say which objects have an AbUserEntry row in the configured rtc database")
	fl.StringVar(&opts.Out, "out", "", "folder for the report files (created when missing)")
	fl.StringVar(&opts.History, "history", "", "folder of run summaries for the trend (created when missing)")
	return cmd
}

// auditRun builds the checks from the configuration, runs them, writes the report files and
// prints the summary.
func auditRun(ctx context.Context, opts *auditOptions) error {
	f := opts.f
	cfg, err := auditConfig(opts)
	if err != nil {
		return err
	}
	if opts.RTC && cfg.RTC == nil {
		return badInputf("audit: --rtc: the configuration has no rtc section")
	}
	maxAge := time.Duration(0)
	if opts.maxAgeSet {
		maxAge = opts.MaxAge
	}
	plan := audit.NewPlan(audit.PlanOptions{Config: cfg, ABSFolder: opts.ABSFolder, MaxAge: maxAge, RTC: opts.RTC, Now: opts.Now,
		OpenForest: f.dupesOpenForest,
		OpenRTC: func(ctx context.Context) (dupes.EntryChecker, io.Closer, error) {
			db, err := f.openRTC(ctx)
			if err != nil {
				return nil, nil, err
			}
			return &dupesRows{db: db}, db, nil
		}})
	defer plan.Close()
	for _, s := range plan.Skipped {
		fmt.Fprintf(f.IO.ErrOut, "abkit: audit: %s\n", s)
	}
	if len(plan.Checks) == 0 {
		return badInputf("audit: nothing to check: configure forests or an address book folder (--config, --abs-folder)")
	}

	rep := audit.Run(ctx, plan.Checks, audit.Options{Now: opts.Now, Progress: f.progressReporter("audit")})
	describeAuditRun(rep, f, cfg, opts)
	written, werr := audit.Write(rep, audit.WriteOptions{Dir: opts.Out, HistoryDir: opts.History})
	if err := f.writeData(auditTable(rep), rep); err != nil {
		return err
	}
	if werr != nil {
		return runtimeFailure(werr)
	}
	if f.Verbose || f.IO.StderrTTY {
		fmt.Fprintf(f.IO.ErrOut, "abkit: audit: wrote %d files in %s\n", len(written), opts.Out)
	}
	if rep.Errors > 0 {
		var failed []string
		for _, c := range rep.Checks {
			if c.Failed() {
				failed = append(failed, c.Name+": "+c.Error)
			}
		}
		return runtimeFailure(fmt.Errorf("audit: %d check(s) could not run:\n  %s", rep.Errors, strings.Join(failed, "\n  ")))
	}
	return findings(rep.Findings, "audit findings")
}

// auditConfig loads the configuration; without --config (or $ABKIT_CONFIG) an empty one is used,
// so that --abs-folder alone works.
func auditConfig(opts *auditOptions) (*config.Config, error) {
	cfg, err := opts.f.loadConfig()
	if errors.Is(err, errNoConfig) {
		return &config.Config{}, nil
	}
	return cfg, err
}

// auditTable is the terminal summary: one row per check.
func auditTable(rep *audit.Report) Table {
	t := Table{Columns: []string{"name", "count", "status", "description"}}
	for _, c := range rep.Checks {
		count, status := strconv.Itoa(c.Count), "ok"
		switch {
		case c.Failed():
			count, status = "-", "could not run" // the reason is on stderr and in the reports
		case c.Count > 0:
			status = "findings"
		}
		t.Append(c.Name, count, status, c.Description)
	}
	return t
}
