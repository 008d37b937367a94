package dupes

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// rank orders the objects of one duplicate, best (the keeper) first. Each field is compared in
// order; lower is better.
type rank struct {
	class   int // see classOf
	enabled int // 0 enabled, 1 unknown or not applicable, 2 disabled
	hidden  int // 0 visible, 1 hidden from address lists
	primary int // 0 carries the value in the primary attribute, 1 only in the secondary one
	forest  int // configuration order; address-book-only objects last
	dn      string
	guid    GUID
}

// Classes, best first: a SIP-enabled user, a SIP-enabled contact, a user, a contact, an address
// book entry of unknown kind, a group, anything else.
const (
	classSIPUser = iota
	classSIPContact
	classUser
	classContact
	classEntry
	classGroup
	classOther
)

var classNames = [...]string{
	classSIPUser:    "a SIP-enabled user",
	classSIPContact: "a SIP-enabled contact",
	classUser:       "a user that is not SIP-enabled",
	classContact:    "a contact that is not SIP-enabled",
	classEntry:      "an address book entry of unknown kind",
	classGroup:      "a group",
	classOther:      "an object that is neither user, contact nor group",
}

func classOf(o *object) int {
	sip := o.flags&fSIPEnabled != 0
	switch kinds[o.kind] {
	case KindUser:
		if sip {
			return classSIPUser
		}
		return classUser
	case KindContact:
		if sip {
			return classSIPContact
		}
		return classContact
	case KindEntry:
		return classEntry
	case KindSecurityGroup, KindDistributionGroup, KindGroup:
		return classGroup
	}
	return classOther
}

func rankOf(o *object, dn string, via uint32) rank {
	r := rank{class: classOf(o), enabled: 1, dn: strings.ToLower(dn), guid: o.guid, forest: int(o.forest)}
	if o.flags&fEnabledKnown != 0 {
		if o.flags&fEnabled != 0 {
			r.enabled = 0
		} else {
			r.enabled = 2
		}
	}
	if o.flags&fHidden != 0 {
		r.hidden = 1
	}
	if via&viaPrimary == 0 {
		r.primary = 1
	}
	if o.forest < 0 {
		r.forest = 1 << 20
	}
	return r
}

func compareRank(a, b rank) int {
	return cmp.Or(
		cmp.Compare(a.class, b.class),
		cmp.Compare(a.enabled, b.enabled),
		cmp.Compare(a.hidden, b.hidden),
		cmp.Compare(a.primary, b.primary),
		cmp.Compare(a.forest, b.forest),
		strings.Compare(a.dn, b.dn),
		bytes.Compare(a.guid[:], b.guid[:]),
	)
}

// reason explains why the keeper k beats the runner-up r, naming the first criterion that
// separates them.
func reason(check Check, k, r rank) string {
	primaryAttr, secondaryAttr := "msRTCSIP-PrimaryUserAddress", "proxyAddresses"
	if check == CheckPhone {
		primaryAttr, secondaryAttr = "msRTCSIP-Line", "telephoneNumber"
	}
	switch {
	case k.class != r.class:
		return classNames[k.class] + " beats " + classNames[r.class]
	case k.enabled != r.enabled:
		if r.enabled == 2 {
			return "an enabled account beats a disabled one"
		}
		return "an account known to be enabled beats one whose state is unknown"
	case k.hidden != r.hidden:
		return "visible in address lists beats hidden (msExchHideFromAddressLists)"
	case k.primary != r.primary:
		return fmt.Sprintf("carries it in %s, the other only in %s", primaryAttr, secondaryAttr)
	case k.forest != r.forest:
		return "tie: the forest listed first in the configuration wins"
	}
	return "tie: the lowest DN, then objectGUID, wins"
}

// rowView turns index collisions into report rows.
type rowView struct {
	ix         *index
	forests    []string
	inRTC      map[GUID]bool
	rtcChecked bool
	absName    string
}

// rows builds the report rows of one check. An object met twice (the same objectGUID in two
// forests whose bases overlap) counts once, with a warning; a value left with one object is
// no duplicate.
func (v rowView) rows(check Check, cs []collision, warn func(string)) []Row {
	rows := make([]Row, 0, len(cs))
	type ranked struct {
		m Member
		r rank
	}
	for _, c := range cs {
		ms := make([]ranked, 0, len(c.refs))
		for _, ref := range c.refs {
			o := v.ix.objs.at(ref >> viaBits)
			via := ref & (1<<viaBits - 1)
			m := v.member(check, o, via)
			ms = append(ms, ranked{m, rankOf(o, m.DN, via)})
		}
		slices.SortFunc(ms, func(a, b ranked) int { return compareRank(a.r, b.r) })
		seen := map[GUID]string{}
		kept := ms[:0]
		for _, m := range ms {
			if g := m.m.GUID; !g.IsZero() {
				if first, dup := seen[g]; dup {
					warn(fmt.Sprintf("object %s (%s) was read from forest %s and from forest %s: do their bases overlap?", g, m.m.DN, first, m.m.Forest))
					continue
				}
				seen[g] = m.m.Forest
			}
			kept = append(kept, m)
		}
		ms = kept
		if len(ms) < 2 {
			continue
		}
		row := Row{Check: check, Value: c.key, Reason: reason(check, ms[0].r, ms[1].r)}
		for i := range ms {
			ms[i].m.Keep = i == 0
			row.Members = append(row.Members, ms[i].m)
		}
		rows = append(rows, row)
	}
	return rows
}

func boolPtr(b bool) *bool { return &b }

func (v rowView) member(check Check, o *object, via uint32) Member {
	m := Member{GUID: o.guid, DN: v.ix.text.String(o.dn), DisplayName: v.ix.text.String(o.name), Kind: kinds[o.kind], Hidden: o.flags&fHidden != 0}
	if o.forest >= 0 {
		m.Forest = v.forests[o.forest]
		m.Sources = append(m.Sources, "forest "+m.Forest)
	}
	if v.absName != "" {
		in := o.flags&fInABS != 0
		m.InAddressBook = boolPtr(in)
		if in {
			m.Sources = append(m.Sources, "address book "+v.absName)
		}
	}
	if o.flags&fEnabledKnown != 0 {
		m.Enabled = boolPtr(o.flags&fEnabled != 0)
	}
	if o.flags&fSIPKnown != 0 {
		m.SIPEnabled = boolPtr(o.flags&fSIPEnabled != 0)
	}
	if v.rtcChecked && !o.guid.IsZero() {
		m.InRTC = boolPtr(v.inRTC[o.guid])
	}
	switch check {
	case CheckSIP:
		if via&viaPrimary != 0 {
			m.Via = append(m.Via, "msRTCSIP-PrimaryUserAddress")
		}
		if via&viaProxy != 0 {
			m.Via = append(m.Via, "proxyAddresses")
		}
	case CheckPhone:
		if via&viaPrimary != 0 {
			m.Via = append(m.Via, "msRTCSIP-Line")
		}
		if via&viaProxy != 0 {
			m.Via = append(m.Via, "telephoneNumber")
		}
	}
	return m
}
