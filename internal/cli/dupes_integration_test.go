package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
)

// needEnv returns the named environment variables. A missing one skips the test, or fails it
// under CI=true.
func needEnv(t *testing.T, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			msg := fmt.Sprintf("%s is not set: start the test server (scripts/test.sh does)", n)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		out[n] = v
	}
	return out
}

// fakeRowStore stands in for the rtc database: an AbUserEntry table in memory that records
// every DELETE batch and writes a real backup file.
type fakeRowStore struct {
	mu      sync.Mutex
	rows    map[dupes.GUID]bool
	deletes [][]dupes.GUID
}

func (f *fakeRowStore) EntriesPresent(ctx context.Context, guids []dupes.GUID) (map[dupes.GUID]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[dupes.GUID]bool{}
	for _, g := range guids {
		out[g] = f.rows[g]
	}
	return out, nil
}

func (f *fakeRowStore) DeleteEntries(ctx context.Context, guids []dupes.GUID, backupPath string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var lines []string
	for _, g := range guids {
		if !f.rows[g] {
			return fmt.Errorf("%s: 0 rows affected", g)
		}
		lines = append(lines, g.String())
	}
	if err := os.WriteFile(backupPath, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		return err
	}
	for _, g := range guids {
		delete(f.rows, g)
	}
	f.deletes = append(f.deletes, slices.Clone(guids))
	return nil
}

func (f *fakeRowStore) RestoreEntries(ctx context.Context, backupPath string) error {
	data, err := os.ReadFile(backupPath)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range strings.Split(string(data), "\n") {
		f.rows[ldapsync.MustParseGUID(l)] = true
	}
	return nil
}

func (f *fakeRowStore) Warnings() []string { return nil }
func (f *fakeRowStore) Close() error       { return nil }

// useFakeRows makes --rtc use store for the rest of the test.
func useFakeRows(t *testing.T, store *fakeRowStore) {
	old := openDupesRows
	openDupesRows = func(ctx context.Context, rc *config.RTC) (dupesRowStore, error) { return store, nil }
	t.Cleanup(func() { openDupesRows = old })
}

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

