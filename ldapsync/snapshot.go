package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"

	"github.com/abkit/abkit/internal/ldif"
	"github.com/go-ldap/ldap/v3"
)

// LDIFError is a record of an LDIF file that cannot be read, positioned by file and line (and
// DN once known). It is the error type of the project's one LDIF codec (internal/ldif).
type LDIFError = ldif.Error

// ReadOptions say what a snapshot reader does with a record it cannot take.
type ReadOptions struct {
	// Strict ends the read at the first such record, with its *LDIFError. Otherwise (the
	// default) the record is skipped and reported in the source's ReadReport.
	Strict bool
}

// maxProblems bounds the skipped records a ReadReport lists (all are counted).
const maxProblems = 1000

// ReadReport is what reading an LDIF snapshot skipped: records that cannot be read, change
// records other than "changetype: add", second records of a DN (compared case-insensitively),
// and search references (ldapsearch output without -LLL), which are not an error.
type ReadReport struct {
	Path       string       `json:"path"`
	Skipped    int          `json:"skipped"`              // records skipped as unreadable
	Problems   []*LDIFError `json:"problems,omitempty"`   // the first maxProblems of them, in file order
	References int          `json:"references,omitempty"` // search references skipped
	// Refused is, in strict mode, the record that ended a search of a streamed snapshot.
	Refused *LDIFError   `json:"refused,omitempty"`
	lines   map[int]bool // lines of Problems, so that a second search adds nothing
}

// Partial reports whether records were skipped: the forest was read only in part.
func (r *ReadReport) Partial() bool { return r.Skipped > 0 }

// add records a skipped record once.
func (r *ReadReport) add(e *LDIFError) {
	if r.lines[e.Line] {
		return
	}
	if r.lines == nil {
		r.lines = map[int]bool{}
	}
	r.lines[e.Line] = true
	r.Skipped++
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, e)
	}
}

// Reporter is implemented by sources read from LDIF files: what their reading skipped so far.
type Reporter interface {
	ReadReport() ReadReport
}

// Snapshot is a forest read from an LDIF file: an export written by abkit (ldap export -o
// ldif), by ldifde, or by ldapsearch with or without -LLL (see internal/ldif for the shapes
// read). It is read once by OpenSnapshot and held in memory (each value once, plus the
// entries); searches evaluate their filter in memory with Active Directory semantics (see
// Search). Snapshots are read-only.
type Snapshot struct {
	name, path, base string
	entries          []*ldap.Entry
	normDNs          []string // normalized DNs, for base scoping
	report           ReadReport
}

var (
	_ Source   = (*Snapshot)(nil)
	_ Reporter = (*Snapshot)(nil)
)

// OpenSnapshot reads the LDIF file at path, skipping (and reporting) records it cannot take.
// base is the default search base ("" = every entry).
func OpenSnapshot(name, path, base string) (*Snapshot, error) {
	return OpenSnapshotWith(name, path, base, ReadOptions{})
}

// OpenSnapshotWith is OpenSnapshot with options. Errors name the file and line; change records
// other than "changetype: add" (which ldifde writes), file-URL values ("attr:< file://...") and
// second records of a DN are refused: skipped and reported in ReadReport, or with opt.Strict
// the read's error.
func OpenSnapshotWith(name, path, base string, opt ReadOptions) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ldapsync: snapshot %s: %w", name, err)
	}
	defer f.Close()
	s, err := readSnapshot(name, path, f, base, opt)
	if err != nil {
		return nil, err
	}
	s.path = path
	return s, nil
}

// ReadSnapshot is OpenSnapshot over a stream; errors carry line numbers but no file name.
func ReadSnapshot(name string, r io.Reader, base string) (*Snapshot, error) {
	return readSnapshot(name, "", r, base, ReadOptions{})
}

