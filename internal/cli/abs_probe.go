package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

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
points to the rule to correct. A file that may be compressed is reported as such: abkit does not
guess a compression format.

-o json gives the same as one object (the bytes around the mismatch as a hex string). The exit
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
			return absProbeRun(opts)
		},
	}
	cmd.Flags().IntVar(&opts.Context, "context", 64, "bytes of hex view before and after the mismatch")
	return cmd
}

func absProbeRun(opts *absProbeOptions) error {
	f := opts.f
	file, err := os.Open(opts.Path)
	if err != nil {
		return badInput(err)
	}
	defer file.Close()
	st, err := file.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", opts.Path)
	}
	if err != nil {
		return badInput(err)
	}
	pr := f.progressReporter("probing " + opts.Path)
	pr.Start(st.Size(), "bytes")
	rep := abs.Probe(&progressReaderAt{r: file, pr: pr}, st.Size())
	pr.Done()

	var hex []byte // the bytes around the mismatch, from file offset hexStart
	var hexStart, mismatch int64
	if off, ok := rep.MismatchOffset(); ok {
		mismatch = off
		hexStart = max(off-int64(opts.Context), 0) &^ 15
		if end := min(off+int64(opts.Context)+1, rep.Size); end > hexStart {
			hex = make([]byte, end-hexStart)
			n, rerr := file.ReadAt(hex, hexStart)
			if rerr != nil && rerr != io.EOF {
				return runtimeFailure(rerr)
			}
			hex = hex[:n]
		}
	}
	var readErr error
	if rep.Err != nil {
		readErr = fmt.Errorf("%s: %w", opts.Path, rep.Err)
	}
	if f.format() == FormatJSON {
		if err := writeJSON(f.IO.Out, probeJSON(opts.Path, rep, hex, hexStart, mismatch)); err != nil {
			return runtimeFailure(err)
		}
		return readErr
	}

	w := f.IO.Out
	fmt.Fprintf(w, "%s: %d bytes, %s file\n\n", opts.Path, rep.Size, rep.Kind)
	t := Table{Columns: []string{"offset", "length", "structure", "details"}}
	for _, s := range rep.Steps {
		t.Append(fmt.Sprintf("0x%X", s.Offset), fmt.Sprint(s.Length), s.Structure, s.Detail)
	}
	if err := writeTable(w, t); err != nil {
		return runtimeFailure(err)
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
	if len(hex) > 0 {
		fmt.Fprintf(w, "\n%s", hexView(hex, hexStart, mismatch))
	}
	return readErr
}

type absProbeJSON struct {
	File        string          `json:"file"`
	Size        int64           `json:"size"`
	Kind        string          `json:"kind"`
	Steps       []absProbeStep  `json:"steps"`
	Contacts    int             `json:"contacts"`
	Provisional []string        `json:"provisional"`
	Mismatch    *absProbeReport `json:"mismatch,omitempty"`
}

type absProbeStep struct {
	Offset    int64  `json:"offset"`
	Length    int64  `json:"length"`
	Structure string `json:"structure"`
	Detail    string `json:"detail"`
}

type absProbeReport struct {
	Offset   int64  `json:"offset"`
	Message  string `json:"message"`
	HexStart int64  `json:"hex_start"`
	Hex      string `json:"hex"` // the bytes from hex_start, in hex
}

func probeJSON(path string, rep *abs.ProbeReport, hex []byte, hexStart, mismatch int64) absProbeJSON {
	j := absProbeJSON{File: path, Size: rep.Size, Kind: rep.Kind.String(), Steps: []absProbeStep{},
		Contacts: rep.Contacts, Provisional: rep.Provisional}
	for _, s := range rep.Steps {
		j.Steps = append(j.Steps, absProbeStep{s.Offset, s.Length, s.Structure, s.Detail})
	}
	if rep.Err != nil {
		j.Mismatch = &absProbeReport{Offset: mismatch, Message: rep.Err.Error(), HexStart: hexStart, Hex: fmt.Sprintf("%x", hex)}
	}
	return j
}

// hexView formats data (which starts at file offset base) 16 bytes per line: the offset, the
// bytes in hex, and the printable ASCII. The byte at mark is bracketed and its line flagged.
func hexView(data []byte, base, mark int64) string {
	var b strings.Builder
	for i := 0; i < len(data); i += 16 {
		line := data[i:min(i+16, len(data))]
		off := base + int64(i)
		flag := "  "
		if mark >= off && mark < off+16 {
			flag = "> "
		}
		fmt.Fprintf(&b, "%s%08X ", flag, off)
		for j := range 16 {
			sep := byte(' ')
			if off+int64(j) == mark {
				sep = '['
			} else if off+int64(j) == mark+1 && j > 0 {
				sep = ']'
			}
			if j == 8 && sep == ' ' {
				b.WriteByte(' ')
			}
			b.WriteByte(sep)
			if j < len(line) {
				fmt.Fprintf(&b, "%02X", line[j])
			} else {
				b.WriteString("  ")
			}
		}
		if off+16 == mark+1 {
			b.WriteByte(']')
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(" |")
		for _, c := range line {
			if c >= 0x20 && c < 0x7F {
				b.WriteByte(c)
			} else {
				b.WriteByte('.')
			}
		}
		b.WriteString("|\n")
	}
	return b.String()
}
