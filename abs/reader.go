package abs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Header is the decoded file header.
type Header struct {
	Kind                  Kind
	FileType              GUID // the FileType GUID found at offset 0
	BaseDay               Day  // BaseCreationDate: the XXXX of D-/C-XXXX-YYYY; 0 in full files
	Day                   Day  // CreationDate
	NumberOfAttributes    uint16
	MaximumAttributeID    uint16
	UseNormalizationRules bool // phone numbers were normalized with the rules
}

// Time returns the creation date.
func (h Header) Time() time.Time { return h.Day.Time() }

// BaseTime returns the base creation date of a delta (day 0 for full files).
func (h Header) BaseTime() time.Time { return h.BaseDay.Time() }

// FileName returns the name the server gives a file with header h: F-XXXX, D-XXXX-YYYY or
// C-XXXX-YYYY, with the .dabs extension when device is set.
func (h Header) FileName(device bool) FileName {
	n := FileName{Kind: h.Kind, Day: h.Day, Device: device}
	if h.Kind != Full {
		n.BaseDay = h.BaseDay
	}
	return n
}

// FileTypes of delta and compact delta files ([SPEC]).
var (
	DeltaFileType   = GUID{0x16, 0xC1, 0x4B, 0xB5, 0x08, 0x90, 0xC7, 0x47, 0xB9, 0xBD, 0xF3, 0xBB, 0x1A, 0x0A, 0xB6, 0xEB}
	CompactFileType = GUID{0x34, 0x17, 0x7D, 0xF7, 0x87, 0xAE, 0x2B, 0x4D, 0x09, 0xA0, 0x8E, 0xE9, 0xBA, 0x89, 0x4A, 0x04}
)

// Delta header ([SPEC]).
const (
	deltaHeaderSize  = 154
	deltaOffBaseDay  = 16
	deltaOffDay      = 18
	deltaOffNumAttrs = 20
	deltaOffMaxAttr  = 22
	deltaOffUseNorm  = 24
	sourceStreamSize = 128
)

// Layout gives the offsets of a file's blocks.
type Layout struct {
	HeaderSize       int64
	RulesOffset      int64  // the u32 Length of ABF_NORMALIZATION_RULES
	RulesLength      uint32 // bytes of rules text, including the final NUL
	AttributesOffset int64
	ContactsOffset   int64
}

// Reader decodes an address book file held in an io.ReaderAt. Header, attribute table and rules
// are read by NewReader; contacts are streamed by Contacts. A Reader is safe for concurrent use.
type Reader struct {
	Header Header
	Layout Layout

	r     io.ReaderAt
	size  int64
	table *Table
	rules string
	info  [256]recInfo
	seen  atomic.Uint32 // provisional parts met while iterating contacts (bit i = contactParts[i])
	fixed []string      // provisional parts of header and table
	ctx   context.Context

	// trailerAt is where LengthOfTrailer puts the trailer (size - 4 - LengthOfTrailer), or -1
	// when the last 4 bytes cannot be a LengthOfTrailer (trailerRule in provisional.go).
	trailerAt int64
	trailerMu sync.Mutex
	trailer   *Trailer // settled by the first walk over all contact records
}

// Trailer says where the contact records end and what follows them ([MS-ABS] 2.2.14): the
// trailer (an ABF_FULL_TRAILER or ABF_DELTA_TRAILER, kept as opaque bytes) and the u32
// LengthOfTrailer that ends the file.
type Trailer struct {
	Present bool   `json:"present"` // false: a file without a trailer (abkit's files before the trailer was known)
	Offset  int64  `json:"offset"`  // file offset of the trailer's body: the end of the contact records
	Length  uint32 `json:"length"`  // LengthOfTrailer: the body's size in bytes (0 when not Present)
}

// recInfo is what decoding a record with a given Id byte needs, precomputed from the table.
type recInfo struct {
	id    uint16
	class uint8 // class* constant
	typ   ValueType
	multi bool
	norm  bool
}

