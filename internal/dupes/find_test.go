package dupes

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
)

const (
	gAlice   = "11111111-0000-0000-0000-000000000001"
	gGroup   = "11111111-0000-0000-0000-000000000002"
	gBob     = "11111111-0000-0000-0000-000000000003"
	gBobC    = "11111111-0000-0000-0000-000000000004"
	gCarol   = "11111111-0000-0000-0000-000000000005"
	gCarol2  = "11111111-0000-0000-0000-000000000006"
	gDave    = "11111111-0000-0000-0000-000000000007"
	gStale   = "11111111-0000-0000-0000-000000000008"
	gPlain   = "11111111-0000-0000-0000-000000000009"
	gDisUser = "11111111-0000-0000-0000-00000000000a"
)

func guid(s string) GUID { return ldapsync.MustParseGUID(s) }

// summary renders a row as "value: dn(kind)*, dn(kind)" with the keeper starred.
func summary(r Row) string {
	var parts []string
	for _, m := range r.Members {
		s := m.DN
		if s == "" {
			s = m.GUID.String()
		}
		s += "(" + string(m.Kind) + ")"
		if m.Keep {
			s += "*"
		}
		parts = append(parts, s)
	}
	return r.Value + ": " + strings.Join(parts, ", ")
}

func summaries(rows []Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, summary(r))
	}
	return out
}

func TestFindSIP(t *testing.T) {
	src := &memSource{name: "userforest", entries: []*ldap.Entry{
		user("cn=Alice,dc=u", gAlice, "sip:alice@contoso.com"),
		group("cn=Sales,dc=u", gGroup, true, "SMTP:sales@contoso.com", "SIP:Alice@Contoso.com"),
		user("cn=Bob,dc=u", gBob, "sip:bob@contoso.com", "proxyAddresses", "sip:bob@contoso.com"),
		contact("cn=Bob Contact,dc=u", gBobC, "  sip:BOB@contoso.com "),
		user("cn=Plain,dc=u", gPlain, "sip:plain@contoso.com"),
	}}
	rep, err := Find(context.Background(), Inputs{Forests: []ldapsync.Source{src}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"alice@contoso.com: cn=Alice,dc=u(user)*, cn=Sales,dc=u(security group)",
		"bob@contoso.com: cn=Bob,dc=u(user)*, cn=Bob Contact,dc=u(contact)",
	}
	if got := summaries(rep.SIP); !slices.Equal(got, want) {
		t.Errorf("rows:\n got %q\nwant %q", got, want)
	}
	if rep.Objects != 5 || rep.Count() != 2 {
		t.Errorf("objects %d count %d, want 5 and 2", rep.Objects, rep.Count())
	}
	a := rep.SIP[0]
	if a.Reason != "a SIP-enabled user beats a group" {
		t.Errorf("reason %q", a.Reason)
	}
	g := a.Members[1]
	if g.GUID != guid(gGroup) || !slices.Equal(g.Via, []string{"proxyAddresses"}) || g.Enabled != nil ||
		g.SIPEnabled != nil || g.InAddressBook != nil || g.InRTC != nil || g.Forest != "userforest" {
		t.Errorf("group member %+v", g)
	}
	b := rep.SIP[1].Members[0]
	if !slices.Equal(b.Via, []string{"msRTCSIP-PrimaryUserAddress", "proxyAddresses"}) || *b.Enabled != true || *b.SIPEnabled != true {
		t.Errorf("bob member %+v", b)
	}
}

func TestKeeperChoice(t *testing.T) {
	tests := []struct {
		name       string
		entries    []*ldap.Entry
		keep       string
		wantReason string
	}{
		{"user beats contact", []*ldap.Entry{
			contact("cn=C,dc=x", gBobC, "sip:x@c.com"), user("cn=U,dc=x", gBob, "sip:x@c.com"),
		}, "cn=U,dc=x", "a SIP-enabled user beats a SIP-enabled contact"},
		{"SIP-enabled contact beats user that is not SIP-enabled", []*ldap.Entry{
			entry("cn=U,dc=x", gBob, "objectClass", "user", "userAccountControl", "512", "proxyAddresses", "sip:x@c.com"),
			contact("cn=C,dc=x", gBobC, "sip:x@c.com"),
		}, "cn=C,dc=x", "a SIP-enabled contact beats a user that is not SIP-enabled"},
		{"enabled beats disabled", []*ldap.Entry{
			user("cn=A,dc=x", gDisUser, "sip:x@c.com", "userAccountControl", "514"),
			user("cn=B,dc=x", gBob, "sip:x@c.com"),
		}, "cn=B,dc=x", "an enabled account beats a disabled one"},
		{"visible beats hidden", []*ldap.Entry{
			user("cn=A,dc=x", gAlice, "sip:x@c.com", "msExchHideFromAddressLists", "TRUE"),
			user("cn=B,dc=x", gBob, "sip:x@c.com"),
		}, "cn=B,dc=x", "visible in address lists beats hidden (msExchHideFromAddressLists)"},
		{"primary beats proxy", []*ldap.Entry{
			user("cn=A,dc=x", gAlice, "", "proxyAddresses", "sip:x@c.com"),
			user("cn=B,dc=x", gBob, "sip:x@c.com"),
		}, "cn=B,dc=x", "carries it in msRTCSIP-PrimaryUserAddress, the other only in proxyAddresses"},
		{"tie by DN, whatever the input order", []*ldap.Entry{
			user("cn=B,dc=x", gAlice, "sip:x@c.com"),
			user("CN=a,dc=x", gBob, "sip:x@c.com"),
		}, "CN=a,dc=x", "tie: the lowest DN, then objectGUID, wins"},
		{"distribution group and security group: DN decides", []*ldap.Entry{
			group("cn=Z,dc=x", gGroup, false, "sip:x@c.com"),
			group("cn=Y,dc=x", gCarol, true, "sip:x@c.com"),
		}, "cn=Y,dc=x", "tie: the lowest DN, then objectGUID, wins"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][]*ldap.Entry{tt.entries, {tt.entries[1], tt.entries[0]}} {
				rep, err := Find(context.Background(), Inputs{Forests: []ldapsync.Source{&memSource{name: "f", entries: order}}})
				if err != nil {
					t.Fatal(err)
				}
				if len(rep.SIP) != 1 {
					t.Fatalf("rows %q", summaries(rep.SIP))
				}
				r := rep.SIP[0]
				if r.Members[0].DN != tt.keep || !r.Members[0].Keep || r.Members[1].Keep || r.Reason != tt.wantReason {
					t.Errorf("got %s, reason %q; want keeper %s, reason %q", summary(r), r.Reason, tt.keep, tt.wantReason)
				}
			}
		})
	}
}

