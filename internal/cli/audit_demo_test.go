package cli

// The generator of testdata/demo, the sample data of `make demo` and of the audit end-to-end
// test. TestDemoDataUpToDate regenerates every file in memory and compares it with the committed
// one; `go test ./internal/cli -run TestDemoDataUpToDate -update-demo` rewrites them.
//
// The demo is a resource-forest deployment of Contoso: people log on in userforest
// (dc=userforest,dc=test) and are SIP-enabled through disabled accounts in resforest
// (dc=resforest,dc=test) whose msRTCSIP-OriginatorSid is their user-forest objectSid. Planted
// problems, and the audit findings they cause:
//
//	duplicate-sip (3)        alice's resource account and the mail-enabled security group "Sales Team"
//	                         share sip:alice@contoso.com (through proxyAddresses); the user-forest
//	                         contact "Bob Baker (external)" duplicates bob; the contact
//	                         "Carol Clark (old)" carries SIP:Carol@Contoso.com (case only)
//	duplicate-phone (1)      erin and frank have the same msRTCSIP-Line
//	sidmap (2)               grace is unmapped; heidi is mapped to niaj's SID (msExchMasterAccountSid
//	                         says heidi)
//	hidden-sip (1)           judy is hidden from address lists
//	disabled-sip (1)         oscar, a user-forest account, is disabled but still SIP-enabled
//	abs-freshness (2)        the newest full file is from 2026-11-20 (stale by any later clock);
//	                         the delta from 2026-11-17 to 2026-11-18 is missing
//	phone-normalization (2)  kevin's and laura's numbers match no rule

import (
	"bytes"
	"crypto/sha1"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/abkit/abkit/abs"
	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
)

var updateDemo = flag.Bool("update-demo", false, "rewrite testdata/demo from the generator")

const demoDir = "../../testdata/demo"

// Domain SIDs of the two demo forests.
const (
	demoUserDomain = "S-1-5-21-1004336348-1177238915-682003330"
	demoResDomain  = "S-1-5-21-3623811015-3361044348-30300820"
)

// demoFirstDay is the day of the oldest address book file; the demo holds seven days.
var demoFirstDay = time.Date(2026, 11, 14, 0, 0, 0, 0, time.UTC)

// demoMissingDelta is the day whose one-day delta is left out.
const demoMissingDelta = 4

// demoCompactDelta is the day whose delta is written as a compact delta.
const demoCompactDelta = 6

type demoPerson struct {
	sam, given, sn, title, dept, phone string
	line                               string // msRTCSIP-Line
	rid                                int    // RID in both forests
	mapping                            string // "", "unmapped", or the sam whose SID heidi wrongly carries
	hidden                             bool
	resource                           bool // has a resource-forest account
	disabled                           bool // user-forest account disabled
	sipInUserForest                    bool // SIP-enabled in the user forest (a pre-resource-forest account)
	fromDay                            int  // first address book day the person appears in
}

