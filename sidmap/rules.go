package sidmap

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/abkit/abkit/internal/change"
	"github.com/abkit/abkit/ldapsync"
)

// Rule names accepted by ParseRule.
const (
	RuleMasterSID = "master-sid" // resource msExchMasterAccountSid = user objectSid
	RuleSAM       = "sam"        // same sAMAccountName
	RuleUPN       = "upn"        // same userPrincipalName local part (before @)
	RuleMail      = "mail"       // same mail
	RuleAttr      = "attr"       // attr:<resource-attr>=<user-attr>
	// RuleOriginatorSID is not a match rule: sync-attrs rows name it when the pair was found
	// through the resource account's existing msRTCSIP-OriginatorSid.
	RuleOriginatorSID = "originator-sid"
)

// DefaultMatch is the match order used when none is given.
var DefaultMatch = []string{RuleMasterSID, RuleSAM}

// Rule is one way of pairing a resource-forest account with a user-forest account.
type Rule struct {
	Name         string // one of the Rule* names
	ResourceAttr string // RuleAttr only
	UserAttr     string // RuleAttr only
}

// String returns the rule as ParseRule accepts it.
func (r Rule) String() string {
	if r.Name == RuleAttr {
		return RuleAttr + ":" + r.ResourceAttr + "=" + r.UserAttr
	}
	return r.Name
}

// RuleError reports a match rule that cannot be parsed.
type RuleError struct {
	Spec   string
	Reason string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("sidmap: match rule %s: %s", strconv.Quote(e.Spec), e.Reason)
}

// BadInput marks a bad match rule as bad input.
func (e *RuleError) BadInput() bool { return true }

// ParseRule parses master-sid, sam, upn, mail or attr:<resource-attr>=<user-attr>.
func ParseRule(spec string) (Rule, error) {
	s := strings.TrimSpace(spec)
	switch strings.ToLower(s) {
	case RuleMasterSID, RuleSAM, RuleUPN, RuleMail:
		return Rule{Name: strings.ToLower(s)}, nil
	}
	rest, ok := strings.CutPrefix(s, RuleAttr+":")
	if !ok {
		return Rule{}, &RuleError{Spec: spec, Reason: "use master-sid, sam, upn, mail or attr:<resource-attr>=<user-attr>"}
	}
	res, usr, ok := strings.Cut(rest, "=")
	if !ok || !change.ValidAttrName(res) || !change.ValidAttrName(usr) {
		return Rule{}, &RuleError{Spec: spec, Reason: "want attr:<resource-attr>=<user-attr> with LDAP attribute names"}
	}
	return Rule{Name: RuleAttr, ResourceAttr: res, UserAttr: usr}, nil
}

// ParseRules parses a match order; nil or empty means DefaultMatch. A rule given twice is an
// error.
func ParseRules(specs []string) ([]Rule, error) {
	if len(specs) == 0 {
		specs = DefaultMatch
	}
	var rules []Rule
	seen := map[string]bool{}
	for _, spec := range specs {
		r, err := ParseRule(spec)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(r.String())
		if seen[key] {
			return nil, &RuleError{Spec: spec, Reason: "given twice"}
		}
		seen[key] = true
		rules = append(rules, r)
	}
	return rules, nil
}

// resourceKeys returns the keys rule r looks up for resource account o; nil when o has none.
func (r Rule) resourceKeys(o *ldapsync.Object) []string {
	switch r.Name {
	case RuleMasterSID:
		if o.MasterSID.IsZero() {
			return nil
		}
		return []string{string(o.MasterSID.Bytes())}
	case RuleAttr:
		return foldedValues(o, r.ResourceAttr)
	}
	return r.userKeys(o)
}

// userKeys returns the keys under which user-forest account o is indexed for rule r.
func (r Rule) userKeys(o *ldapsync.Object) []string {
	one := func(s string) []string {
		if s = strings.ToLower(strings.TrimSpace(s)); s == "" {
			return nil
		}
		return []string{s}
	}
	switch r.Name {
	case RuleMasterSID:
		if o.SID.IsZero() {
			return nil
		}
		return []string{string(o.SID.Bytes())}
	case RuleSAM:
		return one(o.SAMAccountName)
	case RuleUPN:
		local, _, _ := strings.Cut(o.UserPrincipalName, "@")
		return one(local)
	case RuleMail:
		return one(o.Mail)
	case RuleAttr:
		return foldedValues(o, r.UserAttr)
	}
	return nil
}

// attributes lists the attributes rule r needs on resource and on user objects beyond
// ldapsync.ObjectAttributes.
func (r Rule) attributes() (resource, user []string) {
	if r.Name == RuleAttr {
		return []string{r.ResourceAttr}, []string{r.UserAttr}
	}
	return nil, nil
}

// rawValues returns the values of attribute name (case-insensitive) as the server returned them.
func rawValues(o *ldapsync.Object, name string) [][]byte {
	if v, ok := o.Raw[name]; ok {
		return v
	}
	for k, v := range o.Raw {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// foldedValues returns the values of attribute name trimmed and lower-cased, without empties.
func foldedValues(o *ldapsync.Object, name string) []string {
	var out []string
	for _, v := range rawValues(o, name) {
		if s := strings.ToLower(strings.TrimSpace(string(v))); s != "" {
			out = append(out, s)
		}
	}
	return out
}
