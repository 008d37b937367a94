package cli

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

var fixSummary = regexp.MustCompile(`modified (\d+) of (\d+) object\(s\), (\d+) already done, (\d+) not attempted, (\d+) transactions`)

// TestDupesIntegrationSlapdFault plants n duplicate SIP addresses (a user and a contact each) on
// sidmap's durable slapd, kills slapd (by PID) half-way through 'dupes fix --yes', restarts it
// on the same data, resumes the fix from its undo folder, compares the whole subtree with the
// intended result and undoes everything.
func TestDupesIntegrationSlapdFault(t *testing.T) {
	env := needEnv(t, "ABKIT_SIDMAP_SLAPD_URL", "ABKIT_SIDMAP_SLAPD_STATE")
	url, state := env["ABKIT_SIDMAP_SLAPD_URL"], env["ABKIT_SIDMAP_SLAPD_STATE"]
	const n, admin = 1000, "cn=admin,dc=resforest,dc=test"
	ou := fmt.Sprintf("ou=dupes-fault-%d,dc=resforest,dc=test", time.Now().UnixNano())
	c, err := ldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Bind(admin, "secret"); err != nil {
		t.Fatal(err)
	}
	add := func(dn string, attrs map[string][]string) {
		req := ldap.NewAddRequest(dn, nil)
		for k, v := range attrs {
			req.Attribute(k, v)
		}
		if err := c.Add(req); err != nil {
			t.Fatalf("add %s: %v", dn, err)
		}
	}
	add(ou, map[string][]string{"objectClass": {"organizationalUnit"}, "ou": {strings.SplitN(strings.TrimPrefix(ou, "ou="), ",", 2)[0]}})
	for i := 0; i < n; i++ {
		sip := fmt.Sprintf("sip:u%04d@fault.test", i)
		add(fmt.Sprintf("cn=u%04d,%s", i, ou), map[string][]string{"objectClass": {"user"}, "cn": {fmt.Sprintf("u%04d", i)}, "sn": {"u"},
			"objectGUID": {string(guidBytes(1, i))}, "userAccountControl": {"512"},
			"msRTCSIP-PrimaryUserAddress": {sip}, "msRTCSIP-UserEnabled": {"TRUE"}})
		add(fmt.Sprintf("cn=c%04d,%s", i, ou), map[string][]string{"objectClass": {"contact"}, "cn": {fmt.Sprintf("c%04d", i)}, "sn": {"c"},
			"objectGUID": {string(guidBytes(2, i))}, "msRTCSIP-PrimaryUserAddress": {sip}, "msRTCSIP-UserEnabled": {"TRUE"}})
	}
	c.Close()
	t.Cleanup(func() {
		c, err := ldap.DialURL(url)
		if err != nil {
			return
		}
		defer c.Close()
		if c.Bind(admin, "secret") != nil {
			return
		}
		res, err := c.Search(ldap.NewSearchRequest(ou, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
		if err == nil {
			for _, e := range res.Entries {
				_ = c.Del(ldap.NewDelRequest(e.DN, nil))
			}
		}
		_ = c.Del(ldap.NewDelRequest(ou, nil))
	})
	t.Setenv("ABKIT_DUPES_FAULT_PASSWORD", "secret")
	cfg := writeConfig(t, fmt.Sprintf(`forests:
  - name: res
    url: %s
    base: "%s"
    bind: {method: simple, dn: "%s", password_env: ABKIT_DUPES_FAULT_PASSWORD}
`, url, ou, admin))
	before := readDirState(t, url, admin, ou)
	undoDir := filepath.Join(t.TempDir(), "undo")
	journal := filepath.Join(undoDir, "journal-res.jsonl")

	killed := killSlapdAt(t, state, journal, n/2)
	_, stderr, code := runCLI(t, "--config", cfg, "dupes", "fix", "--yes", "--undo-dir", undoDir, "--batch", "100")
	killedAt := killed()
	if killedAt == 0 {
		t.Fatalf("slapd was not killed (fix exit %d: %s)", code, stderr)
	}
	m := fixSummary.FindStringSubmatch(stderr)
	if code != ExitRuntime || m == nil || strings.Contains(stderr, "abkit: FAILED") || strings.Contains(stderr, "abkit: REFUSED") {
		t.Fatalf("fix with the server killed: exit %d: %s", code, stderr)
	}
	modified1, _ := strconv.Atoi(m[1])
	inFlight := strings.Count(stderr, "abkit: IN FLIGHT")
	notAttempted, _ := strconv.Atoi(m[4])
	t.Logf("killed slapd after %d journal lines; first run: %d modified, %d in flight, %d not attempted", killedAt, modified1, inFlight, notAttempted)
	if modified1 < n/4 || modified1+inFlight+notAttempted != n || !strings.Contains(stderr, "finish it with 'abkit dupes fix --yes --undo-dir") {
		t.Fatalf("first run: %s", stderr)
	}

	if out, err := exec.Command("bash", "../../testdata/sidmap/server.sh", "restart", state).CombinedOutput(); err != nil {
		t.Fatalf("restart slapd: %v\n%s", err, out)
	}
	_, stderr, code = runCLI(t, "--config", cfg, "dupes", "fix", "--yes", "--undo-dir", undoDir, "--batch", "100")
	m = fixSummary.FindStringSubmatch(stderr)
	if code != ExitOK || m == nil || !strings.Contains(stderr, "resuming the fix recorded in") {
		t.Fatalf("resumed fix: exit %d: %s", code, stderr)
	}
	if modified2, _ := strconv.Atoi(m[1]); m[2] != strconv.Itoa(n) || m[4] != "0" || modified2 > n-modified1 || modified2 == 0 {
		t.Fatalf("resumed fix after %d modified: %s", modified1, stderr)
	}

	// Every contact lost its SIP attributes, every user kept them; nothing else changed.
	after := readDirState(t, url, admin, ou)
	intended := dirState{}
	for dn, attrs := range before {
		cp := map[string][]string{}
		for a, v := range attrs {
			if strings.HasPrefix(dn, "cn=c") && strings.HasPrefix(a, "msrtcsip-") {
				continue
			}
			cp[a] = v
		}
		intended[dn] = cp
	}
	ignoreOperational(before, after, intended)
	if d := diffStates(intended, after, 10); len(d) > 0 {
		t.Fatalf("directory differs from the intended one: %v", d)
	}
	_, stderr, code = runCLI(t, "--config", cfg, "dupes", "undo", undoDir, "--yes")
	if code != ExitOK || !strings.Contains(stderr, fmt.Sprintf("restored %d object(s)", n)) {
		t.Fatalf("undo: exit %d: %s", code, stderr)
	}
	restored := readDirState(t, url, admin, ou)
	ignoreOperational(restored)
	if d := diffStates(before, restored, 10); len(d) > 0 {
		t.Errorf("undo did not restore the directory: %v", d)
	}
}

// guidBytes is a distinct 16-byte objectGUID for (kind, i).
func guidBytes(kind, i int) []byte {
	b := make([]byte, 16)
	b[0], b[1], b[2], b[15] = byte(kind), byte(i>>8), byte(i), 0x42
	return b
}
