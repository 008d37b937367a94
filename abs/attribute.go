package abs

import (
	"fmt"
	"strconv"
	"strings"
)

// Flags is the raw Flags field of an ABF_ATTRIBUTE. Bits abkit does not know are kept as they are.
type Flags uint32

// Flag bits below the client-field byte ([PRODUCT]).
const (
	FlagMultiValued          Flags = 0x100
	FlagMailAccountName      Flags = 0x400
	FlagRequired             Flags = 0x800
	FlagAlwaysNormalize      Flags = 0x1000
	FlagNormalizeWhenRules   Flags = 0x2000
	FlagExcludeIfPresent     Flags = 0x4000
	FlagIncludeOnlyIfPresent Flags = 0x8000
	FlagGroupMarker          Flags = 0x10000
	FlagDevice               Flags = 0x20000
)

// ValueType is the low byte of Flags: how values are stored and filtered.
type ValueType uint8

// Value types ([PRODUCT]).
const (
	TypeString        ValueType = 0 // string
	TypeBinary        ValueType = 1 // binary
	TypeTel           ValueType = 2 // string kept only if it starts with tel:
	TypeBooleanString ValueType = 3 // Boolean string: TRUE excludes the object, FALSE includes it without the attribute; never stored
	TypeSMTP          ValueType = 4 // only smtp: values
	TypeTelOrSMTP     ValueType = 5 // only tel: or smtp: values
)

// String names t ("string", "binary", ...; "type(9)" when unknown).
func (t ValueType) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeBinary:
		return "binary"
	case TypeTel:
		return "tel-string"
	case TypeBooleanString:
		return "boolean-string"
	case TypeSMTP:
		return "smtp-string"
	case TypeTelOrSMTP:
		return "tel-or-smtp-string"
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

// isString reports whether values of type t are NUL-terminated strings.
func (t ValueType) isString() bool {
	return t == TypeString || t == TypeTel || t == TypeSMTP || t == TypeTelOrSMTP
}

// ClientField returns the high byte: the client column the attribute feeds (0xFF: none).
func (f Flags) ClientField() byte { return byte(f >> 24) }

// Type returns the value type (the low byte).
func (f Flags) Type() ValueType { return ValueType(f) }

// MultiValued reports bit 0x100.
func (f Flags) MultiValued() bool { return f&FlagMultiValued != 0 }

// MailAccountName reports bit 0x400.
func (f Flags) MailAccountName() bool { return f&FlagMailAccountName != 0 }

// Required reports bit 0x800: an object needs at least one required attribute to be included.
func (f Flags) Required() bool { return f&FlagRequired != 0 }

// AlwaysNormalize reports bit 0x1000.
func (f Flags) AlwaysNormalize() bool { return f&FlagAlwaysNormalize != 0 }

// NormalizeWhenRules reports bit 0x2000: normalize with the rules when UseNormalizationRules is
// set, else use the normalized number from proxyAddresses ([PRODUCT]).
func (f Flags) NormalizeWhenRules() bool { return f&FlagNormalizeWhenRules != 0 }

// ExcludeIfPresent reports bit 0x4000.
func (f Flags) ExcludeIfPresent() bool { return f&FlagExcludeIfPresent != 0 }

// IncludeOnlyIfPresent reports bit 0x8000.
func (f Flags) IncludeOnlyIfPresent() bool { return f&FlagIncludeOnlyIfPresent != 0 }

// GroupMarker reports bit 0x10000: the attribute that identifies groups (groupType).
func (f Flags) GroupMarker() bool { return f&FlagGroupMarker != 0 }

// Device reports bit 0x20000: the attribute is included in device (.dabs) files.
func (f Flags) Device() bool { return f&FlagDevice != 0 }

// Normalized reports whether values of the attribute may carry a normalized copy: with 0x1000;
// with 0x2000 too, normalized by the rules when the header's UseNormalizationRules is set and
// taken from proxyAddresses when it is not ([PRODUCT]).
func (f Flags) Normalized() bool { return f.AlwaysNormalize() || f.NormalizeWhenRules() }

var flagNames = []struct {
	bit  Flags
	name string
}{
	{FlagMultiValued, "multi"}, {FlagMailAccountName, "mail-account"}, {FlagRequired, "required"},
	{FlagAlwaysNormalize, "normalize"}, {FlagNormalizeWhenRules, "normalize-rules-or-proxy"},
	{FlagExcludeIfPresent, "exclude-if-present"}, {FlagIncludeOnlyIfPresent, "include-only-if-present"},
	{FlagGroupMarker, "group"}, {FlagDevice, "device"},
}

