package abs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// fileBuilder assembles files byte by byte, independently of Writer, from the [SPEC]/[EX] layout.
type fileBuilder struct{ b []byte }

func (f *fileBuilder) u16(v uint16) *fileBuilder {
	f.b = binary.LittleEndian.AppendUint16(f.b, v)
	return f
}
func (f *fileBuilder) u32(v uint32) *fileBuilder {
	f.b = binary.LittleEndian.AppendUint32(f.b, v)
	return f
}
func (f *fileBuilder) raw(p ...byte) *fileBuilder {
	f.b = append(f.b, p...)
	return f
}
func (f *fileBuilder) str(s string) *fileBuilder { f.b = append(append(f.b, s...), 0); return f }

// deltaHeader appends a 154-byte delta or compact header.
func (f *fileBuilder) deltaHeader(ft GUID, base, day, nattr, maxID, useNorm uint16) *fileBuilder {
	f.raw(ft[:]...).u16(base).u16(day).u16(nattr).u16(maxID).u16(useNorm)
	return f.raw(make([]byte, sourceStreamSize)...)
}

// attr appends an ABF_ATTRIBUTE record.
func (f *fileBuilder) attr(id uint16, flags uint32, name string) *fileBuilder {
	return f.u16(uint16(6 + len(name) + 1)).u16(id).u32(flags).str(name)
}

// contact appends an ABF_CONTACT with the given record bytes.
func (f *fileBuilder) contact(id GUID, ou uint32, recs []byte) *fileBuilder {
	return f.u32(uint32(20 + len(recs))).raw(id[:]...).u32(ou).raw(recs...)
}

func recs(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			b = append(b, byte(v))
		case string:
			b = append(append(b, v...), 0)
		case []byte:
			b = append(b, v...)
		}
	}
	return b
}

func open(t testing.TB, data []byte) *Reader {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return r
}

