package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/abkit/abkit/abs"
	"github.com/abkit/abkit/internal/audit"
	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
	"github.com/spf13/cobra"
)

// auditDefaultMaxAge is how old the newest full address book file may be before the audit reports it.
const auditDefaultMaxAge = 36 * time.Hour

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
	fl.DurationVar(&opts.MaxAge, "max-age", auditDefaultMaxAge, "the newest full address book file may be at most this old; default abs.max_age or 36h")
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
	plan := planAudit(f, cfg, opts)
	defer plan.close()
	for _, s := range plan.skipped {
		fmt.Fprintf(f.IO.ErrOut, "abkit: audit: %s\n", s)
	}
	if len(plan.checks) == 0 {
		return badInputf("audit: nothing to check: configure forests or an address book folder (--config, --abs-folder)")
	}

	rep := audit.Run(ctx, plan.checks, audit.Options{Now: opts.Now, Progress: f.progressReporter("audit")})
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

// auditPlan is the checks of one run and what must be closed afterwards.
type auditPlan struct {
	checks  []audit.Check
	skipped []string // checks left out, with the reason
	forests []*audit.Forest
	closers []func() error // inputs opened while the checks run (the rtc database)
}

func (p *auditPlan) close() {
	for _, f := range p.forests {
		f.Close()
	}
	for _, c := range p.closers {
		_ = c()
	}
}

// planAudit turns the configuration into the list of checks, in report order.
func planAudit(f *Factory, cfg *config.Config, opts *auditOptions) *auditPlan {
	p := &auditPlan{}
	folder := opts.ABSFolder
	maxAge := auditDefaultMaxAge
	var rulesFile string
	if cfg.ABS != nil {
		if folder == "" {
			folder = cfg.ABS.Folder
		}
		if cfg.ABS.MaxAge > 0 {
			maxAge = cfg.ABS.MaxAge
		}
		rulesFile = cfg.ABS.Rules
	}
	if opts.maxAgeSet {
		maxAge = opts.MaxAge
	}

	var userForest, resForest *audit.Forest
	for i := range cfg.Forests {
		fc := &cfg.Forests[i]
		resource := cfg.Sidmap != nil && strings.EqualFold(fc.Name, cfg.Sidmap.ResourceForest)
		// An ldif: snapshot is streamed: each check's search reads the file again rather than
		// the audit holding it in memory. A live forest is one connection shared by the checks.
		fr := audit.NewForest(fc.Name, resource, func(ctx context.Context) (ldapsync.Source, error) {
			return f.dupesOpenForest(ctx, fc)
		})
		p.forests = append(p.forests, fr)
		if cfg.Sidmap != nil {
			switch {
			case resource:
				resForest = fr
			case strings.EqualFold(fc.Name, cfg.Sidmap.UserForest):
				userForest = fr
			}
		}
	}

	rules := auditRules(rulesFile, folder)
	if len(p.forests) > 0 {
		sip, phone := audit.DuplicateChecks(p.forests, func(ctx context.Context) (audit.DuplicateInputs, error) {
			return p.duplicateInputs(ctx, f, folder, opts.RTC, rules)
		})
		p.checks = append(p.checks, sip, phone)
	} else {
		p.skipped = append(p.skipped, "duplicate-sip, duplicate-phone, hidden-sip, disabled-sip, phone-normalization: no forests configured")
	}
	if userForest != nil && resForest != nil {
		p.checks = append(p.checks, audit.SidmapCheck(userForest, resForest))
	} else {
		p.skipped = append(p.skipped, "sidmap: no sidmap section (user_forest, resource_forest) in the configuration")
	}
	if len(p.forests) > 0 {
		p.checks = append(p.checks, audit.HiddenSIPCheck(p.forests), audit.DisabledSIPCheck(p.forests))
	}
	if folder != "" {
		p.checks = append(p.checks, audit.ABSFreshnessCheck(folder, maxAge, opts.now))
	} else {
		p.skipped = append(p.skipped, "abs-freshness: no address book folder (abs.folder or --abs-folder)")
	}
	if len(p.forests) > 0 {
		if rulesFile == "" && folder == "" {
			p.skipped = append(p.skipped, "phone-normalization: no rules (abs.rules) and no address book folder")
		} else {
			p.checks = append(p.checks, audit.PhoneRulesCheck(p.forests, rules))
		}
		// Last: the snapshots have been read by the checks above.
		p.checks = append(p.checks, audit.SnapshotRecordsCheck(p.forests))
	}
	return p
}

// duplicateInputs opens what the duplicate checks read besides the forests: the address book
// folder (the newest full file with its deltas), the rtc database with --rtc, and the rules.
// Phone lines are compared after normalization with the rules; when they cannot be read, the
// checks fall back to the E164 rule and phone-normalization says why. A folder or database that
// cannot be opened makes both checks fail.
func (p *auditPlan) duplicateInputs(ctx context.Context, f *Factory, folder string, rtc bool, rules func(context.Context) (abs.Rules, error)) (audit.DuplicateInputs, error) {
	var in audit.DuplicateInputs
	if rs, err := rules(ctx); err == nil {
		in.Normalizer = dupes.Rules{Rules: rs}
	}
	if folder != "" {
		b, err := dupes.OpenABSFolder(folder)
		if err != nil {
			return in, err
		}
		in.AddressBook = b
	}
	if rtc {
		db, err := f.openRTC(ctx)
		if err != nil {
			return in, fmt.Errorf("rtc database: %w", err)
		}
		p.closers = append(p.closers, db.Close)
		in.RTC = dupesRows{db: db}
	}
	return in, nil
}

func (o *auditOptions) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// auditRules returns a loader of the normalization rules, read at most once: the rules file
// when configured, else the rules block of the newest full .lsabs file in folder.
func auditRules(file, folder string) func(context.Context) (abs.Rules, error) {
	var (
		once  sync.Once
		rules abs.Rules
		err   error
	)
	return func(context.Context) (abs.Rules, error) {
		once.Do(func() {
			if file != "" {
				rules, err = abs.ReadRulesFile(file)
			} else {
				rules, err = audit.NewestFullRules(folder)
			}
		})
		return rules, err
	}
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
