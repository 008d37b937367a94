// Package sidmap maps user-forest SIDs onto resource-forest accounts for OCS 2007 R2 and Lync
// resource-forest topologies: it plans which disabled, SIP-enabled resource account gets which
// msRTCSIP-OriginatorSid, applies exactly that plan with conditional, journaled and reversible
// writes, verifies the result, and keeps descriptive attributes in step (sync-attrs).
//
// A Plan is computed from two ldapsync.Sources (live forests or LDIF snapshots), saved as JSON
// (the contract for Apply) and applied once by Apply. Every change is conditional on the value the
// plan saw, so that a concurrent edit makes that item fail instead of being overwritten. Before the
// first write Apply fsyncs an undo LDIF and a journal; a re-run skips what is done.
//
// # Limits
//
// Candidates are user objects with userAccountControl ACCOUNTDISABLE set and
// msRTCSIP-UserEnabled TRUE. Both forests' user objects are read once and held in memory while a
// plan or verification is built (about 1 KB per account). SIDs are always written in binary.
// sidmap defines its own interface and is not compatible with the OCS resource kit's sidmap.wsf.
package sidmap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/progress"
)

// PlanVersion is the version of the plan JSON this package writes and reads.
const PlanVersion = 1

// PlanKind says what a plan changes.
type PlanKind string

// Plan kinds.
const (
	KindOriginatorSID PlanKind = "originator-sid" // msRTCSIP-OriginatorSid
	KindSyncAttrs     PlanKind = "sync-attrs"     // descriptive attributes
)

// Action is what a plan row does.
type Action string

// Actions.
const (
	ActionSet      Action = "set"      // write the change
	ActionNone     Action = "none"     // already right, nothing to write
	ActionConflict Action = "conflict" // never written; Reason says why
)

// CandidateFilter selects disabled, SIP-enabled user accounts: the resource-forest accounts that
// need an msRTCSIP-OriginatorSid.
const CandidateFilter = "(&(objectClass=user)(userAccountControl:1.2.840.113556.1.4.803:=2)(msRTCSIP-UserEnabled=TRUE))"

// userFilter selects the user-forest accounts that can be matched.
const userFilter = "(&(objectClass=user)(objectSid=*))"

// originatorFilter selects every resource-forest object carrying an msRTCSIP-OriginatorSid.
const originatorFilter = "(msRTCSIP-OriginatorSid=*)"

// Plan is a computed set of changes. Its JSON form is the contract between `plan` and `apply`.
type Plan struct {
	Version        int          `json:"version"`
	Kind           PlanKind     `json:"kind"`
	UserForest     string       `json:"user_forest"`
	ResourceForest string       `json:"resource_forest"`
	Created        time.Time    `json:"created"`
	Options        PlanSettings `json:"options"`
	Rows           []Row        `json:"rows"`
}

// PlanSettings records the options a plan was made with.
type PlanSettings struct {
	Match             []string `json:"match"`
	Base              string   `json:"base,omitempty"`
	Filter            string   `json:"filter,omitempty"`
	ReplaceMismatched bool     `json:"replace_mismatched,omitempty"`
	Attributes        []string `json:"attributes,omitempty"` // sync-attrs only
}

// Row is one resource-forest account in a plan.
type Row struct {
	ResourceDN   string        `json:"resource_dn"`
	ResourceGUID ldapsync.GUID `json:"resource_guid,omitzero"`
	CurrentSID   ldapsync.SID  `json:"current_sid,omitzero"` // msRTCSIP-OriginatorSid as read
	// CurrentValue is the stored msRTCSIP-OriginatorSid when it is not the binary form of
	// CurrentSID: a SID stored as text, or an undecodable value. Apply's condition uses it.
	CurrentValue Value        `json:"current_value,omitempty"`
	ProposedSID  ldapsync.SID `json:"proposed_sid,omitzero"` // objectSid of the matched account
	UserDN       string       `json:"user_dn,omitempty"`     // matched user-forest account
	Rule         string       `json:"rule,omitempty"`        // the rule that matched
	Action       Action       `json:"action"`
	Reason       string       `json:"reason,omitempty"`
	Changes      []AttrChange `json:"changes,omitempty"` // sync-attrs only
}

