package abs

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// GUID is a 16-byte GUID in Windows layout (first three fields little-endian): an object's
// objectGUID as AD returns it. It has the layout of ldapsync.GUID, so ldapsync.GUID(g) converts.
type GUID [16]byte

// String formats g the Windows way, lower case: 96bd221f-8492-4450-abb2-2bd6828db27a.
func (g GUID) String() string {
	var b [36]byte
	var le [8]byte
	binary.BigEndian.PutUint32(le[0:], binary.LittleEndian.Uint32(g[0:]))
	binary.BigEndian.PutUint16(le[4:], binary.LittleEndian.Uint16(g[4:]))
	binary.BigEndian.PutUint16(le[6:], binary.LittleEndian.Uint16(g[6:]))
	hex.Encode(b[0:8], le[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], le[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], le[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], g[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], g[10:16])
	return string(b[:])
}

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
	var g GUID
	t := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}")
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return g, fmt.Errorf("abs: bad GUID %s: want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", strconv.Quote(s))
	}
	raw, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:])
	if err != nil {
		return g, fmt.Errorf("abs: bad GUID %s: not hexadecimal", strconv.Quote(s))
	}
	binary.LittleEndian.PutUint32(g[0:], binary.BigEndian.Uint32(raw[0:]))
	binary.LittleEndian.PutUint16(g[4:], binary.BigEndian.Uint16(raw[4:]))
	binary.LittleEndian.PutUint16(g[6:], binary.BigEndian.Uint16(raw[6:]))
	copy(g[8:], raw[8:])
	return g, nil
}
