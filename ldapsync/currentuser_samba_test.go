//go:build !windows

package ldapsync

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// kinit signs principal in with the real kinit against the Samba KDC, into a new credential
// cache, reading the password from stdin when keytab is "". It returns the cache's path.
func kinit(t *testing.T, krb5, principal, keytab, password string) string {
	t.Helper()
	if _, err := exec.LookPath("kinit"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("kinit is not installed (Debian package krb5-user; testdata/samba/server.sh installs it)")
		}
		t.Skip("kinit is not installed (Debian package krb5-user)")
	}
	cc := filepath.Join(t.TempDir(), "krb5cc")
	args := []string{principal}
	if keytab != "" {
		args = []string{"-k", "-t", keytab, principal}
	}
	cmd := exec.Command("kinit", args...)
	cmd.Env = append(os.Environ(), "KRB5CCNAME=FILE:"+cc, "KRB5_CONFIG="+krb5)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kinit %s: %v\n%s", principal, err, out)
	}
	return cc
}

// TestIntegrationSambaCurrentUser signs in with kinit (keytab, and password on stdin) and binds
// with method current-user from the credential cache alone: no user, no password, no keytab in
// the options. Reading an account anonymous cannot see proves the bind is authenticated.
func TestIntegrationSambaCurrentUser(t *testing.T) {
	env := sambaEnv(t)
	keytab := needEnv(t, "ABKIT_SAMBA_USER_KEYTAB")["ABKIT_SAMBA_USER_KEYTAB"]
	krb5, host := env["ABKIT_SAMBA_KRB5_CONF"], env["ABKIT_SAMBA_USER_HOST"]
	caches := map[string]string{
		"keytab":   kinit(t, krb5, "Administrator@USERFOREST.TEST", keytab, ""),
		"password": kinit(t, krb5, "alice@USERFOREST.TEST", "", env["ABKIT_SAMBA_PASSWORD"]),
	}
	for name, cc := range caches {
		for _, url := range []string{env["ABKIT_SAMBA_USER_URL"], env["ABKIT_SAMBA_USER_LDAPS_URL"]} {
			f := dialT(t, Options{Name: name, URL: url, TLS: TLSOptions{CAFile: env["ABKIT_SAMBA_USER_CA"]},
				Bind: Bind{Method: BindCurrentUser, CCache: cc, Krb5Conf: krb5, SPN: "ldap/" + host}})
			got := collect(t, f, SearchRequest{Filter: "(sAMAccountName=bob)"})
			if len(got) != 1 || got[0].SID.IsZero() {
				t.Errorf("current-user (kinit with %s) on %s: bob not readable (%d objects): the bind is not authenticated", name, url, len(got))
			}
			if want := "current-user (credential cache " + cc + ")"; f.BoundAs() != want {
				t.Errorf("BoundAs %q, want %q", f.BoundAs(), want)
			}
		}
	}
	// No cache: a bind error that says to sign in first.
	_, err := Dial(context.Background(), Options{Name: "nocache", URL: env["ABKIT_SAMBA_USER_URL"],
		Bind: Bind{Method: BindCurrentUser, CCache: filepath.Join(t.TempDir(), "none"), Krb5Conf: krb5}})
	var be *BindError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "kinit") {
		t.Errorf("current-user without a credential cache: %v, want a BindError naming kinit", err)
	}
	// A cache whose tickets the KDC no longer honours: kdestroy empties it.
	cc := kinit(t, krb5, "Administrator@USERFOREST.TEST", keytab, "")
	cmd := exec.Command("kdestroy")
	cmd.Env = append(os.Environ(), "KRB5CCNAME=FILE:"+cc, "KRB5_CONFIG="+krb5)
	_ = cmd.Run()
	if _, err := Dial(context.Background(), Options{Name: "destroyed", URL: env["ABKIT_SAMBA_USER_URL"],
		Bind: Bind{Method: BindCurrentUser, CCache: cc, Krb5Conf: krb5, SPN: "ldap/" + host}}); !errors.As(err, &be) {
		t.Errorf("current-user after kdestroy: %v, want a BindError", err)
	}
}
