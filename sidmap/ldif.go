package sidmap

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/abkit/abkit/internal/ldif"
)

// maxLDIFLine bounds one logical line of a change LDIF.
const maxLDIFLine = 1 << 20

// item is one entry's conditional change: for every attribute, the values expected now (Old)
// and the values to leave (New).
type item struct {
	dn      string
	changes []AttrChange
}

// reversed returns the change that undoes it.
func (it item) reversed() item {
	r := item{dn: it.dn, changes: make([]AttrChange, len(it.changes))}
	for i, c := range it.changes {
		r.changes[i] = AttrChange{Attr: c.Attr, Old: c.New, New: c.Old}
	}
	return r
}

// writeChangeLDIF writes items as LDIF change records (RFC 2849, with the project's one LDIF
// writer): for each attribute a delete of the expected values, then an add of the new ones, so
// that ldapmodify applies them under the same conditions as Apply.
func writeChangeLDIF(w io.Writer, comment string, items []item) error {
	lw := ldif.NewWriter(w)
	lw.Header(comment)
	for _, it := range items {
		lw.WriteModify(it.request())
	}
	return lw.Flush()
}

// LDIFError reports a change LDIF that cannot be read, with its line number.
type LDIFError = ldif.Error

// readChangeLDIF reads change records in the form writeChangeLDIF writes: changetype modify with
// add and delete operations carrying explicit values. Replace, delete without values, URL values
// and other change types are refused, since they are not conditional; so is any record that
// cannot be read (a change file is read whole or not at all).
func readChangeLDIF(r io.Reader) ([]item, error) {
	sc := ldif.NewScanner(r, ldif.Options{MaxLine: maxLDIFLine})
	var items []item
	for {
		rec, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return items, nil
		}
		if err != nil {
			return nil, err
		}
		it, err := changeItem(rec)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
}

// changeItem turns a modify record into an item.
func changeItem(rec *ldif.Record) (item, error) {
	bad := func(line int, format string, args ...any) (item, error) {
		return item{}, &LDIFError{Line: line, DN: rec.DN, Msg: fmt.Sprintf(format, args...)}
	}
	if rec.Kind != ldif.Modify {
		if rec.Kind == ldif.Entry && rec.ChangeType == "" && len(rec.Attrs) == 0 {
			return bad(rec.Line, "dn without changes")
		}
		return bad(rec.Line, "want changetype: modify, got a %s record", rec.Kind)
	}
	it := item{dn: rec.DN}
	byAttr := map[string]int{}
	for _, m := range rec.Mods {
		if m.Op != "add" && m.Op != "delete" {
			return bad(m.Line, "operation %q: only add and delete with values are accepted", m.Op)
		}
		if len(m.Values) == 0 {
			return bad(m.Line, "%s without values is not conditional", m.Op)
		}
		values := make([]Value, len(m.Values))
		for i, v := range m.Values {
			values[i] = Value(string(v.Value))
		}
		key := strings.ToLower(m.Name)
		k, ok := byAttr[key]
		if !ok {
			k = len(it.changes)
			byAttr[key] = k
			it.changes = append(it.changes, AttrChange{Attr: m.Name})
		}
		if m.Op == "delete" {
			it.changes[k].Old = append(it.changes[k].Old, values...)
		} else {
			it.changes[k].New = append(it.changes[k].New, values...)
		}
	}
	return it, nil
}
