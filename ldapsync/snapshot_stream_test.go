package ldapsync

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"golang.org/x/text/encoding/unicode"
)

// render prints objects with their raw attributes, sorted, for comparisons.
func renderObjects(t *testing.T, src Source, req SearchRequest) string {
	t.Helper()
	var b strings.Builder
	for o, err := range src.Search(context.Background(), req) {
		if err != nil {
			fmt.Fprintf(&b, "error: %v\n", err)
			break
		}
		var lines []string
		for name, vals := range o.Raw {
			for _, v := range vals {
				lines = append(lines, strings.ToLower(name)+"="+fmt.Sprintf("%x", v))
			}
		}
		slices.Sort(lines)
		fmt.Fprintf(&b, "%s %s %s %v\n%s\n", o.DN, o.Kind, o.GUID, o.SIPAddresses(), strings.Join(lines, "\n"))
	}
	return b.String()
}

const streamSample = "version: 1\r\n\r\n" +
	"dn: ou=Users,dc=x\r\nobjectClass: organizationalUnit\r\n\r\n" +
	"# a comment\r\n#  folded comment\r\n" +
	"dn: cn=Alice,ou=Users,dc=x\r\nobjectClass: user\r\nmsRTCSIP-PrimaryUserAddress: sip:ali\r\n ce@contoso.com\r\n" +
	"objectGUID:: C1qmwlGX312HWZ0PZxFXqA==\r\nuserAccountControl: 512\r\ndescription: not asked for\r\n\r\n" +
	"dn: cn=Sales,ou=Groups,dc=x\nchangetype: add\nobjectClass: group\ngroupType: -2147483640\n" +
	"proxyAddresses: SMTP:sales@contoso.com\nproxyAddresses: SIP:Alice@Contoso.com\n\n" +
	"dn:: Y249QmrDuHJuLG91PVVzZXJzLGRjPXg=\nobjectClass: user\nproxyAddresses: sip:bjorn@contoso.com\n\n" +
	// Every decoded attribute, some with values that only produce warnings.
	"dn: cn=Odd,ou=Users,dc=x\nobjectClass: top\nobjectClass: user\nobjectGUID: short\nobjectSid: S-1-5-21-1-2-3-500\n" +
	"msExchMasterAccountSid:: AQUAAAAAAAUVAAAA3PTcO4M9K0aCi6YoUQQAAA==\nmsRTCSIP-OriginatorSid:: AQI=\n" +
	"MSRTCSIP-PrimaryUserAddress: SIP:Odd@Contoso.com\nmsRTCSIP-UserEnabled: maybe\nmsRTCSIP-PrimaryHomeServer: cn=pool\n" +
	"msRTCSIP-OptionFlags: 0x10\nmsRTCSIP-Line: tel:+1\nproxyAddresses: X500:/o=x\nproxyAddresses: smtp:o@x\n" +
	"mail: o@x\ndisplayName: Odd\nsAMAccountName: odd\nuserPrincipalName: odd@x\ntelephoneNumber: 1\n" +
	"msDS-SourceObjectDN: cn=o,dc=y\nuserAccountControl:  514 \ngroupType: 2\nmsExchHideFromAddressLists: true\n\n" +
	"dn: cn=Computer,dc=x\nobjectClass: user\nobjectClass: computer\nmsExchHideFromAddressLists: FALSE\nuserAccountControl: x\n"

