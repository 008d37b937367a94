package sidmap

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/progress"
)

// DefaultSyncAttrs are the descriptive attributes sync-attrs copies when none are configured:
// the ones Microsoft asks to keep equal in both forests, because clients search the resource
// forest.
var DefaultSyncAttrs = []string{
	"displayName", "givenName", "sn", "telephoneNumber", "physicalDeliveryOfficeName", "title",
	"company", "mail", "l", "st", "c", "department",
}

// protectedAttrs may never be copied: identity, security and the mapping itself.
var protectedAttrs = map[string]bool{
	"objectsid": true, "objectguid": true, "objectclass": true, "samaccountname": true,
	"userprincipalname": true, "useraccountcontrol": true, "msexchmasteraccountsid": true,
	"msrtcsip-originatorsid": true, "sidhistory": true, "distinguishedname": true, "cn": true,
	"name": true, "member": true, "memberof": true, "unicodepwd": true, "userpassword": true,
	"ntsecuritydescriptor": true,
}

// SyncOptions configures PlanSync.
type SyncOptions struct {
	Match      []Rule   // how to pair accounts that carry no OriginatorSid yet; nil = DefaultMatch
	Attributes []string // attributes to copy; nil = DefaultSyncAttrs
	Base       string   // resource-forest search base
	Filter     string   // extra LDAP filter ANDed with CandidateFilter
	Progress   progress.Reporter
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
	rules, err := rulesOrDefault(opts.Match)
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
		case !validAttrName(a):
			return nil, &SyncAttrsError{Attr: a, Reason: "not an attribute name"}
		case protectedAttrs[strings.ToLower(a)]:
			return nil, &SyncAttrsError{Attr: a, Reason: "identity and security attributes are never copied"}
		case seen[strings.ToLower(a)]:
			return nil, &SyncAttrsError{Attr: a, Reason: "given twice"}
		}
		seen[strings.ToLower(a)] = true
	}
	f, err := loadForests(ctx, user, resource, rules, opts.Base, opts.Filter, attrs, opts.Progress)
	if err != nil {
		return nil, err
	}
	rows := make([]Row, 0, len(f.candidates))
	for _, c := range f.candidates {
		row := Row{ResourceDN: c.DN, ResourceGUID: c.GUID, CurrentSID: c.OriginatorSID}
		var mt match
		if !c.OriginatorSID.IsZero() {
			mt = match{user: f.bySID[c.OriginatorSID], rule: RuleOriginatorSID}
			if mt.user == nil {
				mt.conflict = fmt.Sprintf("msRTCSIP-OriginatorSid %s resolves to no user-forest account", c.OriginatorSID)
			} else if mt.user.Disabled() {
				mt.conflict = "user-forest account " + mt.user.DN + " is disabled"
			}
		} else {
			mt = f.match(c, rules)
		}
		row.Rule = mt.rule
		if mt.user != nil {
			row.UserDN = mt.user.DN
		}
		switch {
		case mt.conflict != "":
			row.Action, row.Reason = ActionConflict, mt.conflict
		default:
			for _, a := range attrs {
				have, want := rawValues(c, a), rawValues(mt.user, a)
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
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].ResourceDN < rows[j].ResourceDN })
	return &Plan{
		Version: PlanVersion, Kind: KindSyncAttrs,
		UserForest: user.Name(), ResourceForest: resource.Name(), Created: now(opts.Now),
		Options: PlanSettings{Match: ruleStrings(rules), Base: opts.Base, Filter: opts.Filter, Attributes: attrs},
		Rows:    rows,
	}, nil
}
