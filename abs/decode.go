package abs

import (
	"fmt"
	"io"
	"math/bits"
	"strings"
)

// chunkSize is how much a window reads at a time.
const chunkSize = 256 << 10

// window is a sequential buffered view of a ReaderAt. Its data is an immutable string made of
// each chunk read, so decoded strings are substrings of it and cost no allocation or copy of
// their own.
type window struct {
	r     io.ReaderAt
	size  int64
	data  string // bytes [base, base+len(data)) of the file
	base  int64
	pos   int    // position in data
	chunk int64  // bytes to read at a time
	buf   []byte // read buffer, reused
}

func newWindow(r io.ReaderAt, size, off int64) *window {
	return &window{r: r, size: size, base: off, chunk: chunkSize}
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
	want := min(max(n, w.chunk), w.size-off)
	got, err := w.readAt(off, want, n)
	if int64(len(got)) < n {
		if err == nil || err == io.EOF {
			return truncated(off, structure, n, int64(len(got)))
		}
		return fmt.Errorf("abs: reading offset %d: %w", off, err)
	}
	// Converting copies into memory that is not zeroed first: cheaper than reading into a new,
	// zeroed buffer.
	w.data, w.base, w.pos, w.buf = string(got), off, 0, got
	return nil
}

// readAt reads up to want bytes at off into the window's buffer, stopping early at the end of the data
// once minimum bytes are there. The buffer grows only as data actually arrives, so a size larger
// than the real data does not cause a large allocation.
func (w *window) readAt(off, want, minimum int64) ([]byte, error) {
	const step = 8 << 20
	buf := w.buf[:0]
	if int64(cap(buf)) < min(want, step) {
		buf = make([]byte, 0, min(want, step))
	}
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
			return buf, err
		}
	}
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

// decoder turns ABF_CONTACT records into Contacts. Fresh contacts come from slabs (Contacts,
// Values and binary bytes), so decoding allocates a few large blocks rather than many small
// ones; with reuse set, one Contact and its Values are recycled for every record.
type decoder struct {
	r     *Reader
	w     *window
	reuse bool
	one   Contact
	vals  []Value // the current Value slab; the contact being decoded starts at vals[start]
	start int
	conts []Contact // free tail of the current Contact slab
	bins  []byte    // free tail of the current binary slab
	slab  int       // size of the next slabs: grows from small to slabMax
	seen  uint32    // seen* bits
}

const slabMin, slabMax = 16, 4096

func newDecoder(r *Reader, off int64, reuse bool) *decoder {
	return &decoder{r: r, w: newWindow(r.r, r.size, off), reuse: reuse, slab: slabMin}
}

// add appends a record to the contact being decoded and returns it, to be overwritten.
func (d *decoder) add() *Value {
	n := len(d.vals)
	if n == cap(d.vals) {
		c := n - d.start
		nv := make([]Value, c, max(d.slab, 2*c+8))
		copy(nv, d.vals[d.start:])
		d.vals, d.start = nv, 0
		d.slab = min(2*d.slab, slabMax)
		n = c
	}
	d.vals = d.vals[:n+1]
	return &d.vals[n]
}

// bytes returns a copy of s from the binary slab.
func (d *decoder) bytes(s string) []byte {
	if len(s) > len(d.bins) {
		d.bins = make([]byte, max(len(s), 16*d.slab))
	}
	b := d.bins[:len(s):len(s)]
	d.bins = d.bins[len(s):]
	copy(b, s)
	return b
}

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

	if d.reuse {
		d.vals, d.start = d.vals[:0], 0
	}
	if err := d.records(rec[contactFixedSize:], start+contactLenSize+contactFixedSize); err != nil {
		d.vals = d.vals[:d.start]
		return nil, err
	}
	var c *Contact
	if d.reuse {
		c = &d.one
	} else {
		if len(d.conts) == 0 {
			d.conts = make([]Contact, d.slab/16+1)
		}
		c = &d.conts[0]
		d.conts = d.conts[1:]
	}
	copy(c.ID[:], rec[:16])
	c.OuPathID = uint32(rec[16]) | uint32(rec[17])<<8 | uint32(rec[18])<<16 | uint32(rec[19])<<24
	c.Offset = start
	n := len(d.vals)
	c.Values = d.vals[d.start:n:n]
	d.start = n
	if len(c.Values) == 0 {
		c.Values = nil
		if d.r.Header.Kind == Full {
			return nil, &FormatError{Offset: start, Structure: "ABF_CONTACT", Expected: "attribute records (a full file has no deleted objects)", Found: "none (Length 20)"}
		}
		d.seen |= seenDeleted
	}
	return c, nil
}

func errTruncatedIf(b bool) error {
	if b {
		return ErrTruncated
	}
	return nil
}

