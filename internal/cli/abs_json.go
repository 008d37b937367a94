package cli

import (
	"encoding/binary"
	"encoding/hex"
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
// type is user, contact, group or deleted (see contactTyper). attributes maps each attribute name
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
	b = append(b, `,"type":"`...)
	b = append(b, e.typer.typeOf(c)...)
	b = append(b, `","attributes":{`...)
	vs := groupedRecords(c.Values)
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
				b = append(hex.AppendEncode(append(b, '"'), []byte(v.Str)), '"')
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

// contactTyper names what a contact is, as abs.Summarize counts it: deleted (a delta's record
// without attributes), group (it has the group-marker attribute), user (it has a SIP address in
// msRTCSIP-PrimaryUserAddress) or contact (anything else, such as a mail contact, or a compact
// delta's record that does not carry the SIP address).
type contactTyper struct {
	group, sip       uint16
	hasGroup, hasSIP bool
}

func newContactTyper(t *abs.Table) contactTyper {
	var ct contactTyper
	if g, ok := t.Group(); ok {
		ct.group, ct.hasGroup = g.ID, true
	}
	if a, ok := t.ByName("msRTCSIP-PrimaryUserAddress"); ok {
		ct.sip, ct.hasSIP = a.ID, true
	}
	return ct
}

// typeOf names what c is.
func (ct contactTyper) typeOf(c *abs.Contact) string {
	if c.Deleted() {
		return "deleted"
	}
	user := false
	for i := range c.Values {
		v := &c.Values[i]
		if v.Kind == abs.ValueEmpty {
			continue
		}
		if ct.hasGroup && v.AttrID == ct.group {
			return "group"
		}
		user = user || (ct.hasSIP && v.AttrID == ct.sip)
	}
	if user {
		return "user"
	}
	return "contact"
}

// contactType is newContactTyper(t).typeOf(c), for a single contact.
func contactType(c *abs.Contact, t *abs.Table) string { return newContactTyper(t).typeOf(c) }

// groupedRecords returns vs with the records of each attribute adjacent, attributes in the order
// of first appearance. Files abkit reads already have them so (vs is returned as it is); should
// one not, they are gathered, so that an object never carries a name twice.
func groupedRecords(vs []abs.Value) []abs.Value {
	var seen [4]uint64 // record Ids are one byte: a 256-bit set of the runs met
	for i := 0; i < len(vs); i = runEnd(vs, i) {
		id := byte(vs[i].AttrID)
		if seen[id>>6]&(1<<(id&63)) != 0 {
			return regroup(vs)
		}
		seen[id>>6] |= 1 << (id & 63)
	}
	return vs
}

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

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as encoding/json does.
// s is copied first and checked where it landed, eight bytes at a time; only a string that needs
// escaping is redone byte by byte.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := len(b)
	b = append(b, s...)
	if plainJSON(b[start:]) {
		return append(b, '"')
	}
	return appendJSONStringSlow(b[:start-1], s)
}

// plainJSON reports whether p can stand in a JSON string as it is: valid UTF-8 without control
// characters, quotes or backslashes.
func plainJSON(p []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(p); i += 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		q, bs := x^(lo*'"'), x^(lo*'\\')
		// (v-lo)&^v&hi is non-zero exactly when a byte of v is zero; (x-lo*0x20)&^x&hi when a
		// byte of x is below 0x20. Any byte >= 0x80 sends the rest to the byte loop.
		if (x|(x-lo*0x20)&^x|(q-lo)&^q|(bs-lo)&^bs)&hi != 0 {
			break
		}
	}
	for i < len(p) {
		c := p[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			return false
		}
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		i += size
	}
	return true
}

// appendGUID appends g formatted as abs.GUID.String does, without allocating.
func appendGUID(b []byte, g abs.GUID) []byte {
	le := [16]byte{g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]}
	b = append(hex.AppendEncode(b, le[0:4]), '-')
	b = append(hex.AppendEncode(b, le[4:6]), '-')
	b = append(hex.AppendEncode(b, le[6:8]), '-')
	b = append(hex.AppendEncode(b, le[8:10]), '-')
	return hex.AppendEncode(b, le[10:16])
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
