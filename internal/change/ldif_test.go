package change

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/abkit/abkit/ldapsync"
)

func TestChangeLDIFRoundTrip(t *testing.T) {
	items := []Item{
		{DN: "cn=Alice Able,ou=Users,dc=rf,dc=test", Changes: []AttrChange{
			{Attr: "msRTCSIP-OriginatorSid", Old: [][]byte{sid(1)}, New: [][]byte{sid(2)}},
		}},
		{DN: "cn=Zoë,dc=rf,dc=test", Changes: []AttrChange{
			{Attr: "msRTCSIP-OriginatorSid", New: [][]byte{sid(3)}},
			{Attr: "telephoneNumber", Old: [][]byte{[]byte("+1 425 555 0100"), []byte(" leading")}},
			{Attr: "displayName", Old: [][]byte{[]byte("Zoe")}, New: [][]byte{[]byte("Zoë")}},
		}},
	}
	var buf bytes.Buffer
	if err := WriteLDIF(&buf, "line one\nline two", items); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{"# line one\n# line two\nversion: 1\n", "dn:: ", "msRTCSIP-OriginatorSid:: AQUAAAAAAAUVAAAAAQAAAAIAAAADAAAAAQAAAA==\n",
		"telephoneNumber: +1 425 555 0100\n", "telephoneNumber:: IGxlYWRpbmc=\n", "delete: displayName\ndisplayName: Zoe\n-\nadd: displayName\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("LDIF lacks %q:\n%s", want, text)
		}
	}
	got, err := ReadLDIF(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, items) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, items)
	}
	// Folded lines, CRLF and comments are read too.
	folded := "# c\r\n#  continued\r\n version: 1\r\n\r\ndn: cn=a,\r\n dc=x\r\nchangetype: modify\r\nadd: sn\r\nsn: Ab\r\n le\r\n-\r\n"
	got, err = ReadLDIF(strings.NewReader(folded))
	if err != nil {
		t.Fatal(err)
	}
	want := []Item{{DN: "cn=a,dc=x", Changes: []AttrChange{{Attr: "sn", New: [][]byte{[]byte("Able")}}}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("folded: got %+v", got)
	}
}

func TestChangeLDIFRejects(t *testing.T) {
	tests := []struct {
		name, ldif string
		line       int
		want       string
	}{
		{"version", "version: 2\n", 1, "version \"2\""},
		{"no dn", "version: 1\n\nchangetype: modify\n", 3, "does not start with dn"},
		{"no changes", "dn: cn=a\n", 1, "dn without changes"},
		{"add record", "dn: cn=a\nchangetype: add\nsn: x\n", 1, "want changetype: modify"},
		{"replace", "dn: cn=a\nchangetype: modify\nreplace: sn\nsn: x\n-\n", 3, "only add and delete"},
		{"delete all", "dn: cn=a\nchangetype: modify\ndelete: sn\n-\n", 3, "not conditional"},
		{"unclosed", "dn: cn=a\nchangetype: modify\nadd: sn\nsn: x\n", 3, "not closed"},
		{"wrong attribute", "dn: cn=a\nchangetype: modify\nadd: sn\ncn: x\n-\n", 4, "value of cn inside the add of sn"},
		{"url value", "dn: cn=a\nchangetype: modify\nadd: sn\nsn:< file:///etc/passwd\n-\n", 4, "URL values"},
		{"bad base64", "dn: cn=a\nchangetype: modify\nadd: sn\nsn:: !!\n-\n", 4, "bad base64"},
		{"bad attribute", "dn: cn=a\nchangetype: modify\nadd: s n\ns n: x\n-\n", 3, "bad attribute name"},
		{"stray continuation", " x\n", 1, "without a line to continue"},
		{"no colon", "dn: cn=a\nchangetype: modify\nadd\n-\n", 3, "want attr: value"},
		{"long line", "dn: cn=a\nchangetype: modify\nadd: sn\nsn: " + strings.Repeat("x", maxLDIFLine) + "\n-\n", 4, "line longer than"},
	}
	for _, tt := range tests {
		_, err := ReadLDIF(strings.NewReader(tt.ldif))
		var le *LDIFError
		if !errors.As(err, &le) {
			t.Errorf("%s: err = %v, want *LDIFError", tt.name, err)
			continue
		}
		if le.Line != tt.line || !strings.Contains(le.Msg, tt.want) {
			t.Errorf("%s: line %d %q, want line %d containing %q", tt.name, le.Line, le.Msg, tt.line, tt.want)
		}
	}
}

// sid is the binary form of S-1-5-21-1-2-3-rid.
func sid(rid int) []byte { return ldapsync.MustParseSID(fmt.Sprintf("S-1-5-21-1-2-3-%d", rid)).Bytes() }
