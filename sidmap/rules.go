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
	RuleMasterSID        = "master-sid"         // resource msExchMasterAccountSid = user objectSid
	RuleMasterSIDHistory = "master-sid-history" // a resource msExchMasterAccountHistory value = user objectSid
	RuleSIDHistory       = "sid-history"        // resource master SID (or its history) in the user's sIDHistory
	RuleSAM              = "sam"                // same sAMAccountName
	RuleUPN              = "upn"                // same userPrincipalName local part (before @)
	RuleMail             = "mail"               // same mail
	RuleProxy            = "proxy"              // a shared address: mail, smtp:/sip: proxyAddresses, msRTCSIP-PrimaryUserAddress
	RuleAttr             = "attr"               // attr:<resource-attr>=<user-attr>
	// RuleOriginatorSID is not a match rule: sync-attrs rows name it when the pair was found
	// through the resource account's existing msRTCSIP-OriginatorSid.
	RuleOriginatorSID = "originator-sid"
)

// DefaultMatch is the match order used when none is given.
var DefaultMatch = []string{RuleMasterSID, RuleSAM}

// DefaultCentralMatch is the match order for a central forest's contacts when none is given:
// contacts have no msExchMasterAccountSid or sAMAccountName, but share addresses with the mailbox.
var DefaultCentralMatch = []string{RuleProxy}

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

// ParseRule parses master-sid, master-sid-history, sid-history, sam, upn, mail, proxy or
// attr:<resource-attr>=<user-attr>.
func ParseRule(spec string) (Rule, error) {
	s := strings.TrimSpace(spec)
	switch strings.ToLower(s) {
	case RuleMasterSID, RuleMasterSIDHistory, RuleSIDHistory, RuleSAM, RuleUPN, RuleMail, RuleProxy:
		return Rule{Name: strings.ToLower(s)}, nil
	}
	rest, ok := strings.CutPrefix(s, RuleAttr+":")
	if !ok {
		return Rule{}, &RuleError{Spec: spec, Reason: "use master-sid, master-sid-history, sid-history, sam, upn, mail, proxy or attr:<resource-attr>=<user-attr>"}
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
	return parseRules(specs, TopologyResource)
}

// parseRules parses a match order; nil or empty means the topology's default.
func parseRules(specs []string, t Topology) ([]Rule, error) {
	if len(specs) == 0 {
		specs = DefaultMatch
		if t == TopologyCentral {
			specs = DefaultCentralMatch
		}
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
	case RuleMasterSIDHistory:
		return sidKeys(sidValues(o, attrMasterHistory))
	case RuleSIDHistory:
		sids := sidValues(o, attrMasterHistory)
		if !o.MasterSID.IsZero() {
			sids = append(sids, o.MasterSID)
		}
		return sidKeys(sids)
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
	case RuleMasterSID, RuleMasterSIDHistory:
		if o.SID.IsZero() {
			return nil
		}
		return []string{string(o.SID.Bytes())}
	case RuleSIDHistory:
		return sidKeys(sidValues(o, attrSIDHistory))
	case RuleProxy:
		return addressKeys(o)
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
	switch r.Name {
	case RuleAttr:
		return []string{r.ResourceAttr}, []string{r.UserAttr}
	case RuleMasterSIDHistory, RuleSIDHistory:
		return []string{attrMasterHistory}, []string{attrSIDHistory}
	}
	return nil, nil
}

// sidKeys returns the index keys of sids: their binary forms.
func sidKeys(sids []ldapsync.SID) []string {
	out := make([]string, len(sids))
	for i, s := range sids {
		out[i] = string(s.Bytes())
	}
	return out
}

// addressKeys returns the addresses of o lower-cased, for the proxy rule: mail and smtp:
// proxyAddresses as bare addresses, sip: proxyAddresses and msRTCSIP-PrimaryUserAddress with
// their sip: prefix.
func addressKeys(o *ldapsync.Object) []string {
	var out []string
	add := func(s string) {
		if s = strings.ToLower(strings.TrimSpace(s)); s != "" && s != "sip:" {
			out = append(out, s)
		}
	}
	add(o.Mail)
	for _, p := range o.ProxySMTP {
		add(p[len("smtp:"):])
	}
	for _, p := range o.ProxySIP {
		add("sip:" + p[len("sip:"):])
	}
	if a := strings.TrimSpace(o.PrimaryUserAddress); a != "" {
		if len(a) < 4 || !strings.EqualFold(a[:4], "sip:") {
			a = "sip:" + a
		}
		add(a)
	}
	return out
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
