package ldapsync

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"

	"github.com/go-ldap/ldap/v3"
	"github.com/go-ldap/ldif"
)

// LDIFError reports an LDIF file that cannot be read as a snapshot, positioned by file and line.
type LDIFError struct {
	Path string // file name ("" when read from a stream)
	Line int    // 1-based line of the offending line, or of the record's first line
	Msg  string
}

func (e *LDIFError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("ldapsync: LDIF line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
}

// BadInput marks an unreadable snapshot as bad input.
func (e *LDIFError) BadInput() bool { return true }

// maxLDIFLine bounds one physical line of a snapshot (a large thumbnailPhoto is about 140 kB
// of base64); longer lines are reported rather than buffered without limit.
const maxLDIFLine = 16 << 20

// Snapshot is a forest read from an LDIF file: an export written by abkit (ldap export -o
// ldif), by ldifde, or by ldapsearch -LLL. It is read once by OpenSnapshot and held in memory
// (about twice the file's size); searches evaluate their filter in memory with Active Directory
// semantics (see Search). Snapshots are read-only.
type Snapshot struct {
	name, path, base string
	entries          []*ldap.Entry
	normDNs          []string // normalized DNs, for base scoping
}

var _ Source = (*Snapshot)(nil)

// OpenSnapshot reads the LDIF file at path. base is the default search base ("" = every
// entry). Syntax errors name the file and line; change records other than "changetype: add"
// (which ldifde writes) and file-URL values ("attr:< file://...") are refused.
func OpenSnapshot(name, path, base string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ldapsync: snapshot %s: %w", name, err)
	}
	defer f.Close()
	s, err := ReadSnapshot(name, f, base)
	var le *LDIFError
	if errors.As(err, &le) {
		le.Path = path
	}
	if err != nil {
		return nil, err
	}
	s.path = path
	return s, nil
}

// ReadSnapshot is OpenSnapshot over a stream; errors carry line numbers but no file name.
func ReadSnapshot(name string, r io.Reader, base string) (*Snapshot, error) {
	s := &Snapshot{name: name, base: base}
	for e, err := range readLDIF(r) {
		if err != nil {
			return nil, err
		}
		s.entries = append(s.entries, e)
		s.normDNs = append(s.normDNs, normalizeDN(e.DN))
	}
	return s, nil
}

// Name returns the forest's name.
func (s *Snapshot) Name() string { return s.name }

// BaseDN returns the default search base given to OpenSnapshot.
func (s *Snapshot) BaseDN() string { return s.base }

// Path returns the file the snapshot was read from ("" for ReadSnapshot).
func (s *Snapshot) Path() string { return s.path }

// Len returns the number of entries in the snapshot.
func (s *Snapshot) Len() int { return len(s.entries) }

// Close releases nothing; it exists to satisfy Source.
func (s *Snapshot) Close() error { return nil }

// Search streams the objects under the request's base (subtree) that match its filter. The
// filter is evaluated in memory like Active Directory does: strings case-insensitively, SIDs and
// objectGUID byte-exact (a SID may also be given as S-1-...), integers numerically, and the
// bitwise matching rules 1.2.840.113556.1.4.803 and 804.
func (s *Snapshot) Search(ctx context.Context, req SearchRequest) iter.Seq2[*Object, error] {
	return objectsOf(s.SearchEntries(ctx, req))
}

// SearchEntries is Search yielding the raw entries, limited to the requested attributes.
func (s *Snapshot) SearchEntries(ctx context.Context, req SearchRequest) iter.Seq2[*ldap.Entry, error] {
	return func(yield func(*ldap.Entry, error) bool) {
		filter := req.Filter
		if filter == "" {
			filter = DefaultFilter
		}
		match, err := compileFilter(filter)
		if err != nil {
			yield(nil, err)
			return
		}
		base := req.Base
		if base == "" {
			base = s.base
		}
		nb := normalizeDN(base)
		sel := newAttrSelection(req.Attributes)
		n := 0
		for i, e := range s.entries {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					yield(nil, err)
					return
				}
			}
			if !underBase(s.normDNs[i], nb) || !match(e) {
				continue
			}
			if req.SizeLimit > 0 && n == req.SizeLimit {
				yield(nil, &SearchError{Forest: s.name, Base: base, Filter: filter, Code: ldap.LDAPResultSizeLimitExceeded, Objects: n,
					Err: ldap.NewError(ldap.LDAPResultSizeLimitExceeded, errors.New("size limit exceeded"))})
				return
			}
			n++
			if !yield(sel.apply(e), nil) {
				return
			}
		}
	}
}