func TestStreamSnapshotMatchesSnapshot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.ldif")
	if err := os.WriteFile(path, []byte(streamSample), 0o600); err != nil {
		t.Fatal(err)
	}
	full, err := OpenSnapshot("f", path, "")
	if err != nil {
		t.Fatal(err)
	}
	stream, err := OpenStreamSnapshot("f", path, "")
	if err != nil {
		t.Fatal(err)
	}
	reqs := []SearchRequest{
		{},
		{Filter: "(|(msRTCSIP-PrimaryUserAddress=*)(proxyAddresses=sip:*))", Attributes: []string{"objectGUID", "proxyAddresses", "msRTCSIP-PrimaryUserAddress"}},
		{Filter: "(groupType:1.2.840.113556.1.4.803:=2147483648)", Attributes: []string{"cn"}},
		{Filter: "(objectClass=*)", Attributes: []string{"*"}},
		{Base: "ou=users, DC=X", Filter: "(objectClass=user)"},
		{Filter: "(objectClass=*)", SizeLimit: 2},
	}
	for _, req := range reqs {
		// The whole objects are equal: objectFromStream decodes as ObjectFromEntry does.
		var a, b []*Object
		for o, err := range full.Search(context.Background(), req) {
			if err == nil {
				a = append(a, o)
			}
		}
		for o, err := range stream.Search(context.Background(), req) {
			if err == nil {
				b = append(b, o)
			}
		}
		if !reflect.DeepEqual(a, b) {
			for i := range min(len(a), len(b)) {
				if !reflect.DeepEqual(a[i], b[i]) {
					t.Errorf("%+v: object %d:\nstream   %+v\nsnapshot %+v", req, i, *b[i], *a[i])
				}
			}
			t.Errorf("%+v: %d objects from the stream, %d from the snapshot", req, len(b), len(a))
		}
		if req.Attributes != nil && req.Attributes[0] == "*" {
			warned := 0
			for _, o := range b {
				warned += len(o.Warnings)
			}
			if warned < 6 {
				t.Errorf("the sample's odd values gave %d warnings, want at least 6", warned)
			}
		}
		want, got := renderObjects(t, full, req), renderObjects(t, stream, req)
		if got != want {
			t.Errorf("%+v:\nstream:\n%s\nsnapshot:\n%s", req, got, want)
		}
		if req.Filter == "(objectClass=*)" && req.SizeLimit == 0 && strings.Count(got, "\n") < 10 {
			t.Errorf("too little output: %s", got)
		}
	}
}

func TestStreamSnapshotBlocks(t *testing.T) {
	// Enough records to span several blocks; every object must come back once, in order.
	var b strings.Builder
	const n = 30000
	for i := range n {
		fmt.Fprintf(&b, "dn: cn=u%d,dc=x\nobjectClass: user\nmsRTCSIP-PrimaryUserAddress: sip:u%d@contoso.com\ndescription: %s\n\n", i, i, strings.Repeat("x", 200))
	}
	path := filepath.Join(t.TempDir(), "big.ldif")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if b.Len() < 2*streamBlockSize {
		t.Fatalf("sample of %d bytes does not span blocks", b.Len())
	}
	s, _ := OpenStreamSnapshot("f", path, "")
	i := 0
	for o, err := range s.Search(context.Background(), SearchRequest{}) {
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("cn=u%d,dc=x", i); o.DN != want {
			t.Fatalf("object %d is %s, want %s", i, o.DN, want)
		}
		i++
	}
	if i != n {
		t.Errorf("%d objects, want %d", i, n)
	}
}

// TestStreamSnapshotErrors: a record that cannot be read is skipped and reported with file and
// line, the records around it are read; in strict mode it ends the search with that error.
func TestStreamSnapshotErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"bad base64", "dn: cn=a,dc=x\nobjectGUID:: !!!\n", "bad.ldif:5: bad base64 value of objectGUID"},
		{"url value", "dn: cn=a,dc=x\njpegPhoto:< file:///etc/passwd\n", "bad.ldif:5: URL values"},
		{"modify record", "dn: cn=a,dc=x\nchangetype: modify\nadd: cn\ncn: b\n-\n", "bad.ldif:4: changetype: modify record"},
		{"no colon", "dn: cn=a,dc=x\nobjectClass user\n", "bad.ldif:5:"},
		{"no dn", "objectClass: user\n", "does not start with dn"},
		{"orphan continuation", " folded\n", "continuation"},
		{"duplicate DN", "dn: CN=OK,dc=x\nobjectClass: user\n", "bad.ldif:4: duplicate DN: the entry of line 1 again"},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "bad.ldif")
		if err := os.WriteFile(path, []byte("dn: cn=ok,dc=x\nobjectClass: user\n\n"+tt.text+"\ndn: cn=last,dc=x\nobjectClass: user\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s, _ := OpenStreamSnapshotWith("f", path, "", ReadOptions{Strict: true})
		var err error
		for _, e := range s.Search(context.Background(), SearchRequest{Filter: "(objectClass=*)"}) {
			if e != nil {
				err = e
			}
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s strict: err %v, want %q and the path", tt.name, err, tt.want)
		}
		s, _ = OpenStreamSnapshot("f", path, "")
		var dns []string
		for o, err := range s.Search(context.Background(), SearchRequest{Filter: "(objectClass=*)"}) {
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			dns = append(dns, o.DN)
		}
		rep := s.ReadReport()
		if strings.Join(dns, ";") != "cn=ok,dc=x;cn=last,dc=x" || rep.Skipped != 1 || !rep.Partial() ||
			!strings.Contains(rep.Problems[0].Error(), tt.want) {
			t.Errorf("%s: read %v, report %+v, want the two good records and the problem %q", tt.name, dns, rep, tt.want)
		}
	}
}

