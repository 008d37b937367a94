package ldapsync

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func sambaEnv(t *testing.T) map[string]string {
	return needEnv(t, "ABKIT_SAMBA_USER_URL", "ABKIT_SAMBA_USER_LDAPS_URL", "ABKIT_SAMBA_USER_GC_URL", "ABKIT_SAMBA_USER_BASE",
		"ABKIT_SAMBA_USER_BIND", "ABKIT_SAMBA_USER_DOMAIN", "ABKIT_SAMBA_USER_HOST", "ABKIT_SAMBA_USER_CA",
		"ABKIT_SAMBA_RES_URL", "ABKIT_SAMBA_RES_LDAPS_URL", "ABKIT_SAMBA_RES_BASE", "ABKIT_SAMBA_RES_BIND",
		"ABKIT_SAMBA_RES_CA", "ABKIT_SAMBA_PASSWORD", "ABKIT_SAMBA_KRB5_CONF")
}

func byAccount(objs []*Object) map[string]*Object {
	m := map[string]*Object{}
	for _, o := range objs {
		if o.SAMAccountName != "" {
			m[o.SAMAccountName] = o
		} else {
			m[o.DN] = o
		}
	}
	return m
}

// TestIntegrationSambaTwoForests reads both Samba forests over LDAPS with their CA files and
// checks the resource forest's OCS/Exchange attributes against the SIDs Samba allocated in the
// user forest.
func TestIntegrationSambaTwoForests(t *testing.T) {
	env := sambaEnv(t)
	pw := env["ABKIT_SAMBA_PASSWORD"]
	users := dialT(t, Options{Name: "user", URL: env["ABKIT_SAMBA_USER_LDAPS_URL"], TLS: TLSOptions{CAFile: env["ABKIT_SAMBA_USER_CA"]},
		Bind: Bind{Method: BindSimple, User: env["ABKIT_SAMBA_USER_BIND"], Password: pw}})
	res := dialT(t, Options{Name: "res", URL: env["ABKIT_SAMBA_RES_URL"], StartTLS: true, PageSize: 7,
		TLS:  TLSOptions{CAFile: env["ABKIT_SAMBA_RES_CA"]},
		Bind: Bind{Method: BindSimple, User: env["ABKIT_SAMBA_RES_BIND"], Password: pw}})
	if users.Transport() != "ldaps" || res.Transport() != "starttls" {
		t.Errorf("transports %s, %s", users.Transport(), res.Transport())
	}
	// Like Active Directory, Samba offers no LDAP transactions (RFC 5805).
	if res.SupportsTransactions() {
		t.Errorf("Samba lists %s: %v", ExtStartTxn, res.RootDSE().SupportedExtensions)
	}
	// Base from the rootDSE's defaultNamingContext (AD).
	if !strings.EqualFold(users.BaseDN(), env["ABKIT_SAMBA_USER_BASE"]) || !strings.EqualFold(res.BaseDN(), env["ABKIT_SAMBA_RES_BASE"]) {
		t.Errorf("bases %q %q", users.BaseDN(), res.BaseDN())
	}
	uObjs := byAccount(collect(t, users, SearchRequest{Filter: "(&(objectClass=user)(mail=*@contoso.com))"}))
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		u := uObjs[name]
		if u == nil || u.SID.IsZero() || u.GUID.IsZero() || u.Disabled() || !strings.HasPrefix(u.SID.String(), "S-1-5-21-") {
			t.Fatalf("user forest %s: %+v", name, u)
		}
	}

	// More objects than one page (page size 7, 30 bulk users plus the seed).
	rObjs := byAccount(collect(t, res, SearchRequest{}))
	if len(rObjs) < 35 {
		t.Fatalf("resource forest default search: %d objects", len(rObjs))
	}
	alice, bob, carol, dave := rObjs["alice"], rObjs["bob"], rObjs["carol"], rObjs["dave"]
	if alice == nil || bob == nil || carol == nil || dave == nil {
		t.Fatalf("resource accounts missing: %v", slices.Collect(func(yield func(string) bool) {
			for k := range rObjs {
				if !yield(k) {
					return
				}
			}
		}))
	}
	if alice.MasterSID != uObjs["alice"].SID || !alice.OriginatorSID.IsZero() || alice.SID == uObjs["alice"].SID {
		t.Errorf("alice: master %s originator %s own %s; user SID %s", alice.MasterSID, alice.OriginatorSID, alice.SID, uObjs["alice"].SID)
	}
	if bob.OriginatorSID != uObjs["bob"].SID || carol.OriginatorSID != uObjs["dave"].SID || !dave.MasterSID.IsZero() || !dave.HiddenFromGAL {
		t.Errorf("bob %s carol %s dave %s hidden %v", bob.OriginatorSID, carol.OriginatorSID, dave.MasterSID, dave.HiddenFromGAL)
	}
	if !alice.Disabled() || alice.PrimaryUserAddress != "sip:alice@contoso.com" ||
		!slices.Equal(alice.ProxySIP, []string{"sip:alice@contoso.com"}) || !slices.Equal(alice.ProxySMTP, []string{"SMTP:alice@contoso.com"}) {
		t.Errorf("alice: %+v", alice)
	}
	sales := rObjs["sales"]
	if sales == nil || sales.Kind != KindGroup || !sales.SecurityGroup() || sales.Scope() != ScopeGlobal ||
		!slices.Equal(sales.SIPAddresses(), []string{"alice@contoso.com"}) {
		t.Errorf("sales: %+v", sales)
	}

	// Lookups of user-forest SIDs in the resource forest: escaped bytes, and the S-1 string AD accepts.
	for _, filter := range []string{
		"(msExchMasterAccountSid=" + uObjs["alice"].SID.FilterValue() + ")",
		"(msExchMasterAccountSid=" + uObjs["alice"].SID.String() + ")",
	} {
		got := collect(t, res, SearchRequest{Filter: filter})
		if len(got) != 1 || got[0].DN != alice.DN {
			t.Errorf("%s: %v", filter, dnsOf(got))
		}
	}
	if got := collect(t, res, SearchRequest{Filter: "(objectGUID=" + carol.GUID.FilterValue() + ")"}); len(got) != 1 || got[0].DN != carol.DN {
		t.Errorf("GUID lookup: %v", dnsOf(got))
	}
	if got := collect(t, res, SearchRequest{Filter: "(&(objectCategory=group)(groupType:1.2.840.113556.1.4.803:=2147483648)(mail=sales@contoso.com))"}); len(got) != 1 {
		t.Errorf("security group by bit: %v", dnsOf(got))
	}
	for _, evil := range []string{"*)(objectClass=*", "*", "alice)(|(sAMAccountName=*"} {
		if got := collect(t, res, SearchRequest{Filter: "(sAMAccountName=" + ldap.EscapeFilter(evil) + ")"}); len(got) != 0 {
			t.Errorf("escaped %q matched %v", evil, dnsOf(got))
		}
	}

	// Snapshot round trip of the resource forest.
	snap := snapshotOf(t, res, SearchRequest{Attributes: []string{"*"}})
	sObjs := byAccount(collect(t, snap, SearchRequest{}))
	if len(sObjs) != len(rObjs) || sObjs["carol"].OriginatorSID != carol.OriginatorSID || sObjs["alice"].GUID != alice.GUID {
		t.Errorf("snapshot objects differ: %d vs %d", len(sObjs), len(rObjs))
	}

	// The Global Catalog of the user forest covers the forest from base "".
	gc, err := DialGC(context.Background(), Options{Name: "user", GCURL: env["ABKIT_SAMBA_USER_GC_URL"],
		Bind: Bind{Method: BindSimple, User: env["ABKIT_SAMBA_USER_BIND"], Password: pw}})
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	if got := collect(t, gc, SearchRequest{Filter: "(sAMAccountName=alice)"}); len(got) != 1 || got[0].SID != uObjs["alice"].SID {
		t.Errorf("GC lookup: %v", dnsOf(got))
	}

	var be *BindError
	if _, err := Dial(context.Background(), Options{Name: "user", URL: env["ABKIT_SAMBA_USER_URL"],
		Bind: Bind{Method: BindSimple, User: env["ABKIT_SAMBA_USER_BIND"], Password: "wrong"}}); !errors.As(err, &be) {
		t.Errorf("wrong password: %v", err)
	}
}