// String formats f as 0x08520C00 (client=08 string multi ...), naming the known bits and
// giving the unknown ones in hex.
func (f Flags) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "0x%08X (client=%02X %s", uint32(f), f.ClientField(), f.Type())
	rest := f &^ 0xFF0000FF
	for _, n := range flagNames {
		if f&n.bit != 0 {
			b.WriteString(" " + n.name)
			rest &^= n.bit
		}
	}
	if rest != 0 {
		fmt.Fprintf(&b, " other=0x%X", uint32(rest))
	}
	b.WriteByte(')')
	return b.String()
}

// Attribute is one ABF_ATTRIBUTE: an attribute the file carries.
type Attribute struct {
	ID    uint16
	Name  string // LDAP display name
	Flags Flags
}

// Table is a file's attribute table, looked up by Id, record Id byte or name.
type Table struct {
	attrs  []Attribute // in file order
	byByte [256]int16  // record Id byte -> index in attrs + 1; 0 = none
	byName map[string]int
	group  int // index of the group-marker attribute, or -1
}

// NewTable builds a table, checking that the low bytes of the Ids (what contact records store)
// are unique and that names are non-empty and NUL-free.
func NewTable(attrs []Attribute) (*Table, error) {
	t := &Table{attrs: attrs, byName: make(map[string]int, len(attrs)), group: -1}
	for i, a := range attrs {
		if err := t.add(i, a); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (t *Table) add(i int, a Attribute) error {
	if t.byByte[byte(a.ID)] != 0 {
		prev := t.attrs[t.byByte[byte(a.ID)]-1]
		return fmt.Errorf("attribute %q Id %d has the same record Id byte 0x%02X as %q Id %d", a.Name, a.ID, byte(a.ID), prev.Name, prev.ID)
	}
	if a.Name == "" || strings.IndexByte(a.Name, 0) >= 0 {
		return fmt.Errorf("attribute Id %d: name %q is empty or contains NUL", a.ID, a.Name)
	}
	t.byByte[byte(a.ID)] = int16(i + 1)
	if _, dup := t.byName[a.Name]; !dup {
		t.byName[a.Name] = i
	}
	if t.group < 0 && a.Flags.GroupMarker() {
		t.group = i
	}
	return nil
}

// Attributes returns the attributes in file order. The slice must not be modified.
func (t *Table) Attributes() []Attribute { return t.attrs }

// Len returns the number of attributes.
func (t *Table) Len() int { return len(t.attrs) }

// ByID returns the attribute with Id id.
func (t *Table) ByID(id uint16) (Attribute, bool) {
	i := t.byByte[byte(id)]
	if i == 0 || t.attrs[i-1].ID != id {
		return Attribute{}, false
	}
	return t.attrs[i-1], true
}

// ProxyAddresses is the LDAP name of the proxyAddresses attribute. The Lync 2013 default table
// spells its row 19 "proxyAddress" ([PRODUCT]); ByName finds either spelling by either name.
const ProxyAddresses = "proxyAddresses"

// ByName returns the attribute named name (exact LDAP display name, else case-insensitive;
// "proxyAddresses" and "proxyAddress" name the same attribute).
func (t *Table) ByName(name string) (Attribute, bool) {
	if a, ok := t.byExactName(name); ok {
		return a, true
	}
	switch {
	case strings.EqualFold(name, ProxyAddresses):
		return t.byExactName("proxyAddress")
	case strings.EqualFold(name, "proxyAddress"):
		return t.byExactName(ProxyAddresses)
	}
	return Attribute{}, false
}

// byExactName is ByName without the proxyAddresses alias.
func (t *Table) byExactName(name string) (Attribute, bool) {
	if i, ok := t.byName[name]; ok {
		return t.attrs[i], true
	}
	for _, a := range t.attrs {
		if strings.EqualFold(a.Name, name) {
			return a, true
		}
	}
	return Attribute{}, false
}

// Name returns the name of attribute id, or "attr<id>" when the table has none.
func (t *Table) Name(id uint16) string {
	if a, ok := t.ByID(id); ok {
		return a.Name
	}
	return "attr" + strconv.Itoa(int(id))
}

// Group returns the group-marker attribute (flag 0x10000), normally groupType.
func (t *Table) Group() (Attribute, bool) {
	if t.group < 0 {
		return Attribute{}, false
	}
	return t.attrs[t.group], true
}
