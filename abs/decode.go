package abs

import (
	"fmt"
	"io"
	"strings"
	"unsafe"
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
	// transient: data is buf itself, not a copy, so that strings decoded from one chunk are
	// overwritten by the next (Reader.ContactsTransient).
	transient bool
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
	w.base, w.pos, w.buf = off, 0, got
	if w.transient {
		w.data = unsafe.String(unsafe.SliceData(got), len(got))
		return nil
	}
	// Converting copies into memory that is not zeroed first: cheaper than reading into a new,
	// zeroed buffer.
	w.data = string(got)
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

// decoder turns ABF_CONTACT records into Contacts. Fresh contacts come from slabs (Contacts and
// Values), so decoding allocates a few large blocks rather than many small ones; with reuse set,
// one Contact and its Values are recycled for every record. Values of every kind point into the
// window's data.
type decoder struct {
	r     *Reader
	w     *window
	reuse bool
	one   Contact
	vals  []Value // the current Value slab; the contact being decoded starts at vals[start]
	start int
	conts []Contact // free tail of the current Contact slab
	slab  int       // size of the next slabs: grows from small to slabMax
	seen  uint32    // seen* bits
	count int       // contacts decoded (for cancellation checks)

	end     int64    // where the contact records end: the trailer candidate, else the file's end
	walk    bool     // decoding from the first contact: reaching the end settles the trailer
	single  bool     // ReadContactAt: one record, no trailer decision
	trailer *Trailer // set by finish
}

const slabMin, slabMax = 16, 4096

// newDecoder starts decoding contact records at off. From the first contact it walks the records
// up to the trailer, settling whether the file has one; from elsewhere it reads to the file's end.
func newDecoder(r *Reader, off int64, reuse bool) *decoder {
	d := &decoder{r: r, w: newWindow(r.r, r.size, off), reuse: reuse, slab: slabMin, end: r.size}
	if off == r.Layout.ContactsOffset && r.trailerAt >= 0 {
		d.end, d.walk = r.trailerAt, true
	} else if off == r.Layout.ContactsOffset {
		d.walk = true
	}
	return d
}

// add appends a record to the contact being decoded and returns it, to be overwritten.
func (d *decoder) add() *Value {
	if len(d.vals) == cap(d.vals) {
		d.grow()
	}
	n := len(d.vals)
	d.vals = d.vals[:n+1]
	return &d.vals[n]
}

// grow moves the contact being decoded to a new Value slab with room for more records.
func (d *decoder) grow() {
	c := len(d.vals) - d.start
	nv := make([]Value, c, max(d.slab, 2*c+8))
	copy(nv, d.vals[d.start:])
	d.vals, d.start = nv, 0
	d.slab = min(2*d.slab, slabMax)
}

// next decodes the next contact; (nil, nil) at the end of the contact records.
func (d *decoder) next() (*Contact, error) {
	w := d.w
	for w.off() >= d.end {
		if d.end == d.r.size || d.single {
			d.finish(false)
			return nil, nil
		}
		// A record ends where LengthOfTrailer puts the trailer: the records end here unless the
		// rest of the file is itself whole contact records (see trailerRule).
		if !d.r.tailIsContacts(d.end) {
			d.finish(true)
			return nil, nil
		}
		d.end = d.r.size
	}
	start := w.off()
	if err := w.need(contactLenSize, "ABF_CONTACT.Length"); err != nil {
		return nil, err
	}
	l := int64(w.u32(0))
	if start+contactLenSize+l > d.end && d.end < d.r.size && l >= contactFixedSize && start+contactLenSize+l <= d.r.size {
		d.end = d.r.size // the record runs past the trailer candidate: the file has no trailer
	}
	if l < contactFixedSize || start+contactLenSize+l > d.end {
		left := d.r.size - start - contactLenSize
		return nil, &FormatError{Offset: start, Structure: "ABF_CONTACT.Length",
			Expected: fmt.Sprintf("%d to %d (ContactId, OuPathId and records up to the end of the file)", contactFixedSize, max(left, contactFixedSize)),
			Found:    fmt.Sprint(l), Err: errTruncatedIf(l > left)}
	}
	d.count++
	if d.count&0xFF == 0 && d.r.ctx != nil {
		if err := d.r.ctx.Err(); err != nil {
			return nil, err
		}
	}
	if int64(len(w.data)-w.pos) < contactLenSize+l && contactLenSize+l > w.chunk {
		return d.large(start, l)
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
	st := recState{prev: -1}
	if _, err := d.records(rec[contactFixedSize:], start+contactLenSize+contactFixedSize, &st, true); err != nil {
		d.vals = d.vals[:d.start]
		return nil, err
	}
	return d.contact(start, rec[:contactFixedSize])
}

// large decodes a contact record of l bytes at start that is larger than the window: its records
// are decoded chunk by chunk, so that memory follows the values kept, not the claimed Length.
func (d *decoder) large(start, l int64) (*Contact, error) {
	w := d.w
	end := start + contactLenSize + l
	if err := w.need(contactLenSize+contactFixedSize, "ABF_CONTACT"); err != nil {
		return nil, err
	}
	fixed := w.data[w.pos+contactLenSize : w.pos+contactLenSize+contactFixedSize]
	w.pos += contactLenSize + contactFixedSize
	if w.transient {
		// The values of this contact are read over several chunks: those chunks must not
		// overwrite one another, nor the buffer fixed points into.
		w.transient, w.buf = false, nil
		defer func() { w.transient = true }()
	}
	d.seen |= seenContact
	if d.reuse {
		d.vals, d.start = d.vals[:0], 0
	}
	st := recState{prev: -1}
	for w.off() < end {
		if d.r.ctx != nil {
			if err := d.r.ctx.Err(); err != nil {
				d.vals = d.vals[:d.start]
				return nil, err
			}
		}
		avail := min(int64(len(w.data)-w.pos), end-w.off())
		n, err := d.records(w.data[w.pos:w.pos+int(avail)], w.off(), &st, w.off()+avail == end)
		if err != nil {
			d.vals = d.vals[:d.start]
			return nil, err
		}
		w.pos += n
		rest := avail - int64(n) // an incomplete record, or nothing
		if rest > maxRecordSize {
			d.vals = d.vals[:d.start]
			a := &d.r.info[w.data[w.pos]]
			return nil, &UnsupportedError{Offset: w.off(), Reason: fmt.Sprintf(
				"a value of %s longer than %d bytes (abkit's limit for one value)", d.r.table.Name(a.id), MaxValueSize)}
		}
		if w.off() < end {
			if err := w.need(min(end-w.off(), max(2*rest, w.chunk)), "ABF_CONTACT"); err != nil {
				d.vals = d.vals[:d.start]
				return nil, err
			}
		}
	}
	return d.contact(start, fixed)
}

// contact completes the contact whose records were just decoded; fixed holds its ContactId and
// OuPathId.
func (d *decoder) contact(start int64, fixed string) (*Contact, error) {
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
	copy(c.ID[:], fixed[:16])
	c.OuPathID = uint32(fixed[16]) | uint32(fixed[17])<<8 | uint32(fixed[18])<<16 | uint32(fixed[19])<<24
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

// finish records, for a decoder that walked the contact records from their start to their end,
// whether the file has a trailer.
func (d *decoder) finish(present bool) {
	if !d.walk {
		return
	}
	t := Trailer{Present: present, Offset: d.r.size}
	if present {
		t.Offset, t.Length = d.end, uint32(d.r.size-contactLenSize-d.end)
	}
	d.trailer = &t
	d.r.setTrailer(t)
}

func errTruncatedIf(b bool) error {
	if b {
		return ErrTruncated
	}
	return nil
}

// recState is what decoding a contact's records carries from one record to the next.
type recState struct {
	seenIDs  [4]uint64 // record Id bytes met in this contact
	prev     int       // record Id byte of the previous record, -1 before the first
	prevKind ValueKind
	n        int // records so far
}

// records decodes the ABF_CONTACT_ATTRIBUTE records in b, which starts at file offset base, into
// the records of the current contact, and returns the bytes consumed. When final is false, b may
// end inside a record: decoding stops before it. String records, nearly all of a file, take the
// short path through the loop; other values and every error are handled out of line.
func (d *decoder) records(b string, base int64, st *recState, final bool) (int, error) {
	compact := d.r.Header.Kind == Compact
	info := &d.r.info
	seenIDs, prev, prevKind := st.seenIDs, st.prev, st.prevKind
	p := 0
	for p < len(b) {
		r := p // start of the record
		idb := b[p]
		in := &info[idb]
		var (
			kind ValueKind // ValueString unless set
			str  string
		)
		if in.class == classString {
			k := strings.IndexByte(b[p+1:], 0)
			if k < 0 || k > MaxValueSize {
				if !final && k < 0 {
					st.seenIDs, st.prev, st.prevKind = seenIDs, prev, prevKind
					return r, nil
				}
				return r, d.stringErr(b, p+1, base, in, k)
			}
			str = b[p+1 : p+1+k]
			if k == 0 && compact {
				kind = ValueEmpty
				d.seen |= seenEmpty
			}
			p += k + 2
		} else {
			n, err := d.value(b, p, base, in, compact, final, &kind, &str)
			if err != nil {
				return r, err
			}
			if n < 0 {
				st.seenIDs, st.prev, st.prevKind = seenIDs, prev, prevKind
				return r, nil
			}
			p = n
		}
		if int(idb) == prev {
			k, problem := follow(in, prevKind, kind, str)
			if problem != "" {
				return r, d.recordErr(base+int64(r), in, problem, "another record with the same Id")
			}
			if k != ValueNormalized {
				d.seen |= seenMulti
			}
			kind = k
		} else {
			if seenIDs[idb>>6]&(1<<(idb&63)) != 0 {
				return r, d.recordErr(base+int64(r), in, "all records of an attribute adjacent", "a record after other attributes' records")
			}
			seenIDs[idb>>6] |= 1 << (idb & 63)
		}
		if st.n++; st.n > MaxContactRecords {
			return r, &UnsupportedError{Offset: base + int64(r), Reason: fmt.Sprintf("a contact with more than %d records (abkit's limit)", MaxContactRecords)}
		}
		// Field by field: a whole-struct store goes through the runtime's bulk write barrier
		// (wbMove) whenever the garbage collector is marking.
		v := d.add()
		v.AttrID, v.Kind, v.Str = in.id, kind, str
		prev, prevKind = int(idb), kind
	}
	st.seenIDs, st.prev, st.prevKind = seenIDs, prev, prevKind
	return p, nil
}

// value decodes the record at b[p] whose Id has a class other than classString, setting kind and
// bin (a binary value's bytes), and returns the index of the next record, or -1 when b ends inside
// the record and final is false.
func (d *decoder) value(b string, p int, base int64, in *recInfo, compact, final bool, kind *ValueKind, bin *string) (int, error) {
	recOff := base + int64(p)
	p++
	switch in.class {
	case classBinary:
		d.seen |= seenBinary
		if len(b)-p < binaryLenSize {
			if !final {
				return -1, nil
			}
			return 0, d.valueErr(base+int64(p), in, "a u16 length", fmt.Sprintf("%d bytes left in the contact", len(b)-p))
		}
		n := int(b[p]) | int(b[p+1])<<8
		p += binaryLenSize
		if compact && n == binaryEmptyLen {
			*kind = ValueEmpty
			d.seen |= seenEmpty
			return p, nil
		}
		if n > len(b)-p {
			if !final {
				return -1, nil
			}
			return 0, d.valueErr(base+int64(p-binaryLenSize), in, fmt.Sprintf("a length of at most the %d bytes left in the contact", len(b)-p), fmt.Sprint(n))
		}
		*kind, *bin = ValueBinary, b[p:p+n]
		return p + n, nil
	case classBooleanString:
		return 0, &FormatError{Offset: recOff, Structure: fmt.Sprintf("ABF_CONTACT_ATTRIBUTE %s (%s)", in.typ, d.r.table.Name(in.id)),
			Expected: "no record: a type-0x3 (Boolean string) attribute never has a value in a contact (TRUE excludes the object, FALSE includes it without the attribute)",
			Found:    "a record", Err: ErrBooleanValue}
	case classNone:
		return 0, &FormatError{Offset: recOff, Structure: "ABF_CONTACT_ATTRIBUTE.Id",
			Expected: "the low byte of an attribute Id in the table", Found: fmt.Sprintf("0x%02X", b[p-1])}
	}
	return 0, &UnsupportedError{Offset: recOff, Reason: fmt.Sprintf("attribute %s has value type %d, whose encoding is unknown", d.r.table.Name(in.id), in.typ)}
}

// stringErr reports a string record whose value, at b[p], has no NUL before the contact ends
// (k < 0) or is longer than MaxValueSize (k bytes).
func (d *decoder) stringErr(b string, p int, base int64, in *recInfo, k int) error {
	if k >= 0 {
		return &UnsupportedError{Offset: base + int64(p), Reason: fmt.Sprintf(
			"a value of %s of %d bytes, longer than %d (abkit's limit for one value)", d.r.table.Name(in.id), k, MaxValueSize)}
	}
	return &FormatError{Offset: base + int64(p), Structure: "ABF_CONTACT_ATTRIBUTE string (" + d.r.table.Name(in.id) + ")",
		Expected: "a NUL-terminated string inside the contact's Length", Found: fmt.Sprintf("%d bytes without NUL", len(b)-p)}
}

// recordErr reports a record at file offset off that may not come where it is.
func (d *decoder) recordErr(off int64, in *recInfo, expected, found string) error {
	return &FormatError{Offset: off, Structure: "ABF_CONTACT_ATTRIBUTE (" + d.r.table.Name(in.id) + ")", Expected: expected, Found: found}
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

// Limits on what one contact may hold: they bound the memory a hostile file can make a reader use
// (the Writer refuses to write past them). Not part of the format.
const (
	// MaxValueSize is the longest string or binary value, in bytes (binary values are shorter
	// still: their u16 length).
	MaxValueSize = 1 << 20
	// MaxContactRecords is the most attribute records one contact may have.
	MaxContactRecords = 1 << 16
	// MaxRulesSize is the largest ABF_NORMALIZATION_RULES text, in bytes.
	MaxRulesSize = 4 << 20

	maxRecordSize = 1 + MaxValueSize + 1 // Id, a string of MaxValueSize bytes, NUL
)