func TestNormalizeSIPComparison(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"SIP:Alice@Contoso.com", "sip:alice@contoso.com", true},
		{"  sip:alice@contoso.com ", "sip: alice@contoso.com", true},
		{"Sip:ALICE@contoso.com", "alice@contoso.com", true},
		{"sip:alice@contoso.com", "sip:alice@contoso.org", false},
		{"sip:alice@contoso.com", "smtp:alice@contoso.com", false},
	}
	for _, tt := range tests {
		src := &memSource{name: "f", entries: []*ldap.Entry{
			user("cn=A,dc=x", gAlice, tt.a),
			user("cn=B,dc=x", gBob, tt.b),
		}}
		rep, err := Find(context.Background(), Inputs{Forests: []ldapsync.Source{src}})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(rep.SIP) == 1; got != tt.same {
			t.Errorf("%q vs %q: duplicate %v, want %v (%q)", tt.a, tt.b, got, tt.same, summaries(rep.SIP))
		}
		if tt.same && rep.SIP[0].Value != "alice@contoso.com" {
			t.Errorf("value %q", rep.SIP[0].Value)
		}
	}
}

func TestFindTwoForestsAddressBookAndRTC(t *testing.T) {
	uf := &memSource{name: "userforest", entries: []*ldap.Entry{
		user("cn=Alice,dc=u", gAlice, "sip:alice@contoso.com"),
	}}
	rf := &memSource{name: "resforest", entries: []*ldap.Entry{
		group("cn=Sales,dc=r", gGroup, true, "sip:alice@contoso.com"),
		user("cn=Carol,dc=r", gCarol, "sip:carol@contoso.com"),
	}}
	book := &memBook{name: "F-1A2B.lsabs", entries: []Entry{
		{ID: guid(gAlice), PrimarySIP: "sip:alice@contoso.com"},
		{ID: guid(gGroup), ProxySIP: []string{"sip:alice@contoso.com"}, Group: true},
		{ID: guid(gCarol), PrimarySIP: "sip:carol@contoso.com"},
		// Only in the file: a stale entry carrying Carol's address, and a deletion record.
		{ID: guid(gStale), DisplayName: "Carol (old)", PrimarySIP: "SIP:Carol@contoso.com"},
		{ID: guid(gDave), Deleted: true},
	}}
	rtc := &fakeRTC{rows: map[GUID]bool{guid(gGroup): true, guid(gAlice): true}}
	rep, err := Find(context.Background(), Inputs{Forests: []ldapsync.Source{uf, rf}, AddressBook: book, RTC: rtc})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"alice@contoso.com: cn=Alice,dc=u(user)*, cn=Sales,dc=r(security group)",
		"carol@contoso.com: cn=Carol,dc=r(user)*, " + gStale + "(address book entry)",
	}
	if got := summaries(rep.SIP); !slices.Equal(got, want) {
		t.Fatalf("rows:\n got %q\nwant %q", got, want)
	}
	if rep.Objects != 4 {
		t.Errorf("objects %d, want 4", rep.Objects)
	}
	wantSources := []SourceCount{{"forest userforest", 1}, {"forest resforest", 2}, {"address book F-1A2B.lsabs", 4}}
	if !slices.Equal(rep.Sources, wantSources) {
		t.Errorf("sources %+v", rep.Sources)
	}
	g := rep.SIP[0].Members[1]
	if !*g.InAddressBook || !*g.InRTC || !slices.Equal(g.Sources, []string{"forest resforest", "address book F-1A2B.lsabs"}) {
		t.Errorf("group %+v", g)
	}
	st := rep.SIP[1].Members[1]
	if st.Forest != "" || st.DN != "" || !*st.InAddressBook || *st.InRTC || st.SIPEnabled != nil || st.DisplayName != "Carol (old)" {
		t.Errorf("stale entry %+v", st)
	}
	// Only the objects involved are looked up in AbUserEntry.
	slices.SortFunc(rtc.asked, func(a, b GUID) int { return strings.Compare(a.String(), b.String()) })
	if wantAsked := []GUID{guid(gAlice), guid(gGroup), guid(gCarol), guid(gStale)}; !slices.Equal(rtc.asked, wantAsked) {
		t.Errorf("asked %v, want %v", rtc.asked, wantAsked)
	}
}