func collect(r *Reader) ([]*Contact, error) {
	var out []*Contact
	for c, err := range r.Contacts() {
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	return out, nil
}

var guidA = GUID{0x1f, 0x22, 0xbd, 0x96, 0x92, 0x84, 0x50, 0x44, 0xab, 0xb2, 0x2b, 0xd6, 0x82, 0x8d, 0xb2, 0x7a}

// specDelta is a delta built from the spec's facts: attributes in descending Id order, the
// title/physicalDeliveryOfficeName records, a normalized otherTelephone (Id 15), a deleted object.
func specDelta() []byte {
	f := &fileBuilder{}
	f.deltaHeader(DeltaFileType, 0x0A10, 0x0A11, 5, 15, 1)
	rules := "E164\r\n\r\n\x00"
	f.u32(uint32(len(rules))).raw([]byte(rules)...)
	f.attr(15, 0x0C002000, "otherTelephone")
	f.attr(8, 0x07000000, "physicalDeliveryOfficeName")
	f.attr(7, 0x06000000, "company")
	f.attr(6, 0x05000400, "mailNickname")
	f.attr(5, 0x04000000, "title")
	f.contact(guidA, 209, recs(0x0F, "555-533-4312", 0x0F, "tel:+5555334312", 0x08, "Building 1", 0x05, "Development Manager"))
	f.contact(GUID{1}, 7, nil)
	return f.b
}

func TestSpecFacts(t *testing.T) {
	data := specDelta()
	r := open(t, data)
	h := r.Header
	if h.Kind != Delta || h.BaseDay != 0x0A10 || h.Day != 0x0A11 || !h.UseNormalizationRules || h.MaximumAttributeID != 15 {
		t.Fatalf("header %+v", h)
	}
	if r.RulesText() != "E164\r\n\r\n" {
		t.Errorf("rules %q", r.RulesText())
	}
	// [EX] title record: Length 0x000C, 14 bytes; physicalDeliveryOfficeName: 0x0021, 35 bytes.
	for _, tc := range []struct {
		name        string
		length, all int
	}{{"title", 0x0C, 14}, {"physicalDeliveryOfficeName", 0x21, 35}} {
		i := bytes.Index(data, []byte(tc.name+"\x00")) - 8
		if got := int(binary.LittleEndian.Uint16(data[i:])); got != tc.length || 2+got != tc.all {
			t.Errorf("%s record Length %#x, want %#x (%d bytes)", tc.name, got, tc.length, tc.all)
		}
	}
	if got := r.Layout.AttributesOffset - r.Layout.RulesOffset; got != 4+9 {
		t.Errorf("rules block is %d bytes, want 13", got)
	}
	cs, err := collect(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("%d contacts", len(cs))
	}
	c := cs[0]
	if c.ID.String() != "96bd221f-8492-4450-abb2-2bd6828db27a" || c.OuPathID != 209 || c.Offset != r.Layout.ContactsOffset {
		t.Errorf("contact %s ou %d offset %d", c.ID, c.OuPathID, c.Offset)
	}
	want := []Value{
		{AttrID: 15, Kind: ValueString, Str: "555-533-4312"},
		{AttrID: 15, Kind: ValueNormalized, Str: "tel:+5555334312"},
		{AttrID: 8, Kind: ValueString, Str: "Building 1"},
		{AttrID: 5, Kind: ValueString, Str: "Development Manager"},
	}
	if !slices.EqualFunc(c.Values, want, Value.Equal) {
		t.Errorf("values %+v", c.Values)
	}
	if v, _ := c.First(r.Table(), "title"); v != "Development Manager" {
		t.Errorf("First(title) = %q", v)
	}
	if c.Deleted() || !cs[1].Deleted() {
		t.Errorf("Deleted: %t %t", c.Deleted(), cs[1].Deleted())
	}
	parts := strings.Join(r.ProvisionalParts(), "|")
	for _, p := range []string{ProvisionalContact, ProvisionalDeleted} {
		if !strings.Contains(parts, p) {
			t.Errorf("provisional parts %q lack %q", parts, p)
		}
	}
	if strings.Contains(parts, ProvisionalFullHeader) || strings.Contains(parts, ProvisionalMultiValue) {
		t.Errorf("provisional parts %q name rules the file did not use", parts)
	}
	// Flag 0x2000 without UseNormalizationRules: the normalized number comes from proxyAddresses,
	// so the second otherTelephone record is still the normalized copy ([PRODUCT]).
	data[deltaOffUseNorm] = 0
	if cs, err := collect(open(t, data)); err != nil || cs[0].Values[1].Kind != ValueNormalized {
		t.Errorf("0x2000 without UseNormalizationRules: %v", err)
	}
	// With neither 0x1000 nor 0x2000, the second record is a repeat of a single-valued attribute.
	binary.LittleEndian.PutUint32(data[bytes.Index(data, []byte("otherTelephone"))-4:], 0x0C000000)
	if _, err := collect(open(t, data)); err == nil || !strings.Contains(err.Error(), "single-valued") {
		t.Errorf("repeat without normalization: %v", err)
	}
}

// TestFormatErrors breaks specDelta (or builds small files) in every way the reader must catch.
func TestFormatErrors(t *testing.T) {
	base := specDelta()
	r0 := open(t, base)
	c0 := r0.Layout.ContactsOffset
	rec0 := int(c0) + 24 // first record of the first contact
	patch := func(f func(b []byte) []byte) []byte { return f(slices.Clone(base)) }
	withContact := func(attrs func(*fileBuilder), recs []byte, kind GUID) []byte {
		f := &fileBuilder{}
		f.deltaHeader(kind, 1, 2, 3, 3, 0).u32(0)
		attrs(f)
		return f.contact(guidA, 1, recs).b
	}
	threeAttrs := func(f *fileBuilder) {
		f.attr(3, 0x00000001, "binaryAttr").attr(2, 0x00000003, "boolAttr").attr(1, 0x00000000, "name")
	}
	tests := []struct {
		name     string
		data     []byte
		header   bool   // the error comes from NewReader
		want     string // substring of the error
		is       error
		unsup    bool
		atOffset int64 // -1: do not check
	}{
		{"empty file", nil, true, "FileType", ErrTruncated, false, 0},
		{"short header", base[:100], true, "delta header", ErrTruncated, false, 0},
		{"rules length past end", patch(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[154:], 1<<31); return b }), true, "ABF_NORMALIZATION_RULES.Length", ErrTruncated, false, 154},
		{"rules without NUL", patch(func(b []byte) []byte { b[154+4+8] = 'x'; return b }), true, "final NUL", nil, false, 154 + 4 + 8},
		{"attribute count past end", patch(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[deltaOffNumAttrs:], 5000); return b }), true, "NumberOfAttributes", ErrTruncated, false, deltaOffNumAttrs},
		{"attribute id above maximum", patch(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[deltaOffMaxAttr:], 14); return b }), true, "MaximumAttributeId 14", nil, false, -1},
		{"maximum above every id", patch(func(b []byte) []byte { binary.LittleEndian.PutUint16(b[deltaOffMaxAttr:], 16); return b }), true, "the largest attribute Id, 15", nil, false, deltaOffMaxAttr},
		{"attribute name without NUL", patch(func(b []byte) []byte {
			i := bytes.Index(b, []byte("company\x00"))
			b[i+7] = 'y'
			return b
		}), true, "no NUL", nil, false, -1},
		{"attribute Length too small", patch(func(b []byte) []byte {
			binary.LittleEndian.PutUint16(b[r0.Layout.AttributesOffset:], 3)
			return b
		}), true, "at least 7", nil, false, r0.Layout.AttributesOffset},
		{"duplicate record Id byte", withContact(func(f *fileBuilder) {
			f.b[deltaOffMaxAttr] = 0x01
			f.b[deltaOffMaxAttr+1] = 0x01
			f.attr(0x101, 0, "a").attr(1, 0, "b").attr(2, 0, "c")
		}, recs(1, "x"), DeltaFileType), true, "same record Id byte", nil, false, -1},
		{"contact Length below 20", patch(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[c0:], 19); return b }), false, "ABF_CONTACT.Length", nil, false, c0},
		{"contact Length past end", patch(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[c0:], 1<<30); return b }), false, "ABF_CONTACT.Length", io.ErrUnexpectedEOF, false, c0},
		{"truncated contact head", base[:c0+2], false, "ABF_CONTACT.Length", ErrTruncated, false, c0},
		{"unknown attribute Id", patch(func(b []byte) []byte { b[rec0] = 0x33; return b }), false, "found 0x33", nil, false, int64(rec0)},
		{"string without NUL", patch(func(b []byte) []byte {
			second := r0.Layout.ContactsOffset + 4 + int64(binary.LittleEndian.Uint32(b[c0:]))
			b[second-1] = '!'
			return b
		}), false, "without NUL", nil, false, -1},
		{"attribute not adjacent", withContact(threeAttrs, recs(1, "a", 3, 0, 0, 1, "b"), DeltaFileType), false, "adjacent", nil, false, -1},
		{"single-valued repeated", withContact(threeAttrs, recs(1, "a", 1, "b"), DeltaFileType), false, "single-valued", nil, false, -1},
		// A type-0x3 attribute never has a record: whatever follows its Id is not decoded.
		{"boolean-string value", withContact(threeAttrs, recs(1, "a", 2, 1), DeltaFileType), false, "type-0x3 (Boolean string)", ErrBooleanValue, false, 234}, // contact at 207, records at 231, then "a"
		{"boolean-string at end", withContact(threeAttrs, recs(1, "a", 2), DeltaFileType), false, "never has a value", ErrBooleanValue, false, -1},
		{"boolean-string in compact", withContact(threeAttrs, recs(2, 0xFF), CompactFileType), false, "never has a value", ErrBooleanValue, false, -1},
		{"binary length past contact", withContact(threeAttrs, recs(3, 9, 0, 1, 2), DeltaFileType), false, "bytes left in the contact", nil, false, -1},
		{"binary length cut", withContact(threeAttrs, recs(3, 9), DeltaFileType), false, "u16 length", nil, false, -1},
		{"empty repeated", withContact(threeAttrs, recs(1, "", 1, ""), CompactFileType), false, "only record", nil, false, -1},
		{"unknown value type", withContact(func(f *fileBuilder) {
			f.attr(3, 0x00000009, "odd").attr(2, 0, "b").attr(1, 0, "c")
		}, recs(3, 1, 2, 3), DeltaFileType), false, "value type 9", nil, true, -1},
		{"deleted object in a full file", func() []byte {
			f := &fileBuilder{}
			f.raw(FullFileType[:]...).u16(1).u16(1).u16(1).u16(0).raw(make([]byte, 128)...).u32(0).attr(1, 0, "a")
			return f.contact(guidA, 1, nil).b
		}(), false, "no deleted objects", nil, false, -1},
		{"unknown FileType, garbage", append(make([]byte, 16), bytes.Repeat([]byte{0xA5}, 300)...), true, "may be compressed", nil, true, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tt.data), int64(len(tt.data)))
			if !tt.header {
				if err != nil {
					t.Fatalf("NewReader: %v", err)
				}
				_, err = collect(r)
			}
			off := checkError(t, err, tt.want, tt.is, tt.unsup)
			if tt.atOffset >= 0 && off != tt.atOffset {
				t.Errorf("offset %d, want %d", off, tt.atOffset)
			}
			p := Probe(bytes.NewReader(tt.data), int64(len(tt.data)))
			if p.Err == nil || p.Err.Error() != err.Error() {
				t.Errorf("Probe error %v, want %v", p.Err, err)
			}
		})
	}
}