// objectsOf decodes a stream of entries into objects.
func objectsOf(entries iter.Seq2[*ldap.Entry, error]) iter.Seq2[*Object, error] {
	return func(yield func(*Object, error) bool) {
		for e, err := range entries {
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(ObjectFromEntry(e), nil) {
				return
			}
		}
	}
}

// attrSelection is the attribute list of a search: nil = ObjectAttributes, "*" = all.
type attrSelection struct {
	all  bool
	want map[string]bool
}

func newAttrSelection(attrs []string) attrSelection {
	if attrs == nil {
		attrs = ObjectAttributes
	}
	sel := attrSelection{want: make(map[string]bool, len(attrs))}
	for _, a := range attrs {
		if a == "*" {
			sel.all = true
		}
		sel.want[strings.ToLower(a)] = true
	}
	return sel
}

// apply returns e limited to the selected attributes (e itself when all are selected).
func (sel attrSelection) apply(e *ldap.Entry) *ldap.Entry {
	if sel.all {
		return e
	}
	out := &ldap.Entry{DN: e.DN}
	for _, a := range e.Attributes {
		if sel.want[strings.ToLower(a.Name)] {
			out.Attributes = append(out.Attributes, a)
		}
	}
	return out
}

// normalizeDN returns a DN in a form for case-insensitive comparison ("" for the root).
func normalizeDN(dn string) string {
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	var b strings.Builder
	for i, rdn := range parsed.RDNs {
		if i > 0 {
			b.WriteByte(',')
		}
		for j, a := range rdn.Attributes {
			if j > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strings.ToLower(a.Type))
			b.WriteByte('=')
			b.WriteString(strings.ToLower(a.Value))
		}
	}
	return b.String()
}

// underBase reports whether normalized DN dn is base or below it.
func underBase(dn, base string) bool {
	if base == "" || dn == base {
		return true
	}
	return strings.HasSuffix(dn, ","+base)
}

// ldifRecord is one record of an LDIF file: its unfolded lines and where each starts.
type ldifRecord struct {
	lines    []string
	lineNums []int
}

