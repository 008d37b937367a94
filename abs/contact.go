package abs

import (
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// ValueKind says what a contact attribute record holds.
type ValueKind uint8

// Value kinds.
const (
	ValueString     ValueKind = iota // a string as stored (for phone attributes: the raw number)
	ValueNormalized                  // the server's normalized copy of the raw value before it
	ValueBinary                      // bytes (Str holds them raw; Bytes copies them)
	ValueEmpty                       // compact deltas: the object no longer has the attribute
)

// String names k: "string", "normalized", "binary" or "empty".
func (k ValueKind) String() string {
	switch k {
	case ValueString:
		return "string"
	case ValueNormalized:
		return "normalized"
	case ValueBinary:
		return "binary"
	case ValueEmpty:
		return "empty"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one ABF_CONTACT_ATTRIBUTE record. It is 24 bytes: one string holds the value of
// strings and binary values alike. (Type-0x3 Boolean-string attributes never have a record: see
// ErrBooleanValue.)
type Value struct {
	AttrID uint16
	Kind   ValueKind
	Str    string // ValueString, ValueNormalized: the text; ValueBinary: the raw bytes
}

// Bytes returns a copy of the value's bytes (for ValueBinary; the text's bytes for strings).
func (v Value) Bytes() []byte { return []byte(v.Str) }

// Text formats the value as the dump prints it: strings as they are, binary in lower-case hex,
// empty as "(empty)".
func (v Value) Text() string {
	switch v.Kind {
	case ValueBinary:
		return hex.EncodeToString([]byte(v.Str))
	case ValueEmpty:
		return "(empty)"
	}
	return v.Str
}

// Equal reports whether v and w hold the same record.
func (v Value) Equal(w Value) bool {
	return v.AttrID == w.AttrID && v.Kind == w.Kind && v.Str == w.Str
}

// Contact is one ABF_CONTACT: a user, contact or group, or in a delta a deleted object.
// The records of one attribute are adjacent in Values, each raw phone value followed by its
// normalized copy when there is one.
type Contact struct {
	ID       GUID   // the object's objectGUID
	OuPathID uint32 // the id of the object's OU path
	Values   []Value
	Offset   int64 // file offset of the record (set by the Reader; ignored by the Writer)
}

// Deleted reports whether c is a deleted object: a delta record with no attribute records.
func (c *Contact) Deleted() bool { return len(c.Values) == 0 }

// Attr returns the records of attribute id (adjacent in Values; nil when absent).
func (c *Contact) Attr(id uint16) []Value {
	for i := range c.Values {
		if c.Values[i].AttrID == id {
			j := i + 1
			for j < len(c.Values) && c.Values[j].AttrID == id {
				j++
			}
			return c.Values[i:j:j]
		}
	}
	return nil
}

// Get returns the records of the attribute named name in table t (nil when absent).
func (c *Contact) Get(t *Table, name string) []Value {
	a, ok := t.ByName(name)
	if !ok {
		return nil
	}
	return c.Attr(a.ID)
}

// First returns the first raw string value of the attribute named name.
func (c *Contact) First(t *Table, name string) (string, bool) {
	for _, v := range c.Get(t, name) {
		if v.Kind == ValueString {
			return v.Str, true
		}
	}
	return "", false
}

// IsGroup reports whether c has the group-marker attribute of t (normally groupType).
func (c *Contact) IsGroup(t *Table) bool {
	g, ok := t.Group()
	return ok && hasValue(c.Attr(g.ID))
}

// SIPAddresses returns c's SIP addresses: msRTCSIP-PrimaryUserAddress and the sip: values of
// proxyAddresses, each trimmed, without the sip: prefix, in lower case, without repeats.
func (c *Contact) SIPAddresses(t *Table) []string {
	var out []string
	add := func(s string, needPrefix bool) {
		s = strings.TrimSpace(s)
		if len(s) >= 4 && strings.EqualFold(s[:4], "sip:") {
			s = s[4:]
		} else if needPrefix {
			return
		}
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	for _, v := range c.Get(t, "msRTCSIP-PrimaryUserAddress") {
		if v.Kind == ValueString {
			add(v.Str, false)
		}
	}
	for _, v := range c.Get(t, ProxyAddresses) {
		if v.Kind == ValueString {
			add(v.Str, true)
		}
	}
	return out
}

// Equal reports whether c and d have the same Id, OU path and records (Offset is ignored).
func (c *Contact) Equal(d *Contact) bool {
	if c.ID != d.ID || c.OuPathID != d.OuPathID || len(c.Values) != len(d.Values) {
		return false
	}
	for i := range c.Values {
		if !c.Values[i].Equal(d.Values[i]) {
			return false
		}
	}
	return true
}

// Clone returns a copy of c with its own Values slice (the strings are shared).
func (c *Contact) Clone() *Contact {
	d := *c
	d.Values = slices.Clone(c.Values)
	return &d
}
