package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/abkit/abkit/internal/ldif"
	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
	"github.com/spf13/cobra"
)

// formatLDIF is the extra output format of `abkit ldap export`.
const formatLDIF Format = "ldif"

// ldifAnnotation marks commands that accept -o ldif (checked in root.go's PersistentPreRunE).
const ldifAnnotation = "abkit/ldif-output"

// acceptsLDIF reports whether -o value is ldif and cmd accepts it.
func acceptsLDIF(cmd *cobra.Command, value string) bool {
	return Format(strings.ToLower(value)) == formatLDIF && cmd.Annotations[ldifAnnotation] == "true"
}

type ldapExportOptions struct {
	f      *Factory
	forest forestFlags
	Filter string
	Attrs  []string
}

func newCmdLdapExport(f *Factory, runF func(*ldapExportOptions) error) *cobra.Command {
	opts := &ldapExportOptions{f: f}
	cmd := &cobra.Command{
		Use:   "export --forest NAME [--filter F] [--attrs A,B,...]",
		Short: "Export directory objects as LDIF, JSON, CSV, TSV or a table",
		Long: withExitStatus(`Export the objects of a forest (live, or an LDIF snapshot) that match a filter.

By default the filter selects every object carrying a SIP address or an OCS/Exchange SID attribute:
  ` + ldapsync.DefaultFilter + `
and the attributes are the ones abkit decodes (objectGUID, objectSid, msRTCSIP-*, msExch*, mail,
proxyAddresses, userAccountControl, groupType, ...). --attrs '*' exports every attribute.

-o ldif streams binary-exact LDIF (SIDs and GUIDs base64 with "::") that abkit reads back as a
snapshot forest (ldif: in the configuration). json, csv, tsv and table show SIDs as S-1-5-...,
GUIDs as text, other binary values as base64:..., multiple values joined with "; ". JSON is an
array of {"dn", "kind", "attributes": {name: [values]}, "warnings"}.

A malformed SID or GUID value is reported on stderr for its object and the export goes on
(the exit status stays 0).`),
		Example: `  abkit ldap export --forest resforest -o ldif > resforest.ldif
  abkit ldap export --forest userforest --filter '(sAMAccountName=a*)' --attrs sAMAccountName,objectSid -o csv
  abkit ldap export --forest snapshot --attrs '*' -o json`,
		Annotations: map[string]string{ldifAnnotation: "true"},
		Args:        cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return ldapExportRun(cmd, opts)
		},
	}
	addForestFlags(cmd, &opts.forest)
	cmd.Flags().StringVar(&opts.Filter, "filter", "", "LDAP filter (default: objects with a SIP address or an OCS/Exchange SID)")
	cmd.Flags().StringSliceVar(&opts.Attrs, "attrs", nil, "attributes to export, comma-separated; '*' for all (default: the attributes abkit decodes)")
	return cmd
}

func ldapExportRun(cmd *cobra.Command, opts *ldapExportOptions) error {
	f := opts.f
	ctx := cmd.Context()
	fm := f.format()
	if strings.EqualFold(f.Output, string(formatLDIF)) {
		fm = formatLDIF
	}
	req := ldapsync.SearchRequest{Filter: opts.Filter, Attributes: opts.Attrs}
	if slices.Contains(opts.Attrs, "*") && fm != formatLDIF && fm != FormatJSON {
		return badInputf("--attrs '*' needs -o ldif or -o json (tables need known columns)")
	}
	src, err := f.openForest(ctx, opts.forest, f.progressReporter("reading "+opts.forest.Forest))
	if err != nil {
		return err
	}
	defer src.Close()
	// The export is an I/O-bound pipeline holding at most two pages of entries. A larger GC
	// target trades about 10 MB of memory for a third less CPU, and one P saves the cross-thread
	// wake-ups between the network reader and the writer (about a fifth of the CPU on the 2-core
	// machine of scripts/bench/ldap.sh).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	req.Referral = func(url string) {
		fmt.Fprintf(f.IO.ErrOut, "abkit: warning: referral to %s not followed\n", url)
	}
	n, warnings, err := f.streamEntries(ctx, src, req, newEntryWriter(f, fm, exportColumns(opts.Attrs)))
	if err != nil {
		return err
	}
	if f.Verbose || (f.IO.StderrTTY && !f.NoProgress) {
		fmt.Fprintf(f.IO.ErrOut, "%d objects exported from %s, %d warnings\n", n, src.Name(), warnings)
	}
	return nil
}

// streamEntries writes the entries of one search through w, printing each entry's warnings on
// stderr. It returns the numbers of entries and warnings.
func (f *Factory) streamEntries(ctx context.Context, src ldapsync.EntrySearcher, req ldapsync.SearchRequest, w entryWriter) (n, warnings int, err error) {
	for e, err := range src.SearchEntries(ctx, req) {
		if err != nil {
			return n, warnings, err
		}
		n++
		ws, err := w.write(e)
		if err != nil {
			return n, warnings, runtimeFailure(fmt.Errorf("write output: %w", err))
		}
		for _, msg := range ws {
			fmt.Fprintf(f.IO.ErrOut, "abkit: warning: %s\n", msg)
		}
		warnings += len(ws)
	}
	if err := w.close(); err != nil {
		return n, warnings, runtimeFailure(fmt.Errorf("write output: %w", err))
	}
	return n, warnings, nil
}

