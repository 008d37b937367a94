package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abkit/abkit/internal/audit"
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
	js, _, _ := runCLI(t, "abs", "probe", file, "-o", "json")
	var probe struct{ Steps []any }
	if err := json.Unmarshal([]byte(js), &probe); err != nil || len(probe.Steps) < 4 {
		t.Fatalf("probe -o json: %v, %d steps", err, len(probe.Steps))
	}
	for _, tc := range []struct{ format, header string }{
		{"csv", "offset,length,structure,detail\n"},
		{"tsv", "offset\tlength\tstructure\tdetail\n"},
	} {
		stdout, stderr, code := runCLI(t, "abs", "probe", file, "-o", tc.format)
		if code != ExitOK {
			t.Fatalf("-o %s: exit %d; stderr %s", tc.format, code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if !strings.HasPrefix(stdout, tc.header) || len(lines) != 1+len(probe.Steps) || strings.Contains(stdout, "whole file matches") {
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

// splitCommand splits a command line written by commandLine (words, single-quoted strings).
func splitCommand(t *testing.T, line string) []string {
	t.Helper()
	var args []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			cur.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ':
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args
}

// TestAuditFindingCommandsRun: every finding of the demo audit carries an abkit command, in the
// JSON report and the CSV files, and each of them runs (from another folder) without a usage or
// runtime error: it shows the finding (exit 1 when it finds it again) or plans its fix.
func TestAuditFindingCommandsRun(t *testing.T) {
	out := t.TempDir()
	stdout, stderr, code := runAudit(t, demoConfig(t), demoRunTime, "--out", out) // -o json
	if code != ExitFindings {
		t.Fatalf("audit: exit %d: %s", code, stderr)
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Abs(demoConfig(t)); rep.Config != want {
		t.Errorf("report config %q, want %q", rep.Config, want)
	}
	kinds := map[string]int{}
	for _, in := range rep.Inputs {
		kinds[in.Kind]++
		if !filepath.IsAbs(in.Source) {
			t.Errorf("input %+v: source not absolute", in)
		}
	}
	if kinds["forest"] != 2 || kinds["address book folder"] != 1 || kinds["normalization rules"] != 1 {
		t.Errorf("inputs %+v", rep.Inputs)
	}
	t.Chdir(t.TempDir()) // the commands must not depend on the folder they are run from
	wantPrefix := map[string]string{
		audit.CheckDuplicateSIP:   "abkit dupes fix --config ",
		audit.CheckDuplicatePhone: "abkit dupes --config ",
		audit.CheckSidmap:         "abkit sidmap plan --config ",
		audit.CheckHiddenSIP:      "abkit ldap find --config ",
		audit.CheckDisabledSIP:    "abkit ldap find --config ",
		audit.CheckABSFreshness:   "abkit abs ",
		audit.CheckPhoneRules:     "abkit phone test --rules ",
	}
	n := 0
	for _, c := range rep.Checks {
		csvData, err := os.ReadFile(filepath.Join(out, audit.NamesFor(rep.Time).CSV(c.Name)))
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range c.Findings {
			n++
			if !strings.HasPrefix(fd.Command, wantPrefix[c.Name]) {
				t.Errorf("%s %s: command %q, want %q...", c.Name, fd.Object, fd.Command, wantPrefix[c.Name])
				continue
			}
			if !strings.Contains(string(csvData), strings.ReplaceAll(fd.Command, `"`, `""`)) {
				t.Errorf("%s CSV lacks the command %q", c.Name, fd.Command)
			}
			args := splitCommand(t, fd.Command)
			_, stderr, code := runCLI(t, args[1:]...)
			if code != ExitOK && code != ExitFindings {
				t.Errorf("%s: %s: exit %d: %s", c.Name, fd.Command, code, stderr)
			}
		}
	}
	if n != 12 {
		t.Errorf("%d findings, want the demo's 12", n)
	}
}

// TestAuditInterrupted: an audit whose context is cancelled exits ExitInterrupted (not 3, as a
// server failure would) and still writes its report, the unfinished checks marked.
func TestAuditInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Run(ctx, []string{"--config", demoConfig(t), "audit", "--out", out, "-o", "json"}, TestStreams(strings.NewReader(""), &stdout, &stderr))
	if code != ExitInterrupted || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("exit %d, want %d; stderr %s", code, ExitInterrupted, stderr.String())
	}
	var rep audit.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Errors == 0 || rep.Errors != len(rep.Checks) {
		t.Errorf("%d of %d checks marked as not run", rep.Errors, len(rep.Checks))
	}
	if _, err := os.Stat(filepath.Join(out, audit.PromFile)); err != nil {
		t.Errorf("no report written: %v", err)
	}
}
