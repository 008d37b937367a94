package sidmap

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/abkit/abkit/internal/change"
	"github.com/abkit/abkit/ldapsync"
)

// DefaultSyncAttrs are the descriptive attributes sync-attrs copies when none are configured:
// the ones the OCS and Lync docs ask to keep equal in both forests (cn aside), because clients
// search the resource forest. manager is translated (AttrManager).
var DefaultSyncAttrs = []string{
	"telephoneNumber", "displayName", "givenName", "sn", "physicalDeliveryOfficeName", "l", "st",
	"c", "co", "countryCode", "title", "mail", "company", "department", "thumbnailPhoto", AttrManager,
}

// AttrManager holds the DN of a person's manager. sync-attrs does not copy it: it writes the DN
// of the manager's own resource-forest object, found through the same pairing, and reports a
// manager that has none.
const AttrManager = "manager"

// SyncOptions configures PlanSync.
type SyncOptions struct {
	Layout              // more user forests; resource or central topology
	Match      []Rule   // how to pair accounts that carry no OriginatorSid yet; nil = DefaultMatch
	Attributes []string // attributes to copy; nil = DefaultSyncAttrs
	Base       string   // resource-forest search base
	Filter     string   // extra LDAP filter ANDed with CandidateFilter
	Progress   ldapsync.Progress
	Now        func() time.Time
}

// SyncAttrsError reports an attribute that sync-attrs may not copy.
type SyncAttrsError struct {
	Attr   string
	Reason string
}

func (e *SyncAttrsError) Error() string {
	return fmt.Sprintf("sidmap: sync attribute %q: %s", e.Attr, e.Reason)
}

// BadInput marks a refused attribute as bad input.
func (e *SyncAttrsError) BadInput() bool { return true }

// PlanSync plans copying the descriptive attributes of each paired user-forest account to its
// resource account. A resource account is paired through its msRTCSIP-OriginatorSid when set,
// otherwise by the match rules. An attribute the user-forest account lacks is removed from the
// resource account. Each change is conditional on the values read, like every sidmap change.
func PlanSync(ctx context.Context, user, resource ldapsync.Source, opts SyncOptions) (*Plan, error) {
	rules, err := rulesOrDefault(opts.Match, opts.Topology)
	if err != nil {
		return nil, err
	}
	attrs := opts.Attributes
	if len(attrs) == 0 {
		attrs = DefaultSyncAttrs
	}
	seen := map[string]bool{}
	for _, a := range attrs {
		switch {
		case !change.ValidAttrName(a):
			return nil, &SyncAttrsError{Attr: a, Reason: "not an attribute name"}
		case !syncAllowed(a):
			return nil, &SyncAttrsError{Attr: a, Reason: "not a descriptive attribute sync-attrs may copy (see sidmap.SyncAttrAllowlist)"}
		case seen[strings.ToLower(a)]:
			return nil, &SyncAttrsError{Attr: a, Reason: "given twice"}
		}
		seen[strings.ToLower(a)] = true
	}
	f, err := loadForests(ctx, user, resource, loadSpec{layout: opts.Layout, rules: rules, base: opts.Base, filter: opts.Filter, extra: attrs}, opts.Progress)
	if err != nil {
		return nil, err
	}
	// First pass: pair every candidate, so that a manager's resource object is known.
	pairs := make([]match, len(f.candidates))
	resourceOf := map[*ldapsync.Object][]string{} // user-forest account → resource DNs paired
	for i, c := range f.candidates {
		pairs[i] = f.syncPair(c, rules)
		if u := pairs[i].user; u != nil && pairs[i].conflict == "" {
			resourceOf[u] = append(resourceOf[u], c.DN)
		}
	}
	rows := make([]Row, 0, len(f.candidates))
	for i, c := range f.candidates {
		row := Row{ResourceDN: c.DN, ResourceGUID: c.GUID, CurrentSID: c.OriginatorSID}
		mt := pairs[i]
		row.Rule = mt.rule
		if mt.user != nil {
			row.UserDN = mt.user.DN
			row.UserForest = f.forestName(mt.user)
		}
		var notes []string
		switch {
		case mt.skip != "":
			row.Action, row.Reason = ActionSkip, mt.skip
		case mt.conflict != "":
			row.Action, row.Reason = ActionConflict, mt.conflict
		default:
			for _, a := range attrs {
				have, want := rawValues(c, a), rawValues(mt.user, a)
				if strings.EqualFold(a, AttrManager) {
					var note string
					want, note = f.translateManager(mt.user, want, resourceOf)
					if note != "" {
						notes = append(notes, note)
						continue
					}
					if sameDNs(have, want) {
						continue
					}
				}
				if !sameValues(have, want) {
					row.Changes = append(row.Changes, AttrChange{Attr: a, Old: toValues(have), New: toValues(want)})
				}
			}
			row.Action = ActionNone
			if len(row.Changes) > 0 {
				row.Action = ActionSet
				names := make([]string, len(row.Changes))
				for i, ch := range row.Changes {
					names[i] = ch.Attr
				}
				row.Reason = "differs: " + strings.Join(names, ", ")
			} else {
				row.Reason = "in step"
			}
			if len(notes) > 0 {
				row.Reason += "; " + strings.Join(notes, "; ")
			}
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ResourceDN < rows[j].ResourceDN })
	return &Plan{
		Version: PlanVersion, Kind: KindSyncAttrs,
		UserForest: userForestNames(user, opts.Layout), ResourceForest: resource.Name(), Created: now(opts.Now),
		Options: PlanSettings{Match: ruleStrings(rules), Base: opts.Base, Filter: opts.Filter, Attributes: attrs,
			Topology: topologyOption(opts.Topology)},
		Rows: rows,
	}, nil
}

