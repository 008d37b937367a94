package ldapsync

import (
	"fmt"
	"strconv"

	"github.com/abkit/abkit/internal/winguid"
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
	g, err := winguid.Parse(s)
	if err != nil {
		return GUID{}, &GUIDError{Input: strconv.Quote(s), Reason: err.Error()}
	}
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
func (g GUID) String() string { return winguid.Format(g) }

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
