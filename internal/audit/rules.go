package audit

import "github.com/abkit/abkit/abs"

// RulesNormalizer adapts address book normalization rules to dupes.PhoneNormalizer: a number
// becomes the tel: URI of the first rule that matches. A rule that fails on a number (a match
// timeout) counts as no match; the phone-normalization check reports such failures.
type RulesNormalizer struct{ Rules abs.Rules }

// Normalize implements dupes.PhoneNormalizer.
func (n RulesNormalizer) Normalize(number string) (string, bool) {
	res, err := n.Rules.Normalize(number)
	if err != nil || !res.Matched {
		return "", false
	}
	return res.TelURI(), true
}