var demoPeople = []demoPerson{
	{sam: "alice", given: "Alice", sn: "Able", title: "Engineer", dept: "Engineering", phone: "+1 (425) 555-0101", rid: 1105, resource: true},
	{sam: "bob", given: "Bob", sn: "Baker", title: "Accountant", dept: "Finance", phone: "425-555-0102", rid: 1106, resource: true},
	{sam: "carol", given: "Carol", sn: "Clark", title: "Director", dept: "Sales", phone: "(425) 555 0103", rid: 1107, resource: true},
	{sam: "dave", given: "Dave", sn: "Dunn", title: "Designer", dept: "Marketing", phone: "50104", rid: 1108, resource: true},
	{sam: "erin", given: "Erin", sn: "Evans", title: "Support Specialist", dept: "Support", phone: "+1 425 555 0105", line: "tel:+14255550150", rid: 1109, resource: true},
	{sam: "frank", given: "Frank", sn: "Fischer", title: "Support Specialist", dept: "Support", phone: "+1 425 555 0106", line: "tel:+14255550150", rid: 1110, resource: true},
	{sam: "grace", given: "Grace", sn: "Green", title: "Analyst", dept: "Finance", phone: "425.555.0107", rid: 1111, resource: true, mapping: "unmapped", fromDay: 2},
	{sam: "heidi", given: "Heidi", sn: "Huang", title: "Program Manager", dept: "Operations", phone: "+1 (425) 555-0108", rid: 1112, resource: true, mapping: "niaj"},
	{sam: "ivan", given: "Ivan", sn: "Ito", title: "Senior Engineer", dept: "Engineering", phone: "+1 (425) 555-0109", rid: 1113, resource: true},
	{sam: "judy", given: "Judy", sn: "Jensen", title: "Legal Counsel", dept: "Legal", phone: "+1 (425) 555-0110", rid: 1114, resource: true, hidden: true},
	{sam: "kevin", given: "Kevin", sn: "Kowalski", title: "Sales Representative", dept: "Sales", phone: "+1 425 555 0142 ext. 12", rid: 1115, resource: true},
	{sam: "laura", given: "Laura", sn: "Lopez", title: "Sales Representative", dept: "Sales", phone: "+44 20 7946 0958", rid: 1116, resource: true, fromDay: 5},
	{sam: "niaj", given: "Niaj", sn: "Novak", title: "Engineer", dept: "Engineering", phone: "+1 (425) 555-0117", rid: 1117},
	{sam: "oscar", given: "Oscar", sn: "Olsen", title: "Consultant", dept: "Operations", phone: "+1 (425) 555-0118", rid: 1118, disabled: true, sipInUserForest: true},
}

// demoGUID derives a stable objectGUID from a name (forest and object), version-4 shaped.
func demoGUID(name string) ldapsync.GUID {
	sum := sha1.Sum([]byte("abkit demo " + name))
	var g ldapsync.GUID
	copy(g[:], sum[:16])
	g[7] = g[7]&0x0F | 0x40
	g[8] = g[8]&0x3F | 0x80
	return g
}

func demoGUIDBytes(name string) []byte {
	g := demoGUID(name)
	return g[:]
}

func demoSID(domain string, rid int) []byte {
	return ldapsync.MustParseSID(fmt.Sprintf("%s-%d", domain, rid)).Bytes()
}

func (p demoPerson) display() string { return p.given + " " + p.sn }
func (p demoPerson) mail() string    { return p.sam + "@contoso.com" }

// demoEntry builds an LDAP entry from name/value pairs; string values and []byte values may mix.
func demoEntry(dn string, attrs ...any) *ldap.Entry {
	e := &ldap.Entry{DN: dn}
	for i := 0; i+1 < len(attrs); i += 2 {
		name := attrs[i].(string)
		var raw [][]byte
		switch v := attrs[i+1].(type) {
		case string:
			raw = [][]byte{[]byte(v)}
		case []string:
			for _, s := range v {
				raw = append(raw, []byte(s))
			}
		case []byte:
			raw = [][]byte{v}
		}
		a := &ldap.EntryAttribute{Name: name, ByteValues: raw}
		for _, r := range raw {
			a.Values = append(a.Values, string(r))
		}
		e.Attributes = append(e.Attributes, a)
	}
	return e
}

func demoContainers(dc string) []*ldap.Entry {
	base := "dc=" + dc + ",dc=test"
	return []*ldap.Entry{
		demoEntry(base, "objectClass", []string{"top", "domain"}, "dc", dc),
		demoEntry("ou=Users,"+base, "objectClass", []string{"top", "organizationalUnit"}, "ou", "Users"),
		demoEntry("ou=Groups,"+base, "objectClass", []string{"top", "organizationalUnit"}, "ou", "Groups"),
		demoEntry("ou=Contacts,"+base, "objectClass", []string{"top", "organizationalUnit"}, "ou", "Contacts"),
	}
}

var demoUserClasses = []string{"top", "person", "organizationalPerson", "user"}