// syncPair pairs candidate c for sync-attrs: through its msRTCSIP-OriginatorSid when set, else
// by the match rules.
func (f *forests) syncPair(c *ldapsync.Object, rules []Rule) match {
	if c.OriginatorSID.IsZero() {
		return f.match(c, rules)
	}
	mt := match{user: f.bySID[c.OriginatorSID], rule: RuleOriginatorSID}
	if mt.user == nil {
		mt.conflict = fmt.Sprintf("msRTCSIP-OriginatorSid %s resolves to no user-forest account: %s", c.OriginatorSID, f.explainMissing(c.OriginatorSID))
	} else if mt.user.Disabled() {
		mt.conflict = "user-forest account " + mt.user.DN + " is disabled"
	}
	return mt
}

// translateManager turns the manager DNs of user-forest account u into the DNs of those
// managers' resource-forest objects: the candidate paired with the manager, else the one
// resource object carrying the manager's objectSid as msRTCSIP-OriginatorSid. When a manager has
// no such object, note says so and the attribute is left as it is.
func (f *forests) translateManager(u *ldapsync.Object, managers [][]byte, resourceOf map[*ldapsync.Object][]string) (out [][]byte, note string) {
	for _, v := range managers {
		m := f.byDN[normDN(string(v))]
		if m == nil {
			return nil, fmt.Sprintf("manager %s of %s is no account of the user forest (manager left as it is)", v, u.DN)
		}
		dns := resourceOf[m]
		if len(dns) == 0 {
			dns = f.originators[m.SID]
		}
		if len(dns) != 1 {
			what := "no resource-forest object"
			if len(dns) > 1 {
				what = "more than one resource-forest object (" + strings.Join(dns, "; ") + ")"
			}
			return nil, fmt.Sprintf("manager %s has %s (manager left as it is)", m.DN, what)
		}
		out = append(out, []byte(dns[0]))
	}
	return out, ""
}

// sameDNs reports whether a and b hold the same DNs, compared as DNs (case and spacing aside).
func sameDNs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	norm := func(vs [][]byte) [][]byte {
		out := make([][]byte, len(vs))
		for i, v := range vs {
			out[i] = []byte(normDN(string(v)))
		}
		return out
	}
	return sameValues(norm(a), norm(b))
}
