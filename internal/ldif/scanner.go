package ldif

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Kind is what a record is.
type Kind uint8

// Record kinds.
const (
	Entry     Kind = iota // a content record, or a "changetype: add" record
	Modify                // changetype: modify (Record.Mods)
	Delete                // changetype: delete
	ModDN                 // changetype: moddn or modrdn (newrdn and friends in Record.Attrs)
	Reference             // a search reference: ref: lines and no dn: (ldapsearch without -LLL)
	Result                // ldapsearch's trailer: the search: and result: lines
)

var kindNames = [...]string{"entry", "modify", "delete", "moddn", "search reference", "search result"}

// String names the kind for messages.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Attr is one "name: value" line of a record.
type Attr struct {
	Name  string // as spelled in the file
	Value []byte // decoded; owned by the Scanner until its next call to Next
	Line  int    // line number of the line (its first physical line)
}

// Mod is one operation of a modify record.
type Mod struct {
	Op     string // "add", "delete", "replace" or "increment"
	Name   string // the attribute it changes
	Line   int    // line of the operation
	Values []Attr // the values, a part of Record.Attrs
}

// Record is one LDIF record. The Scanner reuses it: it is valid until the next call to Next.
type Record struct {
	Kind       Kind
	DN         string // "" for the root DSE and for Reference and Result records
	Line       int    // line of the record's first line
	ChangeType string // as written ("" for a content record)
	Attrs      []Attr // file order: attributes, or the values of Mods, or the lines of other kinds
	Mods       []Mod  // operations of a Modify record

	// Scratch of Entry, reused from record to record.
	idx    []int
	names  []string
	counts []int
}

// Error is a record that cannot be read, or an input that cannot be read at all. It names the
// file, the line and, once read, the record's DN.
type Error struct {
	Path string `json:"path,omitempty"` // file name ("" when read from a stream)
	Line int    `json:"line"`           // 1-based line
	DN   string `json:"dn,omitempty"`   // DN of the record, when its dn: line was read
	Msg  string `json:"message"`        // what is wrong
}

func (e *Error) Error() string {
	s := position(e.Path, e.Line) + e.Msg
	if e.DN != "" {
		s += fmt.Sprintf(" (dn: %s)", e.DN)
	}
	return s
}

// position is where an error is, "path:line: " or "LDIF line N: ".
func position(path string, line int) string {
	if path == "" {
		return fmt.Sprintf("LDIF line %d: ", line)
	}
	return fmt.Sprintf("%s:%d: ", path, line)
}

// BadInput marks an unreadable record as bad input.
func (e *Error) BadInput() bool { return true }

// Options configure a Scanner.
type Options struct {
	Path      string // file name for errors
	FirstLine int    // number of the first line (0: 1)
	MaxLine   int    // longest logical (unfolded) line in bytes (0: DefaultMaxLine)
	MaxRecord int    // most decoded value bytes in one record (0: DefaultMaxRecord)
	// Keep, when set, says which attributes of Entry records to decode; the others are checked
	// for syntax but not decoded nor returned. It is called with the name as spelled.
	Keep func(name string) bool
}

// Bounds of one line and one record: a large thumbnailPhoto is about 140 kB of base64.
const (
	DefaultMaxLine   = 16 << 20
	DefaultMaxRecord = 64 << 20
)

// maxNames bounds the interned attribute names: a file of random names must not fill memory.
const maxNames = 4096

// Scanner reads LDIF records one by one from a stream.
type Scanner struct {
	r     *bufio.Reader
	opt   Options
	line  int  // number of the next physical line
	first bool // no record yet: version: is accepted
	long  bool // the current logical line was cut at MaxLine
	err   error

	buf      []byte // the current logical line: a part of own, or of data
	own      []byte // room for logical lines read from r, or folded
	inMem    bool   // reading data (ResetBytes), not r
	data     []byte // the rest of the input in memory
	vals     []byte // decoded values of the current record, back to back
	spans    []span // where each Attr's value is in vals
	rec      Record
	pos      int       // attribute lines of the current Entry record so far
	byPos    []posName // by line position, from the records before
	mod      int       // index of the open Mod, -1 when none
	modStart []int     // index in rec.Attrs of each Mod's first value
	names    map[string]string
}

type span struct{ start, end int }

