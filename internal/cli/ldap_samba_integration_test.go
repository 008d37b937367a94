package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestIntegrationLdapCommandsSamba runs the commands against the two Samba AD forests: Kerberos
// (keytab, LDAPS) to the user forest, NTLM (StartTLS) to the resource forest, and a lookup of a
// user-forest SID in the resource forest's msExchMasterAccountSid.
func TestIntegrationLdapCommandsSamba(t *testing.T) {
	env := needEnv(t, "ABKIT_SAMBA_USER_LDAPS_URL", "ABKIT_SAMBA_USER_CA", "ABKIT_SAMBA_USER_HOST", "ABKIT_SAMBA_USER_KEYTAB",
		"ABKIT_SAMBA_KRB5_CONF", "ABKIT_SAMBA_RES_URL", "ABKIT_SAMBA_RES_CA", "ABKIT_SAMBA_RES_DOMAIN", "ABKIT_SAMBA_PASSWORD")
	cfg := writeConfig(t, fmt.Sprintf(`forests:
  - name: userforest
    url: %s
    tls: {ca_file: %s}
    bind: {method: kerberos, user: Administrator@USERFOREST.TEST, keytab: %s, krb5_conf: %s, spn: ldap/%s}
  - name: resforest
    url: %s
    starttls: true
    tls: {ca_file: %s}
    bind: {method: ntlm, domain: %s, user: Administrator, password_env: ABKIT_SAMBA_PASSWORD}
`, env["ABKIT_SAMBA_USER_LDAPS_URL"], env["ABKIT_SAMBA_USER_CA"], env["ABKIT_SAMBA_USER_KEYTAB"], env["ABKIT_SAMBA_KRB5_CONF"],
		env["ABKIT_SAMBA_USER_HOST"], env["ABKIT_SAMBA_RES_URL"], env["ABKIT_SAMBA_RES_CA"], env["ABKIT_SAMBA_RES_DOMAIN"]))
	run := func(args ...string) string {
		t.Helper()
		out, stderr, code := runCLI(t, append([]string{"--config", cfg}, args...)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return out
	}
	var checks []checkResult
	if err := json.Unmarshal([]byte(run("config", "check", "-o", "json")), &checks); err != nil || len(checks) != 2 {
		t.Fatalf("config check: %+v %v", checks, err)
	}
	for _, c := range checks {
		if !c.OK || !strings.Contains(c.Detail, "Who am I?") {
			t.Errorf("%s: %+v", c.Forest, c)
		}
	}
	var p pingResult
	if err := json.Unmarshal([]byte(run("ldap", "ping", "--forest", "userforest", "-o", "json")), &p); err != nil ||
		p.Transport != "ldaps" || !strings.HasPrefix(p.BoundAs, "kerberos Administrator@USERFOREST.TEST") ||
		!strings.EqualFold(p.Base, "DC=userforest,DC=test") || !p.PagingSupported {
		t.Errorf("ping: %+v %v", p, err)
	}
	var users []exportRecord
	if err := json.Unmarshal([]byte(run("ldap", "find", "--forest", "userforest", "--sam", "alice", "-o", "json")), &users); err != nil || len(users) != 1 {
		t.Fatalf("user alice: %v", err)
	}
	sid := users[0].Attributes["objectSid"][0]
	var linked []exportRecord
	if err := json.Unmarshal([]byte(run("ldap", "find", "--forest", "resforest", "--sid", sid, "-o", "json")), &linked); err != nil ||
		len(linked) != 1 || linked[0].Attributes["msExchMasterAccountSid"][0] != sid || linked[0].Attributes["sAMAccountName"][0] != "alice" {
		t.Errorf("resource account linked to %s: %+v %v", sid, linked, err)
	}
	// The resource forest exports every SIP-enabled object, the disabled accounts included.
	var res []exportRecord
	if err := json.Unmarshal([]byte(run("ldap", "export", "--forest", "resforest", "-o", "json")), &res); err != nil || len(res) < 35 {
		t.Errorf("resource forest export: %d records, %v", len(res), err)
	}
}
