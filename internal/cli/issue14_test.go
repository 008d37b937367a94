package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clipperhouse/displaywidth"
)

// TestAbsGenDirCreated: the help's example `abs gen ... --dir testbooks/` works when the folder
// does not exist yet.
func TestAbsGenDirCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "testbooks") + string(filepath.Separator)
	_, stderr, code := runCLI(t, "abs", "gen", "--contacts", "40", "--seed", "7", "--duplicates", "3",
		"--day", "2008-05-23", "--delta-to", "2008-05-24", "--dir", dir)
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "C-0A8B-0A8C.lsabs D-0A8B-0A8C.lsabs F-0A8B.lsabs F-0A8C.lsabs" {
		t.Errorf("files %q", got)
	}
}

// TestAbsProbeHonoursOutput: -o csv and -o tsv give the structure list, nothing else.
func TestAbsProbeHonoursOutput(t *testing.T) {
	file := filepath.Join("..", "..", "testdata", "demo", "abs", "F-24EE.lsabs")
	for _, tc := range []struct{ format, header string }{
		{"csv", "offset,length,structure,detail\n"},
		{"tsv", "offset\tlength\tstructure\tdetail\n"},
	} {
		stdout, stderr, code := runCLI(t, "abs", "probe", file, "-o", tc.format)
		if code != ExitOK {
			t.Fatalf("-o %s: exit %d; stderr %s", tc.format, code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if !strings.HasPrefix(stdout, tc.header) || len(lines) != 6 || strings.Contains(stdout, "whole file matches") {
			t.Errorf("-o %s:\n%s", tc.format, stdout)
		}
	}
}

// TestDupesTableFitsTerminal: on an 100-column terminal the dupes table (330 columns wide in full)
// fits: optional columns left out, long cells cut; TSV and JSON still carry everything.
func TestDupesTableFitsTerminal(t *testing.T) {
	cfg := filepath.Join("..", "..", "testdata", "demo", "abkit.yaml")
	run := func(width int, args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		io := TestStreams(strings.NewReader(""), &out, &errOut)
		io.StdoutTTY, io.TerminalWidth = true, width
		code := Run(context.Background(), append([]string{"dupes", "--config", cfg}, args...), io)
		return out.String(), errOut.String(), code
	}
	full, _, code := run(0)
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	if w := maxLineWidth(full); w < 200 {
		t.Fatalf("the unfitted table is only %d columns wide; the test needs a wide one", w)
	}
	for _, width := range []int{100, 160} {
		out, stderr, code := run(width)
		if code != ExitFindings {
			t.Fatalf("width %d: exit %d", width, code)
		}
		if w := maxLineWidth(out); w > width {
			t.Errorf("width %d: table is %d wide:\n%s", width, w, out)
		}
		if !strings.Contains(out, "display_name") || !strings.Contains(out, "dn") {
			t.Errorf("width %d: the essential columns are gone:\n%s", width, out)
		}
		if !strings.Contains(stderr, "left out to fit the terminal") {
			t.Errorf("width %d: stderr does not say columns were left out: %q", width, stderr)
		}
	}
	tsv, _, _ := run(100, "-o", "tsv")
	if header := strings.SplitN(tsv, "\n", 2)[0]; strings.Count(header, "\t") != 14 || strings.Contains(tsv, "…") {
		t.Errorf("tsv on a terminal was fitted: %q", header)
	}
}

func maxLineWidth(s string) int {
	w := 0
	for _, line := range strings.Split(s, "\n") {
		w = max(w, displaywidth.String(line))
	}
	return w
}

func TestFitTable(t *testing.T) {
	tbl := Table{Columns: []string{"dn", "guid", "note"}, Narrow: []string{"guid"}}
	tbl.Append("cn=A very long distinguished name,ou=Users,dc=example,dc=test", "c1482dfb-64e0-41ea-930b-717299f7f797", "ok")
	got, dropped := fitTable(tbl, 40)
	if dropped != 1 || strings.Join(got.Columns, ",") != "dn,note" {
		t.Fatalf("columns %v, dropped %d", got.Columns, dropped)
	}
	if cell := got.Rows[0][0]; displaywidth.String(cell) > 40-8 || !strings.HasSuffix(cell, "…") {
		t.Errorf("dn cell %q not cut", cell)
	}
	if same, d := fitTable(tbl, 0); d != 0 || same.Rows[0][0] != tbl.Rows[0][0] {
		t.Errorf("width 0 changed the table")
	}
}
