package ldapsync

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// maxSubAuthorities is the largest sub-authority count a SID may carry.
const maxSubAuthorities = 15

// SID is a Windows security identifier in its binary wire form (revision 1, 1-15
// sub-authorities). The zero value is not a valid SID. SIDs are comparable with ==.
type SID struct {
	b string // the validated wire bytes
}

// SIDError reports a malformed SID, binary or text.
type SIDError struct {
	Input  string // the text, or the bytes in hex
	Reason string
}

func (e *SIDError) Error() string { return fmt.Sprintf("ldapsync: bad SID %s: %s", e.Input, e.Reason) }

// BadInput marks a malformed SID as bad input.
func (e *SIDError) BadInput() bool { return true }

// ParseSIDBytes validates b as a binary SID: revision 1, count <= 15, length = 8 + 4*count.
func ParseSIDBytes(b []byte) (SID, error) {
	switch {
	case len(b) < 8:
		return SID{}, &SIDError{Input: fmt.Sprintf("%x", b), Reason: fmt.Sprintf("%d bytes, at least 8 needed", len(b))}
	case b[0] != 1:
		return SID{}, &SIDError{Input: fmt.Sprintf("%x", b), Reason: fmt.Sprintf("revision %d, want 1", b[0])}
	case b[1] > maxSubAuthorities:
		return SID{}, &SIDError{Input: fmt.Sprintf("%x", b), Reason: fmt.Sprintf("%d sub-authorities, at most 15 allowed", b[1])}
	case len(b) != 8+4*int(b[1]):
		return SID{}, &SIDError{Input: fmt.Sprintf("%x", b), Reason: fmt.Sprintf("%d bytes for %d sub-authorities, want %d", len(b), b[1], 8+4*int(b[1]))}
	}
	return SID{b: string(b)}, nil
}

// ParseSID parses the text form S-1-<authority>-<sub>..., with the authority in decimal or, for
// values of 2^32 and above, in hex (0x...).
func ParseSID(s string) (SID, error) {
	bad := func(reason string) (SID, error) { return SID{}, &SIDError{Input: strconv.Quote(s), Reason: reason} }
	parts := strings.Split(s, "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") {
		return bad("want S-1-<authority>-<sub-authority>...")
	}
	if parts[1] != "1" {
		return bad("revision " + parts[1] + ", want 1")
	}
	subs := parts[3:]
	if len(subs) > maxSubAuthorities {
		return bad(fmt.Sprintf("%d sub-authorities, at most 15 allowed", len(subs)))
	}
	var auth uint64
	var err error
	if a := parts[2]; strings.HasPrefix(a, "0x") || strings.HasPrefix(a, "0X") {
		auth, err = strconv.ParseUint(a[2:], 16, 48)
	} else {
		auth, err = strconv.ParseUint(a, 10, 48)
	}
	if err != nil {
		return bad("identifier authority " + strconv.Quote(parts[2]) + " is not a 48-bit number")
	}
	b := make([]byte, 8+4*len(subs))
	b[0] = 1
	b[1] = byte(len(subs))
	for i := 0; i < 6; i++ {
		b[2+i] = byte(auth >> (8 * (5 - i)))
	}
	for i, sub := range subs {
		v, err := strconv.ParseUint(sub, 10, 32)
		if err != nil {
			return bad("sub-authority " + strconv.Quote(sub) + " is not a 32-bit number")
		}
		binary.LittleEndian.PutUint32(b[8+4*i:], uint32(v))
	}
	return SID{b: string(b)}, nil
}

// MustParseSID is ParseSID for constants in tests and examples; it panics on error.
func MustParseSID(s string) SID {
	sid, err := ParseSID(s)
	if err != nil {
		panic(err)
	}
	return sid
}

// IsZero reports whether s is the zero value (no SID).
func (s SID) IsZero() bool { return s.b == "" }

// Bytes returns the binary wire form.
func (s SID) Bytes() []byte { return []byte(s.b) }

// String returns the S-1-... form; authorities of 2^32 and above are printed in hex.
func (s SID) String() string {
	if s.b == "" {
		return ""
	}
	var auth uint64
	for i := 0; i < 6; i++ {
		auth = auth<<8 | uint64(s.b[2+i])
	}
	var sb strings.Builder
	sb.WriteString("S-1-")
	if auth >= 1<<32 {
		sb.WriteString("0x" + strings.ToUpper(strconv.FormatUint(auth, 16)))
	} else {
		sb.WriteString(strconv.FormatUint(auth, 10))
	}
	for i := 0; i < int(s.b[1]); i++ {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32([]byte(s.b[8+4*i:]))), 10))
	}
	return sb.String()
}

// FilterValue returns the SID escaped for an LDAP filter as raw bytes (\01\05...), which both
// Active Directory and OpenLDAP match.
func (s SID) FilterValue() string { return escapeBytes([]byte(s.b)) }

// MarshalText implements encoding.TextMarshaler (S-1-... form).
func (s SID) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *SID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*s = SID{}
		return nil
	}
	v, err := ParseSID(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// DecodeSIDValue decodes an attribute value that should hold a binary SID. A value stored as the
// text S-1-... (Samba and some tools store it so when a client wrote text) is accepted, and
// asText is true so that the caller can report it.
func DecodeSIDValue(v []byte) (sid SID, asText bool, err error) {
	if len(v) > 2 && (v[0] == 'S' || v[0] == 's') && v[1] == '-' {
		sid, err = ParseSID(string(v))
		return sid, err == nil, err
	}
	sid, err = ParseSIDBytes(v)
	return sid, false, err
}

// escapeBytes escapes every byte as \xx, the safe form for binary values in LDAP filters.
func escapeBytes(b []byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 3*len(b))
	for _, c := range b {
		out = append(out, '\\', hex[c>>4], hex[c&0xf])
	}
	return string(out)
}
