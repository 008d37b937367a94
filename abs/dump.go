package abs

import (
	"bufio"
	"io"
	"strconv"
)

// Dump writes every contact of r in the shape of `ABServer.exe -dumpfile`: "ContactId <guid>",
// "ouPathId <n>", then one "<attribute> <value>" line per record, a blank line between contacts.
// A normalized phone copy is followed by " (normalized)", binary values are lower-case hex,
// booleans TRUE/FALSE, an empty attribute "(empty)", a deleted object the line "(deleted)".
// On a decoding error Dump writes what it read and returns the error.
func Dump(w io.Writer, r *Reader) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	t := r.Table()
	var buf []byte
	first := true
	for c, err := range r.Contacts() {
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
		name := t.Name(v.AttrID)
		buf = append(buf, name...)
		for i := len(name); i < 10; i++ {
			buf = append(buf, ' ')
		}
		if len(name) >= 10 {
			buf = append(buf, ' ')
		}
		buf = append(buf, v.Text()...)
		if v.Kind == ValueNormalized {
			buf = append(buf, " (normalized)"...)
		}
		buf = append(buf, '\n')
	}
	return buf
}
