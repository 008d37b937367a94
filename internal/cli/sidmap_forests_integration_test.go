package cli

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
)

// Forest cases of testdata/sidmap/gen-forests.py, loaded into sidmap's private slapd.
const (
	fzUF     = "S-1-5-21-1004336348-1177238915-682003330"
	fzUF2    = "S-1-5-21-2000000001-2000000002-2000000003"
	fzResOU  = "ou=Forests,dc=resforest,dc=test"
	fzCentOU = "ou=Central,dc=resforest,dc=test"
	fzUserOU = "ou=Forests,dc=userforest,dc=test"
)

// fzPhoto is Mia's thumbnailPhoto in gen-forests.py: every byte value, then a JPEG header.
func fzPhoto() string {
	b := make([]byte, 0, 261)
	for i := 0; i < 256; i++ {
		b = append(b, byte(i))
	}
	return string(append(b, 0xff, 0xd8, 0xff, 0xe0, 0))
}

// sidmapForestsConfig configures two user forests (dc=userforest, dc=userforest2) and the
// resource forest on sidmap's private slapd.
func sidmapForestsConfig(t *testing.T, url string) string {
	t.Helper()
	t.Setenv("ABKIT_SIDMAP_TEST_PASSWORD", "secret")
	var b strings.Builder
	b.WriteString("forests:\n")
	for _, f := range [][2]string{{"users", "dc=userforest,dc=test"}, {"users2", "dc=userforest2,dc=test"}, {"res", "dc=resforest,dc=test"}} {
		fmt.Fprintf(&b, "  - name: %s\n    url: %s\n    base: \"%s\"\n    bind: {method: simple, dn: \"cn=admin,%s\", password_env: ABKIT_SIDMAP_TEST_PASSWORD}\n", f[0], url, f[1], f[1])
	}
	b.WriteString("sidmap:\n  user_forests: [users, users2]\n  resource_forest: res\n  match: [master-sid, master-sid-history, sid-history, sam]\n")
	return writeConfig(t, b.String())
}

// verifyLines returns the "RDN check" pairs of a verify run's tab-separated output.
func verifyLines(out string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, "\t")
		if len(f) >= 2 && strings.Contains(f[0], "=") {
			got = append(got, strings.SplitN(f[0], ",", 2)[0]+" "+f[1])
		}
	}
	sort.Strings(got)
	return got
}

