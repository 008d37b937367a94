package ldif

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// scanAll reads every record of text, copying them, and the record errors.
func scanAll(t testing.TB, text string, opt Options) (recs []Record, errs []*Error) {
	t.Helper()
	sc := NewScanner(strings.NewReader(text), opt)
	return scanRest(t, sc)
}

// scanBytes is scanAll reading from memory (ResetBytes).
func scanBytes(t testing.TB, text string, opt Options) (recs []Record, errs []*Error) {
	t.Helper()
	sc := NewScanner(nil, Options{})
	sc.ResetBytes([]byte(text), opt)
	return scanRest(t, sc)
}

func scanRest(t testing.TB, sc *Scanner) (recs []Record, errs []*Error) {
	t.Helper()
	for {
		r, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return recs, errs
		}
		var le *Error
		if errors.As(err, &le) {
			errs = append(errs, le)
			continue
		}
		var ee *EncodingError // undecodable UTF-16 ends the input: kept as the last error
		if errors.As(err, &ee) {
			return recs, append(errs, &Error{Path: ee.Path, Line: ee.Line, Msg: fmt.Sprintf("encoding at byte %d: %s", ee.Offset, ee.Msg)})
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, copyRecord(r))
	}
}

func copyRecord(r *Record) Record {
	c := *r
	c.Attrs = make([]Attr, len(r.Attrs))
	for i, a := range r.Attrs {
		a.Value = bytes.Clone(a.Value)
		c.Attrs[i] = a
	}
	c.Mods = make([]Mod, len(r.Mods))
	off := 0
	for i, m := range r.Mods {
		m.Values = c.Attrs[off : off+len(m.Values)]
		off += len(m.Values)
		c.Mods[i] = m
	}
	return c
}

func TestScannerShapes(t *testing.T) {
	text := "# extended LDIF\r\n#\r\n# LDAPv3\r\n" +
		"version: 1\r\n\r\n" +
		"# root DSE, a comment\r\n#  folded comment\r\n" +
		"dn:\r\nnamingContexts: dc=example,dc=com\r\n\r\n" +
		"dn: cn=only,dc=example,dc=com\r\n\r\n" +
		"dn: cn=ld,dc=example,dc=com\r\nchangetype: add\r\ndescription:: w6lsw6h2ZQ==\r\nobjectSid:: AQEAAAAAAAUS\r\n AAAA\r\nempty:\r\nempty2::\r\n\r\n" +
		"# search reference\r\nref: ldap://ForestDnsZones.example.com/DC=ForestDnsZones,DC=example,DC=com\r\n\r\n" +
		"# search result\r\nsearch: 2\r\nresult: 0 Success\r\n\r\n# numResponses: 5\r\n"
	recs, errs := scanAll(t, text, Options{})
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := []struct {
		kind  Kind
		dn    string
		line  int
		attrs int
	}{{Entry, "", 8, 1}, {Entry, "cn=only,dc=example,dc=com", 11, 0}, {Entry, "cn=ld,dc=example,dc=com", 13, 4}, {Reference, "", 22, 1}, {Result, "", 25, 2}}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i, w := range want {
		r := recs[i]
		if r.Kind != w.kind || r.DN != w.dn || r.Line != w.line || len(r.Attrs) != w.attrs {
			t.Errorf("record %d: kind %v dn %q line %d attrs %d, want %+v", i, r.Kind, r.DN, r.Line, len(r.Attrs), w)
		}
	}
	ld := recs[2]
	if ld.ChangeType != "add" || string(ld.Attrs[0].Value) != "élève" || !bytes.Equal(ld.Attrs[1].Value, []byte{1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}) {
		t.Errorf("ldifde record: %q %q %x", ld.ChangeType, ld.Attrs[0].Value, ld.Attrs[1].Value)
	}
	if ld.Attrs[1].Line != 16 || ld.Attrs[2].Line != 18 || len(ld.Attrs[2].Value) != 0 || len(ld.Attrs[3].Value) != 0 {
		t.Errorf("lines or empty values: %+v", ld.Attrs)
	}
}

func TestScannerBrokenRecordIsSkipped(t *testing.T) {
	text := "dn: cn=a\ncn: a\n\n" +
		"dn: cn=b\ncn: b\nobjectSid:: !!notbase64\n\n" +
		"dn: cn=c\nthis line has no colon\n\n" +
		"cn: d\n\n" +
		"dn: cn=e\nx:< file:///etc/passwd\n\n" +
		"dn: cn=f\ncn: f\nchangetype: add\n\n" +
		"dn: cn=g\n\n"
	recs, errs := scanAll(t, text, Options{Path: "x.ldif"})
	var dns []string
	for _, r := range recs {
		dns = append(dns, r.DN)
	}
	if strings.Join(dns, ";") != "cn=a;cn=g" {
		t.Errorf("records %v, want cn=a and cn=g", dns)
	}
	wantErr := []string{
		"x.ldif:6: bad base64 value of objectSid (dn: cn=b)",
		"x.ldif:9: want attr: value, got \"this line has no colon\" (dn: cn=c)",
		"x.ldif:11: record does not start with dn: (got cn:)",
		"x.ldif:14: URL values (x:< ...) are not accepted (dn: cn=e)",
		"x.ldif:18: changetype must directly follow dn: (dn: cn=f)",
	}
	if len(errs) != len(wantErr) {
		t.Fatalf("errors %v, want %d", errs, len(wantErr))
	}
	for i, e := range errs {
		if e.Error() != wantErr[i] {
			t.Errorf("error %d: %q, want %q", i, e.Error(), wantErr[i])
		}
	}
}

