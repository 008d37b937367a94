package abs

import (
	"errors"
	"slices"
	"testing"
)

// testTable is the Lync 2013 default attribute table.
func queryTable(t *testing.T) *Table {
	t.Helper()
	tbl, err := NewTable(DefaultAttributes())
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func qsv(id uint16, s string) Value { return Value{AttrID: id, Kind: ValueString, Str: s} }
func qnv(id uint16, s string) Value { return Value{AttrID: id, Kind: ValueNormalized, Str: s} }

var (
	qAnnID   = GUID{1}
	qGroupID = GUID{2}
	qAnn     = &Contact{ID: qAnnID, OuPathID: 7, Values: []Value{
		qsv(19, "SMTP:ann.berg@contoso.com"), qsv(19, "sip:Ann.Berg@Contoso.com"),
		qsv(9, "555-533-4312"), qnv(9, "tel:+5555334312"),
		qsv(11, "4444"),
		qsv(8, "sip:ann.berg@contoso.com"),
		qsv(3, "Ann Berg"), qsv(2, "Berg"), qsv(1, "Ann"),
	}}
	qGroup = &Contact{ID: qGroupID, OuPathID: 9, Values: []Value{
		qsv(19, "SMTP:sales@contoso.com"), qsv(19, "sip:ann.berg@contoso.com"),
		qsv(15, "-2147483646"), qsv(3, "Sales Team"),
	}}
	qDeleted = &Contact{ID: GUID{3}, OuPathID: 9}
)

func TestQueryMatch(t *testing.T) {
	tbl := queryTable(t)
	rules, err := ParseRules("^(\\d{4})$\r\n+1425555$1\r\nE164\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    Query
		want []*Contact // of ann, salesGroup, deleted
	}{
		{"sip with prefix, any case", Query{SIP: "SIP:ANN.BERG@contoso.com"}, []*Contact{qAnn, qGroup}},
		{"sip without prefix", Query{SIP: "ann.berg@contoso.com"}, []*Contact{qAnn, qGroup}},
		{"sip is exact", Query{SIP: "ann@contoso.com"}, nil},
		{"smtp is not sip", Query{SIP: "sales@contoso.com"}, nil},
		{"name part", Query{Name: "BERG"}, []*Contact{qAnn}},
		{"given and sn", Query{Name: "ann berg"}, []*Contact{qAnn}},
		{"group name", Query{Name: "sales"}, []*Contact{qGroup}},
		{"phone raw digits", Query{Phone: "(555) 533-4312"}, []*Contact{qAnn}},
		{"phone normalized digits", Query{Phone: "+5555334312"}, []*Contact{qAnn}},
		{"phone other digits", Query{Phone: "555-533-4313"}, nil},
		{"phone with country code", Query{Phone: "+1 (555) 533 4312"}, []*Contact{qAnn}},
		{"phone without area code", Query{Phone: "533-4312"}, []*Contact{qAnn}},
		{"short suffix is not enough", Query{Phone: "4312"}, nil},
		{"phone by rules: raw 4444 normalizes to +14255554444", Query{Phone: "+1 425 555 4444", Rules: rules}, []*Contact{qAnn}},
		{"phone extension without rules", Query{Phone: "+1 425 555 4444"}, nil},
		{"guid", Query{ID: qGroupID, HasID: true}, []*Contact{qGroup}},
		{"guid finds deleted", Query{ID: GUID{3}, HasID: true}, []*Contact{qDeleted}},
		{"all criteria", Query{SIP: "ann.berg@contoso.com", Name: "team"}, []*Contact{qGroup}},
		{"empty query", Query{}, []*Contact{qAnn, qGroup, qDeleted}},
	}
	for _, tt := range tests {
		q := tt.q
		var got []*Contact
		for _, c := range []*Contact{qAnn, qGroup, qDeleted} {
			if q.Match(c, tbl) {
				got = append(got, c)
			}
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d matches, want %d", tt.name, len(got), len(tt.want))
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: match %d is %s, want %s", tt.name, i, got[i].ID, tt.want[i].ID)
			}
		}
	}
}

