package change

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// maxLDIFLine bounds one physical line of a change LDIF.
const maxLDIFLine = 1 << 20

// WriteLDIF writes items as LDIF change records (RFC 2849): for each attribute a delete of
// the expected values, then an add of the new ones, so that ldapmodify applies them under the
// same conditions as Run. Values that are not safe strings (SIDs always) are base64.
func WriteLDIF(w io.Writer, comment string, items []Item) error {
	bw := bufio.NewWriter(w)
	for _, line := range strings.Split(comment, "\n") {
		fmt.Fprintf(bw, "# %s\n", line)
	}
	bw.WriteString("version: 1\n")
	for _, it := range items {
		bw.WriteString("\n")
		writeLDIFLine(bw, "dn", []byte(it.DN))
		bw.WriteString("changetype: modify\n")
		for _, c := range it.Changes {
			if len(c.Old) > 0 {
				bw.WriteString("delete: " + c.Attr + "\n")
				for _, v := range c.Old {
					writeLDIFLine(bw, c.Attr, v)
				}
				bw.WriteString("-\n")
			}
			if len(c.New) > 0 {
				bw.WriteString("add: " + c.Attr + "\n")
				for _, v := range c.New {
					writeLDIFLine(bw, c.Attr, v)
				}
				bw.WriteString("-\n")
			}
		}
	}
	return bw.Flush()
}

func writeLDIFLine(w *bufio.Writer, attr string, v []byte) {
	if safeString(v) {
		w.WriteString(attr + ": " + string(v) + "\n")
		return
	}
	w.WriteString(attr + ":: " + base64.StdEncoding.EncodeToString(v) + "\n")
}

// safeString reports whether v may be written as a plain LDIF value (RFC 2849 SAFE-STRING,
// printable ASCII, no leading space, colon or '<', no trailing space).
func safeString(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if v[0] == ' ' || v[0] == ':' || v[0] == '<' || v[len(v)-1] == ' ' {
		return false
	}
	for _, c := range v {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// LDIFError reports a change LDIF that cannot be read, with its line number.
type LDIFError struct {
	Line   int
	Reason string
}

func (e *LDIFError) Error() string { return fmt.Sprintf("change: LDIF line %d: %s", e.Line, e.Reason) }

// BadInput marks an unreadable LDIF as bad input.
func (e *LDIFError) BadInput() bool { return true }

type ldifLine struct {
	n    int
	text string
}

// ReadLDIF reads change records in the form WriteLDIF writes: changetype modify with
// add and delete operations carrying explicit values. Replace, delete without values, URL values
// and other change types are refused, since they are not conditional.
func ReadLDIF(r io.Reader) ([]Item, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxLDIFLine)
	var (
		items   []Item
		record  []ldifLine
		n       int
		comment bool
		first   = true
	)
	flush := func() error {
		if len(record) == 0 {
			return nil
		}
		if first && strings.HasPrefix(record[0].text, "version:") {
			if v := strings.TrimSpace(record[0].text[len("version:"):]); v != "1" {
				return &LDIFError{Line: record[0].n, Reason: "version " + v + ", want 1"}
			}
			record = record[1:]
		}
		first = false
		if len(record) == 0 {
			return nil
		}
		it, err := parseChangeRecord(record)
		if err != nil {
			return err
		}
		items = append(items, it)
		record = record[:0]
		return nil
	}
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case line == "":
			comment = false
			if err := flush(); err != nil {
				return nil, err
			}
		case line[0] == ' ':
			if comment {
				continue
			}
			if len(record) == 0 {
				return nil, &LDIFError{Line: n, Reason: "continuation line with nothing to continue"}
			}
			record[len(record)-1].text += line[1:]
		case line[0] == '#':
			comment = true
		default:
			comment = false
			record = append(record, ldifLine{n: n, text: line})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, &LDIFError{Line: n + 1, Reason: err.Error()}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return items, nil
}

func parseChangeRecord(lines []ldifLine) (Item, error) {
	attr, val, err := splitLDIFLine(lines[0])
	if err != nil {
		return Item{}, err
	}
	if !strings.EqualFold(attr, "dn") {
		return Item{}, &LDIFError{Line: lines[0].n, Reason: "record does not start with dn:"}
	}
	it := Item{DN: string(val)}
	if len(lines) < 2 {
		return Item{}, &LDIFError{Line: lines[0].n, Reason: "dn without changes"}
	}
	if a, v, err := splitLDIFLine(lines[1]); err != nil || !strings.EqualFold(a, "changetype") || string(v) != "modify" {
		return Item{}, &LDIFError{Line: lines[1].n, Reason: "want changetype: modify"}
	}
	byAttr := map[string]int{}
	for i := 2; i < len(lines); {
		op, name, err := splitLDIFLine(lines[i])
		if err != nil {
			return Item{}, err
		}
		if op != "add" && op != "delete" {
			return Item{}, &LDIFError{Line: lines[i].n, Reason: fmt.Sprintf("operation %q: only add and delete with values are accepted", op)}
		}
		if !ValidAttrName(string(name)) {
			return Item{}, &LDIFError{Line: lines[i].n, Reason: fmt.Sprintf("bad attribute name %q", name)}
		}
		start := lines[i].n
		var values [][]byte
		for i++; ; i++ {
			if i == len(lines) {
				return Item{}, &LDIFError{Line: start, Reason: "operation not closed with -"}
			}
			if lines[i].text == "-" {
				i++
				break
			}
			a, v, err := splitLDIFLine(lines[i])
			if err != nil {
				return Item{}, err
			}
			if !strings.EqualFold(a, string(name)) {
				return Item{}, &LDIFError{Line: lines[i].n, Reason: fmt.Sprintf("value of %s inside the %s of %s", a, op, name)}
			}
			values = append(values, v)
		}
		if len(values) == 0 {
			return Item{}, &LDIFError{Line: start, Reason: op + " without values is not conditional"}
		}
		key := strings.ToLower(string(name))
		k, ok := byAttr[key]
		if !ok {
			k = len(it.Changes)
			byAttr[key] = k
			it.Changes = append(it.Changes, AttrChange{Attr: string(name)})
		}
		if op == "delete" {
			it.Changes[k].Old = append(it.Changes[k].Old, values...)
		} else {
			it.Changes[k].New = append(it.Changes[k].New, values...)
		}
	}
	if len(it.Changes) == 0 {
		return Item{}, &LDIFError{Line: lines[0].n, Reason: "no changes"}
	}
	return it, nil
}

// splitLDIFLine splits "attr: value" and "attr:: base64"; URL values ("attr:< url") are refused.
func splitLDIFLine(l ldifLine) (string, []byte, error) {
	attr, rest, ok := strings.Cut(l.text, ":")
	if !ok || attr == "" {
		return "", nil, &LDIFError{Line: l.n, Reason: "want attr: value"}
	}
	switch {
	case strings.HasPrefix(rest, ":"):
		v, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest[1:]))
		if err != nil {
			return "", nil, &LDIFError{Line: l.n, Reason: "bad base64 value of " + attr}
		}
		return attr, v, nil
	case strings.HasPrefix(rest, "<"):
		return "", nil, &LDIFError{Line: l.n, Reason: "URL values are not accepted"}
	}
	return attr, []byte(strings.TrimLeft(rest, " ")), nil
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
