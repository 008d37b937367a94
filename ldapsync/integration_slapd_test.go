package ldapsync

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// needEnv returns the named environment variables, set by testdata/*/server.sh through
// scripts/test.sh. A missing one skips the test, or fails it under CI=true.
func needEnv(t *testing.T, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not set: the test server did not start (CI=true forbids skipping)", n)
			}
			t.Skipf("%s is not set: start the servers with scripts/test.sh (or testdata/*/server.sh)", n)
		}
		out[n] = v
	}
	return out
}

func slapdEnv(t *testing.T) map[string]string {
	return needEnv(t, "ABKIT_SLAPD_URL", "ABKIT_SLAPD_LDAPS_URL", "ABKIT_SLAPD_CA", "ABKIT_SLAPD_RES_BASE",
		"ABKIT_SLAPD_USER_BASE", "ABKIT_SLAPD_RES_BIND_DN", "ABKIT_SLAPD_PASSWORD", "ABKIT_SLAPD_LIMIT")
}

func dialT(t *testing.T, opts Options) *Forest {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f, err := Dial(ctx, opts)
	if err != nil {
		t.Fatalf("Dial %s: %v", opts.URL, err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// snapshotOf exports a live search as LDIF, reads it back as a snapshot, and checks that the
// snapshot holds exactly the live entries.
func snapshotOf(t *testing.T, f *Forest, req SearchRequest) *Snapshot {
	t.Helper()
	var live []*ldap.Entry
	for e, err := range f.SearchEntries(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		live = append(live, e)
	}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, live); err != nil {
		t.Fatal(err)
	}
	snap, err := ReadSnapshot(f.Name(), &buf, f.BaseDN())
	if err != nil {
		t.Fatal(err)
	}
	if err := sameEntries(live, snap.entries); err != nil {
		t.Fatalf("snapshot differs from live: %v", err)
	}
	return snap
}

type countingReporter struct{ started, added, done int }

func (c *countingReporter) Start(int64, string) { c.started++ }
func (c *countingReporter) Add(n int64)         { c.added += int(n) }
func (c *countingReporter) Done()               { c.done++ }

func TestIntegrationSlapdPagingAndObjects(t *testing.T) {
	env := slapdEnv(t)
	rep := &countingReporter{}
	f := dialT(t, Options{Name: "res", URL: env["ABKIT_SLAPD_URL"], Base: env["ABKIT_SLAPD_RES_BASE"], PageSize: 40, Progress: rep})
	if f.RootDSE() == nil || !f.RootDSE().SupportsPaging() {
		t.Fatalf("rootDSE %+v does not list paging", f.RootDSE())
	}
	// 250 bulk users: more than the server's non-paged size limit and six pages of 40.
	req := SearchRequest{Filter: "(cn=bulk*)"}
	objs := collect(t, f, req)
	if len(objs) != 250 {
		t.Fatalf("paged search returned %d bulk objects, want 250", len(objs))
	}
	// Without paging the server stops at its size limit (ABKIT_SLAPD_LIMIT < 250).
	unpaged := ldap.NewSearchRequest(f.BaseDN(), ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, "(cn=bulk*)", []string{"cn"}, nil)
	if _, err := f.conn.Search(unpaged); !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		t.Errorf("unpaged search: %v, want size limit exceeded (server limit %s)", err, env["ABKIT_SLAPD_LIMIT"])
	}
	if rep.added != 250 || rep.started != 1 || rep.done != 1 {
		t.Errorf("progress %+v", rep)
	}
	if req.Attributes != nil || req.Base != "" {
		t.Errorf("request modified: %+v", req)
	}
	// Leaving early, then searching again on the same connection, works.
	n := 0
	for _, err := range f.Search(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 45 {
			break
		}
	}
	if again := collect(t, f, req); len(again) != 250 {
		t.Fatalf("search after an early break returned %d", len(again))
	}
	// Cancelling in the middle abandons the search; the connection stays usable.
	cctx, cancel := context.WithCancel(context.Background())
	n = 0
	var cancelErr error
	for _, err := range f.Search(cctx, req) {
		if err != nil {
			cancelErr = err
			break
		}
		if n++; n == 45 {
			cancel()
		}
	}
	cancel()
	if !errors.Is(cancelErr, context.Canceled) || n != 45 {
		t.Errorf("cancelled search: %d objects, err %v", n, cancelErr)
	}
	if again := collect(t, f, req); len(again) != 250 {
		t.Fatalf("search after a cancelled one returned %d", len(again))
	}

	// Default filter: SIP/OCS objects, decoded.
	byName := map[string]*Object{}
	for _, o := range collect(t, f, SearchRequest{Filter: "(!(cn=bulk*))"}) {
		byName[o.DN[3:strings.IndexByte(o.DN, ',')]] = o
	}
	alice := byName["Alice Able"]
	if alice == nil {
		t.Fatalf("Alice not found; got %v", byName)
	}
	if alice.PrimaryUserAddress != "sip:alice@contoso.com" || !slices.Equal(alice.ProxySIP, []string{"sip:alice@contoso.com"}) ||
		!slices.Equal(alice.ProxySMTP, []string{"SMTP:alice@contoso.com"}) || !alice.Disabled() || alice.SIPEnabled == nil || !*alice.SIPEnabled {
		t.Errorf("alice decoded as %+v", alice)
	}
	if alice.MasterSID.String() != "S-1-5-21-1004336348-1177238915-682003330-1105" || !alice.OriginatorSID.IsZero() {
		t.Errorf("alice SIDs master %s originator %s", alice.MasterSID, alice.OriginatorSID)
	}
	sales := byName["Sales"]
	if sales == nil || sales.Kind != KindGroup || !sales.SecurityGroup() || sales.Scope() != ScopeGlobal {
		t.Errorf("Sales group: %+v", sales)
	}
	if erin := byName["Erin Ext"]; erin == nil || erin.Kind != KindContact {
		t.Errorf("contact Erin: %+v", erin)
	}

	// Bitwise matching rules on the server.
	var secGroups []string
	for _, o := range collect(t, f, SearchRequest{Filter: "(groupType:1.2.840.113556.1.4.803:=2147483648)"}) {
		secGroups = append(secGroups, o.DN)
	}
	if len(secGroups) != 1 || !strings.HasPrefix(secGroups[0], "cn=Sales,") {
		t.Errorf("security groups: %v", secGroups)
	}
	disabled := collect(t, f, SearchRequest{Filter: "(&(userAccountControl:1.2.840.113556.1.4.803:=2)(!(cn=bulk*)))"})
	if len(disabled) != 4 {
		t.Errorf("disabled non-bulk users: %d, want 4", len(disabled))
	}

	// SID and GUID lookups by escaped bytes.
	bySID := collect(t, f, SearchRequest{Filter: "(msExchMasterAccountSid=" + alice.MasterSID.FilterValue() + ")"})
	if len(bySID) != 1 || bySID[0].DN != alice.DN {
		t.Errorf("master SID lookup: %v", dnsOf(bySID))
	}
	byGUID := collect(t, f, SearchRequest{Filter: "(objectGUID=" + alice.GUID.FilterValue() + ")"})
	if alice.GUID.IsZero() || len(byGUID) != 1 || byGUID[0].DN != alice.DN {
		t.Errorf("GUID lookup: %v", dnsOf(byGUID))
	}
	// Injection attempts, escaped, find nothing.
	for _, evil := range []string{"*)(objectClass=*", "*", "alice)(|(cn=*", `\2a`} {
		if got := collect(t, f, SearchRequest{Filter: "(sAMAccountName=" + ldap.EscapeFilter(evil) + ")"}); len(got) != 0 {
			t.Errorf("escaped %q matched %v", evil, dnsOf(got))
		}
	}
}

func TestIntegrationSlapdTLSAndBinds(t *testing.T) {
	env := slapdEnv(t)
	bind := Bind{Method: BindSimple, DN: env["ABKIT_SLAPD_RES_BIND_DN"], Password: env["ABKIT_SLAPD_PASSWORD"]}
	for _, tc := range []struct {
		url, transport string
		starttls       bool
	}{
		{env["ABKIT_SLAPD_URL"], "starttls", true},
		{env["ABKIT_SLAPD_LDAPS_URL"], "ldaps", false},
	} {
		f := dialT(t, Options{Name: "res", URL: tc.url, StartTLS: tc.starttls, TLS: TLSOptions{CAFile: env["ABKIT_SLAPD_CA"]}, Bind: bind})
		if f.Transport() != tc.transport {
			t.Errorf("%s: transport %s, want %s", tc.url, f.Transport(), tc.transport)
		}
		who, err := f.WhoAmI(context.Background())
		if err != nil || !strings.EqualFold(who, "dn:"+env["ABKIT_SLAPD_RES_BIND_DN"]) {
			t.Errorf("%s: WhoAmI = %q, %v", tc.url, who, err)
		}
		// Base from the rootDSE: OpenLDAP has no defaultNamingContext, so the first naming context.
		if f.BaseDN() != f.RootDSE().NamingContexts[0] {
			t.Errorf("base %q, naming contexts %v", f.BaseDN(), f.RootDSE().NamingContexts)
		}
	}
	ctx := context.Background()
	// TLS failures: no CA file (self-signed chain), and a name the certificate does not carry.
	for _, opts := range []Options{
		{Name: "res", URL: env["ABKIT_SLAPD_LDAPS_URL"]},
		{Name: "res", URL: env["ABKIT_SLAPD_URL"], StartTLS: true},
		{Name: "res", URL: env["ABKIT_SLAPD_LDAPS_URL"], TLS: TLSOptions{CAFile: env["ABKIT_SLAPD_CA"], ServerName: "dc.wrong.test"}},
	} {
		var te *TLSError
		if _, err := Dial(ctx, opts); !errors.As(err, &te) {
			t.Errorf("%s starttls=%v server=%q: err = %v, want *TLSError", opts.URL, opts.StartTLS, opts.TLS.ServerName, err)
		}
	}
	// InsecureSkipVerify, named loudly, does connect.
	dialT(t, Options{Name: "res", URL: env["ABKIT_SLAPD_LDAPS_URL"], TLS: TLSOptions{InsecureSkipVerify: true}})

	// Wrong password.
	wrong := bind
	wrong.Password = "not-the-password"
	var be *BindError
	if _, err := Dial(ctx, Options{Name: "res", URL: env["ABKIT_SLAPD_URL"], Bind: wrong}); !errors.As(err, &be) ||
		!strings.Contains(err.Error(), "invalid credentials") {
		t.Errorf("wrong password: %v", err)
	}
	// Unreachable: a port nobody listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var ce *ConnectError
	if _, err := Dial(ctx, Options{Name: "x", URL: "ldap://" + addr}); !errors.As(err, &ce) {
		t.Errorf("unreachable: %v", err)
	}
	// A password over plain LDAP to a non-loopback host is refused before connecting.
	var ie *InsecureBindError
	if _, err := Dial(ctx, Options{Name: "x", URL: "ldap://192.0.2.1", Bind: bind}); !errors.As(err, &ie) || !ie.BadInput() {
		t.Errorf("insecure bind: %v", err)
	}
	if _, err := Dial(ctx, Options{Name: "x", URL: "ldap://192.0.2.1", Bind: Bind{Method: BindNTLM, User: "u", Password: "p"}}); !errors.As(err, &ie) {
		t.Errorf("insecure NTLM bind: %v", err)
	}
}

func TestIntegrationSlapdErrorsAndBadValues(t *testing.T) {
	env := slapdEnv(t)
	broken := needEnv(t, "ABKIT_SLAPD_BROKEN_BASE")["ABKIT_SLAPD_BROKEN_BASE"]
	f := dialT(t, Options{Name: "broken", URL: env["ABKIT_SLAPD_URL"], Base: broken, PageSize: 2})
	ctx := context.Background()

	// Bad values are reported per object; the search goes on. The referral object comes back
	// as a continuation reference, reported and not chased.
	var refs []string
	objs := collect(t, f, SearchRequest{Filter: "(objectClass=user)", Referral: func(u string) { refs = append(refs, u) }})
	warn := map[string]string{}
	for _, o := range objs {
		warn[o.DN] = strings.Join(o.Warnings, "; ")
	}
	if len(objs) != 4 {
		t.Fatalf("got %d objects, want 4: %v", len(objs), warn)
	}
	if w := warn["cn=badsid,"+broken]; !strings.Contains(w, "objectSid") || !strings.Contains(w, "bad SID") {
		t.Errorf("badsid warnings %q", w)
	}
	if w := warn["cn=badguid,"+broken]; !strings.Contains(w, "objectGUID") || !strings.Contains(w, "15 bytes") {
		t.Errorf("badguid warnings %q", w)
	}
	if w := warn["cn=textsid,"+broken]; !strings.Contains(w, "stored as text") {
		t.Errorf("textsid warnings %q", w)
	}
	if w := warn["cn=good,"+broken]; w != "" {
		t.Errorf("good object has warnings %q", w)
	}
	if len(refs) != 1 || !strings.HasPrefix(refs[0], "ldap://other.invalid/") {
		t.Errorf("continuation references %v", refs)
	}

	searchErr := func(req SearchRequest) (*SearchError, int) {
		n := 0
		for _, err := range f.Search(ctx, req) {
			if err != nil {
				var se *SearchError
				if !errors.As(err, &se) {
					t.Fatalf("%+v: err %v is not a *SearchError", req, err)
				}
				return se, n
			}
			n++
		}
		t.Fatalf("%+v: no error", req)
		return nil, n
	}
	// Referral for a base the server does not hold.
	if se, _ := searchErr(SearchRequest{Base: "dc=other,dc=test", Filter: "(objectClass=*)"}); se.Code != ldap.LDAPResultReferral ||
		!strings.Contains(se.Error(), "referrals are not chased") || se.BadInput() {
		t.Errorf("referral: %v", se)
	}
	// Size limit of the request, reached in the middle of a paged search.
	if se, n := searchErr(SearchRequest{Base: env["ABKIT_SLAPD_RES_BASE"], Filter: "(cn=bulk*)", SizeLimit: 5}); se.Code != ldap.LDAPResultSizeLimitExceeded ||
		se.Objects != n || !strings.Contains(se.Error(), "size limit exceeded") {
		t.Errorf("size limit: %v after %d", se, n)
	}
	// No such base: bad input.
	if se, _ := searchErr(SearchRequest{Base: "ou=nowhere," + broken, Filter: "(objectClass=*)"}); se.Code != ldap.LDAPResultNoSuchObject || !se.BadInput() {
		t.Errorf("no such object: %v", se)
	}
	// Cancelled context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, err := range f.Search(cctx, SearchRequest{Filter: "(objectClass=*)"}) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v", err)
		}
	}
}