func demoUserForest() []*ldap.Entry {
	out := demoContainers("userforest")
	for _, p := range demoPeople {
		uac := "512"
		if p.disabled {
			uac = "514"
		}
		e := demoEntry(fmt.Sprintf("cn=%s,ou=Users,dc=userforest,dc=test", p.display()),
			"objectClass", demoUserClasses, "cn", p.display(), "givenName", p.given, "sn", p.sn,
			"displayName", p.display(), "sAMAccountName", p.sam, "userPrincipalName", p.sam+"@userforest.test",
			"mail", p.mail(), "title", p.title, "department", p.dept, "telephoneNumber", p.phone,
			"objectGUID", demoGUIDBytes("userforest/"+p.sam), "objectSid", demoSID(demoUserDomain, p.rid),
			"userAccountControl", uac)
		if p.sipInUserForest {
			e.Attributes = append(e.Attributes, demoEntry("",
				"msRTCSIP-PrimaryUserAddress", "sip:"+p.mail(), "msRTCSIP-UserEnabled", "TRUE",
				"proxyAddresses", []string{"SMTP:" + p.mail(), "sip:" + p.mail()}).Attributes...)
		}
		out = append(out, e)
	}
	// A contact for bob, left over from a partner directory sync: a duplicate of bob's address.
	out = append(out, demoEntry("cn=Bob Baker (external),ou=Contacts,dc=userforest,dc=test",
		"objectClass", []string{"top", "person", "organizationalPerson", "contact"}, "cn", "Bob Baker (external)", "sn", "Baker",
		"displayName", "Bob Baker (external)", "mail", "bob.baker@fabrikam.com",
		"msRTCSIP-PrimaryUserAddress", "sip:bob@contoso.com", "msRTCSIP-UserEnabled", "TRUE",
		"objectGUID", demoGUIDBytes("userforest/contact-bob")))
	return out
}

func demoResourceForest() []*ldap.Entry {
	out := demoContainers("resforest")
	sids := map[string]int{}
	for _, p := range demoPeople {
		sids[p.sam] = p.rid
	}
	for _, p := range demoPeople {
		if !p.resource {
			continue
		}
		e := demoEntry(fmt.Sprintf("cn=%s,ou=Users,dc=resforest,dc=test", p.display()),
			"objectClass", demoUserClasses, "cn", p.display(), "givenName", p.given, "sn", p.sn,
			"displayName", p.display(), "sAMAccountName", p.sam, "mail", p.mail(), "title", p.title,
			"department", p.dept, "company", "Contoso Ltd", "telephoneNumber", p.phone,
			"objectGUID", demoGUIDBytes("resforest/"+p.sam), "objectSid", demoSID(demoResDomain, 2100+p.rid),
			"userAccountControl", "514",
			"proxyAddresses", []string{"SMTP:" + p.mail(), "sip:" + p.mail()},
			"msRTCSIP-PrimaryUserAddress", "sip:"+p.mail(), "msRTCSIP-UserEnabled", "TRUE",
			"msRTCSIP-PrimaryHomeServer", "CN=LC Services,CN=Microsoft,CN=pool01,CN=Pools,CN=RTC Service,CN=Services,CN=Configuration,dc=resforest,dc=test")
		if p.mapping != "unmapped" {
			e.Attributes = append(e.Attributes, demoEntry("", "msExchMasterAccountSid", demoSID(demoUserDomain, p.rid)).Attributes...)
			orig := p.rid
			if p.mapping != "" {
				orig = sids[p.mapping]
			}
			e.Attributes = append(e.Attributes, demoEntry("", "msRTCSIP-OriginatorSid", demoSID(demoUserDomain, orig)).Attributes...)
		}
		if p.line != "" {
			e.Attributes = append(e.Attributes, demoEntry("", "msRTCSIP-Line", p.line).Attributes...)
		}
		if p.hidden {
			e.Attributes = append(e.Attributes, demoEntry("", "msExchHideFromAddressLists", "TRUE").Attributes...)
		}
		out = append(out, e)
	}
	out = append(out,
		// A mail-enabled security group that was given alice's address.
		demoEntry("cn=Sales Team,ou=Groups,dc=resforest,dc=test",
			"objectClass", []string{"top", "group"}, "cn", "Sales Team", "displayName", "Sales Team",
			"sAMAccountName", "sales-team", "mail", "sales@contoso.com", "groupType", "-2147483646",
			"proxyAddresses", []string{"SMTP:sales@contoso.com", "sip:alice@contoso.com"},
			"objectGUID", demoGUIDBytes("resforest/group-sales"), "objectSid", demoSID(demoResDomain, 3001)),
		// An old contact for carol, differing only in case.
		demoEntry("cn=Carol Clark (old),ou=Contacts,dc=resforest,dc=test",
			"objectClass", []string{"top", "person", "organizationalPerson", "contact"}, "cn", "Carol Clark (old)", "sn", "Clark",
			"displayName", "Carol Clark (old)", "mail", "carol.clark@contoso.com",
			"proxyAddresses", []string{"SMTP:carol.clark@contoso.com", "SIP:Carol@Contoso.com"},
			"objectGUID", demoGUIDBytes("resforest/contact-carol")),
	)
	return out
}

