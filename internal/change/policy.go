package change

import (
	"fmt"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Policy is what one operation may touch. Every item is checked against it before anything is
// written; one item outside it refuses the whole run.
type Policy struct {
	// Name names the operation in the journal and in errors, e.g. "sidmap originator-sid".
	Name string
	// Attrs are the only attributes the operation may change (case-insensitive).
	Attrs []string
	// Match, when set, allows further attributes by name (an open family, e.g. msRTCSIP-*).
	Match func(attr string) bool
	// Base is the configured forest's base DN: every item's DN must lie strictly under it,
	// compared as parsed DNs, case-insensitively.
	Base string
}

// RefusedError reports an item outside its operation's Policy; nothing was written.
type RefusedError struct {
	Op     string // the Policy's name
	Index  int    // item number, from 1
	DN     string
	Attr   string // the refused attribute, when the attribute is the reason
	Reason string
}

func (e *RefusedError) Error() string {
	where := e.DN
	if e.Attr != "" {
		where += " attribute " + e.Attr
	}
	return fmt.Sprintf("change: %s: item %d (%s): %s; nothing was written", e.Op, e.Index, where, e.Reason)
}

// BadInput marks a refused item as bad input.
func (e *RefusedError) BadInput() bool { return true }

// Allows reports whether the policy allowlists attribute attr.
func (p Policy) Allows(attr string) bool {
	return slices.ContainsFunc(p.Attrs, func(a string) bool { return strings.EqualFold(a, attr) }) ||
		p.Match != nil && p.Match(attr)
}

// Check refuses the first item whose DN is not under Base or that changes an attribute not in
// Attrs, or changes nothing.
func (p Policy) Check(items []Item) error {
	base, err := ldap.ParseDN(p.Base)
	if err != nil || p.Base == "" {
		return &RefusedError{Op: p.Name, Reason: fmt.Sprintf("the configured base %q is not a DN", p.Base)}
	}
	for i, it := range items {
		refuse := func(attr, reason string) error {
			return &RefusedError{Op: p.Name, Index: i + 1, DN: it.DN, Attr: attr, Reason: reason}
		}
		dn, err := ldap.ParseDN(it.DN)
		if err != nil {
			return refuse("", "not a DN: "+err.Error())
		}
		if !base.AncestorOfFold(dn) {
			return refuse("", "not under the configured base "+p.Base)
		}
		if len(it.Changes) == 0 {
			return refuse("", "no change")
		}
		for _, c := range it.Changes {
			if !p.Allows(c.Attr) {
				return refuse(c.Attr, fmt.Sprintf("%s may change only %s", p.Name, strings.Join(p.Attrs, ", ")))
			}
			if len(c.Old) == 0 && len(c.New) == 0 {
				return refuse(c.Attr, "neither values to delete nor values to add")
			}
		}
	}
	return nil
}

// UnderBase reports whether dn lies strictly under base (parsed, case-insensitive).
func UnderBase(dn, base string) bool {
	b, err1 := ldap.ParseDN(base)
	d, err2 := ldap.ParseDN(dn)
	return err1 == nil && err2 == nil && base != "" && b.AncestorOfFold(d)
}
