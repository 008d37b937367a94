// Package cli is abkit's command line: a thin layer of cobra commands over the library packages.
// Each command is an options struct, a constructor (newCmdX) and a run function (xRun); exit codes
// are decided in exitcode.go only.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// Factory carries what every command needs: the streams and the global flags.
type Factory struct {
	IO *IOStreams

	ConfigPath string // --config
	Output     string // -o/--output as given ("" when not given)
	NoProgress bool   // --no-progress
	Verbose    bool   // -v
	Strict     bool   // --strict: an LDIF snapshot record that cannot be read is bad input

	snapshots snapshotReports // LDIF snapshots the command opened
}

// Main runs abkit with the process's arguments and streams and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal the run winds down and exits ExitInterrupted; restoring the
		// default handling lets a second Ctrl-C end the process at once.
		<-ctx.Done()
		stop()
	}()
	return Run(ctx, os.Args[1:], SystemStreams())
}

// Run executes one abkit command line and returns its exit code. Errors are printed on stderr.
func Run(ctx context.Context, args []string, io *IOStreams) int {
	f := &Factory{IO: io}
	root := newRootCmd(f)
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.ErrOut)
	ran := false
	enforceUsage(root, func() { ran = true }) // after SetOut: the completion command keeps its writer
	cmd, err := root.ExecuteContextC(ctx)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		err = interrupted(err)
	case !ran && exitCode(err) == ExitRuntime:
		// cobra's own checks (required flags, flag groups) failed before the command ran.
		err = usageError(cmd, "%v", err)
	}
	if ctx.Err() == nil {
		err = f.snapshots.check(io.ErrOut, err)
	}
	if err != nil {
		var fe *findingsError
		if errors.As(err, &fe) {
			if f.Verbose || io.StderrTTY {
				fmt.Fprintf(io.ErrOut, "abkit: %v\n", err)
			}
		} else {
			fmt.Fprintf(io.ErrOut, "abkit: %v\n", err)
		}
	}
	return exitCode(err)
}

// CommandTree returns abkit's whole command tree as Run executes it, for generators of
// documentation (man pages, completions); running it is Run's job.
func CommandTree() *cobra.Command {
	root := newRootCmd(&Factory{IO: SystemStreams()})
	enforceUsage(root, func() {})
	return root
}

func newRootCmd(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "abkit",
		Short: "Address book, Active Directory and back-end database toolkit for OCS 2007 R2 and Lync",
		Long: `abkit decodes Office Communications Server address book files (.lsabs, .dabs) on any
operating system, reads Active Directory user and resource forests over LDAP, talks to the OCS
back-end database, finds duplicate SIP addresses across all three and fixes them safely, maps SIDs
across forests, and runs the lot as a scheduled audit.

Data goes to stdout (a table on a terminal, TSV when piped, or -o json|csv|tsv|table);
messages and progress go to stderr.

` + exitStatusHelp,
		Version:       currentVersion().String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if _, err := parseFormat(f.Output); err != nil && !acceptsLDIF(cmd, f.Output) {
				return err
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return badInput(fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath()))
	})
	root.SetVersionTemplate("{{.Version}}\n")
	pf := root.PersistentFlags()
	pf.StringVar(&f.ConfigPath, "config", "", "configuration file (YAML); default $ABKIT_CONFIG")
	pf.StringVarP(&f.Output, "output", "o", "", "output format: table|json|csv|tsv (default: table on a terminal, tsv when piped)")
	pf.BoolVar(&f.NoProgress, "no-progress", false, "never show progress bars")
	pf.BoolVarP(&f.Verbose, "verbose", "v", false, "more messages on stderr")
	pf.BoolVar(&f.Strict, "strict", false, "refuse an LDIF snapshot with a record that cannot be read (exit 2) instead of skipping the record (exit 3)")

	for _, group := range commandGroups(f) {
		root.AddCommand(group)
	}
	return root
}

// commandGroups lists the top-level command groups, in the order `abkit --help` shows them.
func commandGroups(f *Factory) []*cobra.Command {
	return []*cobra.Command{
		newCmdAbs(f),
		newCmdPhone(f),
		newCmdRTC(f),
		newCmdLdap(f),
		newCmdConfig(f),
		newCmdSidmap(f),
		newCmdDupes(f, nil),
		newCmdAudit(f, nil),
		newCmdVersion(f),
	}
}

// withExitStatus appends the exit status section to a command's long help.
func withExitStatus(long string) string {
	return long + "\n\n" + exitStatusHelp
}

// usageError is the error a command returns for wrong arguments (exit 2).
func usageError(cmd *cobra.Command, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if cmd.HasParent() { // Run prefixes every message with "abkit: " already
		msg = strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ") + ": " + msg
	}
	return badInput(fmt.Errorf("%s (see '%s --help')", msg, cmd.CommandPath()))
}
