package abs

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
)

// Book is a whole address book file in memory, for writing, applying and diffing. Decoding
// stays a stream (Reader.Contacts); ReadBook collects it when a caller needs everything.
type Book struct {
	Header     Header
	Attributes []Attribute
	Rules      string // normalization rules text, without the final NUL
	Contacts   []*Contact
	// Trailer is the trailer's body, opaque bytes ([MS-ABS] 2.2.14). ReadBook sets it (nil for
	// a file without a trailer); Write writes it, abkit's empty trailer when nil.
	Trailer []byte
}

// ReadBook collects the whole file of r.
func ReadBook(r *Reader) (*Book, error) {
	b := &Book{Header: r.Header, Attributes: slices.Clone(r.Attributes()), Rules: r.RulesText()}
	for c, err := range r.Contacts() {
		if err != nil {
			return nil, err
		}
		b.Contacts = append(b.Contacts, c)
	}
	var err error
	b.Trailer, err = r.TrailerBody()
	return b, err
}

// Table builds the attribute table of b.
func (b *Book) Table() (*Table, error) { return NewTable(b.Attributes) }

// sortAttributes returns attrs sorted by descending Id, the order files are written in.
func sortAttributes(attrs []Attribute) []Attribute {
	s := slices.Clone(attrs)
	slices.SortStableFunc(s, func(a, b Attribute) int { return cmp.Compare(b.ID, a.ID) })
	return s
}

// SameAttributes reports whether a and b define the same attributes, in any order.
func SameAttributes(a, b []Attribute) bool {
	return slices.Equal(sortAttributes(a), sortAttributes(b))
}

// Equal reports whether b and o hold the same header (but for the counts, which writing
// computes), attributes (in any order), rules, contacts (in order, Offsets ignored) and trailer
// bodies (no trailer counts as an empty one).
func (b *Book) Equal(o *Book) bool {
	hb, ho := b.Header, o.Header
	hb.NumberOfAttributes, ho.NumberOfAttributes = 0, 0
	hb.MaximumAttributeID, ho.MaximumAttributeID = 0, 0
	if hb != ho || b.Rules != o.Rules || len(b.Contacts) != len(o.Contacts) || !SameAttributes(b.Attributes, o.Attributes) ||
		!bytes.Equal(b.Trailer, o.Trailer) {
		return false
	}
	for i, c := range b.Contacts {
		if !c.Equal(o.Contacts[i]) {
			return false
		}
	}
	return true
}

// sortContacts orders contacts by ContactId bytes, the order abkit writes them in.
func sortContacts(cs []*Contact) {
	slices.SortFunc(cs, func(a, b *Contact) int { return bytes.Compare(a.ID[:], b.ID[:]) })
}

// Apply applies delta (a delta or compact delta whose BaseDay is full's Day) to the full file
// full and returns the full file of delta's day: its contacts sorted by ContactId, its FileType
// full's, its rules and attribute table the delta's (which must define the same attributes), its
// trailer full's (the delta's trailer describes a delta; ApplyTrailerNote says what this means).
// Neither input is modified.
func Apply(full, delta *Book) (*Book, error) {
	if err := checkApply(full.Header, full.Attributes, delta.Header, delta.Attributes); err != nil {
		return nil, err
	}
	byID := make(map[GUID]*Contact, len(full.Contacts))
	for _, c := range full.Contacts {
		if _, dup := byID[c.ID]; dup {
			return nil, fmt.Errorf("abs: apply: contact %s appears twice in the full file", c.ID)
		}
		byID[c.ID] = c
	}
	seen := make(map[GUID]bool, len(delta.Contacts))
	for _, d := range delta.Contacts {
		if seen[d.ID] {
			return nil, fmt.Errorf("abs: apply: contact %s appears twice in the delta", d.ID)
		}
		seen[d.ID] = true
		old, exists := byID[d.ID]
		switch {
		case d.Deleted():
			if !exists {
				return nil, fmt.Errorf("abs: apply: the delta deletes contact %s, which the full file does not have", d.ID)
			}
			delete(byID, d.ID)
		case delta.Header.Kind == Delta || !exists:
			if slices.ContainsFunc(d.Values, func(v Value) bool { return v.Kind == ValueEmpty }) {
				return nil, fmt.Errorf("abs: apply: new contact %s has empty attributes", d.ID)
			}
			byID[d.ID] = &Contact{ID: d.ID, OuPathID: d.OuPathID, Values: slices.Clone(d.Values)}
		default:
			byID[d.ID] = mergeCompact(old, d)
		}
	}
	out := &Book{Header: appliedHeader(full.Header, delta.Header), Attributes: slices.Clone(delta.Attributes), Rules: delta.Rules,
		Trailer: full.Trailer}
	out.Contacts = make([]*Contact, 0, len(byID))
	for _, c := range byID {
		out.Contacts = append(out.Contacts, c)
	}
	sortContacts(out.Contacts)
	for _, c := range out.Contacts {
		if len(c.Values) == 0 {
			return nil, fmt.Errorf("abs: apply: the compact delta leaves contact %s without attributes", c.ID)
		}
	}
	return out, nil
}

