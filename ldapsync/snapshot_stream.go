package ldapsync

// This file is the streaming snapshot reader, added for one-pass work over very large exports
// (abkit dupes over a million objects). It is separate from Snapshot (snapshot.go), which reads a
// file once into memory and serves any number of searches from it.

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// StreamSnapshot is a read-only Source over an LDIF file that holds nothing in memory: every
// search reads the file again, splits it into blocks of whole records, parses the blocks on all
// cores (keeping only the attributes the search asks for and its filter needs) and yields the
// matching objects in file order. Filters are evaluated as Snapshot evaluates them. It accepts
// the same LDIF as Snapshot: content records and "changetype: add" records, LF or CRLF, folded
// lines, base64 values; comments; file-URL values and other change records are refused.
type StreamSnapshot struct {
	name, path, base string
}

var _ Source = (*StreamSnapshot)(nil)

// OpenStreamSnapshot checks that the LDIF file at path can be opened and returns a streaming
// source over it. base is the default search base ("" = every entry).
func OpenStreamSnapshot(name, path, base string) (*StreamSnapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ldapsync: snapshot %s: %w", name, err)
	}
	f.Close()
	return &StreamSnapshot{name: name, path: path, base: base}, nil
}

// Name returns the forest's name.
func (s *StreamSnapshot) Name() string { return s.name }

// BaseDN returns the default search base.
func (s *StreamSnapshot) BaseDN() string { return s.base }

// Close releases nothing: files are opened per search.
func (s *StreamSnapshot) Close() error { return nil }

// streamBlockSize is the size of the blocks the file is read in; a block is extended to the
// end of the record it cuts.
const streamBlockSize = 4 << 20

// streamBlock is a run of whole records and the line number of its first line.
type streamBlock struct {
	seq  int
	line int
	data []byte
}

// streamResult is what a worker made of one block.
type streamResult struct {
	seq  int
	objs []*Object
	err  error
}

// Search streams the objects under the request's base that match its filter, in file order.
func (s *StreamSnapshot) Search(ctx context.Context, req SearchRequest) iter.Seq2[*Object, error] {
	return func(yield func(*Object, error) bool) {
		filter, base, match, err := snapshotQuery(req, s.base)
		if err != nil {
			yield(nil, err)
			return
		}
		keep, want, err := streamKeepSet(req.Attributes, filter)
		if err != nil {
			yield(nil, err)
			return
		}
		f, err := os.Open(s.path)
		if err != nil {
			yield(nil, fmt.Errorf("ldapsync: snapshot %s: %w", s.name, err))
			return
		}
		defer f.Close()

		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		workers := max(1, runtime.GOMAXPROCS(0))
		blocks := make(chan streamBlock, workers)
		results := make(chan streamResult, 2*workers)
		free := make(chan []byte, 2*workers+2)
		splitErr := make(chan error, 1)
		go func() { splitErr <- splitBlocks(ctx, f, blocks, free) }()
		done := make(chan struct{})
		for range workers {
			go func() {
				defer func() { done <- struct{}{} }()
				p := streamParser{keep: keep, want: want, trim: len(keep) != len(want), match: match, base: normalizeDN(base), rawBase: base}
				for k := range keep {
					if len(k) < len(p.keepLen) {
						p.keepLen[len(k)] = true
					}
				}
				for b := range blocks {
					objs, err := p.block(b)
					select { // the values were copied out: the buffer can be reused
					case free <- b.data[:0]:
					default:
					}
					select {
					case results <- streamResult{seq: b.seq, objs: objs, err: err}:
					case <-ctx.Done():
						return
					}
				}
			}()
		}
		go func() {
			for range workers {
				<-done
			}
			close(results)
		}()

		// Yield in block order; a result that arrives early waits in pending.
		pending := map[int]streamResult{}
		next, n := 0, 0
		for r := range results {
			pending[r.seq] = r
			for {
				cur, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				if cur.err != nil {
					var le *LDIFError
					if errors.As(cur.err, &le) {
						le.Path = s.path
					}
					yield(nil, cur.err)
					return
				}
				for _, o := range cur.objs {
					if req.SizeLimit > 0 && n == req.SizeLimit {
						yield(nil, sizeLimitError(s.name, base, filter, n))
						return
					}
					n++
					if !yield(o, nil) {
						return
					}
				}
			}
		}
		if err := <-splitErr; err != nil && !errors.Is(err, context.Canceled) {
			yield(nil, fmt.Errorf("ldapsync: snapshot %s: %w", s.name, err))
			return
		}
		if err := ctx.Err(); err != nil {
			yield(nil, err)
		}
	}
}

