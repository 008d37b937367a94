package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/abkit/abkit/internal/change"
	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/internal/fsutil"
	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
	"github.com/spf13/cobra"
)

func newCmdSidmap(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sidmap",
		Short: "Map user-forest SIDs onto resource-forest accounts: plan, apply, verify, undo",
		Long: `In a resource-forest deployment every person signs in with an enabled user-forest account
and OCS settings live on a disabled resource-forest account, whose msRTCSIP-OriginatorSid must equal
the user-forest account's objectSid. sidmap plans that mapping (plan), applies exactly the plan with
conditional, journaled and reversible writes (apply, undo), checks the result (verify), and keeps
descriptive attributes in step (sync-attrs).

The forests come from the configuration file: sidmap.user_forest and sidmap.resource_forest name
entries of forests:, or --user-forest and --resource-forest do.`,
	}
	cmd.AddCommand(newCmdSidmapPlan(f, false, nil), newCmdSidmapApply(f, sidmap.KindOriginatorSID, nil),
		newCmdSidmapUndo(f, nil), newCmdSidmapVerify(f, nil), newCmdSidmapSyncAttrs(f))
	return cmd
}

// sidmapForests are the --user-forest, --resource-forest and --topology flags, defaulting to
// the configuration's sidmap section.
type sidmapForests struct {
	UserForests    []string
	ResourceForest string
	Topology       string
}

func (s *sidmapForests) addFlags(cmd *cobra.Command, user bool) {
	if user {
		cmd.Flags().StringSliceVar(&s.UserForests, "user-forest", nil, "user (account) forests, names from the configuration; a SID's domain picks one (default: sidmap.user_forest and sidmap.user_forests)")
		cmd.Flags().StringVar(&s.Topology, "topology", "", "resource (disabled user accounts) or central (contacts) (default: sidmap.topology, else resource)")
	}
	cmd.Flags().StringVar(&s.ResourceForest, "resource-forest", "", "resource forest, a name from the configuration (default: sidmap.resource_forest)")
}

// resolve fills the forest names and the topology from the configuration where no flag gave
// them.
func (s *sidmapForests) resolve(cfg *config.Config, user bool) error {
	if cfg.Sidmap != nil {
		if len(s.UserForests) == 0 {
			s.UserForests = cfg.Sidmap.Users()
		}
		if s.ResourceForest == "" {
			s.ResourceForest = cfg.Sidmap.ResourceForest
		}
		if s.Topology == "" {
			s.Topology = cfg.Sidmap.Topology
		}
	}
	if user && len(s.UserForests) == 0 {
		return badInputf("no user forest: pass --user-forest or set sidmap.user_forest in the configuration")
	}
	if _, err := sidmap.ParseTopology(s.Topology); err != nil {
		return badInput(err)
	}
	if s.ResourceForest == "" {
		return badInputf("no resource forest: pass --resource-forest or set sidmap.resource_forest in the configuration")
	}
	return nil
}

// sidmapConfig loads the configuration and resolves the forest names against it (the user
// forest too when user is set).
func (f *Factory) sidmapConfig(names *sidmapForests, user bool) (*config.Config, error) {
	cfg, err := f.loadConfig()
	if err != nil {
		return nil, err
	}
	if err := names.resolve(cfg, user); err != nil {
		return nil, err
	}
	return cfg, nil
}

// sidmapSources are the open forests of a sidmap run.
type sidmapSources struct {
	user, res ldapsync.Source
	layout    sidmap.Layout // the other user forests and the topology
}

func (s *sidmapSources) Close() {
	for _, src := range append([]ldapsync.Source{s.user, s.res}, s.layout.MoreUserForests...) {
		if src != nil {
			src.Close()
		}
	}
}

// sidmapOpenBoth opens the user forests and the resource forest for reading.
func (f *Factory) sidmapOpenBoth(ctx context.Context, cfg *config.Config, names sidmapForests) (*sidmapSources, error) {
	s := &sidmapSources{}
	s.layout.Topology, _ = sidmap.ParseTopology(names.Topology) // checked by resolve
	for i, name := range append(append([]string(nil), names.UserForests...), names.ResourceForest) {
		src, err := f.sidmapOpenForest(ctx, cfg, name)
		if err != nil {
			s.Close()
			return nil, err
		}
		switch {
		case i == 0:
			s.user = src
		case i == len(names.UserForests):
			s.res = src
		default:
			s.layout.MoreUserForests = append(s.layout.MoreUserForests, src)
		}
	}
	return s, nil
}

