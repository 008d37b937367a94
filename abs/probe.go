package abs

import (
	"fmt"
	"io"
	"strings"
)

// ProbeStep is a structure that matched the layout.
type ProbeStep struct {
	Offset    int64
	Length    int64
	Structure string
	Detail    string
}

// ProbeReport says how far a file matches the layout: the structures that matched, in file
// order, and the first mismatch.
type ProbeReport struct {
	Size        int64
	Kind        Kind // from the FileType (Full for any unknown GUID)
	Steps       []ProbeStep
	Contacts    int              // contacts decoded before the mismatch (all of them when Err is nil)
	Provisional []string         // provisional layout rules the matched part was read under
	Err         error            // the first mismatch (*FormatError, *UnsupportedError or an I/O error); nil when all matched
	Trailer     *Trailer         // what the walk found at the end of the contact records; nil when it stopped first
	TrailerNote string           // when the walk stopped: where the last 4 bytes, read as LengthOfTrailer, put a trailer
	Container   *ContainerReport // for a file that does not parse as an uncompressed stream: see ProbeContainer
}

// MismatchOffset returns the file offset of the first mismatch.
func (p *ProbeReport) MismatchOffset() (int64, bool) {
	if p.Err == nil {
		return 0, false
	}
	return ErrorOffset(p.Err)
}

// Probe walks the structures of the size-byte file in r as far as they match, for diagnosing a
// file that does not decode, including the trailer at the end. It never fails itself: the first
// mismatch is in the report's Err, and then ProbeContainer's report is in Container.
func Probe(r io.ReaderAt, size int64) *ProbeReport {
	rep := &ProbeReport{Size: size}
	rd := &Reader{r: r, size: size, trailerAt: -1}
	err := rd.parse()
	rep.Kind = rd.Header.Kind
	l := rd.Layout
	if size >= 16 {
		rep.Steps = append(rep.Steps, ProbeStep{0, 16, "FileType", fmt.Sprintf("{%s}: %s", rd.Header.FileType, kindDetail(rd.Header))})
	}
	if l.HeaderSize > 0 {
		h := rd.Header
		d := fmt.Sprintf("CreationDate %s (%s), NumberOfAttributes %d, MaximumAttributeId %d, UseNormalizationRules %t",
			h.Day, h.Day.Time().Format("2006-01-02"), h.NumberOfAttributes, h.MaximumAttributeID, h.UseNormalizationRules)
		if h.Kind != Full {
			d = fmt.Sprintf("BaseCreationDate %s (%s), ", h.BaseDay, h.BaseDay.Time().Format("2006-01-02")) + d
		}
		rep.Steps = append(rep.Steps, ProbeStep{0, l.HeaderSize, h.Kind.String() + " header", d})
	}
	if l.AttributesOffset > 0 {
		rep.Steps = append(rep.Steps, ProbeStep{l.RulesOffset, l.AttributesOffset - l.RulesOffset, "ABF_NORMALIZATION_RULES",
			fmt.Sprintf("Length %d", l.RulesLength)})
	}
	if rd.table != nil && len(rd.table.attrs) > 0 {
		end := l.ContactsOffset
		detail := fmt.Sprintf("%d attribute records", len(rd.table.attrs))
		if end == 0 {
			detail = fmt.Sprintf("%d of %d attribute records", len(rd.table.attrs), rd.Header.NumberOfAttributes)
			end = l.AttributesOffset
			if off, ok := ErrorOffset(err); ok {
				end = off
			}
		}
		rep.Steps = append(rep.Steps, ProbeStep{l.AttributesOffset, end - l.AttributesOffset, "ABF_ATTRIBUTES", detail})
	}
	rep.Provisional = rd.fixed
	if err != nil {
		rep.Err = err
		rep.Container = ProbeContainer(r, size)
		return rep
	}
	d := newDecoder(rd, l.ContactsOffset, true)
	lastOff := int64(-1)
	end := l.ContactsOffset // end of the last contact decoded
	for {
		c, cerr := d.next()
		if cerr != nil {
			rep.Err = cerr
			break
		}
		if c == nil {
			break
		}
		rep.Contacts++
		lastOff, end = c.Offset, d.w.off()
	}
	rd.seen.Or(d.seen)
	if rep.Err != nil {
		rep.Container = ProbeContainer(r, size)
	}
	if lastOff >= 0 {
		rep.Steps = append(rep.Steps, ProbeStep{l.ContactsOffset, end - l.ContactsOffset, "ABF_CONTACT records",
			fmt.Sprintf("%d contacts, the last at 0x%X", rep.Contacts, lastOff)})
	}
	if t := d.trailer; t != nil {
		rep.Trailer = t
		if t.Present {
			rep.Steps = append(rep.Steps, ProbeStep{t.Offset, int64(t.Length) + 4, "trailer + LengthOfTrailer",
				fmt.Sprintf("LengthOfTrailer %d at 0x%X; body opaque ([MS-ABS] 2.2.14)", t.Length, size-4)})
		}
	} else if rd.trailerAt >= 0 {
		rep.TrailerNote = fmt.Sprintf("LengthOfTrailer %d puts a trailer at 0x%X", size-4-rd.trailerAt, rd.trailerAt)
	}
	rep.Provisional = rd.ProvisionalParts()
	return rep
}

