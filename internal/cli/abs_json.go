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
//	 "type":"address book entry","attributes":{"givenName":["Ann"],"telephoneNumber":["555-533-4312"],
//	 "title":null},"normalized":{"telephoneNumber":{"555-533-4312":"tel:+5555334312"}}}
//
// type is "address book entry" (a user or a contact), group or deleted (abs.Class). attributes maps each attribute name
// (in record order) to its values: strings as they are, binary values in lower-case hex; an empty
// attribute of a compact delta is null. normalized, present when the
// contact has normalized phone values, maps attribute name to {raw value: normalized copy}.

// contactJSON encodes the contacts of one file.
type contactJSON struct {
	t     *abs.Table
	typer contactTyper
	// keys holds `"name":` per attribute, indexed by the low byte of the Id (what records store;
	// unique in a table), with the full Id in ids to check against.
	keys [256][]byte
	ids  [256]uint16
	norm []int // starts of the runs of the contact being encoded that hold normalized copies
}

func newContactJSON(t *abs.Table) *contactJSON {
	e := &contactJSON{t: t, typer: newContactTyper(t)}
	for _, a := range t.Attributes() {
		e.keys[byte(a.ID)] = append(appendJSONString(nil, a.Name), ':')
		e.ids[byte(a.ID)] = a.ID
	}
	return e
}

// appendKey appends `"name":` for attribute id.
func (e *contactJSON) appendKey(b []byte, id uint16) []byte {
	if k := e.keys[byte(id)]; k != nil && e.ids[byte(id)] == id {
		return append(b, k...)
	}
	return append(appendJSONString(b, e.t.Name(id)), ':')
}

