package change

import (
	"bytes"

	"github.com/go-ldap/ldap/v3"
)

// AttrChange changes one attribute: Old are the values the entry must still hold (they are
// deleted), New the values it gets (they are added). Either may be empty, not both.
type AttrChange struct {
	Attr string
	Old  [][]byte
	New  [][]byte
}

// Item is one entry's conditional change.
type Item struct {
	DN      string
	Changes []AttrChange
}

// Reversed returns the change that undoes it.
func (it Item) Reversed() Item {
	r := Item{DN: it.DN, Changes: make([]AttrChange, len(it.Changes))}
	for i, c := range it.Changes {
		r.Changes[i] = AttrChange{Attr: c.Attr, Old: c.New, New: c.Old}
	}
	return r
}

// Request builds the one modify that makes it true: per attribute, delete the expected values,
// add the new ones.
func (it Item) Request() *ldap.ModifyRequest {
	req := ldap.NewModifyRequest(it.DN, nil)
	for _, c := range it.Changes {
		if len(c.Old) > 0 {
			req.Delete(c.Attr, strs(c.Old))
		}
		if len(c.New) > 0 {
			req.Add(c.Attr, strs(c.New))
		}
	}
	return req
}

func strs(vs [][]byte) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// reached reports whether values have holds the target of c: every new value present (exactly)
// and every old value that is not also new absent (in any letter case, since many attributes
// match case-insensitively: a value still there in another case is not gone).
func (c AttrChange) reached(have [][]byte) bool {
	for _, v := range c.New {
		if !contains(have, v, bytes.Equal) {
			return false
		}
	}
	for _, v := range c.Old {
		if !contains(c.New, v, bytes.Equal) && contains(have, v, bytes.EqualFold) {
			return false
		}
	}
	return true
}

func contains(vs [][]byte, v []byte, eq func(a, b []byte) bool) bool {
	for _, x := range vs {
		if eq(x, v) {
			return true
		}
	}
	return false
}