// records decodes the ABF_CONTACT_ATTRIBUTE records in b, which starts at file offset base, into
// the records of the current contact.
func (d *decoder) records(b string, base int64) error {
	compact := d.r.Header.Kind == Compact
	info := &d.r.info
	var seenIDs [4]uint64 // record Id bytes met in this contact
	prev := -1            // record Id byte of the previous record
	var prevKind ValueKind
	for p := 0; p < len(b); {
		recOff := base + int64(p)
		idb := b[p]
		in := &info[idb]
		p++
		var (
			kind ValueKind // ValueString unless set
			str  string
			bin  []byte
			bv   bool
		)
		switch in.class {
		case classString:
			k := indexNUL(b[p:])
			if k < 0 {
				return &FormatError{Offset: base + int64(p), Structure: "ABF_CONTACT_ATTRIBUTE string (" + d.r.table.Name(in.id) + ")",
					Expected: "a NUL-terminated string inside the contact's Length", Found: fmt.Sprintf("%d bytes without NUL", len(b)-p)}
			}
			str = b[p : p+k]
			p += k + 1
			if k == 0 && compact {
				kind = ValueEmpty
			}
		case classBinary:
			d.seen |= seenBinary
			if len(b)-p < binaryLenSize {
				return d.valueErr(base+int64(p), in, "a u16 length", fmt.Sprintf("%d bytes left in the contact", len(b)-p))
			}
			n := int(b[p]) | int(b[p+1])<<8
			p += binaryLenSize
			if compact && n == binaryEmptyLen {
				kind = ValueEmpty
				break
			}
			if n > len(b)-p {
				return d.valueErr(base+int64(p-binaryLenSize), in, fmt.Sprintf("a length of at most the %d bytes left in the contact", len(b)-p), fmt.Sprint(n))
			}
			kind, bin = ValueBinary, d.bytes(b[p:p+n])
			p += n
		case classBoolean:
			d.seen |= seenBoolean
			if p >= len(b) {
				return d.valueErr(base+int64(p), in, "one byte", "the end of the contact")
			}
			switch x := b[p]; {
			case x == boolFalse || x == boolTrue:
				kind, bv = ValueBoolean, x == boolTrue
			case x == boolEmpty && compact:
				kind = ValueEmpty
			default:
				return d.valueErr(base+int64(p), in, "0 or 1", fmt.Sprintf("0x%02X", x))
			}
			p++
		case classNone:
			return &FormatError{Offset: recOff, Structure: "ABF_CONTACT_ATTRIBUTE.Id",
				Expected: "the low byte of an attribute Id in the table", Found: fmt.Sprintf("0x%02X", idb)}
		default:
			return &UnsupportedError{Offset: recOff, Reason: fmt.Sprintf("attribute %s has value type %d, whose encoding is unknown", d.r.table.Name(in.id), in.typ)}
		}
		if kind == ValueEmpty {
			d.seen |= seenEmpty
		}
		if int(idb) == prev {
			k, problem := follow(in, prevKind, kind, str)
			if problem != "" {
				return &FormatError{Offset: recOff, Structure: "ABF_CONTACT_ATTRIBUTE (" + d.r.table.Name(in.id) + ")",
					Expected: problem, Found: "another record with the same Id"}
			}
			if k != ValueNormalized {
				d.seen |= seenMulti
			}
			kind = k
		} else {
			if seenIDs[idb>>6]&(1<<(idb&63)) != 0 {
				return &FormatError{Offset: recOff, Structure: "ABF_CONTACT_ATTRIBUTE (" + d.r.table.Name(in.id) + ")",
					Expected: "all records of an attribute adjacent", Found: "a record after other attributes' records"}
			}
			seenIDs[idb>>6] |= 1 << (idb & 63)
		}
		*d.add() = Value{AttrID: in.id, Kind: kind, Bool: bv, Str: str, Bin: bin}
		prev, prevKind = int(idb), kind
	}
	return nil
}

func (d *decoder) valueErr(off int64, in *recInfo, expected, found string) error {
	return &FormatError{Offset: off, Structure: fmt.Sprintf("ABF_CONTACT_ATTRIBUTE %s (%s)", in.typ, d.r.table.Name(in.id)), Expected: expected, Found: found}
}

// follow classifies a record decoded with base kind kind (string, binary, boolean or empty) and
// string s that comes right after a record of kind prev of the same attribute. It returns the
// record's kind, or what the layout expects instead when the record may not follow there.
func follow(in *recInfo, prev, kind ValueKind, s string) (ValueKind, string) {
	switch {
	case kind == ValueEmpty || prev == ValueEmpty:
		return 0, "an empty attribute as the attribute's only record"
	case in.norm && prev == ValueString && isNormalizedCopy(in.multi, s):
		return ValueNormalized, ""
	case in.multi:
		return kind, ""
	}
	return 0, "one value (the attribute is single-valued) and its normalized copy at most"
}

// indexNUL returns the index of the first NUL in s, or -1. Most values are short, so it tests
// eight bytes at a time for the first 32 bytes (cheaper than strings.IndexByte's setup there).
func indexNUL(s string) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s) && i < 32; i += 8 {
		t := s[i : i+8]
		x := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		if z := (x - lo) &^ x & hi; z != 0 { // the lowest set bit marks the first zero byte
			return i + bits.TrailingZeros64(z)/8
		}
	}
	if i < 32 {
		for ; i < len(s); i++ {
			if s[i] == 0 {
				return i
			}
		}
		return -1
	}
	if k := strings.IndexByte(s[i:], 0); k >= 0 {
		return i + k
	}
	return -1
}