func TestCompactValues(t *testing.T) {
	f := &fileBuilder{}
	f.deltaHeader(CompactFileType, 1, 2, 4, 4, 1).u32(0)
	f.attr(4, 0x00002100, "phones").attr(3, 0x00000001, "bin").attr(2, 0x00000003, "flag").attr(1, 0, "name")
	f.contact(guidA, 1, recs(4, "555 1", 4, "tel:+5551", 4, "555 2", 4, "555 3", 4, "tel:+5553", 3, 0xFF, 0xFF, 1, ""))
	f.contact(GUID{2}, 1, recs(3, 2, 0, 0xAB, 0xCD, 1, "x"))
	cs, err := collect(open(t, f.b))
	if err != nil {
		t.Fatal(err)
	}
	kinds := func(c *Contact) (out []string) {
		for _, v := range c.Values {
			out = append(out, v.Kind.String()+":"+v.Text())
		}
		return out
	}
	want := []string{"string:555 1", "normalized:tel:+5551", "string:555 2", "string:555 3", "normalized:tel:+5553", "empty:(empty)", "empty:(empty)"}
	if got := kinds(cs[0]); !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	want = []string{"binary:abcd", "string:x"}
	if got := kinds(cs[1]); !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestContactHelpers(t *testing.T) {
	b := Generate(GenOptions{Contacts: 60, Seed: 5, Duplicates: 3})
	tbl, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]bool{}
	groups, shared := 0, 0
	for _, c := range b.Contacts {
		if !c.IsGroup(tbl) {
			if c.Get(tbl, "msRTCSIP-PrimaryUserAddress") != nil && c.Get(tbl, "groupType") == nil {
				for _, s := range c.SIPAddresses(tbl) {
					users[s] = true
				}
			}
		}
	}
	for _, c := range b.Contacts {
		if c.IsGroup(tbl) {
			groups++
			for _, s := range c.SIPAddresses(tbl) {
				if s != strings.ToLower(s) || strings.HasPrefix(s, "sip:") {
					t.Errorf("SIP address %q not normalized", s)
				}
				if users[s] {
					shared++
				}
			}
		}
	}
	if groups < 6 || shared != 3 {
		t.Errorf("%d groups, %d sharing a user's SIP address; want >= 6 and 3", groups, shared)
	}
	c := &Contact{Values: []Value{
		{AttrID: idSIP, Str: " SIP:Ann.Berg@Contoso.com "},
		{AttrID: idProxy, Str: "SMTP:ann@contoso.com"},
		{AttrID: idProxy, Str: "sip:ann.berg@contoso.com"},
		{AttrID: idProxy, Str: "sip:ann2@contoso.com"},
	}}
	if got := c.SIPAddresses(tbl); !slices.Equal(got, []string{"ann.berg@contoso.com", "ann2@contoso.com"}) {
		t.Errorf("SIPAddresses = %q", got)
	}
	if got := c.Get(tbl, "PROXYADDRESSES"); len(got) != 3 {
		t.Errorf("Get case-insensitive: %d values", len(got))
	}
}

