package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/abkit/abkit/abs"
	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
)

const dupesConfig = "../../testdata/dupes/abkit.yaml"

// GUIDs of testdata/dupes.
var (
	gAlice = ldapsync.MustParseGUID("a11ce000-0000-4000-8000-000000000001")
	gCarol = ldapsync.MustParseGUID("ca201000-0000-4000-8000-000000000003")
	gSales = ldapsync.MustParseGUID("5a1e5000-0000-4000-8000-000000000006")
	gStale = ldapsync.MustParseGUID("57a1e000-0000-4000-8000-00000000000a")
)

// rowSummary renders report rows as "value: name(kind)*, name(kind)" with the keeper starred.
func rowSummary(rows []dupes.Row) []string {
	var out []string
	for _, r := range rows {
		var ms []string
		for _, m := range r.Members {
			name := strings.TrimPrefix(strings.SplitN(m.DN, ",", 2)[0], "cn=")
			if name == "" {
				name = m.GUID.String()
			}
			s := name + "(" + string(m.Kind) + ")"
			if m.Keep {
				s += "*"
			}
			ms = append(ms, s)
		}
		out = append(out, r.Value+": "+strings.Join(ms, ", "))
	}
	return out
}

func runDupesJSON(t *testing.T, wantCode int, args ...string) *dupes.Report {
	t.Helper()
	stdout, stderr, code := runCLI(t, append(args, "-o", "json")...)
	if code != wantCode {
		t.Fatalf("%v: exit %d, want %d; stderr %s", args, code, wantCode, stderr)
	}
	var rep dupes.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stdout)
	}
	return &rep
}

func TestDupesSnapshots(t *testing.T) {
	rep := runDupesJSON(t, ExitFindings, "dupes", "--config", dupesConfig, "--phones")
	wantSIP := []string{
		"alice@contoso.com: Alice Able(user)*, Sales(security group)",
		"bob@contoso.com: Bob Baker(user)*, Bob Contact(contact)",
		"carol@contoso.com: Carol Clark(user)*, Carol DL(distribution group)",
	}
	if got := rowSummary(rep.SIP); !slices.Equal(got, wantSIP) {
		t.Errorf("sip rows:\n got %q\nwant %q", got, wantSIP)
	}
	wantPhone := []string{"tel:+14255550100: Alice Able(user)*, Bob Baker(user), Erin Evans(user)"}
	if got := rowSummary(rep.Phone); !slices.Equal(got, wantPhone) {
		t.Errorf("phone rows:\n got %q\nwant %q", got, wantPhone)
	}
	if rep.Objects != 9 || len(rep.Sources) != 2 || rep.Sources[0] != (dupes.SourceCount{Name: "forest userforest", Objects: 4}) {
		t.Errorf("objects %d, sources %+v", rep.Objects, rep.Sources)
	}
	if r := rep.SIP[0].Reason; r != "a SIP-enabled user beats a group" {
		t.Errorf("reason %q", r)
	}

	// One forest alone has no duplicate.
	rep = runDupesJSON(t, ExitOK, "dupes", "--config", dupesConfig, "--forest", "userforest")
	if len(rep.SIP) != 0 || rep.Objects != 4 {
		t.Errorf("userforest alone: %q, %d objects", rowSummary(rep.SIP), rep.Objects)
	}
}

func TestDupesOutputFormats(t *testing.T) {
	stdout, _, code := runCLI(t, "dupes", "--config", dupesConfig, "-o", "csv")
	if code != ExitFindings {
		t.Fatalf("exit %d", code)
	}
	recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 || recs[0][0] != "check" || recs[0][2] != "keep" {
		t.Fatalf("csv: %d records, header %v", len(recs), recs[0])
	}
	if r := recs[3]; r[1] != "bob@contoso.com" || r[2] != "KEEP" || r[3] != "user" || r[4] != "userforest" || r[14] == "" {
		t.Errorf("keeper line %q", r)
	}
	if r := recs[4]; r[2] != "lose" || r[3] != "contact" || r[8] != "?" || r[9] != "yes" || r[14] != "" {
		t.Errorf("loser line %q", r)
	}
	stdout, _, _ = runCLI(t, "dupes", "--config", dupesConfig, "-o", "table")
	if !strings.Contains(stdout, "alice@contoso.com") || !strings.Contains(stdout, "KEEP") {
		t.Errorf("table:\n%s", stdout)
	}
}

// dupesWriteBook writes an address book file of day with the given contacts (absSIPProxyTable).
func dupesWriteBook(t *testing.T, path string, day abs.Day, contacts []*abs.Contact) *abs.Book {
	t.Helper()
	b := &abs.Book{Header: abs.Header{Kind: abs.Full, FileType: abs.FullFileType, Day: day, UseNormalizationRules: true},
		Attributes: absSIPProxyTable(), Contacts: contacts}
	dupesWriteBookFile(t, path, b)
	return b
}

func dupesWriteBookFile(t *testing.T, path string, b *abs.Book) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := abs.Write(f, b); err != nil {
		t.Fatal(err)
	}
}

