package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
	"github.com/spf13/cobra"
)

// dupesSourceFlags select what `dupes` and `dupes fix` read.
type dupesSourceFlags struct {
	Forests   []string // --forest; none = every configured forest
	ABSFile   string   // --abs
	ABSFolder string   // --abs-folder; default: the configured abs.folder
	NoABS     bool     // --no-abs
	RTC       bool     // --rtc
	Phones    bool     // --phones
	Rules     string   // --rules
}

// register adds the source flags to cmd and checks them before it runs.
func (s *dupesSourceFlags) register(cmd *cobra.Command) {
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error { return s.validate(cmd) }
	fl := cmd.Flags()
	fl.StringArrayVar(&s.Forests, "forest", nil, "configured forest to read (repeatable; default: every configured forest)")
	fl.StringVar(&s.ABSFile, "abs", "", "address book file to read (.lsabs)")
	fl.StringVar(&s.ABSFolder, "abs-folder", "", "read the newest full address book file in this folder, with its deltas (default: the configured abs.folder)")
	fl.BoolVar(&s.NoABS, "no-abs", false, "read no address book file, even when abs.folder is configured")
	fl.BoolVar(&s.RTC, "rtc", false, "check which objects have an AbUserEntry row in the configured rtc database")
	fl.BoolVar(&s.Phones, "phones", false, "also find phone lines shared by several SIP-enabled users")
	fl.StringVar(&s.Rules, "rules", "", "phone normalization rules file (default: abs.rules, else the address book file's rules, else E164)")
}

// validate checks the flags that cobra cannot: at most one address book choice.
func (s *dupesSourceFlags) validate(cmd *cobra.Command) error {
	n := 0
	for _, set := range []bool{s.ABSFile != "", s.ABSFolder != "", s.NoABS} {
		if set {
			n++
		}
	}
	if n > 1 {
		return usageError(cmd, "--abs, --abs-folder and --no-abs exclude each other")
	}
	return nil
}

// noArgs rejects positional arguments as a usage error (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(cmd, "unexpected argument %q", args[0])
	}
	return nil
}

// dupesSession holds the opened inputs of one run; close releases them.
type dupesSession struct {
	cfg     *config.Config
	inputs  dupes.Inputs
	rows    *dupesRows     // set with --rtc
	book    *dupes.ABSFile // set when an address book is read
	closers []func() error
}

func (s *dupesSession) close() {
	for _, c := range s.closers {
		_ = c()
	}
}

// modifiers returns the writable (live) forests by name.
func (s *dupesSession) modifiers() map[string]ldapsync.Modifier {
	out := map[string]ldapsync.Modifier{}
	for _, src := range s.inputs.Forests {
		if m, ok := src.(ldapsync.Modifier); ok {
			out[src.Name()] = m
		}
	}
	return out
}