func TestIsPhoneAttribute(t *testing.T) {
	tbl := queryTable(t)
	for name, want := range map[string]bool{
		"telephoneNumber": true, "homePhone": true, "mobile": true, "otherTelephone": true, "ipPhone": true,
		"mail": false, "proxyAddresses": false, "displayName": false, "manager": false,
	} {
		a, ok := tbl.ByName(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		if got := IsPhoneAttribute(a); got != want {
			t.Errorf("IsPhoneAttribute(%s) = %v", name, got)
		}
	}
	if !IsPhoneAttribute(Attribute{ID: 30, Name: "pager", Flags: 0xFF001000}) {
		t.Error("an always-normalized attribute is a phone attribute")
	}
}

func TestDigits(t *testing.T) {
	if got := Digits("+1 (425) 555-0100 x12"); got != "1425555010012" {
		t.Errorf("Digits = %q", got)
	}
}

func TestCheckPhones(t *testing.T) {
	tbl := queryTable(t)
	rules, err := ParseRules("^(\\d{4})$\r\n+1425555$1\r\n^(\\d{3})-(\\d{3})-(\\d{4})$\r\ntel:+1$1$2$3\r\n")
	if err != nil {
		t.Fatal(err)
	}
	c := &Contact{ID: GUID{9}, Values: []Value{
		qsv(13, "4711"), qnv(13, "TEL:+14255554711"), // ipPhone (0x2000): agrees, tel: in another case
		qsv(12, "425-555-0100"), qnv(12, "tel:+4255550100"), // otherTelephone: the rules say tel:+14255550100
		qsv(11, "4444"),                         // mobile: no normalized copy stored
		qsv(10, "ext. 12"),                      // homePhone: no rule
		qsv(9, "not a phone"), qnv(9, "tel:+1"), // telephoneNumber: stored, but no rule
		qsv(3, "4444"), // displayName: not normalized, not checked
	}}
	issues, err := CheckPhones(c, tbl, true, rules)
	if err != nil {
		t.Fatal(err)
	}
	want := []PhoneIssue{
		{Kind: PhoneMismatch, Attr: "otherTelephone", Raw: "425-555-0100", Stored: "tel:+4255550100", Expected: "tel:+14255550100", RuleIndex: 1},
		{Kind: PhoneMissing, Attr: "mobile", Raw: "4444", Expected: "tel:+14255554444", RuleIndex: 0},
		{Kind: PhoneNoRule, Attr: "homePhone", Raw: "ext. 12", RuleIndex: -1},
		{Kind: PhoneNoRule, Attr: "telephoneNumber", Raw: "not a phone", Stored: "tel:+1", RuleIndex: -1},
	}
	if len(issues) != len(want) {
		t.Fatalf("%d issues, want %d: %+v", len(issues), len(want), issues)
	}
	for i, w := range want {
		g := issues[i]
		if g.Kind != w.Kind || g.Attr != w.Attr || g.Raw != w.Raw || g.Stored != w.Stored || g.Expected != w.Expected || g.RuleIndex != w.RuleIndex {
			t.Errorf("issue %d = %+v, want %+v", i, g, w)
		}
		if (g.Rule == nil) != (w.RuleIndex < 0) || (g.Rule != nil && g.Rule != rules[w.RuleIndex]) {
			t.Errorf("issue %d: rule %v, want index %d", i, g.Rule, w.RuleIndex)
		}
	}
	// Without UseNormalizationRules, attributes with only the 0x2000 bit are not checked.
	if issues, _ := CheckPhones(c, tbl, false, rules); len(issues) != 0 {
		t.Errorf("useRules=false: %d issues, want 0", len(issues))
	}
}

func TestChanges(t *testing.T) {
	attrs := DefaultAttributes()
	qNewAnn := &Contact{ID: qAnnID, OuPathID: 8, Values: []Value{
		qsv(19, "SMTP:ann.berg@contoso.com"), qsv(19, "sip:Ann.Berg@Contoso.com"), qsv(19, "smtp:ab@contoso.com"),
		qsv(9, "555-533-4312"), qnv(9, "tel:+5555334312"),
		qsv(8, "sip:ann.berg@contoso.com"),
		qsv(4, "Director"),
		qsv(3, "Ann Berg"), qsv(2, "Berg"), qsv(1, "Ann"),
	}}
	qNewGroup := &Contact{ID: GUID{4}, OuPathID: 9, Values: []Value{qsv(3, "New Group"), qsv(15, "2")}}
	old := &Book{Header: Header{Kind: Full, Day: 10}, Attributes: attrs, Contacts: []*Contact{qAnn, qGroup}}
	// The new file lists its attributes in another order: matching is by name.
	rev := make([]Attribute, len(attrs))
	for i, a := range attrs {
		rev[len(attrs)-1-i] = a
	}
	nw := &Book{Header: Header{Kind: Full, Day: 11}, Attributes: rev, Contacts: []*Contact{qNewGroup, qNewAnn, qDeleted}}
	nw.Contacts[2] = &Contact{ID: GUID{5}} // a deleted-object record counts as absent
	changes, err := Changes(old, nw)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 {
		t.Fatalf("%d changes, want 3: %+v", len(changes), changes)
	}
	if c := changes[0]; c.Kind != Changed || c.ID != qAnnID || c.Old != qAnn || c.New != qNewAnn {
		t.Errorf("change 0 = %+v, want ann changed", c)
	}
	if c := changes[1]; c.Kind != Removed || c.ID != qGroupID || c.New != nil {
		t.Errorf("change 1 = %+v, want the group removed", c)
	}
	if c := changes[2]; c.Kind != Added || c.ID != qNewGroup.ID || c.Old != nil {
		t.Errorf("change 2 = %+v, want the new group added", c)
	}
	var names []string
	for _, a := range changes[0].Attrs {
		names = append(names, a.Name)
	}
	// ouPathId first, then the new file's attributes in record order, then those only the old
	// contact had (mobile).
	if got, want := names, []string{OuPathAttr, "proxyAddress", "title", "mobile"}; !slices.Equal(got, want) {
		t.Errorf("changed attributes %v, want %v", got, want)
	}
	if a := changes[0].Attrs[3]; len(a.Old) != 1 || a.Old[0].Str != "4444" || len(a.New) != 0 {
		t.Errorf("mobile change %+v", a)
	}
	if a := changes[0].Attrs[0]; a.Old[0].Str != "7" || a.New[0].Str != "8" {
		t.Errorf("ouPathId change %+v", a)
	}
	same, err := Changes(old, old)
	if err != nil || len(same) != 0 {
		t.Errorf("Changes(old, old) = %v, %v; want none", same, err)
	}
}

func TestFlagsBitNames(t *testing.T) {
	tests := []struct {
		f    Flags
		want []string
	}{
		{0x08520C00, []string{"mail-account", "required", "device", "other=0x500000"}},
		{0x0F010800, []string{"required", "group"}},
		{0x04000000, []string{}},
		{0x0B622800, []string{"required", "normalize-rules-or-proxy", "device", "other=0x600000"}},
	}
	for _, tt := range tests {
		if got := tt.f.BitNames(); !slices.Equal(got, tt.want) || got == nil {
			t.Errorf("%08X.BitNames() = %q, want %q", uint32(tt.f), got, tt.want)
		}
	}
}

// TestChangesStream: the streaming comparison of two files finds what Changes finds over the
// same files read whole: generated days with many changes (and groups that share a SIP address),
// a compact delta (empty attributes, deleted objects) as the new file, and a file against itself.
func TestChangesStream(t *testing.T) {
	x := Generate(GenOptions{Contacts: 600, Seed: 3, Duplicates: 4})
	y := NextDay(x, ChangeOptions{Seed: 5, Added: 40, Deleted: 30, Modified: 80})
	d, err := Diff(x, y, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		old, new *Book
		min      int // changes expected at least
	}{{"days", x, y, 100}, {"delta", x, d, 100}, {"same", x, x, 0}} {
		oldData, newData := writeBook(t, tc.old), writeBook(t, tc.new)
		ob, err := ReadBook(open(t, oldData))
		if err != nil {
			t.Fatal(err)
		}
		nb, err := ReadBook(open(t, newData))
		if err != nil {
			t.Fatal(err)
		}
		want, err := Changes(ob, nb)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ChangesStream(open(t, oldData), open(t, newData))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(want) < tc.min || (tc.min == 0 && len(want) != 0) {
			t.Fatalf("%s: Changes found %d changes, want at least %d", tc.name, len(want), tc.min)
		}
		if !slices.EqualFunc(got, want, sameChange) {
			t.Errorf("%s: ChangesStream found %d changes, Changes %d, or they differ", tc.name, len(got), len(want))
		}
	}
	// A decoding error names its side.
	bad := writeBook(t, x)
	bad = bad[:len(bad)-100]
	var se *SideError
	if _, err := ChangesStream(open(t, writeBook(t, x)), open(t, bad)); !errors.As(err, &se) || !se.New {
		t.Errorf("a truncated new file: %v", err)
	}
	if _, err := ChangesStream(open(t, bad), open(t, writeBook(t, x))); !errors.As(err, &se) || se.New {
		t.Errorf("a truncated old file: %v", err)
	}
}

// sameChange compares two Changes by kind, ContactId, contacts and attribute changes.
func sameChange(a, b Change) bool {
	sameContact := func(x, y *Contact) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(y)) }
	return a.Kind == b.Kind && a.ID == b.ID && sameContact(a.Old, b.Old) && sameContact(a.New, b.New) &&
		slices.EqualFunc(a.Attrs, b.Attrs, func(p, q AttrChange) bool {
			return p.Name == q.Name && slices.Equal(p.Old, q.Old) && slices.Equal(p.New, q.New)
		})
}
