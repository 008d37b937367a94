package abs

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Writer writes an address book file: header, rules and attribute table by NewWriter, then one
// contact per WriteContact, then the trailer by Close. Attributes are written in descending Id
// order and each contact's records grouped by attribute in descending Id order, like the server.
type Writer struct {
	bw     *bufio.Writer
	header Header
	table  *Table
	info   [256]recInfo
	buf    []byte
	sorted []Value
	err    error
}

// NewWriter writes the header, rules and attribute table. h.NumberOfAttributes and
// h.MaximumAttributeID are computed from attrs; h.FileType is set from h.Kind (full files keep a
// FileType that is neither the delta nor the compact GUID, and get FullFileType when it is zero).
func NewWriter(w io.Writer, h Header, attrs []Attribute, rules string) (*Writer, error) {
	switch h.Kind {
	case Delta:
		h.FileType = DeltaFileType
	case Compact:
		h.FileType = CompactFileType
	case Full:
		if h.FileType.IsZero() {
			h.FileType = FullFileType
		}
		if h.FileType == DeltaFileType || h.FileType == CompactFileType {
			return nil, fmt.Errorf("abs: a full file cannot have the %s FileType", map[bool]string{true: "delta", false: "compact"}[h.FileType == DeltaFileType])
		}
		h.BaseDay = 0
	default:
		return nil, fmt.Errorf("abs: unknown file kind %d", h.Kind)
	}
	if len(attrs) > 0xFFFF {
		return nil, fmt.Errorf("abs: %d attributes, at most 65535 fit NumberOfAttributes", len(attrs))
	}
	if int64(len(rules))+1 > 0xFFFFFFFF {
		return nil, fmt.Errorf("abs: normalization rules of %d bytes do not fit a u32 Length", len(rules))
	}
	sorted := slices.Clone(attrs)
	slices.SortStableFunc(sorted, func(a, b Attribute) int { return cmp.Compare(b.ID, a.ID) })
	t, err := NewTable(sorted)
	if err != nil {
		return nil, fmt.Errorf("abs: %w", err)
	}
	h.NumberOfAttributes = uint16(len(sorted))
	h.MaximumAttributeID = 0
	if len(sorted) > 0 {
		h.MaximumAttributeID = sorted[0].ID
	}
	wr := &Writer{bw: bufio.NewWriterSize(w, 256<<10), header: h, table: t, info: recInfos(t)}

	var hb []byte
	var useNorm uint16
	if h.UseNormalizationRules {
		useNorm = 1
	}
	if h.Kind == Full {
		hb = make([]byte, fullHeaderSize)
		binary.LittleEndian.PutUint16(hb[fullOffDay:], uint16(h.Day))
		binary.LittleEndian.PutUint16(hb[fullOffNumAttrs:], h.NumberOfAttributes)
		binary.LittleEndian.PutUint16(hb[fullOffMaxAttr:], h.MaximumAttributeID)
		binary.LittleEndian.PutUint16(hb[fullOffUseNormRul:], useNorm)
	} else {
		hb = make([]byte, deltaHeaderSize)
		binary.LittleEndian.PutUint16(hb[deltaOffBaseDay:], uint16(h.BaseDay))
		binary.LittleEndian.PutUint16(hb[deltaOffDay:], uint16(h.Day))
		binary.LittleEndian.PutUint16(hb[deltaOffNumAttrs:], h.NumberOfAttributes)
		binary.LittleEndian.PutUint16(hb[deltaOffMaxAttr:], h.MaximumAttributeID)
		binary.LittleEndian.PutUint16(hb[deltaOffUseNorm:], useNorm)
	}
	copy(hb, h.FileType[:])
	if rules == "" {
		hb = binary.LittleEndian.AppendUint32(hb, 0)
	} else {
		hb = binary.LittleEndian.AppendUint32(hb, uint32(len(rules)+1))
		hb = append(hb, rules...)
		hb = append(hb, 0)
	}
	for _, a := range sorted {
		if 6+len(a.Name)+1 > 0xFFFF {
			return nil, fmt.Errorf("abs: attribute name %.40q... is too long for a u16 Length", a.Name)
		}
		hb = binary.LittleEndian.AppendUint16(hb, uint16(6+len(a.Name)+1))
		hb = binary.LittleEndian.AppendUint16(hb, a.ID)
		hb = binary.LittleEndian.AppendUint32(hb, uint32(a.Flags))
		hb = append(hb, a.Name...)
		hb = append(hb, 0)
	}
	if _, err := wr.bw.Write(hb); err != nil {
		return nil, err
	}
	return wr, nil
}

// Header returns the header as written (with computed counts and FileType).
func (w *Writer) Header() Header { return w.header }