// splitBlocks reads r in blocks that end at a record boundary (an empty line) and sends them,
// numbered, with the line number each starts at. Buffers come back through free once parsed.
// It closes out when done.
func splitBlocks(ctx context.Context, r io.Reader, out chan<- streamBlock, free <-chan []byte) error {
	defer close(out)
	var carry []byte
	seq, line := 0, 1
	for {
		var buf []byte
		select {
		case buf = <-free:
		default:
		}
		if need := len(carry) + streamBlockSize; cap(buf) < need {
			buf = make([]byte, need)
		}
		buf = buf[:len(carry)+streamBlockSize]
		copy(buf, carry)
		n, err := io.ReadFull(r, buf[len(carry):])
		data := buf[:len(carry)+n]
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return err
		}
		cut := len(data)
		if !eof {
			// End the block after the last blank line; the rest starts the next block.
			cut = lastRecordEnd(data)
			if cut < 0 {
				if len(data) > maxLDIFLine+streamBlockSize {
					return &LDIFError{Line: line, Msg: fmt.Sprintf("record longer than %d bytes", maxLDIFLine+streamBlockSize)}
				}
				carry = append(carry[:0], data...)
				continue
			}
		}
		block := data[:cut]
		carry = append(carry[:0], data[cut:]...)
		select {
		case out <- streamBlock{seq: seq, line: line, data: block}:
		case <-ctx.Done():
			return ctx.Err()
		}
		seq++
		line += bytes.Count(block, []byte("\n"))
		if eof {
			return nil
		}
	}
}

// lastRecordEnd returns the offset just after the last blank line in data ("\n\n" or
// "\n\r\n"), or -1. It scans backwards, so it usually stops within the last record.
func lastRecordEnd(data []byte) int {
	for i := len(data) - 1; i > 0; i-- {
		if data[i] != '\n' {
			continue
		}
		switch {
		case data[i-1] == '\n':
			return i + 1
		case data[i-1] == '\r' && i > 1 && data[i-2] == '\n':
			return i + 1
		}
	}
	return -1
}

// streamKeepSet returns the lower-case names of the attributes a search must parse: the
// requested ones (ObjectAttributes when nil) and those its filter tests (nil means all), and
// the requested ones alone (returned; nil means all).
func streamKeepSet(attrs []string, filter string) (keep, want map[string]bool, err error) {
	if attrs == nil {
		attrs = ObjectAttributes
	}
	want = map[string]bool{}
	for _, a := range attrs {
		if a == "*" {
			return nil, nil, nil
		}
		want[strings.ToLower(a)] = true
	}
	keep = maps.Clone(want)
	p, err := ldap.CompileFilter(filter)
	if err != nil {
		return nil, nil, &FilterError{Filter: filter, Err: err}
	}
	var walk func(p *ber.Packet)
	walk = func(p *ber.Packet) {
		switch p.Tag {
		case ldap.FilterAnd, ldap.FilterOr, ldap.FilterNot:
			for _, c := range p.Children {
				walk(c)
			}
		case ldap.FilterPresent:
			keep[strings.ToLower(p.Data.String())] = true
		case ldap.FilterEqualityMatch, ldap.FilterApproxMatch, ldap.FilterGreaterOrEqual, ldap.FilterLessOrEqual, ldap.FilterSubstrings:
			if len(p.Children) > 0 {
				keep[strings.ToLower(p.Children[0].Data.String())] = true
			}
		case ldap.FilterExtensibleMatch:
			for _, c := range p.Children {
				if c.Tag == ldap.MatchingRuleAssertionType {
					keep[strings.ToLower(c.Data.String())] = true
				}
			}
		}
	}
	walk(p)
	return keep, want, nil
}

