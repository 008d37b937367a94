package cli

import (
	"bufio"
	"encoding/csv"
	"strconv"

	"github.com/abkit/abkit/abs"
	"github.com/spf13/cobra"
)

type absDumpOptions struct {
	f    *Factory
	Path string
}

func newCmdAbsDump(f *Factory, runF func(*absDumpOptions) error) *cobra.Command {
	opts := &absDumpOptions{f: f}
	cmd := &cobra.Command{
		Use:   "dump FILE",
		Short: "Print every contact of an address book file (like ABServer.exe -dumpfile)",
		Long: withExitStatus(`Print every contact of an address book file, streaming: the file is never held in memory.

The default output has the shape of ABServer.exe -dumpfile, so that admins who know the old tool
feel at home: "ContactId <guid>", "ouPathId <n>", then one "<attribute> <value>" line per value,
and an empty line between contacts. A normalized phone number follows its raw value on a line of
its own marked "(normalized)".

-o json writes one JSON array with one object per contact:
  {"contact_id": "...", "ou_path_id": 209, "offset": 2712, "type": "user|group|deleted",
   "attributes": {"<name>": ["<value>", ...], "<empty attribute>": null},
   "normalized": {"<name>": {"<raw value>": "tel:+..."}}}
(binary values in hex, booleans as true/false; "normalized" only when there are normalized values).
-o csv and -o tsv write one row per value: contact_id, ou_path_id, type, attribute, value,
normalized (a deleted object is one row with an empty attribute).

When the file stops decoding part-way, everything read so far is printed (a JSON array is
closed), then the error names the file and the offset, and the exit status is 2.`),
		Example: `  abkit abs dump F-0A8C.lsabs | grep -B3 -i 'sip:ann@contoso.com'
  abkit abs dump -o json F-0A8C.lsabs | jq '.[] | select(.type == "group") | .contact_id'
  abkit abs dump -o csv D-0A8B-0A8C.lsabs > changes.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			if runF != nil {
				return runF(opts)
			}
			return absDumpRun(opts)
		},
	}
	return cmd
}

func absDumpRun(opts *absDumpOptions) error {
	f := opts.f
	af, err := f.openABS(opts.Path)
	if err != nil {
		return err
	}
	defer af.Close()
	bw := bufio.NewWriterSize(f.IO.Out, 256<<10)
	var readErr error
	fm := Format(f.Output) // the dump text unless -o says otherwise
	if fm != "" {
		fm = f.format()
	}
	switch fm {
	case FormatJSON:
		_, readErr = dumpJSON(af, bw, nil)
	case FormatCSV, FormatTSV:
		readErr = dumpRows(af, bw, fm)
	default:
		readErr = dumpText(af, bw)
	}
	if err := bw.Flush(); err != nil {
		return runtimeFailure(err)
	}
	return readErr
}

// dumpJSON streams the contacts for which keep returns true (all when keep is nil) as one JSON
// array and returns how many it wrote. After a decoding error the array is closed and the error
// returned.
func dumpJSON(af *absFile, bw *bufio.Writer, keep func(c *abs.Contact) bool) (int, error) {
	enc := newContactJSON(af.Table())
	buf := make([]byte, 0, 4096)
	n := 0
	bw.WriteString("[")
	err := af.eachContact(func(c *abs.Contact) error {
		if keep != nil && !keep(c) {
			return nil
		}
		buf = buf[:0]
		if n > 0 {
			buf = append(buf, ',')
		}
		buf = enc.append(append(buf, '\n'), c)
		n++
		_, werr := bw.Write(buf)
		return werr
	})
	if n > 0 {
		bw.WriteString("\n")
	}
	bw.WriteString("]\n")
	return n, err
}

// dumpRows writes one CSV or TSV row per value.
func dumpRows(af *absFile, bw *bufio.Writer, fm Format) error {
	t := af.Table()
	var write func(cells []string) error
	if fm == FormatCSV {
		cw := csv.NewWriter(bw)
		write = func(cells []string) error {
			return cw.Write(cells)
		}
		defer cw.Flush()
	} else {
		write = func(cells []string) error {
			for i, c := range cells {
				if i > 0 {
					bw.WriteByte('\t')
				}
				bw.WriteString(tsvEscaper.Replace(c))
			}
			return bw.WriteByte('\n')
		}
	}
	if err := write([]string{"contact_id", "ou_path_id", "type", "attribute", "value", "normalized"}); err != nil {
		return runtimeFailure(err)
	}
	row := make([]string, 6)
	return af.eachContact(func(c *abs.Contact) error {
		row[0], row[1], row[2] = c.ID.String(), strconv.FormatUint(uint64(c.OuPathID), 10), contactType(c, t)
		if c.Deleted() {
			row[3], row[4], row[5] = "", "", ""
			return write(row)
		}
		for i, v := range c.Values {
			if v.Kind == abs.ValueNormalized {
				continue
			}
			row[3], row[4], row[5] = t.Name(v.AttrID), v.Text(), ""
			if v.Kind == abs.ValueEmpty {
				row[4] = ""
			}
			if i+1 < len(c.Values) && c.Values[i+1].Kind == abs.ValueNormalized {
				row[5] = c.Values[i+1].Str
			}
			if err := write(row); err != nil {
				return err
			}
		}
		return nil
	})
}

// dumpText writes the ABServer -dumpfile shape (abs.AppendDump), a blank line between contacts.
func dumpText(af *absFile, bw *bufio.Writer) error {
	t := af.Table()
	buf := make([]byte, 0, 4096)
	first := true
	return af.eachContact(func(c *abs.Contact) error {
		buf = buf[:0]
		if !first {
			buf = append(buf, '\n')
		}
		first = false
		buf = abs.AppendDump(buf, t, c)
		_, err := bw.Write(buf)
		return err
	})
}