// readSnapshot reads every entry of an LDIF stream.
func readSnapshot(name, path string, r io.Reader, base string, opt ReadOptions) (*Snapshot, error) {
	s := &Snapshot{name: name, base: base, report: ReadReport{Path: path}}
	first := map[uint64]int{} // DN key (dnKey) -> line of its record
	sc := ldif.NewScanner(r, ldif.Options{Path: path})
	for {
		rec, err := sc.Next()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		le, err := snapshotRecordError(path, rec, err)
		if err != nil {
			return nil, err
		}
		if le == nil && rec.Kind == ldif.Reference {
			s.report.References++
			continue
		}
		if le == nil && rec.Kind == ldif.Result {
			continue
		}
		var key uint64
		if le == nil {
			key = dnKey(rec.DN)
			if line, dup := first[key]; dup {
				le = &LDIFError{Path: path, Line: rec.Line, DN: rec.DN, Msg: duplicateMsg(line)}
			}
		}
		if le != nil {
			if opt.Strict {
				return nil, le
			}
			s.report.add(le)
			continue
		}
		first[key] = rec.Line
		s.entries = append(s.entries, rec.Entry())
		s.normDNs = append(s.normDNs, normalizeDN(rec.DN))
	}
}

// snapshotRecordError returns what the snapshot readers make of the result of Scanner.Next: a
// record to skip (unreadable, or a change record), or an error that ends the read.
func snapshotRecordError(path string, rec *ldif.Record, err error) (*LDIFError, error) {
	if err == nil && rec.Kind != ldif.Modify && rec.Kind != ldif.Delete && rec.Kind != ldif.ModDN {
		return nil, nil // the common case, without the allocation of le below
	}
	var le *LDIFError
	switch {
	case errors.As(err, &le):
		return le, nil
	case err != nil:
		return nil, fmt.Errorf("ldapsync: %w", err)
	case rec.Kind == ldif.Modify || rec.Kind == ldif.Delete || rec.Kind == ldif.ModDN:
		return &LDIFError{Path: path, Line: rec.Line, DN: rec.DN,
			Msg: fmt.Sprintf("changetype: %s record in a snapshot; only entries and changetype: add are accepted", rec.ChangeType)}, nil
	}
	return nil, nil
}

// duplicateMsg describes the second record of a DN first seen on line first.
func duplicateMsg(first int) string {
	return fmt.Sprintf("duplicate DN: the entry of line %d again (DNs compare case-insensitively); the first is kept", first)
}

// ReadReport returns what reading the snapshot skipped.
func (s *Snapshot) ReadReport() ReadReport { return s.report }

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
		filter, base, match, err := snapshotQuery(req, s.base)
		if err != nil {
			yield(nil, err)
			return
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
				yield(nil, sizeLimitError(s.name, base, filter, n))
				return
			}
			n++
			if !yield(sel.apply(e), nil) {
				return
			}
		}
	}
}

// snapshotQuery is what both snapshot readers make of a request: its filter (DefaultFilter when
// empty), its base (defaultBase when empty) and the compiled filter.
func snapshotQuery(req SearchRequest, defaultBase string) (filter, base string, match matcher, err error) {
	filter, base = req.Filter, req.Base
	if filter == "" {
		filter = DefaultFilter
	}
	if base == "" {
		base = defaultBase
	}
	match, err = compileFilter(filter)
	return filter, base, match, err
}

// sizeLimitError is the error of a snapshot search stopped by its size limit after n objects,
// as a server reports it.
func sizeLimitError(forest, base, filter string, n int) error {
	return &SearchError{Forest: forest, Base: base, Filter: filter, Code: ldap.LDAPResultSizeLimitExceeded, Objects: n,
		Err: ldap.NewError(ldap.LDAPResultSizeLimitExceeded, errors.New("size limit exceeded"))}
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

// WriteSnapshot writes entries as an LDIF snapshot that OpenSnapshot (and ldapadd) read back
// identically (see internal/ldif.Writer).
func WriteSnapshot(w io.Writer, entries []*ldap.Entry) error {
	lw := ldif.NewWriter(w)
	for _, e := range entries {
		if err := lw.WriteEntry(e); err != nil {
			return err
		}
	}
	return lw.Flush()
}
