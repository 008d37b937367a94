package rtcdb

import (
	"fmt"
	"strings"
)

// Flags is AbAttribute.Flags (the same bits as ABF_ATTRIBUTE Flags in the address book files):
// the high byte is the client field, the low byte the value type, the bits between are options.
// Unknown values are kept and printed as numbers.
type Flags uint32

var clientFields = map[uint8]string{
	0x00: "proxyAddresses", 0x01: "givenName", 0x02: "sn", 0x03: "displayName", 0x04: "title",
	0x05: "mailNickname", 0x06: "company", 0x07: "physicalDeliveryOfficeName",
	0x08: "msRTCSIP-PrimaryUserAddress", 0x09: "telephoneNumber", 0x0A: "homePhone", 0x0B: "mobile",
	0x0C: "otherTelephone", 0x0D: "ipPhone", 0x0E: "mail", 0x0F: "groupType", 0x10: "manager",
	0xFF: "none",
}

var valueTypes = map[uint8]string{
	0x0: "string", 0x1: "binary", 0x2: "tel: string", 0x3: "boolean (TRUE excludes the object)",
	0x4: "smtp: values only", 0x5: "tel: or smtp: values only",
}

var flagBits = []struct {
	bit  uint32
	name string
}{
	{0x100, "multi-valued"}, {0x400, "mail account name"}, {0x800, "required"},
	{0x1000, "always normalize"}, {0x2000, "normalize with rules"}, {0x4000, "exclude objects having it"},
	{0x8000, "include only objects having it"}, {0x10000, "identifies groups"}, {0x20000, "in device files"},
}

// ClientField is the high byte: which client column the attribute feeds (0xFF none).
func (f Flags) ClientField() uint8 { return uint8(f >> 24) }

// ClientFieldName names ClientField as in OCS 2007 R2; unknown values are printed in hex.
func (f Flags) ClientFieldName() string {
	if n, ok := clientFields[f.ClientField()]; ok {
		return n
	}
	return fmt.Sprintf("0x%02X", f.ClientField())
}

// ValueType is the low byte: how values are kept (0 string, 1 binary, ...).
func (f Flags) ValueType() uint8 { return uint8(f) }

// ValueTypeName names ValueType; unknown values are printed in hex.
func (f Flags) ValueTypeName() string {
	if n, ok := valueTypes[f.ValueType()]; ok {
		return n
	}
	return fmt.Sprintf("0x%02X", f.ValueType())
}

// Options names the option bits set between the two bytes, unknown ones as hex numbers.
func (f Flags) Options() []string {
	var out []string
	rest := uint32(f) & 0x00FFFF00
	for _, b := range flagBits {
		if rest&b.bit != 0 {
			out = append(out, b.name)
			rest &^= b.bit
		}
	}
	if rest != 0 {
		out = append(out, fmt.Sprintf("0x%X", rest))
	}
	return out
}

// String is the raw value in hex followed by the decoded parts.
func (f Flags) String() string {
	s := fmt.Sprintf("0x%08X field=%s type=%s", uint32(f), f.ClientFieldName(), f.ValueTypeName())
	if o := f.Options(); len(o) > 0 {
		s += " [" + strings.Join(o, ", ") + "]"
	}
	return s
}
