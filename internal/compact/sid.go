package compact

import (
	"encoding/binary"

	"github.com/abkit/abkit/ldapsync"
)

// SIDKey is a SID in compact form: its domain (every sub-authority but the last, interned by a
// SIDTable) and its last sub-authority, the RID. Keys from one table compare like the SIDs.
type SIDKey struct {
	Domain, RID uint32
}

// SIDTable interns the domains of SIDs. The zero value is ready to use.
type SIDTable struct {
	ids     map[string]uint32
	domains []string
}

// split returns the domain part and RID of a binary SID: the bytes before the last
// sub-authority and that sub-authority. A SID without sub-authorities is its own domain, RID 0
// (its count byte, 0, tells it apart from every domain part, whose count is at least 1).
func split(b []byte) ([]byte, uint32) {
	if len(b) < 12 || b[1] == 0 {
		return b, 0
	}
	return b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
}

// Key returns the key of s, interning its domain.
func (t *SIDTable) Key(s ldapsync.SID) SIDKey {
	dom, rid := split(s.Bytes())
	id, ok := t.ids[string(dom)]
	if !ok {
		if t.ids == nil {
			t.ids = map[string]uint32{}
		}
		id = uint32(len(t.domains))
		t.domains = append(t.domains, string(dom))
		t.ids[string(dom)] = id
	}
	return SIDKey{Domain: id, RID: rid}
}

// Lookup returns the key of s without interning; false when no SID of its domain was keyed.
func (t *SIDTable) Lookup(s ldapsync.SID) (SIDKey, bool) {
	dom, rid := split(s.Bytes())
	id, ok := t.ids[string(dom)]
	return SIDKey{Domain: id, RID: rid}, ok
}
