package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/abkit/abkit/abs"
	"github.com/spf13/cobra"
)

type absGenOptions struct {
	f          *Factory
	Contacts   int
	Seed       uint64
	Duplicates int
	Day        string // --day
	DeltaTo    string // --delta-to
	Compact    bool
	Device     bool
	Out        string // -w
	Dir        string // --dir
	Force      bool
}

func newCmdAbsGen(f *Factory, runF func(*absGenOptions) error) *cobra.Command {
	opts := &absGenOptions{f: f}
	cmd := &cobra.Command{
		Use:   "gen --contacts N --seed S (-w FILE | --dir DIR)",
		Short: "Generate a deterministic synthetic address book file",
		Long: withExitStatus(`Generate a synthetic address book for tests, demos and benchmarks: users with SIP addresses,
raw and normalized phone numbers and multi-valued proxyAddresses, mail contacts, and groups, of which
--duplicates share a user's SIP address (the case that makes Communicator show a person twice). The
same options and seed always give the same bytes.

The full file of --day (four hex digits as in file names, or a date YYYY-MM-DD; default 0A10,
2008-01-21) is written to -w FILE. With --delta-to DAY the generated book is changed day by day up
to DAY (at most 29 days later), and -w FILE receives the delta D-<day>-<DAY> (--compact: the compact delta C-...) instead.
With --dir DIR (created when missing) every file gets its server name in DIR: F-<day>, and with --delta-to also F-<DAY>,
D-<day>-<DAY> and C-<day>-<DAY>. Files are written atomically; existing ones are refused unless
--force is given.`),
		Example: `  abkit abs gen --contacts 200000 --seed 1 -w F-0A10.lsabs
  abkit abs gen --contacts 40 --seed 7 --duplicates 3 --day 2008-05-23 --delta-to 2008-05-24 --dir testbooks/
  abkit abs gen --contacts 1000 --seed 2 --device -w F-0A10.dabs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (opts.Out == "") == (opts.Dir == "") {
				return usageError(cmd, "give exactly one of -w FILE and --dir DIR")
			}
			if opts.Contacts <= 0 {
				return usageError(cmd, "--contacts must be at least 1")
			}
			if opts.Compact && opts.DeltaTo == "" {
				return usageError(cmd, "--compact needs --delta-to")
			}
			if runF != nil {
				return runF(opts)
			}
			return absGenRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Contacts, "contacts", abs.GenerateContacts, "number of objects (users, contacts and groups)")
	fl.Uint64Var(&opts.Seed, "seed", 1, "random seed: the same seed gives the same file")
	fl.IntVar(&opts.Duplicates, "duplicates", 0, "groups that share a user's SIP address")
	fl.StringVar(&opts.Day, "day", "0A10", "creation day: XXXX (hex day number) or YYYY-MM-DD")
	fl.StringVar(&opts.DeltaTo, "delta-to", "", "change the book up to this later `DAY` and write the delta")
	fl.BoolVar(&opts.Compact, "compact", false, "with --delta-to and -w: write the compact delta")
	fl.BoolVar(&opts.Device, "device", false, "a device book (.dabs): only attributes with the device bit")
	fl.StringVarP(&opts.Out, "write", "w", "", "write the file to `FILE`")
	fl.StringVar(&opts.Dir, "dir", "", "write the files with their server names into `DIR`")
	fl.BoolVar(&opts.Force, "force", false, "overwrite existing files")
	return cmd
}

// maxDeltaDays is the longest span --delta-to accepts: the server keeps up to 29 deltas per full
// file.
const maxDeltaDays = 29

func absGenRun(opts *absGenOptions) error {
	f := opts.f
	day, err := parseDay(opts.Day)
	if err != nil {
		return badInputf("--day: %w", err)
	}
	first := abs.Generate(abs.GenOptions{Contacts: opts.Contacts, Seed: opts.Seed, Duplicates: opts.Duplicates, Day: day, Device: opts.Device})
	books := []*abs.Book{first} // what to write
	if opts.DeltaTo != "" {
		to, err := parseDay(opts.DeltaTo)
		if err != nil {
			return badInputf("--delta-to: %w", err)
		}
		if to <= day || to-day > maxDeltaDays {
			return badInputf("--delta-to %s must be 1 to %d days after --day %s", to, maxDeltaDays, day)
		}
		last := first
		for d := day; d < to; d++ {
			last = abs.NextDay(last, abs.ChangeOptions{Seed: opts.Seed + uint64(d-day) + 1})
		}
		delta, err := abs.Diff(first, last, false)
		if err != nil {
			return runtimeFailure(err)
		}
		compact, err := abs.Diff(first, last, true)
		if err != nil {
			return runtimeFailure(err)
		}
		switch {
		case opts.Dir != "":
			books = []*abs.Book{first, last, delta, compact}
		case opts.Compact:
			books = []*abs.Book{compact}
		default:
			books = []*abs.Book{delta}
		}
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil { // the help's example names a new folder
			return badInput(err)
		}
	}
	for _, b := range books {
		path := opts.Out
		if opts.Dir != "" {
			path = filepath.Join(opts.Dir, b.Header.FileName(opts.Device).String())
		}
		if err := writeBook(path, opts.Force, b); err != nil {
			return err
		}
		fmt.Fprintf(f.IO.ErrOut, "wrote %s: %s file of day %s, %d contacts\n", path, b.Header.Kind, b.Header.Day, len(b.Contacts))
	}
	return nil
}

// parseDay parses a day as in address book file names (four hex digits) or as a date YYYY-MM-DD.
func parseDay(s string) (abs.Day, error) {
	if strings.Count(s, "-") == 2 {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a date YYYY-MM-DD", s)
		}
		return abs.DayOf(t)
	}
	if len(s) != 4 {
		return 0, fmt.Errorf("%q: want four hexadecimal digits (0A10) or a date (2008-01-21)", s)
	}
	v, err := strconv.ParseUint(s, 16, 16)
	if err != nil {
		return 0, fmt.Errorf("%q: want four hexadecimal digits (0A10) or a date (2008-01-21)", s)
	}
	return abs.Day(v), nil
}
