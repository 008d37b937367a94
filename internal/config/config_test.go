package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	c, err := Parse(strings.NewReader(`
forests:
  - name: userforest
    url: ldaps://dc1.contoso.test
    base: dc=contoso,dc=test
    bind: {method: ntlm, user: admin, domain: CONTOSO, password_env: USERFOREST_PASSWORD}
  - name: resforest
    ldif: snapshots/res.ldif
rtc:
  server: sql01
  instance: RTC
  auth: ntlm
sidmap:
  user_forest: userforest
  resource_forest: RESFOREST
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Forests) != 2 || !c.Forests[0].Live() || c.Forests[1].Live() {
		t.Fatalf("forests = %+v", c.Forests)
	}
	if f, err := c.Forest("ResForest"); err != nil || f.LDIF != "snapshots/res.ldif" {
		t.Errorf("Forest(ResForest) = %+v, %v", f, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown key", "forests:\n  - name: a\n    ldif: x\n    pasword_env: X\n", "pasword_env"},
		{"no source", "forests:\n  - name: a\n", "forests[0] (a): one of url or ldif"},
		{"both sources", "forests:\n  - name: a\n    url: ldap://x\n    ldif: y\n", "mutually exclusive"},
		{"bad scheme", "forests:\n  - name: a\n    url: http://x\n", "ldap:// or ldaps://"},
		{"duplicate name", "forests:\n  - {name: a, ldif: x}\n  - {name: A, ldif: y}\n", "used twice"},
		{"bad bind", "forests:\n  - {name: a, ldif: x, bind: {method: digest}}\n", "unknown method"},
		{"starttls on ldaps", "forests:\n  - {name: a, url: 'ldaps://x', starttls: true}\n", "starttls"},
		{"rtc auth", "rtc: {server: s, auth: basic}\n", "rtc: auth"},
		{"current-user with a user", "forests:\n  - {name: a, url: 'ldap://x', bind: {method: current-user, user: bob}}\n", "current-user signs in as the logged-on account"},
		{"rtc current-user with a password", "rtc: {server: s, auth: current-user, password_env: PW}\n", "current-user signs in as the logged-on account"},
		{"sidmap forest", "forests:\n  - {name: a, ldif: x}\nsidmap: {user_forest: a, resource_forest: b}\n", `no forest named "b"`},
		{"sidmap user forests", "forests:\n  - {name: a, ldif: x}\n  - {name: r, ldif: y}\nsidmap: {user_forests: [a, c], resource_forest: r}\n", `no forest named "c"`},
		{"sidmap no user forest", "forests:\n  - {name: r, ldif: y}\nsidmap: {resource_forest: r}\n", "user_forest (or user_forests)"},
		{"sidmap topology", "forests:\n  - {name: a, ldif: x}\n  - {name: r, ldif: y}\nsidmap: {user_forest: a, resource_forest: r, topology: hub}\n", `topology "hub"`},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.yaml))
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%s: err = %v, want *config.Error", tt.name, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %q does not contain %q", tt.name, err.Error(), tt.want)
		}
	}
}

func TestParseRTCFrontEnds(t *testing.T) {
	c, err := Parse(strings.NewReader("rtc: {server: be, pool: p1, front_ends: [{server: fe1}, {server: fe2, port: 5000}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.RTC.Pool != "p1" || len(c.RTC.FrontEnds) != 2 || c.RTC.FrontEnds[1].Port != 5000 {
		t.Errorf("parsed %+v", c.RTC)
	}
	for yaml, want := range map[string]string{
		"rtc: {server: s, front_ends: [{port: 1433}]}\n":               "rtc: front_ends[0]: server (or dsn_env) is required",
		"rtc: {server: s, front_ends: [{server: fe1, instanse: X}]}\n": "instanse",
	} {
		if _, err := Parse(strings.NewReader(yaml)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", yaml, err, want)
		}
	}
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "abkit.yaml")
	if err := os.WriteFile(path, []byte("forests:\n  - {name: a, ldif: a.ldif, tls: {ca_file: /etc/ca.pem}}\nabs: {folder: abs}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Forests[0].LDIF; got != filepath.Join(dir, "a.ldif") {
		t.Errorf("ldif = %q", got)
	}
	if got := c.Forests[0].TLS.CAFile; got != "/etc/ca.pem" {
		t.Errorf("absolute ca_file changed to %q", got)
	}
	if got := c.ABS.Folder; got != filepath.Join(dir, "abs") {
		t.Errorf("abs folder = %q", got)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file error %v does not name the file", err)
	}
}

func TestSidmapUsers(t *testing.T) {
	c, err := Parse(strings.NewReader("forests:\n  - {name: a, ldif: x}\n  - {name: b, ldif: y}\n  - {name: r, ldif: z}\nsidmap: {user_forest: a, user_forests: [A, b], resource_forest: r, topology: central}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Sidmap.Users(); strings.Join(got, ",") != "a,b" {
		t.Errorf("Users() = %v, want [a b]", got)
	}
}

func TestParseCurrentUser(t *testing.T) {
	c, err := Parse(strings.NewReader("forests:\n  - {name: a, url: 'ldap://dc', bind: {method: current-user, spn: ldap/dc.contoso.com}}\nrtc: {server: sql01, auth: current-user}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Forests[0].Bind.Method != "current-user" || c.RTC.Auth != "current-user" {
		t.Errorf("parsed %+v, %+v", c.Forests[0].Bind, c.RTC)
	}
}
