package ldif

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/go-ldap/ldap/v3"
)

// Entry returns the record's attributes as an ldap.Entry that outlives the record: values of
// the same attribute (names compared case-insensitively, the first spelling kept) are gathered
// in file order, attributes in the order of their first value. The values are copied once: each
// string of Values shares its bytes with the same value in ByteValues, so the entry's ByteValues
// must not be modified. Use it on Entry records.
func (r *Record) Entry() *ldap.Entry {
	size := 0
	for _, a := range r.Attrs {
		size += len(a.Value)
	}
	arena := make([]byte, 0, size)
	// idx[i]: the attribute of r.Attrs[i]; names are interned, so == usually decides. The
	// scratch slices are the record's, reused from record to record.
	idx := slices.Grow(r.idx[:0], len(r.Attrs))[:len(r.Attrs)]
	names, counts := r.names[:0], r.counts[:0]
	defer func() { r.idx, r.names, r.counts = idx, names, counts }()
	for i, a := range r.Attrs {
		k := lastName(len(names), a.Name, func(j int) string { return names[j] })
		if k < 0 {
			k = len(names)
			names = append(names, a.Name)
			counts = append(counts, 0)
		}
		idx[i] = k
		counts[k]++
	}
	attrs := make([]ldap.EntryAttribute, len(names))
	ptrs := make([]*ldap.EntryAttribute, len(names))
	strs := make([]string, len(r.Attrs))
	raws := make([][]byte, len(r.Attrs))
	off := 0
	for k, n := range names {
		attrs[k] = ldap.EntryAttribute{Name: n, Values: strs[off : off : off+counts[k]], ByteValues: raws[off : off : off+counts[k]]}
		ptrs[k] = &attrs[k]
		off += counts[k]
	}
	for i, a := range r.Attrs {
		start := len(arena)
		arena = append(arena, a.Value...)
		v := arena[start:len(arena):len(arena)]
		at := &attrs[idx[i]]
		at.ByteValues = append(at.ByteValues, v)
		at.Values = append(at.Values, unsafe.String(unsafe.SliceData(v), len(v)))
	}
	return &ldap.Entry{DN: r.DN, Attributes: ptrs}
}

// lastName returns the last j < n whose name(j) is name, compared case-insensitively, or -1.
// Names are interned, so == usually decides.
func lastName(n int, name string, nameOf func(j int) string) int {
	for j := n - 1; j >= 0; j-- {
		if v := nameOf(j); len(v) == len(name) && (v == name || strings.EqualFold(v, name)) { // names are ASCII
			return j
		}
	}
	return -1
}

// ReuseEntry fills e with the record's attributes as Entry does, reusing e's memory from call to
// call: its attribute structs and their value slices are overwritten by the next call with e.
// Only the values are newly allocated (together, once): the strings and byte slices of e's
// values outlive the record and e's next use, and the byte slices must not be modified.
func (r *Record) ReuseEntry(e *ldap.Entry) {
	size := 0
	for _, a := range r.Attrs {
		size += len(a.Value)
	}
	arena := make([]byte, 0, size)
	e.DN = r.DN
	attrs := e.Attributes[:0]
	for _, a := range r.Attrs {
		k := lastName(len(attrs), a.Name, func(j int) string { return attrs[j].Name })
		if k < 0 {
			k = len(attrs)
			if k < cap(attrs) && attrs[:k+1][k] != nil {
				at := attrs[:k+1][k]
				*at = ldap.EntryAttribute{Name: a.Name, Values: at.Values[:0], ByteValues: at.ByteValues[:0]}
				attrs = attrs[:k+1]
			} else {
				attrs = append(attrs, &ldap.EntryAttribute{Name: a.Name})
			}
		}
		start := len(arena)
		arena = append(arena, a.Value...)
		v := arena[start:len(arena):len(arena)]
		at := attrs[k]
		at.ByteValues = append(at.ByteValues, v)
		at.Values = append(at.Values, unsafe.String(unsafe.SliceData(v), len(v)))
	}
	e.Attributes = attrs
}

// modOps are the ldap operation codes of Mod.Op.
var modOps = map[string]uint{"add": ldap.AddAttribute, "delete": ldap.DeleteAttribute,
	"replace": ldap.ReplaceAttribute, "increment": ldap.IncrementAttribute}

// ModifyRequest returns a Modify record as a request that outlives the record (no controls).
func ModifyRequest(r *Record) *ldap.ModifyRequest {
	m := ldap.NewModifyRequest(r.DN, nil)
	for _, mod := range r.Mods {
		vals := make([]string, len(mod.Values))
		for i, v := range mod.Values {
			vals[i] = string(v.Value)
		}
		m.Changes = append(m.Changes, ldap.Change{Operation: modOps[mod.Op], Modification: ldap.PartialAttribute{Type: mod.Name, Vals: vals}})
	}
	return m
}
