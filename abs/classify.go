package abs

// Class is what an address book record is, as far as the file tells. The file records groups
// (through their group-type attribute) and SIP addresses, but not whether an entry is a user or
// a contact: a record with a SIP address may be either, so both are ClassEntry. abs find, dump
// and diff and abkit dupes all name records by Class.
type Class string

// Classes.
const (
	ClassDeleted Class = "deleted"            // a delta's record without attributes
	ClassGroup   Class = "group"              // it has the group-marker attribute (normally groupType)
	ClassEntry   Class = "address book entry" // a user or a contact: the file does not say which
)

// Classifier classifies the contacts of one attribute table.
type Classifier struct {
	group    uint16
	hasGroup bool
}

// NewClassifier returns the classifier of contacts described by t.
func NewClassifier(t *Table) Classifier {
	var k Classifier
	if g, ok := t.Group(); ok {
		k.group, k.hasGroup = g.ID, true
	}
	return k
}

// Class returns what c is.
func (k Classifier) Class(c *Contact) Class {
	if c.Deleted() {
		return ClassDeleted
	}
	for i := range c.Values {
		if k.GroupMarker(&c.Values[i]) {
			return ClassGroup
		}
	}
	return ClassEntry
}

// GroupMarker reports whether v marks its contact as a group (a value of the group-marker
// attribute), for callers that classify while they walk the records for another purpose:
// a contact with records is ClassGroup when one of them is a marker, else ClassEntry.
func (k Classifier) GroupMarker(v *Value) bool {
	return k.hasGroup && v.AttrID == k.group && v.Kind != ValueEmpty
}