// streamParser parses blocks of records for one search; one per worker. The values of one
// record are gathered in a scratch buffer and copied out once per record, so that an entry
// costs a handful of allocations rather than two per value.
type streamParser struct {
	keep    map[string]bool // parsed; nil: every attribute
	keepLen [64]bool        // name lengths in keep (longer names are always looked up)
	want    map[string]bool // returned (keep without the filter's own attributes)
	trim    bool            // keep has attributes that want has not
	match   matcher
	base    string // normalized
	rawBase string

	lower  []byte               // scratch: the current attribute name in lower case
	names0 map[string]string    // interned attribute names
	cache  []*nameInfo          // by line of the record, from the records before
	byRaw  map[string]*nameInfo // by name as spelled (at most maxNames)
	pos    int                  // line of the current record (after dn)
	// The record being parsed.
	dn      string
	inRec   bool
	recLine int
	names   []string    // attribute names, first spelling seen
	lnames  []string    // the same in lower case
	fields  []int       // the same as field numbers (decodeObjectFields)
	vals    []valueSpan // values in file order
	scratch []byte      // decoded values back to back
}

// Sizes of recordMem: records with at most this many kept attributes and values get their
// entry's slices from one allocation.
const (
	recordAttrs  = 16
	recordValues = 32
)

// recordMem holds one record's entry and object with what they point to, so that a record
// costs one allocation for all of them (they live and die together).
type recordMem struct {
	obj   Object
	entry ldap.Entry
	store objectStorage
	attrs [recordAttrs]ldap.EntryAttribute
	ptrs  [recordAttrs]*ldap.EntryAttribute
	strs  [recordValues]string
	raws  [recordValues][]byte
}

// valueSpan is one value of the current record: attribute index and where it is in scratch.
type valueSpan struct {
	attr       int
	start, end int
}

// block parses the records of b and returns the matching objects.
func (p *streamParser) block(b streamBlock) ([]*Object, error) {
	var out []*Object
	data := b.data
	line := b.line
	inComment := false
	p.reset()
	for len(data) > 0 {
		// One logical line: a physical line plus its continuation lines.
		end := bytes.IndexByte(data, '\n')
		if end < 0 {
			end = len(data)
		}
		phys := bytes.TrimSuffix(data[:end], []byte("\r"))
		startLine := line
		rest := data[min(end+1, len(data)):]
		line++
		switch {
		case len(phys) == 0:
			inComment = false
			if o := p.finish(); o != nil {
				out = append(out, o)
			}
			data = rest
			continue
		case phys[0] == '#':
			inComment = true
			data = rest
			continue
		case phys[0] == ' ':
			if inComment {
				data = rest
				continue
			}
			return nil, &LDIFError{Line: startLine, Msg: "continuation line (leading space) without a line to continue"}
		}
		inComment = false
		logical, folded := phys, false
		for len(rest) > 0 && rest[0] == ' ' {
			e2 := bytes.IndexByte(rest, '\n')
			if e2 < 0 {
				e2 = len(rest)
			}
			if !folded {
				logical, folded = bytes.Clone(phys), true
			}
			logical = append(logical, bytes.TrimSuffix(rest[1:e2], []byte("\r"))...)
			rest = rest[min(e2+1, len(rest)):]
			line++
		}
		data = rest
		// Like go-ldap/ldif (which Snapshot uses): every trailing CR of the logical line goes.
		logical = bytes.TrimRight(logical, "\r")
		if err := p.line(logical, startLine); err != nil {
			return nil, err
		}
	}
	if o := p.finish(); o != nil {
		out = append(out, o)
	}
	return out, nil
}

func (p *streamParser) reset() {
	p.inRec, p.pos = false, 0
	p.names, p.lnames, p.fields, p.vals, p.scratch = p.names[:0], p.lnames[:0], p.fields[:0], p.vals[:0], p.scratch[:0]
}