// Record classes: how a record's value is encoded.
const (
	classNone          = iota // no attribute has this Id byte
	classString               // NUL-terminated string (types 0, 2, 4, 5)
	classBinary               // u16 length + bytes
	classBooleanString        // type 0x3: never has a record
	classUnknown              // a value type whose encoding is unknown
)

// NewReader reads the header, rules and attribute table of the size-byte file in r.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	return NewReaderContext(context.Background(), r, size)
}

// NewReaderContext is NewReader for a reader whose contact iterations and Trailer stop with
// ctx's error once ctx is done.
func NewReaderContext(ctx context.Context, r io.ReaderAt, size int64) (*Reader, error) {
	rd := &Reader{r: r, size: size}
	if ctx != context.Background() {
		rd.ctx = ctx
	}
	if err := rd.parse(); err != nil {
		return nil, err
	}
	return rd, nil
}

// File is an address book file opened with Open.
type File struct {
	*Reader
	Name FileName // parsed from the file name; zero when the name is not an address book name
	f    *os.File
}

// Open opens and decodes the header of the named file, which must be a regular file: anything
// else (a FIFO, a device, a directory) is refused before it is opened.
func Open(path string) (*File, error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	rd, err := NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	name, _ := ParseFileName(path)
	return &File{Reader: rd, Name: name, f: f}, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// ErrNotRegular is wrapped by the error of OpenRegular for a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// OpenRegular opens path for reading if it is a regular file. It looks at the path first and
// refuses anything else without opening it (opening a FIFO for reading blocks until a writer
// comes), then checks that what it opened is still that regular file.
func OpenRegular(path string) (*os.File, os.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, st.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fst, err := f.Stat()
	if err == nil && (!fst.Mode().IsRegular() || !os.SameFile(st, fst)) {
		err = fmt.Errorf("%s: %w (replaced while being opened)", path, ErrNotRegular)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fst, nil
}

// Size returns the size of the file.
func (r *Reader) Size() int64 { return r.size }

// Table returns the attribute table.
func (r *Reader) Table() *Table { return r.table }

// Attributes returns the attribute records in file order. The slice must not be modified.
func (r *Reader) Attributes() []Attribute { return r.table.attrs }

// RulesText returns the normalization rules text without its final NUL ("" when there are none).
func (r *Reader) RulesText() string { return r.rules }

// ProvisionalParts names the provisional layout rules (see provisional.go) the file was read
// under: those of the header and table, plus those met by the contact iterations so far.
func (r *Reader) ProvisionalParts() []string {
	out := append([]string(nil), r.fixed...)
	seen := r.seen.Load()
	for i, p := range contactParts {
		if seen&(1<<i) != 0 {
			out = append(out, p)
		}
	}
	return out
}

// contactParts are the provisional rules met while decoding contacts, by bit.
var contactParts = [...]string{ProvisionalContact, ProvisionalMultiValue, ProvisionalEmpty,
	ProvisionalBinary, ProvisionalDeleted, ProvisionalNoTrailer}

const (
	seenContact = 1 << iota
	seenMulti
	seenEmpty
	seenBinary
	seenDeleted
	seenNoTrailer
)

// parse reads header, rules and attribute table, filling r.Layout as it goes (for Probe).
func (r *Reader) parse() error {
	w := newWindow(r.r, r.size, 0)
	if err := w.need(16, "FileType"); err != nil {
		return err
	}
	h := &r.Header
	copy(h.FileType[:], w.data[w.pos:w.pos+16])
	switch h.FileType {
	case DeltaFileType:
		h.Kind = Delta
	case CompactFileType:
		h.Kind = Compact
	default:
		h.Kind = Full
	}
	r.fixed = []string{ProvisionalBlockOrder}
	err := r.parseBlocks(w)
	if err != nil && h.Kind == Full && h.FileType != FullFileType {
		off, _ := ErrorOffset(err)
		return &UnsupportedError{Offset: off, Err: err, Reason: fmt.Sprintf(
			"FileType {%s} is neither the delta nor the compact GUID and the stream does not parse as an uncompressed full file: it may be compressed or of an unknown layout", h.FileType)}
	}
	return err
}

func (r *Reader) parseBlocks(w *window) error {
	h := &r.Header
	var useNorm uint16
	if h.Kind == Full {
		r.fixed = append(r.fixed, ProvisionalFullHeader, ProvisionalFullFileType)
		if err := w.need(fullHeaderSize, "full header"); err != nil {
			return err
		}
		h.Day = Day(w.u16(fullOffDay))
		h.NumberOfAttributes = w.u16(fullOffNumAttrs)
		h.MaximumAttributeID = w.u16(fullOffMaxAttr)
		useNorm = w.u16(fullOffUseNormRul)
		w.pos += fullHeaderSize
	} else {
		if err := w.need(deltaHeaderSize, h.Kind.String()+" header"); err != nil {
			return err
		}
		h.BaseDay = Day(w.u16(deltaOffBaseDay))
		h.Day = Day(w.u16(deltaOffDay))
		h.NumberOfAttributes = w.u16(deltaOffNumAttrs)
		h.MaximumAttributeID = w.u16(deltaOffMaxAttr)
		useNorm = w.u16(deltaOffUseNorm)
		w.pos += deltaHeaderSize
	}
	h.UseNormalizationRules = useNorm != 0
	r.Layout.HeaderSize = w.off()

	// ABF_NORMALIZATION_RULES: u32 Length, Length bytes of UTF-8 text ending in NUL.
	r.Layout.RulesOffset = w.off()
	if err := w.need(4, "ABF_NORMALIZATION_RULES.Length"); err != nil {
		return err
	}
	n := w.u32(0)
	if n > MaxRulesSize && int64(n) <= w.left()-4 {
		return &UnsupportedError{Offset: w.off(), Reason: fmt.Sprintf("normalization rules of %d bytes, more than %d (abkit's limit)", n, MaxRulesSize)}
	}
	if int64(n) > w.left()-4 {
		return &FormatError{Offset: w.off(), Structure: "ABF_NORMALIZATION_RULES.Length",
			Expected: fmt.Sprintf("at most the %d bytes left in the file", max(w.left()-4, 0)), Found: fmt.Sprint(n), Err: ErrTruncated}
	}
	w.pos += 4
	if n > 0 {
		if err := w.need(int64(n), "ABF_NORMALIZATION_RULES.Text"); err != nil {
			return err
		}
		text := w.data[w.pos : w.pos+int(n)]
		if text[n-1] != 0 {
			return &FormatError{Offset: w.off() + int64(n) - 1, Structure: "ABF_NORMALIZATION_RULES.Text",
				Expected: "a final NUL counted in Length", Found: fmt.Sprintf("byte 0x%02X", text[n-1])}
		}
		r.rules = strings.Clone(text[:n-1])
		w.pos += int(n)
	}
	r.Layout.RulesLength = n

	// ABF_ATTRIBUTES: NumberOfAttributes records, any order.
	r.Layout.AttributesOffset = w.off()
	numOff, maxOff := int64(fullOffNumAttrs), int64(fullOffMaxAttr)
	if h.Kind != Full {
		numOff, maxOff = deltaOffNumAttrs, deltaOffMaxAttr
	}
	const minAttr = 9 // Length, Id, Flags, one name byte, NUL
	count := int(h.NumberOfAttributes)
	if int64(count)*minAttr > w.left() {
		return &FormatError{Offset: numOff, Structure: "NumberOfAttributes",
			Expected: fmt.Sprintf("at most %d (%d bytes left after the rules, %d per attribute at least)", w.left()/minAttr, w.left(), minAttr),
			Found:    fmt.Sprint(count), Err: ErrTruncated}
	}
	r.table = &Table{attrs: make([]Attribute, 0, count), byName: make(map[string]int, count), group: -1}
	var maxID uint16
	for i := range count {
		start := w.off()
		if err := w.need(2, "ABF_ATTRIBUTE.Length"); err != nil {
			return err
		}
		l := int(w.u16(0))
		if l < minAttr-2 {
			return &FormatError{Offset: start, Structure: "ABF_ATTRIBUTE.Length",
				Expected: "at least 7 (Id, Flags, a name and its NUL)", Found: fmt.Sprint(l)}
		}
		if err := w.need(int64(2+l), "ABF_ATTRIBUTE"); err != nil {
			return err
		}
		rec := w.data[w.pos : w.pos+2+l]
		a := Attribute{ID: w.u16(2), Flags: Flags(w.u32(4))}
		name := rec[8:]
		if k := strings.IndexByte(name, 0); k != len(name)-1 || k == 0 {
			found := "no NUL"
			switch {
			case k == 0:
				found = "an empty name"
			case k >= 0:
				found = fmt.Sprintf("a NUL at offset 0x%X, %d bytes before the end of the record", start+8+int64(k), len(name)-1-k)
			}
			return &FormatError{Offset: start + 8, Structure: fmt.Sprintf("ABF_ATTRIBUTE[%d].Name", i),
				Expected: "a name whose NUL is the last byte of the record (Length = 6 + len(Name) + 1)", Found: found}
		}
		a.Name = strings.Clone(name[:len(name)-1])
		if a.ID > h.MaximumAttributeID {
			return &FormatError{Offset: start + 2, Structure: fmt.Sprintf("ABF_ATTRIBUTE[%d].Id (%s)", i, a.Name),
				Expected: fmt.Sprintf("at most MaximumAttributeId %d", h.MaximumAttributeID), Found: fmt.Sprint(a.ID)}
		}
		maxID = max(maxID, a.ID)
		r.table.attrs = append(r.table.attrs, a)
		if err := r.table.add(i, a); err != nil {
			return &FormatError{Offset: start + 2, Structure: fmt.Sprintf("ABF_ATTRIBUTE[%d].Id", i),
				Expected: "an Id whose low byte no other attribute has", Found: err.Error()}
		}
		w.pos += 2 + l
	}
	if maxID != h.MaximumAttributeID {
		return &FormatError{Offset: maxOff,
			Structure: "MaximumAttributeId", Expected: fmt.Sprintf("the largest attribute Id, %d", maxID), Found: fmt.Sprint(h.MaximumAttributeID)}
	}
	r.info = recInfos(r.table)
	r.Layout.ContactsOffset = w.off()
	return r.findTrailer()
}

// findTrailer reads LengthOfTrailer from the last 4 bytes and sets trailerAt when it fits
// between the start of the contact records and the end of the file.
func (r *Reader) findTrailer() error {
	r.trailerAt = -1
	if r.size-r.Layout.ContactsOffset < contactLenSize {
		return nil
	}
	var b [4]byte
	if n, err := r.r.ReadAt(b[:], r.size-4); n < 4 {
		if err == nil || err == io.EOF {
			return truncated(r.size-4, "LengthOfTrailer", 4, int64(n))
		}
		return fmt.Errorf("abs: reading offset %d: %w", r.size-4, err)
	}
	l := int64(b[0]) | int64(b[1])<<8 | int64(b[2])<<16 | int64(b[3])<<24
	if at := r.size - 4 - l; at >= r.Layout.ContactsOffset {
		r.trailerAt = at
	}
	return nil
}

// setTrailer records what a walk over all contact records found.
func (r *Reader) setTrailer(t Trailer) {
	r.trailerMu.Lock()
	if r.trailer == nil {
		r.trailer = &t
	}
	r.trailerMu.Unlock()
	if !t.Present {
		r.seen.Or(seenNoTrailer)
	}
}

// tailIsContacts reports whether the bytes from off to the end of the file decode as whole
// contact records (at least one), which decides a trailer candidate against (trailerRule).
func (r *Reader) tailIsContacts(off int64) bool {
	d := newDecoder(r, off, true)
	d.end, d.walk = r.size, false
	n := 0
	for {
		c, err := d.next()
		if err != nil {
			return false
		}
		if c == nil {
			return n > 0
		}
		n++
	}
}

// Trailer says whether the file ends with a trailer, where it is and how long. It is settled by
// the first iteration of Contacts or ContactsReused that reaches the end; when none has, Trailer
// decodes every contact record to settle it (and returns a decoding error if one stops it).
func (r *Reader) Trailer() (Trailer, error) {
	r.trailerMu.Lock()
	t := r.trailer
	r.trailerMu.Unlock()
	if t != nil {
		return *t, nil
	}
	for _, err := range r.ContactsReused() {
		if err != nil {
			return Trailer{}, err
		}
	}
	r.trailerMu.Lock()
	defer r.trailerMu.Unlock()
	return *r.trailer, nil
}

// TrailerBody reads the trailer's body, an opaque ABF_FULL_TRAILER or ABF_DELTA_TRAILER (nil when
// the file has none). It is read in bounded steps, as the bytes arrive.
func (r *Reader) TrailerBody() ([]byte, error) {
	t, err := r.Trailer()
	if err != nil || !t.Present {
		return nil, err
	}
	w := newWindow(r.r, r.size, t.Offset)
	b, err := w.readAt(t.Offset, int64(t.Length), int64(t.Length))
	if int64(len(b)) < int64(t.Length) {
		if err == nil || err == io.EOF {
			return nil, truncated(t.Offset, "trailer", int64(t.Length), int64(len(b)))
		}
		return nil, fmt.Errorf("abs: reading offset %d: %w", t.Offset, err)
	}
	return b, nil
}

// Contacts streams the contacts from the start of the contact block to the end of the file.
// Each contact is yielded with a nil error; a decoding error is yielded once, with a nil contact,
// and ends the sequence. Yielded contacts stay valid: they are carved from shared blocks, so
// keeping one contact keeps its block (and the 256 KiB read buffer its strings point into) alive.
func (r *Reader) Contacts() iter.Seq2[*Contact, error] { return r.contacts(false, false) }

// ContactsReused is Contacts for callers that look at each contact once, as dump and search do:
// the yielded *Contact and its Values slice are overwritten by the next iteration (the strings
// in them stay valid). Use Clone to keep a contact. It is the fastest way through
// a file.
func (r *Reader) ContactsReused() iter.Seq2[*Contact, error] { return r.contacts(true, false) }

// ContactsTransient is ContactsReused for callers that are done with each contact, strings
// included, before they ask for the next, as a dump that writes each contact out is: the strings
// too are overwritten by the next iteration (they point into the read buffer, which is reused),
// so the walk allocates nothing per contact or per chunk read. To keep a contact, Clone it and
// copy its strings (strings.Clone).
func (r *Reader) ContactsTransient() iter.Seq2[*Contact, error] { return r.contacts(true, true) }

func (r *Reader) contacts(reuse, transient bool) iter.Seq2[*Contact, error] {
	return func(yield func(*Contact, error) bool) {
		d := newDecoder(r, r.Layout.ContactsOffset, reuse)
		d.w.transient = transient
		defer func() { r.seen.Or(d.seen) }()
		for {
			c, err := d.next()
			if c == nil && err == nil {
				return
			}
			if !yield(c, err) || err != nil {
				return
			}
		}
	}
}

// ReadContactAt decodes the contact whose record starts at off (a Contact.Offset).
func (r *Reader) ReadContactAt(off int64) (*Contact, error) {
	if off < r.Layout.ContactsOffset || off >= r.size {
		return nil, fmt.Errorf("abs: offset %d is outside the contact block [%d, %d)", off, r.Layout.ContactsOffset, r.size)
	}
	d := newDecoder(r, off, false)
	d.end, d.walk, d.single = r.size, false, true
	d.w.chunk = 4 << 10
	c, err := d.next()
	r.seen.Or(d.seen)
	return c, err
}

// recInfos precomputes, by record Id byte, what decoding a record of t needs.
func recInfos(t *Table) (info [256]recInfo) {
	for _, a := range t.attrs {
		class := uint8(classUnknown)
		switch typ := a.Flags.Type(); {
		case typ.isString():
			class = classString
		case typ == TypeBinary:
			class = classBinary
		case typ == TypeBooleanString:
			class = classBooleanString
		}
		info[byte(a.ID)] = recInfo{id: a.ID, class: class, typ: a.Flags.Type(), multi: a.Flags.MultiValued(),
			norm: a.Flags.Normalized() && class == classString}
	}
	return info
}