// checkError checks that err contains want, wraps is (when not nil), is an UnsupportedError
// exactly when unsup, reports BadInput and names an offset, which it returns.
func checkError(t *testing.T, err error, want string, is error, unsup bool) int64 {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("error %v is not %v", err, is)
	}
	var ue *UnsupportedError
	if errors.As(err, &ue) != unsup {
		t.Errorf("error %T: UnsupportedError = %t, want %t", err, !unsup, unsup)
	}
	var bi interface{ BadInput() bool }
	if !errors.As(err, &bi) || !bi.BadInput() {
		t.Errorf("error %T does not report BadInput", err)
	}
	off, ok := ErrorOffset(err)
	if !ok {
		t.Errorf("error %v has no offset", err)
	}
	return off
}

// TestValueLayout: a Value is three words (Id, kind and boolean in one, the string header in two),
// and Bytes gives a binary value's bytes as a copy.
func TestValueLayout(t *testing.T) {
	if got, want := unsafe.Sizeof(Value{}), 3*unsafe.Sizeof(uintptr(0)); got != want {
		t.Errorf("Value is %d bytes, want %d", got, want)
	}
	v := Value{AttrID: 2, Kind: ValueBinary, Str: "\xAB\x01"}
	b := v.Bytes()
	b[0] = 0
	if !bytes.Equal(b, []byte{0, 1}) || v.Str != "\xAB\x01" || v.Text() != "ab01" {
		t.Errorf("Bytes %x, Str %q, Text %q", b, v.Str, v.Text())
	}
}

