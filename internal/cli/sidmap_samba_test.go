package cli

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
	"github.com/go-ldap/ldap/v3"
)

// sambaConn is an administrator connection to one Samba forest, for creating and removing the
// test's own objects.
type sambaConn struct {
	t     *testing.T
	conn  *ldap.Conn
	added []string // DNs in creation order, removed in reverse
}

func dialSamba(t *testing.T, url, bind, password string) *sambaConn {
	t.Helper()
	conn, err := ldap.DialURL(url)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Bind(bind, password); err != nil {
		conn.Close()
		t.Fatal(err)
	}
	s := &sambaConn{t: t, conn: conn}
	t.Cleanup(func() {
		for i := len(s.added) - 1; i >= 0; i-- {
			if err := conn.Del(ldap.NewDelRequest(s.added[i], nil)); err != nil {
				t.Errorf("cleanup: delete %s: %v", s.added[i], err)
			}
		}
		conn.Close()
	})
	return s
}

// add creates an entry; values are strings or []byte.
func (s *sambaConn) add(dn string, attrs map[string][]any) {
	s.t.Helper()
	req := ldap.NewAddRequest(dn, nil)
	names := make([]string, 0, len(attrs))
	for a := range attrs {
		names = append(names, a)
	}
	sort.Strings(names)
	for _, a := range names {
		var vs []string
		for _, v := range attrs[a] {
			switch v := v.(type) {
			case string:
				vs = append(vs, v)
			case []byte:
				vs = append(vs, string(v))
			}
		}
		req.Attribute(a, vs)
	}
	if err := s.conn.Add(req); err != nil {
		s.t.Fatalf("add %s: %v", dn, err)
	}
	s.added = append(s.added, dn)
}