// TestSidmapIntegrationSlapdForests: a room mailbox (SELF), a migrated user (sIDHistory), a second
// user forest (its own suffix, domain SID from the domain object), a SID of no configured forest,
// sync-attrs with a translated manager and a binary photo, and a central forest's contacts. Every
// step's result is read back with an LDAP search.
func TestSidmapIntegrationSlapdForests(t *testing.T) {
	env := needEnv(t, "ABKIT_SIDMAP_SLAPD_URL")
	url := env["ABKIT_SIDMAP_SLAPD_URL"]
	const resBind = "cn=admin,dc=resforest,dc=test"
	cli := cliExpecting(t, sidmapForestsConfig(t, url))
	dir := t.TempDir()
	state := func(base string) dirState { return readDirState(t, url, resBind, base) }
	rdn := func(dn string) string { return strings.SplitN(dn, ",", 2)[0] }
	before := state(fzResOU)

	// Resource topology: plan.
	planPath := filepath.Join(dir, "plan.json")
	cli(ExitOK, "sidmap", "plan", "--base", fzResOU, "-w", planPath)
	p := readPlan(t, planPath)
	got := map[string]string{}
	for _, r := range p.Rows {
		got[rdn(r.ResourceDN)] = fmt.Sprintf("%s %s %s %s %s", r.Action, r.Rule, r.ProposedSID, r.UserForest, r.UserDN)
		switch rdn(r.ResourceDN) {
		case "cn=Room 101":
			if !strings.Contains(r.Reason, "SELF (S-1-5-10): a shared, room, equipment or system mailbox") {
				t.Errorf("room reason %q", r.Reason)
			}
		case "cn=Sam Stranger":
			if !strings.Contains(r.Reason, "is of domain S-1-5-21-999999999-999999999-999999999, which belongs to no configured user forest (users ") {
				t.Errorf("stranger reason %q", r.Reason)
			}
		}
	}
	want := map[string]string{
		"cn=Room 101":     "skip    ",
		"cn=Mia Moved":    "set sid-history " + fzUF + "-3001 users cn=Mia Moved," + fzUserOU,
		"cn=Bea Boss":     "set master-sid " + fzUF + "-3002 users cn=Bea Boss," + fzUserOU,
		"cn=Ned North":    "set master-sid " + fzUF2 + "-4001 users2 cn=Ned North,ou=Users,dc=userforest2,dc=test",
		"cn=Hal History":  "set master-sid-history " + fzUF + "-3005 users cn=Hal History," + fzUserOU,
		"cn=Sam Stranger": "conflict master-sid   ",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("plan rows\n%v\nwant\n%v", got, want)
	}
	out, _ := cli(ExitFindings, "sidmap", "verify", "--base", fzResOU)
	if g := verifyLines(out); strings.Join(g, "|") != "cn=Bea Boss missing|cn=Hal History missing|cn=Mia Moved missing|cn=Ned North missing|cn=Sam Stranger missing" {
		t.Errorf("verify before: %q", g)
	}

	// Apply: exactly the four OriginatorSids, in binary.
	cli(ExitOK, "sidmap", "apply", planPath, "--yes")
	afterSID := state(fzResOU)
	if d := diffStates(before, afterSID, 10); len(d) != 4 {
		t.Errorf("apply changed %d things, want 4: %v", len(d), d)
	}
	for cn, sid := range map[string]string{"Mia Moved": fzUF + "-3001", "Bea Boss": fzUF + "-3002", "Ned North": fzUF2 + "-4001", "Hal History": fzUF + "-3005"} {
		vs := afterSID[strings.ToLower("cn="+cn+","+fzResOU)]["msrtcsip-originatorsid"]
		if len(vs) != 1 || vs[0] != string(ldapsync.MustParseSID(sid).Bytes()) {
			t.Errorf("%s: OriginatorSid %q, want binary %s", cn, vs, sid)
		}
	}
	cli(ExitOK, "sidmap", "plan", "--base", fzResOU, "-w", planPath+".again")
	if c := readPlan(t, planPath+".again").Counts(); c[sidmap.ActionSet] != 0 || c[sidmap.ActionNone] != 4 {
		t.Errorf("plan after apply: %v", c)
	}
	out, _ = cli(ExitFindings, "sidmap", "verify", "--base", fzResOU)
	if g := verifyLines(out); strings.Join(g, "|") != "cn=Sam Stranger missing" ||
		!strings.Contains(out, "its domain belongs to no configured user forest") {
		t.Errorf("verify after apply: %q\n%s", g, out)
	}

	// sync-attrs: Mia's manager becomes Bea's resource account; the photo is copied byte-exact.
	syncPath := filepath.Join(dir, "sync.json")
	cli(ExitOK, "sidmap", "sync-attrs", "plan", "--base", fzResOU, "-w", syncPath)
	sp := readPlan(t, syncPath)
	if c := sp.Counts(); c[sidmap.ActionSet] != 4 || c[sidmap.ActionSkip] != 1 || c[sidmap.ActionConflict] != 1 {
		t.Errorf("sync plan %v", c)
	}
	cli(ExitOK, "sidmap", "sync-attrs", "apply", syncPath, "--yes")
	afterSync := state(fzResOU)
	mia := afterSync[strings.ToLower("cn=Mia Moved,"+fzResOU)]
	wantMia := map[string]string{"manager": "cn=Bea Boss," + fzResOU, "thumbnailphoto": fzPhoto(), "countrycode": "840",
		"c": "US", "co": "United States", "title": "Engineer", "department": "R&D", "displayname": "Mia Moved",
		"givenname": "Mia", "telephonenumber": "+1 425 555 0142", "l": "Redmond", "st": "WA", "company": "Contoso",
		"physicaldeliveryofficename": "B2/1142", "mail": "mia@contoso.com", "sn": "Moved"}
	for a, w := range wantMia {
		if vs := mia[a]; len(vs) != 1 || vs[0] != w {
			t.Errorf("Mia %s = %q, want %q", a, vs, w)
		}
	}
	if d := diffStates(afterSID, afterSync, 40); len(d) != 20 { // Mia 15 attributes, Bea 3, Ned 1, Hal 1
		t.Errorf("sync changed %d things, want 20: %v", len(d), d)
	}
	cli(ExitOK, "sidmap", "sync-attrs", "plan", "--base", fzResOU, "-w", syncPath+".again")
	if c := readPlan(t, syncPath+".again").Counts(); c[sidmap.ActionSet] != 0 {
		t.Errorf("sync plan after apply: %v", c)
	}
	cli(ExitOK, "sidmap", "undo", filepath.Join(dir, "sync.undo.ldif"), "--yes")
	if d := diffStates(afterSID, state(fzResOU), 10); len(d) > 0 {
		t.Errorf("sync undo left: %v", d)
	}
	cli(ExitOK, "sidmap", "undo", filepath.Join(dir, "plan.undo.ldif"), "--yes")
	if d := diffStates(before, state(fzResOU), 10); len(d) > 0 {
		t.Errorf("undo left: %v", d)
	}

	// Central topology: contacts matched by address; verify checks the SIP address against the
	// mailbox's proxyAddresses.
	beforeC := state(fzCentOU)
	cPlan := filepath.Join(dir, "central.json")
	cli(ExitOK, "sidmap", "plan", "--topology", "central", "--match", "proxy", "--base", fzCentOU, "-w", cPlan)
	got = map[string]string{}
	for _, r := range readPlan(t, cPlan).Rows {
		got[rdn(r.ResourceDN)] = fmt.Sprintf("%s %s %s", r.Action, r.Rule, r.ProposedSID)
	}
	want = map[string]string{"cn=Kim Contact": "set proxy " + fzUF + "-3003", "cn=Lou Contact": "set proxy " + fzUF + "-3004"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("central plan %v, want %v", got, want)
	}
	cli(ExitOK, "sidmap", "apply", cPlan, "--yes")
	afterC := state(fzCentOU)
	if d := diffStates(beforeC, afterC, 10); len(d) != 2 {
		t.Errorf("central apply changed %d things, want 2: %v", len(d), d)
	}
	if vs := afterC[strings.ToLower("cn=Kim Contact,"+fzCentOU)]["msrtcsip-originatorsid"]; len(vs) != 1 || vs[0] != string(ldapsync.MustParseSID(fzUF+"-3003").Bytes()) {
		t.Errorf("Kim's OriginatorSid %q", vs)
	}
	out, _ = cli(ExitFindings, "sidmap", "verify", "--topology", "central", "--base", fzCentOU)
	if g := verifyLines(out); strings.Join(g, "|") != "cn=Lou Contact address-not-in-mailbox" ||
		!strings.Contains(out, "sip:lou.other@contoso.com is not in the proxyAddresses of the mailbox cn=Lou Mailbox,"+fzUserOU) {
		t.Errorf("central verify:\n%s", out)
	}
	cli(ExitOK, "sidmap", "plan", "--topology", "central", "--match", "proxy", "--base", fzCentOU, "-w", cPlan+".again")
	if c := readPlan(t, cPlan+".again").Counts(); c[sidmap.ActionSet] != 0 || c[sidmap.ActionNone] != 2 {
		t.Errorf("central plan after apply: %v", c)
	}
	cli(ExitOK, "sidmap", "undo", filepath.Join(dir, "central.undo.ldif"), "--yes")
	if d := diffStates(beforeC, state(fzCentOU), 10); len(d) > 0 {
		t.Errorf("central undo left: %v", d)
	}
}
