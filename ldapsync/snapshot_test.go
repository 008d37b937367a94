package ldapsync

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

const (
	aliceSID  = "S-1-5-21-1004336348-1177238915-682003330-1105"
	aliceGUID = "96bd221f-8492-4450-abb2-2bd6828db27a"
)

// ldifdeSample is written the way ldifde exports: CRLF, "changetype: add", base64 binary
// values, long values folded.
func ldifdeSample() string {
	sid := base64.StdEncoding.EncodeToString(MustParseSID(aliceSID).Bytes())
	g := MustParseGUID(aliceGUID)
	guid := base64.StdEncoding.EncodeToString(g[:])
	resSID := base64.StdEncoding.EncodeToString(MustParseSID("S-1-5-21-3623811015-3361044348-30300820-2101").Bytes())
	grpSID := base64.StdEncoding.EncodeToString(MustParseSID("S-1-5-21-3623811015-3361044348-30300820-3001").Bytes())
	lines := []string{
		"dn: CN=Alice Able,OU=Users,DC=resforest,DC=test",
		"changetype: add",
		"objectClass: top",
		"objectClass: person",
		"objectClass: user",
		"cn: Alice Able",
		"displayName: Alice Able",
		"sAMAccountName: alice",
		"userAccountControl: 514",
		"objectSid:: " + resSID,
		"objectGUID:: " + guid,
		"msExchMasterAccountSid:: " + sid,
		"msRTCSIP-PrimaryUserAddress: sip:Alice@Contoso.com",
		"proxyAddresses: SMTP:alice@contoso.com",
		"proxyAddresses: sip:alice@contoso.com",
		"description: a long description that ldifde folds onto the next line because it",
		"  is longer than seventy-six characters",
		"",
		"# a comment, then a group",
		"dn: CN=Sales,OU=Groups,DC=resforest,DC=test",
		"changetype: add",
		"objectClass: group",
		"cn: Sales",
		"groupType: -2147483646",
		"objectSid:: " + grpSID,
		"proxyAddresses: sip:alice@contoso.com",
		"",
		"dn: CN=Other,DC=elsewhere,DC=test",
		"changetype: add",
		"objectClass: user",
		"cn: Other",
		"userAccountControl: 512",
		"",
	}
	return strings.Join(lines, "\r\n")
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func collect(t *testing.T, src Source, req SearchRequest) []*Object {
	t.Helper()
	var out []*Object
	for o, err := range src.Search(context.Background(), req) {
		if err != nil {
			t.Fatalf("search %+v: %v", req, err)
		}
		out = append(out, o)
	}
	return out
}

func dnsOf(objs []*Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.DN)
	}
	return out
}

func TestSnapshotLdifde(t *testing.T) {
	s, err := OpenSnapshot("res", writeFile(t, "res.ldf", ldifdeSample()), "DC=resforest,DC=test")
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
	all := collect(t, s, SearchRequest{Filter: "(objectClass=*)", Attributes: []string{"*"}})
	if got := dnsOf(all); len(got) != 2 {
		t.Fatalf("base scoping: got %v, want the two entries under DC=resforest", got)
	}
	alice := all[0]
	if alice.GUID.String() != aliceGUID || alice.MasterSID.String() != aliceSID {
		t.Errorf("alice GUID %s master SID %s", alice.GUID, alice.MasterSID)
	}
	if !alice.Disabled() || alice.Kind != KindUser {
		t.Errorf("alice disabled=%v kind=%s", alice.Disabled(), alice.Kind)
	}
	if got := alice.SIPAddresses(); !slices.Equal(got, []string{"alice@contoso.com"}) {
		t.Errorf("SIPAddresses = %v", got)
	}
	if len(alice.ProxySMTP) != 1 || len(alice.ProxySIP) != 1 {
		t.Errorf("proxy split smtp=%v sip=%v", alice.ProxySMTP, alice.ProxySIP)
	}
	desc := string(alice.Raw["description"][0])
	if !strings.HasSuffix(desc, "because it is longer than seventy-six characters") {
		t.Errorf("folded description = %q", desc)
	}
	sales := all[1]
	if sales.Kind != KindGroup || !sales.SecurityGroup() || sales.Scope() != ScopeGlobal {
		t.Errorf("sales kind=%s security=%v scope=%s", sales.Kind, sales.SecurityGroup(), sales.Scope())
	}
	// Default request: DefaultFilter and ObjectAttributes only.
	def := collect(t, s, SearchRequest{})
	if len(def) != 2 {
		t.Fatalf("default filter found %v", dnsOf(def))
	}
	if _, ok := def[0].Raw["description"]; ok {
		t.Error("default attribute list returned description")
	}
}

