package ldapsync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abkit/abkit/internal/ldif"
	"golang.org/x/text/encoding/unicode"
)

// ldifdeUnicodeRecord is a record as ldifde -u writes it: non-ASCII DN and displayName as plain
// text (one outside the BMP, a surrogate pair in UTF-16), CRLF line ends, and — folded across
// lines — the base64 objectGUID and objectSid.
const ldifdeUnicodeRecord = "dn: CN=Ünal Çelik,OU=Users,DC=resforest,DC=test\r\n" +
	"changetype: add\r\n" +
	"objectClass: top\r\n" +
	"objectClass: user\r\n" +
	"cn: Ünal Çelik\r\n" +
	"displayName: Ünal Çelik — 日本 𝄞\r\n" +
	"sAMAccountName: unal\r\n" +
	"objectGUID:: PSwbCl9Oa0qM\r\n" +
	" fZ4PGis8TQ==\r\n" +
	"objectSid:: AQUAAAAAAAUVAAAAx/f+13x3\r\n" +
	" VciUWs4BOggAAA==\r\n" +
	"\r\n"

// ldifdeUnicodeText is the UTF-8 text of testdata/ldif/ldifde-unicode.ldf: ldifde-add.ldf and
// ldifdeUnicodeRecord.
func ldifdeUnicodeText(t *testing.T) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(corpusDir, "ldifde-add.ldf"))
	if err != nil {
		t.Fatal(err)
	}
	return append(text, ldifdeUnicodeRecord...)
}

// encodeUTF16 encodes UTF-8 text as UTF-16 in the given byte order with a byte order mark.
func encodeUTF16(t testing.TB, text []byte, order unicode.Endianness) []byte {
	t.Helper()
	out, err := unicode.UTF16(order, unicode.UseBOM).NewEncoder().Bytes(text)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readBoth writes data to a file name in a new directory and reads it with both snapshot
// readers; it returns the path, their objects, or the error each gave.
func readBoth(t *testing.T, name string, data []byte) (path string, mem, stream []*Object, memErr, streamErr error) {
	t.Helper()
	path = filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	req := SearchRequest{Filter: "(objectClass=*)", Attributes: []string{"*"}}
	if s, err := OpenSnapshot("u", path, ""); err != nil {
		memErr = err
	} else {
		for o, err := range s.Search(context.Background(), req) {
			if err != nil {
				t.Fatal(err)
			}
			mem = append(mem, o)
		}
	}
	st, err := OpenStreamSnapshot("u", path, "")
	if err != nil {
		t.Fatal(err)
	}
	for o, err := range st.Search(context.Background(), req) {
		if err != nil {
			streamErr = err
			break
		}
		stream = append(stream, o)
	}
	return path, mem, stream, memErr, streamErr
}

// readGood is readBoth of data that both readers must read to the same objects; it returns them.
func readGood(t *testing.T, name string, data []byte) []*Object {
	t.Helper()
	_, mem, stream, memErr, streamErr := readBoth(t, name, data)
	if memErr != nil || streamErr != nil {
		t.Fatalf("%s: %v / %v", name, memErr, streamErr)
	}
	identicalObjects(t, name+" stream", mem, stream)
	return mem
}

// identicalObjects fails unless got and want are the same objects: DN, SIDs, GUID and every value.
func identicalObjects(t *testing.T, what string, want, got []*Object) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d objects, want %d", what, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.DN != w.DN || g.SID != w.SID || g.MasterSID != w.MasterSID || g.GUID != w.GUID {
			t.Errorf("%s: object %d is %s %v %v, want %s %v %v", what, i, g.DN, g.SID, g.GUID, w.DN, w.SID, w.GUID)
		}
		if len(g.Raw) != len(w.Raw) {
			t.Errorf("%s: %s has %d attributes, want %d", what, g.DN, len(g.Raw), len(w.Raw))
		}
		for name, wv := range w.Raw {
			gv := g.Raw[name]
			if len(gv) != len(wv) {
				t.Errorf("%s: %s %s has %d values, want %d", what, g.DN, name, len(gv), len(wv))
				continue
			}
			for j := range wv {
				if !bytes.Equal(gv[j], wv[j]) {
					t.Errorf("%s: %s %s = %q, want %q", what, g.DN, name, gv[j], wv[j])
				}
			}
		}
	}
}