// search returns the entries under base matching filter.
func (s *sambaConn) search(base, filter string, attrs ...string) []*ldap.Entry {
	s.t.Helper()
	res, err := s.conn.Search(ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
	if err != nil {
		s.t.Fatalf("search %s %s: %v", base, filter, err)
	}
	return res.Entries
}

// sid reads the objectSid Samba allocated to dn.
func (s *sambaConn) sid(dn string) ldapsync.SID {
	s.t.Helper()
	es := s.search(dn, "(objectClass=*)", "objectSid")
	if len(es) == 0 {
		s.t.Fatalf("%s not found", dn)
	}
	sid, err := ldapsync.ParseSIDBytes(es[0].GetRawAttributeValue("objectSid"))
	if err != nil {
		s.t.Fatalf("%s: %v", dn, err)
	}
	return sid
}

// TestSidmapIntegrationSambaTwoForests creates users in the Samba user forest (SIDs allocated by
// Samba) and matching disabled accounts in the resource forest — two linked by
// msExchMasterAccountSid, two matched by sAMAccountName, one ambiguous (two users share its mail),
// one orphan — then plans, applies, verifies and undoes through the command line.
func TestSidmapIntegrationSambaTwoForests(t *testing.T) {
	env := needEnv(t, "ABKIT_SAMBA_USER_URL", "ABKIT_SAMBA_RES_URL", "ABKIT_SAMBA_USER_BASE", "ABKIT_SAMBA_RES_BASE",
		"ABKIT_SAMBA_USER_BIND", "ABKIT_SAMBA_RES_BIND", "ABKIT_SAMBA_PASSWORD")
	pw := env["ABKIT_SAMBA_PASSWORD"]
	uconn := dialSamba(t, env["ABKIT_SAMBA_USER_URL"], env["ABKIT_SAMBA_USER_BIND"], pw)
	rconn := dialSamba(t, env["ABKIT_SAMBA_RES_URL"], env["ABKIT_SAMBA_RES_BIND"], pw)

	// Our own OUs and names, so that other tests' objects are neither seen nor touched.
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	tag := hex.EncodeToString(rnd[:])
	uou := "OU=sidmap-" + tag + "," + env["ABKIT_SAMBA_USER_BASE"]
	rou := "OU=sidmap-" + tag + "," + env["ABKIT_SAMBA_RES_BASE"]
	uconn.add(uou, map[string][]any{"objectClass": {"organizationalUnit"}})
	rconn.add(rou, map[string][]any{"objectClass": {"organizationalUnit"}})

	sam := func(name string) string { return "sm" + tag[:6] + name } // at most 20 characters
	users := map[string]ldapsync.SID{}
	for _, name := range []string{"ann", "ben", "cat", "dan", "eve", "eva", "fay"} {
		dn := "CN=" + sam(name) + "," + uou
		mail := sam(name) + "@contoso.com"
		if name == "eve" || name == "eva" {
			mail = sam("shared") + "@contoso.com"
		}
		// userAccountControl 544 = NORMAL_ACCOUNT | PASSWD_NOTREQD: enabled without a password.
		uconn.add(dn, map[string][]any{"objectClass": {"user"}, "sAMAccountName": {sam(name)}, "userAccountControl": {"544"},
			"mail": {mail}, "displayName": {"User " + name}, "title": {"Title " + name}})
		users[name] = uconn.sid(dn)
	}
	res := func(cn string, extra map[string][]any) {
		a := map[string][]any{"objectClass": {"user"}, "userAccountControl": {"514"},
			"msRTCSIP-UserEnabled": {"TRUE"}, "msRTCSIP-PrimaryUserAddress": {"sip:" + cn + "@contoso.com"},
			"sAMAccountName": {"r" + tag[:6] + cn}}
		for k, v := range extra {
			a[k] = v
		}
		rconn.add("CN="+cn+","+rou, a)
	}
	res("ann", map[string][]any{"msExchMasterAccountSid": {users["ann"].Bytes()}})
	res("cat", map[string][]any{"msExchMasterAccountSid": {users["cat"].Bytes()}})
	res("ben", map[string][]any{"sAMAccountName": {sam("ben")}})
	res("dan", map[string][]any{"sAMAccountName": {sam("dan")}})
	// fay's account carries her SID already, but as text (Samba stores what a client wrote).
	res("fay", map[string][]any{"sAMAccountName": {sam("fay")}, "msRTCSIP-OriginatorSid": {users["fay"].String()}})
	res("amb", map[string][]any{"mail": {sam("shared") + "@contoso.com"}})
	res("orphan", nil)

	t.Setenv("ABKIT_SIDMAP_SAMBA_PW", pw)
	cfg := writeConfig(t, fmt.Sprintf(`forests:
  - {name: users, url: %q, base: %q, bind: {method: simple, user: %q, password_env: ABKIT_SIDMAP_SAMBA_PW}}
  - {name: res, url: %q, base: %q, bind: {method: simple, user: %q, password_env: ABKIT_SIDMAP_SAMBA_PW}}
sidmap: {user_forest: users, resource_forest: res, match: [master-sid, sam, mail]}
`, env["ABKIT_SAMBA_USER_URL"], uou, env["ABKIT_SAMBA_USER_BIND"], env["ABKIT_SAMBA_RES_URL"], rou, env["ABKIT_SAMBA_RES_BIND"]))
	dir := t.TempDir()
	cli := cliExpecting(t, cfg)

	planPath := filepath.Join(dir, "plan.json")
	cli(ExitOK, "sidmap", "plan", "-w", planPath)
	p := readPlan(t, planPath)
	want := map[string]string{
		"ann": "set master-sid ann", "cat": "set master-sid cat", "ben": "set sam ben", "dan": "set sam dan",
		"fay": "set sam fay", "amb": "conflict mail ", "orphan": "conflict  ",
	}
	mapped := map[string]string{} // user name → resource DN
	for _, r := range p.Rows {
		cn := strings.TrimPrefix(strings.SplitN(r.ResourceDN, ",", 2)[0], "CN=")
		user := ""
		for name, sid := range users {
			if r.ProposedSID == sid && r.UserDN != "" {
				user = name
			}
		}
		if got := string(r.Action) + " " + r.Rule + " " + user; got != want[cn] {
			t.Errorf("%s: %q (%s), want %q", cn, got, r.Reason, want[cn])
		}
		if r.Action == sidmap.ActionSet {
			mapped[user] = r.ResourceDN
		}
		delete(want, cn)
	}
	if len(want) != 0 {
		t.Fatalf("rows missing for %v", want)
	}

	_, stderr := cli(ExitOK, "sidmap", "apply", planPath, "--yes")
	// Samba does not offer LDAP transactions: the changes go one by one.
	if !strings.Contains(stderr, "5 changes: 5 applied, 0 already done, 0 refused, 0 failed, 0 in flight, 0 not attempted; 0 transactions") {
		t.Errorf("apply: %s", stderr)
	}
	// Zero findings except the planted conflicts.
	out, _ := cli(ExitFindings, "sidmap", "verify")
	lines := strings.Split(strings.TrimSpace(out), "\n")[1:]
	sort.Strings(lines)
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "CN=amb,"+rou+"\tmissing") || !strings.HasPrefix(lines[1], "CN=orphan,"+rou+"\tmissing") {
		t.Errorf("verify after apply:\n%s", out)
	}
	// Every mapped user's objectSid is on exactly one resource-forest account, in binary.
	for name, dn := range mapped {
		sid := users[name]
		es := rconn.search(env["ABKIT_SAMBA_RES_BASE"], "(msRTCSIP-OriginatorSid="+sid.FilterValue()+")", "msRTCSIP-OriginatorSid")
		if len(es) != 1 || !strings.EqualFold(es[0].DN, dn) {
			var dns []string
			for _, e := range es {
				dns = append(dns, e.DN)
			}
			t.Errorf("%s (%s) is on %v, want exactly %s", name, sid, dns, dn)
			continue
		}
		if raw := es[0].GetRawAttributeValue("msRTCSIP-OriginatorSid"); string(raw) != string(sid.Bytes()) {
			t.Errorf("%s: stored %q, want the binary SID", dn, raw)
		}
	}

	// sync-attrs copies displayName and title to the five mapped accounts.
	attrsPlan := filepath.Join(dir, "attrs.json")
	cli(ExitOK, "sidmap", "sync-attrs", "plan", "--attrs", "displayName,title", "-w", attrsPlan)
	_, stderr = cli(ExitOK, "sidmap", "sync-attrs", "apply", attrsPlan, "--yes")
	if !strings.Contains(stderr, "5 changes: 5 applied") {
		t.Errorf("sync-attrs apply: %s", stderr)
	}
	for name, dn := range mapped {
		e := rconn.search(dn, "(objectClass=*)", "displayName", "title")[0]
		if e.GetAttributeValue("displayName") != "User "+name || e.GetAttributeValue("title") != "Title "+name {
			t.Errorf("%s: displayName %q title %q", dn, e.GetAttributeValue("displayName"), e.GetAttributeValue("title"))
		}
	}

	// Undo both, newest first: the resource accounts are as created (fay's SID as text again).
	cli(ExitOK, "sidmap", "undo", filepath.Join(dir, "attrs.undo.ldif"), "--yes")
	cli(ExitOK, "sidmap", "undo", filepath.Join(dir, "plan.undo.ldif"), "--yes")
	for _, e := range rconn.search(rou, "(objectClass=user)", "msRTCSIP-OriginatorSid", "displayName", "title") {
		want := map[string]string{}
		if strings.HasPrefix(e.DN, "CN=fay,") {
			want["msRTCSIP-OriginatorSid"] = users["fay"].String()
		}
		for _, a := range []string{"msRTCSIP-OriginatorSid", "displayName", "title"} {
			if v := string(e.GetRawAttributeValue(a)); v != want[a] {
				t.Errorf("%s: %s %q after undo, want %q", e.DN, a, v, want[a])
			}
		}
	}
}