// FuzzStreamSnapshot: any input either fails with an error or gives the same objects as the
// in-memory Snapshot over the same bytes; nothing panics.
func FuzzStreamSnapshot(f *testing.F) {
	f.Add([]byte(streamSample))
	f.Add([]byte("dn: cn=a,dc=x\nobjectClass: user\nproxyAddresses: sip:a@b\n"))
	f.Add([]byte("dn: cn=a\n continued\n#c\n cont\n\ndn:: Y249Yg==\ncn:: !!\n"))
	// UTF-16 (ldifde -u): transcoded before the file is split into blocks.
	f.Add(encodeUTF16(f, []byte(streamSample), unicode.LittleEndian))
	f.Add(append(encodeUTF16(f, []byte("dn: cn=a\r\nobjectClass: user\r\n\r\ndn: cn=b\r\n"), unicode.BigEndian), 'x'))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		path := filepath.Join(t.TempDir(), "f.ldif")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		stream, err := OpenStreamSnapshot("f", path, "")
		if err != nil {
			t.Fatal(err)
		}
		var got []*Object
		var streamErr error
		for o, err := range stream.Search(context.Background(), SearchRequest{Filter: "(objectClass=*)", Attributes: []string{"*"}}) {
			if err != nil {
				streamErr = err
				break
			}
			got = append(got, o)
		}
		full, err := OpenSnapshot("f", path, "")
		if err != nil || streamErr != nil {
			return // the readers may differ on what they refuse; neither may panic
		}
		var want []*Object
		for o, err := range full.Search(context.Background(), SearchRequest{Filter: "(objectClass=*)", Attributes: []string{"*"}}) {
			if err != nil {
				return
			}
			want = append(want, o)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("stream and snapshot differ on %q:\n%v\n%v", data, got, want)
		}
		if sr, fr := stream.ReadReport(), full.ReadReport(); sr.Skipped != fr.Skipped || sr.References != fr.References {
			t.Errorf("stream and snapshot skip differently on %q:\n%+v\n%+v", data, sr, fr)
		}
	})
}

// BenchmarkStreamSnapshot searches a 20,000-object snapshot (gensnap's shape: users with SIDs,
// GUIDs, SIP and proxy addresses) with the default filter and attributes, as abkit dupes does.
func BenchmarkStreamSnapshot(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.ldif")
	var entries []*ldap.Entry
	for i := range 20000 {
		name := fmt.Sprintf("user%06d", i)
		sid := MustParseSID(fmt.Sprintf("S-1-5-21-1-2-3-%d", 1000+i)).Bytes()
		entries = append(entries, &ldap.Entry{DN: "cn=" + name + ",ou=Users,dc=x,dc=test", Attributes: []*ldap.EntryAttribute{
			ldap.NewEntryAttribute("objectClass", []string{"top", "person", "organizationalPerson", "user"}),
			ldap.NewEntryAttribute("cn", []string{name}), ldap.NewEntryAttribute("sAMAccountName", []string{name}),
			ldap.NewEntryAttribute("displayName", []string{"User " + name}), ldap.NewEntryAttribute("userAccountControl", []string{"512"}),
			ldap.NewEntryAttribute("objectSid", []string{string(sid)}), ldap.NewEntryAttribute("objectGUID", []string{string(sid[8:24])}),
			ldap.NewEntryAttribute("msRTCSIP-PrimaryUserAddress", []string{"sip:" + name + "@contoso.com"}),
			ldap.NewEntryAttribute("msRTCSIP-UserEnabled", []string{"TRUE"}),
			ldap.NewEntryAttribute("proxyAddresses", []string{"SMTP:" + name + "@contoso.com", "sip:" + name + "@contoso.com"}),
			ldap.NewEntryAttribute("telephoneNumber", []string{"+1 425 555 0100"}),
			ldap.NewEntryAttribute("description", []string{"a description that no search asks for, long enough to be folded by the writer at 76 columns"}),
		}})
	}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, entries); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := OpenStreamSnapshot("bench", path, "")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range s.Search(context.Background(), SearchRequest{}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != len(entries) {
			b.Fatalf("%d objects", n)
		}
	}
}