// WriteContact writes c. It fails, writing nothing, when c cannot be written so that a Reader
// decodes the same values: an attribute not in the table, a kind that does not fit the attribute
// type or the file kind, a string with a NUL, a normalized copy where a reader would see a raw
// value (or the reverse), a repeated single-valued attribute, a value longer than MaxValueSize or
// more than MaxContactRecords records. It also fails where the server would not have written the
// value: any value of a type-0x3 (Boolean string) attribute, a type-0x4 value that is not smtp:
// with @, a type-0x5 value that is neither tel: nor smtp: with @.
func (w *Writer) WriteContact(c *Contact) error {
	if w.err != nil {
		return w.err
	}
	if len(c.Values) == 0 && w.header.Kind == Full {
		return fmt.Errorf("abs: contact %s has no attributes: a full file has no deleted objects", c.ID)
	}
	if len(c.Values) > MaxContactRecords {
		return fmt.Errorf("abs: contact %s has %d records, more than %d", c.ID, len(c.Values), MaxContactRecords)
	}
	w.sorted = append(w.sorted[:0], c.Values...)
	slices.SortStableFunc(w.sorted, func(a, b Value) int { return cmp.Compare(b.AttrID, a.AttrID) })
	b := append(w.buf[:0], make([]byte, contactLenSize+contactFixedSize)...)
	var prev Value
	for i, v := range w.sorted {
		bad := func(why string) error {
			return fmt.Errorf("abs: contact %s, %s value %q (%s): %s", c.ID, w.table.Name(v.AttrID), v.Text(), v.Kind, why)
		}
		a, ok := w.table.ByID(v.AttrID)
		if !ok {
			return bad("attribute Id not in the table")
		}
		in := &w.info[byte(v.AttrID)]
		base := v.Kind
		if len(v.Str) > MaxValueSize {
			return bad(fmt.Sprintf("longer than %d bytes", MaxValueSize))
		}
		b = append(b, byte(v.AttrID))
		switch typ := a.Flags.Type(); {
		case typ == TypeBooleanString:
			return bad("a type-0x3 (Boolean string) attribute never has a value in a contact: TRUE excludes the object, FALSE includes it without the attribute")
		case v.Kind == ValueEmpty:
			if w.header.Kind != Compact {
				return bad("empty attributes exist only in compact deltas")
			}
			switch {
			case typ.isString():
				b = append(b, 0)
			case typ == TypeBinary:
				b = binary.LittleEndian.AppendUint16(b, binaryEmptyLen)
			default:
				return bad(fmt.Sprintf("value type %d has no known encoding", typ))
			}
		case typ.isString():
			if v.Kind != ValueString && v.Kind != ValueNormalized {
				return bad("the attribute holds strings")
			}
			if strings.IndexByte(v.Str, 0) >= 0 {
				return bad("a string value cannot contain NUL")
			}
			if v.Str == "" && w.header.Kind == Compact {
				return bad("an empty string is an empty attribute in a compact delta")
			}
			if ok, want := qualifies(typ, v.Str); !ok && v.Kind == ValueString {
				return bad("the server stores only " + want)
			}
			base = ValueString
			b = append(b, v.Str...)
			b = append(b, 0)
		case typ == TypeBinary:
			if v.Kind != ValueBinary {
				return bad("the attribute holds binary values")
			}
			if len(v.Str) > 0xFFFF || (len(v.Str) == binaryEmptyLen && w.header.Kind == Compact) {
				return bad("binary value too long for its u16 length")
			}
			b = binary.LittleEndian.AppendUint16(b, uint16(len(v.Str)))
			b = append(b, v.Str...)
		default:
			return bad(fmt.Sprintf("value type %d has no known encoding", typ))
		}
		got := base
		if i > 0 && prev.AttrID == v.AttrID {
			var problem string
			if got, problem = follow(in, prev.Kind, base, v.Str); problem != "" {
				return bad("a reader expects " + problem)
			}
		}
		if got != v.Kind {
			return bad(fmt.Sprintf("a reader would read this record as %s", got))
		}
		prev = v
	}
	n := len(b) - contactLenSize - contactFixedSize
	if int64(n)+contactFixedSize > 0xFFFFFFFF {
		return fmt.Errorf("abs: contact %s is too large for a u32 Length", c.ID)
	}
	putContactHead(b, n, c.ID, c.OuPathID)
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Close ends the file with a trailer ([MS-ABS] 2.2.14): the body trailer, then its length as
// the u32 LengthOfTrailer, and flushes. A nil or empty body gives abkit's own trailer, an empty
// one (ProvisionalTrailerWritten); any other body is written as the opaque bytes it is (an
// ABF_FULL_TRAILER or ABF_DELTA_TRAILER read from another file). Close does not close the
// underlying writer.
func (w *Writer) Close(trailer []byte) error {
	if w.err != nil {
		return w.err
	}
	if int64(len(trailer)) > 0xFFFFFFFF-4 {
		w.err = fmt.Errorf("abs: a trailer of %d bytes does not fit LengthOfTrailer", len(trailer))
		return w.err
	}
	if _, err := w.bw.Write(trailer); err != nil {
		w.err = err
		return err
	}
	w.buf = binary.LittleEndian.AppendUint32(w.buf[:0], uint32(len(trailer)))
	if _, err := w.bw.Write(w.buf); err != nil {
		w.err = err
		return err
	}
	w.err = w.bw.Flush()
	if w.err == nil {
		w.err = errClosed
		return nil
	}
	return w.err
}

var errClosed = errors.New("abs: the Writer is closed")

// Write writes b as a file of kind b.Header.Kind, ending with b.Trailer (abkit's empty trailer
// when nil).
func Write(w io.Writer, b *Book) error {
	wr, err := NewWriter(w, b.Header, b.Attributes, b.Rules)
	if err != nil {
		return err
	}
	for _, c := range b.Contacts {
		if err := wr.WriteContact(c); err != nil {
			return err
		}
	}
	return wr.Close(b.Trailer)
}
