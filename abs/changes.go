package abs

import (
	"bytes"
	"slices"
	"strconv"
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
