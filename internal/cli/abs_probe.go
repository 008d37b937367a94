package cli

import (
	"context"
	"fmt"

	"github.com/abkit/abkit/abs"
	"github.com/spf13/cobra"
)

type absProbeOptions struct {
	f       *Factory
	Path    string
	Context int // --context: bytes shown before and after the mismatch
}

func newCmdAbsProbe(f *Factory, runF func(*absProbeOptions) error) *cobra.Command {
	opts := &absProbeOptions{f: f}
	cmd := &cobra.Command{
		Use:   "probe FILE",
		Short: "Show how far a file matches the address book layout, and where it stops",
		Long: withExitStatus(`Diagnose a file that does not decode (or check one that does): walk the address book
layout as far as it matches and list each structure found (offset, length, structure, details:
header fields, rules length, attribute records, contact records), then the first mismatch with
what was expected there and a hex view around it (16 bytes per line with their offsets, the
offending byte marked).

Parts of the layout that no readable part of [MS-ABS] covers are abkit's provisional choice; the
ones this file was read under are listed, so that a real server file that stops at one of them
points to the rule to correct. The trailer ([MS-ABS] 2.2.14) is the last structure listed.

When the file does not parse as an uncompressed stream, probe looks for a compression container
without guessing its layout: block headers of a few generic shapes (stored size, decoded size
and CRC-32 fields, u32 or u16) whose sizes tile the file, each block decoded as stored bytes,
raw deflate, zlib or MSZIP ('CK' + deflate), and the whole file as gzip, zlib or raw deflate
(Go's standard library; XPRESS and LZX are not tried: no maintained Go package offers them). A
candidate is named only when every check passes: the sizes tile the file, every block decodes,
every block's CRC-32 matches its stored or decoded bytes (gzip and zlib verify their own
checksums), and the decoded stream starts with a known FileType GUID. Each check is listed with
where it passed or failed; on random bytes nothing is claimed.

-o json gives the same as one object; -o csv and -o tsv give the structure list only (the
mismatch is then the error message on stderr). The exit
status is 0 when the whole file matches and 2 when it does not.`),
		Example: `  abkit abs probe F-0A8C.lsabs
  abkit abs probe --context 128 suspicious.lsabs`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			if opts.Context < 0 || opts.Context > 4096 {
				return usageError(cmd, "--context must be between 0 and 4096")
			}
			if runF != nil {
				return runF(opts)
			}
			return absProbeRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().IntVar(&opts.Context, "context", 64, "bytes of hex view before and after the mismatch")
	return cmd
}

func absProbeRun(ctx context.Context, opts *absProbeOptions) error {
	f := opts.f
	file, st, err := abs.OpenRegular(opts.Path)
	if err != nil {
		return badInput(err)
	}
	defer file.Close()
	pr := f.progressReporter("probing " + opts.Path)
	pr.Start(st.Size(), "bytes")
	rep := abs.Probe(&progressReaderAt{r: file, pr: pr, ctx: ctx}, st.Size())
	if err := ctx.Err(); err != nil {
		pr.Done()
		return err
	}
	pr.Done()

	var view string // hex view around the mismatch
	var readErr error
	if rep.Err != nil {
		readErr = fmt.Errorf("%s: %w", opts.Path, rep.Err)
		if off, ok := rep.MismatchOffset(); ok {
			if view, err = abs.HexView(file, rep.Size, off, opts.Context); err != nil {
				view = err.Error()
			}
		}
	}
	if f.format() == FormatJSON {
		if err := writeJSON(f.IO.Out, probeJSON(opts.Path, rep, view)); err != nil {
			return runtimeFailure(err)
		}
		return readErr
	}

	t := Table{Columns: []string{"offset", "length", "structure", "detail"}}
	for _, s := range rep.Steps {
		t.Append(fmt.Sprintf("0x%X", s.Offset), fmt.Sprint(s.Length), s.Structure, s.Detail)
	}
	if fm := f.format(); f.Output != "" && fm != FormatTable { // -o csv|tsv: the steps only; the mismatch is the error on stderr
		if err := writeFormatted(f.IO.Out, fm, t, nil); err != nil {
			return runtimeFailure(err)
		}
		return readErr
	}
	w := f.IO.Out
	fmt.Fprintf(w, "%s: %d bytes, %s file\n\n", opts.Path, rep.Size, rep.Kind)
	if err := writeTable(w, t); err != nil {
		return runtimeFailure(err)
	}
	if rep.TrailerNote != "" {
		fmt.Fprintf(w, "\ntrailer: %s\n", rep.TrailerNote)
	}
	if len(rep.Provisional) > 0 {
		fmt.Fprintf(w, "\nread under provisional layout rules:\n")
		for _, p := range rep.Provisional {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	if rep.Err == nil {
		fmt.Fprintf(w, "\nthe whole file matches: %d contacts\n", rep.Contacts)
		return nil
	}
	fmt.Fprintf(w, "\nfirst mismatch after %d contacts:\n  %v\n", rep.Contacts, rep.Err)
	if view != "" {
		fmt.Fprintf(w, "\n%s", view)
	}
	if rep.Container != nil {
		fmt.Fprintf(w, "\n%s", rep.Container)
	}
	return readErr
}

type absProbeJSON struct {
	File        string               `json:"file"`
	Size        int64                `json:"size"`
	Kind        string               `json:"kind"`
	Steps       []absProbeStep       `json:"steps"`
	Contacts    int                  `json:"contacts"`
	Trailer     *abs.Trailer         `json:"trailer,omitempty"`
	TrailerNote string               `json:"trailer_note,omitempty"`
	Provisional []string             `json:"provisional"`
	Mismatch    *absProbeReport      `json:"mismatch,omitempty"`
	Container   *abs.ContainerReport `json:"container,omitempty"`
}

type absProbeStep struct {
	Offset    int64  `json:"offset"`
	Length    int64  `json:"length"`
	Structure string `json:"structure"`
	Detail    string `json:"detail"`
}

type absProbeReport struct {
	Offset  int64  `json:"offset"`
	Message string `json:"message"`
	HexView string `json:"hex_view"` // the text view of the bytes around Offset
}

func probeJSON(path string, rep *abs.ProbeReport, view string) absProbeJSON {
	j := absProbeJSON{File: path, Size: rep.Size, Kind: rep.Kind.String(), Steps: []absProbeStep{},
		Contacts: rep.Contacts, Trailer: rep.Trailer, TrailerNote: rep.TrailerNote, Provisional: rep.Provisional,
		Container: rep.Container}
	for _, s := range rep.Steps {
		j.Steps = append(j.Steps, absProbeStep{s.Offset, s.Length, s.Structure, s.Detail})
	}
	if rep.Err != nil {
		off, _ := rep.MismatchOffset()
		j.Mismatch = &absProbeReport{Offset: off, Message: rep.Err.Error(), HexView: view}
	}
	return j
}
