package rtcdb

import (
	"fmt"
	"strconv"

	"github.com/abkit/abkit/internal/winguid"
	mssql "github.com/microsoft/go-mssqldb"
)

// GUID is an AbUserEntry.UserGuid: the object's objectGUID in Windows layout (first three fields
// little-endian), the byte order of AD's objectGUID and of the ContactId of address book files.
// It converts to and from ldapsync.GUID and abs.GUID with a plain type conversion.
type GUID [16]byte

// GUIDError reports a malformed GUID text.
type GUIDError struct {
	Input  string
	Reason string
}

func (e *GUIDError) Error() string { return fmt.Sprintf("rtcdb: bad GUID %s: %s", e.Input, e.Reason) }

// BadInput marks a malformed GUID as bad input.
func (e *GUIDError) BadInput() bool { return true }

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

// ParseGUIDs parses GUIDs in text form (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, braces allowed),
// dropping repeats but keeping the first-seen order. A malformed GUID is a KindBadInput error,
// so that callers fail before connecting.
func ParseGUIDs(texts []string) ([]GUID, error) {
	out := make([]GUID, 0, len(texts))
	for _, s := range texts {
		g, err := ParseGUID(s)
		if err != nil {
			return nil, &Error{Op: "parse GUID", Kind: KindBadInput, Err: err}
		}
		out = append(out, g)
	}
	return dedupe(out), nil
}

// uid converts g into the driver's uniqueidentifier parameter type. mssql.UniqueIdentifier holds
// the GUID in text (big-endian) order and its Value swaps the first three fields back, so the wire
// carries g's Windows layout, which is SQL Server's own.
func uid(g GUID) mssql.UniqueIdentifier {
	var u mssql.UniqueIdentifier
	u[0], u[1], u[2], u[3] = g[3], g[2], g[1], g[0]
	u[4], u[5] = g[5], g[4]
	u[6], u[7] = g[7], g[6]
	copy(u[8:], g[8:])
	return u
}

// guidFromColumn converts a scanned uniqueidentifier column (Windows layout on the wire).
func guidFromColumn(v []byte) (GUID, error) {
	var g GUID
	if len(v) != 16 {
		return g, fmt.Errorf("uniqueidentifier column: %d bytes, want 16", len(v))
	}
	copy(g[:], v)
	return g, nil
}