// Attribute ids of abs.DefaultAttributes used by the demo books.
const (
	demoIDGivenName   = 1
	demoIDSn          = 2
	demoIDDisplayName = 3
	demoIDTitle       = 4
	demoIDMailNick    = 5
	demoIDCompany     = 6
	demoIDSIP         = 8
	demoIDTelephone   = 9
	demoIDMail        = 14
	demoIDGroupType   = 15
	demoIDDepartment  = 16
	demoIDProxy       = 19
)

// demoBook returns the full address book of demo day d (0-6): the resource forest's people
// present that day (not the hidden one), the group and the contact. Day 3 changes carol's title.
func demoBook(t *testing.T, rules abs.Rules, d int) *abs.Book {
	t.Helper()
	day, err := abs.DayOf(demoFirstDay.AddDate(0, 0, d))
	if err != nil {
		t.Fatal(err)
	}
	b := &abs.Book{
		Header:     abs.Header{Kind: abs.Full, FileType: abs.FullFileType, Day: day, UseNormalizationRules: true},
		Attributes: absSIPProxyTable(), // the demo's groups carry sip: proxy addresses
		Rules:      abs.DefaultRules,
	}
	s := func(id uint16, v string) abs.Value { return abs.Value{AttrID: id, Kind: abs.ValueString, Str: v} }
	for _, p := range demoPeople {
		if !p.resource || p.hidden || d < p.fromDay {
			continue
		}
		title := p.title
		if p.sam == "carol" && d >= 3 {
			title = "Vice President"
		}
		c := &abs.Contact{ID: abs.GUID(demoGUID("resforest/" + p.sam)), OuPathID: 1}
		c.Values = append(c.Values, s(demoIDGivenName, p.given), s(demoIDSn, p.sn), s(demoIDDisplayName, p.display()),
			s(demoIDTitle, title), s(demoIDMailNick, p.sam), s(demoIDCompany, "Contoso Ltd"),
			s(demoIDSIP, "sip:"+p.mail()), s(demoIDTelephone, p.phone))
		res, err := rules.Normalize(p.phone)
		if err != nil {
			t.Fatal(err)
		}
		if res.Matched {
			c.Values = append(c.Values, abs.Value{AttrID: demoIDTelephone, Kind: abs.ValueNormalized, Str: res.TelURI()})
		}
		c.Values = append(c.Values, s(demoIDMail, p.mail()), s(demoIDDepartment, p.dept),
			s(demoIDProxy, "SMTP:"+p.mail()), s(demoIDProxy, "sip:"+p.mail()))
		b.Contacts = append(b.Contacts, c)
	}
	b.Contacts = append(b.Contacts,
		&abs.Contact{ID: abs.GUID(demoGUID("resforest/group-sales")), OuPathID: 2, Values: []abs.Value{
			s(demoIDDisplayName, "Sales Team"), s(demoIDMailNick, "sales-team"), s(demoIDMail, "sales@contoso.com"),
			s(demoIDGroupType, "-2147483646"), s(demoIDProxy, "SMTP:sales@contoso.com"), s(demoIDProxy, "sip:alice@contoso.com")}},
		&abs.Contact{ID: abs.GUID(demoGUID("resforest/contact-carol")), OuPathID: 3, Values: []abs.Value{
			s(demoIDDisplayName, "Carol Clark (old)"), s(demoIDMail, "carol.clark@contoso.com"),
			s(demoIDProxy, "SMTP:carol.clark@contoso.com"), s(demoIDProxy, "SIP:Carol@Contoso.com")}},
	)
	for _, c := range b.Contacts {
		slices.SortStableFunc(c.Values, func(x, y abs.Value) int { return int(y.AttrID) - int(x.AttrID) })
	}
	slices.SortFunc(b.Contacts, func(x, y *abs.Contact) int { return bytes.Compare(x.ID[:], y.ID[:]) })
	return b
}