// TestIntegrationSambaBinds binds to the user forest with NTLM (SASL NTLM, plain and LDAPS)
// and Kerberos (password and keytab), proves each bind is authenticated by reading an account
// that anonymous binds cannot see, and checks that a wrong password is refused.
func TestIntegrationSambaBinds(t *testing.T) {
	env := sambaEnv(t)
	keytab := needEnv(t, "ABKIT_SAMBA_USER_KEYTAB")["ABKIT_SAMBA_USER_KEYTAB"]
	pw := env["ABKIT_SAMBA_PASSWORD"]
	url, ldaps, host, krb5 := env["ABKIT_SAMBA_USER_URL"], env["ABKIT_SAMBA_USER_LDAPS_URL"], env["ABKIT_SAMBA_USER_HOST"], env["ABKIT_SAMBA_KRB5_CONF"]
	ca := TLSOptions{CAFile: env["ABKIT_SAMBA_USER_CA"]}
	ntlm := Bind{Method: BindNTLM, Domain: env["ABKIT_SAMBA_USER_DOMAIN"], User: "Administrator", Password: pw}
	krbPW := Bind{Method: BindKerberos, User: "Administrator", Realm: "USERFOREST.TEST", Password: pw, Krb5Conf: krb5, SPN: "ldap/" + host}
	krbKT := Bind{Method: BindKerberos, User: "Administrator@USERFOREST.TEST", Keytab: keytab, Krb5Conf: krb5, SPN: "ldap/" + host}
	cases := []struct {
		name string
		opts Options
	}{
		{"ntlm plain", Options{URL: url, Bind: ntlm}},
		{"ntlm ldaps", Options{URL: ldaps, TLS: ca, Bind: ntlm}},
		{"ntlm starttls", Options{URL: url, StartTLS: true, TLS: ca, Bind: ntlm}},
		{"kerberos password", Options{URL: url, Bind: krbPW}},
		{"kerberos keytab ldaps", Options{URL: ldaps, TLS: ca, Bind: krbKT}},
	}
	for _, tc := range cases {
		tc.opts.Name = tc.name
		f := dialT(t, tc.opts)
		got := collect(t, f, SearchRequest{Filter: "(sAMAccountName=alice)"})
		if len(got) != 1 || got[0].SID.IsZero() {
			t.Errorf("%s: alice not readable (%d objects): the bind is not authenticated", tc.name, len(got))
		}
		if _, err := f.WhoAmI(context.Background()); !errors.Is(err, ErrWhoAmIUnsupported) {
			t.Errorf("%s: WhoAmI err %v, want ErrWhoAmIUnsupported (Samba)", tc.name, err)
		}
	}
	// Anonymous sees nothing, so the reads above prove authentication.
	anon := dialT(t, Options{Name: "anon", URL: url, Base: env["ABKIT_SAMBA_USER_BASE"]})
	for o, err := range anon.Search(context.Background(), SearchRequest{Filter: "(sAMAccountName=alice)"}) {
		if err == nil {
			t.Errorf("anonymous read %s", o.DN)
		}
		break
	}
	for _, tc := range cases[:4] {
		tc.opts.Name = tc.name
		tc.opts.Bind.Password = "wrong-" + pw
		var be *BindError
		if _, err := Dial(context.Background(), tc.opts); !errors.As(err, &be) {
			t.Errorf("%s with a wrong password: %v", tc.name, err)
		}
	}
}
