//go:build !windows

package rtcdb

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/microsoft/go-mssqldb/integratedauth"
)

// TestIntegrationCurrentUserKerberos: no SQL Server runs here, so this stops at the first step
// of the login: go-mssqldb's Kerberos authenticator, configured by the DSN auth current-user
// builds, reads the credential cache a real kinit filled against the Samba KDC and obtains a
// service ticket (its SPNEGO token is what LOGIN7 would carry). The Samba DC's ldap/ principal
// stands in for SQL Server's MSSQLSvc/ one.
func TestIntegrationCurrentUserKerberos(t *testing.T) {
	var env = map[string]string{}
	for _, k := range []string{"ABKIT_SAMBA_USER_KEYTAB", "ABKIT_SAMBA_KRB5_CONF", "ABKIT_SAMBA_USER_HOST"} {
		if env[k] = os.Getenv(k); env[k] == "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not set: the Samba test server did not start", k)
			}
			t.Skipf("%s is not set: start testdata/samba/server.sh", k)
		}
	}
	if _, err := exec.LookPath("kinit"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("kinit is not installed (Debian package krb5-user)")
		}
		t.Skip("kinit is not installed")
	}
	cc := filepath.Join(t.TempDir(), "krb5cc")
	cmd := exec.Command("kinit", "-k", "-t", env["ABKIT_SAMBA_USER_KEYTAB"], "Administrator@USERFOREST.TEST")
	cmd.Env = append(os.Environ(), "KRB5CCNAME=FILE:"+cc, "KRB5_CONFIG="+env["ABKIT_SAMBA_KRB5_CONF"])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kinit: %v\n%s", err, out)
	}
	o := Options{Server: "sql01", Auth: "current-user", CCache: cc, Krb5Conf: env["ABKIT_SAMBA_KRB5_CONF"]}
	_, cfg, err := o.dsn()
	if err != nil {
		t.Fatal(err)
	}
	token := func(spn string) ([]byte, error) {
		cfg.ServerSPN = spn
		auth, err := integratedauth.GetIntegratedAuthenticator(cfg)
		if err != nil {
			return nil, err
		}
		defer auth.Free()
		return auth.InitialBytes()
	}
	tok, err := token("ldap/" + env["ABKIT_SAMBA_USER_HOST"])
	if err != nil || len(tok) < 100 {
		t.Fatalf("SPNEGO token from the credential cache: %d bytes, %v", len(tok), err)
	}
	// The KDC is really asked: an unknown service principal fails.
	if _, err := token("MSSQLSvc/nosuchhost.userforest.test:1433"); err == nil {
		t.Error("a ticket for an unknown service principal")
	}
}
