package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/abkit/abkit/abs"
	"github.com/spf13/cobra"
)

type absApplyOptions struct {
	f         *Factory
	FullPath  string
	DeltaPath string
	Out       string // -w
	Force     bool
}

func newCmdAbsApply(f *Factory, runF func(*absApplyOptions) error) *cobra.Command {
	opts := &absApplyOptions{f: f}
	cmd := &cobra.Command{
		Use:   "apply FULL DELTA -w OUT",
		Short: "Apply a delta or compact delta to a full file, giving the next day's full file",
		Long: withExitStatus(`Apply a delta (D-XXXX-YYYY) or compact delta (C-XXXX-YYYY) to the full file of day XXXX
(F-XXXX), as a client does, and write the full file of day YYYY to OUT.

The delta must be based on the full file's day and define the same attributes. OUT is written
atomically (a temporary file in the same directory, synced, then renamed): it is never seen
half-written, and an existing OUT is refused unless --force is given.

OUT ends with the full file's trailer ([MS-ABS] 2.2.14), carried over as the opaque bytes it is
(its layout is not public, so it is not checked against the new contents; the delta's own
trailer describes the delta and is not used); a full file without one gives OUT abkit's empty
trailer. A note on stderr says which.`),
		Example: `  abkit abs apply F-0A8B.lsabs D-0A8B-0A8C.lsabs -w F-0A8C.lsabs
  abkit abs apply F-0A8B.lsabs C-0A8B-0A8C.lsabs -w /tmp/F-0A8C.lsabs --force`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.FullPath, opts.DeltaPath = args[0], args[1]
			if opts.Out == "" {
				return usageError(cmd, "-w OUT is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return absApplyRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Out, "write", "w", "", "write the resulting full file to `OUT`")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite OUT when it exists")
	return cmd
}

func absApplyRun(ctx context.Context, opts *absApplyOptions) error {
	f := opts.f
	full, _, err := f.readBook(ctx, opts.FullPath)
	if err != nil {
		return err
	}
	delta, _, err := f.readBook(ctx, opts.DeltaPath)
	if err != nil {
		return err
	}
	next, err := abs.Apply(full, delta)
	if err != nil {
		return badInput(err)
	}
	if err := writeBook(opts.Out, opts.Force, next); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "wrote %s: full file of day %s (%s), %d contacts\n",
		opts.Out, next.Header.Day, next.Header.Time().Format("2006-01-02"), len(next.Contacts))
	if full.Trailer != nil {
		fmt.Fprintf(f.IO.ErrOut, "trailer: %d bytes from %s: %s\n", len(full.Trailer), opts.FullPath, abs.ApplyTrailerNote)
	} else {
		fmt.Fprintf(f.IO.ErrOut, "trailer: %s has none; wrote abkit's empty trailer\n", opts.FullPath)
	}
	return nil
}

// writeBook writes b to path atomically (see writeFileAtomic).
func writeBook(path string, force bool, b *abs.Book) error {
	return writeFileAtomic(path, force, func(w io.Writer) error {
		if err := abs.Write(w, b); err != nil {
			return runtimeFailure(fmt.Errorf("write %s: %w", path, err))
		}
		return nil
	})
}