// readLDIF streams the content records of an LDIF file as entries. The file is split into
// records here (so that errors can name a line) and each record is parsed by go-ldap/ldif.
func readLDIF(r io.Reader) iter.Seq2[*ldap.Entry, error] {
	return func(yield func(*ldap.Entry, error) bool) {
		first := true
		for rec, err := range ldifRecords(r) {
			if err != nil {
				yield(nil, err)
				return
			}
			if first && strings.HasPrefix(strings.ToLower(rec.lines[0]), "version:") {
				if v := strings.TrimSpace(rec.lines[0][len("version:"):]); v != "1" {
					yield(nil, &LDIFError{Line: rec.lineNums[0], Msg: fmt.Sprintf("LDIF version %q, want 1", v)})
					return
				}
				rec.lines, rec.lineNums = rec.lines[1:], rec.lineNums[1:]
				if len(rec.lines) == 0 {
					first = false
					continue
				}
			}
			first = false
			e, err := parseRecord(rec)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// ldifRecords splits an LDIF stream into records: unfolds continuation lines, drops comments,
// accepts LF and CRLF line ends, and refuses file-URL values.
func ldifRecords(r io.Reader) iter.Seq2[ldifRecord, error] {
	return func(yield func(ldifRecord, error) bool) {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), maxLDIFLine)
		var rec ldifRecord
		inComment := false
		n := 0
		flush := func() bool {
			if len(rec.lines) == 0 {
				return true
			}
			for i, l := range rec.lines {
				if urlValue(l) {
					return yield(rec, &LDIFError{Line: rec.lineNums[i], Msg: "file-URL values (attr:< ...) are not accepted in snapshots"})
				}
			}
			ok := yield(rec, nil)
			rec = ldifRecord{}
			return ok
		}
		for sc.Scan() {
			n++
			line := strings.TrimSuffix(sc.Text(), "\r")
			switch {
			case line == "":
				inComment = false
				if !flush() {
					return
				}
			case line[0] == '#':
				inComment = true
			case line[0] == ' ':
				if inComment {
					continue
				}
				if len(rec.lines) == 0 {
					yield(rec, &LDIFError{Line: n, Msg: "continuation line (leading space) without a line to continue"})
					return
				}
				rec.lines[len(rec.lines)-1] += line[1:]
			default:
				inComment = false
				rec.lines = append(rec.lines, line)
				rec.lineNums = append(rec.lineNums, n)
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				yield(rec, &LDIFError{Line: n + 1, Msg: fmt.Sprintf("line longer than %d bytes", maxLDIFLine)})
			} else {
				yield(rec, &LDIFError{Line: n + 1, Msg: err.Error()})
			}
			return
		}
		flush()
	}
}

// urlValue reports whether an unfolded LDIF line has a URL value (attr:< url).
func urlValue(line string) bool {
	i := strings.IndexByte(line, ':')
	return i > 0 && i+1 < len(line) && line[i+1] == '<'
}

// parseRecord parses one record with go-ldap/ldif. Content records and "changetype: add"
// records (ldifde's form) become entries; other change records are refused.
func parseRecord(rec ldifRecord) (*ldap.Entry, error) {
	// Controls and a changetype anywhere but first are not snapshot material, and go-ldap/ldif
	// would read such lines as attributes that cannot be written back.
	for i, l := range rec.lines[1:] {
		name, value, _ := strings.Cut(l, ":")
		switch strings.ToLower(name) {
		case "control":
			return nil, &LDIFError{Line: rec.lineNums[i+1], Msg: "controls are not accepted in snapshots"}
		case "changetype":
			if i != 0 || strings.TrimSpace(value) == "" {
				return nil, &LDIFError{Line: rec.lineNums[i+1], Msg: "changetype must directly follow dn: and name a change type"}
			}
		}
	}
	var sb strings.Builder
	for _, l := range rec.lines {
		sb.WriteString(l)
		sb.WriteByte('\n')
	}
	parsed, err := ldif.Parse(sb.String())
	if err != nil {
		line, msg := locateLDIFError(rec, err)
		return nil, &LDIFError{Line: line, Msg: msg}
	}
	if len(parsed.Entries) != 1 {
		return nil, &LDIFError{Line: rec.lineNums[0], Msg: "record does not hold exactly one entry"}
	}
	switch pe := parsed.Entries[0]; {
	case pe.Entry != nil:
		fileOrder(rec, pe.Entry.Attributes)
		return pe.Entry, nil
	case pe.Add != nil:
		e := &ldap.Entry{DN: pe.Add.DN}
		for _, a := range pe.Add.Attributes {
			e.Attributes = append(e.Attributes, ldap.NewEntryAttribute(a.Type, a.Vals))
		}
		fileOrder(rec, e.Attributes)
		return e, nil
	}
	return nil, &LDIFError{Line: rec.lineNums[0], Msg: "change record (modify, delete or moddn) in a snapshot; only entries and changetype: add are accepted"}
}

// fileOrder sorts attrs in the order their names first appear in the record (go-ldap/ldif
// returns them sorted or in map order), so that a snapshot keeps the file's order.
func fileOrder(rec ldifRecord, attrs []*ldap.EntryAttribute) {
	pos := make(map[string]int, len(rec.lines))
	for i, l := range rec.lines {
		if c := strings.IndexByte(l, ':'); c > 0 {
			name := strings.ToLower(l[:c])
			if _, seen := pos[name]; !seen {
				pos[name] = i
			}
		}
	}
	slices.SortStableFunc(attrs, func(a, b *ldap.EntryAttribute) int {
		return pos[strings.ToLower(a.Name)] - pos[strings.ToLower(b.Name)]
	})
}

// locateLDIFError finds the line of a record that go-ldap/ldif refused (it reports the line
// after the record): the first line without "attr:" or with bad base64, else the record's
// first line.
func locateLDIFError(rec ldifRecord, err error) (int, string) {
	msg := err.Error()
	var pe *ldif.ParseError
	if errors.As(err, &pe) {
		msg = pe.Message
	}
	for i, l := range rec.lines {
		colon := strings.IndexByte(l, ':')
		if colon <= 0 {
			return rec.lineNums[i], fmt.Sprintf("%s (line %q has no attribute name and colon)", msg, truncate(l, 40))
		}
		if colon+1 < len(l) && l[colon+1] == ':' {
			if _, err := base64.StdEncoding.DecodeString(strings.TrimSpace(l[colon+2:])); err != nil {
				return rec.lineNums[i], fmt.Sprintf("bad base64 value for %s: %v", l[:colon], err)
			}
		}
	}
	return rec.lineNums[0], msg
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// LDIFWriter writes entries as LDIF that OpenSnapshot (and ldapadd) read back identically:
// values that are not safe strings (binary SIDs and GUIDs, non-ASCII text, leading or trailing
// spaces) are base64-encoded with "::", and lines are folded at 76 columns.
type LDIFWriter struct {
	w   *bufio.Writer
	buf []byte
}

// NewLDIFWriter returns a writer over w. Call Flush when done.
func NewLDIFWriter(w io.Writer) *LDIFWriter {
	return &LDIFWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes one entry followed by a blank line.
func (lw *LDIFWriter) Write(e *ldap.Entry) error {
	b := lw.buf[:0]
	b = appendLDIFLine(b, "dn", []byte(e.DN))
	for _, a := range e.Attributes {
		for _, v := range a.ByteValues {
			b = appendLDIFLine(b, a.Name, v)
		}
	}
	b = append(b, '\n')
	lw.buf = b
	_, err := lw.w.Write(b)
	return err
}

// Flush writes buffered data to the underlying writer.
func (lw *LDIFWriter) Flush() error { return lw.w.Flush() }

// WriteSnapshot writes entries as an LDIF snapshot (see LDIFWriter).
func WriteSnapshot(w io.Writer, entries []*ldap.Entry) error {
	lw := NewLDIFWriter(w)
	for _, e := range entries {
		if err := lw.Write(e); err != nil {
			return err
		}
	}
	return lw.Flush()
}

const ldifFoldWidth = 76

// appendLDIFLine appends "name: value" or "name:: base64", folded, with a newline.
func appendLDIFLine(b []byte, name string, v []byte) []byte {
	start := len(b)
	b = append(b, name...)
	if safeLDIFString(v) {
		b = append(b, ": "...)
		b = append(b, v...)
	} else {
		b = append(b, ":: "...)
		b = base64.StdEncoding.AppendEncode(b, v)
	}
	if len(b)-start > ldifFoldWidth {
		b = foldLDIF(b, start)
	}
	return append(b, '\n')
}

// foldLDIF folds the line that starts at b[start:] into 76-column pieces, continuation lines
// starting with one space. It folds on bytes, as RFC 2849 allows (the reader joins them back).
func foldLDIF(b []byte, start int) []byte {
	line := bytes.Clone(b[start:])
	b = b[:start]
	b = append(b, line[:ldifFoldWidth]...)
	for rest := line[ldifFoldWidth:]; len(rest) > 0; {
		n := min(len(rest), ldifFoldWidth-1)
		b = append(b, '\n', ' ')
		b = append(b, rest[:n]...)
		rest = rest[n:]
	}
	return b
}

// safeLDIFString reports whether v can be written as a plain LDIF value (RFC 2849 SAFE-STRING,
// and no trailing space, which readers may strip). Empty values are written as "name:: ",
// since go-ldap/ldif refuses "name:" with nothing after it.
func safeLDIFString(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case ' ', ':', '<':
		return false
	}
	if v[len(v)-1] == ' ' {
		return false
	}
	for _, c := range v {
		if c == 0 || c == '\n' || c == '\r' || c > 127 {
			return false
		}
	}
	return true
}
