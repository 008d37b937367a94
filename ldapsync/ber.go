package ldapsync

import (
	"errors"
	"fmt"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// A small, allocation-light BER reader for the three search responses (RFC 4511 4.5.2):
// SearchResultEntry, SearchResultReference and SearchResultDone. It never reads past its input
// and refuses what it does not understand; values alias the message buffer.

var errBER = errors.New("malformed BER in LDAP response")

// tlv splits the first element of b: its identifier byte, its content and what follows.
func tlv(b []byte) (tag byte, content, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errBER
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, errBER // multi-byte tags do not occur in LDAP
	}
	n, i := int(b[1]), 2
	if b[1]&0x80 != 0 {
		k := int(b[1] & 0x7f)
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, errBER
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		i = 2 + k
	}
	if n < 0 || n > len(b)-i {
		return 0, nil, nil, errBER
	}
	return tag, b[i : i+n], b[i+n:], nil
}

// berInt decodes a two's-complement INTEGER or ENUMERATED content of at most 8 bytes.
func berInt(c []byte) (int64, error) {
	if len(c) == 0 || len(c) > 8 {
		return 0, errBER
	}
	v := int64(int8(c[0]))
	for _, x := range c[1:] {
		v = v<<8 | int64(x)
	}
	return v, nil
}

// messageID returns the message ID of an LDAP message.
func messageID(msg []byte) (int64, error) {
	_, body, _, err := tlv(msg)
	if err != nil {
		return 0, err
	}
	tag, c, _, err := tlv(body)
	if err != nil || tag != 0x02 {
		return 0, errBER
	}
	return berInt(c)
}

// isSearchDone reports whether msg is a SearchResultDone (the last message of a search).
func isSearchDone(msg []byte) bool {
	_, body, _, err := tlv(msg)
	if err != nil {
		return false
	}
	if _, _, body, err = tlv(body); err != nil || len(body) == 0 {
		return false
	}
	return body[0] == 0x65
}

// searchResponse is one decoded search response message.
type searchResponse struct {
	entry     *ldap.Entry // SearchResultEntry
	referrals []string    // SearchResultReference, or the referral of a SearchResultDone
	done      bool        // SearchResultDone
	code      uint16
	diag      string
	cookie    []byte // paged results cookie of a SearchResultDone
}

// decodeSearchResponse decodes an LDAP message carrying a search response.
func decodeSearchResponse(msg []byte) (*searchResponse, error) {
	_, body, _, err := tlv(msg)
	if err != nil {
		return nil, err
	}
	_, _, body, err = tlv(body) // message ID
	if err != nil {
		return nil, err
	}
	tag, op, controls, err := tlv(body)
	if err != nil {
		return nil, err
	}
	switch tag {
	case 0x64: // [APPLICATION 4] SearchResultEntry
		e, err := decodeEntry(op)
		return &searchResponse{entry: e}, err
	case 0x73: // [APPLICATION 19] SearchResultReference
		refs, err := stringSeq(op)
		return &searchResponse{referrals: refs}, err
	case 0x65: // [APPLICATION 5] SearchResultDone
		return decodeDone(op, controls)
	}
	return nil, fmt.Errorf("unexpected LDAP response (tag 0x%02x) to a search", tag)
}

func decodeEntry(op []byte) (*ldap.Entry, error) {
	tag, dn, rest, err := tlv(op)
	if err != nil || tag != 0x04 {
		return nil, errBER
	}
	tag, attrs, _, err := tlv(rest)
	if err != nil || tag != 0x30 {
		return nil, errBER
	}
	// One string for the whole entry; Values are slices of it (one copy instead of one per value).
	text := string(op)
	str := func(b []byte) string {
		off := cap(op) - cap(b) // b lies within op
		return text[off : off+len(b)]
	}
	n, err := countElements(attrs)
	if err != nil {
		return nil, err
	}
	// One allocation for all attributes, and one per attribute for its values.
	store := make([]ldap.EntryAttribute, n)
	e := &ldap.Entry{DN: str(dn), Attributes: make([]*ldap.EntryAttribute, n)}
	for i := range store {
		var pa []byte
		if tag, pa, attrs, err = tlv(attrs); err != nil || tag != 0x30 {
			return nil, errBER
		}
		tag, name, vals, err := tlv(pa)
		if err != nil || tag != 0x04 {
			return nil, errBER
		}
		if tag, vals, _, err = tlv(vals); err != nil || tag != 0x31 {
			return nil, errBER
		}
		nv, err := countElements(vals)
		if err != nil {
			return nil, err
		}
		a := &store[i]
		a.Name = str(name)
		a.ByteValues = make([][]byte, nv)
		a.Values = make([]string, nv)
		for j := range nv {
			var v []byte
			if tag, v, vals, err = tlv(vals); err != nil || tag != 0x04 {
				return nil, errBER
			}
			a.ByteValues[j] = v
			a.Values[j] = str(v)
		}
		e.Attributes[i] = a
	}
	return e, nil
}

