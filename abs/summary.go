package abs

// Summary counts what a file holds.
type Summary struct {
	Contacts   int // ABF_CONTACT records
	Users      int // objects with msRTCSIP-PrimaryUserAddress that are not groups
	Groups     int // objects with the group-marker attribute (groupType)
	Others     int // the rest: mail contacts and other objects without a SIP address
	Deleted    int // deleted objects (deltas)
	Values     int // attribute records
	Normalized int // normalized phone copies
	Empty      int // empty attributes (compact deltas)
}

// Summarize counts the contacts of r, passing each to the optional visit functions (which must
// not keep it: it is reused). On a decoding error it returns the counts so far and the error.
func Summarize(r *Reader, visit ...func(*Contact)) (Summary, error) {
	var s Summary
	t := r.Table()
	sip, hasSIP := t.ByName("msRTCSIP-PrimaryUserAddress")
	for c, err := range r.ContactsReused() {
		if err != nil {
			return s, err
		}
		for _, v := range visit {
			v(c)
		}
		s.Contacts++
		s.Values += len(c.Values)
		for _, v := range c.Values {
			switch v.Kind {
			case ValueNormalized:
				s.Normalized++
			case ValueEmpty:
				s.Empty++
			}
		}
		switch {
		case c.Deleted():
			s.Deleted++
		case c.IsGroup(t):
			s.Groups++
		case hasSIP && hasValue(c.Attr(sip.ID)):
			s.Users++
		default:
			s.Others++
		}
	}
	return s, nil
}

// hasValue reports whether vs holds a value that is not empty.
func hasValue(vs []Value) bool {
	for _, v := range vs {
		if v.Kind != ValueEmpty {
			return true
		}
	}
	return false
}
