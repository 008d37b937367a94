package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
