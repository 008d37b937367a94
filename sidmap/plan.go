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
// msRTCSIP-UserEnabled TRUE, or, in a central forest (TopologyCentral), SIP-enabled contacts. The
// user forests' accounts and the candidates are read once and held in memory while a plan is
// built (about 1 KB per account); a verification streams the candidates and keeps tens of bytes
// per account (verify_index.go). SIDs are always written in binary.
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

	"github.com/abkit/abkit/internal/change"
	"github.com/abkit/abkit/ldapsync"
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
	ActionSkip     Action = "skip"     // no user-forest account by design (SELF ...); Reason says why
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
	Topology          Topology `json:"topology,omitempty"`
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
	UserForest   string       `json:"user_forest,omitempty"` // its forest, when several are configured
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
	if t := p.Options.Topology; t != "" && t != TopologyCentral {
		return &PlanError{Reason: fmt.Sprintf("unknown topology %q", t)}
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
		case ActionNone, ActionConflict, ActionSkip:
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
				case !change.ValidAttrName(c.Attr):
					return bad(fmt.Sprintf("bad attribute name %q", c.Attr))
				case !syncAllowed(c.Attr):
					return bad(fmt.Sprintf("attribute %s is not one sync-attrs may change", c.Attr))
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
	Layout                   // more user forests; resource or central topology
	Match             []Rule // match order; nil = DefaultMatch (central: DefaultCentralMatch)
	Base              string // resource-forest search base; "" = the source's base DN
	Filter            string // extra LDAP filter ANDed with CandidateFilter
	ReplaceMismatched bool   // plan a replacement where a different OriginatorSid is set
	Progress          ldapsync.Progress
	Now               func() time.Time // clock for Plan.Created; nil = time.Now
}

// MakePlan pairs every candidate of the resource forest (disabled user accounts, or contacts in
// a central forest) with a user-forest account and proposes msRTCSIP-OriginatorSid = that
// account's objectSid. Candidates whose msExchMasterAccountSid is a well-known SID (SELF on a
// room mailbox) are skipped. Rows are sorted by resource DN.
func MakePlan(ctx context.Context, user, resource ldapsync.Source, opts PlanOptions) (*Plan, error) {
	rules, err := rulesOrDefault(opts.Match, opts.Topology)
	if err != nil {
		return nil, err
	}
	m, err := loadForests(ctx, user, resource, loadSpec{layout: opts.Layout, rules: rules, base: opts.Base, filter: opts.Filter}, opts.Progress)
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
			row.UserForest = m.forestName(mt.user)
			row.ProposedSID = mt.user.SID
		}
		row.Action, row.Reason = decide(c, mt, m, proposedBy, opts.ReplaceMismatched)
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ResourceDN < rows[j].ResourceDN })
	return &Plan{
		Version: PlanVersion, Kind: KindOriginatorSID,
		UserForest: userForestNames(user, opts.Layout), ResourceForest: resource.Name(), Created: now(opts.Now),
		Options: PlanSettings{Match: ruleStrings(rules), Base: opts.Base, Filter: opts.Filter,
			ReplaceMismatched: opts.ReplaceMismatched, Topology: topologyOption(opts.Topology)},
		Rows: rows,
	}, nil
}

// decide returns the action and reason of one SID plan row.
func decide(c *ldapsync.Object, mt match, f *forests, proposedBy map[ldapsync.SID][]string, replace bool) (Action, string) {
	if mt.skip != "" {
		return ActionSkip, mt.skip
	}
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

func ruleStrings(rules []Rule) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.String()
	}
	return out
}

func rulesOrDefault(rules []Rule, t Topology) ([]Rule, error) {
	if len(rules) > 0 {
		return rules, nil
	}
	return parseRules(nil, t)
}

// userForestNames names the user forests of a plan: their names joined by commas.
func userForestNames(user ldapsync.Source, l Layout) string {
	names := []string{user.Name()}
	for _, s := range l.MoreUserForests {
		names = append(names, s.Name())
	}
	return strings.Join(names, ",")
}

// topologyOption is t as recorded in a plan: omitted for the default, resource.
func topologyOption(t Topology) Topology {
	if t == TopologyResource {
		return ""
	}
	return t
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
