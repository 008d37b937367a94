package change

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/abkit/abkit/internal/ldif"
)

// maxLDIFLine bounds one logical line of a change LDIF.
const maxLDIFLine = 1 << 20

// WriteLDIF writes items as LDIF change records (RFC 2849, with the project's one LDIF writer):
// for each attribute a delete of the expected values, then an add of the new ones, so that
// ldapmodify applies them under the same conditions as Run.
func WriteLDIF(w io.Writer, comment string, items []Item) error {
	lw := ldif.NewWriter(w)
	lw.Header(comment)
	for _, it := range items {
		lw.WriteModify(it.Request())
	}
	return lw.Flush()
}

// LDIFError reports a change LDIF that cannot be read, with its line number.
type LDIFError = ldif.Error

// ReadLDIF reads change records in the form WriteLDIF writes: changetype modify with add and
// delete operations carrying explicit values. Replace, delete without values, URL values and
// other change types are refused, since they are not conditional; so is any record that cannot
// be read (a change file is read whole or not at all).
func ReadLDIF(r io.Reader) ([]Item, error) {
	sc := ldif.NewScanner(r, ldif.Options{MaxLine: maxLDIFLine})
	var items []Item
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
func changeItem(rec *ldif.Record) (Item, error) {
	bad := func(line int, format string, args ...any) (Item, error) {
		return Item{}, &LDIFError{Line: line, DN: rec.DN, Msg: fmt.Sprintf(format, args...)}
	}
	if rec.Kind != ldif.Modify {
		if rec.Kind == ldif.Entry && rec.ChangeType == "" && len(rec.Attrs) == 0 {
			return bad(rec.Line, "dn without changes")
		}
		return bad(rec.Line, "want changetype: modify, got a %s record", rec.Kind)
	}
	it := Item{DN: rec.DN}
	byAttr := map[string]int{}
	for _, m := range rec.Mods {
		if m.Op != "add" && m.Op != "delete" {
			return bad(m.Line, "operation %q: only add and delete with values are accepted", m.Op)
		}
		if len(m.Values) == 0 {
			return bad(m.Line, "%s without values is not conditional", m.Op)
		}
		if !ValidAttrName(m.Name) {
			return bad(m.Line, "bad attribute name %q", m.Name)
		}
		values := make([][]byte, len(m.Values))
		for i, v := range m.Values {
			values[i] = []byte(string(v.Value))
		}
		key := strings.ToLower(m.Name)
		k, ok := byAttr[key]
		if !ok {
			k = len(it.Changes)
			byAttr[key] = k
			it.Changes = append(it.Changes, AttrChange{Attr: m.Name})
		}
		if m.Op == "delete" {
			it.Changes[k].Old = append(it.Changes[k].Old, values...)
		} else {
			it.Changes[k].New = append(it.Changes[k].New, values...)
		}
	}
	return it, nil
}

// ValidAttrName reports whether s is an LDAP attribute description without options: a name
// (letter, then letters, digits, hyphens) or a numeric OID.
func ValidAttrName(s string) bool {
	if s == "" {
		return false
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	isLetter := func(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
	oid := isDigit(s[0])
	if !oid && !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case oid && (isDigit(c) || c == '.'):
		case !oid && (isLetter(c) || isDigit(c) || c == '-'):
		default:
			return false
		}
	}
	return true
}