// NewScanner returns a scanner over r.
func NewScanner(r io.Reader, opt Options) *Scanner {
	s := &Scanner{}
	s.Reset(r, opt)
	return s
}

// Reset makes s read r as a new input, keeping its memory. An input that starts with a UTF-8
// byte order mark is read without it; one that starts with a UTF-16 mark (FF FE or FE FF, as
// ldifde -u writes) is transcoded to UTF-8 as it is read (see Decode), its line numbers kept.
func (s *Scanner) Reset(r io.Reader, opt Options) {
	if opt.FirstLine == 0 {
		opt.FirstLine = 1
	}
	if opt.MaxLine == 0 {
		opt.MaxLine = DefaultMaxLine
	}
	if opt.MaxRecord == 0 {
		opt.MaxRecord = DefaultMaxRecord
	}
	if s.r == nil {
		s.r = bufio.NewReaderSize(r, 64<<10)
	} else {
		s.r.Reset(r)
	}
	s.opt, s.line, s.first, s.err, s.inMem, s.data = opt, opt.FirstLine, true, nil, false, nil
	if r != nil && opt.FirstLine == 1 {
		if u, ok := peekUTF16(s.r, opt.Path); ok {
			s.r = bufio.NewReaderSize(u, 64<<10)
		} else if b, err := s.r.Peek(len(bom)); err == nil && bytes.Equal(b, bom) {
			s.r.Discard(len(bom))
		}
	}
}

// ResetBytes makes s read data as a new input, keeping its memory. Lines that are not folded
// are read in place: data must not change until the scan is done. Data in UTF-16 (see Reset)
// is read as a stream, transcoded.
func (s *Scanner) ResetBytes(data []byte, opt Options) {
	if _, ok := utf16Order(data); ok && opt.FirstLine <= 1 {
		s.Reset(bytes.NewReader(data), opt)
		return
	}
	s.Reset(bytes.NewReader(nil), opt)
	s.inMem, s.data = true, data
	if opt.FirstLine <= 1 {
		s.data = bytes.TrimPrefix(s.data, bom)
	}
}

// bom is the UTF-8 byte order mark some Windows tools put before the first line; it is skipped.
var bom = []byte{0xef, 0xbb, 0xbf}

// Next returns the next record. At the end of the input it returns io.EOF. A record that cannot
// be read is returned as an *Error after the scanner skipped it: calling Next again goes on with
// the record after it. Any other error (reading the input failed) ends the scan.
func (s *Scanner) Next() (*Record, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.rec = Record{Attrs: s.rec.Attrs[:0], Mods: s.rec.Mods[:0], idx: s.rec.idx, names: s.rec.names, counts: s.rec.counts}
	s.vals, s.spans, s.mod, s.modStart, s.pos = s.vals[:0], s.spans[:0], -1, s.modStart[:0], 0
	var recErr *Error
	inRec := false
	for {
		n, ok, err := s.nextLine()
		if err != nil {
			var ee *EncodingError
			if !errors.As(err, &ee) {
				err = fmt.Errorf("%s: %w", s.where(), err)
			}
			s.err = err
			return nil, s.err
		}
		if !ok || len(s.buf) == 0 && !s.long {
			switch {
			case recErr != nil:
				return nil, recErr
			case inRec:
				if err := s.finish(); err != nil {
					return nil, err
				}
				return &s.rec, nil
			case !ok:
				s.err = io.EOF
				return nil, io.EOF
			}
			continue
		}
		if recErr != nil || len(s.buf) > 0 && s.buf[0] == '#' {
			continue
		}
		switch {
		case s.long:
			recErr = s.errorf(n, "line longer than %d bytes", s.opt.MaxLine)
		case s.buf[0] == ' ':
			recErr = s.errorf(n, "continuation line (leading space) without a line to continue")
		default:
			recErr = s.addLine(s.buf, n, &inRec)
		}
	}
}

func (s *Scanner) where() string {
	if s.opt.Path == "" {
		return "LDIF"
	}
	return s.opt.Path
}

func (s *Scanner) errorf(line int, format string, args ...any) *Error {
	return &Error{Path: s.opt.Path, Line: line, DN: s.rec.DN, Msg: fmt.Sprintf(format, args...)}
}

