package sidmap

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
)

// Topology says which resource-forest objects carry the SIP settings of user-forest people.
type Topology string

// Topologies.
const (
	// TopologyResource: disabled user accounts (CandidateFilter), usually Exchange linked
	// mailboxes. The default.
	TopologyResource Topology = "resource"
	// TopologyCentral: contact objects (CentralCandidateFilter), as in a central forest.
	TopologyCentral Topology = "central"
)

// CentralCandidateFilter selects SIP-enabled contacts: the central forest's objects that need an
// msRTCSIP-OriginatorSid.
const CentralCandidateFilter = "(&(objectClass=contact)(msRTCSIP-UserEnabled=TRUE))"

// userOrDomainFilter selects, in one pass, the user-forest accounts (userFilter) and the
// forest's domain objects, whose objectSid is the domain SID.
const userOrDomainFilter = "(|" + userFilter + "(&(objectClass=domain)(objectSid=*)))"

// attrSIDHistory holds the SIDs a migrated account had in its former domains.
const attrSIDHistory = "sIDHistory"

// attrMasterHistory holds the former msExchMasterAccountSid values of a mailbox.
const attrMasterHistory = "msExchMasterAccountHistory"

// TopologyError reports an unknown topology name.
type TopologyError struct{ Name string }

func (e *TopologyError) Error() string {
	return fmt.Sprintf("sidmap: topology %q: use resource or central", e.Name)
}

// BadInput marks an unknown topology as bad input.
func (e *TopologyError) BadInput() bool { return true }

// ParseTopology accepts resource, central, or "" (resource).
func ParseTopology(s string) (Topology, error) {
	switch t := Topology(strings.ToLower(strings.TrimSpace(s))); t {
	case "", TopologyResource:
		return TopologyResource, nil
	case TopologyCentral:
		return t, nil
	}
	return "", &TopologyError{Name: s}
}

// Layout describes the forests of a run beyond one user and one resource forest.
type Layout struct {
	// MoreUserForests are user forests besides the one passed as user. The domain part of a SID
	// picks its forest; a SID of a domain no user forest holds is reported as such.
	MoreUserForests []ldapsync.Source
	// Topology selects the candidates; "" is TopologyResource.
	Topology Topology
}

// candidateFilter returns the topology's candidate filter ANDed with filter ("" = none).
func (l Layout) candidateFilter(filter string) string {
	cand := CandidateFilter
	if l.Topology == TopologyCentral {
		cand = CentralCandidateFilter
	}
	if filter == "" {
		return cand
	}
	if !strings.HasPrefix(strings.TrimSpace(filter), "(") {
		filter = "(" + filter + ")"
	}
	return "(&" + cand + filter + ")"
}

// isCandidate repeats the candidate filter on the decoded object, so that a source with loose
// filter evaluation cannot widen the scope.
func (l Layout) isCandidate(o *ldapsync.Object) bool {
	if o.SIPEnabled == nil || !*o.SIPEnabled {
		return false
	}
	if l.Topology == TopologyCentral {
		return o.Kind == ldapsync.KindContact
	}
	return o.Kind == ldapsync.KindUser && o.Disabled()
}

// match is the outcome of pairing one resource object.
type match struct {
	user     *ldapsync.Object // nil when conflict or skip says why there is none
	rule     string
	conflict string
	skip     string // set when the object has no user-forest account by design (SELF ...)
}

// forests holds what a plan or a verification reads from the user forests and the resource
// forest.
type forests struct {
	candidates  []*ldapsync.Object
	users       []*ldapsync.Object
	bySID       map[ldapsync.SID]*ldapsync.Object
	byHistory   map[ldapsync.SID]*ldapsync.Object        // sIDHistory value → account
	byDN        map[string]*ldapsync.Object              // normDN → account
	forestOf    map[*ldapsync.Object]string              // account → user forest name
	index       map[string]map[string][]*ldapsync.Object // rule → key → accounts
	originators map[ldapsync.SID][]string                // OriginatorSid → resource DNs carrying it
	warnings    []string
	userDomains
}

