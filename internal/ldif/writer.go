package ldif

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// FoldWidth is the length at which Writer folds lines (RFC 2849 recommends at most 76).
const FoldWidth = 76

// Writer writes LDIF that Scanner reads back to the same records: values that are not safe
// strings are base64 (see safe), lines are folded at FoldWidth, every record ends with a blank
// line. Errors are sticky: after the first one every call returns it.
type Writer struct {
	w   *bufio.Writer
	buf []byte
	err error
}

// NewWriter returns a writer over w. Call Flush when done.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: bufio.NewWriterSize(w, 64<<10)}
}

// Header writes comment as "# " lines (none when it is empty) and "version: 1" followed by a
// blank line. Call it before any record, or not at all.
func (w *Writer) Header(comment string) error {
	b := w.buf[:0]
	if comment != "" {
		for _, l := range strings.Split(comment, "\n") {
			b = append(b, "# "...)
			b = append(b, strings.TrimRight(l, "\r")...)
			b = append(b, '\n')
		}
	}
	b = append(b, "version: 1\n\n"...)
	return w.put(b)
}

// WriteAttrs writes a content record: dn, then one line per attribute value in the given order.
func (w *Writer) WriteAttrs(dn string, attrs []Attr) error {
	b := appendLine(w.buf[:0], "dn", []byte(dn))
	for _, a := range attrs {
		if !validAttrName([]byte(a.Name)) {
			return w.fail(fmt.Errorf("ldif: record %s: bad attribute name %q", dn, a.Name))
		}
		b = appendLine(b, a.Name, a.Value)
	}
	return w.put(append(b, '\n'))
}

// WriteEntry writes e as a content record, its values from ByteValues.
func (w *Writer) WriteEntry(e *ldap.Entry) error {
	b := appendLine(w.buf[:0], "dn", []byte(e.DN))
	for _, a := range e.Attributes {
		if !validAttrName([]byte(a.Name)) {
			return w.fail(fmt.Errorf("ldif: entry %s: bad attribute name %q", e.DN, a.Name))
		}
		for _, v := range a.ByteValues {
			b = appendLine(b, a.Name, v)
		}
	}
	return w.put(append(b, '\n'))
}

// WriteModify writes m as a "changetype: modify" record: for each change its operation (add,
// delete, replace or increment), its values and "-". Controls are not written.
func (w *Writer) WriteModify(m *ldap.ModifyRequest) error {
	b := appendLine(w.buf[:0], "dn", []byte(m.DN))
	b = append(b, "changetype: modify\n"...)
	for _, c := range m.Changes {
		var op string
		switch c.Operation {
		case ldap.AddAttribute:
			op = "add"
		case ldap.DeleteAttribute:
			op = "delete"
		case ldap.ReplaceAttribute:
			op = "replace"
		case ldap.IncrementAttribute:
			op = "increment"
		default:
			return w.fail(fmt.Errorf("ldif: modify %s: unknown operation %d", m.DN, c.Operation))
		}
		name := c.Modification.Type
		if !validAttrName([]byte(name)) {
			return w.fail(fmt.Errorf("ldif: modify %s: bad attribute name %q", m.DN, name))
		}
		b = append(b, op...)
		b = append(b, ": "...)
		b = append(b, name...)
		b = append(b, '\n')
		for _, v := range c.Modification.Vals {
			b = appendLine(b, name, []byte(v))
		}
		b = append(b, "-\n"...)
	}
	return w.put(append(b, '\n'))
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.fail(w.w.Flush())
}

func (w *Writer) put(b []byte) error {
	w.buf = b
	if w.err != nil {
		return w.err
	}
	_, err := w.w.Write(b)
	return w.fail(err)
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return err
}

// appendLine appends the line "name: value" (or "name:: base64" when the value is not safe),
// folded at FoldWidth, and a newline. The caller checks that name is an attribute name.
func appendLine(b []byte, name string, v []byte) []byte {
	start := len(b)
	b = append(b, name...)
	if safe(v) {
		b = append(b, ": "...)
		b = append(b, v...)
	} else {
		b = append(b, ':', ':')
		if len(v) > 0 {
			b = append(b, ' ')
			b = base64.StdEncoding.AppendEncode(b, v)
		}
	}
	if len(b)-start > FoldWidth {
		b = fold(b, start)
	}
	return append(b, '\n')
}

// fold folds the line b[start:] into FoldWidth-byte pieces, in place: continuation lines start
// with one space. It folds on bytes, as RFC 2849 allows (plain values are ASCII).
func fold(b []byte, start int) []byte {
	n := len(b) - start
	extra := (n - 1) / (FoldWidth - 1) // upper bound of the continuation lines
	b = append(b, make([]byte, 2*extra)...)
	// Move the tail to the end, then lay out the pieces front to back.
	src := len(b) - n
	copy(b[src:], b[start:start+n])
	out := start + copy(b[start:], b[src:src+FoldWidth])
	for src += FoldWidth; src < len(b); {
		k := min(len(b)-src, FoldWidth-1)
		b[out], b[out+1] = '\n', ' '
		out += 2
		out += copy(b[out:], b[src:src+k])
		src += k
	}
	return b[:out]
}

// safe reports whether v is written as a plain value: not empty, printable ASCII only
// (0x20-0x7E), not starting with a space, ':' or '<', not ending with a space.
func safe(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case ' ', ':', '<':
		return false
	}
	if v[len(v)-1] == ' ' {
		return false
	}
	for _, c := range v {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
