package abs

import (
	"fmt"
	"strconv"

	"github.com/abkit/abkit/internal/winguid"
)

// GUID is a 16-byte GUID in Windows layout (first three fields little-endian): an object's
// objectGUID as AD returns it. It has the layout of ldapsync.GUID, so ldapsync.GUID(g) converts.
type GUID [16]byte

// String formats g the Windows way, lower case: 96bd221f-8492-4450-abb2-2bd6828db27a.
func (g GUID) String() string { return winguid.Format(g) }

// IsZero reports whether g is all zeros.
func (g GUID) IsZero() bool { return g == GUID{} }

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

// ParseGUID parses xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, with or without braces, in either case.
func ParseGUID(s string) (GUID, error) {
	g, err := winguid.Parse(s)
	if err != nil {
		return GUID{}, fmt.Errorf("abs: bad GUID %s: %w", strconv.Quote(s), err)
	}
	return g, nil
}
