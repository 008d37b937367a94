package cli

import (
	"context"
	"errors"
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
half-written, and an existing OUT is refused unless --force is given. The full file is streamed
and so is the delta (each read twice, neither held in memory).

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
	full, err := f.openABS(ctx, opts.FullPath)
	if err != nil {
		return err
	}
	defer full.Close()
	delta, err := f.openABS(ctx, opts.DeltaPath)
	if err != nil {
		return err
	}
	defer delta.Close()
	var h abs.Header
	var n int
	err = writeFileAtomic(opts.Out, opts.Force, func(w io.Writer) error {
		var err error
		h, n, err = abs.ApplyStream(full.Reader, delta.Reader, w)
		return applyError(opts, err)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.ErrOut, "wrote %s: full file of day %s (%s), %d contacts\n",
		opts.Out, h.Day, h.Time().Format("2006-01-02"), n)
	if t, err := full.Trailer(); err == nil && t.Present {
		fmt.Fprintf(f.IO.ErrOut, "trailer: %d bytes from %s: %s\n", t.Length, opts.FullPath, abs.ApplyTrailerNote)
	} else {
		fmt.Fprintf(f.IO.ErrOut, "trailer: %s has none; wrote abkit's empty trailer\n", opts.FullPath)
	}
	return nil
}

// applyError maps an error of abs.ApplyStream to its exit status, naming the file it is about: a
// failure to write OUT is a runtime failure, anything else bad input.
func applyError(opts *absApplyOptions, err error) error {
	var we *abs.WriteError
	var ae *abs.ApplyError
	var se *abs.SideError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &we):
		return runtimeFailure(fmt.Errorf("write %s: %w", opts.Out, we.Err))
	case errors.As(err, &ae):
		return badInput(fmt.Errorf("%s: %w", applyPath(opts, ae.Delta), err))
	case errors.As(err, &se):
		return badInput(fmt.Errorf("%s: %w", applyPath(opts, se.New), se.Err))
	}
	return badInput(err)
}

// applyPath names the delta or the full file.
func applyPath(opts *absApplyOptions, delta bool) string {
	if delta {
		return opts.DeltaPath
	}
	return opts.FullPath
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
