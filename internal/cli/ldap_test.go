package cli

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abkit/abkit/ldapsync"
)

// snapshotFixture writes an ldifde-style snapshot (CRLF, changetype: add) and a configuration
// naming it, and returns the configuration's path.
func snapshotFixture(t *testing.T, extraForests string) string {
	t.Helper()
	dir := t.TempDir()
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	g := ldapsync.MustParseGUID("96bd221f-8492-4450-abb2-2bd6828db27a")
	ldif := strings.Join([]string{
		"dn: CN=Alice Able,OU=Users,DC=res,DC=test",
		"changetype: add",
		"objectClass: user",
		"cn: Alice Able",
		"sAMAccountName: alice",
		"userAccountControl: 514",
		"objectGUID:: " + b64(g[:]),
		"objectSid:: " + b64(ldapsync.MustParseSID("S-1-5-21-9-9-9-2101").Bytes()),
		"msExchMasterAccountSid:: " + b64(ldapsync.MustParseSID("S-1-5-21-1-2-3-1105").Bytes()),
		"msRTCSIP-PrimaryUserAddress: sip:alice@contoso.com",
		"proxyAddresses: SMTP:alice@contoso.com",
		"",
		"dn: CN=Bad Sid,OU=Users,DC=res,DC=test",
		"changetype: add",
		"objectClass: user",
		"cn: Bad Sid",
		"sAMAccountName: badsid",
		"objectSid:: " + b64([]byte{1, 5, 0, 0, 0, 0, 0, 5}),
		"msRTCSIP-PrimaryUserAddress: sip:badsid@contoso.com",
		"",
		"dn: CN=No Sip,OU=Users,DC=res,DC=test",
		"changetype: add",
		"objectClass: user",
		"cn: No Sip",
		"sAMAccountName: nosip",
		"",
	}, "\r\n")
	if err := os.WriteFile(filepath.Join(dir, "res.ldf"), []byte(ldif), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.ldif"), []byte("dn: cn=a,dc=x\ncn: a\nno colon here\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := "forests:\n  - {name: snap, ldif: res.ldf, base: 'DC=res,DC=test'}\n  - {name: broken, ldif: broken.ldif}\n" + extraForests
	path := filepath.Join(dir, "abkit.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLdapExportSnapshot(t *testing.T) {
	cfg := snapshotFixture(t, "")
	out, stderr, code := runCLI(t, "--config", cfg, "ldap", "export", "--forest", "snap", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var recs []exportRecord
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if len(recs) != 2 {
		t.Fatalf("default filter exported %d records, want 2 (the SIP objects)", len(recs))
	}
	a := recs[0].Attributes
	if a["objectSid"][0] != "S-1-5-21-9-9-9-2101" || a["objectGUID"][0] != "96bd221f-8492-4450-abb2-2bd6828db27a" ||
		a["msExchMasterAccountSid"][0] != "S-1-5-21-1-2-3-1105" || recs[0].Kind != ldapsync.KindUser {
		t.Errorf("alice record %+v", recs[0])
	}
	// The bad SID is reported for its object, and the export goes on.
	if !strings.Contains(stderr, "CN=Bad Sid,OU=Users,DC=res,DC=test: objectSid") || len(recs[1].Warnings) != 1 ||
		!strings.HasPrefix(recs[1].Attributes["objectSid"][0], "invalid:") {
		t.Errorf("bad SID: stderr %q, record %+v", stderr, recs[1])
	}

	out, _, code = runCLI(t, "--config", cfg, "ldap", "export", "--forest", "snap", "--filter", "(objectClass=user)",
		"--attrs", "sAMAccountName,objectSid", "-o", "csv")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != ExitOK || err != nil || len(rows) != 4 || strings.Join(rows[0], ",") != "dn,kind,sAMAccountName,objectSid" ||
		rows[1][3] != "S-1-5-21-9-9-9-2101" || rows[3][2] != "nosip" {
		t.Errorf("csv exit %d err %v rows %q", code, err, rows)
	}

	// LDIF export reads back as a snapshot with the same objects.
	out, _, code = runCLI(t, "--config", cfg, "ldap", "export", "--forest", "snap", "--attrs", "*", "-o", "ldif")
	if code != ExitOK || !strings.Contains(out, "objectSid:: AQUAAAAAAAUVAAAACQAAAAkAAAAJAAAANQgAAA==") {
		t.Fatalf("ldif exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "dn: CN=Alice Able,OU=Users,DC=res,DC=test\nobjectClass: user\ncn: Alice Able\n") {
		t.Errorf("ldif export does not keep the file's attribute order:\n%s", out)
	}
	back, err := ldapsync.ReadSnapshot("back", strings.NewReader(out), "")
	if err != nil || back.Len() != 2 {
		t.Fatalf("reading the export back: %v", err)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ldap", "export", "--forest", "snap", "--attrs", "*", "-o", "csv"}, ExitBadInput, "needs -o ldif or -o json"},
		{[]string{"ldap", "export", "--forest", "broken"}, ExitRuntime, "skipped: " /* path */},
		{[]string{"ldap", "export", "--forest", "broken"}, ExitRuntime, "broken.ldif:3: want attr: value"},
		{[]string{"ldap", "export", "--forest", "broken"}, ExitRuntime, "partial input: 1 LDIF records"},
		{[]string{"--strict", "ldap", "export", "--forest", "broken"}, ExitBadInput, "broken.ldif:3: "},
		{[]string{"ldap", "find", "--strict", "--forest", "broken", "--sam", "a"}, ExitBadInput, "broken.ldif:3: "},
		{[]string{"ldap", "export", "--forest", "nope"}, ExitBadInput, `no forest named "nope"`},
		{[]string{"ldap", "export"}, ExitBadInput, "--forest is required"},
		{[]string{"ldap", "export", "--forest", "snap", "--filter", "(cn=x"}, ExitBadInput, "bad filter"},
		{[]string{"ldap", "ping", "--forest", "snap", "-o", "ldif"}, ExitBadInput, "unknown output format"},
		{[]string{"ldap", "find", "--forest", "snap", "--sam", "a", "--sip", "b"}, ExitBadInput, "exactly one"},
		{[]string{"ldap", "find", "--forest", "snap", "--sid", "S-1-5-x"}, ExitBadInput, "bad SID"},
		{[]string{"ldap", "find", "--forest", "snap", "--guid", "nope"}, ExitBadInput, "bad GUID"},
	} {
		_, stderr, code := runCLI(t, append([]string{"--config", cfg}, tc.args...)...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d stderr %q, want %d containing %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}

func TestLdapFindSnapshot(t *testing.T) {
	cfg := snapshotFixture(t, "")
	find := func(args ...string) []exportRecord {
		t.Helper()
		out, stderr, code := runCLI(t, append([]string{"--config", cfg, "ldap", "find", "--forest", "snap", "-o", "json"}, args...)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var recs []exportRecord
		if err := json.Unmarshal([]byte(out), &recs); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return recs
	}
	for _, args := range [][]string{
		{"--sip", "ALICE@contoso.com"},
		{"--sip", "sip:alice@CONTOSO.com"},
		{"--sid", "S-1-5-21-1-2-3-1105"},
		{"--sid", "S-1-5-21-9-9-9-2101"},
		{"--guid", "{96BD221F-8492-4450-ABB2-2BD6828DB27A}"},
		{"--sam", "Alice"},
		{"--name", "alice able"},
	} {
		if recs := find(args...); len(recs) != 1 || recs[0].DN != "CN=Alice Able,OU=Users,DC=res,DC=test" {
			t.Errorf("%v found %d records", args, len(recs))
		}
	}
	for _, args := range [][]string{
		{"--sam", "*"},
		{"--sam", "*)(objectClass=*"},
		{"--sam", "alice)(|(sAMAccountName=*"},
		{"--name", "*"},
		{"--sip", "*"},
		{"--sip", "*)(proxyAddresses=*"},
	} {
		if recs := find(args...); len(recs) != 0 {
			t.Errorf("injection %v found %d records", args, len(recs))
		}
	}
}

func TestConfigCheckSnapshotsAndPasswords(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw.txt")
	if err := os.WriteFile(pwFile, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := snapshotFixture(t, "  - {name: insecure, url: 'ldap://192.0.2.1', bind: {method: simple, dn: 'cn=x', password_env: ABKIT_TEST_PW}}\n"+
		"  - {name: nopw, url: 'ldaps://127.0.0.1:1', bind: {method: simple, dn: 'cn=x', password_env: ABKIT_TEST_UNSET_PW}}\n"+
		"  - {name: pwfile, url: 'ldaps://127.0.0.1:1', bind: {method: simple, dn: 'cn=x', password_file: '"+pwFile+"'}}\n"+
		"  - {name: nofile, url: 'ldaps://127.0.0.1:1', bind: {method: ntlm, user: x, password_file: '"+pwFile+".missing'}}\n")
	t.Setenv("ABKIT_TEST_PW", "secret")
	out, stderr, code := runCLI(t, "--config", cfg, "config", "check", "-o", "json")
	if code != ExitRuntime {
		t.Fatalf("exit %d, want 3: %s", code, stderr)
	}
	var res []checkResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"snap":   "snapshot, 3 entries",
		"broken": "PARTIAL: 1 unreadable records skipped, the first /", // then the path

		"insecure": "refusing a simple bind",
		"nopw":     "ABKIT_TEST_UNSET_PW, which is not set",
		"pwfile":   "cannot connect to ldaps://127.0.0.1:1", // the password was read; the server is down
		"nofile":   "password_file",
	}
	for _, r := range res {
		if r.Forest == "broken" && (!r.Partial || r.Skipped != 1 || !strings.Contains(r.Detail, "broken.ldif:3: want attr: value")) {
			t.Errorf("broken: %+v, want partial, one record skipped, and its line", r)
		}
		if !strings.Contains(r.Detail, want[r.Forest]) || r.OK != (r.Forest == "snap" || r.Forest == "broken") {
			t.Errorf("%s: ok=%v detail %q, want %q", r.Forest, r.OK, r.Detail, want[r.Forest])
		}
	}
	if len(res) != 6 {
		t.Errorf("%d results", len(res))
	}
	// --strict makes the broken snapshot bad input.
	if _, stderr, code := runCLI(t, "--config", cfg, "config", "check", "--strict"); code != ExitBadInput || !strings.Contains(stderr, "broken.ldif:3: want attr: value") {
		t.Errorf("config check --strict: exit %d %q", code, stderr)
	}
	// The same refusals end ldap commands with exit 2, and --allow-insecure-bind lifts the refusal.
	if _, stderr, code := runCLI(t, "--config", cfg, "ldap", "ping", "--forest", "insecure"); code != ExitBadInput || !strings.Contains(stderr, "allow_insecure_bind") {
		t.Errorf("insecure ping: exit %d %q", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--config", cfg, "ldap", "ping", "--forest", "nopw"); code != ExitBadInput {
		t.Errorf("no password: exit %d %q", code, stderr)
	}
	// A broken config file is bad input.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("forests:\n  - {name: a}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, code := runCLI(t, "--config", bad, "config", "check"); code != ExitBadInput {
		t.Errorf("bad config: exit %d", code)
	}
}