func TestSnapshotFilters(t *testing.T) {
	s, err := ReadSnapshot("res", strings.NewReader(ldifdeSample()), "")
	if err != nil {
		t.Fatal(err)
	}
	g := MustParseGUID(aliceGUID)
	tests := []struct {
		filter string
		want   []string // cn values
	}{
		{"(cn=alice able)", []string{"Alice Able"}},
		{"(CN=ALICE*)", []string{"Alice Able"}},
		{"(cn=*a*e*)", []string{"Alice Able", "Sales"}},
		{"(msRTCSIP-PrimaryUserAddress=sip:alice@contoso.com)", []string{"Alice Able"}},
		{"(proxyAddresses=SIP:*)", []string{"Alice Able", "Sales"}},
		{"(&(objectClass=user)(!(cn=Other)))", []string{"Alice Able"}},
		{"(|(cn=Sales)(cn=Other))", []string{"Sales", "Other"}},
		{"(msExchMasterAccountSid=" + MustParseSID(aliceSID).FilterValue() + ")", []string{"Alice Able"}},
		{"(msExchMasterAccountSid=" + aliceSID + ")", []string{"Alice Able"}},
		{"(objectGUID=" + g.FilterValue() + ")", []string{"Alice Able"}},
		{"(objectGUID=" + strings.ToUpper(g.FilterValue()) + ")", []string{"Alice Able"}},
		{"(userAccountControl:1.2.840.113556.1.4.803:=2)", []string{"Alice Able"}},
		{"(userAccountControl:1.2.840.113556.1.4.804:=514)", []string{"Alice Able", "Other"}},
		{"(groupType:1.2.840.113556.1.4.803:=2147483648)", []string{"Sales"}},
		{"(userAccountControl>=513)", []string{"Alice Able"}},
		{"(userAccountControl<=513)", []string{"Other"}},
		{"(description=*)", []string{"Alice Able"}},
		{"(cn=" + ldap.EscapeFilter("*)(objectClass=*") + ")", nil},
		{"(sAMAccountName=" + ldap.EscapeFilter("*") + ")", nil},
		{"(sAMAccountName=" + ldap.EscapeFilter("alice)(|(cn=*") + ")", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, o := range collect(t, s, SearchRequest{Filter: tt.filter, Attributes: []string{"cn"}}) {
			got = append(got, string(o.Raw["cn"][0]))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.filter, got, tt.want)
		}
	}
	for _, bad := range []string{"(cn=x", "(cn:1.2.3:=x)", "cn=x)("} {
		for _, err := range s.Search(context.Background(), SearchRequest{Filter: bad}) {
			var fe *FilterError
			if !errors.As(err, &fe) || !fe.BadInput() {
				t.Errorf("filter %q: err = %v, want *FilterError", bad, err)
			}
		}
	}
	n := 0
	var limitErr error
	for _, err := range s.Search(context.Background(), SearchRequest{Filter: "(objectClass=*)", SizeLimit: 2}) {
		if err != nil {
			limitErr = err
			break
		}
		n++
	}
	var se *SearchError
	if n != 2 || !errors.As(limitErr, &se) || se.Code != ldap.LDAPResultSizeLimitExceeded || !strings.Contains(se.Error(), "size limit exceeded after 2 objects") {
		t.Errorf("size limit: %d objects, err %v", n, limitErr)
	}
}

