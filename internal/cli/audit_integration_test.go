package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/abkit/abkit/internal/audit"
	"github.com/go-ldap/ldap/v3"
)

// auditLoadDemoForest adds the demo entries of one forest to slapd under a fresh OU of suffix
// (dc=<forest>,dc=test becomes ou=<ou>,dc=<forest>,dc=test) and returns that OU's DN. The
// entries are deleted when the test ends.
func auditLoadDemoForest(t *testing.T, url, bindDN, password, forest, ou string, entries []*ldap.Entry) string {
	t.Helper()
	conn, err := ldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Bind(bindDN, password); err != nil {
		t.Fatal(err)
	}
	suffix := ",dc=" + forest + ",dc=test"
	base := "ou=" + ou + suffix
	add := func(dn string, attrs []*ldap.EntryAttribute) {
		req := ldap.NewAddRequest(dn, nil)
		for _, a := range attrs {
			req.Attribute(a.Name, a.Values)
		}
		if err := conn.Add(req); err != nil {
			t.Fatalf("add %s: %v", dn, err)
		}
	}
	add(base, []*ldap.EntryAttribute{{Name: "objectClass", Values: []string{"top", "organizationalUnit"}}, {Name: "ou", Values: []string{ou}}})
	var added []string
	for _, e := range entries[1:] { // entries[0] is the domain object, which slapd already has
		dn := strings.TrimSuffix(e.DN, suffix) + "," + base
		add(dn, e.Attributes)
		added = append(added, dn)
	}
	t.Cleanup(func() {
		for _, dn := range slices.Backward(append([]string{base}, added...)) {
			if err := conn.Del(ldap.NewDelRequest(dn, nil)); err != nil {
				t.Errorf("clean up %s: %v", dn, err)
			}
		}
	})
	return base
}

// TestIntegrationAuditSlapd runs `abkit audit` on the demo forests served live by slapd (LDAPS
// with the test CA, simple binds, paged searches) instead of LDIF snapshots: the findings must be
// those of the snapshots.
func TestIntegrationAuditSlapd(t *testing.T) {
	env := needEnv(t, "ABKIT_SLAPD_URL", "ABKIT_SLAPD_LDAPS_URL", "ABKIT_SLAPD_CA", "ABKIT_SLAPD_USER_BIND_DN",
		"ABKIT_SLAPD_RES_BIND_DN", "ABKIT_SLAPD_PASSWORD")
	ou := fmt.Sprintf("audit%d", time.Now().UnixNano())
	userBase := auditLoadDemoForest(t, env["ABKIT_SLAPD_URL"], env["ABKIT_SLAPD_USER_BIND_DN"], env["ABKIT_SLAPD_PASSWORD"], "userforest", ou, demoUserForest())
	resBase := auditLoadDemoForest(t, env["ABKIT_SLAPD_URL"], env["ABKIT_SLAPD_RES_BIND_DN"], env["ABKIT_SLAPD_PASSWORD"], "resforest", ou, demoResourceForest())

	t.Setenv("ABKIT_TEST_AUDIT_PASSWORD", env["ABKIT_SLAPD_PASSWORD"])
	demo, err := filepath.Abs(demoDir)
	if err != nil {
		t.Fatal(err)
	}
	forest := func(name, base, bindDN string) string {
		return fmt.Sprintf("  - name: %s\n    url: %s\n    base: %q\n    page_size: 5\n    tls: {ca_file: %s}\n    bind: {method: simple, dn: %q, password_env: ABKIT_TEST_AUDIT_PASSWORD}\n",
			name, env["ABKIT_SLAPD_LDAPS_URL"], base, env["ABKIT_SLAPD_CA"], bindDN)
	}
	cfg := writeConfig(t, "forests:\n"+
		forest("userforest", userBase, env["ABKIT_SLAPD_USER_BIND_DN"])+
		forest("resforest", resBase, env["ABKIT_SLAPD_RES_BIND_DN"])+
		"abs: {folder: "+filepath.Join(demo, "abs")+", rules: "+filepath.Join(demo, "abs", "Company_Phone_Number_Normalization_Rules.txt")+"}\n"+
		"sidmap: {user_forest: userforest, resource_forest: resforest}\n")

	stdout, stderr, code := runAudit(t, cfg, demoRunTime, "--out", t.TempDir())
	if code != ExitFindings {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitFindings, stderr)
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Checks) != len(demoCounts) {
		t.Fatalf("%d checks: %+v", len(rep.Checks), rep.Checks)
	}
	for i, want := range demoCounts {
		c := rep.Checks[i]
		if c.Name != want.check || c.Count != want.count || c.Failed() {
			t.Errorf("%s: %d findings, error %q; want %s: %d", c.Name, c.Count, c.Error, want.check, want.count)
		}
	}
	// The objects are the live ones.
	if obj := rep.Checks[4].Findings[0].Object; !strings.EqualFold(obj, "cn=Oscar Olsen,ou=Users,"+userBase) {
		t.Errorf("disabled-sip object %q is not under %s", obj, userBase)
	}
}
