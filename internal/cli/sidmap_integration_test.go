package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
)

// sidmapSlapdConfig writes a configuration with two forests on sidmap's private slapd, both
// bound as the resource suffix's admin.
func sidmapSlapdConfig(t *testing.T, url, userBase, userBind, resBase, resBind string) string {
	t.Helper()
	t.Setenv("ABKIT_SIDMAP_TEST_PASSWORD", "secret")
	cfg := fmt.Sprintf(`forests:
  - name: users
    url: %s
    base: "%s"
    bind: {method: simple, dn: "%s", password_env: ABKIT_SIDMAP_TEST_PASSWORD}
  - name: res
    url: %s
    base: "%s"
    bind: {method: simple, dn: "%s", password_env: ABKIT_SIDMAP_TEST_PASSWORD}
sidmap: {user_forest: users, resource_forest: res}
`, url, userBase, userBind, url, resBase, resBind)
	return writeConfig(t, cfg)
}

// dirState is every attribute of every entry under a base: DN → attribute → sorted values.
type dirState map[string]map[string][]string

// readDirState reads every entry under base with all attributes.
func readDirState(t *testing.T, url, bindDN, base string) dirState {
	t.Helper()
	ctx := context.Background()
	f, err := ldapsync.Dial(ctx, ldapsync.Options{Name: "state", URL: url, Base: base,
		Bind: ldapsync.Bind{Method: ldapsync.BindSimple, DN: bindDN, Password: "secret"}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st := dirState{}
	for e, err := range f.SearchEntries(ctx, ldapsync.SearchRequest{Filter: "(objectClass=*)", Attributes: []string{"*"}}) {
		if err != nil {
			t.Fatal(err)
		}
		attrs := map[string][]string{}
		for _, a := range e.Attributes {
			vs := make([]string, len(a.ByteValues))
			for i, v := range a.ByteValues {
				vs[i] = string(v)
			}
			sort.Strings(vs)
			attrs[strings.ToLower(a.Name)] = vs
		}
		st[strings.ToLower(e.DN)] = attrs
	}
	return st
}

// diffStates lists the differences between two states, at most max of them.
func diffStates(a, b dirState, max int) []string {
	var out []string
	add := func(format string, args ...any) {
		if len(out) < max {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	for dn, ea := range a {
		eb, ok := b[dn]
		if !ok {
			add("%s: gone", dn)
			continue
		}
		for attr, va := range ea {
			if strings.Join(va, "\x00") != strings.Join(eb[attr], "\x00") {
				add("%s: %s %q -> %q", dn, attr, va, eb[attr])
			}
		}
		for attr, vb := range eb {
			if _, ok := ea[attr]; !ok {
				add("%s: %s added %q", dn, attr, vb)
			}
		}
	}
	for dn := range b {
		if _, ok := a[dn]; !ok {
			add("%s: new", dn)
		}
	}
	return out
}

// cliExpecting returns a runner of abkit with the configuration cfg that fails the test when the
// exit status is not the expected one.
func cliExpecting(t *testing.T, cfg string) func(want int, args ...string) (stdout, stderr string) {
	return func(want int, args ...string) (string, string) {
		t.Helper()
		out, stderr, code := runCLI(t, append([]string{"--config", cfg}, args...)...)
		if code != want {
			t.Fatalf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, want, out, stderr)
		}
		return out, stderr
	}
}

func readPlan(t *testing.T, path string) *sidmap.Plan {
	t.Helper()
	p, err := readPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSidmapIntegrationSlapdSeeded runs plan, verify, apply, re-apply and undo on the seeded
// cases of testdata/slapd (unmapped linked account, mapped, mismatched, hidden) on sidmap's
// private slapd.
func TestSidmapIntegrationSlapdSeeded(t *testing.T) {
	env := needEnv(t, "ABKIT_SIDMAP_SLAPD_URL")
	url := env["ABKIT_SIDMAP_SLAPD_URL"]
	const resUsers = "ou=Users,dc=resforest,dc=test"
	cfg := sidmapSlapdConfig(t, url, "dc=userforest,dc=test", "cn=admin,dc=userforest,dc=test",
		"dc=resforest,dc=test", "cn=admin,dc=resforest,dc=test")
	before := readDirState(t, url, "cn=admin,dc=resforest,dc=test", resUsers)
	dir := t.TempDir()
	cli := cliExpecting(t, cfg)

	// Default plan: Alice (linked, unmapped) set; Bob (mapped) none; Carol (mismatched) conflict;
	// Dave (hidden, SIP-disabled), the group, the contact and the bulk users are no candidates.
	plain := filepath.Join(dir, "plain.json")
	cli(ExitOK, "sidmap", "plan", "--base", resUsers, "-w", plain)
	got := map[string]string{}
	for _, r := range readPlan(t, plain).Rows {
		got[strings.SplitN(r.ResourceDN, ",", 2)[0]] = string(r.Action) + " " + r.Rule
	}
	want := map[string]string{"cn=Alice Able": "set master-sid", "cn=Bob Baker": "none master-sid", "cn=Carol Clark": "conflict master-sid"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("plan rows %v, want %v", got, want)
	}

	out, _ := cli(ExitFindings, "sidmap", "verify", "--base", resUsers)
	if !strings.Contains(out, "cn=Alice Able,ou=Users,dc=resforest,dc=test\tmissing") ||
		!strings.Contains(out, "cn=Carol Clark,ou=Users,dc=resforest,dc=test\tmaster-mismatch") ||
		strings.Count(out, "\n") != 3 {
		t.Errorf("verify before:\n%s", out)
	}

	planPath := filepath.Join(dir, "plan.json")
	cli(ExitOK, "sidmap", "plan", "--base", resUsers, "--replace-mismatched", "-w", planPath)
	p := readPlan(t, planPath)
	if c := p.Counts(); c[sidmap.ActionSet] != 2 || c[sidmap.ActionNone] != 1 {
		t.Fatalf("plan with --replace-mismatched: %v", c)
	}
	_, stderr := cli(ExitOK, "sidmap", "apply", planPath)
	if !strings.Contains(stderr, "dry run: 2 changes") {
		t.Errorf("dry run stderr %q", stderr)
	}
	if d := diffStates(before, readDirState(t, url, "cn=admin,dc=resforest,dc=test", resUsers), 5); len(d) > 0 {
		t.Fatalf("dry run changed the directory: %v", d)
	}
	_, stderr = cli(ExitOK, "sidmap", "apply", planPath, "--yes")
	// slapd offers LDAP transactions: the two changes go in one.
	if !strings.Contains(stderr, "2 changes: 2 applied, 0 already done, 0 refused, 0 failed, 0 in flight, 0 not attempted; 1 transactions") {
		t.Errorf("apply stderr %q", stderr)
	}
	after := readDirState(t, url, "cn=admin,dc=resforest,dc=test", resUsers)
	for _, r := range p.Rows {
		if r.Action != sidmap.ActionSet {
			continue
		}
		vs := after[strings.ToLower(r.ResourceDN)]["msrtcsip-originatorsid"]
		if len(vs) != 1 || vs[0] != string(r.ProposedSID.Bytes()) {
			t.Errorf("%s: OriginatorSid %q, want binary %s", r.ResourceDN, vs, r.ProposedSID)
		}
	}
	if d := diffStates(before, after, 10); len(d) != 2 {
		t.Errorf("apply changed %d things, want 2: %v", len(d), d)
	}
	cli(ExitOK, "sidmap", "verify", "--base", resUsers)
	_, stderr = cli(ExitOK, "sidmap", "apply", planPath, "--yes")
	if !strings.Contains(stderr, "2 changes: 0 applied, 2 already done") {
		t.Errorf("re-run stderr %q", stderr)
	}
	_, stderr = cli(ExitOK, "sidmap", "undo", filepath.Join(dir, "plan.undo.ldif"), "--yes")
	if !strings.Contains(stderr, "2 changes: 2 applied") {
		t.Errorf("undo stderr %q", stderr)
	}
	if d := diffStates(before, readDirState(t, url, "cn=admin,dc=resforest,dc=test", resUsers), 5); len(d) > 0 {
		t.Errorf("undo did not restore the directory: %v", d)
	}
}

var applySummary = regexp.MustCompile(`(\d+) changes: (\d+) applied, (\d+) already done, (\d+) refused, (\d+) failed, (\d+) in flight, (\d+) not attempted`)

// applyCounts are the counts of apply's summary line.
type applyCounts struct{ items, applied, done, refused, failed, inFlight, notAttempted int }

// parseApplySummary returns the counts of apply's (or undo's) summary line on stderr.
func parseApplySummary(t *testing.T, stderr string) applyCounts {
	t.Helper()
	m := applySummary.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no summary in %q", stderr)
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	return applyCounts{n(1), n(2), n(3), n(4), n(5), n(6), n(7)}
}

var txnSummary = regexp.MustCompile(`not attempted; (\d+) transactions`)

// transactionCount returns the number of LDAP transactions apply's stderr reports.
func transactionCount(t *testing.T, stderr string) int {
	t.Helper()
	m := txnSummary.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no transaction count in %q", stderr)
	}
	v, _ := strconv.Atoi(m[1])
	return v
}

// TestSidmapIntegrationSlapdFault applies the bulk mappings, kills slapd (by PID) half-way,
// restarts it on the same data, finishes with a re-run, compares the whole subtree with the
// intended result and undoes everything.
func TestSidmapIntegrationSlapdFault(t *testing.T) {
	env := needEnv(t, "ABKIT_SIDMAP_SLAPD_URL", "ABKIT_SIDMAP_SLAPD_STATE", "ABKIT_SIDMAP_SLAPD_BULK")
	url, state := env["ABKIT_SIDMAP_SLAPD_URL"], env["ABKIT_SIDMAP_SLAPD_STATE"]
	n, err := strconv.Atoi(env["ABKIT_SIDMAP_SLAPD_BULK"])
	if err != nil || n < 100 {
		t.Fatalf("ABKIT_SIDMAP_SLAPD_BULK=%q: want at least 100", env["ABKIT_SIDMAP_SLAPD_BULK"])
	}
	const bulk, admin = "ou=sidmap,dc=resforest,dc=test", "cn=admin,dc=resforest,dc=test"
	cfg := sidmapSlapdConfig(t, url, "ou=users,"+bulk, admin, "ou=res,"+bulk, admin)
	before := readDirState(t, url, admin, bulk)
	dir := t.TempDir()
	planPath, journal := filepath.Join(dir, "plan.json"), filepath.Join(dir, "plan.journal")

	if out, stderr, code := runCLI(t, "--config", cfg, "sidmap", "plan", "-w", planPath); code != ExitOK ||
		!strings.Contains(stderr, fmt.Sprintf("plan: %d to set, 0 already right, 0 conflicts", n)) {
		t.Fatalf("plan exit %d: %s\n%.500s", code, stderr, out)
	}
	p := readPlan(t, planPath)

	// Kill slapd once the journal records half of the changes.
	killed := killSlapdAt(t, state, journal, n/2)
	out, stderr, code := runCLI(t, "--config", cfg, "sidmap", "apply", planPath, "--yes")
	killedAt := killed()
	t.Logf("first run's report:\n%.2000s", out)
	if killedAt == 0 {
		t.Fatalf("slapd was not killed (apply exit %d: %s)", code, stderr)
	}
	if code != ExitRuntime {
		t.Fatalf("apply with the server killed: exit %d, want 3: %s", code, stderr)
	}
	c1 := parseApplySummary(t, stderr)
	applied1 := c1.applied
	t.Logf("killed slapd after %d journal lines; first run: %+v", killedAt, c1)
	// The changes in flight when the server died are reported as such, never as failed.
	if tx := transactionCount(t, stderr); applied1 < n/4 || c1.failed+c1.refused != 0 || c1.inFlight == 0 ||
		applied1+c1.inFlight+c1.notAttempted != n || tx < 1 {
		t.Fatalf("first run: %s", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "plan.undo.ldif")); err != nil {
		t.Fatalf("no undo file: %v", err)
	}

	// Restart on the same data; the re-run finishes the rest and skips what is done.
	if out, err := exec.Command("bash", "../../testdata/sidmap/server.sh", "restart", state).CombinedOutput(); err != nil {
		t.Fatalf("restart slapd: %v\n%s", err, out)
	}
	_, stderr, code = runCLI(t, "--config", cfg, "sidmap", "apply", planPath, "--yes")
	if code != ExitOK {
		t.Fatalf("re-run exit %d: %s", code, stderr)
	}
	c2 := parseApplySummary(t, stderr)
	applied2, done2 := c2.applied, c2.done
	if c2.failed+c2.refused+c2.inFlight != 0 || applied2+done2 != n || done2 < applied1 || applied2 > n-applied1 {
		t.Fatalf("re-run after %d applied: %s", applied1, stderr)
	}
	if tx := transactionCount(t, stderr); tx < 1 || tx > (n-done2+sidmap.DefaultBatchSize-1)/sidmap.DefaultBatchSize {
		t.Errorf("re-run: %d transactions for %d changes: %s", tx, n-done2, stderr)
	}

	// The directory is exactly the intended one: OriginatorSid set on every resource account,
	// nothing else changed anywhere in the subtree.
	after := readDirState(t, url, admin, bulk)
	intended := dirState{}
	for dn, attrs := range before {
		c := map[string][]string{}
		for a, v := range attrs {
			c[a] = v
		}
		intended[dn] = c
	}
	for _, r := range p.Rows {
		intended[strings.ToLower(r.ResourceDN)]["msrtcsip-originatorsid"] = []string{string(r.ProposedSID.Bytes())}
	}
	ignoreOperational(before, after, intended)
	if d := diffStates(intended, after, 10); len(d) > 0 {
		t.Fatalf("directory differs from the intended one: %v", d)
	}
	if out, stderr, code := runCLI(t, "--config", cfg, "sidmap", "verify"); code != ExitOK {
		t.Errorf("verify after apply: exit %d: %s\n%.1000s", code, stderr, out)
	}

	_, stderr, code = runCLI(t, "--config", cfg, "sidmap", "undo", filepath.Join(dir, "plan.undo.ldif"), "--yes", "--no-txn")
	if code != ExitOK || !strings.Contains(stderr, fmt.Sprintf("%d changes: %d applied", n, n)) || transactionCount(t, stderr) != 0 {
		t.Fatalf("undo exit %d: %s", code, stderr)
	}
	restored := readDirState(t, url, admin, bulk)
	ignoreOperational(before, restored)
	if d := diffStates(before, restored, 10); len(d) > 0 {
		t.Errorf("undo did not restore the directory: %v", d)
	}
}

// ignoreOperational drops the attributes a server changes on every modify (slapd's
// modifyTimestamp, entryCSN; AD's whenChanged, uSNChanged), which "*" may return.
func ignoreOperational(states ...dirState) {
	for _, st := range states {
		for _, attrs := range st {
			for _, a := range []string{"modifytimestamp", "modifiersname", "entrycsn", "whenchanged", "usnchanged", "dscorepropagationdata"} {
				delete(attrs, a)
			}
		}
	}
}

// killSlapdAt kills the slapd of state (by the PID in its pid file) as soon as journal holds
// lines lines. The returned function stops watching and reports the line count at the kill (0:
// not killed).
func killSlapdAt(t *testing.T, state, journal string, lines int) func() int64 {
	t.Helper()
	pidText, err := os.ReadFile(filepath.Join(state, "slapd", "slapd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if err != nil {
		t.Fatal(err)
	}
	var killedAt atomic.Int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			b, _ := os.ReadFile(journal)
			if n := bytes.Count(b, []byte("\n")); n >= lines {
				if p, err := os.FindProcess(pid); err == nil && p.Kill() == nil {
					killedAt.Store(int64(n))
				}
				return
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return killedAt.Load()
	}
}
