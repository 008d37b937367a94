package cli

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/rtcdb/rtcdbtest"
	"github.com/go-ldap/ldap/v3"
)

// plantedObject is one object the end-to-end test adds.
type plantedObject struct {
	forest int // 0 user forest, 1 resource forest
	rdn    string
	guid   dupes.GUID
	attrs  map[string][]string
}

func randomGUID(t *testing.T) dupes.GUID {
	var g dupes.GUID
	if _, err := rand.Read(g[:]); err != nil {
		t.Fatal(err)
	}
	return g
}

// dumpSubtree renders every entry under base with all attributes, values sorted: the
// directory snapshot the test compares before the fix and after the undo.
func dumpSubtree(t *testing.T, conn *ldap.Conn, base string) string {
	t.Helper()
	res, err := conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"*"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, e := range res.Entries {
		var lines []string
		for _, a := range e.Attributes {
			if bookkeeping[strings.ToLower(a.Name)] {
				continue
			}
			for _, v := range a.ByteValues {
				lines = append(lines, strings.ToLower(a.Name)+": "+hex.EncodeToString(v))
			}
		}
		slices.Sort(lines)
		blocks = append(blocks, "dn: "+strings.ToLower(e.DN)+"\n"+strings.Join(lines, "\n"))
	}
	slices.Sort(blocks)
	return strings.Join(blocks, "\n\n")
}

// e2eForest is one forest of the end-to-end scenario: where it is and how to bind.
type e2eForest struct {
	name, url, suffix string
	bind              string // simple-bind DN or user@domain
	password          string
	samba             bool // the server allocates objectGUID and wants sAMAccountName
}

// TestDupesIntegrationSlapd runs the end-to-end scenario on slapd: two "forests", one OU under
// each of its two suffixes.
func TestDupesIntegrationSlapd(t *testing.T) {
	env := needEnv(t, "ABKIT_SLAPD_URL", "ABKIT_SLAPD_USER_BASE", "ABKIT_SLAPD_RES_BASE",
		"ABKIT_SLAPD_USER_BIND_DN", "ABKIT_SLAPD_RES_BIND_DN", "ABKIT_SLAPD_PASSWORD")
	runDupesScenario(t, [2]e2eForest{
		{"userforest", env["ABKIT_SLAPD_URL"], env["ABKIT_SLAPD_USER_BASE"], env["ABKIT_SLAPD_USER_BIND_DN"], env["ABKIT_SLAPD_PASSWORD"], false},
		{"resforest", env["ABKIT_SLAPD_URL"], env["ABKIT_SLAPD_RES_BASE"], env["ABKIT_SLAPD_RES_BIND_DN"], env["ABKIT_SLAPD_PASSWORD"], false},
	})
}

// TestDupesIntegrationSamba runs the end-to-end scenario on two Samba AD forests, which
// allocate objectGUIDs themselves.
func TestDupesIntegrationSamba(t *testing.T) {
	env := needEnv(t, "ABKIT_SAMBA_USER_URL", "ABKIT_SAMBA_USER_BASE", "ABKIT_SAMBA_USER_BIND",
		"ABKIT_SAMBA_RES_URL", "ABKIT_SAMBA_RES_BASE", "ABKIT_SAMBA_RES_BIND", "ABKIT_SAMBA_PASSWORD")
	runDupesScenario(t, [2]e2eForest{
		{"userforest", env["ABKIT_SAMBA_USER_URL"], env["ABKIT_SAMBA_USER_BASE"], env["ABKIT_SAMBA_USER_BIND"], env["ABKIT_SAMBA_PASSWORD"], true},
		{"resforest", env["ABKIT_SAMBA_RES_URL"], env["ABKIT_SAMBA_RES_BASE"], env["ABKIT_SAMBA_RES_BIND"], env["ABKIT_SAMBA_PASSWORD"], true},
	})
}

// bookkeeping attributes the server changes on every write; the before/after comparison
// leaves them out.
var bookkeeping = map[string]bool{"whenchanged": true, "usnchanged": true, "dscorepropagationdata": true,
	"modifytimestamp": true, "entrycsn": true, "modifiersname": true}