// demoFiles generates every file of testdata/demo but abkit.yaml, by path relative to it.
func demoFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	for name, entries := range map[string][]*ldap.Entry{"userforest.ldif": demoUserForest(), "resforest.ldif": demoResourceForest()} {
		var b bytes.Buffer
		b.WriteString("# abkit demo data, generated by internal/cli/audit_demo_test.go: do not edit.\n")
		if err := ldapsync.WriteSnapshot(&b, entries); err != nil {
			t.Fatal(err)
		}
		files[name] = b.Bytes()
	}
	rulesText := abs.DefaultRules
	rules, err := abs.ParseRules(rulesText)
	if err != nil {
		t.Fatal(err)
	}
	files["abs/Company_Phone_Number_Normalization_Rules.txt"] = []byte(rulesText)
	var prev *abs.Book
	for d := range 7 {
		book := demoBook(t, rules, d)
		var b bytes.Buffer
		if err := abs.Write(&b, book); err != nil {
			t.Fatal(err)
		}
		files["abs/"+abs.FileName{Kind: abs.Full, Day: book.Header.Day}.String()] = b.Bytes()
		if prev != nil && d != demoMissingDelta {
			delta, err := abs.Diff(prev, book, d == demoCompactDelta)
			if err != nil {
				t.Fatal(err)
			}
			var db bytes.Buffer // a new buffer: the full file's bytes above alias b's
			if err := abs.Write(&db, delta); err != nil {
				t.Fatal(err)
			}
			files["abs/"+abs.FileName{Kind: delta.Header.Kind, BaseDay: prev.Header.Day, Day: book.Header.Day}.String()] = db.Bytes()
		}
		prev = book
	}
	return files
}

func TestDemoDataUpToDate(t *testing.T) {
	files := demoFiles(t)
	if *updateDemo {
		if err := os.RemoveAll(filepath.Join(demoDir, "abs")); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			p := filepath.Join(demoDir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range files {
		if strings.HasSuffix(name, ".lsabs") {
			// Every generated address book file must decode, as the kind its name says.
			r, err := abs.NewReader(bytes.NewReader(want), int64(len(want)))
			if err == nil {
				var book *abs.Book
				if book, err = abs.ReadBook(r); err == nil {
					if fn, _ := abs.ParseFileName(filepath.Base(name)); fn.Kind != book.Header.Kind {
						err = fmt.Errorf("a %v file named as %v", book.Header.Kind, fn.Kind)
					}
				}
			}
			if err != nil {
				t.Errorf("generated %s: %v", name, err)
			}
		}
		got, err := os.ReadFile(filepath.Join(demoDir, name))
		if err != nil {
			t.Errorf("%v (run: go test ./internal/cli -run TestDemoDataUpToDate -update-demo)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("testdata/demo/%s differs from the generator's output (run with -update-demo)", name)
		}
	}
	absFiles, err := filepath.Glob(filepath.Join(demoDir, "abs", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(absFiles) != len(files)-2 {
		t.Errorf("testdata/demo/abs holds %d files, the generator makes %d", len(absFiles), len(files)-2)
	}
}
