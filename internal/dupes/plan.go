package dupes

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/abkit/abkit/ldapsync"
)

// Action is what a fix does to a losing object.
type Action string

// Actions.
const (
	// ActionRemoveProxy deletes the colliding sip: proxyAddresses values.
	ActionRemoveProxy Action = "remove-proxy"
	// ActionClearSIP deletes the object's msRTCSIP attributes (msRTCSIP-OriginatorSid excepted:
	// it belongs to SID mapping) and the colliding sip: proxyAddresses values.
	ActionClearSIP Action = "clear-sip"
)

// Policy says which action a losing object gets, by kind.
type Policy struct {
	User    Action
	Contact Action
	Group   Action
}

// DefaultPolicy clears the SIP settings of losing users and contacts and removes the colliding
// proxy address from losing groups (groups carry no msRTCSIP attributes).
func DefaultPolicy() Policy {
	return Policy{User: ActionClearSIP, Contact: ActionClearSIP, Group: ActionRemoveProxy}
}

// ParsePolicy reads the dupes.fix configuration: keys user, contact, group; values
// remove-proxy or clear-sip. Missing keys keep DefaultPolicy's action.
func ParsePolicy(m map[string]string) (Policy, error) {
	p := DefaultPolicy()
	for k, v := range m {
		a := Action(strings.ToLower(strings.TrimSpace(v)))
		if a != ActionRemoveProxy && a != ActionClearSIP {
			return p, &InputError{Msg: fmt.Sprintf("dupes.fix.%s: unknown action %q: use remove-proxy or clear-sip", k, v)}
		}
		switch strings.ToLower(k) {
		case "user":
			p.User = a
		case "contact":
			p.Contact = a
		case "group":
			p.Group = a
		default:
			return p, &InputError{Msg: fmt.Sprintf("dupes.fix: unknown kind %q: use user, contact or group", k)}
		}
	}
	return p, nil
}

func (p Policy) action(k Kind) Action {
	switch k {
	case KindUser:
		return p.User
	case KindContact:
		return p.Contact
	}
	return p.Group
}

// AttrValues is one attribute with the exact values a change deletes.
type AttrValues struct {
	Attr   string   `json:"attr"`
	Values []string `json:"values"`
}

// Change is the planned fix of one losing object: one LDAP modify deleting exactly Remove (so
// that a value changed since the plan makes it fail), then its AbUserEntry row deleted.
type Change struct {
	Forest    string       `json:"forest,omitempty"`
	DN        string       `json:"dn,omitempty"`
	GUID      GUID         `json:"guid"`
	Kind      Kind         `json:"kind"`
	Addresses []string     `json:"addresses"` // the duplicated addresses the object gives up
	Action    Action       `json:"action,omitempty"`
	Remove    []AttrValues `json:"remove,omitempty"`
	DeleteRow bool         `json:"delete_row"`     // delete its AbUserEntry row after the modify
	Skip      string       `json:"skip,omitempty"` // why nothing is changed for this object
	Note      string       `json:"note,omitempty"`
}

// Plan is the list of changes a fix makes.
type Plan struct {
	Created time.Time `json:"created"`
	Changes []Change  `json:"changes"`
}

// Writes counts the changes that modify the directory and the rows to delete.
func (p *Plan) Writes() (modifies, rows int) {
	for _, c := range p.Changes {
		if c.Skip == "" {
			modifies++
			if c.DeleteRow {
				rows++
			}
		}
	}
	return modifies, rows
}

// PlanOptions are BuildPlan's inputs besides the report.
type PlanOptions struct {
	// Forests are the sources the report was made from; losers are re-read from them. A source
	// that does not implement ldapsync.Modifier (a snapshot) gets its changes planned but skipped.
	Forests []ldapsync.Source
	Policy  Policy
	Now     func() time.Time // default time.Now
}

// loser is an object that gives up addresses, gathered over all SIP rows.
type loser struct {
	m         Member
	addresses []string
}

// BuildPlan plans the fix of every SIP duplicate in rep: each loser is re-read from its forest
// and the exact values to delete are computed from what the directory holds now.
func BuildPlan(ctx context.Context, rep *Report, opts PlanOptions) (*Plan, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	var order []string
	losers := map[string]*loser{}
	for _, r := range rep.SIP {
		for _, m := range r.Members[1:] {
			k := memberKey(m)
			l := losers[k]
			if l == nil {
				l = &loser{m: m}
				losers[k] = l
				order = append(order, k)
			}
			l.addresses = append(l.addresses, r.Value)
		}
	}
	sources := map[string]ldapsync.Source{}
	for _, s := range opts.Forests {
		sources[strings.ToLower(s.Name())] = s
	}
	// Re-read the losers, per forest.
	current := map[string]*ldapsync.Object{}
	byForest := map[string][]Member{}
	for _, k := range order {
		if f := losers[k].m.Forest; f != "" {
			byForest[f] = append(byForest[f], losers[k].m)
		}
	}
	for f, ms := range byForest {
		src := sources[strings.ToLower(f)]
		if src == nil {
			return nil, &InputError{Msg: fmt.Sprintf("forest %s is in the report but not among the plan's forests", f)}
		}
		if err := reread(ctx, src, ms, current); err != nil {
			return nil, fmt.Errorf("dupes: re-reading losers in forest %s: %w", f, err)
		}
	}
	plan := &Plan{Created: now().UTC()}
	for _, k := range order {
		l := losers[k]
		c := Change{Forest: l.m.Forest, DN: l.m.DN, GUID: l.m.GUID, Kind: l.m.Kind, Addresses: l.addresses}
		o := current[k]
		switch {
		case l.m.Forest == "":
			c.Skip = "known only from the address book file: no directory object was read"
		case o == nil:
			c.Skip = "not found when re-read (deleted or moved since)"
		default:
			planChange(&c, o, opts.Policy.action(l.m.Kind))
			if _, ok := sources[strings.ToLower(l.m.Forest)].(ldapsync.Modifier); !ok && c.Skip == "" {
				c.Skip = "forest " + l.m.Forest + " is read from a snapshot (read-only)"
			}
		}
		c.DeleteRow = c.Skip == "" && l.m.InRTC != nil && *l.m.InRTC
		plan.Changes = append(plan.Changes, c)
	}
	return plan, nil
}

