package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abkit/abkit/internal/change"
	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
	"github.com/go-ldap/ldap/v3"
)

// slapdModify sends one modify to sidmap's slapd as the resource suffix's admin.
func slapdModify(t *testing.T, url string, req *ldap.ModifyRequest) {
	t.Helper()
	ctx := context.Background()
	f, err := ldapsync.Dial(ctx, ldapsync.Options{Name: "edit", URL: url, Base: "dc=resforest,dc=test",
		Bind: ldapsync.Bind{Method: ldapsync.BindSimple, DN: "cn=admin,dc=resforest,dc=test", Password: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Modify(ctx, req); err != nil {
		t.Fatal(err)
	}
}

// editJSON rewrites the JSON file path through edit.
func editJSON(t *testing.T, path, out string, edit func(m map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestChangeHolesSlapd tries, on sidmap's slapd, each hole issue 13 lists, as an attacker
// would, and checks that the change engine closes it: nothing outside the policy is written.
func TestChangeHolesSlapd(t *testing.T) {
	env := needEnv(t, "ABKIT_SIDMAP_SLAPD_URL")
	url := env["ABKIT_SIDMAP_SLAPD_URL"]
	const (
		admin    = "cn=admin,dc=resforest,dc=test"
		resUsers = "ou=Users,dc=resforest,dc=test"
		carol    = "cn=Carol Clark," + resUsers
	)
	cfg := sidmapSlapdConfig(t, url, "dc=userforest,dc=test", "cn=admin,dc=userforest,dc=test", resUsers, admin)
	before := readDirState(t, url, admin, "dc=resforest,dc=test")
	unchanged := func(what string) {
		t.Helper()
		after := readDirState(t, url, admin, "dc=resforest,dc=test")
		ignoreOperational(before, after)
		if d := diffStates(before, after, 5); len(d) > 0 {
			t.Fatalf("%s changed the directory: %v", what, d)
		}
	}
	dir := t.TempDir()
	cli := cliExpecting(t, cfg)
	planPath := filepath.Join(dir, "plan.json")
	cli(ExitOK, "sidmap", "plan", "--replace-mismatched", "-w", planPath)
	if c := readPlan(t, planPath).Counts(); c[sidmap.ActionSet] != 2 {
		t.Fatalf("plan: %v", c)
	}

	// A plan edited to name another forest than the configuration's is refused.
	other := filepath.Join(dir, "other.json")
	editJSON(t, planPath, other, func(m map[string]any) { m["resource_forest"] = "users" })
	if _, stderr := cli(ExitBadInput, "sidmap", "apply", other, "--yes"); !strings.Contains(stderr, `the configuration names "res"`) {
		t.Errorf("other forest: %s", stderr)
	}
	// A plan row outside the configured base (an entry that was never a candidate) is refused,
	// and with it the whole plan; so is a DN whose text merely ends with the base.
	for _, dn := range []string{"cn=r00001,ou=res,ou=sidmap,dc=resforest,dc=test", `cn=x\,ou=Users,dc=resforest,dc=test`} {
		outside := filepath.Join(dir, "outside.json")
		editJSON(t, planPath, outside, func(m map[string]any) {
			rows := m["rows"].([]any)
			row := map[string]any{}
			for k, v := range rows[0].(map[string]any) {
				row[k] = v
			}
			row["resource_dn"], row["action"], row["proposed_sid"] = dn, "set", "S-1-5-21-9-9-9-1234"
			delete(row, "current_sid")
			m["rows"] = append(rows, row)
		})
		if _, stderr := cli(ExitBadInput, "sidmap", "apply", outside, "--yes", "--journal", outside+".j", "--undo", outside+".u"); !strings.Contains(stderr, "not under the configured base") {
			t.Errorf("outside base %s: %s", dn, stderr)
		}
	}
	unchanged("refused plans")

	// A second apply on the same plan while one holds its journal refuses, clearly.
	l, err := change.AcquireLock(filepath.Join(dir, "plan.journal.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if _, stderr := cli(ExitBadInput, "sidmap", "apply", planPath, "--yes"); !strings.Contains(stderr, "locked by another abkit run (pid ") {
		t.Errorf("concurrent apply: %s", stderr)
	}
	l.Release()
	unchanged("a locked apply")

	// Carol changes after the plan: her row is refused, Alice's applied (a partial apply).
	carolSID := before[strings.ToLower(carol)]["msrtcsip-originatorsid"]
	if len(carolSID) != 1 {
		t.Fatalf("carol's OriginatorSid %q", carolSID)
	}
	changed := string(ldapsync.MustParseSID("S-1-5-21-9-9-9-4242").Bytes())
	swap := func(to string) {
		req := ldap.NewModifyRequest(carol, nil)
		req.Replace("msRTCSIP-OriginatorSid", []string{to})
		slapdModify(t, url, req)
	}
	swap(changed)
	defer swap(carolSID[0])
	_, stderr := cli(ExitRuntime, "sidmap", "apply", planPath, "--yes")
	if c := parseApplySummary(t, stderr); c.applied != 1 || c.refused != 1 || c.failed != 0 {
		t.Fatalf("partial apply: %s", stderr)
	}
	undo := filepath.Join(dir, "plan.undo.ldif")
	undoText, err := os.ReadFile(undo)
	if err != nil {
		t.Fatal(err)
	}

	// A hand-edited undo file is refused: its hash is not the one the apply's journal records.
	// Forging the journal's hash too still runs into the policy: an undo may write only what
	// the apply may write.
	journal := filepath.Join(dir, "plan.journal")
	for _, extra := range []string{"add: userPassword\nuserPassword: hunter2\n-\n", "delete: userAccountControl\nuserAccountControl: 514\n-\nadd: userAccountControl\nuserAccountControl: 512\n-\n"} {
		edited := filepath.Join(dir, "edited.undo.ldif")
		text := string(undoText) + "\ndn: cn=Alice Able," + resUsers + "\nchangetype: modify\n" + extra
		if err := os.WriteFile(edited, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, stderr := cli(ExitBadInput, "sidmap", "undo", edited, "--apply-journal", journal, "--yes"); !strings.Contains(stderr, "edited or belongs to another run") {
			t.Errorf("edited undo: %s", stderr)
		}
		forged := filepath.Join(dir, "forged.journal")
		forgeJournal(t, journal, forged, []byte(text))
		if _, stderr := cli(ExitBadInput, "sidmap", "undo", edited, "--apply-journal", forged, "--yes", "--journal", edited+".j"); !strings.Contains(stderr, "may change only msRTCSIP-OriginatorSid") {
			t.Errorf("edited undo with a forged journal: %s", stderr)
		}
		os.Remove(edited + ".j")
		os.Remove(strings.TrimSuffix(edited, ".ldif") + ".redo.ldif")
	}

	// Undo after the partial apply restores Alice, leaves Carol alone and reports her row as
	// never applied (not attempted, not failed): exit 0.
	_, stderr = cli(ExitOK, "sidmap", "undo", undo, "--yes")
	if c := parseApplySummary(t, stderr); c.applied != 1 || c.notAttempted != 1 || c.failed+c.refused != 0 ||
		!strings.Contains(stderr, "1 of the not attempted were never applied") {
		t.Errorf("undo after partial apply: %s", stderr)
	}
	after := readDirState(t, url, admin, "dc=resforest,dc=test")
	if got := after[strings.ToLower(carol)]["msrtcsip-originatorsid"]; len(got) != 1 || got[0] != changed {
		t.Errorf("undo touched carol: %q", got)
	}
	swap(carolSID[0])
	unchanged("apply and undo")

	// sync-attrs copies only descriptive attributes: security and logon attributes are refused
	// when planned, and in a hand-edited plan.
	for _, a := range []string{"altSecurityIdentities", "msDS-AllowedToActOnBehalfOfOtherIdentity", "servicePrincipalName", "scriptPath", "userPassword"} {
		if _, stderr := cli(ExitBadInput, "sidmap", "sync-attrs", "plan", "--attrs", a); !strings.Contains(stderr, "not a descriptive attribute") {
			t.Errorf("sync-attrs plan --attrs %s: %s", a, stderr)
		}
		bad := filepath.Join(dir, "sync.json")
		if err := os.WriteFile(bad, []byte(`{"version":1,"kind":"sync-attrs","user_forest":"users","resource_forest":"res","created":"2026-01-01T00:00:00Z","options":{"match":["sam"]},"rows":[{"resource_dn":"cn=Alice Able,`+resUsers+`","action":"set","changes":[{"attr":"`+a+`","old":[],"new":["x"]}]}]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, stderr := cli(ExitBadInput, "sidmap", "sync-attrs", "apply", bad, "--yes"); !strings.Contains(stderr, "not one sync-attrs may change") {
			t.Errorf("sync-attrs apply of %s: %s", a, stderr)
		}
	}
	unchanged("refused sync-attrs")
}

// forgeJournal copies journal to out with the undo hash of data, as an attacker who can edit
// both files would.
func forgeJournal(t *testing.T, journal, out string, data []byte) {
	t.Helper()
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := strings.Cut(string(b), "\n")
	var h change.Header
	if err := json.Unmarshal([]byte(first), &h); err != nil {
		t.Fatal(err)
	}
	h.UndoSHA256 = sha256Hex(data)
	hb, _ := json.Marshal(h)
	// Mark every record of the edited file applied, the extra one (last) included.
	n := strings.Count(string(data), "changetype: modify")
	extra, _ := json.Marshal(map[string]any{"i": n - 1, "dn": "cn=Alice Able,ou=Users,dc=resforest,dc=test", "status": "applied"})
	if err := os.WriteFile(out, []byte(string(hb)+"\n"+rest+string(extra)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