// openDupesSources loads the configuration when one is named (it is required for forests and
// --rtc) and opens every input.
func openDupesSources(ctx context.Context, f *Factory, fl *dupesSourceFlags, desc string) (*dupesSession, error) {
	s := &dupesSession{}
	cfg, err := f.loadConfig()
	switch {
	case errors.Is(err, errNoConfig):
		if len(fl.Forests) > 0 || fl.RTC {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		s.cfg = cfg
	}
	ok := false
	defer func() {
		if !ok {
			s.close()
		}
	}()
	if s.cfg != nil {
		names := fl.Forests
		if len(names) == 0 {
			for _, fc := range s.cfg.Forests {
				names = append(names, fc.Name)
			}
		}
		for _, n := range names {
			fc, err := s.cfg.Forest(n)
			if err != nil {
				return nil, err
			}
			src, err := f.dupesOpenForest(ctx, fc)
			if err != nil {
				return nil, err
			}
			s.closers = append(s.closers, src.Close)
			s.inputs.Forests = append(s.inputs.Forests, src)
		}
	}
	if err := s.openAddressBook(fl); err != nil {
		return nil, err
	}
	if len(s.inputs.Forests) == 0 && s.inputs.AddressBook == nil {
		return nil, badInputf("nothing to read: configure forests (--config) or give --abs FILE or --abs-folder DIR")
	}
	if fl.RTC {
		if s.cfg.RTC == nil {
			return nil, badInputf("--rtc: the configuration has no rtc section")
		}
		rows, err := f.openRTCRows(ctx)
		if err != nil {
			return nil, runtimeOrBadInput(err)
		}
		s.closers = append(s.closers, rows.Close)
		s.rows = rows
		s.inputs.RTC = s.rows
	}
	s.inputs.Phones = fl.Phones
	if fl.Phones {
		if err := s.openRules(fl); err != nil {
			return nil, err
		}
	}
	s.inputs.Progress = f.progressReporter(desc)
	ok = true
	return s, nil
}

type dupesOptions struct {
	f   *Factory
	src dupesSourceFlags
}

func newCmdDupes(f *Factory, runF func(*dupesOptions) error) *cobra.Command {
	opts := &dupesOptions{f: f}
	cmd := &cobra.Command{
		Use:   "dupes",
		Short: "Find duplicate SIP addresses (and phone lines) across forests, address book files and the database",
		Long: withExitStatus(`Find every SIP address carried by more than one object: users, contacts and groups, through
msRTCSIP-PrimaryUserAddress or sip: proxyAddresses, compared case-insensitively with the sip: prefix
and surrounding spaces ignored. Sources, in any combination: the configured forests (live or LDIF
snapshots), an address book file (or the newest full file of a folder with its deltas), and the
rtc database (which objects have an AbUserEntry row). With --phones, also find a phone line
(msRTCSIP-Line, else telephoneNumber normalized with the address book rules) shared by several
SIP-enabled users.

Each duplicated value is one group of lines, one per object, best first: the first is the
recommended keeper, with the reason. An enabled, SIP-enabled user beats a contact, a contact
beats a group; then enabled beats disabled, visible beats hidden, the primary attribute beats a
proxy address, the forest listed first wins, then the lowest DN.

JSON output is one object: {"sip": [row...], "phone": [row...], "objects": N, "sources": [...]},
each row {"check", "value", "members": [...], "reason"} with the keeper first.`),
		Example: `  # every configured forest, plus the configured address book folder
  abkit dupes --config abkit.yaml

  # one address book file, no configuration needed
  abkit dupes --abs F-24F1.lsabs

  # two forests, the newest file in a folder, AbUserEntry rows and phone lines, as JSON
  abkit dupes --forest userforest --forest resforest --abs-folder /srv/abs --rtc --phones -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return dupesRun(cmd.Context(), opts)
		},
	}
	opts.src.register(cmd)
	cmd.AddCommand(newCmdDupesFix(f, nil), newCmdDupesUndo(f, nil))
	return cmd
}

func dupesRun(ctx context.Context, opts *dupesOptions) error {
	s, err := openDupesSources(ctx, opts.f, &opts.src, "reading objects")
	if err != nil {
		return err
	}
	defer s.close()
	rep, err := dupes.Find(ctx, s.inputs)
	if err != nil {
		return runtimeOrBadInput(err)
	}
	printWarnings(opts.f, rep.Warnings)
	if err := opts.f.writeData(reportTable(rep), rep); err != nil {
		return err
	}
	return findings(rep.Count(), countWhat(rep))
}

// runtimeOrBadInput keeps errors whose exit status is decided (bad input, or already marked)
// as they are and marks the rest as runtime failures.
func runtimeOrBadInput(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	var be interface{ BadInput() bool }
	if errors.As(err, &be) && be.BadInput() {
		return err
	}
	return runtimeFailure(err)
}

func printWarnings(f *Factory, warns []string) {
	const most = 20
	for i, w := range warns {
		if i == most && !f.Verbose {
			fmt.Fprintf(f.IO.ErrOut, "abkit: warning: %d more (use -v to see them)\n", len(warns)-most)
			return
		}
		fmt.Fprintf(f.IO.ErrOut, "abkit: warning: %s\n", w)
	}
}

func countWhat(rep *dupes.Report) string {
	parts := []string{fmt.Sprintf("duplicate SIP address(es): %d", len(rep.SIP))}
	if rep.Phone != nil {
		parts = append(parts, fmt.Sprintf("duplicate phone line(s): %d", len(rep.Phone)))
	}
	return "duplicated values (" + strings.Join(parts, ", ") + ")"
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "?"
	case *b:
		return "yes"
	}
	return "no"
}

// reportTable flattens a report: one line per object, grouped by duplicated value, keeper first.
func reportTable(rep *dupes.Report) Table {
	t := Table{Columns: []string{"check", "value", "keep", "kind", "forest", "dn", "guid", "display_name", "enabled",
		"sip_enabled", "hidden", "in_address_book", "in_rtc", "via", "reason"},
		Narrow: []string{"guid", "via", "hidden", "enabled", "sip_enabled", "in_rtc", "in_address_book", "check", "forest"}}
	for _, rows := range [][]dupes.Row{rep.SIP, rep.Phone} {
		for _, r := range rows {
			for _, m := range r.Members {
				keep, reason := "lose", ""
				if m.Keep {
					keep, reason = "KEEP", r.Reason
				}
				hidden := m.Hidden
				t.Append(string(r.Check), r.Value, keep, string(m.Kind), m.Forest, m.DN, m.GUID.String(), m.DisplayName,
					yesNo(m.Enabled), yesNo(m.SIPEnabled), yesNo(&hidden), yesNo(m.InAddressBook), yesNo(m.InRTC),
					strings.Join(m.Via, ","), reason)
			}
		}
	}
	return t
}
