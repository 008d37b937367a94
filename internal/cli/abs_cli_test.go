package cli

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abkit/abkit/abs"
)

// Golden files of the abs and phone commands live in testdata/abs/cli; `go test ./internal/cli
// -run 'Abs|Phone' -update` rewrites them.
const (
	absData      = "../../testdata/abs"
	absGolden    = "../../testdata/abs/cli"
	absRulesFile = "../../testdata/abs/rules/Company_Phone_Number_Normalization_Rules.txt"
)

func init() {
	// Another test file of this package may define -update too: define it once.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func absUpdateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func absSample(name string) string { return filepath.Join(absData, name) }

// absCheckGolden compares got with the golden file name, or rewrites it under -update.
func absCheckGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(absGolden, name)
	if absUpdateGolden() {
		if err := os.MkdirAll(absGolden, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestAbsGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
		code   int
	}{
		{"dump_F-0A10.txt", []string{"abs", "dump", absSample("F-0A10.lsabs")}, ExitOK},
		{"dump_D-0A10-0A11.json", []string{"abs", "dump", "-o", "json", absSample("D-0A10-0A11.lsabs")}, ExitOK},
		{"dump_C-0A10-0A11.json", []string{"abs", "dump", "-o", "json", absSample("C-0A10-0A11.lsabs")}, ExitOK},
		{"dump_C-0A10-0A11.csv", []string{"abs", "dump", "-o", "csv", absSample("C-0A10-0A11.lsabs")}, ExitOK},
		{"dump_F-0A10.dabs.tsv", []string{"abs", "dump", "-o", "tsv", absSample("F-0A10.dabs")}, ExitOK},
		{"info_F-0A10.tsv", []string{"abs", "info", absSample("F-0A10.lsabs")}, ExitOK},
		{"info_D-0A10-0A11.json", []string{"abs", "info", "-o", "json", absSample("D-0A10-0A11.lsabs")}, ExitOK},
		{"info_C-0A10-0A11.json", []string{"abs", "info", "-o", "json", absSample("C-0A10-0A11.lsabs")}, ExitOK},
		{"find_sip.tsv", []string{"abs", "find", absSample("F-0A10.lsabs"), "--sip", "EMIL.OBRIEN@contoso.com"}, ExitOK},
		{"info_check_legacy.tsv", []string{"abs", "info", "--check", absSample("legacy/F-0A10.lsabs")}, ExitOK},
		{"info_trailer.json", []string{"abs", "info", "-o", "json", absSample("trailer/F-0A10.lsabs")}, ExitOK},
		{"dump_trailer.json", []string{"abs", "dump", "-o", "json", absSample("trailer/F-0A10.lsabs")}, ExitOK},
		{"probe_trailer.txt", []string{"abs", "probe", absSample("trailer/F-0A10.lsabs")}, ExitOK},
		{"find_phone.json", []string{"abs", "find", absSample("F-0A10.lsabs"), "--phone", "(206) 943-8128", "-o", "json"}, ExitOK},
		{"find_name.tsv", []string{"abs", "find", absSample("F-0A11.lsabs"), "--name", "garcía"}, ExitOK},
		{"diff_F-0A10_F-0A11.tsv", []string{"abs", "diff", absSample("F-0A10.lsabs"), absSample("F-0A11.lsabs")}, ExitFindings},
		{"diff_F-0A10_F-0A11.json", []string{"abs", "diff", "-o", "json", absSample("F-0A10.lsabs"), absSample("F-0A11.lsabs")}, ExitFindings},
		{"probe_F-0A10.txt", []string{"abs", "probe", absSample("F-0A10.lsabs")}, ExitOK},
		{"probe_bad-length.txt", []string{"abs", "probe", absSample("broken/bad-length.lsabs")}, ExitBadInput},
		{"probe_unknown-layout.json", []string{"abs", "probe", "-o", "json", absSample("broken/unknown-layout.lsabs")}, ExitBadInput},
		{"phone_test.tsv", []string{"phone", "test", "--rules", absRulesFile, "4444", "555-533-4312", "(425) 555-1234 x4711", "ext 12"}, ExitFindings},
		{"phone_test_abs.json", []string{"phone", "test", "--abs", absSample("F-0A10.lsabs"), "-o", "json", "54444", "206.943.8128"}, ExitOK},
		{"phone_check_F-0A10.tsv", []string{"phone", "check", absSample("F-0A10.lsabs")}, ExitFindings},
		{"phone_check_F-0A11_rules.csv", []string{"phone", "check", absSample("F-0A11.lsabs"), "--rules", absRulesFile, "-o", "csv"}, ExitFindings},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if strings.HasSuffix(tt.golden, ".json") && !json.Valid([]byte(stdout)) {
				t.Errorf("stdout is not valid JSON:\n%s", stdout)
			}
			absCheckGolden(t, tt.golden, stdout)
		})
	}
}

