package abs

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
)

// ChangeKind says how a contact differs between two address books.
type ChangeKind string

// Change kinds.
const (
	Added   ChangeKind = "added"
	Removed ChangeKind = "removed"
	Changed ChangeKind = "changed"
)

// OuPathAttr is the name AttrChange uses for a change of a contact's OuPathId.
const OuPathAttr = "ouPathId"

// Change is one contact that differs between an old and a new address book.
type Change struct {
	Kind  ChangeKind
	ID    GUID
	Old   *Contact     // nil when added
	New   *Contact     // nil when removed
	Attrs []AttrChange // for Changed: the attributes whose records differ, in the new file's order
}

// AttrChange is one attribute of a changed contact: its records before and after (either may be
// empty). Values keep the AttrID of their own file.
type AttrChange struct {
	Name     string
	Old, New []Value
}

// Changes compares two address books contact by contact (by ContactId) and attribute by
// attribute (by name, so that the two files' attribute Ids may differ) and returns the contacts
// added, removed and changed, sorted by ContactId. A deleted-object record of a delta counts as
// absent. A change of OuPathId is reported as an attribute named OuPathAttr.
func Changes(old, new *Book) ([]Change, error) {
	ot, err := old.Table()
	if err != nil {
		return nil, err
	}
	nt, err := new.Table()
	if err != nil {
		return nil, err
	}
	oldByID := make(map[GUID]*Contact, len(old.Contacts))
	for _, c := range old.Contacts {
		if !c.Deleted() {
			oldByID[c.ID] = c
		}
	}
	var out []Change
	inNew := make(map[GUID]bool, len(new.Contacts))
	for _, n := range new.Contacts {
		if n.Deleted() {
			continue
		}
		inNew[n.ID] = true
		o, ok := oldByID[n.ID]
		if !ok {
			out = append(out, Change{Kind: Added, ID: n.ID, New: n})
			continue
		}
		if attrs := contactChanges(o, ot, n, nt); len(attrs) > 0 {
			out = append(out, Change{Kind: Changed, ID: n.ID, Old: o, New: n, Attrs: attrs})
		}
	}
	for _, o := range old.Contacts {
		if !o.Deleted() && !inNew[o.ID] {
			out = append(out, Change{Kind: Removed, ID: o.ID, Old: o})
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out, nil
}

// ChangesStream is Changes for two files read from old and new as they stream, neither held in
// memory: it remembers, per contact of old, its offset, OuPathId and a 64-bit hash of its
// attributes (by name) and records, reads an old contact again (ReadContactAt) only when the
// new one's differ, and keeps only the contacts that changed, then walks old once more for the
// removed ones. Contacts whose records differ but hash alike (a chance of about 2^-64 per
// contact) would count as unchanged; when a table names two attributes alike every old contact
// is read again and compared as Changes does. Memory: about 50 bytes per contact of old, plus the
// changes. A decoding error is returned as a *SideError that says which file it comes from.
func ChangesStream(old, new *Reader) ([]Change, error) {
	ot, nt := old.Table(), new.Table()
	hashed := len(ot.byName) == len(ot.attrs) && len(nt.byName) == len(nt.attrs)
	seed := maphash.MakeSeed()
	type entry struct {
		off    int64
		sum    uint64
		ouPath uint32
		inNew  bool
	}
	oldByID := make(map[GUID]entry)
	for c, err := range old.ContactsTransient() {
		if err != nil {
			return nil, &SideError{Err: err}
		}
		if !c.Deleted() {
			oldByID[c.ID] = entry{off: c.Offset, sum: recordsHash(seed, c, ot), ouPath: c.OuPathID}
		}
	}
	var out []Change
	for n, err := range new.ContactsTransient() {
		if err != nil {
			return nil, &SideError{New: true, Err: err}
		}
		if n.Deleted() {
			continue
		}
		e, ok := oldByID[n.ID]
		if !ok {
			out = append(out, Change{Kind: Added, ID: n.ID, New: detach(n)})
			continue
		}
		if !e.inNew {
			e.inNew = true
			oldByID[n.ID] = e
		}
		if hashed && e.ouPath == n.OuPathID && e.sum == recordsHash(seed, n, nt) {
			continue
		}
		o, err := old.ReadContactAt(e.off)
		if err != nil {
			return nil, &SideError{Err: err}
		}
		if attrs := contactChanges(o, ot, n, nt); len(attrs) > 0 {
			n = detach(n)
			out = append(out, Change{Kind: Changed, ID: n.ID, Old: o, New: n, Attrs: contactChanges(o, ot, n, nt)})
		}
	}
	for o, err := range old.ContactsTransient() {
		if err != nil {
			return nil, &SideError{Err: err}
		}
		if !o.Deleted() && !oldByID[o.ID].inNew {
			out = append(out, Change{Kind: Removed, ID: o.ID, Old: detach(o)})
		}
	}
	slices.SortFunc(out, func(a, b Change) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return out, nil
}

// SideError is a decoding error of ChangesStream or ApplyStream: New says whether it is the
// second file's (the new file, the delta), else the first file's (the old file, the full file).
type SideError struct {
	New bool
	Err error
}

func (e *SideError) Error() string { return e.Err.Error() }

// Unwrap returns the decoding error.
func (e *SideError) Unwrap() error { return e.Err }

// recordsHash hashes the attributes of c (table t) by name with their records, independently of
// the order of the attributes: what contactChanges compares.
func recordsHash(seed maphash.Seed, c *Contact, t *Table) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var sum uint64
	var n [8]byte
	for i := 0; i < len(c.Values); {
		id := c.Values[i].AttrID
		name := t.Name(id)
		h.Reset()
		binary.LittleEndian.PutUint64(n[:], uint64(len(name)))
		h.Write(n[:])
		h.WriteString(name)
		for ; i < len(c.Values) && c.Values[i].AttrID == id; i++ {
			v := &c.Values[i]
			binary.LittleEndian.PutUint64(n[:], uint64(len(v.Str))<<8|uint64(v.Kind))
			h.Write(n[:])
			h.WriteString(v.Str)
		}
		sum += h.Sum64()
	}
	return sum
}

// detach returns a copy of c that shares nothing with it, strings included: a contact of
// ContactsTransient to keep.
func detach(c *Contact) *Contact {
	d := c.Clone()
	for i := range d.Values {
		d.Values[i].Str = strings.Clone(d.Values[i].Str)
	}
	return d
}

// contactChanges lists the attributes of o (table ot) and n (table nt) whose records differ: the
// new file's attributes in record order, then those only the old contact has.
func contactChanges(o *Contact, ot *Table, n *Contact, nt *Table) []AttrChange {
	var out []AttrChange
	if o.OuPathID != n.OuPathID {
		out = append(out, AttrChange{Name: OuPathAttr,
			Old: []Value{{Kind: ValueString, Str: strconv.FormatUint(uint64(o.OuPathID), 10)}},
			New: []Value{{Kind: ValueString, Str: strconv.FormatUint(uint64(n.OuPathID), 10)}}})
	}
	seen := make(map[string]bool)
	for _, id := range attrIDs(n) {
		name := nt.Name(id)
		seen[name] = true
		nv := n.Attr(id)
		ov := o.Get(ot, name)
		if !sameValues(ov, nv) {
			out = append(out, AttrChange{Name: name, Old: ov, New: nv})
		}
	}
	for _, id := range attrIDs(o) {
		if name := ot.Name(id); !seen[name] {
			out = append(out, AttrChange{Name: name, Old: o.Attr(id)})
		}
	}
	return out
}

// sameValues compares records ignoring their AttrIDs.
func sameValues(a, b []Value) bool {
	return slices.EqualFunc(a, b, func(v, w Value) bool {
		w.AttrID = v.AttrID
		return v.Equal(w)
	})
}
