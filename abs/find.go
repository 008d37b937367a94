package abs

import (
	"strings"
)

// Query selects contacts by SIP address, name, phone number or ContactId. Every field that is set
// must match (an empty Query matches every contact). Text comparisons ignore case.
type Query struct {
	// SIP matches a SIP address of the contact (msRTCSIP-PrimaryUserAddress or a sip: value of
	// proxyAddresses) exactly; the sip: prefix is optional on both sides.
	SIP string
	// Name matches when it is contained in displayName, givenName, sn, mailNickname or
	// "givenName sn".
	Name string
	// Phone matches when its digits equal the digits of a phone value (the raw number, the
	// server's normalized copy, or the raw number normalized by Rules), or when one ends with the
	// other and the shorter has at least 7 digits (so that a number found with or without its
	// country code or trunk prefix). The query is also normalized by Rules, so that an extension
	// finds the full number it normalizes to.
	Phone string
	// Rules are the normalization rules used by Phone; nil means none.
	Rules Rules
	// ID matches the ContactId (objectGUID) when HasID is set.
	ID    GUID
	HasID bool

	phoneWants []string // digits Phone matches; computed on first use
}

// IsZero reports whether q has no criteria.
func (q *Query) IsZero() bool {
	return q.SIP == "" && q.Name == "" && q.Phone == "" && !q.HasID
}

// Match reports whether contact c of a file with attribute table t matches q. A deleted object
// matches only by ID.
func (q *Query) Match(c *Contact, t *Table) bool {
	if q.HasID && c.ID != q.ID {
		return false
	}
	if c.Deleted() {
		return q.SIP == "" && q.Name == "" && q.Phone == ""
	}
	if q.SIP != "" && !q.matchSIP(c, t) {
		return false
	}
	if q.Name != "" && !q.matchName(c, t) {
		return false
	}
	if q.Phone != "" && !q.matchPhone(c, t) {
		return false
	}
	return true
}

func (q *Query) matchSIP(c *Contact, t *Table) bool {
	want := strings.ToLower(strings.TrimSpace(q.SIP))
	if strings.HasPrefix(want, "sip:") {
		want = strings.TrimSpace(want[4:])
	}
	for _, s := range c.SIPAddresses(t) {
		if s == want {
			return true
		}
	}
	return false
}

func (q *Query) matchName(c *Contact, t *Table) bool {
	want := strings.ToLower(q.Name)
	for _, name := range []string{"displayName", "givenName", "sn", "mailNickname"} {
		if v, ok := c.First(t, name); ok && strings.Contains(strings.ToLower(v), want) {
			return true
		}
	}
	given, _ := c.First(t, "givenName")
	sn, _ := c.First(t, "sn")
	return strings.Contains(strings.ToLower(given+" "+sn), want)
}

func (q *Query) matchPhone(c *Contact, t *Table) bool {
	if q.phoneWants == nil {
		q.phoneWants = []string{Digits(q.Phone)}
		if res, err := q.Rules.Normalize(q.Phone); err == nil && res.Matched {
			q.phoneWants = append(q.phoneWants, Digits(res.Output))
		}
	}
	hit := func(s string) bool {
		d := Digits(s)
		if d == "" {
			return false
		}
		for _, w := range q.phoneWants {
			if sameNumber(d, w) {
				return true
			}
		}
		return false
	}
	for _, v := range c.Values {
		if v.Kind != ValueString && v.Kind != ValueNormalized {
			continue
		}
		a, ok := t.ByID(v.AttrID)
		if !ok || !IsPhoneAttribute(a) {
			continue
		}
		if hit(v.Str) {
			return true
		}
		if v.Kind == ValueString && len(q.Rules) > 0 {
			if res, err := q.Rules.Normalize(v.Str); err == nil && res.Matched && hit(res.Output) {
				return true
			}
		}
	}
	return false
}

// IsPhoneAttribute reports whether a holds phone numbers: it is normalized (flag 0x1000 or
// 0x2000), keeps only tel: values (type 0x2), or feeds one of the client's phone columns
// (telephoneNumber, homePhone, mobile, otherTelephone, ipPhone: client fields 0x09-0x0D).
func IsPhoneAttribute(a Attribute) bool {
	cf := a.Flags.ClientField()
	return a.Flags.AlwaysNormalize() || a.Flags.NormalizeWhenRules() || a.Flags.Type() == TypeTel ||
		(cf >= 0x09 && cf <= 0x0D)
}

// minSuffixDigits is how many digits a number needs to match another by suffix.
const minSuffixDigits = 7

// sameNumber compares two digit strings: equal, or one a suffix of the other of at least
// minSuffixDigits digits.
func sameNumber(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return a == b || (len(a) >= minSuffixDigits && strings.HasSuffix(b, a))
}

// Digits returns the ASCII decimal digits of s, in order.
func Digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}
