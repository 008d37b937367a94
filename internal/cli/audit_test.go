package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/abkit/abkit/internal/audit"
	"github.com/abkit/abkit/rtcdb/rtcdbtest"
)

// demoRunTime is the clock of the end-to-end runs: two days after the newest demo file.
var demoRunTime = time.Date(2026, 11, 22, 6, 30, 0, 0, time.UTC)

// demoCounts are the findings per check that the planted problems of testdata/demo cause
// (see audit_demo_test.go), in report order.
var demoCounts = []struct {
	check string
	count int
}{
	{"duplicate-sip", 3},
	{"duplicate-phone", 1},
	{"sidmap", 2},
	{"hidden-sip", 1},
	{"disabled-sip", 1},
	{"abs-freshness", 2},
	{"phone-normalization", 2},
	{"snapshot-records", 0},
}

// runAudit runs `abkit [--config cfg] audit args...` in-process with the clock at now and
// returns stdout, stderr and the exit code.
func runAudit(t *testing.T, cfg string, now time.Time, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := &Factory{IO: TestStreams(strings.NewReader(""), &out, &errOut), ConfigPath: cfg, Output: "json"}
	cmd := newCmdAudit(f, func(o *auditOptions) error {
		o.Now = func() time.Time { return now }
		return auditRun(context.Background(), o)
	})
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		errOut.WriteString(err.Error())
	}
	return out.String(), errOut.String(), exitCode(err)
}

func demoConfig(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(demoDir, "abkit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuditDemoEndToEnd(t *testing.T) {
	out := t.TempDir()
	stdout, stderr, code := runAudit(t, demoConfig(t), demoRunTime, "--out", out)
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitFindings, stderr)
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout)
	}
	if len(rep.Checks) != len(demoCounts) {
		t.Fatalf("%d checks, want %d", len(rep.Checks), len(demoCounts))
	}
	total := 0
	for i, want := range demoCounts {
		c := rep.Checks[i]
		if c.Name != want.check || c.Count != want.count || c.Failed() {
			t.Errorf("check %d = %s: %d findings, error %q; want %s: %d", i, c.Name, c.Count, c.Error, want.check, want.count)
		}
		total += want.count
	}
	if rep.Findings != total || rep.Errors != 0 || !rep.Time.Equal(demoRunTime) {
		t.Errorf("report: %d findings, %d errors, time %v", rep.Findings, rep.Errors, rep.Time)
	}
	// The planted objects, one per problem.
	want := map[string][]string{
		"duplicate-sip":       {"sip:alice@contoso.com", "sip:bob@contoso.com", "sip:carol@contoso.com"},
		"duplicate-phone":     {"tel:+14255550150"},
		"sidmap":              {"cn=Grace Green,ou=Users,dc=resforest,dc=test", "cn=Heidi Huang,ou=Users,dc=resforest,dc=test"},
		"hidden-sip":          {"cn=Judy Jensen,ou=Users,dc=resforest,dc=test"},
		"disabled-sip":        {"cn=Oscar Olsen,ou=Users,dc=userforest,dc=test"},
		"abs-freshness":       {"F-24EE.lsabs", "D-24EB-24EC.lsabs"},
		"phone-normalization": {"cn=Kevin Kowalski,ou=Users,dc=resforest,dc=test", "cn=Laura Lopez,ou=Users,dc=resforest,dc=test"},
	}
	for _, c := range rep.Checks {
		var got []string
		for _, f := range c.Findings {
			got = append(got, f.Object)
		}
		if !slices.Equal(got, want[c.Name]) {
			t.Errorf("%s objects = %q, want %q", c.Name, got, want[c.Name])
		}
	}
	// The duplicate checks read the address book folder (F-24EE.lsabs, the newest full file):
	// bob's resource account is in it, the user-forest contact duplicating him is not.
	bob := rep.Checks[0].Findings[1].Message
	for _, part := range []string{"user cn=Bob Baker,ou=Users,dc=resforest,dc=test [forest resforest, address book F-24EE.lsabs]",
		"contact cn=Bob Baker (external),ou=Contacts,dc=userforest,dc=test [forest userforest, not in the address book]"} {
		if !strings.Contains(bob, part) {
			t.Errorf("duplicate-sip finding %q lacks %q", bob, part)
		}
	}
	if strings.Contains(bob, "AbUserEntry") {
		t.Errorf("without --rtc the database must not be read: %q", bob)
	}

	var files []string
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		files = append(files, e.Name())
	}
	wantFiles := []string{"abkit-audit-2026-11-22.html", "abkit-audit-2026-11-22.json", "abkit.prom"}
	for _, c := range demoCounts {
		wantFiles = append(wantFiles, "abkit-audit-2026-11-22-"+c.check+".csv")
	}
	slices.Sort(wantFiles)
	if !slices.Equal(files, wantFiles) {
		t.Errorf("files written %q\nwant %q", files, wantFiles)
	}
	prom, _ := os.ReadFile(filepath.Join(out, "abkit.prom"))
	for _, line := range []string{`abkit_findings{check="duplicate-sip"} 3`, `abkit_check_errors{check="sidmap"} 0`,
		"abkit_last_run_timestamp_seconds 1.795329e+09"} {
		if !strings.Contains(string(prom), line+"\n") {
			t.Errorf("abkit.prom lacks %q:\n%s", line, prom)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(out, "abkit-audit-2026-11-22-sidmap.csv"))
	if n := strings.Count(string(csv), "\n"); n != 3 {
		t.Errorf("sidmap CSV has %d lines, want header + 2:\n%s", n, csv)
	}
}

