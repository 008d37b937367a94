package abs

import "strings"

// PhoneIssueKind says how a stored phone value disagrees with the normalization rules.
type PhoneIssueKind string

// Phone issue kinds.
const (
	// PhoneNoRule: no rule normalizes the raw number (the server may still have normalized it
	// with its built-in generic rules, which are not in the file).
	PhoneNoRule PhoneIssueKind = "no-rule"
	// PhoneMismatch: the stored normalized copy differs from what the rules give.
	PhoneMismatch PhoneIssueKind = "mismatch"
	// PhoneMissing: a rule normalizes the number but the file stores no normalized copy.
	PhoneMissing PhoneIssueKind = "missing"
)

// PhoneIssue is one phone value whose normalization disagrees with the rules.
type PhoneIssue struct {
	Kind      PhoneIssueKind
	Attr      string // attribute name
	Raw       string // the number as stored
	Stored    string // the stored normalized copy, "" when none
	Expected  string // what the rules give, as a tel: URI; "" when no rule matches
	RuleIndex int    // 0-based index of the matching rule, -1 when none
	Rule      *Rule  // the matching rule, nil when none
}

// CheckPhones checks the phone values of contact c against rules: every raw value of an
// attribute that the server normalizes (flag 0x1000, or 0x2000 when the file's header sets
// UseNormalizationRules, given as useRules; without it 0x2000 takes the normalized number from
// proxyAddresses, which no rule decides) must be normalized by some rule, and its stored
// normalized copy must equal the rules' result (as a tel: URI; the tel: prefix is compared
// without regard to case). The error is a *RuleError for a rule that exceeded RuleMatchTimeout.
func CheckPhones(c *Contact, t *Table, useRules bool, rules Rules) ([]PhoneIssue, error) {
	var issues []PhoneIssue
	for i, v := range c.Values {
		if v.Kind != ValueString {
			continue
		}
		a, ok := t.ByID(v.AttrID)
		if !ok || !(a.Flags.AlwaysNormalize() || useRules && a.Flags.NormalizeWhenRules()) {
			continue
		}
		stored := ""
		if i+1 < len(c.Values) && c.Values[i+1].Kind == ValueNormalized && c.Values[i+1].AttrID == v.AttrID {
			stored = c.Values[i+1].Str
		}
		res, err := rules.Normalize(v.Str)
		if err != nil {
			return issues, err
		}
		is := PhoneIssue{Attr: a.Name, Raw: v.Str, Stored: stored, Expected: res.TelURI(), RuleIndex: res.RuleIndex, Rule: res.Rule}
		switch {
		case !res.Matched:
			is.Kind = PhoneNoRule
		case stored == "":
			is.Kind = PhoneMissing
		case !sameTel(stored, is.Expected):
			is.Kind = PhoneMismatch
		default:
			continue
		}
		issues = append(issues, is)
	}
	return issues, nil
}

// sameTel compares two tel: URIs, the scheme without regard to case.
func sameTel(a, b string) bool {
	if HasTelPrefix(a) && HasTelPrefix(b) {
		return a[4:] == b[4:]
	}
	return strings.EqualFold(a, b)
}
