package rtcdb

import (
	"strings"
	"testing"
)

// TestCurrentUserDSN: auth current-user asks go-mssqldb for SSPI on Windows and for Kerberos
// with the credential cache elsewhere, never with a user or password.
func TestCurrentUserDSN(t *testing.T) {
	defer func(os string) { targetOS = os }(targetOS)
	o := Options{Server: "sql01", Auth: "current-user", CCache: "/tmp/krb5cc_1000", Krb5Conf: "/etc/krb5.conf"}
	for _, tc := range []struct {
		os         string
		want, lack []string
	}{
		{"linux", []string{"authenticator=krb5", "krb5-credcachefile=%2Ftmp%2Fkrb5cc_1000", "krb5-configfile=%2Fetc%2Fkrb5.conf"}, []string{"@", "winsspi"}},
		{"windows", []string{"authenticator=winsspi"}, []string{"@", "krb5"}},
	} {
		targetOS = tc.os
		dsn, cfg, err := o.dsn()
		if err != nil {
			t.Fatalf("%s: %v", tc.os, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(dsn, w) {
				t.Errorf("%s: DSN %q lacks %q", tc.os, dsn, w)
			}
		}
		for _, w := range tc.lack {
			if strings.Contains(dsn, w) {
				t.Errorf("%s: DSN %q has %q", tc.os, dsn, w)
			}
		}
		if cfg.User != "" || cfg.Password != "" {
			t.Errorf("%s: a user or password in the DSN: %q", tc.os, cfg.User)
		}
	}
	o.User = `CONTOSO\admin`
	if _, _, err := o.dsn(); !IsKind(err, KindBadInput) || !strings.Contains(err.Error(), "current-user") {
		t.Errorf("current-user with a user: %v, want bad input", err)
	}
}