// checkApply checks that a delta of header dh and attributes dattrs can be applied to a full
// file of header h and attributes attrs.
func checkApply(h Header, attrs []Attribute, dh Header, dattrs []Attribute) error {
	if h.Kind != Full {
		return fmt.Errorf("abs: apply: the base is a %s file, want a full file", h.Kind)
	}
	if dh.Kind != Delta && dh.Kind != Compact {
		return fmt.Errorf("abs: apply: the change file is a %s file, want a delta or compact delta", dh.Kind)
	}
	if dh.BaseDay != h.Day {
		return fmt.Errorf("abs: apply: the delta is based on day %s, the full file is day %s", dh.BaseDay, h.Day)
	}
	if !SameAttributes(attrs, dattrs) {
		return fmt.Errorf("abs: apply: the full file and the delta have different attribute tables")
	}
	return nil
}

// appliedHeader is the header of the full file that applying a delta of header dh to a full
// file of header h gives: h with the delta's day and UseNormalizationRules.
func appliedHeader(h, dh Header) Header {
	h.Day = dh.Day
	h.UseNormalizationRules = dh.UseNormalizationRules
	return h
}

// mergeCompact applies a compact delta record to old: each attribute in d replaces all of old's
// records of that attribute; an empty one removes them. Records stay in descending Id order.
func mergeCompact(old, d *Contact) *Contact {
	changed := make(map[uint16]bool)
	for _, v := range d.Values {
		changed[v.AttrID] = true
	}
	vals := make([]Value, 0, len(old.Values)+len(d.Values))
	for _, v := range old.Values {
		if !changed[v.AttrID] {
			vals = append(vals, v)
		}
	}
	for _, v := range d.Values {
		if v.Kind != ValueEmpty {
			vals = append(vals, v)
		}
	}
	slices.SortStableFunc(vals, func(a, b Value) int { return cmp.Compare(b.AttrID, a.AttrID) })
	return &Contact{ID: d.ID, OuPathID: d.OuPathID, Values: vals}
}

// Diff returns the delta (compact: the compact delta) that turns full file old into full file
// new: new contacts whole, deleted ones as records without attributes, changed ones whole (delta)
// or with only their changed attributes, removed ones as empty (compact). Contacts are sorted by
// ContactId. Both files must define the same attributes and new must be of a later day.
func Diff(old, new *Book, compact bool) (*Book, error) {
	if old.Header.Kind != Full || new.Header.Kind != Full {
		return nil, fmt.Errorf("abs: diff: want two full files, have %s and %s", old.Header.Kind, new.Header.Kind)
	}
	if new.Header.Day <= old.Header.Day {
		return nil, fmt.Errorf("abs: diff: the new file's day %s is not after the old file's day %s", new.Header.Day, old.Header.Day)
	}
	if !SameAttributes(old.Attributes, new.Attributes) {
		return nil, fmt.Errorf("abs: diff: the two files have different attribute tables")
	}
	h := new.Header
	h.Kind, h.FileType, h.BaseDay = Delta, DeltaFileType, old.Header.Day
	if compact {
		h.Kind, h.FileType = Compact, CompactFileType
	}
	out := &Book{Header: h, Attributes: slices.Clone(new.Attributes), Rules: new.Rules}
	oldByID := make(map[GUID]*Contact, len(old.Contacts))
	for _, c := range old.Contacts {
		oldByID[c.ID] = c
	}
	newIDs := make(map[GUID]bool, len(new.Contacts))
	for _, n := range new.Contacts {
		newIDs[n.ID] = true
		o, ok := oldByID[n.ID]
		switch {
		case ok && sameRecords(o, n):
		case !ok || !compact:
			out.Contacts = append(out.Contacts, &Contact{ID: n.ID, OuPathID: n.OuPathID, Values: slices.Clone(n.Values)})
		default:
			out.Contacts = append(out.Contacts, compactChange(o, n))
		}
	}
	for _, o := range old.Contacts {
		if !newIDs[o.ID] {
			out.Contacts = append(out.Contacts, &Contact{ID: o.ID, OuPathID: o.OuPathID})
		}
	}
	sortContacts(out.Contacts)
	return out, nil
}

// compactChange returns the compact delta record of a contact that changed from o to n: the
// attributes whose records differ, and an empty record for each attribute n no longer has. When
// only the OU path changed, it carries all of n's records (a record without any reads as deleted).
func compactChange(o, n *Contact) *Contact {
	c := &Contact{ID: n.ID, OuPathID: n.OuPathID}
	for _, id := range attrIDs(n) {
		if !slices.EqualFunc(o.Attr(id), n.Attr(id), Value.Equal) {
			c.Values = append(c.Values, n.Attr(id)...)
		}
	}
	for _, id := range attrIDs(o) {
		if n.Attr(id) == nil {
			c.Values = append(c.Values, Value{AttrID: id, Kind: ValueEmpty})
		}
	}
	if len(c.Values) == 0 {
		c.Values = slices.Clone(n.Values)
	}
	slices.SortStableFunc(c.Values, func(a, b Value) int { return cmp.Compare(b.AttrID, a.AttrID) })
	return c
}

// sameRecords reports whether o and n have the same OU path and the same records of each
// attribute, whatever the order of the attributes.
func sameRecords(o, n *Contact) bool {
	if o.OuPathID != n.OuPathID || len(o.Values) != len(n.Values) {
		return false
	}
	for _, id := range attrIDs(n) {
		if !slices.EqualFunc(o.Attr(id), n.Attr(id), Value.Equal) {
			return false
		}
	}
	return true
}

// attrIDs returns the distinct attribute Ids of c's records, in record order.
func attrIDs(c *Contact) []uint16 {
	var ids []uint16
	for i, v := range c.Values {
		if i == 0 || c.Values[i-1].AttrID != v.AttrID {
			ids = append(ids, v.AttrID)
		}
	}
	return ids
}