func TestDumpEscapes(t *testing.T) {
	b := &Book{Header: Header{Kind: Full}, Attributes: []Attribute{{1, "title", 0}, {2, "bin", 1}}}
	b.Contacts = []*Contact{{ID: guidA, OuPathID: 3, Values: []Value{
		{AttrID: 2, Kind: ValueBinary, Str: "\xAB\x01"},
		{AttrID: 1, Str: "Boss\nContactId 00000000-0000-0000-0000-000000000000"},
	}}, {ID: GUID{2}, OuPathID: 4, Values: []Value{{AttrID: 1, Str: "Zoë \xff"}}}}
	var out bytes.Buffer
	if err := Dump(&out, open(t, writeBook(t, b))); err != nil {
		t.Fatal(err)
	}
	want := "ContactId 96bd221f-8492-4450-abb2-2bd6828db27a\nouPathId  3\nbin       ab01\n" +
		`title     "Boss\nContactId 00000000-0000-0000-0000-000000000000"` + "\n\n" +
		"ContactId 00000002-0000-0000-0000-000000000000\nouPathId  4\n" + `title     "Zoë \xff"` + "\n"
	if out.String() != want {
		t.Errorf("dump:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestHugeClaims: a file that claims more than it has (a size larger than the data, lengths and
// counts near their maximum) fails without allocating anything near the claimed sizes.
func TestHugeClaims(t *testing.T) {
	base := specDelta()
	c0 := open(t, base).Layout.ContactsOffset
	rulesHuge := slices.Clone(base)
	binary.LittleEndian.PutUint32(rulesHuge[154:], 0xFFFFFFF0)
	contactHuge := slices.Clone(base)
	binary.LittleEndian.PutUint32(contactHuge[c0:], 0xFFFFFFF0)
	for name, data := range map[string][]byte{"rules": rulesHuge, "contact": contactHuge} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		// The ReaderAt claims 1 TiB: every length passes the size check and only reading fails.
		r, err := NewReader(bytes.NewReader(data), 1<<40)
		if err == nil {
			_, err = collect(r)
		}
		runtime.ReadMemStats(&after)
		var ue *UnsupportedError
		if !errors.Is(err, io.ErrUnexpectedEOF) && !(name == "rules" && errors.As(err, &ue)) {
			t.Errorf("%s: error %v, want a truncation (or for the rules, abkit's limit)", name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 32<<20 {
			t.Errorf("%s: allocated %d bytes for a %d-byte file", name, got, len(data))
		}
	}
}