// runDupesScenario plants duplicates in an OU of each forest, then runs dupes, dupes fix (dry
// run, then --yes), dupes again and dupes undo through the command line, checking the directory
// after each step. The rtc database is rtcdb's TDS responder (rtcdbtest), reached by the real
// go-mssqldb driver: the test checks the DELETE statements and their uniqueidentifier
// parameters, and the rows left.
func runDupesScenario(t *testing.T, forests [2]e2eForest) {
	var conns [2]*ldap.Conn
	var bases [2]string
	run := randomGUID(t).String()[:8]
	for i, fr := range forests {
		c, err := ldap.DialURL(fr.url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Bind(fr.bind, fr.password); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		bases[i] = "OU=dupes-" + run + "," + fr.suffix
		add := ldap.NewAddRequest(bases[i], nil)
		add.Attribute("objectClass", []string{"organizationalUnit"})
		add.Attribute("ou", []string{"dupes-" + run})
		if err := c.Add(add); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for i, c := range conns {
			res, err := c.Search(ldap.NewSearchRequest(bases[i], ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
			if err == nil {
				for _, e := range res.Entries {
					_ = c.Del(ldap.NewDelRequest(e.DN, nil))
				}
			}
			_ = c.Del(ldap.NewDelRequest(bases[i], nil))
		}
	})

	user := func(forest int, cn, sip string, extra map[string][]string) plantedObject {
		// 544 = a normal account that needs no password (Samba refuses 512 without one).
		a := map[string][]string{"objectClass": {"user"}, "cn": {cn}, "sn": {cn}, "displayName": {cn},
			"userAccountControl": {"544"}, "msRTCSIP-PrimaryUserAddress": {sip}, "msRTCSIP-UserEnabled": {"TRUE"},
			"msRTCSIP-OptionFlags": {"256"}}
		for k, v := range extra {
			a[k] = v
		}
		return plantedObject{forest: forest, rdn: "CN=" + cn, guid: randomGUID(t), attrs: a}
	}
	objs := []plantedObject{
		user(0, "Alice", "sip:alice@dupes.test", nil),
		user(0, "Bob", "sip:bob@dupes.test", map[string][]string{"proxyAddresses": {"SMTP:bob@dupes.test", "sip:bob@dupes.test"}}),
		user(0, "Carol", "sip:carol@dupes.test", nil),
		user(0, "Dave", "sip:dave@dupes.test", nil), // unique: never touched
		// A mail-enabled security group sharing Alice's address through proxyAddresses.
		{forest: 1, rdn: "CN=Sales", guid: randomGUID(t), attrs: map[string][]string{"objectClass": {"group"}, "cn": {"Sales"},
			"groupType": {"-2147483640"}, "mail": {"sales@dupes.test"},
			"proxyAddresses": {"SMTP:sales@dupes.test", "sip:alice@dupes.test", "sip:sales@dupes.test"}}},
		// A contact duplicating Bob.
		{forest: 1, rdn: "CN=Bob Contact", guid: randomGUID(t), attrs: map[string][]string{"objectClass": {"contact"}, "cn": {"Bob Contact"},
			"sn": {"Contact"}, "msRTCSIP-PrimaryUserAddress": {"sip:bob@dupes.test"}, "msRTCSIP-UserEnabled": {"TRUE"},
			"proxyAddresses": {"smtp:bob@fabrikam.test"}}},
		// A case-only difference: a distribution group with SIP:Carol@Dupes.Test.
		{forest: 1, rdn: "CN=Carol DL", guid: randomGUID(t), attrs: map[string][]string{"objectClass": {"group"}, "cn": {"Carol DL"},
			"groupType": {"8"}, "proxyAddresses": {"SMTP:carol-dl@dupes.test", "SIP:Carol@Dupes.Test"}}},
	}
	dn := func(o plantedObject) string { return o.rdn + "," + bases[o.forest] }
	for i := range objs {
		o := &objs[i]
		add := ldap.NewAddRequest(dn(*o), nil)
		samba := forests[o.forest].samba
		if !samba {
			add.Attribute("objectGUID", []string{string(o.guid[:])})
		}
		for k, v := range o.attrs {
			add.Attribute(k, v)
		}
		if samba && !slices.Contains(o.attrs["objectClass"], "contact") {
			add.Attribute("sAMAccountName", []string{fmt.Sprintf("d%s%d", run, i)})
		}
		if err := conns[o.forest].Add(add); err != nil {
			t.Fatalf("add %s: %v", dn(*o), err)
		}
		if samba { // the server chose the objectGUID
			res, err := conns[o.forest].Search(ldap.NewSearchRequest(dn(*o), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"objectGUID"}, nil))
			if err != nil {
				t.Fatal(err)
			}
			copy(o.guid[:], res.Entries[0].GetRawAttributeValue("objectGUID"))
		}
	}
	byName := map[string]plantedObject{}
	for _, o := range objs {
		byName[strings.TrimPrefix(o.rdn, "CN=")] = o
	}

	rtc := rtcdbtest.New(t)
	for _, n := range []string{"Alice", "Bob", "Carol", "Sales", "Bob Contact", "Carol DL"} {
		rtc.Seed(byName[n].guid, []byte("\x00row of "+n+"\x00"))
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "abkit.yaml")
	t.Setenv("DUPES_TEST_PW", forests[0].password)
	cfg := "forests:\n"
	for i, fr := range forests {
		cfg += fmt.Sprintf("  - name: %s\n    url: %s\n    base: %q\n    bind: {method: simple, dn: %q, password_env: DUPES_TEST_PW}\n",
			fr.name, fr.url, bases[i], fr.bind)
	}
	cfg += fmt.Sprintf("rtc:\n  server: 127.0.0.1\n  port: %d\n  user: tester\n  password_env: DUPES_TEST_PW\n  encrypt: disable\n  timeout: 10s\n", rtc.Port())
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	hasRow := func(n string) bool { _, ok := rtc.Row(byName[n].guid); return ok }
	snapshot := func() string { return dumpSubtree(t, conns[0], bases[0]) + "\n\n" + dumpSubtree(t, conns[1], bases[1]) }
	before := snapshot()

	// 1. dupes finds exactly the three planted duplicates.
	stdout, stderr, code := runCLI(t, "dupes", "--config", cfgPath, "--rtc", "-o", "json")
	if code != ExitFindings {
		t.Fatalf("dupes: exit %d, stderr %s", code, stderr)
	}
	var rep dupes.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	type member struct {
		Name, Forest string
		Kind         dupes.Kind
		Keep, InRTC  bool
	}
	got := map[string][]member{}
	for _, r := range rep.SIP {
		for _, m := range r.Members {
			rdn := strings.SplitN(m.DN, ",", 2)[0]
			got[r.Value] = append(got[r.Value], member{rdn[strings.IndexByte(rdn, '=')+1:], m.Forest, m.Kind, m.Keep, *m.InRTC})
		}
	}
	want := map[string][]member{
		"alice@dupes.test": {{"Alice", "userforest", dupes.KindUser, true, true}, {"Sales", "resforest", dupes.KindSecurityGroup, false, true}},
		"bob@dupes.test":   {{"Bob", "userforest", dupes.KindUser, true, true}, {"Bob Contact", "resforest", dupes.KindContact, false, true}},
		"carol@dupes.test": {{"Carol", "userforest", dupes.KindUser, true, true}, {"Carol DL", "resforest", dupes.KindDistributionGroup, false, true}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(rep.SIP) != 3 {
		t.Fatalf("dupes found\n%v\nwant\n%v", got, want)
	}
	if rep.Objects != 7 {
		t.Errorf("objects %d, want 7", rep.Objects)
	}

	// 2. fix without --yes changes nothing.
	_, stderr, code = runCLI(t, "dupes", "fix", "--config", cfgPath, "--rtc")
	if code != ExitFindings || !strings.Contains(stderr, "dry run: 3 object(s) would be modified and 3 AbUserEntry row(s) deleted") {
		t.Fatalf("dry run: exit %d, stderr %s", code, stderr)
	}
	if snapshot() != before || len(rtc.Requests("DELETE")) != 0 {
		t.Fatal("the dry run changed something")
	}

	// 3. fix --yes.
	undoDir := filepath.Join(dir, "undo")
	stdout, stderr, code = runCLI(t, "dupes", "fix", "--config", cfgPath, "--rtc", "--yes", "--undo-dir", undoDir, "-o", "json")
	if code != ExitOK {
		t.Fatalf("fix: exit %d, stderr %s", code, stderr)
	}
	for _, s := range []string{"ABServer.exe -regenUR", "ABServer.exe -syncNow", "abkit dupes undo"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("fix: stderr lacks %q:\n%s", s, stderr)
		}
	}
	var fo struct {
		Plan   dupes.Plan
		Result dupes.Result
	}
	if err := json.Unmarshal([]byte(stdout), &fo); err != nil {
		t.Fatal(err)
	}
	if fo.Result.Modified != 3 || len(fo.Result.Failed) != 0 {
		t.Errorf("fix result %+v", fo.Result)
	}
	// The DELETEs sent: exactly the three losers' rows, each GUID a uniqueidentifier parameter,
	// in one committed transaction; the backup is in the undo folder.
	wantDeleted := []dupes.GUID{byName["Sales"].guid, byName["Bob Contact"].guid, byName["Carol DL"].guid}
	var sent []string
	for _, r := range rtc.Requests("DELETE") {
		p, ok := r.Param("@guid")
		if !ok || p.Type != "uniqueidentifier" {
			t.Errorf("DELETE parameter %+v", r.Params)
			continue
		}
		sent = append(sent, dupes.GUID(p.Value.([16]byte)).String())
	}
	var wantSent []string
	for _, g := range wantDeleted {
		wantSent = append(wantSent, g.String())
	}
	slices.Sort(sent)
	slices.Sort(wantSent)
	if !slices.Equal(sent, wantSent) {
		t.Errorf("DELETEs for %v, want %v", sent, wantSent)
	}
	if log := rtc.TxLog(); !slices.Contains(log, "commit") {
		t.Errorf("transactions %v", log)
	}
	for n, want := range map[string]bool{"Alice": true, "Bob": true, "Carol": true, "Sales": false, "Bob Contact": false, "Carol DL": false} {
		if hasRow(n) != want {
			t.Errorf("after fix: row of %s present %v, want %v", n, hasRow(n), want)
		}
	}
	if _, err := os.Stat(filepath.Join(undoDir, dupes.RTCBackupFile)); err != nil {
		t.Errorf("rtc backup: %v", err)
	}
	// AD: the group lost only the colliding address, the contact its SIP settings, the DL its SIP: value.
	read := func(o plantedObject, attr string) []string {
		res, err := conns[o.forest].Search(ldap.NewSearchRequest(dn(o), ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{attr}, nil))
		if err != nil {
			t.Fatal(err)
		}
		v := res.Entries[0].GetAttributeValues(attr)
		slices.Sort(v)
		return v
	}
	checks := []struct {
		obj, attr string
		want      []string
	}{
		{"Sales", "proxyAddresses", []string{"SMTP:sales@dupes.test", "sip:sales@dupes.test"}},
		{"Bob Contact", "msRTCSIP-PrimaryUserAddress", nil},
		{"Bob Contact", "msRTCSIP-UserEnabled", nil},
		{"Bob Contact", "proxyAddresses", []string{"smtp:bob@fabrikam.test"}},
		{"Carol DL", "proxyAddresses", []string{"SMTP:carol-dl@dupes.test"}},
		{"Alice", "msRTCSIP-PrimaryUserAddress", []string{"sip:alice@dupes.test"}},
		{"Bob", "proxyAddresses", []string{"SMTP:bob@dupes.test", "sip:bob@dupes.test"}},
	}
	for _, c := range checks {
		if got := read(byName[c.obj], c.attr); !slices.Equal(got, c.want) {
			t.Errorf("after fix %s %s = %q, want %q", c.obj, c.attr, got, c.want)
		}
	}

	// 4. dupes finds none.
	stdout, stderr, code = runCLI(t, "dupes", "--config", cfgPath, "-o", "json")
	if code != ExitOK || !strings.Contains(stdout, `"sip": []`) {
		t.Fatalf("dupes after fix: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// 5. undo: dry run changes nothing, --yes restores the directory and the rows.
	afterFix := snapshot()
	_, stderr, code = runCLI(t, "dupes", "undo", undoDir, "--config", cfgPath)
	if code != ExitOK || snapshot() != afterFix || !strings.Contains(stderr, "dry run: 3 object(s)") {
		t.Fatalf("undo dry run: exit %d, stderr %s", code, stderr)
	}
	_, stderr, code = runCLI(t, "dupes", "undo", undoDir, "--config", cfgPath, "--yes")
	if code != ExitOK {
		t.Fatalf("undo: exit %d, stderr %s", code, stderr)
	}
	if got := snapshot(); got != before {
		t.Errorf("directory after undo differs from before the fix:\n%s\n---\n%s", got, before)
	}
	for _, n := range []string{"Sales", "Bob Contact", "Carol DL"} {
		if d, ok := rtc.Row(byName[n].guid); !ok || string(d) != "\x00row of "+n+"\x00" {
			t.Errorf("row of %s not restored: %q", n, d)
		}
	}
	// A second undo finds everything in place and fails nothing.
	_, stderr, code = runCLI(t, "dupes", "undo", undoDir, "--config", cfgPath, "--yes")
	if code != ExitOK || !strings.Contains(stderr, "restored 0 object(s), 3 already as before") {
		t.Errorf("second undo: exit %d, stderr %s", code, stderr)
	}
}
