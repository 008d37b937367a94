package cli

import (
	"io"
	"slices"

	"github.com/clipperhouse/displaywidth"
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

// cutCellWidth is what long cells may be cut to before columns are left out.
const cutCellWidth = 24

// cappedWidth is the width of t with every column at most cutCellWidth wide.
func cappedWidth(t Table) int {
	widths := columnWidths(t)
	for i := range widths {
		widths[i] = min(widths[i], max(cutCellWidth, displaywidth.String(t.Columns[i])))
	}
	return tableWidth(widths)
}

// minCellWidth is the narrowest a column is cut to when fitting a table (unless its header is
// narrower): enough to recognise a value.
const minCellWidth = 8

// fitTable returns t narrowed to a terminal of the given width (0: no limit): first the columns
// named in t.Narrow are left out, in that order, until the table would fit with its long cells
// cut to cutCellWidth, then the widest columns are cut until it fits, their cells ending in "…". It reports how many columns it left out. Only terminal tables are fitted;
// TSV, CSV and JSON always carry everything.
func fitTable(t Table, width int) (Table, int) {
	if width <= 0 || tableWidth(columnWidths(t)) <= width {
		return t, 0
	}
	dropped := 0
	for _, name := range t.Narrow {
		i := slices.Index(t.Columns, name)
		if i < 0 {
			continue
		}
		if cappedWidth(t) <= width {
			break // fits once the long cells are cut: keep the remaining columns
		}
		t = dropColumn(t, i)
		dropped++
	}
	widths := columnWidths(t)
	for tableWidth(widths) > width {
		widest := 0
		for i, cw := range widths {
			if cw > widths[widest] {
				widest = i
			}
		}
		floor := max(minCellWidth, displaywidth.String(t.Columns[widest]))
		if widths[widest] <= floor {
			break // as narrow as it gets; the terminal wraps the rest
		}
		widths[widest]--
	}
	rows := make([][]string, len(t.Rows))
	for r, row := range t.Rows {
		rows[r] = make([]string, len(row))
		for i, cell := range row {
			rows[r][i] = cutCell(cell, widths[i])
		}
	}
	return Table{Columns: t.Columns, Rows: rows}, dropped
}

func dropColumn(t Table, i int) Table {
	out := Table{Columns: slices.Delete(slices.Clone(t.Columns), i, i+1), Narrow: t.Narrow}
	for _, r := range t.Rows {
		if i < len(r) {
			r = slices.Delete(slices.Clone(r), i, i+1)
		}
		out.Rows = append(out.Rows, r)
	}
	return out
}

// columnWidths are the display widths of the widest cell (or header) of each column.
func columnWidths(t Table) []int {
	widths := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = displaywidth.String(c)
	}
	for _, r := range t.Rows {
		for i, cell := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], displaywidth.String(cell))
			}
		}
	}
	return widths
}

// tableWidth is the width writeTable draws columns of these widths in: a border and a space on
// each side of every cell.
func tableWidth(widths []int) int {
	total := 1
	for _, w := range widths {
		total += w + 3
	}
	return total
}

// cutCell shortens s to at most width display columns, ending in "…" when cut.
func cutCell(s string, width int) string {
	return displaywidth.TruncateString(s, width, "…")
}