// finish ends the current record and returns its object when it is under the base and
// matches the filter.
func (p *streamParser) finish() *Object {
	if !p.inRec {
		return nil
	}
	defer p.reset()
	if !p.underBase(p.dn) {
		return nil
	}
	// One copy of all values as bytes and one as a string; the entry's values are slices of them.
	arenaB := bytes.Clone(p.scratch)
	arenaS := string(p.scratch)
	var countBuf [recordAttrs]int
	var counts []int
	var attrs []ldap.EntryAttribute
	var ptrs []*ldap.EntryAttribute
	var strs []string
	var raws [][]byte
	m := new(recordMem)
	if len(p.names) <= recordAttrs && len(p.vals) <= recordValues {
		// The usual record: its slices come with the rest.
		counts = countBuf[:len(p.names)]
		attrs, ptrs = m.attrs[:len(p.names)], m.ptrs[:len(p.names)]
		strs, raws = m.strs[:len(p.vals)], m.raws[:len(p.vals)]
	} else {
		counts = make([]int, len(p.names))
		attrs, ptrs = make([]ldap.EntryAttribute, len(p.names)), make([]*ldap.EntryAttribute, len(p.names))
		strs, raws = make([]string, len(p.vals)), make([][]byte, len(p.vals))
	}
	for _, v := range p.vals {
		counts[v.attr]++
	}
	off := 0
	for i, n := range p.names {
		attrs[i] = ldap.EntryAttribute{Name: n, Values: strs[off : off : off+counts[i]], ByteValues: raws[off : off : off+counts[i]]}
		ptrs[i] = &attrs[i]
		off += counts[i]
	}
	for _, v := range p.vals {
		a := &attrs[v.attr]
		a.Values = append(a.Values, arenaS[v.start:v.end])
		a.ByteValues = append(a.ByteValues, arenaB[v.start:v.end:v.end])
	}
	e := &m.entry
	e.DN, e.Attributes = p.dn, ptrs
	if !p.match(e) {
		return nil
	}
	fields := p.fields
	if p.trim {
		kept, keptFields := e.Attributes[:0], []int(nil)
		for i, a := range e.Attributes {
			if p.want[p.lnames[i]] {
				kept = append(kept, a)
				keptFields = append(keptFields, fields[i])
			}
		}
		e.Attributes, fields = kept, keptFields
	}
	return objectFromStream(e, fields, m)
}

// line handles one logical line of a record.
func (p *streamParser) line(l []byte, n int) error {
	colon := bytes.IndexByte(l, ':')
	if colon <= 0 {
		return &LDIFError{Line: n, Msg: fmt.Sprintf("want attr: value, got %q", truncate(string(l), 60))}
	}
	name := l[:colon]
	if colon == len(l)-1 {
		return &LDIFError{Line: n, Msg: fmt.Sprintf("%s: empty value (write %s:: for an empty one)", name, name)}
	}
	val := l[colon+1:]
	b64 := false
	switch {
	case len(val) > 0 && val[0] == ':':
		b64, val = true, val[1:]
	case len(val) > 0 && val[0] == '<':
		return &LDIFError{Line: n, Msg: "file-URL values (attr:< ...) are not accepted in snapshots"}
	}
	val = bytes.TrimLeft(val, " ")
	if !p.inRec {
		if !validAttrName(name) {
			return &LDIFError{Line: n, Msg: fmt.Sprintf("bad attribute name %q", truncate(string(name), 60))}
		}
		switch strings.ToLower(string(name)) {
		case "version":
			if v := strings.TrimSpace(string(val)); v != "1" {
				return &LDIFError{Line: n, Msg: fmt.Sprintf("LDIF version %q, want 1", v)}
			}
			return nil
		case "dn":
			start := len(p.scratch)
			if err := p.appendValue(val, b64, name, n); err != nil {
				return err
			}
			p.dn = string(p.scratch[start:])
			p.scratch = p.scratch[:start]
			p.inRec, p.recLine = true, n
			return nil
		}
		return &LDIFError{Line: n, Msg: "record does not start with dn:"}
	}
	ni := p.nameAt(name)
	if !ni.valid {
		return &LDIFError{Line: n, Msg: fmt.Sprintf("bad attribute name %q", truncate(string(name), 60))}
	}
	if ni.lower == "changetype" {
		if strings.TrimSpace(string(val)) != "add" {
			return &LDIFError{Line: p.recLine, Msg: "change record (modify, delete or moddn) in a snapshot; only entries and changetype: add are accepted"}
		}
		return nil
	}
	if !ni.keep {
		return nil
	}
	idx := -1
	for i, ln := range p.lnames {
		if ln == ni.lower {
			idx = i
			break
		}
	}
	if idx < 0 {
		idx = len(p.names)
		p.names = append(p.names, ni.raw)
		p.lnames = append(p.lnames, ni.lower)
		p.fields = append(p.fields, ni.field)
	}
	start := len(p.scratch)
	if err := p.appendValue(val, b64, name, n); err != nil {
		return err
	}
	p.vals = append(p.vals, valueSpan{attr: idx, start: start, end: len(p.scratch)})
	return nil
}

