package ldapsync

// This file is the streaming snapshot reader, added for one-pass work over very large exports
// (abkit dupes over a million objects). It is separate from Snapshot (snapshot.go), which reads a
// file once into memory and serves any number of searches from it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/abkit/abkit/internal/ldif"
	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// StreamSnapshot is a read-only Source over an LDIF file that holds nothing in memory: every
// search reads the file again, splits it into blocks of whole records, parses the blocks on all
// cores (keeping only the attributes the search asks for and its filter needs) and yields the
// matching objects in file order. Filters are evaluated as Snapshot evaluates them, and it reads
// and skips the same records as Snapshot (see OpenSnapshotWith); what its searches skipped is in
// ReadReport.
type StreamSnapshot struct {
	name, path, base string
	opt              ReadOptions
	mu               sync.Mutex
	report           ReadReport
}

var (
	_ Source   = (*StreamSnapshot)(nil)
	_ Reporter = (*StreamSnapshot)(nil)
)

// OpenStreamSnapshot checks that the LDIF file at path can be opened and returns a streaming
// source over it. base is the default search base ("" = every entry).
func OpenStreamSnapshot(name, path, base string) (*StreamSnapshot, error) {
	return OpenStreamSnapshotWith(name, path, base, ReadOptions{})
}

// OpenStreamSnapshotWith is OpenStreamSnapshot with options: with opt.Strict a search ends at
// the first record it cannot take, with that record's *LDIFError.
func OpenStreamSnapshotWith(name, path, base string, opt ReadOptions) (*StreamSnapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ldapsync: snapshot %s: %w", name, err)
	}
	f.Close()
	return &StreamSnapshot{name: name, path: path, base: base, opt: opt, report: ReadReport{Path: path}}, nil
}

// ReadReport returns what the searches so far skipped (each record once).
func (s *StreamSnapshot) ReadReport() ReadReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.report
	r.Problems = slices.Clone(r.Problems)
	r.lines = nil
	return r
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
	recs []streamRec
	err  error
}

