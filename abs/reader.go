package abs

import (
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
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
	classNone    = iota // no attribute has this Id byte
	classString         // NUL-terminated string (types 0, 2, 4, 5)
	classBinary         // u16 length + bytes
	classBoolean        // one byte
	classUnknown        // a value type whose encoding is unknown
)

// NewReader reads the header, rules and attribute table of the size-byte file in r.
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	rd := &Reader{r: r, size: size}
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

// Open opens and decodes the header of the named file.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
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
	ProvisionalBinary, ProvisionalBoolean, ProvisionalDeleted}

const (
	seenContact = 1 << iota
	seenMulti
	seenEmpty
	seenBinary
	seenBoolean
	seenDeleted
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
	r.info = recInfos(r.table, h.UseNormalizationRules)
	r.Layout.ContactsOffset = w.off()
	return nil
}

// Contacts streams the contacts from the start of the contact block to the end of the file.
// Each contact is yielded with a nil error; a decoding error is yielded once, with a nil contact,
// and ends the sequence. Yielded contacts stay valid: they are carved from shared blocks, so
// keeping one contact keeps its block (and the 256 KiB read buffer its strings point into) alive.
func (r *Reader) Contacts() iter.Seq2[*Contact, error] { return r.contacts(false) }

// ContactsReused is Contacts for callers that look at each contact once, as dump and search do:
// the yielded *Contact and its Values slice are overwritten by the next iteration (the strings
// in them stay valid). Use Clone to keep a contact. It is the fastest way through
// a file.
func (r *Reader) ContactsReused() iter.Seq2[*Contact, error] { return r.contacts(true) }

func (r *Reader) contacts(reuse bool) iter.Seq2[*Contact, error] {
	return func(yield func(*Contact, error) bool) {
		d := newDecoder(r, r.Layout.ContactsOffset, reuse)
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
	d.w.chunk = 4 << 10
	c, err := d.next()
	r.seen.Or(d.seen)
	return c, err
}

// recInfos precomputes, by record Id byte, what decoding a record of t needs.
func recInfos(t *Table, useRules bool) (info [256]recInfo) {
	for _, a := range t.attrs {
		class := uint8(classUnknown)
		switch typ := a.Flags.Type(); {
		case typ.isString():
			class = classString
		case typ == TypeBinary:
			class = classBinary
		case typ == TypeBoolean:
			class = classBoolean
		}
		info[byte(a.ID)] = recInfo{id: a.ID, class: class, typ: a.Flags.Type(), multi: a.Flags.MultiValued(),
			norm: a.Flags.Normalized(useRules) && class == classString}
	}
	return info
}
