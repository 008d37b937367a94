package cli

import (
	"strconv"
	"unicode/utf8"

	"github.com/abkit/abkit/abs"
)

// Hand-written JSON for `abs dump -o json`: one contact at a time appended to a reused buffer, so
// that a 200,000-contact file streams at disk speed without reflection or per-value allocation.
//
// One contact:
//
//	{"contact_id":"96bd221f-8492-4450-abb2-2bd6828db27a","ou_path_id":209,"offset":2712,
//	 "type":"user","attributes":{"givenName":["Ann"],"telephoneNumber":["555-533-4312"],
//	 "title":null},"normalized":{"telephoneNumber":{"555-533-4312":"tel:+5555334312"}}}
//
// type is user, group or deleted. attributes maps each attribute name (in record order) to its
// values: strings as they are, binary values in lower-case hex, booleans as true/false; an empty
// attribute of a compact delta is null. normalized, present when the contact has normalized phone
// values, maps attribute name to {raw value: normalized copy}.

// contactJSON encodes the contacts of one file.
type contactJSON struct {
	t    *abs.Table
	keys map[uint16][]byte // attribute Id -> its name as a JSON string
}

func newContactJSON(t *abs.Table) *contactJSON {
	e := &contactJSON{t: t, keys: make(map[uint16][]byte, t.Len())}
	for _, a := range t.Attributes() {
		e.keys[a.ID] = appendJSONString(nil, a.Name)
	}
	return e
}

// appendKey appends the JSON name of attribute id.
func (e *contactJSON) appendKey(b []byte, id uint16) []byte {
	if k, ok := e.keys[id]; ok {
		return append(b, k...)
	}
	return appendJSONString(b, e.t.Name(id))
}

// append appends c as one JSON object.
func (e *contactJSON) append(b []byte, c *abs.Contact) []byte {
	t := e.t
	b = append(b, `{"contact_id":"`...)
	b = append(b, c.ID.String()...)
	b = append(b, `","ou_path_id":`...)
	b = strconv.AppendUint(b, uint64(c.OuPathID), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, c.Offset, 10)
	b = append(b, `,"type":"`...)
	b = append(b, contactType(c, t)...)
	b = append(b, `","attributes":{`...)
	hasNormalized := false
	forEachAttr(c, func(id uint16, vals []abs.Value) {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = e.appendKey(b, id)
		b = append(b, ':')
		if len(vals) == 1 && vals[0].Kind == abs.ValueEmpty {
			b = append(b, "null"...)
			return
		}
		b = append(b, '[')
		n := 0
		for _, v := range vals {
			switch v.Kind {
			case abs.ValueNormalized:
				hasNormalized = true
				continue
			case abs.ValueBoolean:
				b = appendSep(b, n)
				b = strconv.AppendBool(b, v.Bool)
			case abs.ValueEmpty:
				b = appendSep(b, n)
				b = append(b, "null"...)
			default:
				b = appendSep(b, n)
				b = appendJSONString(b, v.Text())
			}
			n++
		}
		b = append(b, ']')
	})
	b = append(b, '}')
	if hasNormalized {
		b = append(b, `,"normalized":{`...)
		forEachAttr(c, func(id uint16, vals []abs.Value) {
			n := 0
			for i, v := range vals {
				if v.Kind != abs.ValueNormalized || i == 0 {
					continue
				}
				if n == 0 {
					if b[len(b)-1] != '{' {
						b = append(b, ',')
					}
					b = e.appendKey(b, id)
					b = append(b, ":{"...)
				}
				b = appendSep(b, n)
				b = appendJSONString(b, vals[i-1].Str)
				b = append(b, ':')
				b = appendJSONString(b, v.Str)
				n++
			}
			if n > 0 {
				b = append(b, '}')
			}
		})
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendSep(b []byte, n int) []byte {
	if n > 0 {
		return append(b, ',')
	}
	return b
}

// contactType names what c is: deleted, group or user (users and mail contacts alike).
func contactType(c *abs.Contact, t *abs.Table) string {
	switch {
	case c.Deleted():
		return "deleted"
	case c.IsGroup(t):
		return "group"
	}
	return "user"
}

// forEachAttr calls fn once per attribute of c, in the order of first appearance, with all of the
// attribute's records. Records of one attribute are adjacent in files abkit reads; should they not
// be, they are gathered here all the same, so that an object never carries a name twice.
func forEachAttr(c *abs.Contact, fn func(id uint16, vals []abs.Value)) {
	vs := c.Values
	// Record Ids are one byte in the file: a 256-bit set finds a run that is not the first.
	var seen [4]uint64
	adjacent := true
	for i, v := range vs {
		if i > 0 && vs[i-1].AttrID == v.AttrID {
			continue
		}
		bit, word := uint64(1)<<(byte(v.AttrID)&63), byte(v.AttrID)>>6
		if seen[word]&bit != 0 {
			adjacent = false
			break
		}
		seen[word] |= bit
	}
	for i := 0; i < len(vs); {
		id := vs[i].AttrID
		j := i + 1
		for j < len(vs) && vs[j].AttrID == id {
			j++
		}
		switch {
		case adjacent:
			fn(id, vs[i:j])
		case !hasAttr(vs[:i], id):
			all := make([]abs.Value, 0, j-i+1)
			for _, v := range vs[i:] {
				if v.AttrID == id {
					all = append(all, v)
				}
			}
			fn(id, all)
		}
		i = j
	}
}

// hasAttr reports whether vs holds a record of attribute id.
func hasAttr(vs []abs.Value, id uint16) bool {
	for _, v := range vs {
		if v.AttrID == id {
			return true
		}
	}
	return false
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		return appendJSONStringSlow(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// jsonPlain marks the ASCII bytes a JSON string holds as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONStringSlow escapes s byte by byte.
func appendJSONStringSlow(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, `\u00`...)
			b = append(b, hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"