// loadSpec is what loadForests reads.
type loadSpec struct {
	layout Layout
	rules  []Rule
	base   string   // resource-forest search base
	filter string   // extra filter ANDed with the candidate filter
	extra  []string // attributes beyond the rules' on both sides
}

// loadForests reads every user forest's accounts (indexed for rules) and domain SIDs, the
// resource forest's candidates under base/filter, and every resource object carrying an
// OriginatorSid.
func loadForests(ctx context.Context, user, resource ldapsync.Source, spec loadSpec, rep ldapsync.Progress) (*forests, error) {
	rep = ldapsync.ProgressOrNop(rep)
	resAttrs, userAttrs := append([]string(nil), spec.extra...), append([]string(nil), spec.extra...)
	userAttrs = append(userAttrs, attrSIDHistory)
	for _, r := range spec.rules {
		ra, ua := r.attributes()
		resAttrs = append(resAttrs, ra...)
		userAttrs = append(userAttrs, ua...)
	}
	f := &forests{
		bySID:       map[ldapsync.SID]*ldapsync.Object{},
		byHistory:   map[ldapsync.SID]*ldapsync.Object{},
		byDN:        map[string]*ldapsync.Object{},
		forestOf:    map[*ldapsync.Object]string{},
		userDomains: userDomains{domains: map[ldapsync.SID]string{}},
		index:       map[string]map[string][]*ldapsync.Object{},
		originators: map[ldapsync.SID][]string{},
	}
	for _, r := range spec.rules {
		f.index[r.String()] = map[string][]*ldapsync.Object{}
	}
	rep.Start(-1, "objects")
	defer rep.Done()
	read := func(src ldapsync.Source, req ldapsync.SearchRequest, each func(*ldapsync.Object)) error {
		for o, err := range src.Search(ctx, req) {
			if err != nil {
				return fmt.Errorf("sidmap: read forest %s: %w", src.Name(), err)
			}
			f.warnings = append(f.warnings, o.Warnings...)
			each(o)
			rep.Add(1)
		}
		return nil
	}
	for _, src := range append([]ldapsync.Source{user}, spec.layout.MoreUserForests...) {
		name := src.Name()
		f.userForests = append(f.userForests, name)
		claim := func(sid ldapsync.SID) { f.claim(sid, name) }
		err := read(src, ldapsync.SearchRequest{Filter: userOrDomainFilter, Attributes: withObjectAttrs(userAttrs)}, func(o *ldapsync.Object) {
			if o.SID.IsZero() {
				return
			}
			if o.Kind != ldapsync.KindUser {
				if hasValue(o, ldapsync.AttrObjectClass, "domain") {
					f.domains[o.SID] = name
				}
				return
			}
			f.users = append(f.users, o)
			f.bySID[o.SID] = o
			f.byDN[normDN(o.DN)] = o
			f.forestOf[o] = name
			claim(o.SID)
			for _, h := range sidValues(o, attrSIDHistory) {
				f.byHistory[h] = o
				claim(h)
			}
			for _, r := range spec.rules {
				idx := f.index[r.String()]
				for _, k := range r.userKeys(o) {
					idx[k] = append(idx[k], o)
				}
			}
		})
		if err != nil {
			return nil, err
		}
	}
	err := read(resource, ldapsync.SearchRequest{Base: spec.base, Filter: spec.layout.candidateFilter(spec.filter), Attributes: withObjectAttrs(resAttrs)}, func(o *ldapsync.Object) {
		if spec.layout.isCandidate(o) {
			f.candidates = append(f.candidates, o)
		}
	})
	if err != nil {
		return nil, err
	}
	err = read(resource, ldapsync.SearchRequest{Filter: originatorFilter, Attributes: []string{ldapsync.AttrOriginatorSid}}, func(o *ldapsync.Object) {
		if !o.OriginatorSID.IsZero() {
			f.originators[o.OriginatorSID] = append(f.originators[o.OriginatorSID], o.DN)
		}
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(f.candidates, func(i, j int) bool { return f.candidates[i].DN < f.candidates[j].DN })
	return f, nil
}

// match pairs resource object c with a user-forest account. An msExchMasterAccountSid that is a
// well-known SID (SELF on a room mailbox) means no account: the object is skipped. Every rule
// is tried; the first that finds an account decides, and a later rule finding exactly one other
// account is a conflict naming both. A key with no match falls through to the next rule, except
// msExchMasterAccountSid, which names the account authoritatively: when it resolves to nothing
// (and no sIDHistory rule finds it) the row is a conflict.
func (f *forests) match(c *ldapsync.Object, rules []Rule) match {
	if r := wellKnownReason(c.MasterSID); r != "" {
		return match{skip: "msExchMasterAccountSid is " + r}
	}
	type hit struct {
		rule  Rule
		found []*ldapsync.Object
	}
	var hits []hit
	masterMiss, sidRescue := false, false
	for _, r := range rules {
		keys := r.resourceKeys(c)
		if len(keys) == 0 {
			continue
		}
		var found []*ldapsync.Object
		seen := map[*ldapsync.Object]bool{}
		for _, k := range keys {
			for _, u := range f.index[r.String()][k] {
				if !seen[u] {
					seen[u] = true
					found = append(found, u)
				}
			}
		}
		switch {
		case len(found) == 0 && r.Name == RuleMasterSID:
			masterMiss = true
		case len(found) > 0:
			hits = append(hits, hit{r, found})
			sidRescue = sidRescue || r.Name == RuleSIDHistory || r.Name == RuleMasterSIDHistory
		}
	}
	if masterMiss && !sidRescue {
		return match{rule: RuleMasterSID, conflict: "user-forest account missing: " + f.explainMissing(c.MasterSID) + " (msExchMasterAccountSid)"}
	}
	if len(hits) == 0 {
		return match{conflict: "no match in the user forest by " + strings.Join(ruleStrings(rules), ", ")}
	}
	first := hits[0]
	if len(first.found) > 1 {
		dns := make([]string, len(first.found))
		for i, u := range first.found {
			dns[i] = u.DN
		}
		sort.Strings(dns)
		return match{rule: first.rule.String(), conflict: fmt.Sprintf("more than one match by %s: %s", first.rule, strings.Join(dns, "; "))}
	}
	u := first.found[0]
	for _, h := range hits[1:] {
		if len(h.found) == 1 && h.found[0] != u {
			return match{rule: first.rule.String(), conflict: fmt.Sprintf("rules disagree: %s matches %s (%s); %s matches %s (%s)",
				first.rule, u.DN, u.SID, h.rule, h.found[0].DN, h.found[0].SID)}
		}
	}
	switch {
	case u.Disabled():
		return match{user: u, rule: first.rule.String(), conflict: "user-forest account " + u.DN + " is disabled"}
	case !c.MasterSID.IsZero() && c.MasterSID != u.SID && f.byHistory[c.MasterSID] != u:
		return match{user: u, rule: first.rule.String(), conflict: fmt.Sprintf("msExchMasterAccountSid %s disagrees with the match by %s (%s, %s)", c.MasterSID, first.rule, u.DN, u.SID)}
	}
	return match{user: u, rule: first.rule.String()}
}

// describeSID names the user-forest account holding sid, for reasons and findings.
func (f *forests) describeSID(sid ldapsync.SID) string {
	if u := f.bySID[sid]; u != nil {
		return u.DN
	}
	return f.describeMissing(sid)
}

// describeMissing names why sid, which no user-forest account holds, has no account: a
// well-known SID, a domain no configured user forest holds, or none of these.
func (f *userDomains) describeMissing(sid ldapsync.SID) string {
	if r := wellKnownReason(sid); r != "" {
		return r
	}
	if f.unknownDomain(sid) {
		return "no user-forest account: its domain belongs to no configured user forest"
	}
	return "no user-forest account"
}

// userDomains records which configured user forest holds each domain SID.
type userDomains struct {
	domains     map[ldapsync.SID]string // domain SID → user forest name
	userForests []string
}

// claim gives the domain of account SID sid to user forest name, unless a forest has it.
func (f *userDomains) claim(sid ldapsync.SID, name string) {
	if d, ok := domainOf(sid); ok {
		if _, taken := f.domains[d]; !taken {
			f.domains[d] = name
		}
	}
}

// unknownDomain reports whether sid is an account SID of a domain no configured user forest
// holds.
func (f *userDomains) unknownDomain(sid ldapsync.SID) bool {
	d, ok := domainOf(sid)
	if !ok {
		return false
	}
	_, known := f.domains[d]
	return !known
}

// explainMissing says why no user-forest account has objectSid sid: its domain is in no
// configured forest, it is in some account's sIDHistory, or the account is gone.
func (f *forests) explainMissing(sid ldapsync.SID) string {
	historyDN := ""
	if u := f.byHistory[sid]; u != nil {
		historyDN = u.DN
	}
	return f.userDomains.explainMissing(sid, historyDN)
}

// explainMissing says why no user-forest account has objectSid sid; historyDN is the account
// whose sIDHistory holds sid, or "".
func (f *userDomains) explainMissing(sid ldapsync.SID, historyDN string) string {
	d, ok := domainOf(sid)
	if !ok {
		return fmt.Sprintf("%s is %s", sid, wellKnownReason(sid))
	}
	forest, known := f.domains[d]
	if !known {
		per := map[string][]string{}
		for dom, name := range f.domains {
			per[name] = append(per[name], dom.String())
		}
		ds := make([]string, len(f.userForests))
		for i, name := range f.userForests {
			sort.Strings(per[name])
			ds[i] = name + " " + strings.Join(per[name], ", ")
		}
		return fmt.Sprintf("SID %s is of domain %s, which belongs to no configured user forest (%s)", sid, d, strings.Join(ds, "; "))
	}
	msg := fmt.Sprintf("no account has objectSid %s", sid)
	if len(f.userForests) > 1 {
		msg = fmt.Sprintf("no account in user forest %s has objectSid %s", forest, sid)
	}
	if historyDN != "" {
		msg += fmt.Sprintf("; it is in the sIDHistory of %s (a migrated account: match with sid-history)", historyDN)
	}
	return msg
}

// forestName returns the user forest of account u when more than one is configured, else "".
func (f *forests) forestName(u *ldapsync.Object) string {
	if u == nil || len(f.userForests) < 2 {
		return ""
	}
	return f.forestOf[u]
}

// sidValues decodes the SIDs in attribute name of o, binary or text; undecodable values are left
// out.
func sidValues(o *ldapsync.Object, name string) []ldapsync.SID {
	var out []ldapsync.SID
	for _, v := range rawValues(o, name) {
		if s, _, err := ldapsync.DecodeSIDValue(v); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// hasValue reports whether attribute name of o has value v (case-insensitive).
func hasValue(o *ldapsync.Object, name, v string) bool {
	for _, x := range rawValues(o, name) {
		if strings.EqualFold(string(x), v) {
			return true
		}
	}
	return false
}

// normDN returns dn in a form that compares equal for equal DNs: attribute types and values
// lower-cased, no spaces around separators. An unparsable DN is only lower-cased.
func normDN(dn string) string {
	p, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(dn)
	}
	rdns := make([]string, len(p.RDNs))
	for i, r := range p.RDNs {
		parts := make([]string, len(r.Attributes))
		for j, a := range r.Attributes {
			parts[j] = strings.ToLower(a.Type) + "=" + strings.ToLower(a.Value)
		}
		sort.Strings(parts)
		rdns[i] = strings.Join(parts, "+")
	}
	return strings.Join(rdns, ",")
}
