package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// needEnv returns the named environment variables set by testdata/*/server.sh (through
// scripts/test.sh); a missing one skips the test, or fails it under CI=true.
func needEnv(t *testing.T, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		if out[n] = os.Getenv(n); out[n] == "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not set: the test server did not start (CI=true forbids skipping)", n)
			}
			t.Skipf("%s is not set: start the servers with scripts/test.sh", n)
		}
	}
	return out
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "abkit.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestIntegrationLdapCommandsSlapd(t *testing.T) {
	env := needEnv(t, "ABKIT_SLAPD_URL", "ABKIT_SLAPD_LDAPS_URL", "ABKIT_SLAPD_CA", "ABKIT_SLAPD_RES_BASE", "ABKIT_SLAPD_RES_BIND_DN", "ABKIT_SLAPD_PASSWORD")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	snapPath := filepath.Join(t.TempDir(), "res.ldif")
	cfg := writeConfig(t, fmt.Sprintf(`forests:
  - name: res
    url: %[1]s
    starttls: true
    base: %[3]s
    page_size: 40
    tls: {ca_file: %[4]s}
    bind: {method: simple, dn: "%[5]s", password_env: ABKIT_SLAPD_PASSWORD}
  - name: resldaps
    url: %[2]s
    base: %[3]s
    tls: {ca_file: %[4]s}
  - name: snap
    ldif: %[6]s
    base: %[3]s
  - name: wrongpw
    url: %[1]s
    bind: {method: simple, dn: "%[5]s", password_env: ABKIT_TEST_WRONG_PW}
  - name: down
    url: ldap://%[7]s
    timeout: 5s
  - name: untrusted
    url: %[2]s
  - name: elsewhere
    url: %[1]s
    base: dc=other,dc=test
`, env["ABKIT_SLAPD_URL"], env["ABKIT_SLAPD_LDAPS_URL"], env["ABKIT_SLAPD_RES_BASE"], env["ABKIT_SLAPD_CA"],
		env["ABKIT_SLAPD_RES_BIND_DN"], snapPath, closed))
	t.Setenv("ABKIT_TEST_WRONG_PW", "wrong")
	run := func(wantCode int, args ...string) (string, string) {
		t.Helper()
		out, stderr, code := runCLI(t, append([]string{"--config", cfg}, args...)...)
		if code != wantCode {
			t.Fatalf("%v: exit %d, want %d; stderr %s", args, code, wantCode, stderr)
		}
		return out, stderr
	}

	out, _ := run(ExitOK, "ldap", "ping", "--forest", "res", "-o", "json")
	var p pingResult
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.Transport != "starttls" || !p.PagingSupported ||
		!strings.EqualFold(p.BoundAs, "dn:"+env["ABKIT_SLAPD_RES_BIND_DN"]) {
		t.Errorf("ping: %+v %v", p, err)
	}

	// Live export as LDIF, read back as a snapshot forest: the same JSON export.
	ldifOut, _ := run(ExitOK, "ldap", "export", "--forest", "res", "--attrs", "*", "-o", "ldif")
	if err := os.WriteFile(snapPath, []byte(ldifOut), 0o600); err != nil {
		t.Fatal(err)
	}
	liveJSON, _ := run(ExitOK, "ldap", "export", "--forest", "res", "-o", "json")
	snapJSON, _ := run(ExitOK, "ldap", "export", "--forest", "snap", "-o", "json")
	if liveJSON != snapJSON {
		t.Errorf("live and snapshot exports differ:\n%.2000s\n---\n%.2000s", liveJSON, snapJSON)
	}
	var recs []exportRecord
	if err := json.Unmarshal([]byte(liveJSON), &recs); err != nil || len(recs) < 250 {
		t.Errorf("live export: %d records, %v", len(recs), err)
	}
	ldapsJSON, _ := run(ExitOK, "ldap", "export", "--forest", "resldaps", "-o", "json")
	if ldapsJSON != liveJSON {
		t.Error("LDAPS export differs from the StartTLS one")
	}

	// find on the live server and on the snapshot, including injection attempts.
	for _, forest := range []string{"res", "snap"} {
		for _, tc := range []struct {
			args []string
			want int
		}{
			{[]string{"--sid", "S-1-5-21-1004336348-1177238915-682003330-1105"}, 1}, // Alice's master SID
			{[]string{"--sid", "S-1-5-21-1004336348-1177238915-682003330-1106"}, 1}, // Bob: master and originator
			{[]string{"--sip", "SIP:Alice@Contoso.com"}, 2},                         // Alice and the Sales group
			{[]string{"--sam", "bulk"}, 0},
			{[]string{"--name", "Bob Baker"}, 1},
			{[]string{"--sam", "*)(objectClass=*"}, 0},
			{[]string{"--sip", "*"}, 0},
			{[]string{"--name", "*)(|(cn=*"}, 0},
		} {
			out, _ := run(ExitOK, append([]string{"ldap", "find", "--forest", forest, "-o", "json"}, tc.args...)...)
			var got []exportRecord
			if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != tc.want {
				t.Errorf("%s find %v: %d records (want %d), %v", forest, tc.args, len(got), tc.want, err)
			}
		}
	}
	var alice []exportRecord
	out, _ = run(ExitOK, "ldap", "find", "--forest", "res", "--sam", "alice", "-o", "json")
	if err := json.Unmarshal([]byte(out), &alice); err != nil || len(alice) != 1 {
		t.Fatalf("alice: %v", err)
	}
	guid := alice[0].Attributes["objectGUID"][0]
	out, _ = run(ExitOK, "ldap", "find", "--forest", "res", "--guid", guid, "-o", "tsv")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], guid) {
		t.Errorf("find --guid %s: %q", guid, out)
	}

	// Failures: one message, exit 3.
	for _, tc := range []struct{ forest, want string }{
		{"wrongpw", "invalid credentials"},
		{"down", "cannot connect"},
		{"untrusted", "certificate signed by unknown authority"},
		{"elsewhere", "referrals are not chased"},
	} {
		_, stderr := run(ExitRuntime, "ldap", "export", "--forest", tc.forest, "-o", "json")
		if !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%s: stderr %q, want one line containing %q", tc.forest, stderr, tc.want)
		}
	}
	out, _ = run(ExitRuntime, "config", "check", "-o", "json")
	var checks []checkResult
	if err := json.Unmarshal([]byte(out), &checks); err != nil {
		t.Fatal(err)
	}
	okCount := 0
	for _, c := range checks {
		if c.OK {
			okCount++
		}
	}
	// res, resldaps, snap and elsewhere (the base is only searched later) connect; the rest fail.
	if len(checks) != 7 || okCount != 4 {
		t.Errorf("config check: %+v", checks)
	}
}
