package ldif

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	goldif "github.com/go-ldap/ldif"
)

// rewrite reads text and writes every record back with Writer (entries with WriteAttrs, modify
// records with WriteModify); a header is written when the text starts with one.
func rewrite(t testing.TB, text []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := NewWriter(&out)
	if bytes.HasPrefix(text, []byte("version: 1\n\n")) {
		w.Header("")
	}
	sc := NewScanner(bytes.NewReader(text), Options{})
	for {
		r, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading back %q: %v", text, err)
		}
		switch r.Kind {
		case Entry:
			err = w.WriteAttrs(r.DN, r.Attrs)
		case Modify:
			err = w.WriteModify(ModifyRequest(r))
		default:
			t.Fatalf("unexpected %v record", r.Kind)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func sampleEntries() []*ldap.Entry {
	long := strings.Repeat("0123456789", 40)
	return []*ldap.Entry{
		ldap.NewEntry("", map[string][]string{"namingContexts": {"dc=example,dc=com"}}),
		{DN: "cn=élève,dc=example,dc=com", Attributes: []*ldap.EntryAttribute{
			ldap.NewEntryAttribute("objectSid", []string{"\x01\x05\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00\xa1\xb2\xc3\xd4\x01\x02\x03\x04\x05\x06\x07\x08\x51\x04\x00\x00"}),
			ldap.NewEntryAttribute("description", []string{long, " leading", "trailing ", ":colon", "<lt", "", "tab\there", "ok value"}),
			ldap.NewEntryAttribute("thumbnailPhoto", []string{strings.Repeat("\xff\x00", 300)}),
		}},
		{DN: "cn=dn only,dc=example,dc=com"},
	}
}

// TestWriterRoundTrip writes entries and modify records, reads them back with Scanner and with
// go-ldap/ldif (an independent reader), and writes them again: the values are the same and the
// second output is byte for byte the first.
func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Header("abkit test\nsecond line")
	for _, e := range sampleEntries() {
		if err := w.WriteEntry(e); err != nil {
			t.Fatal(err)
		}
	}
	mod := ldap.NewModifyRequest("cn=élève,dc=example,dc=com", nil)
	mod.Delete("objectSid", []string{"\x01\x02"})
	mod.Add("description", []string{"x", strings.Repeat("y", 200)})
	mod.Replace("mail", []string{"a@example.com"})
	if err := w.WriteModify(mod); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	text := buf.Bytes()
	for _, l := range strings.Split(string(text), "\n") {
		if len(l) > FoldWidth {
			t.Errorf("line longer than %d: %q", FoldWidth, l)
		}
	}
	recs, errs := scanAll(t, string(text), Options{})
	if len(errs) > 0 || len(recs) != 4 {
		t.Fatalf("read back %d records, errors %v", len(recs), errs)
	}
	for i, e := range sampleEntries() {
		got := recs[i].Entry()
		if got.DN != e.DN || len(got.Attributes) != len(e.Attributes) {
			t.Fatalf("entry %d: %+v, want %+v", i, got, e)
		}
		for j, a := range e.Attributes {
			g := got.Attributes[j]
			if g.Name != a.Name || strings.Join(g.Values, "\x00|") != strings.Join(a.Values, "\x00|") {
				t.Errorf("entry %d attribute %s: %q, want %q", i, g.Name, g.Values, a.Values)
			}
		}
	}
	if m := ModifyRequest(&recs[3]); len(m.Changes) != 3 || m.Changes[1].Modification.Vals[1] != strings.Repeat("y", 200) {
		t.Errorf("modify read back as %+v", m)
	}
	body := text[bytes.Index(text, []byte("version")):]
	if again := rewrite(t, body); !bytes.Equal(again, body) {
		t.Errorf("written again differs:\n%s\nwant\n%s", again, text)
	}
	// go-ldap/ldif reads the same records (it refuses the empty DN and dn-only entries, so
	// without those).
	text2 := bytes.Replace(text, []byte("dn::\nnamingContexts: dc=example,dc=com\n\n"), nil, 1)
	text2 = bytes.Replace(text2, []byte("dn: cn=dn only,dc=example,dc=com\n\n"), nil, 1)
	l, err := goldif.Parse(string(text2))
	if err != nil {
		t.Fatalf("go-ldap/ldif: %v\n%s", err, text2)
	}
	if len(l.Entries) != 2 || l.Entries[0].Entry == nil || l.Entries[1].Modify == nil {
		t.Fatalf("go-ldap/ldif read %d entries", len(l.Entries))
	}
	ge := l.Entries[0].Entry
	if ge.DN != "cn=élève,dc=example,dc=com" || ge.GetAttributeValue("objectSid") != sampleEntries()[1].Attributes[0].Values[0] ||
		len(ge.GetAttributeValues("description")) != 8 || ge.GetAttributeValues("description")[5] != "" {
		t.Errorf("go-ldap/ldif read %+v", ge)
	}
}

func TestWriterRefusesBadNames(t *testing.T) {
	w := NewWriter(io.Discard)
	if err := w.WriteEntry(&ldap.Entry{DN: "cn=a", Attributes: []*ldap.EntryAttribute{ldap.NewEntryAttribute("bad:name\n", []string{"x"})}}); err == nil {
		t.Error("a name with a colon and a newline was written")
	}
	if w.Flush() == nil {
		t.Error("the error is not sticky")
	}
}

// FuzzScanner reads arbitrary input: no panic, every record error has a line within the input,
// and every record read, written with Writer, reads back to the same DN and values.
func FuzzScanner(f *testing.F) {
	f.Add([]byte("version: 1\n\ndn: cn=a\ncn: a\n b\nsid:: AQID\n\n# c\nref: ldap://x\n\ndn:\n\n"))
	f.Add([]byte("dn: cn=a\r\nchangetype: modify\r\nadd: cn\r\ncn: x\r\n-\r\n\r\n"))
	f.Add([]byte("dn: cn=a\nx:< file:///etc/passwd\n\n \n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Reading from a stream and from memory gives the same records and errors.
		r1, e1 := scanAll(t, string(data), Options{MaxLine: 1 << 12})
		r2, e2 := scanBytes(t, string(data), Options{MaxLine: 1 << 12})
		if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(e1, e2) {
			t.Fatalf("stream and memory differ:\n%+v %v\n%+v %v", r1, e1, r2, e2)
		}
		// Attributes that are not kept are checked all the same: the same records fail.
		_, e3 := scanAll(t, string(data), Options{MaxLine: 1 << 12, Keep: func(string) bool { return false }})
		if !reflect.DeepEqual(e1, e3) {
			t.Fatalf("errors differ when nothing is kept:\n%v\n%v", e1, e3)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		sc := NewScanner(bytes.NewReader(data), Options{MaxLine: 1 << 12})
		for {
			r, err := sc.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			var le *Error
			if errors.As(err, &le) {
				if le.Line < 1 || le.Line > lines {
					t.Fatalf("error line %d outside 1..%d: %v", le.Line, lines, le)
				}
				continue
			}
			var ee *EncodingError // undecodable UTF-16 ends the input
			if errors.As(err, &ee) {
				if ee.Line < 1 || ee.Line > lines {
					t.Fatalf("encoding error line %d outside 1..%d: %v", ee.Line, lines, ee)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != Entry {
				continue
			}
			var buf bytes.Buffer
			w := NewWriter(&buf)
			if err := w.WriteAttrs(r.DN, r.Attrs); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			back, errs := scanAll(t, buf.String(), Options{})
			if len(errs) > 0 || len(back) != 1 || back[0].DN != r.DN || len(back[0].Attrs) != len(r.Attrs) {
				t.Fatalf("record %+v read back as %+v, %v", r, back, errs)
			}
			for i, a := range back[0].Attrs {
				if a.Name != r.Attrs[i].Name || !bytes.Equal(a.Value, r.Attrs[i].Value) {
					t.Fatalf("attribute %d: %s %q, want %s %q", i, a.Name, a.Value, r.Attrs[i].Name, r.Attrs[i].Value)
				}
			}
		}
	})
}

// FuzzWriterRoundTrip writes arbitrary values and DNs: the reader returns them unchanged and a
// second write gives the same bytes.
func FuzzWriterRoundTrip(f *testing.F) {
	f.Add("cn=a,dc=x", "description", []byte("plain"), []byte{0, 1, 2, 0xff})
	f.Add("", "cn", []byte(" lead"), []byte(""))
	f.Add("cn=é", "x-y;binary", []byte(strings.Repeat("z", 300)), []byte("trail "))
	f.Fuzz(func(t *testing.T, dn, name string, v1, v2 []byte) {
		if !validAttrName([]byte(name)) {
			return
		}
		var buf bytes.Buffer
		w := NewWriter(&buf)
		if err := w.WriteAttrs(dn, []Attr{{Name: name, Value: v1}, {Name: name, Value: v2}}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		recs, errs := scanAll(t, buf.String(), Options{})
		if len(errs) > 0 || len(recs) != 1 {
			t.Fatalf("%q: records %+v errors %v", buf.String(), recs, errs)
		}
		r := recs[0]
		if r.DN != dn || len(r.Attrs) != 2 || !bytes.Equal(r.Attrs[0].Value, v1) || !bytes.Equal(r.Attrs[1].Value, v2) {
			t.Fatalf("%q read back as %+v", buf.String(), r)
		}
		if again := rewrite(t, buf.Bytes()); !bytes.Equal(again, buf.Bytes()) {
			t.Fatalf("written again:\n%q\nwant\n%q", again, buf.Bytes())
		}
	})
}
