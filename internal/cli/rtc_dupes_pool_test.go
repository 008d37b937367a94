package cli

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abkit/abkit/rtcdb"
	"github.com/abkit/abkit/rtcdb/rtcdbtest"
	"github.com/go-ldap/ldap/v3"
)

// dupes fix --rtc and dupes undo on a Lync pool (three responders in the rtcab layout: the back
// end and two Front End RTCLOCAL instances), with the forests on the real slapd: the second Front
// End refuses the DELETE, the other copies change, the output says which, and undo restores them.
func TestDupesFixOnPoolSlapd(t *testing.T) {
	env := needEnv(t, "ABKIT_SLAPD_URL", "ABKIT_SLAPD_USER_BASE", "ABKIT_SLAPD_RES_BASE",
		"ABKIT_SLAPD_USER_BIND_DN", "ABKIT_SLAPD_RES_BIND_DN", "ABKIT_SLAPD_PASSWORD")
	var tag [4]byte
	if _, err := rand.Read(tag[:]); err != nil {
		t.Fatal(err)
	}
	run := fmt.Sprintf("pool-%x", tag)
	sip := "sip:alice-" + run + "@dupes.test"
	type planted struct{ forest, base, dn string }
	var objs []planted
	var guids []rtcdb.GUID
	for i, fr := range []struct{ base, bind, class string }{
		{env["ABKIT_SLAPD_USER_BASE"], env["ABKIT_SLAPD_USER_BIND_DN"], "user"},
		{env["ABKIT_SLAPD_RES_BASE"], env["ABKIT_SLAPD_RES_BIND_DN"], "group"},
	} {
		c, err := ldap.DialURL(env["ABKIT_SLAPD_URL"])
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Bind(fr.bind, env["ABKIT_SLAPD_PASSWORD"]); err != nil {
			t.Fatal(err)
		}
		base := "OU=" + run + "," + fr.base
		ou := ldap.NewAddRequest(base, nil)
		ou.Attribute("objectClass", []string{"organizationalUnit"})
		ou.Attribute("ou", []string{run})
		if err := c.Add(ou); err != nil {
			t.Fatal(err)
		}
		var g rtcdb.GUID
		if _, err := rand.Read(g[:]); err != nil {
			t.Fatal(err)
		}
		dn := "CN=Alice " + fr.class + "," + base
		add := ldap.NewAddRequest(dn, nil)
		add.Attribute("objectGUID", []string{string(g[:])})
		add.Attribute("cn", []string{"Alice " + fr.class})
		add.Attribute("objectClass", []string{fr.class})
		if fr.class == "user" {
			add.Attribute("sn", []string{"Alice"})
			add.Attribute("userAccountControl", []string{"544"})
			add.Attribute("msRTCSIP-PrimaryUserAddress", []string{sip})
			add.Attribute("msRTCSIP-UserEnabled", []string{"TRUE"})
		} else {
			add.Attribute("groupType", []string{"-2147483640"})
			add.Attribute("proxyAddresses", []string{"SMTP:sales-" + run + "@dupes.test", sip})
		}
		if err := c.Add(add); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = c.Del(ldap.NewDelRequest(dn, nil))
			_ = c.Del(ldap.NewDelRequest(base, nil))
		})
		objs = append(objs, planted{[]string{"userforest", "resforest"}[i], base, dn})
		guids = append(guids, g)
	}
	var fs []*rtcdbtest.Fake
	for range 3 {
		f := rtcdbtest.NewRTCAB(t)
		for i, g := range guids {
			f.SeedAB(g, int64(100+i), []byte("\x00"+sip+"\x00"), objs[i].dn)
		}
		fs = append(fs, f)
	}
	fs[2].FailOn("DELETE", 229, "The DELETE permission was denied on the object 'AbDnMapping'.")
	t.Setenv("DUPES_POOL_PW", env["ABKIT_SLAPD_PASSWORD"])
	t.Setenv("ABKIT_TEST_RTC_PASSWORD", "secret")
	cfg := "forests:\n"
	for i, b := range []string{env["ABKIT_SLAPD_USER_BIND_DN"], env["ABKIT_SLAPD_RES_BIND_DN"]} {
		cfg += fmt.Sprintf("  - name: %s\n    url: %s\n    base: %q\n    bind: {method: simple, dn: %q, password_env: DUPES_POOL_PW}\n",
			objs[i].forest, env["ABKIT_SLAPD_URL"], objs[i].base, b)
	}
	cfg += fmt.Sprintf("rtc:\n  pool: pool01\n  server: 127.0.0.1\n  port: %d\n  user: tester\n  password_env: ABKIT_TEST_RTC_PASSWORD\n  encrypt: disable\n"+
		"  front_ends:\n    - {server: 127.0.0.1, port: %d}\n    - {server: 127.0.0.1, port: %d}\n", fs[0].Port(), fs[1].Port(), fs[2].Port())
	cfgPath := writeConfig(t, cfg)

	undo := filepath.Join(t.TempDir(), "undo")
	_, stderr, code := runCLI(t, "dupes", "fix", "--config", cfgPath, "--rtc", "--yes", "--undo-dir", undo)
	if code != ExitRuntime {
		t.Fatalf("fix: exit %d, want 3 (one copy failed)\n%s", code, stderr)
	}
	be, fe1, fe2 := copyName(fs[0], false), copyName(fs[1], true), copyName(fs[2], true)
	for _, want := range []string{"Update-CsAddressBook", "1 of 3 copies failed (" + fe2 + ": ", "changed: " + be + ", " + fe1} {
		if !strings.Contains(stderr, want) {
			t.Errorf("fix: stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, not := range []string{"regenUR", "(none deleted)"} {
		if strings.Contains(stderr, not) {
			t.Errorf("fix: stderr says %q:\n%s", not, stderr)
		}
	}
	group, user := guids[1], guids[0]
	for i, f := range fs {
		if _, _, ok := f.RowAB(group); ok != (i == 2) {
			t.Errorf("copy %d: the group's row present = %v", i, ok)
		}
		if _, _, ok := f.RowAB(user); !ok {
			t.Errorf("copy %d: the user's row was deleted", i)
		}
	}

	_, stderr, code = runCLI(t, "dupes", "undo", undo, "--config", cfgPath, "--yes")
	if code != ExitOK {
		t.Fatalf("undo: exit %d\n%s", code, stderr)
	}
	for i, f := range fs {
		if id, dn, ok := f.RowAB(group); !ok || id != 101 || dn != objs[1].dn {
			t.Errorf("copy %d after undo: %d %q %v", i, id, dn, ok)
		}
	}
}
