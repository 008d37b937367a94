package ldapsync

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// GUID is a 16-byte GUID in Windows layout (first three fields little-endian): the bytes AD
// returns for objectGUID, the ContactId of address book files and AbUserEntry.UserGuid.
type GUID [16]byte

// GUIDError reports a malformed GUID.
type GUIDError struct {
	Input  string
	Reason string
}

func (e *GUIDError) Error() string {
	return fmt.Sprintf("ldapsync: bad GUID %s: %s", e.Input, e.Reason)
}

// BadInput marks a malformed GUID as bad input.
func (e *GUIDError) BadInput() bool { return true }

// GUIDFromBytes validates the 16 raw bytes of an objectGUID value.
func GUIDFromBytes(b []byte) (GUID, error) {
	var g GUID
	if len(b) != 16 {
		return g, &GUIDError{Input: fmt.Sprintf("%x", b), Reason: fmt.Sprintf("%d bytes, want 16", len(b))}
	}
	copy(g[:], b)
	return g, nil
}

// ParseGUID parses the text form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, with or without braces,
// in either case.
func ParseGUID(s string) (GUID, error) {
	var g GUID
	t := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return g, &GUIDError{Input: strconv.Quote(s), Reason: "want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"}
	}
	raw, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:])
	if err != nil {
		return g, &GUIDError{Input: strconv.Quote(s), Reason: "not hexadecimal"}
	}
	// Text order is big-endian; Windows layout stores the first three fields little-endian.
	binary.LittleEndian.PutUint32(g[0:], binary.BigEndian.Uint32(raw[0:]))
	binary.LittleEndian.PutUint16(g[4:], binary.BigEndian.Uint16(raw[4:]))
	binary.LittleEndian.PutUint16(g[6:], binary.BigEndian.Uint16(raw[6:]))
	copy(g[8:], raw[8:])
	return g, nil
}

// MustParseGUID is ParseGUID for constants in tests and examples; it panics on error.
func MustParseGUID(s string) GUID {
	g, err := ParseGUID(s)
	if err != nil {
		panic(err)
	}
	return g
}

// IsZero reports whether g is all zeros.
func (g GUID) IsZero() bool { return g == GUID{} }

// String formats g the Windows way, lower case: 96bd221f-8492-4450-abb2-2bd6828db27a.
func (g GUID) String() string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(g[0:]), binary.LittleEndian.Uint16(g[4:]),
		binary.LittleEndian.Uint16(g[6:]), g[8:10], g[10:])
}

// FilterValue returns g escaped for an LDAP filter as raw bytes.
func (g GUID) FilterValue() string { return escapeBytes(g[:]) }

// MarshalText implements encoding.TextMarshaler.
func (g GUID) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (g *GUID) UnmarshalText(b []byte) error {
	v, err := ParseGUID(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}
