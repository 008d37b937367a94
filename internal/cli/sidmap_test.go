package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abkit/abkit/sidmap"
)

// sidmapSnapshotConfig writes a configuration whose two forests are the LDIF snapshots in
// testdata/sidmap, plus a live forest that no test connects to.
func sidmapSnapshotConfig(t *testing.T) (cfgPath, dir string) {
	t.Helper()
	dir = t.TempDir()
	td, err := filepath.Abs("../../testdata/sidmap")
	if err != nil {
		t.Fatal(err)
	}
	cfg := `forests:
  - {name: users, ldif: ` + filepath.Join(td, "user.ldif") + `, base: "dc=userforest,dc=test"}
  - {name: res, ldif: ` + filepath.Join(td, "res.ldif") + `, base: "dc=resforest,dc=test"}
  - {name: live, url: "ldap://127.0.0.1:1"}
sidmap: {user_forest: users, resource_forest: res}
`
	cfgPath = filepath.Join(dir, "abkit.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, dir
}

func TestSidmapPlanFromSnapshots(t *testing.T) {
	cfg, dir := sidmapSnapshotConfig(t)
	planPath := filepath.Join(dir, "plan.json")
	out, stderr, code := runCLI(t, "--config", cfg, "sidmap", "plan", "-w", planPath)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "plan: 2 to set, 1 already right, 3 conflicts; written to "+planPath) {
		t.Errorf("stderr %q", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[0], "resource_dn\taction\trule") {
		t.Fatalf("TSV output:\n%s", out)
	}
	want := map[string]string{
		"cn=Alice Able":  "set\tmaster-sid\t\tS-1-5-21-1004336348-1177238915-682003330-1105",
		"cn=Bob Baker":   "none\tsam",
		"cn=Carol Clark": "conflict\tsam\tS-1-5-21-1004336348-1177238915-682003330-1108\tS-1-5-21-1004336348-1177238915-682003330-1107",
		"cn=Dave Dunn":   "conflict\tsam",
		"cn=Erin Eve":    "set\tsam",
		"cn=Nobody":      "conflict\t\t",
	}
	for _, l := range lines[1:] {
		cn := strings.SplitN(l, ",", 2)[0]
		w, ok := want[cn]
		if !ok || !strings.Contains(l, "\t"+w) {
			t.Errorf("row %q, want it to contain %q", l, w)
		}
	}
	fh, err := os.Open(planPath)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	p, err := sidmap.ReadPlan(fh)
	if err != nil {
		t.Fatal(err)
	}
	if p.UserForest != "users" || p.ResourceForest != "res" || len(p.Rows) != 6 {
		t.Errorf("plan %+v", p)
	}

	// -o json prints the plan itself.
	out, _, code = runCLI(t, "--config", cfg, "sidmap", "plan", "--match", "sam", "--filter", "(sAMAccountName=erin)", "-o", "json")
	var q sidmap.Plan
	if code != ExitOK || json.Unmarshal([]byte(out), &q) != nil || len(q.Rows) != 1 || q.Rows[0].Rule != "sam" || q.Options.Filter != "(sAMAccountName=erin)" {
		t.Errorf("json plan exit %d:\n%s", code, out)
	}

	// The change LDIF for ldapmodify.
	ldifPath := filepath.Join(dir, "changes.ldif")
	if _, stderr, code := runCLI(t, "--config", cfg, "sidmap", "apply", planPath, "--write-ldif", ldifPath); code != ExitOK {
		t.Fatalf("write-ldif exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(ldifPath)
	if err != nil || strings.Count(string(b), "add: msRTCSIP-OriginatorSid") != 2 || strings.Contains(string(b), "delete:") {
		t.Errorf("changes LDIF (%v):\n%s", err, b)
	}

	// Applying to a snapshot is refused, dry run or not, and nothing is created.
	for _, args := range [][]string{{"sidmap", "apply", planPath}, {"sidmap", "apply", planPath, "--yes"}} {
		_, stderr, code := runCLI(t, append([]string{"--config", cfg}, args...)...)
		if code != ExitBadInput || !strings.Contains(stderr, "LDIF snapshot") {
			t.Errorf("%v: exit %d %q", args, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "plan.undo.ldif")); !os.IsNotExist(err) {
		t.Errorf("undo file created for a refused apply: %v", err)
	}
}

func TestSidmapVerifyFromSnapshots(t *testing.T) {
	cfg, _ := sidmapSnapshotConfig(t)
	out, stderr, code := runCLI(t, "--config", cfg, "sidmap", "verify", "-o", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 1: %s", code, stderr)
	}
	var fs []sidmap.Finding
	if err := json.Unmarshal([]byte(out), &fs); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range fs {
		got[strings.SplitN(f.DN, ",", 2)[0]] += f.Check + " "
	}
	want := map[string]string{
		"cn=Alice Able":  "missing ",
		"cn=Carol Clark": "user-disabled ",
		"cn=Dave Dunn":   "missing ",
		"cn=Erin Eve":    "missing ",
		"cn=Nobody":      "missing ",
	}
	if len(got) != len(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
}

func TestSidmapUsageErrors(t *testing.T) {
	cfg, dir := sidmapSnapshotConfig(t)
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version":9}`), 0o600); err != nil {
		t.Fatal(err)
	}
	syncPlan := filepath.Join(dir, "sync.json")
	if _, stderr, code := runCLI(t, "--config", cfg, "sidmap", "sync-attrs", "plan", "-w", syncPlan); code != ExitOK {
		t.Fatalf("sync-attrs plan exit %d: %s", code, stderr)
	}
	undo := filepath.Join(dir, "broken.ldif")
	if err := os.WriteFile(undo, []byte("dn: cn=a\nchangetype: modify\nreplace: sn\nsn: x\n-\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sidmap", "plan", "--match", "sam,bogus"}, `match rule "bogus"`},
		{[]string{"sidmap", "plan", "--user-forest", "nope"}, `no forest named "nope"`},
		{[]string{"sidmap", "apply", bad}, "version 9"},
		{[]string{"sidmap", "apply", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"sidmap", "apply", syncPlan}, "sync-attrs plan: apply it with 'abkit sidmap sync-attrs apply'"},
		{[]string{"sidmap", "apply", syncPlan, "--concurrency", "0"}, "--concurrency 0"},
		{[]string{"sidmap", "sync-attrs", "plan", "--attrs", "objectSid"}, "not a descriptive attribute"},
		{[]string{"sidmap", "undo", undo, "--resource-forest", "live"}, "line 3"},
		{[]string{"sidmap", "undo", undo}, "LDIF snapshot"},
	}
	for _, tt := range tests {
		_, stderr, code := runCLI(t, append([]string{"--config", cfg}, tt.args...)...)
		if code != ExitBadInput || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d %q, want 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestSidmapFlagsReachOptions(t *testing.T) {
	f := &Factory{IO: TestStreams(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})}
	var plan *sidmapPlanOptions
	cmd := newCmdSidmapPlan(f, false, func(o *sidmapPlanOptions) error { plan = o; return nil })
	cmd.SetArgs([]string{"--match", "mail,attr:employeeID=employeeNumber", "--base", "ou=x", "--filter", "(sn=*)",
		"--replace-mismatched", "-w", "p.json", "--user-forest", "u,u2", "--resource-forest", "r", "--topology", "central"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(plan.Match) != "[mail attr:employeeID=employeeNumber]" || plan.Base != "ou=x" || plan.Filter != "(sn=*)" ||
		!plan.ReplaceMismatched || plan.WritePath != "p.json" || fmt.Sprint(plan.Forests) != "{[u u2] r central}" || plan.Sync {
		t.Errorf("plan options %+v", plan)
	}
	sync := newCmdSidmapPlan(f, true, func(o *sidmapPlanOptions) error { plan = o; return nil })
	sync.SetArgs([]string{"--attrs", "title,department"})
	if err := sync.Execute(); err != nil {
		t.Fatal(err)
	}
	if !plan.Sync || fmt.Sprint(plan.Attrs) != "[title department]" {
		t.Errorf("sync-attrs plan options %+v", plan)
	}
	if sync.Flags().Lookup("replace-mismatched") != nil {
		t.Error("sync-attrs plan offers --replace-mismatched")
	}

	var apply *sidmapApplyOptions
	acmd := newCmdSidmapApply(f, sidmap.KindOriginatorSID, func(o *sidmapApplyOptions) error { apply = o; return nil })
	acmd.SetArgs([]string{"plan.json", "--yes", "--concurrency", "9", "--journal", "j", "--undo", "u", "--resource-forest", "rf"})
	if err := acmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if apply.PlanPath != "plan.json" || !apply.Yes || apply.Concurrency != 9 || apply.Journal != "j" || apply.Undo != "u" || apply.Forests.ResourceForest != "rf" {
		t.Errorf("apply options %+v", apply)
	}
	var undo *sidmapUndoOptions
	ucmd := newCmdSidmapUndo(f, func(o *sidmapUndoOptions) error { undo = o; return nil })
	ucmd.SetArgs([]string{"u.ldif", "--resource-forest", "r", "--redo", "x", "--apply-journal", "aj"})
	if err := ucmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if undo.UndoPath != "u.ldif" || undo.Yes || undo.Concurrency != sidmap.DefaultConcurrency || undo.Forests.ResourceForest != "r" || undo.Redo != "x" || undo.ApplyJournal != "aj" {
		t.Errorf("undo options %+v", undo)
	}
	var verify *sidmapVerifyOptions
	vcmd := newCmdSidmapVerify(f, func(o *sidmapVerifyOptions) error { verify = o; return nil })
	vcmd.SetArgs([]string{"--base", "ou=y"})
	if err := vcmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if verify.Base != "ou=y" {
		t.Errorf("verify options %+v", verify)
	}
}

func TestDupesFixFlagsReachOptions(t *testing.T) {
	f := &Factory{IO: TestStreams(strings.NewReader(""), &strings.Builder{}, &strings.Builder{})}
	var fix *dupesFixOptions
	cmd := newCmdDupesFix(f, func(o *dupesFixOptions) error { fix = o; return nil })
	cmd.SetArgs([]string{"--yes", "--undo-dir", "d", "--concurrency", "7", "--batch", "50", "--no-txn"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !fix.yes || fix.undoDir != "d" || fix.concurrency != 7 || fix.batch != 50 || !fix.noTxn {
		t.Errorf("fix options %+v", fix)
	}
}
