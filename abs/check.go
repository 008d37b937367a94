package abs

// ValueIssue is a stored value that its attribute's value type does not let the server store
// ([PRODUCT]: type 0x4 only smtp: values containing @; type 0x5 tel: values, or smtp: values
// containing @).
type ValueIssue struct {
	Contact   GUID
	Offset    int64 // file offset of the contact record
	Attribute string
	Type      ValueType
	Value     string
	Want      string // what the type allows
}

// CheckValues returns the raw string values of c (attribute table t) that their attribute's
// value type excludes. (A value of a type-0x3 attribute never decodes: see ErrBooleanValue.)
func CheckValues(c *Contact, t *Table) []ValueIssue {
	var out []ValueIssue
	for _, v := range c.Values {
		if v.Kind != ValueString {
			continue
		}
		a, ok := t.ByID(v.AttrID)
		if !ok {
			continue
		}
		if ok, want := qualifies(a.Flags.Type(), v.Str); !ok {
			out = append(out, ValueIssue{Contact: c.ID, Offset: c.Offset, Attribute: a.Name, Type: a.Flags.Type(), Value: v.Str, Want: want})
		}
	}
	return out
}
