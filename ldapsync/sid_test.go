package ldapsync

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func TestSIDRoundTrip(t *testing.T) {
	const text = "S-1-5-21-1004336348-1177238915-682003330-1105"
	wire, _ := hex.DecodeString("010500000000000515000000dcf4dc3b833d2b46828ba62851040000")
	s, err := ParseSID(text)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s.Bytes(), wire) {
		t.Errorf("ParseSID bytes %x, want %x", s.Bytes(), wire)
	}
	b, err := ParseSIDBytes(wire)
	if err != nil || b.String() != text || b != s {
		t.Errorf("ParseSIDBytes = %v, %v", b, err)
	}
	if got := s.FilterValue(); got[:12] != `\01\05\00\00` {
		t.Errorf("FilterValue = %s", got)
	}
	big := MustParseSID("S-1-0x1000000000A-7")
	if big.String() != "S-1-0x1000000000A-7" {
		t.Errorf("hex authority = %s", big)
	}
	if MustParseSID("S-1-4294967296-1").String() != "S-1-0x100000000-1" {
		t.Error("authority 2^32 not printed in hex")
	}
}

func TestSIDRejects(t *testing.T) {
	for _, in := range []string{"", "S-1", "S-2-5-21", "S-1-x-21", "S-1-5-4294967296", "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", "X-1-5"} {
		var se *SIDError
		if _, err := ParseSID(in); !errors.As(err, &se) {
			t.Errorf("ParseSID(%q) err = %v", in, err)
		}
	}
	for _, h := range []string{"", "01", "0205000000000005", "011000000000000500000000", "01010000000000050000"} {
		b, _ := hex.DecodeString(h)
		if _, err := ParseSIDBytes(b); err == nil {
			t.Errorf("ParseSIDBytes(%s) accepted", h)
		}
	}
	sid, asText, err := DecodeSIDValue([]byte("S-1-5-21-1-2-3-500"))
	if err != nil || !asText || sid.String() != "S-1-5-21-1-2-3-500" {
		t.Errorf("text SID: %v %v %v", sid, asText, err)
	}
}

func TestGUID(t *testing.T) {
	const text = "96bd221f-8492-4450-abb2-2bd6828db27a"
	g, err := ParseGUID("{" + "96BD221F-8492-4450-ABB2-2BD6828DB27A" + "}")
	if err != nil {
		t.Fatal(err)
	}
	if g.String() != text {
		t.Errorf("String = %s", g)
	}
	wantWire, _ := hex.DecodeString("1f22bd9692845044abb22bd6828db27a")
	if !bytes.Equal(g[:], wantWire) {
		t.Errorf("wire %x, want %x", g[:], wantWire)
	}
	for _, bad := range []string{"", "96bd221f84924450abb22bd6828db27a", "96bd221f-8492-4450-abb2-2bd6828db27g"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) accepted", bad)
		}
	}
	if _, err := GUIDFromBytes(make([]byte, 15)); err == nil {
		t.Error("15-byte GUID accepted")
	}
}