func TestScannerModify(t *testing.T) {
	text := "version: 1\ndn: cn=a\nchangetype: modify\nadd: member\nmember: cn=x\nmember: cn=y\n-\ndelete: sn\n-\nreplace: objectSid\nobjectSid:: AQ==\n-\n\n" +
		"dn: cn=b\nchangetype: modify\nadd: member\nmember: cn=x\n\n" +
		"dn: cn=c\nchangetype: modify\nadd: member\ncn: x\n-\n\n" +
		"dn: cn=d\nchangetype: delete\n\n"
	recs, errs := scanAll(t, text, Options{})
	if len(recs) != 2 || len(errs) != 2 {
		t.Fatalf("records %+v errors %v", recs, errs)
	}
	m := recs[0]
	if m.Kind != Modify || len(m.Mods) != 3 || len(m.Mods[0].Values) != 2 || len(m.Mods[1].Values) != 0 ||
		string(m.Mods[0].Values[1].Value) != "cn=y" || m.Mods[2].Op != "replace" || !bytes.Equal(m.Mods[2].Values[0].Value, []byte{1}) {
		t.Errorf("modify record: %+v", m)
	}
	if recs[1].Kind != Delete || recs[1].DN != "cn=d" {
		t.Errorf("delete record: %+v", recs[1])
	}
	if errs[0].Line != 16 || errs[1].Line != 22 {
		t.Errorf("error lines: %v", errs)
	}
}

func TestScannerLongLine(t *testing.T) {
	text := "dn: cn=a\ndescription: " + strings.Repeat("x", 100) + "\n\ndn: cn=b\n\n"
	for _, scan := range []func(testing.TB, string, Options) ([]Record, []*Error){scanAll, scanBytes} {
		recs, errs := scan(t, text, Options{MaxLine: 50})
		if len(recs) != 1 || recs[0].DN != "cn=b" || len(errs) != 1 || errs[0].Line != 2 {
			t.Errorf("records %+v errors %v", recs, errs)
		}
	}
}

func TestScannerKeep(t *testing.T) {
	text := "dn: cn=a\ncn: a\nsn: b\nCN: c\n\n"
	recs, _ := scanAll(t, text, Options{Keep: func(n string) bool { return strings.EqualFold(n, "cn") }})
	if len(recs) != 1 || len(recs[0].Attrs) != 2 || recs[0].Attrs[1].Name != "CN" {
		t.Errorf("records %+v", recs)
	}
}

// TestFoldingLinear reads a value folded over many lines with a bounded number of allocations:
// joining continuation lines must not copy the value again for each one.
func TestFoldingLinear(t *testing.T) {
	text := foldedRecord(200000)
	sc := NewScanner(strings.NewReader(""), Options{})
	var got int
	allocs := testing.AllocsPerRun(3, func() {
		sc.Reset(strings.NewReader(text), Options{})
		r, err := sc.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = len(r.Attrs[0].Value)
	})
	if got != 1+2*200000 {
		t.Fatalf("value of %d bytes", got)
	}
	// Growing buffers by doubling: about log2(400k) allocations each; a copy per line would be 200k.
	if allocs > 200 {
		t.Errorf("%v allocations for one folded value, want at most 200", allocs)
	}
}

func BenchmarkFoldedValue(b *testing.B) {
	text := foldedRecord(200000)
	sc := NewScanner(strings.NewReader(""), Options{})
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		sc.Reset(strings.NewReader(text), Options{})
		if _, err := sc.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// foldedRecord is a record whose description value is folded over n continuation lines.
func foldedRecord(n int) string {
	var b strings.Builder
	b.WriteString("dn: cn=a\ndescription: x\n")
	for range n {
		b.WriteString(" yz\n")
	}
	return b.String()
}

// TestValidBase64 holds validBase64 to what base64.StdEncoding decodes.
func TestValidBase64(t *testing.T) {
	for _, v := range []string{"", "AQ==", "AQI=", "AQID", "AQIDBA==", "A===", "====", "AA=A", "AA==AA==", "AQ", "A", "!!AA",
		"AQ== ", "AQ\r\nID", "AB=", "AAA=", "AA+/", "AA_-", " AQ=="} {
		_, err := base64.StdEncoding.DecodeString(strings.TrimRight(v, " "))
		if got := validBase64([]byte(v)); got != (err == nil) {
			t.Errorf("validBase64(%q) = %v, decoder: %v", v, got, err)
		}
	}
}

func TestAttrNames(t *testing.T) {
	for name, ok := range map[string]bool{"cn": true, "msRTCSIP-PrimaryUserAddress": true, "objectGUID;binary": true,
		"member;range=1500-*": true, "1.2.840.113556.1.4.221": true, "cn=x": false, "bad:name": false, "-cn": false,
		"1..2": false, "c n": false, "": false, "member=1;range": false} {
		if validAttrName([]byte(name)) != ok {
			t.Errorf("validAttrName(%q) = %v", name, !ok)
		}
	}
}

// TestScannerBOM: a UTF-8 byte order mark before the first line (PowerShell, Notepad) is skipped.
func TestScannerBOM(t *testing.T) {
	text := "\ufeffdn: cn=a\r\ncn: a\r\n"
	for _, scan := range []func(testing.TB, string, Options) ([]Record, []*Error){scanAll, scanBytes} {
		recs, errs := scan(t, text, Options{})
		if len(errs) != 0 || len(recs) != 1 || recs[0].DN != "cn=a" || recs[0].Line != 1 {
			t.Errorf("records %+v errors %v", recs, errs)
		}
	}
}
