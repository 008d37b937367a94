package dupes

import "strings"

// E164 is the address book's E164 pseudo-rule, the phone normalizer used when no rules are
// given: a number that is at most 15 decimal digits once spaces, periods, hyphens and
// parentheses are dropped (a leading + is allowed) becomes tel:+ and those digits.
type E164 struct{}

// Normalize implements PhoneNormalizer.
func (E164) Normalize(number string) (string, bool) {
	s := strings.TrimSpace(number)
	s = strings.TrimPrefix(s, "+")
	var b strings.Builder
	b.WriteString("tel:+")
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	if digits == 0 || digits > 15 {
		return "", false
	}
	return b.String(), true
}