// nextLine reads one logical line into s.buf: a physical line and its continuation lines, line
// ends and fold spaces removed, in time linear in its length. ok is false at the end of input.
func (s *Scanner) nextLine() (n int, ok bool, err error) {
	if s.inMem {
		n, ok = s.nextLineBytes()
		return n, ok, nil
	}
	s.own, s.long = s.own[:0], false
	defer func() { s.buf = s.own }()
	n = s.line
	got, err := s.appendPhys()
	if !got || err != nil {
		return n, got, err
	}
	if len(s.own) == 0 {
		return n, true, nil // a blank line continues nothing
	}
	for {
		c, perr := s.r.Peek(1)
		if perr != nil || c[0] != ' ' {
			return n, true, nil
		}
		s.r.ReadByte()
		if _, err := s.appendPhys(); err != nil {
			return n, true, err
		}
	}
}

// nextLineBytes is nextLine over an input in memory (ResetBytes): a line that is not folded is
// a part of the input, not a copy.
func (s *Scanner) nextLineBytes() (int, bool) {
	n := s.line
	s.long = false
	line, ok := s.physBytes()
	if !ok {
		s.buf = nil
		return n, false
	}
	if len(line) == 0 || len(s.data) == 0 || s.data[0] != ' ' {
		s.buf = line
		if len(line) > s.opt.MaxLine {
			s.buf, s.long = nil, true
		}
		return n, true
	}
	s.own = append(s.own[:0], line...)
	for len(s.data) > 0 && s.data[0] == ' ' {
		s.data = s.data[1:]
		frag, _ := s.physBytes()
		if len(s.own)+len(frag) > s.opt.MaxLine {
			s.long = true
		}
		if !s.long {
			s.own = append(s.own, frag...)
		}
	}
	s.buf = s.own
	if s.long {
		s.buf = nil
	}
	return n, true
}

// physBytes takes one physical line off the input in memory, without its line end.
func (s *Scanner) physBytes() ([]byte, bool) {
	if len(s.data) == 0 {
		return nil, false
	}
	var line []byte
	if i := bytes.IndexByte(s.data, '\n'); i >= 0 {
		line, s.data = s.data[:i], s.data[i+1:]
	} else {
		line, s.data = s.data, nil
	}
	s.line++
	return bytes.TrimSuffix(line, []byte{'\r'}), true
}