// ---- plan -----------------------------------------------------------------------------------

type sidmapPlanOptions struct {
	f   *Factory
	ctx context.Context

	Forests           sidmapForests
	Match             []string
	Base              string
	Filter            string
	ReplaceMismatched bool
	WritePath         string

	Sync  bool     // sync-attrs plan
	Attrs []string // sync-attrs only
}

func newCmdSidmapPlan(f *Factory, sync bool, runF func(*sidmapPlanOptions) error) *cobra.Command {
	opts := &sidmapPlanOptions{f: f, Sync: sync}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Plan msRTCSIP-OriginatorSid for disabled, SIP-enabled resource accounts",
		Long: withExitStatus(`Pair every disabled, SIP-enabled resource-forest account with a user-forest account and
propose msRTCSIP-OriginatorSid = that account's objectSid. Nothing is written to the directory.

With --topology central (or sidmap.topology) the candidates are SIP-enabled contacts instead.
Several user forests (--user-forest a,b or sidmap.user_forests): a SID's domain picks the forest.

Match rules, in the order given (default master-sid,sam; central: proxy); the first that finds an
account decides, and a later rule finding another account is a conflict naming both:
  master-sid          msExchMasterAccountSid of the resource account = objectSid (linked mailboxes)
  master-sid-history  an msExchMasterAccountHistory value = objectSid
  sid-history         msExchMasterAccountSid (or its history) in the user's sIDHistory (migrated users)
  sam                 same sAMAccountName
  upn                 same userPrincipalName local part (before @)
  mail                same mail
  proxy               a shared address: mail, smtp:/sip: proxyAddresses, msRTCSIP-PrimaryUserAddress
  attr:R=U            resource attribute R = user attribute U (e.g. attr:employeeID=employeeID)

Each row is set, none (already right), skip or conflict. An account whose msExchMasterAccountSid
is SELF (S-1-5-10: room, shared, equipment and system mailboxes) or another well-known SID is
skipped, with the reason. Conflicts are never written: no match, more than one match, rules that
disagree, the SID already used by another resource object, the user-forest account disabled or
missing, a SID of a domain in no configured user forest, or a different OriginatorSid already set
(a mismatch; planned for replacement only with --replace-mismatched).

-w writes the plan as JSON, the input of 'abkit sidmap apply'; -o json prints it.`),
		Example: `  abkit sidmap plan -w plan.json
  abkit sidmap plan --match master-sid,sam,mail --base "OU=Sales,DC=res,DC=contoso,DC=com" -w plan.json
  abkit sidmap plan --user-forest corp --resource-forest ocs --replace-mismatched -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return sidmapPlanRun(opts)
		},
	}
	opts.Forests.addFlags(cmd, true)
	cmd.Flags().StringSliceVar(&opts.Match, "match", nil, "match rules in order (default: sidmap.match, else master-sid,sam)")
	cmd.Flags().StringVar(&opts.Base, "base", "", "search base in the resource forest (default: the forest's base)")
	cmd.Flags().StringVar(&opts.Filter, "filter", "", "LDAP filter narrowing the resource accounts considered")
	cmd.Flags().StringVarP(&opts.WritePath, "write", "w", "", "write the plan JSON to this file")
	if !sync {
		cmd.Flags().BoolVar(&opts.ReplaceMismatched, "replace-mismatched", false, "plan to REPLACE an existing, different msRTCSIP-OriginatorSid")
		return cmd
	}
	cmd.Flags().StringSliceVar(&opts.Attrs, "attrs", nil, "attributes to copy (default: sidmap.sync_attrs, else the sync-attrs list)")
	cmd.Short = "Plan copying descriptive attributes to resource accounts"
	cmd.Long = withExitStatus(`List, for every disabled, SIP-enabled resource account, the descriptive attributes that
differ from its user-forest account. Accounts are paired through msRTCSIP-OriginatorSid when it
is set, else by the match rules (--match, as for 'abkit sidmap plan'). -w writes the plan for
'abkit sidmap sync-attrs apply'.`)
	cmd.Example = `  abkit sidmap sync-attrs plan -w attrs.json
  abkit sidmap sync-attrs plan --attrs displayName,title,department -w attrs.json`
	return cmd
}

func sidmapPlanRun(opts *sidmapPlanOptions) error {
	f := opts.f
	cfg, err := f.sidmapConfig(&opts.Forests, true)
	if err != nil {
		return err
	}
	specs := opts.Match
	if len(specs) == 0 && cfg.Sidmap != nil {
		specs = cfg.Sidmap.Match
	}
	var rules []sidmap.Rule // none: the topology's default
	if len(specs) > 0 {
		if rules, err = sidmap.ParseRules(specs); err != nil {
			return err
		}
	}
	if opts.WritePath != "" {
		if st, err := os.Stat(filepath.Dir(opts.WritePath)); err != nil || !st.IsDir() {
			return badInputf("plan file %s: no such folder", opts.WritePath)
		}
	}
	src, err := f.sidmapOpenBoth(opts.ctx, cfg, opts.Forests)
	if err != nil {
		return err
	}
	defer src.Close()
	user, res := src.user, src.res
	rep := f.progressReporter("reading forests")
	var p *sidmap.Plan
	if opts.Sync {
		attrs := opts.Attrs
		if len(attrs) == 0 && cfg.Sidmap != nil {
			attrs = cfg.Sidmap.SyncAttrs
		}
		p, err = sidmap.PlanSync(opts.ctx, user, res, sidmap.SyncOptions{Layout: src.layout, Match: rules, Attributes: attrs,
			Base: opts.Base, Filter: opts.Filter, Progress: rep})
	} else {
		p, err = sidmap.MakePlan(opts.ctx, user, res, sidmap.PlanOptions{Layout: src.layout, Match: rules, Base: opts.Base,
			Filter: opts.Filter, ReplaceMismatched: opts.ReplaceMismatched, Progress: rep})
	}
	if err != nil {
		return err
	}
	if opts.WritePath != "" {
		if err := writePlanFile(opts.WritePath, p); err != nil {
			return err
		}
	}
	if err := f.writeData(sidmapPlanTable(p), p); err != nil {
		return err
	}
	c := p.Counts()
	msg := fmt.Sprintf("plan: %d to set, %d already right, %d conflicts", c[sidmap.ActionSet], c[sidmap.ActionNone], c[sidmap.ActionConflict])
	if n := c[sidmap.ActionSkip]; n > 0 {
		msg += fmt.Sprintf(", %d skipped (no user-forest account by design)", n)
	}
	if opts.WritePath != "" {
		msg += "; written to " + opts.WritePath
	}
	fmt.Fprintln(f.IO.ErrOut, msg)
	return nil
}

// writePlanFile writes the plan to path (a private file: it holds directory data), replacing an
// earlier plan there.
func writePlanFile(path string, p *sidmap.Plan) error {
	return writeFileAs(path, fsutil.Private, true, func(w io.Writer) error { return sidmap.WritePlan(w, p) })
}

func sidmapPlanTable(p *sidmap.Plan) Table {
	if p.Kind == sidmap.KindSyncAttrs {
		t := Table{Columns: []string{"resource_dn", "action", "rule", "user_dn", "changes", "reason"}}
		for _, r := range p.Rows {
			var ch []string
			for _, c := range r.Changes {
				ch = append(ch, fmt.Sprintf("%s: %s -> %s", c.Attr, valuesText(c.Old), valuesText(c.New)))
			}
			reason := r.Reason
			if r.Action == sidmap.ActionSet {
				reason = ""
			}
			t.Append(r.ResourceDN, string(r.Action), r.Rule, r.UserDN, strings.Join(ch, "; "), reason)
		}
		return t
	}
	t := Table{Columns: []string{"resource_dn", "action", "rule", "current_sid", "proposed_sid", "user_dn", "reason"}}
	for _, r := range p.Rows {
		t.Append(r.ResourceDN, string(r.Action), r.Rule, r.CurrentSID.String(), r.ProposedSID.String(), r.UserDN, r.Reason)
	}
	return t
}

func valuesText(vs []sidmap.Value) string {
	if len(vs) == 0 {
		return "(none)"
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.Quote(string(v))
	}
	return strings.Join(out, ",")
}

// ---- apply ----------------------------------------------------------------------------------

type sidmapApplyOptions struct {
	f    *Factory
	ctx  context.Context
	kind sidmap.PlanKind

	PlanPath  string
	Undo      string
	WriteLDIF string
	Forests   sidmapForests
	sidmapChangeFlags
}

func newCmdSidmapApply(f *Factory, kind sidmap.PlanKind, runF func(*sidmapApplyOptions) error) *cobra.Command {
	opts := &sidmapApplyOptions{f: f, kind: kind}
	what, planCmd := "msRTCSIP-OriginatorSid", "abkit sidmap plan"
	if kind == sidmap.KindSyncAttrs {
		what, planCmd = "descriptive attributes", "abkit sidmap sync-attrs plan"
	}
	cmd := &cobra.Command{
		Use:   "apply PLAN.json",
		Short: "Apply a plan's " + what + " changes (dry run unless --yes)",
		Long: withExitStatus(`Apply exactly the set rows of a plan written by '` + planCmd + ` -w', to the configured
resource forest (sidmap.resource_forest or --resource-forest; a plan made for another forest is
refused). Without --yes nothing is written: the changes are listed. Every row must lie under the
forest's base and change only ` + what + `; one row outside that refuses the whole plan.

Before the first write an undo LDIF (--undo, default PLAN.undo.ldif) and a journal (--journal,
default PLAN.journal) are written and fsynced. Each change is conditional on the value the plan
saw (delete the old value and add the new one in one modify, or add alone when it was empty), so
an entry changed since the plan is refused instead of being overwritten. Changes run
concurrently (--concurrency); a failed change never stops the others, and the command then exits
3. A lost connection or an interrupt stops the run: the changes then in flight are reported as
such (not as failed). Running the same command again finishes the rest, skips what is done and
resolves the changes in flight by reading them back. A second run on the same journal while one
is running is refused (PLAN.journal.lock). Values are written as binary.

When the server offers LDAP transactions (RFC 5805; OpenLDAP does, Active Directory does not)
the changes go in transactions of --batch, one at a time, each recorded in the journal once
committed; a transaction that does not commit is retried change by change, so exactly the
failing changes fail. --no-txn sends every change on its own.

--write-ldif FILE writes the changes as LDIF (the same conditional delete and add) for review
or for ldapmodify, and writes nothing to the directory.`),
		Example: `  abkit sidmap apply plan.json              # dry run: list the changes
  abkit sidmap apply plan.json --yes        # write them; undo file plan.undo.ldif
  abkit sidmap apply plan.json --yes --concurrency 8 --journal /var/tmp/plan.journal
  abkit sidmap apply plan.json --yes --batch 1000   # 1000 changes per LDAP transaction
  abkit sidmap apply plan.json --write-ldif changes.ldif`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			opts.PlanPath = args[0]
			if err := opts.check(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return sidmapApplyRun(opts)
		},
	}
	opts.Forests.addFlags(cmd, false)
	opts.addFlags(cmd, "PLAN")
	cmd.Flags().StringVar(&opts.Undo, "undo", "", "undo LDIF written before the first change (default: PLAN.undo.ldif)")
	cmd.Flags().StringVar(&opts.WriteLDIF, "write-ldif", "", "write the changes as LDIF to this file (- for stdout) instead of applying them")
	return cmd
}

func sidmapApplyRun(opts *sidmapApplyOptions) error {
	f := opts.f
	p, err := readPlanFile(opts.PlanPath)
	if err != nil {
		return err
	}
	if p.Kind != opts.kind {
		other := map[sidmap.PlanKind]string{sidmap.KindOriginatorSID: "abkit sidmap apply", sidmap.KindSyncAttrs: "abkit sidmap sync-attrs apply"}[p.Kind]
		return badInputf("%s is a %s plan: apply it with '%s'", opts.PlanPath, p.Kind, other)
	}
	if opts.WriteLDIF != "" {
		return writeChangesFile(f, opts.WriteLDIF, p)
	}
	cfg, err := f.sidmapConfig(&opts.Forests, false)
	if err != nil {
		return err
	}
	aopts := opts.applyOptions(strings.TrimSuffix(opts.PlanPath, ".json"), &opts.Undo, ".undo.ldif")
	return opts.run(opts.ctx, f, cfg, opts.Forests.ResourceForest, aopts, sidmapChange{
		progress: "applying", dryRun: "changes to", reverseNote: "undo file " + opts.Undo,
		do: func(m ldapsync.Modifier, o sidmap.ApplyOptions) (*sidmap.Result, error) {
			return sidmap.Apply(opts.ctx, p, m, o)
		},
		listDryRun: func() error {
			return f.writeData(sidmapPlanTable(&sidmap.Plan{Kind: p.Kind, Rows: setRows(p)}), setRows(p))
		},
	})
}

// sidmapChangeFlags are the flags apply and undo share, and their one replaceable dependency.
type sidmapChangeFlags struct {
	Yes         bool
	Concurrency int
	Journal     string
	NoTxn       bool
	Batch       int

	// openWritable opens the forest to write; nil = Factory.sidmapOpenWritable. Tests replace it.
	openWritable func(ctx context.Context, cfg *config.Config, forest string) (ldapsync.Source, ldapsync.Modifier, error)
}

// addFlags adds --yes, --concurrency and --journal; input names the command's file in help.
func (c *sidmapChangeFlags) addFlags(cmd *cobra.Command, input string) {
	cmd.Flags().BoolVar(&c.Yes, "yes", false, "write the changes (default: dry run)")
	cmd.Flags().IntVar(&c.Concurrency, "concurrency", sidmap.DefaultConcurrency, "changes in flight")
	cmd.Flags().StringVar(&c.Journal, "journal", "", "journal file (default: "+input+".journal)")
	cmd.Flags().BoolVar(&c.NoTxn, "no-txn", false, "send changes one by one even when the server offers LDAP transactions (RFC 5805)")
	cmd.Flags().IntVar(&c.Batch, "batch", sidmap.DefaultBatchSize, "changes per LDAP transaction, when the server offers them")
}

// check refuses a --concurrency out of range.
func (c *sidmapChangeFlags) check(cmd *cobra.Command) error {
	if c.Concurrency < 1 || c.Concurrency > 64 {
		return usageError(cmd, "--concurrency %d: use 1 to 64", c.Concurrency)
	}
	if c.Batch < 1 || c.Batch > 10000 {
		return usageError(cmd, "--batch %d: use 1 to 10000", c.Batch)
	}
	return nil
}

// applyOptions fills in the default journal (stem.journal) and reverse file (stem+suffix, kept
// in *reverse) and returns the options for sidmap.Apply or Undo.
func (c *sidmapChangeFlags) applyOptions(stem string, reverse *string, suffix string) sidmap.ApplyOptions {
	if c.Journal == "" {
		c.Journal = stem + ".journal"
	}
	if *reverse == "" {
		*reverse = stem + suffix
	}
	return sidmap.ApplyOptions{DryRun: !c.Yes, Concurrency: c.Concurrency, JournalPath: c.Journal, UndoPath: *reverse,
		NoTransactions: c.NoTxn, BatchSize: c.Batch}
}

// sidmapChange is what differs between apply and undo when they run.
type sidmapChange struct {
	progress    string // progress bar text
	dryRun      string // dry-run message: "N <dryRun> FOREST"
	reverseNote string // where the reverse LDIF is, for the summary
	// do runs sidmap.Apply or Undo; m is nil on a dry run.
	do func(m ldapsync.Modifier, o sidmap.ApplyOptions) (*sidmap.Result, error)
	// listDryRun, when set, prints the changes of a dry run.
	listDryRun func() error
}

// run makes the change to forest: without --yes a dry run that connects to nothing (the forest
// must still be live), else through a writable connection, reported by reportApply.
func (c *sidmapChangeFlags) run(ctx context.Context, f *Factory, cfg *config.Config, forest string, aopts sidmap.ApplyOptions, ch sidmapChange) error {
	aopts.Forest = forest
	if !c.Yes {
		fc, err := checkLive(cfg, forest)
		if err != nil {
			return err
		}
		if aopts.Base = fc.Base; aopts.Base == "" {
			// The base comes from the server's rootDSE: ask it.
			src, err := f.sidmapOpenForest(ctx, cfg, forest)
			if err != nil {
				return err
			}
			aopts.Base = src.BaseDN()
			src.Close()
		}
		res, err := ch.do(nil, aopts)
		if err != nil {
			return err
		}
		if ch.listDryRun != nil {
			if err := ch.listDryRun(); err != nil {
				return err
			}
		}
		fmt.Fprintf(f.IO.ErrOut, "dry run: %d %s %s (%d already done per %s); nothing written. Run again with --yes to write them.\n",
			res.Items-res.NeverApplied, ch.dryRun, forest, res.AlreadyDone, c.Journal)
		return nil
	}
	open := c.openWritable
	if open == nil {
		open = f.sidmapOpenWritable
	}
	src, m, err := open(ctx, cfg, forest)
	if err != nil {
		return err
	}
	defer src.Close()
	aopts.Base = src.BaseDN()
	aopts.Progress = f.progressReporter(ch.progress)
	res, err := ch.do(m, aopts)
	return reportApply(f, res, err, ch.reverseNote, c.Journal)
}

// reportApply prints the outcome of Apply or Undo and picks the exit status: 3 when any change
// failed or the run was cut short.
func reportApply(f *Factory, res *sidmap.Result, err error, undoNote, journal string) error {
	if res == nil {
		return err
	}
	t := Table{Columns: []string{"dn", "outcome", "ldap_code", "error"}}
	for k, list := range [][]sidmap.Failure{res.Refused, res.Failed, res.InFlight} {
		outcome := [...]string{"refused", "failed", "in flight"}[k]
		for _, fl := range list {
			code := ""
			if fl.Code != 0 {
				code = strconv.Itoa(int(fl.Code))
			}
			t.Append(fl.DN, outcome, code, fl.Error)
		}
	}
	if werr := f.writeData(t, res); werr != nil {
		return werr
	}
	fmt.Fprintf(f.IO.ErrOut, "%d changes: %d applied, %d already done, %d refused, %d failed, %d in flight, %d not attempted; %d transactions; %s; journal %s\n",
		res.Items, res.Applied, res.AlreadyDone, len(res.Refused), len(res.Failed), len(res.InFlight), res.NotAttempted, res.Transactions, undoNote, journal)
	if len(res.InFlight) > 0 {
		fmt.Fprintln(f.IO.ErrOut, "changes in flight may or may not have reached the server: run the same command again to resolve them")
	}
	if res.NeverApplied > 0 {
		fmt.Fprintf(f.IO.ErrOut, "%d of the not attempted were never applied by the run this undoes: nothing to undo there\n", res.NeverApplied)
	}
	if err != nil {
		return runtimeFailure(fmt.Errorf("%w; run the same command again to finish (changes in flight are read back)", err))
	}
	if n := len(res.Refused); n > 0 {
		return runtimeFailure(fmt.Errorf("%d of %d changes refused: those entries changed since the plan; make a new plan for them", n, res.Items))
	}
	if n := len(res.Failed); n > 0 {
		return runtimeFailure(fmt.Errorf("%d of %d changes failed; fix the cause and run the same command again to finish the rest", n, res.Items))
	}
	return nil
}

// checkLive refuses a forest that is an LDIF snapshot: changes need a server.
func checkLive(cfg *config.Config, name string) (*config.Forest, error) {
	fc, err := cfg.Forest(name)
	if err != nil {
		return nil, err
	}
	if !fc.Live() {
		return nil, badInputf("forest %s is an LDIF snapshot (%s): changes need a live forest (url)", fc.Name, fc.LDIF)
	}
	return fc, nil
}

// sidmapOpenForest opens the configured forest called name for reading.
func (f *Factory) sidmapOpenForest(ctx context.Context, cfg *config.Config, name string) (ldapsync.Source, error) {
	fc, err := cfg.Forest(name)
	if err != nil {
		return nil, err
	}
	return f.openConfiguredForest(ctx, fc, false, nil)
}

// sidmapOpenWritable opens the configured live forest called name for writing; snapshots are
// refused.
func (f *Factory) sidmapOpenWritable(ctx context.Context, cfg *config.Config, name string) (ldapsync.Source, ldapsync.Modifier, error) {
	fc, err := checkLive(cfg, name)
	if err != nil {
		return nil, nil, err
	}
	src, err := f.openConfiguredForest(ctx, fc, false, nil)
	if err != nil {
		return nil, nil, err
	}
	m, ok := src.(ldapsync.Modifier)
	if !ok {
		src.Close()
		return nil, nil, badInputf("forest %s cannot be written", name)
	}
	return src, m, nil
}

func setRows(p *sidmap.Plan) []sidmap.Row {
	rows := []sidmap.Row{}
	for _, r := range p.Rows {
		if r.Action == sidmap.ActionSet {
			rows = append(rows, r)
		}
	}
	return rows
}

func readPlanFile(path string) (*sidmap.Plan, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, badInput(err)
	}
	defer fh.Close()
	p, err := sidmap.ReadPlan(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// writeChangesFile writes the plan's changes as LDIF to path, or to stdout for "-".
func writeChangesFile(f *Factory, path string, p *sidmap.Plan) error {
	if path == "-" {
		return sidmap.WriteChanges(f.IO.Out, p)
	}
	return writeFileAs(path, fsutil.Private, true, func(w io.Writer) error { return sidmap.WriteChanges(w, p) })
}

// ---- undo -----------------------------------------------------------------------------------

type sidmapUndoOptions struct {
	f   *Factory
	ctx context.Context

	UndoPath     string
	Forests      sidmapForests
	Redo         string
	ApplyJournal string
	sidmapChangeFlags
}

func newCmdSidmapUndo(f *Factory, runF func(*sidmapUndoOptions) error) *cobra.Command {
	opts := &sidmapUndoOptions{f: f}
	cmd := &cobra.Command{
		Use:   "undo UNDO.ldif",
		Short: "Restore the values an apply replaced (dry run unless --yes)",
		Long: withExitStatus(`Apply an undo LDIF written by 'abkit sidmap apply' (or 'sync-attrs apply') to the resource
forest. The undo file must be the one that apply wrote: its journal (--apply-journal, default
PLAN.journal for PLAN.undo.ldif) records the file's SHA-256, and an edited or foreign file is
refused. Only the entries that apply changed are restored, only under the configured forest's
base and only in the attributes that apply may write; rows apply never made are reported as
not attempted (never applied). Each entry is changed back only while it still holds the value
apply wrote; an entry changed since is refused and reported (exit 3). Like apply it keeps a
journal (--journal, default UNDO.journal), writes a redo LDIF first (--redo, default
UNDO.redo.ldif), and a re-run finishes the rest.`),
		Example: `  abkit sidmap undo plan.undo.ldif          # dry run
  abkit sidmap undo plan.undo.ldif --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			opts.UndoPath = args[0]
			if err := opts.check(cmd); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return sidmapUndoRun(opts)
		},
	}
	opts.Forests.addFlags(cmd, false)
	opts.addFlags(cmd, "UNDO")
	cmd.Flags().StringVar(&opts.Redo, "redo", "", "redo LDIF written before the first change (default: UNDO.redo.ldif)")
	cmd.Flags().StringVar(&opts.ApplyJournal, "apply-journal", "", "journal of the apply that wrote UNDO (default: PLAN.journal for PLAN.undo.ldif)")
	return cmd
}