func TestAuditTableOutput(t *testing.T) {
	var out, errOut bytes.Buffer
	f := &Factory{IO: TestStreams(strings.NewReader(""), &out, &errOut), ConfigPath: demoConfig(t), Output: "tsv"}
	cmd := newCmdAudit(f, func(o *auditOptions) error {
		o.Now = func() time.Time { return demoRunTime }
		return auditRun(context.Background(), o)
	})
	cmd.SetArgs([]string{"--out", t.TempDir()})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); exitCode(err) != ExitFindings {
		t.Fatalf("err = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1+len(demoCounts) || lines[0] != "name\tcount\tstatus\tdescription" ||
		!strings.HasPrefix(lines[1], "duplicate-sip\t3\tfindings\t") {
		t.Errorf("summary table:\n%s", out.String())
	}
}

func TestAuditCheckThatCannotRun(t *testing.T) {
	demo, _ := filepath.Abs(demoDir)
	cfg := filepath.Join(t.TempDir(), "abkit.yaml")
	yaml := "forests:\n" +
		"  - {name: userforest, ldif: " + filepath.Join(demo, "missing.ldif") + "}\n" +
		"  - {name: resforest, ldif: " + filepath.Join(demo, "resforest.ldif") + "}\n" +
		"abs: {folder: " + filepath.Join(demo, "abs") + "}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	stdout, stderr, code := runAudit(t, cfg, demoRunTime, "--out", out, "--max-age", "100000h")
	if code != ExitRuntime {
		t.Fatalf("exit %d, want %d; stderr %s", code, ExitRuntime, stderr)
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, c := range rep.Checks {
		status[c.Name] = c.Error
		if c.Error == "" {
			status[c.Name] = "ran"
		}
	}
	// Every check that reads the forests fails (the duplicate checks read both); the folder
	// checks still report, with the rules taken from the newest full file.
	for _, name := range []string{"duplicate-sip", "duplicate-phone", "hidden-sip", "disabled-sip", "phone-normalization", "snapshot-records"} {
		if !strings.Contains(status[name], "missing.ldif") {
			t.Errorf("%s: %q, want the missing snapshot named", name, status[name])
		}
	}
	if status["abs-freshness"] != "ran" || rep.Checks[len(rep.Checks)-3].Count != 1 {
		t.Errorf("abs-freshness did not report: %+v", rep.Checks)
	}
	if _, ok := status["sidmap"]; ok {
		t.Error("sidmap ran without a sidmap section")
	}
	if !strings.Contains(stderr, "sidmap: no sidmap section") || !strings.Contains(stderr, "could not run") {
		t.Errorf("stderr %q", stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "abkit-audit-2026-11-22.html")); err != nil {
		t.Errorf("reports must be written even when a check fails: %v", err)
	}
}

func TestAuditBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"audit"}, "--out DIR is required"},
		{[]string{"audit", "--out", "x", "--max-age", "-1h"}, "--max-age must be positive"},
		{[]string{"audit", "--out", "x", "--max-age", "soon"}, "invalid argument"},
		{[]string{"audit", "--out", "x"}, "nothing to check"},
		{[]string{"--config", "/nonexistent/abkit.yaml", "audit", "--out", "x"}, "/nonexistent/abkit.yaml"},
		{[]string{"audit", "--out", "x", "extra"}, `unexpected argument "extra"`},
	}
	t.Setenv("ABKIT_CONFIG", "")
	for _, tt := range tests {
		_, stderr, code := runCLI(t, tt.args...)
		if code != ExitBadInput || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestAuditHistoryTrend(t *testing.T) {
	hist := t.TempDir()
	var out string
	for d := range 3 {
		out = t.TempDir()
		if _, stderr, code := runAudit(t, demoConfig(t), demoRunTime.AddDate(0, 0, d), "--out", out, "--history", hist); code != ExitFindings {
			t.Fatalf("run %d: exit %d: %s", d, code, stderr)
		}
	}
	sums, err := audit.ReadHistory(hist)
	if err != nil || len(sums) != 3 || sums[2].Counts["duplicate-sip"] != 3 {
		t.Fatalf("history = %+v, %v", sums, err)
	}
	page, _ := os.ReadFile(filepath.Join(out, "abkit-audit-2026-11-24.html"))
	if !strings.Contains(string(page), "last 3 run(s)") || strings.Count(string(page), "<circle") != 3 {
		t.Errorf("the trend does not show the three runs")
	}
}

func TestAuditFolderOnly(t *testing.T) {
	t.Setenv("ABKIT_CONFIG", "")
	stdout, stderr, code := runAudit(t, "", demoRunTime, "--abs-folder", filepath.Join(demoDir, "abs"), "--max-age", "72h", "--out", t.TempDir())
	if code != ExitFindings {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	// 2026-11-20 is 54.5 hours before the run: fresh at 72h; the missing delta remains.
	if len(rep.Checks) != 1 || rep.Checks[0].Name != "abs-freshness" || rep.Checks[0].Count != 1 ||
		rep.Checks[0].Findings[0].Object != "D-24EB-24EC.lsabs" {
		t.Errorf("report %+v", rep.Checks)
	}
	if !strings.Contains(stderr, "no forests configured") {
		t.Errorf("stderr does not say which checks were left out: %q", stderr)
	}
}

// demoConfigWithRTC writes a copy of the demo configuration, with absolute paths, plus an rtc
// section for the back end listening on port.
func demoConfigWithRTC(t *testing.T, port int) string {
	t.Helper()
	demo, err := filepath.Abs(demoDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ABKIT_TEST_RTC_PASSWORD", "secret")
	yaml := fmt.Sprintf(`forests:
  - {name: userforest, ldif: %[1]s/userforest.ldif, base: "dc=userforest,dc=test"}
  - {name: resforest, ldif: %[1]s/resforest.ldif, base: "dc=resforest,dc=test"}
abs: {folder: %[1]s/abs, rules: %[1]s/abs/Company_Phone_Number_Normalization_Rules.txt, max_age: 36h}
sidmap: {user_forest: userforest, resource_forest: resforest}
rtc:
  server: 127.0.0.1
  port: %[2]d
  user: tester
  password_env: ABKIT_TEST_RTC_PASSWORD
  encrypt: disable
  timeout: 5s
`, demo, port)
	cfg := filepath.Join(t.TempDir(), "abkit.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// auditReport decodes the JSON report printed by runAudit.
func auditReport(t *testing.T, stdout string) *audit.Report {
	t.Helper()
	var rep audit.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout)
	}
	return &rep
}

func TestAuditRTCRows(t *testing.T) {
	fake := rtcdbtest.New(t)
	fake.Seed(demoGUID("resforest/alice"), []byte("\x00sip:alice@contoso.com\x00"))
	fake.Seed(demoGUID("resforest/erin"), []byte("\x00sip:erin@contoso.com\x00"))
	cfg := demoConfigWithRTC(t, fake.Port())
	stdout, stderr, code := runAudit(t, cfg, demoRunTime, "--rtc", "--out", t.TempDir())
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitFindings, stderr)
	}
	rep := auditReport(t, stdout)
	for i, want := range demoCounts {
		if c := rep.Checks[i]; c.Name != want.check || c.Count != want.count || c.Failed() {
			t.Errorf("check %s: %d findings, error %q; want %s: %d", c.Name, c.Count, c.Error, want.check, want.count)
		}
	}
	if len(fake.Requests("")) == 0 {
		t.Fatal("the rtc back end was not asked")
	}
	alice, erin := rep.Checks[0].Findings[0].Message, rep.Checks[1].Findings[0].Message
	for _, c := range []struct{ msg, part string }{
		{alice, "user cn=Alice Able,ou=Users,dc=resforest,dc=test [forest resforest, address book F-24EE.lsabs, AbUserEntry row]"},
		{alice, "security group cn=Sales Team,ou=Groups,dc=resforest,dc=test [forest resforest, address book F-24EE.lsabs, no AbUserEntry row]"},
		{erin, "user cn=Erin Evans,ou=Users,dc=resforest,dc=test [forest resforest, address book F-24EE.lsabs, AbUserEntry row]"},
		{erin, "user cn=Frank Fischer,ou=Users,dc=resforest,dc=test [forest resforest, address book F-24EE.lsabs, no AbUserEntry row]"},
	} {
		if !strings.Contains(c.msg, c.part) {
			t.Errorf("finding %q lacks %q", c.msg, c.part)
		}
	}
}

func TestAuditRTCUnreachable(t *testing.T) {
	// A port nobody listens on: taken, then released.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := demoConfigWithRTC(t, port)

	// With --rtc the duplicate checks cannot run (exit 3); the others still report.
	stdout, stderr, code := runAudit(t, cfg, demoRunTime, "--rtc", "--out", t.TempDir())
	if code != ExitRuntime {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitRuntime, stderr)
	}
	rep := auditReport(t, stdout)
	for i, want := range demoCounts {
		c := rep.Checks[i]
		failed := want.check == "duplicate-sip" || want.check == "duplicate-phone"
		if c.Name != want.check || c.Failed() != failed || (!failed && c.Count != want.count) {
			t.Errorf("check %s: %d findings, error %q", c.Name, c.Count, c.Error)
		}
		if failed && !strings.Contains(c.Error, "rtc database") {
			t.Errorf("check %s: error %q does not name the rtc database", c.Name, c.Error)
		}
	}
	if rep.Errors != 2 || !strings.Contains(stderr, "duplicate-sip: rtc database") {
		t.Errorf("%d errors; stderr %q", rep.Errors, stderr)
	}

	// Without --rtc the database is not contacted: the scheduled audit works.
	_, stderr, code = runAudit(t, cfg, demoRunTime, "--out", t.TempDir())
	if code != ExitFindings {
		t.Errorf("without --rtc: exit %d, want %d; stderr: %s", code, ExitFindings, stderr)
	}

	// --rtc with no rtc section is bad input.
	_, stderr, code = runAudit(t, demoConfig(t), demoRunTime, "--rtc", "--out", t.TempDir())
	if code != ExitBadInput || !strings.Contains(stderr, "no rtc section") {
		t.Errorf("--rtc without an rtc section: exit %d, stderr %q", code, stderr)
	}
}