// appendPhys appends one physical line to s.own without its line end. It reports whether there
// was one.
func (s *Scanner) appendPhys() (bool, error) {
	got := false
	for {
		frag, err := s.r.ReadSlice('\n')
		got = got || len(frag) > 0
		if len(s.own)+len(frag) > s.opt.MaxLine+2 {
			s.long = true
		}
		if !s.long {
			s.own = append(s.own, frag...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return got, err
		}
		break
	}
	if !got {
		return false, nil
	}
	s.line++
	s.own = bytes.TrimSuffix(s.own, []byte{'\n'})
	s.own = bytes.TrimSuffix(s.own, []byte{'\r'})
	if len(s.own) > s.opt.MaxLine {
		s.long = true
	}
	return true, nil
}

// addLine handles one logical line of a record.
func (s *Scanner) addLine(l []byte, n int, inRec *bool) *Error {
	if s.rec.Kind == Modify && *inRec && len(l) == 1 && l[0] == '-' {
		if s.mod < 0 {
			return s.errorf(n, "- without an operation to close")
		}
		s.mod = -1
		return nil
	}
	colon := bytes.IndexByte(l, ':')
	if colon <= 0 {
		return s.errorf(n, "want attr: value, got %q", truncate(l, 60))
	}
	name := l[:colon]
	if !validAttrName(name) {
		return s.errorf(n, "bad attribute name %q", truncate(name, 60))
	}
	val, b64 := l[colon+1:], false
	switch {
	case len(val) > 0 && val[0] == ':':
		val, b64 = val[1:], true
	case len(val) > 0 && val[0] == '<':
		return s.errorf(n, "URL values (%s:< ...) are not accepted", name)
	}
	val = bytes.TrimLeft(val, " ")
	if !*inRec {
		return s.startRecord(name, val, b64, n, inRec)
	}
	switch s.rec.Kind {
	case Reference, Result, ModDN:
		return s.appendAttr(name, val, b64, n)
	case Delete:
		return s.errorf(n, "a delete record has no lines after changetype")
	case Modify:
		return s.modLine(name, val, b64, n)
	}
	switch {
	case bytes.EqualFold(name, []byte("changetype")):
		if len(s.rec.Attrs) > 0 || s.rec.ChangeType != "" {
			return s.errorf(n, "changetype must directly follow dn:")
		}
		return s.changeType(val, b64, n)
	case bytes.EqualFold(name, []byte("control")) && len(s.rec.Attrs) == 0 && s.rec.ChangeType == "":
		return s.errorf(n, "controls are not accepted")
	}
	if !s.keep(name) {
		// Not decoded, but checked: a record reads the same whatever is kept.
		if b64 && !validBase64(val) {
			return s.errorf(n, "bad base64 value of %s", truncate(name, 60))
		}
		return nil
	}
	return s.appendAttr(name, val, b64, n)
}

// startRecord handles the first line of a record.
func (s *Scanner) startRecord(name, val []byte, b64 bool, n int, inRec *bool) *Error {
	first := s.first
	s.first = false
	s.rec.Line = n
	switch strings.ToLower(string(name)) {
	case "version":
		if !first {
			return s.errorf(n, "version: is only accepted on the first line")
		}
		if string(val) != "1" || b64 {
			return s.errorf(n, "LDIF version %q, want 1", val)
		}
		return nil
	case "dn":
		if err := s.decode(name, val, b64, n); err != nil {
			return err
		}
		s.rec.DN = string(s.vals)
		s.vals = s.vals[:0]
		s.rec.Kind, *inRec = Entry, true
		return nil
	case "ref":
		s.rec.Kind, *inRec = Reference, true
	case "search", "result":
		s.rec.Kind, *inRec = Result, true
	default:
		return s.errorf(n, "record does not start with dn: (got %s:)", truncate(name, 60))
	}
	return s.appendAttr(name, val, b64, n)
}

// changeType handles the changetype: line of a dn: record.
func (s *Scanner) changeType(val []byte, b64 bool, n int) *Error {
	if b64 {
		return s.errorf(n, "base64 changetype")
	}
	switch string(val) {
	case "add":
		s.rec.Kind = Entry
	case "modify":
		s.rec.Kind = Modify
	case "delete":
		s.rec.Kind = Delete
	case "moddn", "modrdn":
		s.rec.Kind = ModDN
	default:
		return s.errorf(n, "unknown changetype %q", truncate(val, 30))
	}
	s.rec.ChangeType = string(val)
	return nil
}

// modLine handles a line of a modify record: an operation, or a value of the open one.
func (s *Scanner) modLine(name, val []byte, b64 bool, n int) *Error {
	if s.mod < 0 {
		op := strings.ToLower(string(name))
		switch op {
		case "add", "delete", "replace", "increment":
		default:
			return s.errorf(n, "want add:, delete:, replace: or increment:, got %s:", truncate(name, 30))
		}
		if b64 || !validAttrName(val) {
			return s.errorf(n, "%s: bad attribute name %q", op, truncate(val, 60))
		}
		s.mod = len(s.rec.Mods)
		s.rec.Mods = append(s.rec.Mods, Mod{Op: op, Name: s.intern(val), Line: n})
		s.modStart = append(s.modStart, len(s.rec.Attrs))
		return nil
	}
	m := &s.rec.Mods[s.mod]
	if !strings.EqualFold(m.Name, string(name)) {
		return s.errorf(n, "value of %s inside the %s of %s", name, m.Op, m.Name)
	}
	return s.appendAttr(name, val, b64, n)
}

// appendAttr decodes a value into the record.
func (s *Scanner) appendAttr(name, val []byte, b64 bool, n int) *Error {
	start := len(s.vals)
	if err := s.decode(name, val, b64, n); err != nil {
		return err
	}
	s.spans = append(s.spans, span{start, len(s.vals)})
	var nm string
	if p := s.pos - 1; s.rec.Kind == Entry && p >= 0 && p < len(s.byPos) && s.byPos[p].name == string(name) {
		nm = s.byPos[p].name
	} else {
		nm = s.intern(name)
	}
	s.rec.Attrs = append(s.rec.Attrs, Attr{Name: nm, Line: n})
	return nil
}

// decode appends val, base64-decoded when b64, to s.vals.
func (s *Scanner) decode(name, val []byte, b64 bool, n int) *Error {
	if !b64 {
		s.vals = append(s.vals, val...)
	} else {
		val = bytes.TrimRight(val, " ")
		start := len(s.vals)
		need := base64.StdEncoding.DecodedLen(len(val))
		s.vals = append(s.vals, make([]byte, need)...)
		k, err := base64.StdEncoding.Decode(s.vals[start:], val)
		if err != nil {
			s.vals = s.vals[:start]
			return s.errorf(n, "bad base64 value of %s", truncate(name, 60))
		}
		s.vals = s.vals[:start+k]
	}
	if len(s.vals) > s.opt.MaxRecord {
		return s.errorf(n, "record holds more than %d bytes of values", s.opt.MaxRecord)
	}
	return nil
}

// finish completes the current record: values and modify operations point into s.vals.
func (s *Scanner) finish() *Error {
	if s.rec.Kind == Modify {
		if s.mod >= 0 {
			m := s.rec.Mods[s.mod]
			return s.errorf(m.Line, "%s: %s not closed with -", m.Op, m.Name)
		}
		if len(s.rec.Mods) == 0 {
			return s.errorf(s.rec.Line, "modify record without operations")
		}
	}
	for i, sp := range s.spans {
		s.rec.Attrs[i].Value = s.vals[sp.start:sp.end:sp.end]
	}
	// Each Mod's values are the Attrs appended while it was open.
	for i := range s.rec.Mods {
		end := len(s.rec.Attrs)
		if i+1 < len(s.modStart) {
			end = s.modStart[i+1]
		}
		s.rec.Mods[i].Values = s.rec.Attrs[s.modStart[i]:end:end]
	}
	return nil
}

// posName is what the scanner knows of the attribute name on one line position of a record.
type posName struct {
	name string
	keep bool
}

// keep reports whether the attribute on the current line of an Entry record is kept (Keep).
// Records of one kind list their attributes in the same order, so the answer for the same
// position in the previous record is tried first; only a new name is interned and asked about.
func (s *Scanner) keep(name []byte) bool {
	pos := s.pos
	s.pos++
	if pos < len(s.byPos) && s.byPos[pos].name == string(name) {
		return s.byPos[pos].keep
	}
	pn := posName{name: s.intern(name), keep: true}
	if s.opt.Keep != nil {
		pn.keep = s.opt.Keep(pn.name)
	}
	if pos < len(s.byPos) {
		s.byPos[pos] = pn
	} else if pos == len(s.byPos) && pos < maxNames {
		s.byPos = append(s.byPos, pn)
	}
	return pn.keep
}

// validBase64 reports whether base64.StdEncoding decodes v (trailing spaces aside) without
// decoding it: alphabet characters, '=' padding only at the end, a multiple of four of them
// (the decoder skips CR and LF).
func validBase64(v []byte) bool {
	v = bytes.TrimRight(v, " ")
	n, pad := 0, 0
	for _, c := range v {
		switch {
		case c == '\r' || c == '\n':
			continue
		case c == '=':
			pad++
		case pad > 0:
			return false
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
		default:
			return false
		}
		n++
	}
	return n%4 == 0 && pad <= 2 && (pad == 0 || n-pad > 0 && (n-pad)%4 >= 2)
}

// intern returns name as a string, allocating each distinct name once.
func (s *Scanner) intern(name []byte) string {
	if v, ok := s.names[string(name)]; ok {
		return v
	}
	v := string(name)
	if s.names == nil {
		s.names = map[string]string{}
	}
	if len(s.names) < maxNames {
		s.names[v] = v
	}
	return v
}

// validAttrName reports whether b is an attribute description: a letter then letters, digits,
// '-' and ';' (options, which may also hold '=' and '*' as Active Directory's range option
// does: member;range=1500-*), or a numeric OID.
func validAttrName(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if c := b[0]; c >= '0' && c <= '9' {
		dot := true // no leading dot, no two dots in a row, no trailing dot
		for _, c := range b {
			switch {
			case c >= '0' && c <= '9':
				dot = false
			case c == '.' && !dot:
				dot = true
			default:
				return false
			}
		}
		return !dot
	}
	opts := false
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == ';'):
			opts = opts || c == ';'
		case opts && (c == '=' || c == '*'):
		default:
			return false
		}
	}
	return true
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}
