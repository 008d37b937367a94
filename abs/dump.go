package abs

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"
)

// Dump writes every contact of r in the shape of `ABServer.exe -dumpfile`: "ContactId <guid>",
// "ouPathId <n>", then one "<attribute> <value>" line per record, a blank line between contacts.
// A normalized phone copy is followed by " (normalized)", binary values are lower-case hex,
// booleans TRUE/FALSE, an empty attribute "(empty)", a deleted object the line "(deleted)".
// A name or string holding control characters or invalid UTF-8 is printed Go-quoted ("a\nb"), so
// that no value can forge a line of the dump (a fake ContactId, say).
// On a decoding error Dump writes what it read and returns the error.
func Dump(w io.Writer, r *Reader) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	t := r.Table()
	var buf []byte
	first := true
	for c, err := range r.ContactsReused() {
		if err != nil {
			if ferr := bw.Flush(); ferr != nil {
				return ferr
			}
			return err
		}
		if !first {
			buf = append(buf, '\n')
		}
		first = false
		buf = AppendDump(buf, t, c)
		if len(buf) > 32<<10 {
			if _, err := bw.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	return bw.Flush()
}

// AppendDump appends the dump text of one contact (see Dump), without the separating blank line.
func AppendDump(buf []byte, t *Table, c *Contact) []byte {
	buf = append(buf, "ContactId "...)
	buf = append(buf, c.ID.String()...)
	buf = append(buf, "\nouPathId  "...)
	buf = strconv.AppendUint(buf, uint64(c.OuPathID), 10)
	buf = append(buf, '\n')
	if c.Deleted() {
		return append(buf, "(deleted)\n"...)
	}
	for _, v := range c.Values {
		n := len(buf)
		buf = appendSafe(buf, t.Name(v.AttrID))
		for w := len(buf) - n; w < 9; w++ { // "%-9s ", as ABServer: "title     Manager"
			buf = append(buf, ' ')
		}
		buf = append(buf, ' ')
		buf = appendSafe(buf, v.Text())
		if v.Kind == ValueNormalized {
			buf = append(buf, " (normalized)"...)
		}
		buf = append(buf, '\n')
	}
	return buf
}

// appendSafe appends s, Go-quoted when it holds control characters or invalid UTF-8.
func appendSafe(buf []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7F {
			return strconv.AppendQuote(buf, s)
		}
		ascii = ascii && c < 0x80
	}
	if !ascii && !utf8.ValidString(s) {
		return strconv.AppendQuote(buf, s)
	}
	return append(buf, s...)
}