func TestIntegrationSlapdSnapshotRoundTripAndModify(t *testing.T) {
	env := slapdEnv(t)
	f := dialT(t, Options{Name: "res", URL: env["ABKIT_SLAPD_URL"], Base: env["ABKIT_SLAPD_RES_BASE"],
		Bind: Bind{Method: BindSimple, DN: env["ABKIT_SLAPD_RES_BIND_DN"], Password: env["ABKIT_SLAPD_PASSWORD"]}})
	ctx := context.Background()

	mod := ldap.NewModifyRequest("cn=bulk007,ou=Bulk,"+env["ABKIT_SLAPD_RES_BASE"], nil)
	mod.Replace("description", []string{"modified by abkit test " + time.Now().Format(time.RFC3339Nano)})
	if err := f.Modify(ctx, mod); err != nil {
		t.Fatal(err)
	}
	got := collect(t, f, SearchRequest{Filter: "(cn=bulk007)", Attributes: []string{"description"}})
	if len(got) != 1 || string(got[0].Raw["description"][0]) != mod.Changes[0].Modification.Vals[0] {
		t.Fatalf("after modify: %+v", got)
	}

	// Export live -> LDIF -> snapshot: the same objects.
	snap := snapshotOf(t, f, SearchRequest{Filter: "(objectClass=*)", Attributes: []string{"*"}})
	for _, filter := range []string{"", "(userAccountControl:1.2.840.113556.1.4.803:=2)", "(proxyAddresses=sip:*)"} {
		liveObjs := collect(t, f, SearchRequest{Filter: filter})
		snapObjs := collect(t, snap, SearchRequest{Filter: filter})
		if !slices.Equal(dnsOf(liveObjs), dnsOf(snapObjs)) {
			t.Errorf("filter %q: live %d objects, snapshot %d", filter, len(liveObjs), len(snapObjs))
			continue
		}
		for i := range liveObjs {
			l, s := liveObjs[i], snapObjs[i]
			if l.SID != s.SID || l.GUID != s.GUID || l.MasterSID != s.MasterSID || l.PrimaryUserAddress != s.PrimaryUserAddress {
				t.Errorf("%s: live %+v snapshot %+v", l.DN, l, s)
			}
		}
	}
}