// TestDupesIntegrationSlapd plants duplicates in two "forests" (one OU under each slapd
// suffix), then runs dupes, dupes fix (dry run, then --yes), dupes again and dupes undo through
// the command line, checking the directory after each step. The rtc database is the recording
// fakeRowStore: the test asserts which AbUserEntry rows the fix deletes (the TDS responder of
// rtcdb is internal to rtcdb and cannot be imported from here).
func TestDupesIntegrationSlapd(t *testing.T) {
	env := needEnv(t, "ABKIT_SLAPD_URL", "ABKIT_SLAPD_USER_BASE", "ABKIT_SLAPD_RES_BASE",
		"ABKIT_SLAPD_USER_BIND_DN", "ABKIT_SLAPD_RES_BIND_DN", "ABKIT_SLAPD_PASSWORD")
	suffixes := []string{env["ABKIT_SLAPD_USER_BASE"], env["ABKIT_SLAPD_RES_BASE"]}
	bindDNs := []string{env["ABKIT_SLAPD_USER_BIND_DN"], env["ABKIT_SLAPD_RES_BIND_DN"]}
	var conns [2]*ldap.Conn
	var bases [2]string
	run := randomGUID(t).String()[:8]
	for i := range conns {
		c, err := ldap.DialURL(env["ABKIT_SLAPD_URL"])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Bind(bindDNs[i], env["ABKIT_SLAPD_PASSWORD"]); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		bases[i] = "ou=dupes-" + run + "," + suffixes[i]
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
		a := map[string][]string{"objectClass": {"user"}, "cn": {cn}, "sn": {cn}, "displayName": {cn},
			"userAccountControl": {"512"}, "msRTCSIP-PrimaryUserAddress": {sip}, "msRTCSIP-UserEnabled": {"TRUE"},
			"msRTCSIP-OptionFlags": {"256"}}
		for k, v := range extra {
			a[k] = v
		}
		return plantedObject{forest: forest, rdn: "cn=" + cn, guid: randomGUID(t), attrs: a}
	}
	objs := []plantedObject{
		user(0, "Alice", "sip:alice@dupes.test", nil),
		user(0, "Bob", "sip:bob@dupes.test", map[string][]string{"proxyAddresses": {"SMTP:bob@dupes.test", "sip:bob@dupes.test"}}),
		user(0, "Carol", "sip:carol@dupes.test", nil),
		user(0, "Dave", "sip:dave@dupes.test", nil), // unique: never touched
		// A mail-enabled security group sharing Alice's address through proxyAddresses.
		{forest: 1, rdn: "cn=Sales", guid: randomGUID(t), attrs: map[string][]string{"objectClass": {"group"}, "cn": {"Sales"},
			"groupType": {"-2147483640"}, "mail": {"sales@dupes.test"},
			"proxyAddresses": {"SMTP:sales@dupes.test", "sip:alice@dupes.test", "sip:sales@dupes.test"}}},
		// A contact duplicating Bob.
		{forest: 1, rdn: "cn=Bob Contact", guid: randomGUID(t), attrs: map[string][]string{"objectClass": {"contact"}, "cn": {"Bob Contact"},
			"sn": {"Contact"}, "msRTCSIP-PrimaryUserAddress": {"sip:bob@dupes.test"}, "msRTCSIP-UserEnabled": {"TRUE"},
			"proxyAddresses": {"smtp:bob@fabrikam.test"}}},
		// A case-only difference: a distribution group with SIP:Carol@Dupes.Test.
		{forest: 1, rdn: "cn=Carol DL", guid: randomGUID(t), attrs: map[string][]string{"objectClass": {"group"}, "cn": {"Carol DL"},
			"groupType": {"8"}, "proxyAddresses": {"SMTP:carol-dl@dupes.test", "SIP:Carol@Dupes.Test"}}},
	}
	dn := func(o plantedObject) string { return o.rdn + "," + bases[o.forest] }
	for _, o := range objs {
		add := ldap.NewAddRequest(dn(o), nil)
		add.Attribute("objectGUID", []string{string(o.guid[:])})
		for k, v := range o.attrs {
			add.Attribute(k, v)
		}
		if err := conns[o.forest].Add(add); err != nil {
			t.Fatalf("add %s: %v", dn(o), err)
		}
	}
	byName := map[string]plantedObject{}
	for _, o := range objs {
		byName[strings.TrimPrefix(o.rdn, "cn=")] = o
	}

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "abkit.yaml")
	t.Setenv("DUPES_TEST_PW", env["ABKIT_SLAPD_PASSWORD"])
	cfg := fmt.Sprintf(`forests:
  - name: userforest
    url: %[1]s
    base: %[2]s
    bind: {method: simple, dn: "%[3]s", password_env: DUPES_TEST_PW}
  - name: resforest
    url: %[1]s
    base: %[4]s
    bind: {method: simple, dn: "%[5]s", password_env: DUPES_TEST_PW}
rtc:
  server: rtc.invalid
`, env["ABKIT_SLAPD_URL"], bases[0], bindDNs[0], bases[1], bindDNs[1])
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	store := &fakeRowStore{rows: map[dupes.GUID]bool{}}
	for _, n := range []string{"Alice", "Bob", "Carol", "Sales", "Bob Contact", "Carol DL"} {
		store.rows[byName[n].guid] = true
	}
	useFakeRows(t, store)
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
			got[r.Value] = append(got[r.Value], member{strings.TrimPrefix(strings.SplitN(m.DN, ",", 2)[0], "cn="), m.Forest, m.Kind, m.Keep, *m.InRTC})
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
	if snapshot() != before || len(store.deletes) != 0 {
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
	// The DELETEs sent: exactly the three losers' rows, in one batch.
	wantDeleted := []dupes.GUID{byName["Sales"].guid, byName["Bob Contact"].guid, byName["Carol DL"].guid}
	sortGUIDs := func(g []dupes.GUID) []dupes.GUID {
		g = slices.Clone(g)
		slices.SortFunc(g, func(a, b dupes.GUID) int { return strings.Compare(a.String(), b.String()) })
		return g
	}
	if len(store.deletes) != 1 || !slices.Equal(sortGUIDs(store.deletes[0]), sortGUIDs(wantDeleted)) {
		t.Errorf("deleted rows %v, want %v", store.deletes, wantDeleted)
	}
	if !store.rows[byName["Alice"].guid] || store.rows[byName["Sales"].guid] {
		t.Errorf("rows after fix %v", store.rows)
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
	for _, g := range wantDeleted {
		if !store.rows[g] {
			t.Errorf("row %s not restored", g)
		}
	}
	// A second undo finds everything in place and fails nothing.
	_, stderr, code = runCLI(t, "dupes", "undo", undoDir, "--config", cfgPath, "--yes")
	if code != ExitOK || !strings.Contains(stderr, "restored 0 object(s), 3 already as before") {
		t.Errorf("second undo: exit %d, stderr %s", code, stderr)
	}
}