// countElements returns the number of elements in a constructed content.
func countElements(c []byte) (int, error) {
	n := 0
	for len(c) > 0 {
		_, _, rest, err := tlv(c)
		if err != nil {
			return 0, err
		}
		c = rest
		n++
	}
	return n, nil
}

// stringSeq decodes a SEQUENCE OF OCTET STRING content (URIs of referrals).
func stringSeq(c []byte) ([]string, error) {
	var out []string
	for len(c) > 0 {
		tag, v, rest, err := tlv(c)
		if err != nil || tag != 0x04 {
			return nil, errBER
		}
		out = append(out, string(v))
		c = rest
	}
	return out, nil
}

func decodeDone(op, controls []byte) (*searchResponse, error) {
	r := &searchResponse{done: true}
	tag, c, rest, err := tlv(op)
	if err != nil || tag != 0x0a {
		return nil, errBER
	}
	code, err := berInt(c)
	if err != nil || code < 0 || code > 0xffff {
		return nil, errBER
	}
	r.code = uint16(code)
	if _, _, rest, err = tlv(rest); err != nil { // matchedDN
		return nil, err
	}
	if tag, c, rest, err = tlv(rest); err != nil || tag != 0x04 {
		return nil, errBER
	}
	r.diag = string(c)
	if len(rest) > 0 {
		if tag, c, _, err = tlv(rest); err == nil && tag == 0xa3 { // [3] referral
			if r.referrals, err = stringSeq(c); err != nil {
				return nil, err
			}
		}
	}
	if len(controls) == 0 {
		return r, nil
	}
	if tag, controls, _, err = tlv(controls); err != nil || tag != 0xa0 {
		return nil, errBER
	}
	for len(controls) > 0 {
		var ctl []byte
		if tag, ctl, controls, err = tlv(controls); err != nil || tag != 0x30 {
			return nil, errBER
		}
		tag, oid, rest, err := tlv(ctl)
		if err != nil || tag != 0x04 {
			return nil, errBER
		}
		if string(oid) != ControlPagedResults {
			continue
		}
		for len(rest) > 0 {
			if tag, c, rest, err = tlv(rest); err != nil {
				return nil, err
			}
			if tag != 0x04 { // the optional criticality BOOLEAN
				continue
			}
			// controlValue: SEQUENCE { size INTEGER, cookie OCTET STRING }
			_, seq, _, err := tlv(c)
			if err != nil {
				return nil, err
			}
			_, _, seq, err = tlv(seq)
			if err != nil {
				return nil, err
			}
			if tag, r.cookie, _, err = tlv(seq); err != nil || tag != 0x04 {
				return nil, errBER
			}
		}
	}
	return r, nil
}

// encodeSearch encodes a paged subtree search request as a complete LDAP message.
func encodeSearch(id int64, base, filter string, attrs []string, sizeLimit, timeLimit int, pageSize uint32, cookie []byte) ([]byte, error) {
	f, err := ldap.CompileFilter(filter)
	if err != nil {
		return nil, err
	}
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchRequest, nil, "Search Request")
	req.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, base, "Base DN"))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(ldap.ScopeWholeSubtree), "Scope"))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(ldap.NeverDerefAliases), "Deref Aliases"))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(sizeLimit), "Size Limit"))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(timeLimit), "Time Limit"))
	req.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, "Types Only"))
	req.AppendChild(f)
	as := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes")
	for _, a := range attrs {
		as.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "Attribute"))
	}
	req.AppendChild(as)
	paging := ldap.NewControlPaging(pageSize)
	paging.SetCookie(cookie)
	ctls := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
	ctls.AppendChild(paging.Encode())
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "MessageID"))
	env.AppendChild(req)
	env.AppendChild(ctls)
	return env.Bytes(), nil
}