// absSIPProxyTable is abs.DefaultAttributes with proxyAddresses (Id 19) made a plain multi-valued
// string (type 0x0), as a site that publishes sip: proxy addresses configures it: the default
// type 0x5 keeps only tel: and smtp: values.
func absSIPProxyTable() []abs.Attribute {
	attrs := abs.DefaultAttributes()
	for i, a := range attrs {
		if a.ID == 19 {
			attrs[i].Flags &^= 0xFF
		}
	}
	return attrs
}

// contact builds an address book contact with DefaultAttributes Ids: 3 displayName,
// 8 msRTCSIP-PrimaryUserAddress, 15 groupType, 19 proxyAddresses.
func bookContact(g ldapsync.GUID, name, sip string, group bool, proxies ...string) *abs.Contact {
	c := &abs.Contact{ID: abs.GUID(g), OuPathID: 1}
	c.Values = append(c.Values, abs.Value{AttrID: 3, Kind: abs.ValueString, Str: name})
	if sip != "" {
		c.Values = append(c.Values, abs.Value{AttrID: 8, Kind: abs.ValueString, Str: sip})
	}
	if group {
		c.Values = append(c.Values, abs.Value{AttrID: 15, Kind: abs.ValueString, Str: "-2147483640"})
	}
	for _, p := range proxies {
		c.Values = append(c.Values, abs.Value{AttrID: 19, Kind: abs.ValueString, Str: p})
	}
	return c
}

func TestDupesAddressBook(t *testing.T) {
	t.Setenv("ABKIT_CONFIG", "")
	dir := t.TempDir()
	day1, day2 := abs.Day(0x0A10), abs.Day(0x0A11)
	old := dupesWriteBook(t, filepath.Join(dir, "F-0A10.lsabs"), day1, []*abs.Contact{
		bookContact(gAlice, "Alice Able", "sip:alice@contoso.com", false, "sip:alice@contoso.com"),
		bookContact(gSales, "Sales", "", true, "SMTP:sales@contoso.com", "sip:alice@contoso.com"),
		bookContact(gCarol, "Carol Clark", "sip:carol@contoso.com", false),
	})
	// The next day the group is gone and a stale entry carries Carol's address.
	next := &abs.Book{Header: old.Header, Attributes: old.Attributes, Contacts: []*abs.Contact{
		old.Contacts[0], old.Contacts[2],
		bookContact(gStale, "Carol (old)", "SIP:Carol@Contoso.com", false),
	}}
	next.Header.Day = day2
	delta, err := abs.Diff(old, next, false)
	if err != nil {
		t.Fatal(err)
	}
	dupesWriteBookFile(t, filepath.Join(dir, "D-0A10-0A11.lsabs"), delta)

	// The file alone.
	rep := runDupesJSON(t, ExitFindings, "dupes", "--abs", filepath.Join(dir, "F-0A10.lsabs"))
	want := []string{"alice@contoso.com: " + gAlice.String() + "(address book entry)*, " + gSales.String() + "(group)"}
	if got := rowSummary(rep.SIP); !slices.Equal(got, want) {
		t.Errorf("file alone:\n got %q\nwant %q", got, want)
	}
	if m := rep.SIP[0].Members[0]; m.DisplayName != "Alice Able" || *m.InAddressBook != true || m.Enabled != nil || m.SIPEnabled != nil {
		t.Errorf("member %+v", m)
	}
	// abs find names the same records the same way (one classifier, abs.Classifier).
	out, _, _ := runCLI(t, "abs", "find", filepath.Join(dir, "F-0A10.lsabs"), "--sip", "alice@contoso.com", "-o", "csv")
	for guid, kind := range map[ldapsync.GUID]string{gAlice: "address book entry", gSales: "group"} {
		if !strings.Contains(out, guid.String()+","+kind+",") {
			t.Errorf("abs find calls %s other than dupes (%s):\n%s", guid, kind, out)
		}
	}

	// The folder: the full file with the delta applied, merged with the forests.
	rep = runDupesJSON(t, ExitFindings, "dupes", "--config", dupesConfig, "--abs-folder", dir)
	want = []string{
		"alice@contoso.com: Alice Able(user)*, Sales(security group)",
		"bob@contoso.com: Bob Baker(user)*, Bob Contact(contact)",
		// An entry of unknown kind ranks before a group.
		"carol@contoso.com: Carol Clark(user)*, " + gStale.String() + "(address book entry), Carol DL(distribution group)",
	}
	if got := rowSummary(rep.SIP); !slices.Equal(got, want) {
		t.Errorf("folder:\n got %q\nwant %q", got, want)
	}
	in := map[string]bool{}
	for _, r := range rep.SIP {
		for _, m := range r.Members {
			in[m.GUID.String()] = *m.InAddressBook
		}
	}
	// The group was deleted by the delta: in the forest, no longer in the address book.
	if !in[gAlice.String()] || in[gSales.String()] || !in[gStale.String()] {
		t.Errorf("in address book: %v", in)
	}
	if last := rep.Sources[len(rep.Sources)-1]; last.Name != "address book F-0A10.lsabs + D-0A10-0A11.lsabs" || last.Objects != 3 {
		t.Errorf("address book source %+v", last)
	}

	// The newest full file wins over an older one with deltas.
	dupesWriteBookFile(t, filepath.Join(dir, "F-0A11.lsabs"), next)
	rep = runDupesJSON(t, ExitFindings, "dupes", "--abs-folder", dir)
	if got := rep.Sources[0].Name; got != "address book F-0A11.lsabs" {
		t.Errorf("source %q", got)
	}
	if got := rowSummary(rep.SIP); len(got) != 1 || !strings.HasPrefix(got[0], "carol@contoso.com: ") {
		t.Errorf("F-0A11: %q", got)
	}
}