func TestFindPhones(t *testing.T) {
	src := &memSource{name: "f", entries: []*ldap.Entry{
		user("cn=A,dc=x", gAlice, "sip:a@c.com", "msRTCSIP-Line", "tel:+14255550100"),
		user("cn=B,dc=x", gBob, "sip:b@c.com", "telephoneNumber", "+1 (425) 555-0100"),
		// Not SIP-enabled: never part of the phone check.
		entry("cn=C,dc=x", gCarol, "objectClass", "user", "proxyAddresses", "sip:c@c.com", "msRTCSIP-Line", "tel:+14255550100"),
		// A contact with the same number: only users count.
		contact("cn=D,dc=x", gDave, "sip:d@c.com", "msRTCSIP-Line", "tel:+14255550100"),
		// The line wins over telephoneNumber, which is the same as A's line but unused.
		user("cn=E,dc=x", gCarol2, "sip:e@c.com", "msRTCSIP-Line", "TEL:+14255550199", "telephoneNumber", "+14255550100"),
		user("cn=F,dc=x", gDisUser, "sip:f@c.com", "msRTCSIP-Line", "tel:+1425555 0199"),
		// A number no rule normalizes is not compared.
		user("cn=G,dc=x", gPlain, "sip:g@c.com", "telephoneNumber", "ext. 100"),
		user("cn=H,dc=x", gStale, "sip:h@c.com", "telephoneNumber", "ext. 100"),
	}}
	rep, err := Find(context.Background(), Inputs{Forests: []ldapsync.Source{src}, Phones: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"tel:+14255550100: cn=A,dc=x(user)*, cn=B,dc=x(user)",
		"tel:+14255550199: cn=E,dc=x(user)*, cn=F,dc=x(user)",
	}
	if got := summaries(rep.Phone); !slices.Equal(got, want) {
		t.Errorf("phone rows:\n got %q\nwant %q", got, want)
	}
	if len(rep.SIP) != 0 {
		t.Errorf("sip rows %q", summaries(rep.SIP))
	}
	if r := rep.Phone[0]; r.Reason != "carries it in msRTCSIP-Line, the other only in telephoneNumber" || !slices.Equal(r.Members[1].Via, []string{"telephoneNumber"}) {
		t.Errorf("reason %q via %v", r.Reason, r.Members[1].Via)
	}
	// Without Phones there is no phone check.
	rep, err = Find(context.Background(), Inputs{Forests: []ldapsync.Source{src}})
	if err != nil || rep.Phone != nil {
		t.Errorf("phones off: %v %v", rep.Phone, err)
	}
}

func TestE164(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"555-533-4312", "tel:+5555334312", true},
		{"+1 (425) 555.0100", "tel:+14255550100", true},
		{"1234567890123456", "", false},
		{"ext 100", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := E164{}.Normalize(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("E164(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFindErrors(t *testing.T) {
	if _, err := Find(context.Background(), Inputs{}); err == nil {
		t.Fatal("no inputs accepted")
	} else if be, ok := err.(interface{ BadInput() bool }); !ok || !be.BadInput() {
		t.Errorf("no inputs: %v is not bad input", err)
	}
	boom := errors.New("connection reset")
	src := &memSource{name: "broken", entries: []*ldap.Entry{user("cn=A,dc=x", gAlice, "sip:a@c.com")}, err: boom}
	_, err := Find(context.Background(), Inputs{Forests: []ldapsync.Source{src}})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "forest broken") {
		t.Errorf("err = %v", err)
	}
}
