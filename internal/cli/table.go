package cli

import (
	"io"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// writeTable renders t as an aligned text table. This is the only place that uses tablewriter;
// headers are printed exactly as given (tablewriter v1 upper-cases them by default).
func writeTable(w io.Writer, t Table) error {
	tbl := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithTrimSpace(tw.Off),
	)
	headers := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		headers[i] = c
	}
	tbl.Header(headers...)
	for _, r := range t.Rows {
		if err := tbl.Append(r); err != nil {
			return err
		}
	}
	return tbl.Render()
}