// TestAbsDumpJSONMatchesReader checks the hand-written JSON against the decoded contacts.
func TestAbsDumpJSONMatchesReader(t *testing.T) {
	for _, name := range []string{"F-0A10.lsabs", "D-0A10-0A11.lsabs", "C-0A10-0A11.lsabs", "F-0A10.dabs"} {
		stdout, stderr, code := runCLI(t, "abs", "dump", "-o", "json", absSample(name))
		if code != ExitOK {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		var got []struct {
			ContactID  string                       `json:"contact_id"`
			OuPathID   uint32                       `json:"ou_path_id"`
			Offset     int64                        `json:"offset"`
			Type       string                       `json:"type"`
			Attributes map[string][]any             `json:"attributes"`
			Normalized map[string]map[string]string `json:"normalized"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The last element is the trailer: abkit's empty one.
		var trailer []absTrailer
		if err := json.Unmarshal([]byte(stdout), &trailer); err != nil || len(trailer) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		if tr := trailer[len(trailer)-1]; tr.Type != "trailer" || !tr.Present || tr.Length != 0 || tr.Hex != "" || tr.Offset <= 0 {
			t.Errorf("%s: last element %+v, want abkit's empty trailer", name, tr)
		}
		got = got[:len(got)-1]
		af, err := abs.Open(absSample(name))
		if err != nil {
			t.Fatal(err)
		}
		tbl := af.Table()
		i := 0
		for c, err := range af.Contacts() {
			if err != nil {
				t.Fatal(err)
			}
			if i >= len(got) {
				t.Fatalf("%s: JSON has %d contacts, the file more", name, len(got))
			}
			g := got[i]
			if g.ContactID != c.ID.String() || g.OuPathID != c.OuPathID || g.Offset != c.Offset || g.Type != contactType(c, tbl) {
				t.Errorf("%s contact %d: %+v, want %s ouPath %d offset %d", name, i, g, c.ID, c.OuPathID, c.Offset)
			}
			records := 0
			for attr, vals := range g.Attributes {
				records += max(len(vals), 1) // null: one empty record
				for raw, norm := range g.Normalized[attr] {
					if !absContainsRecord(c.Get(tbl, attr), raw, norm) {
						t.Errorf("%s %s: %s normalized pair %q -> %q not in the file", name, c.ID, attr, raw, norm)
					}
					records++
				}
			}
			if records != len(c.Values) {
				t.Errorf("%s %s: JSON holds %d records, the file %d", name, c.ID, records, len(c.Values))
			}
			i++
		}
		af.Close()
		if i != len(got) {
			t.Errorf("%s: JSON has %d contacts, the file %d", name, len(got), i)
		}
	}
}

// absContainsRecord reports whether vals has raw immediately followed by its normalized copy norm.
func absContainsRecord(vals []abs.Value, raw, norm string) bool {
	for i := 1; i < len(vals); i++ {
		if vals[i].Kind == abs.ValueNormalized && vals[i].Str == norm && vals[i-1].Str == raw {
			return true
		}
	}
	return false
}

func TestAbsBrokenFiles(t *testing.T) {
	tests := []struct {
		args       []string
		stderr     []string // substrings stderr must contain
		stdoutHas  string   // a substring stdout must contain ("" = stdout empty)
		validJSON  bool
		stdoutLast string // stdout must end with this
	}{
		{[]string{"abs", "dump", absSample("broken/truncated.lsabs")},
			[]string{"broken/truncated.lsabs", "offset 0x380"}, "ContactId ", false, ""},
		{[]string{"abs", "dump", "-o", "json", absSample("broken/truncated.lsabs")},
			[]string{"broken/truncated.lsabs", "offset 0x380"}, `"contact_id"`, true, "]\n"},
		{[]string{"abs", "dump", "-o", "csv", absSample("broken/no-nul.lsabs")},
			[]string{"broken/no-nul.lsabs", "offset 0x"}, "contact_id,ou_path_id", false, ""},
		{[]string{"abs", "info", absSample("broken/unknown-layout.lsabs")},
			[]string{"unknown-layout.lsabs", "offset 0x98", "compressed"}, "", false, ""},
		{[]string{"abs", "info", "-o", "json", absSample("broken/bad-length.lsabs")},
			[]string{"bad-length.lsabs", "offset 0x2D9"}, `"offset": 729`, true, ""},
		{[]string{"abs", "find", absSample("broken/truncated.lsabs"), "--name", "x"},
			[]string{"offset 0x380"}, "", false, ""},
		{[]string{"abs", "dump", absSample("no-such-file.lsabs")},
			[]string{"no-such-file.lsabs"}, "", false, ""},
		{[]string{"abs", "info", absData},
			[]string{"not a regular file"}, "", false, ""},
		{[]string{"abs", "probe", absData},
			[]string{"not a regular file"}, "", false, ""},
		{[]string{"phone", "check", absSample("broken/unknown-attribute.lsabs")},
			[]string{"unknown-attribute.lsabs", "offset 0x"}, "", false, ""},
	}
	for _, tt := range tests {
		stdout, stderr, code := runCLI(t, tt.args...)
		name := strings.Join(tt.args, " ")
		if code != ExitBadInput {
			t.Errorf("%s: exit %d, want %d", name, code, ExitBadInput)
		}
		for _, s := range tt.stderr {
			if !strings.Contains(stderr, s) {
				t.Errorf("%s: stderr %q lacks %q", name, stderr, s)
			}
		}
		if tt.stdoutHas == "" && stdout != "" {
			t.Errorf("%s: stdout %q, want none", name, stdout)
		}
		if !strings.Contains(stdout, tt.stdoutHas) {
			t.Errorf("%s: stdout lacks %q:\n%s", name, tt.stdoutHas, stdout)
		}
		if tt.validJSON && !json.Valid([]byte(stdout)) {
			t.Errorf("%s: stdout is not valid JSON:\n%s", name, stdout)
		}
		if !strings.HasSuffix(stdout, tt.stdoutLast) {
			t.Errorf("%s: stdout does not end with %q", name, tt.stdoutLast)
		}
	}
}

func TestAbsApply(t *testing.T) {
	dir := t.TempDir()
	want, err := os.ReadFile(absSample("F-0A11.lsabs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, delta := range []string{"D-0A10-0A11.lsabs", "C-0A10-0A11.lsabs"} {
		out := filepath.Join(dir, "from-"+delta)
		_, stderr, code := runCLI(t, "abs", "apply", absSample("F-0A10.lsabs"), absSample(delta), "-w", out)
		if code != ExitOK {
			t.Fatalf("apply %s: exit %d: %s", delta, code, stderr)
		}
		got, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("apply %s: %d bytes differ from F-0A11.lsabs (%d bytes)", delta, len(got), len(want))
		}
	}

	// An existing file is refused without --force and left as it was.
	out := filepath.Join(dir, "existing.lsabs")
	if err := os.WriteFile(out, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "abs", "apply", absSample("F-0A10.lsabs"), absSample("D-0A10-0A11.lsabs"), "-w", out)
	if code != ExitBadInput || !strings.Contains(stderr, "--force") {
		t.Errorf("existing OUT: exit %d, stderr %q; want 2 naming --force", code, stderr)
	}
	if b, _ := os.ReadFile(out); string(b) != "keep" {
		t.Errorf("existing OUT was changed to %d bytes", len(b))
	}
	if _, _, code := runCLI(t, "abs", "apply", absSample("F-0A10.lsabs"), absSample("D-0A10-0A11.lsabs"), "-w", out, "--force"); code != ExitOK {
		t.Errorf("--force: exit %d", code)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, want) {
		t.Errorf("--force did not write the next full file")
	}

	// A delta that does not fit the full file: bad input, nothing written, no temporary left.
	bad := filepath.Join(dir, "bad.lsabs")
	_, stderr, code = runCLI(t, "abs", "apply", absSample("F-0A11.lsabs"), absSample("D-0A10-0A11.lsabs"), "-w", bad)
	if code != ExitBadInput || !strings.Contains(stderr, "based on day 0A10") {
		t.Errorf("mismatched delta: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("mismatched delta wrote %s", bad)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if _, _, code := runCLI(t, "abs", "apply", absSample("F-0A10.lsabs"), absSample("D-0A10-0A11.lsabs")); code != ExitBadInput {
		t.Errorf("apply without -w: exit %d, want 2", code)
	}
}

func TestAbsGen(t *testing.T) {
	dir := t.TempDir()
	args := []string{"abs", "gen", "--contacts", "300", "--seed", "5", "--duplicates", "4", "--day", "2008-05-23"}
	if _, stderr, code := runCLI(t, append(args, "--delta-to", "0A8C", "--dir", dir)...); code != ExitOK {
		t.Fatalf("gen --dir: exit %d: %s", code, stderr)
	}
	for _, name := range []string{"F-0A8B.lsabs", "F-0A8C.lsabs", "D-0A8B-0A8C.lsabs", "C-0A8B-0A8C.lsabs"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("gen --dir: %v", err)
		}
	}
	// Same options, same bytes.
	again := filepath.Join(dir, "again.lsabs")
	if _, stderr, code := runCLI(t, append(args, "-w", again)...); code != ExitOK {
		t.Fatalf("gen -w: exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "F-0A8B.lsabs"))
	b, _ := os.ReadFile(again)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("gen is not deterministic: %d and %d bytes", len(a), len(b))
	}
	info, stderr, code := runCLI(t, "abs", "info", "-o", "json", again)
	if code != ExitOK {
		t.Fatalf("info: exit %d: %s", code, stderr)
	}
	var st absInfo
	if err := json.Unmarshal([]byte(info), &st); err != nil {
		t.Fatal(err)
	}
	if st.Counts.Contacts != 300 || st.Day != "0A8B" || st.Counts.Groups == 0 {
		t.Errorf("generated file: %+v", st.Counts)
	}
	// The generated delta applies to the generated full file, giving the next one.
	next := filepath.Join(dir, "next.lsabs")
	if _, stderr, code := runCLI(t, "abs", "apply", filepath.Join(dir, "F-0A8B.lsabs"), filepath.Join(dir, "C-0A8B-0A8C.lsabs"), "-w", next); code != ExitOK {
		t.Fatalf("apply generated: exit %d: %s", code, stderr)
	}
	n1, _ := os.ReadFile(next)
	n2, _ := os.ReadFile(filepath.Join(dir, "F-0A8C.lsabs"))
	if !bytes.Equal(n1, n2) {
		t.Errorf("applying the generated compact delta does not give the generated next full file")
	}
	// Duplicates: groups whose msRTCSIP-PrimaryUserAddress is a user's SIP address.
	dump, _, _ := runCLI(t, "abs", "dump", "-o", "json", again)
	var contacts []struct {
		Type       string           `json:"type"`
		Attributes map[string][]any `json:"attributes"`
	}
	if err := json.Unmarshal([]byte(dump), &contacts); err != nil {
		t.Fatal(err)
	}
	userSIP := map[string]bool{}
	for _, c := range contacts {
		if c.Type == string(abs.ClassEntry) {
			for _, s := range c.Attributes["msRTCSIP-PrimaryUserAddress"] {
				userSIP[strings.ToLower(s.(string))] = true
			}
		}
	}
	shared := 0
	for _, c := range contacts {
		if c.Type != "group" {
			continue
		}
		for _, p := range c.Attributes["msRTCSIP-PrimaryUserAddress"] {
			if userSIP[strings.ToLower(p.(string))] {
				shared++
			}
		}
	}
	if shared != 4 {
		t.Errorf("%d groups share a user's SIP address, want 4", shared)
	}

	for _, bad := range [][]string{
		{"abs", "gen", "--contacts", "10"},                                                                 // no output
		{"abs", "gen", "--contacts", "0", "-w", filepath.Join(dir, "x")},                                   // no contacts
		{"abs", "gen", "--day", "0A8G", "-w", filepath.Join(dir, "x")},                                     // bad day
		{"abs", "gen", "--delta-to", "0A00", "-w", filepath.Join(dir, "x")},                                // before --day
		{"abs", "gen", "--compact", "-w", filepath.Join(dir, "x")},                                         // --compact alone
		{"abs", "gen", "-w", filepath.Join(dir, "F-0A8B.lsabs")},                                           // exists
		{"abs", "gen", "--delta-to", "0A10", "--day", "0A0F", "-w", filepath.Join(dir, "y"), "--dir", dir}, // both
	} {
		if _, _, code := runCLI(t, bad...); code != ExitBadInput {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}

func TestAbsFindAndDiffExitStatus(t *testing.T) {
	stdout, stderr, code := runCLI(t, "abs", "find", absSample("F-0A10.lsabs"), "--sip", "nobody@contoso.com")
	if code != ExitOK || stdout != "" || !strings.Contains(stderr, "no match") {
		t.Errorf("find nothing: exit %d, stdout %q, stderr %q; want 0, nothing, \"no match\"", code, stdout, stderr)
	}
	stdout, _, code = runCLI(t, "abs", "find", absSample("F-0A10.lsabs"), "--guid", "not-a-guid")
	if code != ExitBadInput || stdout != "" {
		t.Errorf("bad --guid: exit %d", code)
	}
	if _, _, code := runCLI(t, "abs", "find", absSample("F-0A10.lsabs")); code != ExitBadInput {
		t.Errorf("find without criteria: exit %d, want 2", code)
	}
	stdout, _, code = runCLI(t, "abs", "diff", absSample("F-0A10.lsabs"), absSample("F-0A10.lsabs"))
	if code != ExitOK || strings.Count(stdout, "\n") != 1 {
		t.Errorf("diff of a file with itself: exit %d, stdout %q; want 0 and only the header", code, stdout)
	}
	// The SIP address that a user and a group share finds both.
	stdout, _, _ = runCLI(t, "abs", "find", absSample("F-0A10.lsabs"), "--sip", "sip:emil.OBrien@CONTOSO.com", "-o", "csv")
	if !strings.Contains(stdout, ",address book entry,") || !strings.Contains(stdout, ",group,") {
		t.Errorf("shared SIP address does not find a user and a group:\n%s", stdout)
	}
}

func TestPhoneTestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"phone", "test", "4444"},
		{"phone", "test", "--rules", absRulesFile, "--abs", absSample("F-0A10.lsabs"), "4444"},
		{"phone", "test", "--rules", "no-such-rules.txt", "4444"},
	} {
		if _, _, code := runCLI(t, args...); code != ExitBadInput {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	// Numbers from stdin.
	var out, errOut bytes.Buffer
	code := Run(t.Context(), []string{"phone", "test", "--rules", absRulesFile, "-o", "csv"},
		TestStreams(strings.NewReader("4444\n\n555-533-4312\n"), &out, &errOut))
	if code != ExitOK || strings.Count(out.String(), "\n") != 3 || !strings.Contains(out.String(), "+14255554444") {
		t.Errorf("stdin numbers: exit %d:\n%s%s", code, out.String(), errOut.String())
	}
	// A rules file with an error names its line.
	bad := filepath.Join(t.TempDir(), "rules.txt")
	if err := os.WriteFile(bad, []byte("^(\\d{4})$\r\n+1$1\r\n^(\\d{4}$\r\n+1$1\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "phone", "test", "--rules", bad, "4444")
	if code != ExitBadInput || !strings.Contains(stderr, "line 3") {
		t.Errorf("bad rules: exit %d, stderr %q", code, stderr)
	}
}

func TestAbsWriteFileAtomicRefusesExisting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	write := func(s string) func(w io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := writeFileAtomic(path, false, write("one")); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, false, write("two")); exitCode(err) != ExitBadInput {
		t.Errorf("second write without force: %v", err)
	}
	if err := writeFileAtomic(path, true, write("three")); err != nil {
		t.Fatal(err)
	}
	failing := func(w io.Writer) error { io.WriteString(w, "partial"); return errors.New("boom") }
	if err := writeFileAtomic(path, true, failing); err == nil {
		t.Error("a failing writer reported success")
	}
	if b, _ := os.ReadFile(path); string(b) != "three" {
		t.Errorf("file holds %q, want three", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries in the directory, want 1", len(entries))
	}
}

func TestAbsContactJSONGathersSplitAttributes(t *testing.T) {
	tbl, err := abs.NewTable(abs.DefaultAttributes())
	if err != nil {
		t.Fatal(err)
	}
	c := &abs.Contact{ID: abs.GUID{1}, Values: []abs.Value{
		{AttrID: 19, Kind: abs.ValueString, Str: "sip:a@x.test"},
		{AttrID: 9, Kind: abs.ValueString, Str: "4444"}, {AttrID: 9, Kind: abs.ValueNormalized, Str: "tel:+14255554444"},
		{AttrID: 19, Kind: abs.ValueString, Str: "smtp:a@x.test"},
		{AttrID: 4, Kind: abs.ValueEmpty},
		{AttrID: 18, Kind: abs.ValueBinary, Str: "\xAB\x01"},
	}}
	got := string(newContactJSON(tbl).append(nil, c))
	want := `{"contact_id":"00000001-0000-0000-0000-000000000000","ou_path_id":0,"offset":0,"type":"address book entry",` +
		`"attributes":{"proxyAddress":["sip:a@x.test","smtp:a@x.test"],"telephoneNumber":["4444"],` +
		`"title":null,"manager":["ab01"]},` +
		`"normalized":{"telephoneNumber":{"4444":"tel:+14255554444"}}}`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestAbsAppendGUID(t *testing.T) {
	for _, g := range []abs.GUID{{}, {0x1f, 0x22, 0xbd, 0x96, 0x92, 0x84, 0x50, 0x44, 0xab, 0xb2, 0x2b, 0xd6, 0x82, 0x8d, 0xb2, 0x7a}, abs.FullFileType} {
		if got := string(appendGUID(nil, g)); got != g.String() {
			t.Errorf("appendGUID = %s, want %s", got, g)
		}
	}
}

// TestAbsDumpMatchesLibrary checks, over a file larger than the output chunks, that the text dump
// is abs.Dump's and that the JSON dump is the per-contact encoding, in file order.
func TestAbsDumpMatchesLibrary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "F-0A10.lsabs")
	if _, stderr, code := runCLI(t, "abs", "gen", "--contacts", "3000", "--seed", "9", "-w", path); code != ExitOK {
		t.Fatalf("gen: %s", stderr)
	}
	text, _, code := runCLI(t, "abs", "dump", path)
	if code != ExitOK {
		t.Fatalf("dump: exit %d", code)
	}
	af, err := abs.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer af.Close()
	var want bytes.Buffer
	if err := abs.Dump(&want, af.Reader); err != nil {
		t.Fatal(err)
	}
	if text != want.String() {
		t.Errorf("text dump (%d bytes) differs from abs.Dump (%d bytes)", len(text), want.Len())
	}

	js, _, code := runCLI(t, "abs", "dump", "-o", "json", path)
	if code != ExitOK {
		t.Fatalf("dump -o json: exit %d", code)
	}
	enc := newContactJSON(af.Table())
	wantJSON := []byte("[")
	n := 0
	for c, err := range af.Contacts() {
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			wantJSON = append(wantJSON, ',')
		}
		wantJSON = enc.append(append(wantJSON, '\n'), c)
		n++
	}
	wantJSON = append(wantJSON, fmt.Sprintf(",\n{\"type\":\"trailer\",\"present\":true,\"offset\":%d,\"length\":0,\"hex\":\"\"}\n]\n", af.Size()-4)...)
	if n != 3000 || js != string(wantJSON) {
		t.Errorf("JSON dump (%d bytes) differs from the per-contact encoding of %d contacts (%d bytes)", len(js), n, len(wantJSON))
	}
}

// absFailAfter accepts n bytes, then fails every write.
type absFailAfter struct{ n int }

func (w *absFailAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestAbsDumpWriteErrorStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "F-0A10.lsabs")
	if _, stderr, code := runCLI(t, "abs", "gen", "--contacts", "5000", "--seed", "9", "-w", path); code != ExitOK {
		t.Fatalf("gen: %s", stderr)
	}
	for _, format := range []string{"", "json", "csv"} {
		var errOut bytes.Buffer
		args := []string{"abs", "dump", path}
		if format != "" {
			args = append(args, "-o", format)
		}
		code := Run(t.Context(), args, TestStreams(nil, &absFailAfter{n: 100_000}, &errOut))
		if code != ExitRuntime || !strings.Contains(errOut.String(), "disk full") {
			t.Errorf("dump -o %q to a failing writer: exit %d, stderr %q; want 3 and the write error", format, code, errOut.String())
		}
	}
}

// TestAbsInfoCheck: a value that its attribute's type excludes (an smtp: proxy address turned
// into xmtp:) is listed by info --check, with exit 1; without --check the file is fine.
func TestAbsInfoCheck(t *testing.T) {
	data, err := os.ReadFile(absSample("F-0A10.lsabs"))
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("\x13SMTP:"))
	if i < 0 {
		t.Fatal("no proxyAddresses value in the sample")
	}
	copy(data[i+1:], "XMTP:")
	path := filepath.Join(t.TempDir(), "F-0A10.lsabs")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "abs", "info", path); code != ExitOK {
		t.Fatalf("info: exit %d: %s", code, stderr)
	}
	stdout, _, code := runCLI(t, "abs", "info", "--check", "-o", "json", path)
	var info absInfo
	if err := json.Unmarshal([]byte(stdout), &info); err != nil {
		t.Fatal(err)
	}
	if code != ExitFindings || len(info.Issues) != 1 {
		t.Fatalf("info --check: exit %d, issues %+v", code, info.Issues)
	}
	if is := info.Issues[0]; is.Attribute != "proxyAddress" || !strings.HasPrefix(is.Value, "XMTP:") || is.Type != "0x5 tel-or-smtp-string" ||
		!strings.Contains(is.Allowed, "smtp: value containing @") || is.Offset < info.Layout["contacts_offset"] || is.Offset > int64(i) {
		t.Errorf("issue %+v", is)
	}
	stdout, _, _ = runCLI(t, "abs", "info", "--check", "-o", "tsv", path)
	if !strings.Contains(stdout, "\tproxyAddress\t0x5 tel-or-smtp-string\tXMTP:") {
		t.Errorf("info --check table:\n%s", stdout)
	}
}

// TestAbsApplyCarriesTrailer: apply writes the full file's trailer into the new full file.
func TestAbsApplyCarriesTrailer(t *testing.T) {
	out := filepath.Join(t.TempDir(), "F-0A11.lsabs")
	_, stderr, code := runCLI(t, "abs", "apply", absSample("trailer/F-0A10.lsabs"), absSample("D-0A10-0A11.lsabs"), "-w", out)
	if code != ExitOK || !strings.Contains(stderr, "trailer: 24 bytes from") {
		t.Fatalf("apply: exit %d: %s", code, stderr)
	}
	base, err := abs.Open(absSample("trailer/F-0A10.lsabs"))
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	next, err := abs.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	want, err1 := base.TrailerBody()
	got, err2 := next.TrailerBody()
	if err1 != nil || err2 != nil || len(want) != 24 || !bytes.Equal(got, want) {
		t.Errorf("trailer %q (%v), want %q (%v)", got, err2, want, err1)
	}
	// The contacts are those of the next day's full file.
	b1, err1 := abs.ReadBook(next.Reader)
	f11, _ := abs.Open(absSample("F-0A11.lsabs"))
	defer f11.Close()
	b2, err2 := abs.ReadBook(f11.Reader)
	if err1 != nil || err2 != nil || len(b1.Contacts) != len(b2.Contacts) {
		t.Fatalf("%v %v", err1, err2)
	}
	for i := range b1.Contacts {
		if !b1.Contacts[i].Equal(b2.Contacts[i]) {
			t.Fatalf("contact %d differs", i)
		}
	}
}

// TestAbsProbeNamesContainer: probe -o json names a zlib-wrapped delta, and claims nothing on
// random bytes.
func TestAbsProbeNamesContainer(t *testing.T) {
	data, err := os.ReadFile(absSample("D-0A10-0A11.lsabs"))
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	dir := t.TempDir()
	random := make([]byte, 5000)
	for i := range random {
		random[i] = byte(i*7919 + i*i*31)
	}
	for name, want := range map[string]string{"z.lsabs": "whole file: zlib", "random.lsabs": ""} {
		content := z.Bytes()
		if name == "random.lsabs" {
			content = random
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		stdout, _, code := runCLI(t, "abs", "probe", "-o", "json", path)
		var rep struct {
			Container struct {
				Named      string `json:"named"`
				FileType   string `json:"file_type"`
				Candidates []struct {
					Name   string `json:"name"`
					Proven bool   `json:"proven"`
				} `json:"candidates"`
			} `json:"container"`
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != ExitBadInput {
			t.Fatalf("%s: exit %d, %v", name, code, err)
		}
		if rep.Container.Named != want || (want != "" && rep.Container.FileType != abs.DeltaFileType.String()) {
			t.Errorf("%s: named %q (%s), want %q", name, rep.Container.Named, rep.Container.FileType, want)
		}
	}
}