func sidmapUndoRun(opts *sidmapUndoOptions) error {
	f := opts.f
	cfg, err := f.sidmapConfig(&opts.Forests, false)
	if err != nil {
		return err
	}
	aopts := opts.applyOptions(strings.TrimSuffix(opts.UndoPath, ".ldif"), &opts.Redo, ".redo.ldif")
	if opts.ApplyJournal == "" {
		opts.ApplyJournal = sidmap.ApplyJournalFor(opts.UndoPath)
	}
	aopts.ApplyJournal = opts.ApplyJournal
	data, err := os.ReadFile(opts.UndoPath)
	if err != nil {
		return badInput(err)
	}
	if _, err := checkLive(cfg, opts.Forests.ResourceForest); err != nil {
		return err
	}
	if _, err := change.ReadLDIF(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("%s: %w", opts.UndoPath, err)
	}
	return opts.run(opts.ctx, f, cfg, opts.Forests.ResourceForest, aopts, sidmapChange{
		progress: "restoring", dryRun: "entries to restore in", reverseNote: "redo file " + opts.Redo,
		do: func(m ldapsync.Modifier, o sidmap.ApplyOptions) (*sidmap.Result, error) {
			res, err := sidmap.Undo(opts.ctx, bytes.NewReader(data), m, o)
			if m == nil && err != nil {
				return nil, fmt.Errorf("%s: %w", opts.UndoPath, err)
			}
			return res, err
		},
	})
}

