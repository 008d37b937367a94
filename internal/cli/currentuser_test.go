package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestKerberosDefaults(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name       string
		env        map[string]string
		goos       string
		cc, conf   string
		errMention string
	}{
		{"default cache", nil, "linux", "/tmp/krb5cc_1000", "", ""},
		{"file cache", map[string]string{"KRB5CCNAME": "FILE:/run/user/1000/cc", "KRB5_CONFIG": "/etc/k.conf"}, "linux", "/run/user/1000/cc", "/etc/k.conf", ""},
		{"bare path", map[string]string{"KRB5CCNAME": "/tmp/mine"}, "darwin", "/tmp/mine", "", ""},
		{"keyring", map[string]string{"KRB5CCNAME": "KEYRING:persistent:1000"}, "linux", "", "", "KEYRING credential cache"},
		{"macOS API cache", map[string]string{"KRB5CCNAME": "API:ABC"}, "darwin", "", "", "FILE:/tmp/krb5cc_1000"},
		{"windows", map[string]string{"KRB5CCNAME": "FILE:/x"}, "windows", "", "", ""},
	}
	for _, tt := range tests {
		cc, conf, err := kerberosDefaults(env(tt.env), tt.goos, 1000)
		if tt.errMention != "" {
			if err == nil || !strings.Contains(err.Error(), tt.errMention) {
				t.Errorf("%s: %v, want an error mentioning %q", tt.name, err, tt.errMention)
			}
			continue
		}
		if err != nil || cc != tt.cc || conf != tt.conf {
			t.Errorf("%s: %q %q %v, want %q %q", tt.name, cc, conf, err, tt.cc, tt.conf)
		}
	}
}

// TestIntegrationCurrentUserSamba: after a real kinit (KRB5CCNAME and KRB5_CONFIG set as a
// signed-in admin's shell has them), `ldap ping` and `ldap find` with bind method current-user
// need no user, password or keytab in the configuration.
func TestIntegrationCurrentUserSamba(t *testing.T) {
	env := needEnv(t, "ABKIT_SAMBA_USER_URL", "ABKIT_SAMBA_USER_HOST", "ABKIT_SAMBA_USER_KEYTAB", "ABKIT_SAMBA_KRB5_CONF")
	if _, err := exec.LookPath("kinit"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("kinit is not installed (Debian package krb5-user; testdata/samba/server.sh installs it)")
		}
		t.Skip("kinit is not installed")
	}
	cc := filepath.Join(t.TempDir(), "krb5cc")
	t.Setenv("KRB5CCNAME", "FILE:"+cc)
	t.Setenv("KRB5_CONFIG", env["ABKIT_SAMBA_KRB5_CONF"])
	if out, err := exec.Command("kinit", "-k", "-t", env["ABKIT_SAMBA_USER_KEYTAB"], "Administrator@USERFOREST.TEST").CombinedOutput(); err != nil {
		t.Fatalf("kinit: %v\n%s", err, out)
	}
	cfg := writeConfig(t, fmt.Sprintf("forests:\n  - name: userforest\n    url: %s\n    bind: {method: current-user, spn: ldap/%s}\n",
		env["ABKIT_SAMBA_USER_URL"], env["ABKIT_SAMBA_USER_HOST"]))
	out, stderr, code := runCLI(t, "--config", cfg, "ldap", "ping", "--forest", "userforest", "-o", "json")
	var p pingResult
	if code != ExitOK || json.Unmarshal([]byte(out), &p) != nil || !strings.HasPrefix(p.BoundAs, "current-user (credential cache "+cc+")") {
		t.Fatalf("ping: exit %d, %+v, %s", code, p, stderr)
	}
	out, stderr, code = runCLI(t, "--config", cfg, "ldap", "find", "--forest", "userforest", "--sam", "alice", "-o", "json")
	var users []exportRecord
	if code != ExitOK || json.Unmarshal([]byte(out), &users) != nil || len(users) != 1 {
		t.Fatalf("find alice as the signed-in user: exit %d, %s %s", code, out, stderr)
	}
	// Signed out: the command fails with the sign-in advice, not as an anonymous read.
	t.Setenv("KRB5CCNAME", "FILE:"+cc+".gone")
	if _, stderr, code := runCLI(t, "--config", cfg, "ldap", "ping", "--forest", "userforest"); code == ExitOK || !strings.Contains(stderr, "kinit") {
		t.Errorf("without a credential cache: exit %d, %s", code, stderr)
	}
}
