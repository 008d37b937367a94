// Package winguid formats and parses GUIDs in Windows layout (first three fields little-endian),
// the byte order of AD's objectGUID, address book ContactIds and AbUserEntry.UserGuid. It is the
// one implementation behind abs.GUID and ldapsync.GUID, which keep their own types so that abs does
// not depend on the LDAP packages.
package winguid

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
)

// ErrSyntax is returned by Parse for text that is not xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx.
var ErrSyntax = errors.New("want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")

// ErrHex is returned by Parse for text of the right shape with a non-hexadecimal digit.
var ErrHex = errors.New("not hexadecimal")

// Format returns g as lower-case text: 96bd221f-8492-4450-abb2-2bd6828db27a.
func Format(g [16]byte) string {
	var b [36]byte
	var be [8]byte
	binary.BigEndian.PutUint32(be[0:], binary.LittleEndian.Uint32(g[0:]))
	binary.BigEndian.PutUint16(be[4:], binary.LittleEndian.Uint16(g[4:]))
	binary.BigEndian.PutUint16(be[6:], binary.LittleEndian.Uint16(g[6:]))
	hex.Encode(b[0:8], be[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], be[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], be[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], g[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], g[10:16])
	return string(b[:])
}

// Parse reads the text form, with or without braces and surrounding spaces, in either case.
func Parse(s string) ([16]byte, error) {
	var g [16]byte
	t := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return g, ErrSyntax
	}
	raw, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:])
	if err != nil {
		return g, ErrHex
	}
	// Text order is big-endian; Windows layout stores the first three fields little-endian.
	binary.LittleEndian.PutUint32(g[0:], binary.BigEndian.Uint32(raw[0:]))
	binary.LittleEndian.PutUint16(g[4:], binary.BigEndian.Uint16(raw[4:]))
	binary.LittleEndian.PutUint16(g[6:], binary.BigEndian.Uint16(raw[6:]))
	copy(g[8:], raw[8:])
	return g, nil
}
