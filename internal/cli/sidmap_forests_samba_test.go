package cli

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
)

// sambaState reads every attribute of the entries under base: lower DN → lower attribute →
// sorted values.
func (s *sambaConn) state(base string, attrs ...string) dirState {
	s.t.Helper()
	st := dirState{}
	for _, e := range s.search(base, "(objectClass=*)", attrs...) {
		m := map[string][]string{}
		for _, a := range e.Attributes {
			vs := make([]string, len(a.ByteValues))
			for i, v := range a.ByteValues {
				vs[i] = string(v)
			}
			sort.Strings(vs)
			m[strings.ToLower(a.Name)] = vs
		}
		st[strings.ToLower(e.DN)] = m
	}
	return st
}

// TestSidmapIntegrationSambaForests runs issue 10's cases on the two Samba forests: a room mailbox
// (SELF), a migrated user (sIDHistory, written by testdata/samba/server.sh sidhistory), a second
// user forest (the resource DC's domain, its SID read from the real domain object), a SID of no
// configured forest, sync-attrs with manager and thumbnailPhoto, and central-forest contacts.
// Plan, apply, verify and undo; each state is read back with an LDAP search.
func TestSidmapIntegrationSambaForests(t *testing.T) {
	env := needEnv(t, "ABKIT_SAMBA_USER_URL", "ABKIT_SAMBA_RES_URL", "ABKIT_SAMBA_USER_BASE", "ABKIT_SAMBA_RES_BASE",
		"ABKIT_SAMBA_USER_BIND", "ABKIT_SAMBA_RES_BIND", "ABKIT_SAMBA_PASSWORD", "ABKIT_SAMBA_STATE")
	pw := env["ABKIT_SAMBA_PASSWORD"]
	uconn := dialSamba(t, env["ABKIT_SAMBA_USER_URL"], env["ABKIT_SAMBA_USER_BIND"], pw)
	rconn := dialSamba(t, env["ABKIT_SAMBA_RES_URL"], env["ABKIT_SAMBA_RES_BIND"], pw)
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	tag := hex.EncodeToString(rnd[:])
	uou := "OU=forests-" + tag + "," + env["ABKIT_SAMBA_USER_BASE"]
	rou := "OU=forests-" + tag + "," + env["ABKIT_SAMBA_RES_BASE"]
	uconn.add(uou, map[string][]any{"objectClass": {"organizationalUnit"}})
	rconn.add(rou, map[string][]any{"objectClass": {"organizationalUnit"}})
	name := func(n string) string { return "fz" + tag[:6] + n }
	old := ldapsync.MustParseSID("S-1-5-21-1111111111-2222222222-333333333-5001")
	foreign := ldapsync.MustParseSID("S-1-5-21-999999999-999999999-999999999-7001")
	photo := make([]byte, 0, 300)
	for i := 0; i < 300; i++ {
		photo = append(photo, byte(i*7))
	}

	// User forest: Bea (Mia's manager), Mia (migrated: her old SID in sIDHistory), two mailboxes.
	udn := func(n string) string { return "CN=" + name(n) + "," + uou }
	user := func(c *sambaConn, dn, n string, extra map[string][]any) ldapsync.SID {
		a := map[string][]any{"objectClass": {"user"}, "sAMAccountName": {name(n)}, "userAccountControl": {"544"}}
		for k, v := range extra {
			a[k] = v
		}
		c.add(dn, a)
		return c.sid(dn)
	}
	bea := user(uconn, udn("bea"), "bea", map[string][]any{"displayName": {"Bea Boss"}, "title": {"Director"}})
	hal := user(uconn, udn("hal"), "hal", nil) // found through msExchMasterAccountHistory
	mia := user(uconn, udn("mia"), "mia", map[string][]any{"displayName": {"Mia Moved"}, "title": {"Engineer"},
		"c": {"US"}, "co": {"United States"}, "countryCode": {"840"}, "thumbnailPhoto": {photo}, "manager": {udn("bea")}})
	out, err := exec.Command("bash", filepath.Join("..", "..", "testdata", "samba", "server.sh"), "sidhistory",
		env["ABKIT_SAMBA_STATE"], udn("mia"), base64.StdEncoding.EncodeToString(old.Bytes())).CombinedOutput()
	if err != nil {
		t.Fatalf("server.sh sidhistory: %v\n%s", err, out)
	}
	if got := uconn.search(udn("mia"), "(objectClass=*)", "sIDHistory"); len(got) != 1 || string(got[0].GetRawAttributeValue("sIDHistory")) != string(old.Bytes()) {
		t.Fatal("Mia's sIDHistory was not written")
	}
	kim := user(uconn, udn("kim"), "kim", map[string][]any{"mail": {name("kim") + "@contoso.com"},
		"proxyAddresses": {"SMTP:" + name("kim") + "@contoso.com", "sip:" + name("kim") + "@contoso.com"}})
	lou := user(uconn, udn("lou"), "lou", map[string][]any{"mail": {name("lou") + "@contoso.com"},
		"proxyAddresses": {"SMTP:" + name("lou") + "@contoso.com", "sip:" + name("lou") + "@contoso.com"}})

	// Resource forest: Ned is an enabled account of the resource DC's own domain, read as a second
	// user forest; the rest are disabled, SIP-enabled accounts and SIP-enabled contacts.
	rdn := func(n string) string { return "CN=" + n + "," + rou }
	ned := user(rconn, rdn("ned-user"), "ned", nil)
	res := func(cn, attr string, master ldapsync.SID) {
		rconn.add(rdn(cn), map[string][]any{"objectClass": {"user"}, "userAccountControl": {"514"},
			"sAMAccountName": {"r" + tag[:6] + cn}, "msRTCSIP-UserEnabled": {"TRUE"},
			"msRTCSIP-PrimaryUserAddress": {"sip:" + name(cn) + "@contoso.com"}, attr: {master.Bytes()}})
	}
	const masterSID, masterHistory = "msExchMasterAccountSid", "msExchMasterAccountHistory"
	res("room", masterSID, sidmap.SIDSelf)
	res("mia", masterSID, old)
	res("bea", masterSID, bea)
	res("ned", masterSID, ned)
	res("sam", masterSID, foreign)
	res("hal", masterHistory, hal)
	contact := func(cn, addr string) {
		rconn.add(rdn(cn), map[string][]any{"objectClass": {"contact"}, "mail": {name(cn) + "@contoso.com"},
			"msRTCSIP-UserEnabled": {"TRUE"}, "msRTCSIP-PrimaryUserAddress": {"sip:" + addr + "@contoso.com"}})
	}
	contact("kim", name("kim"))
	contact("lou", name("lou")+".other")

	t.Setenv("ABKIT_SIDMAP_SAMBA_PW", pw)
	cfg := writeConfig(t, fmt.Sprintf(`forests:
  - {name: users, url: %q, base: %q, bind: {method: simple, user: %q, password_env: ABKIT_SIDMAP_SAMBA_PW}}
  - {name: users2, url: %q, base: %q, bind: {method: simple, user: %q, password_env: ABKIT_SIDMAP_SAMBA_PW}}
  - {name: res, url: %q, base: %q, bind: {method: simple, user: %q, password_env: ABKIT_SIDMAP_SAMBA_PW}}
sidmap: {user_forests: [users, users2], resource_forest: res, match: [master-sid, master-sid-history, sid-history]}
`, env["ABKIT_SAMBA_USER_URL"], env["ABKIT_SAMBA_USER_BASE"], env["ABKIT_SAMBA_USER_BIND"],
		env["ABKIT_SAMBA_RES_URL"], env["ABKIT_SAMBA_RES_BASE"], env["ABKIT_SAMBA_RES_BIND"],
		env["ABKIT_SAMBA_RES_URL"], rou, env["ABKIT_SAMBA_RES_BIND"]))
	cli := cliExpecting(t, cfg)
	dir := t.TempDir()
	cn := func(dn string) string { return strings.TrimPrefix(strings.SplitN(dn, ",", 2)[0], "CN=") }
	stateAttrs := []string{"msRTCSIP-OriginatorSid", "manager", "thumbnailPhoto", "displayName", "title", "c", "co", "countryCode"}
	before := rconn.state(rou, stateAttrs...)

	planPath := filepath.Join(dir, "plan.json")
	cli(ExitOK, "sidmap", "plan", "--base", rou, "-w", planPath)
	got := map[string]string{}
	for _, r := range readPlan(t, planPath).Rows {
		got[cn(r.ResourceDN)] = fmt.Sprintf("%s %s %s %s", r.Action, r.Rule, r.ProposedSID, r.UserForest)
		if cn(r.ResourceDN) == "sam" && !strings.Contains(r.Reason, "which belongs to no configured user forest") {
			t.Errorf("sam: %q", r.Reason)
		}
		if cn(r.ResourceDN) == "room" && !strings.Contains(r.Reason, "SELF (S-1-5-10)") {
			t.Errorf("room: %q", r.Reason)
		}
	}
	want := map[string]string{"room": "skip   ", "mia": "set sid-history " + mia.String() + " users",
		"bea": "set master-sid " + bea.String() + " users", "ned": "set master-sid " + ned.String() + " users2",
		"sam": "conflict master-sid  ", "hal": "set master-sid-history " + hal.String() + " users"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("plan rows\n%v\nwant\n%v", got, want)
	}
	cli(ExitOK, "sidmap", "apply", planPath, "--yes")
	afterSID := rconn.state(rou, stateAttrs...)
	if d := diffStates(before, afterSID, 10); len(d) != 4 {
		t.Errorf("apply changed %d things, want 4: %v", len(d), d)
	}
	for n, sid := range map[string]ldapsync.SID{"mia": mia, "bea": bea, "ned": ned, "hal": hal} {
		if vs := afterSID[strings.ToLower(rdn(n))]["msrtcsip-originatorsid"]; len(vs) != 1 || vs[0] != string(sid.Bytes()) {
			t.Errorf("%s: OriginatorSid %q, want binary %s", n, vs, sid)
		}
	}
	cli(ExitOK, "sidmap", "plan", "--base", rou, "-w", planPath+".again")
	if c := readPlan(t, planPath+".again").Counts(); c[sidmap.ActionSet] != 0 || c[sidmap.ActionNone] != 4 {
		t.Errorf("plan after apply: %v", c)
	}
	out2, _ := cli(ExitFindings, "sidmap", "verify", "--base", rou)
	if g := verifyLines(out2); strings.Join(g, "|") != "CN=sam missing" {
		t.Errorf("verify after apply: %q", g)
	}

	// sync-attrs: manager translated to Bea's resource account, the photo byte-exact.
	syncPath := filepath.Join(dir, "sync.json")
	cli(ExitOK, "sidmap", "sync-attrs", "plan", "--base", rou, "--attrs", "displayName,title,c,co,countryCode,thumbnailPhoto,manager", "-w", syncPath)
	cli(ExitOK, "sidmap", "sync-attrs", "apply", syncPath, "--yes")
	afterSync := rconn.state(rou, stateAttrs...)
	m := afterSync[strings.ToLower(rdn("mia"))]
	for a, w := range map[string]string{"manager": rdn("bea"), "thumbnailphoto": string(photo), "displayname": "Mia Moved",
		"title": "Engineer", "c": "US", "co": "United States", "countrycode": "840"} {
		if vs := m[a]; len(vs) != 1 || !strings.EqualFold(vs[0], w) || (a == "thumbnailphoto" && vs[0] != w) {
			t.Errorf("mia %s = %q, want %q", a, vs, w)
		}
	}
	cli(ExitOK, "sidmap", "sync-attrs", "plan", "--base", rou, "--attrs", "displayName,title,c,co,countryCode,thumbnailPhoto,manager", "-w", syncPath+".again")
	if c := readPlan(t, syncPath+".again").Counts(); c[sidmap.ActionSet] != 0 {
		t.Errorf("sync plan after apply: %v", c)
	}
	cli(ExitOK, "sidmap", "undo", filepath.Join(dir, "sync.undo.ldif"), "--yes")
	if d := diffStates(afterSID, rconn.state(rou, stateAttrs...), 10); len(d) > 0 {
		t.Errorf("sync undo left: %v", d)
	}
	cli(ExitOK, "sidmap", "undo", filepath.Join(dir, "plan.undo.ldif"), "--yes")
	if d := diffStates(before, rconn.state(rou, stateAttrs...), 10); len(d) > 0 {
		t.Errorf("undo left: %v", d)
	}

	// Central topology: the contacts.
	cPlan := filepath.Join(dir, "central.json")
	cli(ExitOK, "sidmap", "plan", "--topology", "central", "--match", "proxy", "--base", rou, "-w", cPlan)
	got = map[string]string{}
	for _, r := range readPlan(t, cPlan).Rows {
		got[cn(r.ResourceDN)] = fmt.Sprintf("%s %s %s", r.Action, r.Rule, r.ProposedSID)
	}
	want = map[string]string{"kim": "set proxy " + kim.String(), "lou": "set proxy " + lou.String()}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("central plan %v, want %v", got, want)
	}
	cli(ExitOK, "sidmap", "apply", cPlan, "--yes")
	afterC := rconn.state(rou, stateAttrs...)
	if d := diffStates(before, afterC, 10); len(d) != 2 {
		t.Errorf("central apply changed %d things, want 2: %v", len(d), d)
	}
	if vs := afterC[strings.ToLower(rdn("kim"))]["msrtcsip-originatorsid"]; len(vs) != 1 || vs[0] != string(kim.Bytes()) {
		t.Errorf("kim: OriginatorSid %q", vs)
	}
	out3, _ := cli(ExitFindings, "sidmap", "verify", "--topology", "central", "--base", rou)
	if g := verifyLines(out3); strings.Join(g, "|") != "CN=lou address-not-in-mailbox" || !strings.Contains(out3, "of the mailbox "+udn("lou")) {
		t.Errorf("central verify:\n%s", out3)
	}
	cli(ExitOK, "sidmap", "plan", "--topology", "central", "--match", "proxy", "--base", rou, "-w", cPlan+".again")
	if c := readPlan(t, cPlan+".again").Counts(); c[sidmap.ActionSet] != 0 || c[sidmap.ActionNone] != 2 {
		t.Errorf("central plan after apply: %v", c)
	}
	cli(ExitOK, "sidmap", "undo", filepath.Join(dir, "central.undo.ldif"), "--yes")
	if d := diffStates(before, rconn.state(rou, stateAttrs...), 10); len(d) > 0 {
		t.Errorf("central undo left: %v", d)
	}
}