// validAttrName reports whether b is an attribute description go-ldap/ldif accepts: a letter
// then letters, digits, '-' and ';' (options), or a numeric OID.
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
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '-' || c == ';'):
		default:
			return false
		}
	}
	return true
}

// maxNames bounds the attribute names a parser remembers: a file of random names must not
// fill memory.
const maxNames = 4096

// nameInfo is what the parser knows about an attribute name as spelled in the file.
type nameInfo struct {
	raw, lower string
	keep       bool
	valid      bool // a name go-ldap/ldif accepts
	field      int  // field number (decodeObjectFields), 0 when it does not decode it
}

// nameAt returns the facts of the attribute name on the current line of the record. Records of
// one kind list their attributes in the same order, so the answer for the same line of the
// previous record is tried first, then every name met so far; only a new name is lowered and
// looked up.
func (p *streamParser) nameAt(name []byte) *nameInfo {
	pos := p.pos
	p.pos++
	if pos < len(p.cache) && p.cache[pos] != nil && p.cache[pos].raw == string(name) {
		return p.cache[pos]
	}
	ni, ok := p.byRaw[string(name)]
	if !ok {
		p.lower = append(p.lower[:0], name...)
		for i, c := range p.lower {
			if c >= 'A' && c <= 'Z' {
				p.lower[i] = c + 32
			}
		}
		ni = &nameInfo{raw: string(name), lower: p.intern(p.lower)}
		ni.field = objectFieldsByLower[ni.lower]
		ni.valid = validAttrName(name)
		ni.keep = p.keep == nil || (len(p.lower) >= len(p.keepLen) || p.keepLen[len(p.lower)]) && p.keep[ni.lower]
		if p.byRaw == nil {
			p.byRaw = map[string]*nameInfo{}
		}
		if len(p.byRaw) < maxNames {
			p.byRaw[ni.raw] = ni
		}
	}
	for len(p.cache) <= pos {
		p.cache = append(p.cache, nil)
	}
	p.cache[pos] = ni
	return ni
}

// intern returns b as a string, allocating only the first time: attribute names repeat in
// every record.
func (p *streamParser) intern(b []byte) string {
	if s, ok := p.names0[string(b)]; ok {
		return s
	}
	if p.names0 == nil {
		p.names0 = map[string]string{}
	}
	s := string(b)
	if len(p.names0) < maxNames {
		p.names0[s] = s
	}
	return s
}

// appendValue appends val, base64-decoded when b64, to the scratch buffer.
func (p *streamParser) appendValue(val []byte, b64 bool, name []byte, n int) error {
	if !b64 {
		p.scratch = append(p.scratch, val...)
		return nil
	}
	start := len(p.scratch)
	p.scratch = slices.Grow(p.scratch, base64.StdEncoding.DecodedLen(len(val)))
	k, err := base64.StdEncoding.Decode(p.scratch[start:start+base64.StdEncoding.DecodedLen(len(val))], val)
	if err != nil {
		p.scratch = p.scratch[:start]
		return &LDIFError{Line: n, Msg: fmt.Sprintf("%s: bad base64 value", name)}
	}
	p.scratch = p.scratch[:start+k]
	return nil
}

// underBase reports whether dn is the search base or below it: a case-insensitive suffix check
// first, the full DN normalization only when that is not conclusive.
func (p *streamParser) underBase(dn string) bool {
	if p.base == "" {
		return true
	}
	if len(dn) >= len(p.rawBase) && strings.EqualFold(dn[len(dn)-len(p.rawBase):], p.rawBase) {
		if len(dn) == len(p.rawBase) || dn[len(dn)-len(p.rawBase)-1] == ',' {
			return true
		}
	}
	return underBase(normalizeDN(dn), p.base)
}

// objectFromStream decodes an entry of the streaming reader into an Object as ObjectFromEntry
// does (a test holds them to it), using the field numbers the parser already has for the
// attributes. The object and what it points to live in m.
func objectFromStream(e *ldap.Entry, fields []int, m *recordMem) *Object {
	var byField objectFieldAttrs
	o := &m.obj
	*o = Object{DN: e.DN, Raw: make(map[string][][]byte, len(e.Attributes))}
	for i, a := range e.Attributes {
		o.Raw[a.Name] = a.ByteValues
		if f := fields[i]; f != 0 && byField[f] == nil {
			byField[f] = a
		}
	}
	decodeObjectFields(o, &byField, &m.store)
	return o
}