// append appends c as one JSON object.
func (e *contactJSON) append(b []byte, c *abs.Contact) []byte {
	b = append(b, `{"contact_id":"`...)
	b = appendGUID(b, c.ID)
	b = append(b, `","ou_path_id":`...)
	b = strconv.AppendUint(b, uint64(c.OuPathID), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, c.Offset, 10)
	typ, adjacent := e.typer.scan(c.Values)
	b = append(b, `,"type":"`...)
	b = append(b, typ...)
	b = append(b, `","attributes":{`...)
	vs := c.Values
	if !adjacent { // never so in a decoded file: the decoder refuses it
		vs = regroup(vs)
	}
	e.norm = e.norm[:0]
	for i, j := 0, 0; i < len(vs); i = j {
		j = runEnd(vs, i)
		if i > 0 {
			b = append(b, ',')
		}
		b = e.appendKey(b, vs[i].AttrID)
		if j == i+1 && vs[i].Kind == abs.ValueEmpty {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		n := 0
		for k := i; k < j; k++ {
			v := &vs[k]
			if v.Kind == abs.ValueNormalized {
				if len(e.norm) == 0 || e.norm[len(e.norm)-1] != i {
					e.norm = append(e.norm, i)
				}
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			switch v.Kind {
			case abs.ValueBinary:
				b = append(appendHex(append(b, '"'), v.Str), '"')
			case abs.ValueEmpty:
				b = append(b, "null"...)
			default:
				b = appendJSONString(b, v.Str)
			}
		}
		b = append(b, ']')
	}
	b = append(b, '}')
	if len(e.norm) > 0 {
		b = append(e.appendNormalized(append(b, `,"normalized":{`...), vs), '}')
	}
	return append(b, '}')
}

// appendNormalized appends the "normalized" members for the runs of vs listed in e.norm:
// `"name":{"raw":"normalized",...}`.
func (e *contactJSON) appendNormalized(b []byte, vs []abs.Value) []byte {
	for r, i := range e.norm {
		if r > 0 {
			b = append(b, ',')
		}
		b = append(e.appendKey(b, vs[i].AttrID), '{')
		n := 0
		for k := i + 1; k < len(vs) && vs[k].AttrID == vs[i].AttrID; k++ {
			if vs[k].Kind != abs.ValueNormalized {
				continue
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(appendJSONString(b, vs[k-1].Str), ':')
			b = appendJSONString(b, vs[k].Str)
		}
		b = append(b, '}')
	}
	return b
}

// runEnd returns the end of the run of records of one attribute that starts at i.
func runEnd(vs []abs.Value, i int) int {
	j := i + 1
	for j < len(vs) && vs[j].AttrID == vs[i].AttrID {
		j++
	}
	return j
}

// contactTyper names what a contact is: abs.Classifier's class.
type contactTyper struct{ abs.Classifier }

func newContactTyper(t *abs.Table) contactTyper { return contactTyper{abs.NewClassifier(t)} }

// typeOf names what c is.
func (ct contactTyper) typeOf(c *abs.Contact) string { return string(ct.Class(c)) }

// scan names what a contact of records vs is (typeOf, abs.Classifier's class) and reports
// whether the records of each attribute are adjacent in vs, in one pass.
func (ct contactTyper) scan(vs []abs.Value) (typ string, adjacent bool) {
	if len(vs) == 0 {
		return string(abs.ClassDeleted), true
	}
	group, adjacent := false, true
	var seen [4]uint64 // record Ids are one byte: a 256-bit set of the runs met
	prev := -1
	for i := range vs {
		v := &vs[i]
		if int(v.AttrID) != prev {
			id := byte(v.AttrID)
			adjacent = adjacent && seen[id>>6]&(1<<(id&63)) == 0
			seen[id>>6] |= 1 << (id & 63)
			prev = int(v.AttrID)
		}
		group = group || ct.GroupMarker(v)
	}
	if group {
		return string(abs.ClassGroup), adjacent
	}
	return string(abs.ClassEntry), adjacent
}

// contactType is newContactTyper(t).typeOf(c), for a single contact.
func contactType(c *abs.Contact, t *abs.Table) string { return newContactTyper(t).typeOf(c) }

// regroup returns vs with the records of each attribute adjacent, attributes in the order of
// first appearance, so that an object never carries a name twice.
func regroup(vs []abs.Value) []abs.Value {
	out := make([]abs.Value, 0, len(vs))
	done := make(map[uint16]bool)
	for _, v := range vs {
		if done[v.AttrID] {
			continue
		}
		done[v.AttrID] = true
		for _, w := range vs {
			if w.AttrID == v.AttrID {
				out = append(out, w)
			}
		}
	}
	return out
}

// appendJSONString appends s as a JSON string, byte for byte as encoding/json writes it with
// SetEscapeHTML(false) (the setting of every JSON abkit writes): '"' and '\\' escaped with a
// backslash, as are \b \f \n \r \t; the other control characters as \u00XX; U+2028 and U+2029 as
// \u2028 and \u2029; each byte of invalid UTF-8 as \ufffd; everything else (DEL, <, >, & included)
// as it is. A string of printable ASCII without '"' or '\\', nearly every value of an address
// book, is checked eight bytes at a time and appended as it is.
func appendJSONString(b []byte, s string) []byte {
	if plainJSON(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return appendJSONStringSlow(b, s)
}

// plainJSON reports whether s is printable ASCII without '"' or '\\' (bytes 0x20 to 0x7F but
// 0x22 and 0x5C), which a JSON string holds as they are. It tests eight bytes at a time, the last
// eight overlapping the others; shorter strings are packed into one word.
func plainJSON(s string) bool {
	n := len(s)
	switch {
	case n >= 8:
		for i := 0; i < n-8; i += 8 {
			if !plain8(load64(s[i : i+8])) {
				return false
			}
		}
		return plain8(load64(s[n-8:]))
	case n >= 4:
		return plain8(uint64(load32(s[:4])) | uint64(load32(s[n-4:]))<<32)
	case n > 0:
		// Bytes 0, n/2 and n-1 are all the bytes of s; the other five are a plain 'a'.
		return plain8(uint64(s[0]) | uint64(s[n>>1])<<8 | uint64(s[n-1])<<16 | 0x6161616161<<24)
	}
	return true
}

// plain8 reports whether none of the eight bytes of x is below 0x20, '"', '\\' or above 0x7F.
// (v-lo)&^v&hi is non-zero exactly when a byte of v is zero, (x-lo*0x20)&^x&hi when a byte of x is
// below 0x20 (a borrow only follows a byte that is found): the tests are exact.
func plain8(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q, bs := x^(lo*'"'), x^(lo*'\\')
	return (x|(x-lo*0x20)&^x|(q-lo)&^q|(bs-lo)&^bs)&hi == 0
}

// load64 returns the first eight bytes of s, little-endian (the compiler makes it one load).
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// load32 returns the first four bytes of s, little-endian.
func load32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

// jsonEscape gives, for each byte below utf8.RuneSelf that a JSON string may not hold as it is,
// the letter of its escape: \" \\ \b \f \n \r \t, or 'u' for \u00XX. Plain bytes and bytes from
// utf8.RuneSelf up are 0.
var jsonEscape = func() (t [256]byte) {
	for c := range 0x20 {
		t[c] = 'u'
	}
	t['"'], t['\\'], t['\b'], t['\f'], t['\n'], t['\r'], t['\t'] = '"', '\\', 'b', 'f', 'n', 'r', 't'
	return t
}()

// appendJSONStringSlow is appendJSONString for a string that needs escaping or is not ASCII: it
// copies the runs between escapes as they are.
func appendJSONStringSlow(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			esc := jsonEscape[c]
			if esc == 0 {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			if esc == 'u' {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			} else {
				b = append(b, '\\', esc)
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendGUID appends g formatted as abs.GUID.String does, without allocating.
func appendGUID(b []byte, g abs.GUID) []byte {
	for i, k := range [16]uint8{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15} {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		h := hexPairs[g[k]]
		b = append(b, h[0], h[1])
	}
	return b
}

// appendHex appends the bytes of s in lower-case hex.
func appendHex(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		h := hexPairs[s[i]]
		b = append(b, h[0], h[1])
	}
	return b
}

const hexDigits = "0123456789abcdef"

// hexPairs holds the two hex digits of every byte.
var hexPairs = func() (t [256][2]byte) {
	for c := range t {
		t[c] = [2]byte{hexDigits[c>>4], hexDigits[c&0xF]}
	}
	return t
}()
