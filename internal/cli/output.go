package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is an output format for data on stdout.
type Format string

// Output formats accepted by -o/--output.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatCSV   Format = "csv"
	FormatTSV   Format = "tsv"
)

func parseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", FormatTable, FormatJSON, FormatCSV, FormatTSV:
		return f, nil
	}
	return "", badInputf("unknown output format %q: use table, json, csv or tsv", s)
}

// format returns the output format of this run: the -o flag, else a table on a terminal and TSV
// when stdout is piped.
func (f *Factory) format() Format {
	fm, _ := parseFormat(f.Output) // validated in PersistentPreRunE
	if fm != "" {
		return fm
	}
	if f.IO.StdoutTTY {
		return FormatTable
	}
	return FormatTSV
}

// Table is tabular data for the table, CSV and TSV formats.
type Table struct {
	Columns []string
	Rows    [][]string
	// Narrow names the columns a terminal table leaves out first, in order, when it is wider
	// than the terminal (see fitTable); CSV, TSV and JSON always have every column.
	Narrow []string
}

// Append adds one row.
func (t *Table) Append(cells ...string) { t.Rows = append(t.Rows, cells) }

// writeData writes data to stdout in the run's format: t for table/csv/tsv, jsonValue for json.
func (f *Factory) writeData(t Table, jsonValue any) error {
	fm := f.format()
	if fm == FormatTable {
		var dropped int
		t, dropped = fitTable(t, f.IO.TerminalWidth)
		if dropped > 0 {
			fmt.Fprintf(f.IO.ErrOut, "abkit: %d column(s) left out to fit the terminal; -o tsv, csv or json give them all\n", dropped)
		}
	}
	return writeFormatted(f.IO.Out, fm, t, jsonValue)
}

func writeFormatted(w io.Writer, fm Format, t Table, jsonValue any) error {
	switch fm {
	case FormatJSON:
		return writeJSON(w, jsonValue)
	case FormatCSV:
		return writeCSV(w, t, ',')
	case FormatTSV:
		return writeTSV(w, t)
	default:
		return writeTable(w, t)
	}
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func writeCSV(w io.Writer, t Table, comma rune) error {
	cw := csv.NewWriter(w)
	cw.Comma = comma
	if err := cw.Write(t.Columns); err != nil {
		return err
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return err
	}
	return cw.Error()
}

// writeTSV writes a header line and one line per row; tabs and newlines inside cells are
// replaced by spaces so that every line has exactly len(Columns) fields.
func writeTSV(w io.Writer, t Table) error {
	var b strings.Builder
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(tsvEscaper.Replace(c))
		}
		b.WriteByte('\n')
	}
	line(t.Columns)
	for _, r := range t.Rows {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

var tsvEscaper = strings.NewReplacer("\t", " ", "\r", " ", "\n", " ")