// AttrChange replaces the values of one attribute: Old are the values the plan saw (empty: the
// attribute was absent), New the values to write (empty: remove the attribute).
type AttrChange struct {
	Attr string  `json:"attr"`
	Old  []Value `json:"old"`
	New  []Value `json:"new"`
}

// Counts returns the number of rows per action.
func (p *Plan) Counts() map[Action]int {
	c := map[Action]int{}
	for i := range p.Rows {
		c[p.Rows[i].Action]++
	}
	return c
}

// PlanError reports a plan file that cannot be used.
type PlanError struct {
	Reason string
}

func (e *PlanError) Error() string { return "sidmap: plan: " + e.Reason }

// BadInput marks an unusable plan as bad input.
func (e *PlanError) BadInput() bool { return true }

// WritePlan writes p as indented JSON.
func WritePlan(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

// ReadPlan decodes and validates a plan written by WritePlan. Unknown fields are errors.
func ReadPlan(r io.Reader) (*Plan, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var p Plan
	if err := dec.Decode(&p); err != nil {
		return nil, &PlanError{Reason: "not a plan file: " + err.Error()}
	}
	if dec.More() {
		return nil, &PlanError{Reason: "not a plan file: data after the plan"}
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Plan) validate() error {
	if p.Version != PlanVersion {
		return &PlanError{Reason: fmt.Sprintf("version %d, this abkit reads version %d", p.Version, PlanVersion)}
	}
	if p.Kind != KindOriginatorSID && p.Kind != KindSyncAttrs {
		return &PlanError{Reason: fmt.Sprintf("unknown kind %q", p.Kind)}
	}
	seen := map[string]bool{}
	for i := range p.Rows {
		r := &p.Rows[i]
		bad := func(reason string) error {
			return &PlanError{Reason: fmt.Sprintf("row %d (%s): %s", i+1, r.ResourceDN, reason)}
		}
		if r.ResourceDN == "" {
			return bad("no resource_dn")
		}
		key := strings.ToLower(r.ResourceDN)
		if seen[key] {
			return bad("resource_dn appears twice")
		}
		seen[key] = true
		switch r.Action {
		case ActionNone, ActionConflict:
		case ActionSet:
			if p.Kind == KindOriginatorSID && r.ProposedSID.IsZero() {
				return bad("action set without proposed_sid")
			}
			if p.Kind == KindSyncAttrs && len(r.Changes) == 0 {
				return bad("action set without changes")
			}
			if p.Kind == KindOriginatorSID && len(r.Changes) > 0 {
				return bad("changes in an originator-sid plan")
			}
			for _, c := range r.Changes {
				switch {
				case !validAttrName(c.Attr):
					return bad(fmt.Sprintf("bad attribute name %q", c.Attr))
				case protectedAttrs[strings.ToLower(c.Attr)]:
					return bad(fmt.Sprintf("attribute %s is never changed by sync-attrs", c.Attr))
				}
			}
		default:
			return bad(fmt.Sprintf("unknown action %q", r.Action))
		}
	}
	return nil
}

// PlanOptions configures MakePlan.
type PlanOptions struct {
	Match             []Rule // match order; nil = DefaultMatch
	Base              string // resource-forest search base; "" = the source's base DN
	Filter            string // extra LDAP filter ANDed with CandidateFilter
	ReplaceMismatched bool   // plan a replacement where a different OriginatorSid is set
	Progress          progress.Reporter
	Now               func() time.Time // clock for Plan.Created; nil = time.Now
}

// MakePlan pairs every candidate account of the resource forest with a user-forest account and
// proposes msRTCSIP-OriginatorSid = that account's objectSid. Rows are sorted by resource DN.
func MakePlan(ctx context.Context, user, resource ldapsync.Source, opts PlanOptions) (*Plan, error) {
	rules, err := rulesOrDefault(opts.Match)
	if err != nil {
		return nil, err
	}
	m, err := loadForests(ctx, user, resource, rules, opts.Base, opts.Filter, nil, opts.Progress)
	if err != nil {
		return nil, err
	}
	// First pass: match; second pass: conflicts that need every match (the same SID proposed for
	// two accounts, or already present on another resource object).
	type matched struct {
		res *ldapsync.Object
		m   match
	}
	all := make([]matched, len(m.candidates))
	proposedBy := map[ldapsync.SID][]string{}
	for i, c := range m.candidates {
		all[i] = matched{res: c, m: m.match(c, rules)}
		if u := all[i].m.user; u != nil && all[i].m.conflict == "" {
			proposedBy[u.SID] = append(proposedBy[u.SID], c.DN)
		}
	}
	rows := make([]Row, 0, len(all))
	for _, a := range all {
		c, mt := a.res, a.m
		row := Row{ResourceDN: c.DN, ResourceGUID: c.GUID, CurrentSID: c.OriginatorSID, Rule: mt.rule}
		if raw := rawValues(c, ldapsync.AttrOriginatorSid); len(raw) > 0 && !bytes.Equal(raw[0], c.OriginatorSID.Bytes()) {
			row.CurrentValue = raw[0]
		}
		if mt.user != nil {
			row.UserDN = mt.user.DN
			row.ProposedSID = mt.user.SID
		}
		row.Action, row.Reason = decide(c, mt, m, proposedBy, opts.ReplaceMismatched)
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ResourceDN < rows[j].ResourceDN })
	return &Plan{
		Version: PlanVersion, Kind: KindOriginatorSID,
		UserForest: user.Name(), ResourceForest: resource.Name(), Created: now(opts.Now),
		Options: PlanSettings{Match: ruleStrings(rules), Base: opts.Base, Filter: opts.Filter,
			ReplaceMismatched: opts.ReplaceMismatched},
		Rows: rows,
	}, nil
}

// decide returns the action and reason of one SID plan row.
func decide(c *ldapsync.Object, mt match, f *forests, proposedBy map[ldapsync.SID][]string, replace bool) (Action, string) {
	if mt.conflict != "" {
		return ActionConflict, mt.conflict
	}
	sid := mt.user.SID
	var others []string
	for _, dn := range proposedBy[sid] {
		if dn != c.DN {
			others = append(others, "also matched by "+dn)
		}
	}
	for _, dn := range f.originators[sid] {
		if !strings.EqualFold(dn, c.DN) {
			others = append(others, "already the msRTCSIP-OriginatorSid of "+dn)
		}
	}
	if len(others) > 0 {
		return ActionConflict, fmt.Sprintf("SID %s of %s is %s", sid, mt.user.DN, strings.Join(others, "; "))
	}
	raw := rawValues(c, ldapsync.AttrOriginatorSid)
	switch {
	case len(raw) > 0 && c.OriginatorSID.IsZero():
		if replace {
			return ActionSet, fmt.Sprintf("replaces the undecodable value %x", raw[0])
		}
		return ActionConflict, fmt.Sprintf("msRTCSIP-OriginatorSid holds the undecodable value %x; use --replace-mismatched to replace it", raw[0])
	case c.OriginatorSID == sid && !bytes.Equal(raw[0], sid.Bytes()):
		return ActionSet, fmt.Sprintf("rewrites the value stored as text %q in binary", raw[0])
	case c.OriginatorSID == sid:
		return ActionNone, "already mapped"
	case c.OriginatorSID.IsZero():
		return ActionSet, ""
	case replace:
		return ActionSet, fmt.Sprintf("replaces mismatched %s (%s)", c.OriginatorSID, f.describeSID(c.OriginatorSID))
	}
	return ActionConflict, fmt.Sprintf("mismatch: msRTCSIP-OriginatorSid is %s (%s); use --replace-mismatched to replace it",
		c.OriginatorSID, f.describeSID(c.OriginatorSID))
}

// match is the outcome of pairing one resource account.
type match struct {
	user     *ldapsync.Object // nil when conflict says why there is none
	rule     string
	conflict string
}

// forests holds what a plan or a verification reads from the two forests.
type forests struct {
	candidates  []*ldapsync.Object
	users       []*ldapsync.Object
	bySID       map[ldapsync.SID]*ldapsync.Object
	index       map[string]map[string][]*ldapsync.Object // rule → key → accounts
	originators map[ldapsync.SID][]string                // OriginatorSid → resource DNs carrying it
	warnings    []string
}

// loadForests reads the user forest's accounts (indexed for rules), the resource forest's
// candidates under base/filter, and every resource object carrying an OriginatorSid.
func loadForests(ctx context.Context, user, resource ldapsync.Source, rules []Rule, base, filter string, extra []string, rep progress.Reporter) (*forests, error) {
	rep = progress.OrNop(rep)
	resAttrs, userAttrs := append([]string(nil), extra...), append([]string(nil), extra...)
	for _, r := range rules {
		ra, ua := r.attributes()
		resAttrs = append(resAttrs, ra...)
		userAttrs = append(userAttrs, ua...)
	}
	f := &forests{
		bySID:       map[ldapsync.SID]*ldapsync.Object{},
		index:       map[string]map[string][]*ldapsync.Object{},
		originators: map[ldapsync.SID][]string{},
	}
	for _, r := range rules {
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
	err := read(user, ldapsync.SearchRequest{Filter: userFilter, Attributes: withObjectAttrs(userAttrs)}, func(o *ldapsync.Object) {
		if o.Kind != ldapsync.KindUser || o.SID.IsZero() {
			return
		}
		f.users = append(f.users, o)
		f.bySID[o.SID] = o
		for _, r := range rules {
			idx := f.index[r.String()]
			for _, k := range r.userKeys(o) {
				idx[k] = append(idx[k], o)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	candFilter := CandidateFilter
	if filter != "" {
		if !strings.HasPrefix(strings.TrimSpace(filter), "(") {
			filter = "(" + filter + ")"
		}
		candFilter = "(&" + CandidateFilter + filter + ")"
	}
	err = read(resource, ldapsync.SearchRequest{Base: base, Filter: candFilter, Attributes: withObjectAttrs(resAttrs)}, func(o *ldapsync.Object) {
		if isCandidate(o) {
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

// isCandidate repeats CandidateFilter on the decoded object, so that a source with loose filter
// evaluation cannot widen the scope.
func isCandidate(o *ldapsync.Object) bool {
	return o.Kind == ldapsync.KindUser && o.Disabled() && o.SIPEnabled != nil && *o.SIPEnabled
}

// match pairs resource account c with a user-forest account, trying rules in order. A key with
// no match falls through to the next rule, except msExchMasterAccountSid, which names the
// account authoritatively: when it resolves to nothing the row is a conflict.
func (f *forests) match(c *ldapsync.Object, rules []Rule) match {
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
			return match{rule: r.String(), conflict: fmt.Sprintf("user-forest account missing: no account has objectSid %s (msExchMasterAccountSid)", c.MasterSID)}
		case len(found) == 0:
			continue
		case len(found) > 1:
			dns := make([]string, len(found))
			for i, u := range found {
				dns[i] = u.DN
			}
			sort.Strings(dns)
			return match{rule: r.String(), conflict: fmt.Sprintf("more than one match by %s: %s", r, strings.Join(dns, "; "))}
		}
		u := found[0]
		switch {
		case u.Disabled():
			return match{user: u, rule: r.String(), conflict: "user-forest account " + u.DN + " is disabled"}
		case !c.MasterSID.IsZero() && c.MasterSID != u.SID:
			return match{user: u, rule: r.String(), conflict: fmt.Sprintf("msExchMasterAccountSid %s disagrees with the match by %s (%s, %s)", c.MasterSID, r, u.DN, u.SID)}
		}
		return match{user: u, rule: r.String()}
	}
	return match{conflict: "no match in the user forest by " + strings.Join(ruleStrings(rules), ", ")}
}

// describeSID names the user-forest account holding sid, for reasons and findings.
func (f *forests) describeSID(sid ldapsync.SID) string {
	if u := f.bySID[sid]; u != nil {
		return u.DN
	}
	return "no user-forest account"
}

func ruleStrings(rules []Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.String()
	}
	return out
}

func rulesOrDefault(rules []Rule) ([]Rule, error) {
	if len(rules) > 0 {
		return rules, nil
	}
	return ParseRules(nil)
}

// withObjectAttrs returns ldapsync.ObjectAttributes plus extra, without repeats.
func withObjectAttrs(extra []string) []string {
	out := append([]string(nil), ldapsync.ObjectAttributes...)
	seen := map[string]bool{}
	for _, a := range out {
		seen[strings.ToLower(a)] = true
	}
	for _, a := range extra {
		if !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			out = append(out, a)
		}
	}
	return out
}

func now(clock func() time.Time) time.Time {
	if clock == nil {
		return time.Now().UTC().Truncate(time.Second)
	}
	return clock()
}