func kindDetail(h Header) string {
	switch h.Kind {
	case Delta, Compact:
		return h.Kind.String() + " file ([SPEC] GUID)"
	}
	if h.FileType == FullFileType {
		return "full file (abkit's own FileType)"
	}
	return "unknown GUID: read as a full file (provisional)"
}

// String formats the report: one line per matched structure, then the first mismatch.
func (p *ProbeReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "size %d bytes, read as a %s file\n", p.Size, p.Kind)
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "ok  0x%08X-0x%08X %-24s %s\n", s.Offset, s.Offset+s.Length, s.Structure, s.Detail)
	}
	if p.Err == nil {
		fmt.Fprintf(&b, "every structure matched (%d contacts)\n", p.Contacts)
	} else {
		fmt.Fprintf(&b, "MISMATCH after %d contacts: %v\n", p.Contacts, p.Err)
	}
	if p.TrailerNote != "" {
		fmt.Fprintf(&b, "trailer: %s\n", p.TrailerNote)
	}
	for _, s := range p.Provisional {
		fmt.Fprintf(&b, "provisional: %s\n", s)
	}
	if c := p.Container; c != nil {
		b.WriteString(c.String())
	}
	return b.String()
}

// HexView returns a hex dump of the bytes from off-context to off+context (clipped to the file),
// 16 per line with their offsets and ASCII, the line holding off marked with ">" and the byte at
// off bracketed.
func HexView(r io.ReaderAt, size, off int64, context int) (string, error) {
	from := max(0, (off-int64(context))&^15)
	to := min(size, off+int64(context)+1)
	if off < 0 || off > size || from >= to {
		return "", fmt.Errorf("abs: offset %d outside the file (%d bytes)", off, size)
	}
	buf := make([]byte, to-from)
	if n, err := r.ReadAt(buf, from); n < len(buf) {
		return "", fmt.Errorf("abs: reading offset %d: %w", from+int64(n), err)
	}
	var b strings.Builder
	for line := from; line < to; line += 16 {
		mark := ' '
		if off >= line && off < line+16 {
			mark = '>'
		}
		fmt.Fprintf(&b, "%c%08X ", mark, line)
		var ascii strings.Builder
		for i := line; i < line+16; i++ {
			switch {
			case i >= to:
				b.WriteString("   ")
			case i == off:
				fmt.Fprintf(&b, "[%02X", buf[i-from])
			case i == off+1:
				fmt.Fprintf(&b, "]%02X", buf[i-from])
			default:
				fmt.Fprintf(&b, " %02X", buf[i-from])
			}
			if i < to {
				c := buf[i-from]
				if c < 0x20 || c > 0x7E {
					c = '.'
				}
				ascii.WriteByte(c)
			}
		}
		if off == line+15 {
			b.WriteByte(']')
		} else {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, " |%s|\n", ascii.String())
	}
	return b.String(), nil
}
