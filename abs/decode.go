package abs

import (
	"fmt"
	"io"
	"strings"
)

// chunkSize is how much a window reads at a time.
const chunkSize = 1 << 20

// window is a sequential buffered view of a ReaderAt. Its data is an immutable string read in
// chunks, so decoded strings are substrings of it and cost no allocation of their own.
type window struct {
	r       io.ReaderAt
	size    int64
	data    string // bytes [base, base+len(data)) of the file
	base    int64
	pos     int // position in data
	scratch []byte
}

func newWindow(r io.ReaderAt, size, off int64) *window {
	return &window{r: r, size: size, base: off}
}

// off returns the file offset of the current position.
func (w *window) off() int64 { return w.base + int64(w.pos) }

// left returns the number of file bytes from the current position to the end.
func (w *window) left() int64 { return w.size - w.off() }

// need makes n bytes available at data[pos:], or returns a truncation error naming structure.
func (w *window) need(n int64, structure string) error {
	if int64(len(w.data)-w.pos) >= n {
		return nil
	}
	off := w.off()
	if n > w.size-off {
		return truncated(off, structure, n, w.size-off)
	}
	want := min(max(n, chunkSize), w.size-off)
	got, err := w.readAt(off, want, n)
	if int64(len(got)) < n {
		if err == nil || err == io.EOF {
			return truncated(off, structure, n, int64(len(got)))
		}
		return fmt.Errorf("abs: reading offset %d: %w", off, err)
	}
	w.data, w.base, w.pos = string(got), off, 0
	return nil
}

// readAt reads up to want bytes at off into the scratch buffer, stopping early at the end of the
// data once min bytes are there. Buffers grow only as data actually arrives, so a size larger
// than the real data does not cause a large allocation.
func (w *window) readAt(off, want, minimum int64) ([]byte, error) {
	const step = 8 << 20
	buf := w.scratch[:0]
	for int64(len(buf)) < want {
		n := min(want-int64(len(buf)), step)
		if int64(cap(buf)-len(buf)) < n {
			nb := make([]byte, len(buf), len(buf)+int(n))
			copy(nb, buf)
			buf = nb
		}
		k, err := w.r.ReadAt(buf[len(buf):len(buf)+int(n)], off+int64(len(buf)))
		buf = buf[:len(buf)+k]
		if err != nil || k == 0 {
			if int64(len(buf)) >= minimum {
				err = nil
			}
			if k == 0 && err == nil && int64(len(buf)) < minimum {
				err = io.ErrUnexpectedEOF
			}
			w.scratch = buf
			return buf, err
		}
	}
	w.scratch = buf
	return buf, nil
}

func (w *window) u16(at int) uint16 {
	b := w.data[w.pos+at:]
	return uint16(b[0]) | uint16(b[1])<<8
}

