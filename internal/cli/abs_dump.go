package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
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
its own marked "(normalized)". This is also what -o table gives.

-o json writes one JSON array with one object per contact:
  {"contact_id": "...", "ou_path_id": 209, "offset": 2712, "type": "user|contact|group|deleted",
   "attributes": {"<name>": ["<value>", ...], "<empty attribute>": null},
   "normalized": {"<name>": {"<raw value>": "tel:+..."}}}
(binary values in hex; "normalized" only when there are normalized values), and a last object
for the file's trailer ([MS-ABS] 2.2.14, opaque bytes):
  {"type": "trailer", "present": true, "offset": 59912345, "length": 0, "hex": ""}
("present": false for a file without one; "hex" holds at most 4096 bytes, with
"hex_truncated": true when the body is longer).
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
			return absDumpRun(cmd.Context(), opts)
		},
	}
	return cmd
}

func absDumpRun(ctx context.Context, opts *absDumpOptions) error {
	f := opts.f
	af, err := f.openABS(ctx, opts.Path)
	if err != nil {
		return err
	}
	defer af.Close()
	fm := Format(f.Output) // the dump text unless -o says otherwise
	if fm != "" {
		fm = f.format()
	}
	switch fm {
	case FormatJSON:
		_, err = dumpJSON(af, f.IO.Out, nil, true)
		return err
	case FormatCSV, FormatTSV:
		bw := bufio.NewWriterSize(f.IO.Out, outChunk)
		readErr := dumpRows(af, bw, fm)
		if err := bw.Flush(); err != nil {
			return runtimeFailure(err)
		}
		return readErr
	}
	return dumpText(af, f.IO.Out)
}

// outChunk is the size of the chunks dump output is written in.
const outChunk = 256 << 10

// outBuf collects output and writes it in chunks of about outChunk bytes: contacts are appended
// to it directly, without the extra copy a bufio.Writer would make.
type outBuf struct {
	w   io.Writer
	b   []byte
	err error
}

func newOutBuf(w io.Writer) *outBuf { return &outBuf{w: w, b: make([]byte, 0, outChunk+64<<10)} }

// full writes the buffer out once it holds a chunk.
func (o *outBuf) full() error {
	if len(o.b) >= outChunk {
		return o.flush()
	}
	return nil
}

// flush writes what the buffer holds; after a write error it only returns that error.
func (o *outBuf) flush() error {
	if o.err == nil && len(o.b) > 0 {
		if _, err := o.w.Write(o.b); err != nil {
			o.err = runtimeFailure(fmt.Errorf("write output: %w", err))
		}
	}
	o.b = o.b[:0]
	return o.err
}

// dumpJSON streams the contacts for which keep returns true (all when keep is nil) as one JSON
// array and returns how many it wrote; with trailer set, the array ends with the file's trailer
// (an object whose "type" is "trailer"). After a decoding error the array is closed and the error
// returned.
func dumpJSON(af *absFile, w io.Writer, keep func(c *abs.Contact) bool, trailer bool) (int, error) {
	enc := newContactJSON(af.Table())
	out := newOutBuf(w)
	n := 0
	out.b = append(out.b, '[')
	err := af.eachContactTransient(func(c *abs.Contact) error {
		if keep != nil && !keep(c) {
			return nil
		}
		if n > 0 {
			out.b = append(out.b, ',')
		}
		out.b = enc.append(append(out.b, '\n'), c)
		n++
		return out.full()
	})
	if err == nil && trailer {
		var t *absTrailer
		if t, err = readTrailer(af); err == nil {
			t.Type = "trailer"
			js, _ := json.Marshal(t) // plain strings and numbers: cannot fail
			if n > 0 {
				out.b = append(out.b, ',')
			}
			out.b = append(append(out.b, '\n'), js...)
			n++
		}
	}
	if n > 0 {
		out.b = append(out.b, '\n')
	}
	out.b = append(out.b, "]\n"...)
	if ferr := out.flush(); err == nil {
		err = ferr
	}
	return n, err
}

// dumpRows writes one CSV or TSV row per value.
func dumpRows(af *absFile, bw *bufio.Writer, fm Format) error {
	t := af.Table()
	typer := newContactTyper(t)
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
	return af.eachContactTransient(func(c *abs.Contact) error {
		row[0], row[1], row[2] = c.ID.String(), strconv.FormatUint(uint64(c.OuPathID), 10), typer.typeOf(c)
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
func dumpText(af *absFile, w io.Writer) error {
	t := af.Table()
	out := newOutBuf(w)
	first := true
	err := af.eachContactTransient(func(c *abs.Contact) error {
		if !first {
			out.b = append(out.b, '\n')
		}
		first = false
		out.b = abs.AppendDump(out.b, t, c)
		return out.full()
	})
	if ferr := out.flush(); err == nil {
		err = ferr
	}
	return err
}
