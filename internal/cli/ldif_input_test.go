package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abkit/abkit/internal/audit"
)

// brokenDemo copies the demo configuration and snapshots to a folder, with two records put in
// the middle of resforest.ldif that cannot be taken: one with a line without a colon, and a
// second record of Alice's DN in other case after hers. It returns the configuration, their lines
// and Alice's.
func brokenDemo(t *testing.T) (cfg string, brokenLine, aliceLine, dupLine int) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"abkit.yaml", "userforest.ldif", "resforest.ldif"} {
		data, err := os.ReadFile(filepath.Join(demoDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "resforest.ldif" {
			text := string(data)
			cut := strings.Index(text, "dn: cn=Alice Able,")
			end := cut + strings.Index(text[cut:], "\n\n") + 2
			brokenLine = strings.Count(text[:cut], "\n") + 3 // the line without a colon
			aliceLine = brokenLine + 2
			dupLine = strings.Count(text[:end], "\n") + 1 + 4
			text = text[:cut] + "dn: cn=Broken,ou=Users,dc=resforest,dc=test\nobjectClass: user\nthis line has no colon\n\n" +
				text[cut:end] + "dn: CN=ALICE ABLE,OU=Users,DC=resforest,DC=test\nobjectClass: user\n\n" + text[end:]
			data = []byte(text)
		}
		if name == "abkit.yaml" {
			data = []byte(strings.Replace(string(data), "folder: abs", "folder: "+filepath.Join(mustAbs(t, demoDir), "abs"), 1))
			data = []byte(strings.Replace(string(data), "rules: abs/", "rules: "+filepath.Join(mustAbs(t, demoDir), "abs")+"/", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "abkit.yaml"), brokenLine, aliceLine, dupLine
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestPartialSnapshotInput: a snapshot with unreadable and duplicate records is read without
// them by every command that reads snapshots; each names the records (file and line) on stderr
// and exits 3; the audit shows them as findings of their own; --strict exits 2 instead.
func TestPartialSnapshotInput(t *testing.T) {
	cfg, brokenLine, aliceLine, dupLine := brokenDemo(t)
	res := filepath.Join(filepath.Dir(cfg), "resforest.ldif")
	brokenAt := fmt.Sprintf("%s:%d: want attr: value", res, brokenLine)
	dupAt := fmt.Sprintf("%s:%d: duplicate DN: the entry of line %d again", res, dupLine, aliceLine)

	// The audit: every check runs on the rest; snapshot-records lists the two records.
	stdout, stderr, code := runCLI(t, "--config", cfg, "audit", "--out", t.TempDir(), "-o", "json")
	if code != ExitRuntime || !strings.Contains(stderr, brokenAt) || !strings.Contains(stderr, dupAt) || !strings.Contains(stderr, "partial input: 2 LDIF records") {
		t.Fatalf("audit: exit %d, stderr %s", code, stderr)
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	for i, c := range rep.Checks {
		if c.Failed() || c.Name != demoCounts[i].check {
			t.Errorf("check %s failed: %s", c.Name, c.Error)
		}
		if c.Name != "snapshot-records" && c.Count != demoCounts[i].count {
			t.Errorf("check %s: %d findings, want %d as without the two records", c.Name, c.Count, demoCounts[i].count)
		}
		if c.Name == "snapshot-records" {
			if c.Count != 2 || c.Findings[0].Object != fmt.Sprintf("%s:%d", res, brokenLine) || c.Findings[1].Object != fmt.Sprintf("%s:%d", res, dupLine) {
				t.Errorf("snapshot-records: %+v", c.Findings)
			}
		}
	}
	if _, stderr, code := runCLI(t, "--config", cfg, "--strict", "audit", "--out", t.TempDir(), "-o", "json"); code != ExitBadInput || !strings.Contains(stderr, brokenAt) {
		t.Errorf("audit --strict: exit %d, stderr %s", code, stderr)
	}

	for _, args := range [][]string{
		{"dupes", "-o", "json"},
		{"sidmap", "verify", "-o", "json"},
		{"sidmap", "plan", "-o", "json"},
		{"ldap", "export", "--forest", "resforest", "-o", "json"},
		{"config", "check", "-o", "json"},
	} {
		_, stderr, code := runCLI(t, append([]string{"--config", cfg}, args...)...)
		if code != ExitRuntime || !strings.Contains(stderr, brokenAt) || !strings.Contains(stderr, dupAt) {
			t.Errorf("%v: exit %d, want 3 naming both records; stderr %s", args, code, stderr)
		}
		_, stderr, code = runCLI(t, append([]string{"--config", cfg, "--strict"}, args...)...)
		if code != ExitBadInput || !strings.Contains(stderr, brokenAt) {
			t.Errorf("--strict %v: exit %d, want 2 naming %s; stderr %s", args, code, brokenAt, stderr)
		}
	}
}