func (w *window) u32(at int) uint32 {
	b := w.data[w.pos+at:]
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// decoder turns ABF_CONTACT records into Contacts, allocating Contacts and Values from slabs.
type decoder struct {
	r        *Reader
	w        *window
	vals     []Value   // records of the contact being decoded
	valSlab  []Value   // free tail of the current Value slab
	contSlab []Contact // free tail of the current Contact slab
	seen     uint32    // seen* bits
}

const slabValues, slabContacts = 4096, 256

// next decodes the next contact; (nil, nil) at the end of the file.
func (d *decoder) next() (*Contact, error) {
	w := d.w
	if w.left() == 0 {
		return nil, nil
	}
	start := w.off()
	if err := w.need(contactLenSize, "ABF_CONTACT.Length"); err != nil {
		return nil, err
	}
	l := int64(w.u32(0))
	if l < contactFixedSize || l > w.left()-contactLenSize {
		return nil, &FormatError{Offset: start, Structure: "ABF_CONTACT.Length",
			Expected: fmt.Sprintf("%d to %d (ContactId, OuPathId and records up to the end of the file)", contactFixedSize, max(w.left()-contactLenSize, contactFixedSize)),
			Found:    fmt.Sprint(l), Err: errTruncatedIf(l > w.left()-contactLenSize)}
	}
	if err := w.need(contactLenSize+l, "ABF_CONTACT"); err != nil {
		return nil, err
	}
	rec := w.data[w.pos+contactLenSize : w.pos+contactLenSize+int(l)]
	w.pos += contactLenSize + int(l)
	d.seen |= seenContact

	if len(d.contSlab) == 0 {
		d.contSlab = make([]Contact, slabContacts)
	}
	c := &d.contSlab[0]
	d.contSlab = d.contSlab[1:]
	copy(c.ID[:], rec[:16])
	c.OuPathID = uint32(rec[16]) | uint32(rec[17])<<8 | uint32(rec[18])<<16 | uint32(rec[19])<<24
	c.Offset = start
	if err := d.records(rec[contactFixedSize:], start+contactLenSize+contactFixedSize); err != nil {
		return nil, err
	}
	if len(d.vals) == 0 {
		if d.r.Header.Kind == Full {
			return nil, &FormatError{Offset: start, Structure: "ABF_CONTACT", Expected: "attribute records (a full file has no deleted objects)", Found: "none (Length 20)"}
		}
		d.seen |= seenDeleted
		c.Values = nil
		return c, nil
	}
	n := len(d.vals)
	if len(d.valSlab) < n {
		d.valSlab = make([]Value, max(slabValues, n))
	}
	c.Values = d.valSlab[:n:n]
	d.valSlab = d.valSlab[n:]
	copy(c.Values, d.vals)
	return c, nil
}

func errTruncatedIf(b bool) error {
	if b {
		return ErrTruncated
	}
	return nil
}

// records decodes the ABF_CONTACT_ATTRIBUTE records in b, which starts at file offset base, into
// d.vals.
func (d *decoder) records(b string, base int64) error {
	d.vals = d.vals[:0]
	compact := d.r.Header.Kind == Compact
	info := &d.r.info
	var seenIDs [4]uint64 // record Id bytes met in this contact
	prev := -1            // record Id byte of the previous record
	var prevKind ValueKind
	for p := 0; p < len(b); {
		recOff := base + int64(p)
		idb := b[p]
		in := &info[idb]
		if !in.known {
			return &FormatError{Offset: recOff, Structure: "ABF_CONTACT_ATTRIBUTE.Id",
				Expected: "the low byte of an attribute Id in the table", Found: fmt.Sprintf("0x%02X", idb)}
		}
		p++
		v := Value{AttrID: in.id}
		switch {
		case in.typ.isString():
			k := strings.IndexByte(b[p:], 0)
			if k < 0 {
				return &FormatError{Offset: base + int64(p), Structure: "ABF_CONTACT_ATTRIBUTE string (" + d.r.table.Name(in.id) + ")",
					Expected: "a NUL-terminated string inside the contact's Length", Found: fmt.Sprintf("%d bytes without NUL", len(b)-p)}
			}
			v.Str = b[p : p+k]
			p += k + 1
			if k == 0 && compact {
				v.Kind = ValueEmpty
			}
		case in.typ == TypeBinary:
			d.seen |= seenBinary
			if len(b)-p < binaryLenSize {
				return d.valueErr(base+int64(p), in, "a u16 length", fmt.Sprintf("%d bytes left in the contact", len(b)-p))
			}
			n := int(b[p]) | int(b[p+1])<<8
			p += binaryLenSize
			if compact && n == binaryEmptyLen {
				v.Kind = ValueEmpty
				break
			}
			if n > len(b)-p {
				return d.valueErr(base+int64(p-binaryLenSize), in, fmt.Sprintf("a length of at most the %d bytes left in the contact", len(b)-p), fmt.Sprint(n))
			}
			v.Kind = ValueBinary
			v.Bin = []byte(b[p : p+n])
			p += n
		case in.typ == TypeBoolean:
			d.seen |= seenBoolean
			if p >= len(b) {
				return d.valueErr(base+int64(p), in, "one byte", "the end of the contact")
			}
			switch x := b[p]; {
			case x == boolFalse || x == boolTrue:
				v.Kind, v.Bool = ValueBoolean, x == boolTrue
			case x == boolEmpty && compact:
				v.Kind = ValueEmpty
			default:
				return d.valueErr(base+int64(p), in, "0 or 1", fmt.Sprintf("0x%02X", x))
			}
			p++
		default:
			return &UnsupportedError{Offset: recOff, Reason: fmt.Sprintf("attribute %s has value type %d, whose encoding is unknown", d.r.table.Name(in.id), in.typ)}
		}
		if v.Kind == ValueEmpty {
			d.seen |= seenEmpty
		}
		if int(idb) == prev {
			kind, problem := follow(in, prevKind, v)
			if problem != "" {
				return &FormatError{Offset: recOff, Structure: "ABF_CONTACT_ATTRIBUTE (" + d.r.table.Name(in.id) + ")",
					Expected: problem, Found: "another record with the same Id"}
			}
			if kind != ValueNormalized {
				d.seen |= seenMulti
			}
			v.Kind = kind
		} else {
			if seenIDs[idb>>6]&(1<<(idb&63)) != 0 {
				return &FormatError{Offset: recOff, Structure: "ABF_CONTACT_ATTRIBUTE (" + d.r.table.Name(in.id) + ")",
					Expected: "all records of an attribute adjacent", Found: "a record after other attributes' records"}
			}
			seenIDs[idb>>6] |= 1 << (idb & 63)
		}
		prev, prevKind = int(idb), v.Kind
		d.vals = append(d.vals, v)
	}
	return nil
}

func (d *decoder) valueErr(off int64, in *recInfo, expected, found string) error {
	return &FormatError{Offset: off, Structure: fmt.Sprintf("ABF_CONTACT_ATTRIBUTE %s (%s)", in.typ, d.r.table.Name(in.id)), Expected: expected, Found: found}
}

// follow classifies record v, decoded with its base kind (string, binary, boolean or empty), that
// comes right after a record of kind prev of the same attribute. It returns v's kind, or what the
// layout expects instead when v may not follow there.
func follow(in *recInfo, prev ValueKind, v Value) (ValueKind, string) {
	switch {
	case v.Kind == ValueEmpty || prev == ValueEmpty:
		return 0, "an empty attribute as the attribute's only record"
	case in.norm && prev == ValueString && isNormalizedCopy(in.multi, v.Str):
		return ValueNormalized, ""
	case in.multi:
		return v.Kind, ""
	}
	return 0, "one value (the attribute is single-valued) and its normalized copy at most"
}