func TestDupesFixOnSnapshots(t *testing.T) {
	stdout, stderr, code := runCLI(t, "dupes", "fix", "--config", dupesConfig, "-o", "json")
	if code != ExitFindings || !strings.Contains(stderr, "none writable") {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	var out struct {
		Plan   dupes.Plan
		Result *dupes.Result
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Result != nil || len(out.Plan.Changes) != 3 {
		t.Fatalf("plan %+v result %+v", out.Plan, out.Result)
	}
	got := map[string]string{}
	for _, c := range out.Plan.Changes {
		var rm []string
		for _, av := range c.Remove {
			rm = append(rm, av.Attr+"="+strings.Join(av.Values, "|"))
		}
		got[c.DN] = fmt.Sprintf("%s %s [%s]", c.Action, c.Skip, strings.Join(rm, " "))
	}
	want := map[string]string{
		"cn=Sales,ou=Groups,dc=resforest,dc=test":         "remove-proxy forest resforest is read from a snapshot (read-only) [proxyAddresses=sip:alice@contoso.com]",
		"cn=Bob Contact,ou=Contacts,dc=resforest,dc=test": "clear-sip forest resforest is read from a snapshot (read-only) [msRTCSIP-PrimaryUserAddress=sip:bob@contoso.com msRTCSIP-UserEnabled=TRUE]",
		"cn=Carol DL,ou=Groups,dc=resforest,dc=test":      "remove-proxy forest resforest is read from a snapshot (read-only) [proxyAddresses=SIP:Carol@Contoso.com]",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("plan:\n got %v\nwant %v", got, want)
	}
	// --yes changes nothing either: there is nothing writable, so no undo folder appears.
	undo := filepath.Join(t.TempDir(), "undo")
	_, stderr, code = runCLI(t, "dupes", "fix", "--config", dupesConfig, "--yes", "--undo-dir", undo)
	if code != ExitFindings || !strings.Contains(stderr, "nothing to change") {
		t.Errorf("--yes: exit %d, stderr %s", code, stderr)
	}
	if _, err := os.Stat(undo); !os.IsNotExist(err) {
		t.Errorf("undo folder created: %v", err)
	}
}

func TestDupesBadInput(t *testing.T) {
	t.Setenv("ABKIT_CONFIG", "")
	// An rtc section whose password variable is not set: bad input (2), not a runtime failure.
	noPassword := filepath.Join(t.TempDir(), "abkit.yaml")
	ldif, _ := filepath.Abs("../../testdata/dupes/userforest.ldif")
	os.Unsetenv("ABKIT_TEST_UNSET_VARIABLE")
	if err := os.WriteFile(noPassword, []byte(fmt.Sprintf("forests:\n  - name: userforest\n    ldif: %s\nrtc:\n  server: 127.0.0.1\n  user: x\n  password_env: ABKIT_TEST_UNSET_VARIABLE\n", ldif)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"dupes"}, "nothing to read"},
		{[]string{"dupes", "--config", dupesConfig, "--forest", "nosuch"}, `no forest named "nosuch"`},
		{[]string{"dupes", "--abs", "/nonexistent/F-0A10.lsabs"}, "no such file"},
		{[]string{"dupes", "--abs-folder", t.TempDir()}, "no full file"},
		{[]string{"dupes", "--config", dupesConfig, "--rtc"}, "no rtc section"},
		{[]string{"dupes", "--config", noPassword, "--rtc", "--no-abs"}, "ABKIT_TEST_UNSET_VARIABLE"},
		{[]string{"dupes", "fix", "--config", noPassword, "--rtc", "--no-abs"}, "ABKIT_TEST_UNSET_VARIABLE"},
		{[]string{"dupes", "--abs", "x", "--no-abs"}, "exclude each other"},
		{[]string{"dupes", "extra"}, `unexpected argument "extra"`},
		{[]string{"dupes", "undo"}, "exactly one undo folder"},
		{[]string{"dupes", "undo", t.TempDir()}, "manifest.json"},
		{[]string{"dupes", "--config", dupesConfig, "--phones", "--rules", "/nonexistent/rules.txt"}, "rules.txt"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.args...)
		if code != ExitBadInput || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}