// streamRec is one record of a block: its DN's key and line for the duplicate check, and the
// object when it is to be yielded, or the problem that skips it.
type streamRec struct {
	key  uint64
	line int
	dn   string
	obj  *Object    // nil: not under the base or not matching
	prob *LDIFError // the record is skipped
	ref  bool       // a search reference
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
		go func() { splitErr <- splitBlocks(ctx, ldif.Decode(f, s.path), blocks, free) }()
		done := make(chan struct{})
		for range workers {
			go func() {
				defer func() { done <- struct{}{} }()
				p := newStreamParser(s.path, keep, want, match, base)
				for b := range blocks {
					recs, err := p.block(b)
					select { // the values were copied out: the buffer can be reused
					case free <- b.data[:0]:
					default:
					}
					select {
					case results <- streamResult{seq: b.seq, recs: recs, err: err}:
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
		first := map[uint64]int{} // DN key -> line of its first record
		next, n, refs := 0, 0, 0
		defer func() {
			s.mu.Lock()
			s.report.References = max(s.report.References, refs)
			s.mu.Unlock()
		}()
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
				for _, r := range cur.recs {
					if r.ref {
						refs++
						continue
					}
					prob := r.prob
					if prob == nil {
						if line, dup := first[r.key]; dup {
							prob = &LDIFError{Path: s.path, Line: r.line, DN: r.dn, Msg: duplicateMsg(line)}
						} else {
							first[r.key] = r.line
						}
					}
					if prob != nil {
						if s.opt.Strict {
							s.mu.Lock()
							if s.report.Refused == nil {
								s.report.Refused = prob
							}
							s.mu.Unlock()
							yield(nil, prob)
							return
						}
						s.mu.Lock()
						s.report.add(prob)
						s.mu.Unlock()
						continue
					}
					if r.obj == nil {
						continue
					}
					if req.SizeLimit > 0 && n == req.SizeLimit {
						yield(nil, sizeLimitError(s.name, base, filter, n))
						return
					}
					n++
					if !yield(r.obj, nil) {
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
			// Room for a carry of up to a sixteenth of a block, so that buffers coming back
			// through free are reused rather than replaced.
			buf = make([]byte, need, max(need, streamBlockSize+streamBlockSize/16))
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
				if len(data) > ldif.DefaultMaxLine+streamBlockSize {
					return &LDIFError{Line: line, Msg: fmt.Sprintf("record longer than %d bytes", ldif.DefaultMaxLine+streamBlockSize)}
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

// streamParser parses blocks of records for one search; one per worker. Its scanner's memory
// (line, values, attributes) and its entry are reused from record to record and block to block;
// each kept record's values are copied once, into memory its object owns.
type streamParser struct {
	sc      *ldif.Scanner
	path    string
	keep    map[string]bool    // lower-case names parsed; nil: every attribute
	want    map[string]bool    // lower-case names returned (keep without the filter's own)
	trim    bool               // keep has attributes that want has not
	byName  map[string]nameUse // keep and want by name as spelled (at most maxNames)
	match   matcher
	base    string // normalized
	rawBase string
	recs    int        // most records in a block so far
	entry   ldap.Entry // the current record's attributes, reused from record to record
}

// maxNames bounds the attribute spellings a parser remembers.
const maxNames = 4096

func newStreamParser(path string, keep, want map[string]bool, match matcher, base string) *streamParser {
	p := &streamParser{path: path, keep: keep, want: want, trim: len(keep) != len(want), match: match,
		base: normalizeDN(base), rawBase: base, byName: map[string]nameUse{}}
	p.sc = ldif.NewScanner(nil, ldif.Options{})
	return p
}

// keepName reports whether an attribute spelled name is parsed.
func (p *streamParser) keepName(name string) bool { return p.spelled(name).keep }

// wantName reports whether an attribute spelled name is returned.
func (p *streamParser) wantName(name string) bool { return p.spelled(name).want }

// spelled returns what the parser does with an attribute spelled name.
func (p *streamParser) spelled(name string) nameUse {
	u, ok := p.byName[name]
	if !ok {
		l := strings.ToLower(name)
		u = nameUse{keep: p.keep[l], want: p.want[l]}
		if len(p.byName) < maxNames {
			p.byName[name] = u
		}
	}
	return u
}

// nameUse is what the parser does with an attribute: parse it (keep), return it (want).
type nameUse struct{ keep, want bool }

// block parses the records of b.
func (p *streamParser) block(b streamBlock) ([]streamRec, error) {
	opt := ldif.Options{Path: p.path, FirstLine: b.line}
	if p.keep != nil {
		opt.Keep = p.keepName
	}
	p.sc.ResetBytes(b.data, opt)
	out := make([]streamRec, 0, p.recs+p.recs/8) // blocks hold about as many records as the last
	defer func() { p.recs = max(p.recs, len(out)) }()
	for {
		rec, err := p.sc.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		le, err := snapshotRecordError(p.path, rec, err)
		switch {
		case err != nil:
			return nil, err
		case le != nil:
			out = append(out, streamRec{line: le.Line, prob: le})
		case rec.Kind == ldif.Reference:
			out = append(out, streamRec{line: rec.Line, ref: true})
		case rec.Kind == ldif.Entry:
			out = append(out, streamRec{key: dnKey(rec.DN), line: rec.Line, dn: rec.DN, obj: p.object(rec)})
		}
	}
}

// object returns the record's object when it is under the base and matches the filter.
func (p *streamParser) object(rec *ldif.Record) *Object {
	if !p.underBase(rec.DN) {
		return nil
	}
	rec.ReuseEntry(&p.entry)
	if !p.match(&p.entry) {
		return nil
	}
	var want func(string) bool
	if p.trim {
		want = p.wantName
	}
	return newObject(&p.entry, want, true)
}

// dnKey is a 64-bit hash of a DN in lower case: the streaming reader's duplicate check keeps
// these rather than every DN (a collision is about n²/2⁶⁵ likely).
func dnKey(dn string) uint64 {
	for i := 0; i < len(dn); i++ {
		if dn[i] >= 0x80 {
			dn = strings.ToLower(dn)
			break
		}
	}
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(dn); i++ {
		c := dn[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
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