func TestSnapshotLdapsearchAndErrors(t *testing.T) {
	// ldapsearch -LLL output: LF, no changetype, wrapped at 76 columns, base64 "::".
	lls := "dn: cn=bob,dc=userforest,dc=test\nobjectClass: user\ncn: bob\nobjectSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUgQAAA==\nsn:: w6lsw6h2ZQ==\n"
	s, err := ReadSnapshot("u", strings.NewReader(lls), "dc=userforest,dc=test")
	if err != nil {
		t.Fatal(err)
	}
	objs := collect(t, s, SearchRequest{Filter: "(sn=ÉLÈVE)", Attributes: []string{"*"}})
	if len(objs) != 1 || objs[0].SID.String() != "S-1-5-21-1004336348-1177238915-682003330-1106" {
		t.Fatalf("ldapsearch output: %+v", objs)
	}

	tests := []struct {
		name, content string
		line          int
		want          string
	}{
		{"no colon", "dn: cn=a,dc=x\ncn: a\nthis line is broken\n\n", 3, "want attr: value"},
		{"bad base64", "dn: cn=a,dc=x\ncn: a\n\ndn: cn=b,dc=x\nobjectSid:: !!!!\n", 5, "bad base64"},
		{"missing dn", "dn: cn=a,dc=x\ncn: a\n\ncn: b\nsn: b\n", 4, "dn"},
		{"url value", "dn: cn=a,dc=x\ncn:< file:///etc/passwd\n", 2, "URL values"},
		{"modify record", "dn: cn=a,dc=x\nchangetype: modify\nreplace: cn\ncn: b\n-\n", 1, "changetype: modify record"},
		{"continuation first", " cn: a\n", 1, "continuation"},
		{"bad version", "version: 2\n\ndn: cn=a,dc=x\ncn: a\n", 1, "version"},
		{"duplicate DN", "dn: cn=a,dc=x\ncn: a\n\ndn: CN=A,DC=X\ncn: b\n", 4, "duplicate DN: the entry of line 1 again"},
	}
	for _, tt := range tests {
		path := writeFile(t, "bad.ldif", tt.content+"\ndn: cn=good,dc=x\ncn: good\n")
		_, err := OpenSnapshotWith("bad", path, "", ReadOptions{Strict: true})
		var le *LDIFError
		if !errors.As(err, &le) {
			t.Errorf("%s: err = %v, want *LDIFError", tt.name, err)
			continue
		}
		if le.Line != tt.line || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), path+":") {
			t.Errorf("%s: %v (line %d), want line %d containing %q", tt.name, err, le.Line, tt.line, tt.want)
		}
		// Not strict: the record is skipped and reported, the others are read.
		s, err := OpenSnapshot("bad", path, "")
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		rep := s.ReadReport()
		if rep.Skipped != 1 || rep.Problems[0].Line != tt.line || s.entries[len(s.entries)-1].DN != "cn=good,dc=x" {
			t.Errorf("%s: report %+v, %d entries", tt.name, rep, s.Len())
		}
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	long := strings.Repeat("0123456789", 30)
	entries := []*ldap.Entry{
		{DN: "cn=Zoë Zed,ou=Users,dc=resforest,dc=test", Attributes: []*ldap.EntryAttribute{
			ldap.NewEntryAttribute("objectClass", []string{"top", "user"}),
			ldap.NewEntryAttribute("objectSid", []string{string(MustParseSID(aliceSID).Bytes())}),
			ldap.NewEntryAttribute("displayName", []string{"Zoë Zed"}),
			ldap.NewEntryAttribute("description", []string{" leading space", "trailing space ", ":colon", "<angle", long, ""}),
			ldap.NewEntryAttribute("info", []string{"line1\nline2", "\x00\xff binary"}),
		}},
		{DN: "cn=plain,dc=resforest,dc=test", Attributes: []*ldap.EntryAttribute{
			ldap.NewEntryAttribute("cn", []string{"plain"}),
		}},
	}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, entries); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(buf.String(), "\n") {
		if len(l) > 76 {
			t.Errorf("line longer than 76: %q", l)
		}
	}
	s, err := ReadSnapshot("rt", bytes.NewReader(buf.Bytes()), "")
	if err != nil {
		t.Fatalf("reading back: %v\n%s", err, buf.String())
	}
	var got []*ldap.Entry
	for e, err := range s.SearchEntries(context.Background(), SearchRequest{Filter: "(objectClass=*)", Attributes: []string{"*"}}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	// objectClass=* needs the attribute; the second entry has none, so search by DN presence.
	if len(got) != 1 {
		t.Fatalf("got %d entries", len(got))
	}
	if err := sameEntries(entries[:1], got); err != nil {
		t.Fatal(err)
	}
	if err := sameEntries(entries, s.entries); err != nil {
		t.Fatal(err)
	}
}

// sameEntries compares DNs and attribute values, ignoring attribute order.
func sameEntries(want, got []*ldap.Entry) error {
	if len(want) != len(got) {
		return errors.New("different entry counts")
	}
	for i := range want {
		if want[i].DN != got[i].DN {
			return errors.New("DN " + got[i].DN + " != " + want[i].DN)
		}
		if len(want[i].Attributes) != len(got[i].Attributes) {
			return errors.New(want[i].DN + ": different attribute counts")
		}
		for _, a := range want[i].Attributes {
			g := got[i].GetRawAttributeValues(a.Name)
			if !slices.EqualFunc(a.ByteValues, g, bytes.Equal) {
				return errors.New(want[i].DN + ": " + a.Name + " differs")
			}
		}
	}
	return nil
}

func TestSnapshotContextCancel(t *testing.T) {
	s, err := ReadSnapshot("res", strings.NewReader(ldifdeSample()), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range s.Search(ctx, SearchRequest{Filter: "(objectClass=*)"}) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	}
}