// ---- verify ---------------------------------------------------------------------------------

type sidmapVerifyOptions struct {
	f   *Factory
	ctx context.Context

	Forests sidmapForests
	Base    string
	Filter  string
}

func newCmdSidmapVerify(f *Factory, runF func(*sidmapVerifyOptions) error) *cobra.Command {
	opts := &sidmapVerifyOptions{f: f}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check msRTCSIP-OriginatorSid of every disabled, SIP-enabled resource account",
		Long: withExitStatus(`For every disabled, SIP-enabled resource-forest account (SIP-enabled contact with --topology
central), check that msRTCSIP-OriginatorSid is present and binary (missing, not-binary), resolves
to an existing account of a configured user forest (unresolved, unknown-domain) that is enabled
(user-disabled), agrees with msExchMasterAccountSid when that is set (master-mismatch), and is
carried by no other resource-forest object (duplicate). For a contact, its
msRTCSIP-PrimaryUserAddress must be in its mailbox's proxyAddresses (address-not-in-mailbox).
Accounts whose msExchMasterAccountSid is SELF or another well-known SID need no OriginatorSid.
Exits 1 when there is any finding.`),
		Example: `  abkit sidmap verify
  abkit sidmap verify --base "OU=Sales,DC=res,DC=contoso,DC=com" -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return sidmapVerifyRun(opts)
		},
	}
	opts.Forests.addFlags(cmd, true)
	cmd.Flags().StringVar(&opts.Base, "base", "", "search base in the resource forest (default: the forest's base)")
	cmd.Flags().StringVar(&opts.Filter, "filter", "", "LDAP filter narrowing the resource accounts checked")
	return cmd
}

func sidmapVerifyRun(opts *sidmapVerifyOptions) error {
	f := opts.f
	cfg, err := f.sidmapConfig(&opts.Forests, true)
	if err != nil {
		return err
	}
	src, err := f.sidmapOpenBoth(opts.ctx, cfg, opts.Forests)
	if err != nil {
		return err
	}
	defer src.Close()
	fs, err := sidmap.Verify(opts.ctx, src.user, src.res, sidmap.VerifyOptions{Layout: src.layout, Base: opts.Base, Filter: opts.Filter,
		Progress: f.progressReporter("reading forests")})
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []sidmap.Finding{}
	}
	t := Table{Columns: []string{"dn", "check", "originator_sid", "detail"}}
	for _, x := range fs {
		t.Append(x.DN, x.Check, x.SID.String(), x.Detail)
	}
	if err := f.writeData(t, fs); err != nil {
		return err
	}
	return findings(len(fs), "sidmap findings")
}

// ---- sync-attrs -----------------------------------------------------------------------------

func newCmdSidmapSyncAttrs(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sync-attrs",
		Short: "Copy descriptive attributes from user-forest accounts to their resource accounts",
		Long: `Clients search the resource forest, so the descriptive attributes of each disabled account
should equal its user-forest account's. 'sync-attrs plan' pairs the accounts (through
msRTCSIP-OriginatorSid when set, else the match rules) and lists the attributes that differ;
'sync-attrs apply' writes them with the same conditional, journaled and reversible machinery as
'sidmap apply' (undo with 'sidmap undo'). An attribute the user-forest account lacks is removed.

Default attributes: ` + strings.Join(sidmap.DefaultSyncAttrs, ", ") + `
(configurable with sidmap.sync_attrs or --attrs).`,
	}
	cmd.AddCommand(newCmdSidmapPlan(f, true, nil), newCmdSidmapApply(f, sidmap.KindSyncAttrs, nil))
	return cmd
}