// memberKey identifies an object across rows: forest and GUID, or forest and DN without one.
func memberKey(m Member) string {
	if !m.GUID.IsZero() {
		return strings.ToLower(m.Forest) + "\x00" + m.GUID.String()
	}
	return strings.ToLower(m.Forest) + "\x00" + strings.ToLower(m.DN)
}

// rereadBatch bounds the objectGUID terms of one OR filter.
const rereadBatch = 100

// reread fetches the current state of ms from src into cur (keyed by memberKey). A live source
// is asked by objectGUID in batches; a snapshot is scanned once. Either way results are matched
// on the client, so a source that ignores the filter still gives the right objects.
func reread(ctx context.Context, src ldapsync.Source, ms []Member, cur map[string]*ldapsync.Object) error {
	want := map[string]bool{}
	for _, m := range ms {
		want[memberKey(m)] = true
	}
	collect := func(req ldapsync.SearchRequest) error {
		for o, err := range src.Search(ctx, req) {
			if err != nil {
				return err
			}
			m := Member{Forest: ms[0].Forest, GUID: o.GUID, DN: o.DN}
			if k := memberKey(m); want[k] {
				cur[k] = o
			}
		}
		return nil
	}
	all := []string{"*"}
	if _, live := src.(ldapsync.Modifier); !live {
		return collect(ldapsync.SearchRequest{Filter: sipFilter, Attributes: all})
	}
	var terms []string
	flush := func() error {
		if len(terms) == 0 {
			return nil
		}
		err := collect(ldapsync.SearchRequest{Filter: "(|" + strings.Join(terms, "") + ")", Attributes: all})
		terms = terms[:0]
		return err
	}
	for _, m := range ms {
		if m.GUID.IsZero() {
			if err := collect(ldapsync.SearchRequest{Base: m.DN, Filter: "(objectClass=*)", Attributes: all}); err != nil {
				return err
			}
			continue
		}
		terms = append(terms, "(objectGUID="+m.GUID.FilterValue()+")")
		if len(terms) == rereadBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// planChange fills c's action and values from the object's current state. An object whose
// msRTCSIP-PrimaryUserAddress is lost is always cleared; one whose own primary address is not
// duplicated only loses the colliding proxy values, whatever the policy says.
func planChange(c *Change, o *ldapsync.Object, action Action) {
	lost := map[string]bool{}
	for _, a := range c.Addresses {
		lost[a] = true
	}
	primary := ldapsync.NormalizeSIP(o.PrimaryUserAddress)
	switch {
	case lost[primary] && action == ActionRemoveProxy:
		action = ActionClearSIP
		c.Note = "the address is its msRTCSIP-PrimaryUserAddress: clear-sip instead of remove-proxy"
	case primary != "" && !lost[primary] && action == ActionClearSIP:
		action = ActionRemoveProxy
		c.Note = "its own msRTCSIP-PrimaryUserAddress " + o.PrimaryUserAddress + " is not duplicated: remove-proxy instead of clear-sip"
	}
	c.Action = action
	if action == ActionClearSIP {
		c.Remove = append(c.Remove, sipAttributes(o)...)
	}
	var proxies []string
	for _, p := range o.ProxySIP {
		if lost[ldapsync.NormalizeSIP(p)] {
			proxies = append(proxies, p)
		}
	}
	if len(proxies) > 0 {
		c.Remove = append(c.Remove, AttrValues{Attr: ldapsync.AttrProxyAddresses, Values: proxies})
	}
	if len(c.Remove) == 0 {
		c.Skip = "no longer carries the address"
	}
}

// sipAttributes returns every msRTCSIP-* attribute of o with its values, msRTCSIP-OriginatorSid
// excepted, in name order.
func sipAttributes(o *ldapsync.Object) []AttrValues {
	var out []AttrValues
	for name, vals := range o.Raw {
		if len(vals) == 0 || !strings.HasPrefix(strings.ToLower(name), "msrtcsip-") ||
			strings.EqualFold(name, ldapsync.AttrOriginatorSid) {
			continue
		}
		av := AttrValues{Attr: name}
		for _, v := range vals {
			av.Values = append(av.Values, string(v))
		}
		out = append(out, av)
	}
	slices.SortFunc(out, func(a, b AttrValues) int { return strings.Compare(strings.ToLower(a.Attr), strings.ToLower(b.Attr)) })
	return out
}