// TestLDIFUTF16: an ldifde -u export (UTF-16LE with a byte order mark), and the same in
// UTF-16BE, read by both snapshot readers to the same objects as the UTF-8 text; the committed
// fixture is that UTF-16LE encoding, byte for byte.
func TestLDIFUTF16(t *testing.T) {
	text := ldifdeUnicodeText(t)
	want := readGood(t, "utf8.ldf", text)
	if len(want) != 6 {
		t.Fatalf("UTF-8 text read to %d objects, want 6", len(want))
	}
	last := want[len(want)-1]
	if last.DN != "CN=Ünal Çelik,OU=Users,DC=resforest,DC=test" || string(last.Raw["displayName"][0]) != "Ünal Çelik — 日本 𝄞" ||
		last.SID.String() != "S-1-5-21-3623811015-3361044348-30300820-2106" || last.GUID.String() != "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" {
		t.Fatalf("UTF-8 text: last object %s %q %v %v", last.DN, last.Raw["displayName"], last.SID, last.GUID)
	}

	le := encodeUTF16(t, text, unicode.LittleEndian)
	if !bytes.HasPrefix(le, []byte{0xff, 0xfe}) || !bytes.Contains(le, []byte("\r\x00\n\x00")) {
		t.Fatalf("UTF-16LE encoding starts % x", le[:8])
	}
	fixture := filepath.Join(corpusDir, "ldifde-unicode.ldf")
	if os.Getenv("ABKIT_LDIF_CORPUS_UPDATE") == "1" {
		if err := os.WriteFile(fixture, le, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, le) {
		t.Errorf("%s is not the UTF-16LE encoding of ldifde-add.ldf and ldifdeUnicodeRecord", fixture)
	}
	be := encodeUTF16(t, text, unicode.BigEndian)
	for name, data := range map[string][]byte{"le.ldf": le, "be.ldf": be} {
		identicalObjects(t, name, want, readGood(t, name, data))
	}
}

// TestLDIFUTF16Invalid: UTF-16 that cannot be decoded (a lone byte at the end, unpaired
// surrogates) stops both readers with an error naming the file and the line, after the records
// before it.
func TestLDIFUTF16Invalid(t *testing.T) {
	text := []byte("dn: cn=a,dc=x\r\nobjectClass: user\r\ncn: a\r\n\r\ndn: cn=b,dc=x\r\nobjectClass: user\r\ncn: b")
	le := encodeUTF16(t, text, unicode.LittleEndian)
	be := encodeUTF16(t, text, unicode.BigEndian)
	tests := []struct {
		name string
		data []byte
		line int
		msg  string
	}{
		{"odd.ldf", append(bytes.Clone(le), 'x'), 7, "odd number of bytes"},
		{"lowsurrogate.ldf", append(bytes.Clone(le), 0x00, 0xdc), 7, "low surrogate 0xdc00"},
		{"highsurrogate.ldf", append(bytes.Clone(be), 0xd8, 0x00, 0x00, 'x'), 7, "high surrogate 0xd800 followed by 0x0078"},
		{"highend.ldf", append(bytes.Clone(be), 0xd8, 0x00), 7, "high surrogate 0xd800 at the end"},
	}
	for _, tt := range tests {
		path, _, _, memErr, streamErr := readBoth(t, tt.name, tt.data)
		for _, err := range []error{memErr, streamErr} {
			var ee *ldif.EncodingError
			if !errors.As(err, &ee) || ee.Path != path || ee.Line != tt.line || !strings.Contains(err.Error(), tt.msg) ||
				!strings.Contains(err.Error(), path+":7:") || ee.Offset != int64(len(le)) {
				t.Errorf("%s: error %v, want an EncodingError at %s:%d, byte offset %d, saying %q", tt.name, err, path, tt.line, len(le), tt.msg)
			}
		}
	}
}

// TestLDIFUTF16Blocks: a UTF-16 file larger than the streaming reader's blocks is split into
// blocks after transcoding, and line numbers stay right across them (the lone byte at its end
// is reported on the file's last line by both readers).
func TestLDIFUTF16Blocks(t *testing.T) {
	var text bytes.Buffer
	const n = 100000
	for i := range n {
		fmt.Fprintf(&text, "dn: cn=ü%d,dc=x\r\nobjectClass: user\r\ndisplayName: Ünal %d 𝄞 — ein längerer Anzeigename\r\n\r\n", i, i)
	}
	lines := 4*n + 1 // the last line is the one the lone byte is on
	data := encodeUTF16(t, text.Bytes(), unicode.LittleEndian)
	if text.Len() < 2*streamBlockSize {
		t.Fatalf("%d bytes of UTF-8: not more than one block", text.Len())
	}
	mem := readGood(t, "good.ldf", data)
	if len(mem) != n || mem[n-1].DN != fmt.Sprintf("cn=ü%d,dc=x", n-1) || string(mem[n-1].Raw["displayName"][0]) != fmt.Sprintf("Ünal %d 𝄞 — ein längerer Anzeigename", n-1) {
		t.Fatalf("read %d objects, want %d", len(mem), n)
	}
	_, _, stream, memErr, streamErr := readBoth(t, "odd.ldf", append(data, 'x'))
	for _, err := range []error{memErr, streamErr} {
		var ee *ldif.EncodingError
		if !errors.As(err, &ee) || ee.Line != lines || ee.Offset != int64(len(data)) {
			t.Errorf("error %v, want an EncodingError on line %d at byte %d", err, lines, len(data))
		}
	}
	if len(stream) == 0 || len(stream) >= n {
		t.Errorf("stream yielded %d objects before the error, want those of the blocks before it", len(stream))
	}
}
