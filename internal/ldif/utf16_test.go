package ldif

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
)

// toUTF16 encodes s as UTF-16 in the given byte order behind a byte order mark, with the
// standard library (independently of x/text, which Decode uses).
func toUTF16(s string, order binary.AppendByteOrder) []byte {
	units := append([]uint16{0xfeff}, utf16.Encode([]rune(s))...)
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		out = order.AppendUint16(out, u)
	}
	return out
}

// utf16Text has CRLF line ends, a folded line, a base64 value, characters outside the BMP and
// a bad record (line 9) between good ones.
const utf16Text = "version: 1\r\n" +
	"dn: cn=Zoë 𝄞,dc=x\r\n" +
	"changetype: add\r\n" +
	"displayName: Zoë Zeller — 日本 𝄞\r\n" +
	"objectSid:: AQUAAAAAAAUVAAAAx/f+13x3\r\n" +
	" VciUWs4BOggAAA==\r\n" +
	"\r\n" +
	"dn: cn=b,dc=x\r\n" +
	"cn:: !!\r\n" +
	"\r\n" +
	"dn: cn=c,dc=x\r\n" +
	"cn: c\r\n"

// TestScannerUTF16: UTF-16 input (both byte orders, from a stream, byte by byte and from
// memory) scans to the same records, lines and errors as its UTF-8 text.
func TestScannerUTF16(t *testing.T) {
	want, wantErrs := scanAll(t, utf16Text, Options{Path: "f.ldf"})
	if len(want) != 2 || len(wantErrs) != 1 || wantErrs[0].Line != 9 || want[1].Line != 11 {
		t.Fatalf("UTF-8: records %+v errors %v", want, wantErrs)
	}
	for _, order := range []binary.AppendByteOrder{binary.LittleEndian, binary.BigEndian} {
		data := toUTF16(utf16Text, order)
		readers := map[string]func() *Scanner{
			"stream": func() *Scanner { return NewScanner(bytes.NewReader(data), Options{Path: "f.ldf"}) },
			"bytewise": func() *Scanner {
				return NewScanner(iotest.OneByteReader(bytes.NewReader(data)), Options{Path: "f.ldf"})
			},
			"memory": func() *Scanner {
				sc := NewScanner(nil, Options{})
				sc.ResetBytes(data, Options{Path: "f.ldf"})
				return sc
			},
		}
		for name, open := range readers {
			recs, errs := scanRest(t, open())
			if !reflect.DeepEqual(recs, want) || !reflect.DeepEqual(errs, wantErrs) {
				t.Errorf("%v %s: records %+v errors %v, want %+v %v", order, name, recs, errs, want, wantErrs)
			}
		}
	}
}

// TestDecodeUTF16Invalid: invalid UTF-16 ends the scan with an *EncodingError (not a record
// *Error, which would be skipped) at its line and byte offset, after the records before it.
func TestDecodeUTF16Invalid(t *testing.T) {
	text := "dn: cn=a\ncn: a\n\ndn: cn=b\ncn: b"
	le, be := toUTF16(text, binary.LittleEndian), toUTF16(text, binary.BigEndian)
	end := int64(len(le))
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"odd length", append(bytes.Clone(le), 'x'), "odd number of bytes"},
		{"lone low surrogate", append(bytes.Clone(le), 0x00, 0xdc, 'x', 0), "low surrogate 0xdc00 without"},
		{"high surrogate, no low", append(bytes.Clone(be), 0xd8, 0x3d, 0, 'x'), "high surrogate 0xd83d followed by 0x0078"},
		{"high surrogate at the end", append(bytes.Clone(be), 0xd8, 0x3d), "high surrogate 0xd83d at the end"},
		{"high surrogate and a byte", append(bytes.Clone(be), 0xd8, 0x3d, 0xdc), "high surrogate 0xd83d at the end"},
	}
	for _, tt := range tests {
		for _, bytewise := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(tt.data)
			if bytewise {
				r = iotest.OneByteReader(r)
			}
			sc := NewScanner(r, Options{Path: "f.ldf"})
			rec, err := sc.Next()
			if err != nil || rec.DN != "cn=a" {
				t.Fatalf("%s: first record %v, %v", tt.name, rec, err)
			}
			_, err = sc.Next()
			var ee *EncodingError
			var le *Error
			if !errors.As(err, &ee) || errors.As(err, &le) || ee.Line != 5 || ee.Offset != end || !strings.Contains(ee.Msg, tt.msg) ||
				!strings.HasPrefix(err.Error(), "f.ldf:5: byte offset ") {
				t.Errorf("%s (bytewise %v): error %v, want an EncodingError at f.ldf:5, byte %d, saying %q", tt.name, bytewise, err, end, tt.msg)
			}
			if _, again := sc.Next(); again != err {
				t.Errorf("%s: Next after the error returned %v", tt.name, again)
			}
		}
	}
}

// TestDecodeNotUTF16: without a UTF-16 byte order mark Decode gives the input unchanged (short
// inputs, a UTF-8 mark, a lone FF) and passes read errors on.
func TestDecodeNotUTF16(t *testing.T) {
	for _, in := range []string{"", "d", "\xff", "\xfe", "\xff\xff", "dn: cn=a\n", "\ufeffdn: cn=a\n"} {
		got, err := io.ReadAll(Decode(strings.NewReader(in), "f"))
		if err != nil || string(got) != in {
			t.Errorf("Decode(%q) = %q, %v", in, got, err)
		}
	}
	boom := errors.New("boom")
	for _, r := range []io.Reader{iotest.ErrReader(boom), io.MultiReader(strings.NewReader("d"), iotest.ErrReader(boom))} {
		if got, err := io.ReadAll(Decode(r, "f")); !errors.Is(err, boom) {
			t.Errorf("read error: %q, %v", got, err)
		}
	}
	got, err := io.ReadAll(Decode(bytes.NewReader(toUTF16("dn: Zoë 𝄞\r\n", binary.BigEndian)), "f"))
	if err != nil || string(got) != "dn: Zoë 𝄞\r\n" {
		t.Errorf("Decode of UTF-16BE = %q, %v", got, err)
	}
}