// exportColumns returns the attribute columns of tabular output: the requested attributes, or
// the decoded ones without objectClass.
func exportColumns(attrs []string) []string {
	if attrs != nil {
		return attrs
	}
	var cols []string
	for _, a := range ldapsync.ObjectAttributes {
		if a != ldapsync.AttrObjectClass {
			cols = append(cols, a)
		}
	}
	return cols
}

// exportRecord is one object in JSON output.
type exportRecord struct {
	DN         string              `json:"dn"`
	Kind       ldapsync.Kind       `json:"kind"`
	Attributes map[string][]string `json:"attributes"`
	Warnings   []string            `json:"warnings,omitempty"`
}

// entryWriter streams entries in one output format; it returns the entry's warnings.
type entryWriter interface {
	write(e *ldap.Entry) ([]string, error)
	close() error
}

func newEntryWriter(f *Factory, fm Format, cols []string) entryWriter {
	switch fm {
	case formatLDIF:
		return &ldifEntryWriter{w: ldif.NewWriter(f.IO.Out)}
	case FormatJSON:
		return &jsonEntryWriter{w: bufio.NewWriter(f.IO.Out)}
	}
	return &tableEntryWriter{f: f, fm: fm, cols: cols}
}

type ldifEntryWriter struct{ w *ldif.Writer }

func (l *ldifEntryWriter) write(e *ldap.Entry) ([]string, error) {
	return ldapsync.EntryWarnings(e), l.w.WriteEntry(e)
}

func (l *ldifEntryWriter) close() error { return l.w.Flush() }

// jsonEntryWriter streams a JSON array, one indented record at a time.
type jsonEntryWriter struct {
	w *bufio.Writer
	n int
}

func (j *jsonEntryWriter) write(e *ldap.Entry) ([]string, error) {
	o := ldapsync.ObjectFromEntry(e)
	rec := exportRecord{DN: e.DN, Kind: o.Kind, Attributes: map[string][]string{}, Warnings: o.Warnings}
	for _, a := range e.Attributes {
		for _, v := range a.ByteValues {
			s, _ := ldapsync.FormatValue(a.Name, v)
			rec.Attributes[a.Name] = append(rec.Attributes[a.Name], s)
		}
	}
	data, err := json.MarshalIndent(rec, "  ", "  ")
	if err != nil {
		return o.Warnings, err
	}
	sep := ",\n  "
	if j.n == 0 {
		sep = "[\n  "
	}
	j.n++
	j.w.WriteString(sep)
	_, err = j.w.Write(data)
	return o.Warnings, err
}

func (j *jsonEntryWriter) close() error {
	if j.n == 0 {
		j.w.WriteString("[")
	}
	j.w.WriteString("\n]\n")
	return j.w.Flush()
}

// tableEntryWriter writes dn, kind and one column per attribute: streamed for CSV and TSV,
// collected for an aligned table.
type tableEntryWriter struct {
	f     *Factory
	fm    Format
	cols  []string
	table Table
	csv   *csv.Writer
	tsv   *bufio.Writer
}

func (t *tableEntryWriter) row(e *ldap.Entry) ([]string, []string) {
	o := ldapsync.ObjectFromEntry(e)
	cells := []string{e.DN, string(o.Kind)}
	for _, c := range t.cols {
		var vals []string
		for _, v := range e.GetEqualFoldRawAttributeValues(c) {
			s, _ := ldapsync.FormatValue(c, v)
			vals = append(vals, s)
		}
		cells = append(cells, strings.Join(vals, "; "))
	}
	return cells, o.Warnings
}

func (t *tableEntryWriter) write(e *ldap.Entry) ([]string, error) {
	cells, warnings := t.row(e)
	header := append([]string{"dn", "kind"}, t.cols...)
	switch t.fm {
	case FormatCSV:
		if t.csv == nil {
			t.csv = csv.NewWriter(t.f.IO.Out)
			if err := t.csv.Write(header); err != nil {
				return warnings, err
			}
		}
		return warnings, t.csv.Write(cells)
	case FormatTSV:
		if t.tsv == nil {
			t.tsv = bufio.NewWriter(t.f.IO.Out)
			writeTSVLine(t.tsv, header)
		}
		writeTSVLine(t.tsv, cells)
		return warnings, nil
	}
	t.table.Columns = header
	t.table.Append(cells...)
	return warnings, nil
}

func (t *tableEntryWriter) close() error {
	header := append([]string{"dn", "kind"}, t.cols...)
	switch t.fm {
	case FormatCSV:
		if t.csv == nil {
			t.csv = csv.NewWriter(t.f.IO.Out)
			t.csv.Write(header)
		}
		t.csv.Flush()
		return t.csv.Error()
	case FormatTSV:
		if t.tsv == nil {
			t.tsv = bufio.NewWriter(t.f.IO.Out)
			writeTSVLine(t.tsv, header)
		}
		return t.tsv.Flush()
	}
	t.table.Columns = header
	return t.f.writeData(t.table, nil)
}

// writeTSVLine writes one TSV line with the same escaping as writeTSV.
func writeTSVLine(w io.StringWriter, cells []string) {
	for i, c := range cells {
		if i > 0 {
			w.WriteString("\t")
		}
		w.WriteString(tsvEscaper.Replace(c))
	}
	w.WriteString("\n")
}
