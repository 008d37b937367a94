package winguid

import (
	"encoding/hex"
	"errors"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	wire, _ := hex.DecodeString("1f22bd9692845044abb22bd6828db27a")
	var g [16]byte
	copy(g[:], wire)
	const text = "96bd221f-8492-4450-abb2-2bd6828db27a"
	if got := Format(g); got != text {
		t.Errorf("Format = %s, want %s", got, text)
	}
	for _, in := range []string{text, "{96BD221F-8492-4450-ABB2-2BD6828DB27A}", " " + text + " "} {
		if p, err := Parse(in); err != nil || p != g {
			t.Errorf("Parse(%q) = %x, %v", in, p, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]error{
		"":                                     ErrSyntax,
		"96bd221f84924450abb22bd6828db27a":     ErrSyntax,
		"96bd221f-8492-4450-abb2-2bd6828db27g": ErrHex,
	} {
		if _, err := Parse(in); !errors.Is(err, want) {
			t.Errorf("Parse(%q) err = %v, want %v", in, err, want)
		}
	}
}
