package dupes

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/abkit/abkit/abs"
)

// Rules adapts address book normalization rules to PhoneNormalizer: a number no rule matches,
// or one a rule fails on, is not normalized.
type Rules struct{ abs.Rules }

// Normalize implements PhoneNormalizer.
func (r Rules) Normalize(number string) (string, bool) {
	res, err := r.Rules.Normalize(number)
	if err != nil || !res.Matched {
		return "", false
	}
	return res.TelURI(), true
}

// ABSFile is an AddressBook over one address book file, streamed; or, for a folder whose newest
// full file has later deltas, that file with the deltas applied (held in memory).
type ABSFile struct {
	name   string
	path   string   // streamed file, when deltas is empty
	deltas []string // deltas applied in order to path
	rules  string
}

// OpenABSFile checks the header of the address book file at path and returns it as an
// AddressBook.
func OpenABSFile(path string) (*ABSFile, error) {
	f, err := abs.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return &ABSFile{name: filepath.Base(path), path: path, rules: f.RulesText()}, nil
}

// OpenABSFolder picks the newest full .lsabs file in dir and the chain of deltas (D- or C-)
// that lead on from it, each starting at the day the previous one reached, the one reaching
// furthest first.
func OpenABSFolder(dir string) (*ABSFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("address book folder: %v", err)}
	}
	var fulls, changes []abs.FileName
	paths := map[abs.FileName]string{}
	for _, e := range ents {
		n, err := abs.ParseFileName(e.Name())
		if err != nil || n.Device || e.IsDir() {
			continue
		}
		paths[n] = filepath.Join(dir, e.Name())
		if n.Kind == abs.Full {
			fulls = append(fulls, n)
		} else {
			changes = append(changes, n)
		}
	}
	if len(fulls) == 0 {
		return nil, &InputError{Msg: fmt.Sprintf("address book folder %s: no full file (F-XXXX.lsabs)", dir)}
	}
	newest := slices.MaxFunc(fulls, func(a, b abs.FileName) int { return int(a.Day) - int(b.Day) })
	b, err := OpenABSFile(paths[newest])
	if err != nil {
		return nil, err
	}
	names := []string{newest.String()}
	for day := newest.Day; ; {
		var next *abs.FileName
		for i, c := range changes {
			// Prefer the delta reaching furthest; a full delta over a compact one on the same day.
			if c.BaseDay == day && (next == nil || c.Day > next.Day || c.Day == next.Day && c.Kind == abs.Delta) {
				next = &changes[i]
			}
		}
		if next == nil {
			break
		}
		b.deltas = append(b.deltas, paths[*next])
		names = append(names, next.String())
		day = next.Day
	}
	b.name = strings.Join(names, " + ")
	return b, nil
}

// Name implements AddressBook.
func (b *ABSFile) Name() string { return b.name }

// RulesText returns the normalization rules carried by the (first) file.
func (b *ABSFile) RulesText() string { return b.rules }

// Entries implements AddressBook.
func (b *ABSFile) Entries(ctx context.Context) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		f, err := abs.Open(b.path)
		if err != nil {
			yield(nil, err)
			return
		}
		defer f.Close()
		if len(b.deltas) == 0 {
			conv := newEntryConverter(f.Table())
			for c, err := range f.Contacts() {
				if err != nil {
					yield(nil, fmt.Errorf("%s: %w", b.path, err))
					return
				}
				if !yield(conv.entry(c), nil) {
					return
				}
			}
			return
		}
		book, err := b.applied(f)
		if err != nil {
			yield(nil, err)
			return
		}
		t, err := book.Table()
		if err != nil {
			yield(nil, err)
			return
		}
		conv := newEntryConverter(t)
		for _, c := range book.Contacts {
			if !yield(conv.entry(c), nil) {
				return
			}
		}
	}
}

// applied reads the full file and applies the deltas in order.
func (b *ABSFile) applied(f *abs.File) (*abs.Book, error) {
	book, err := abs.ReadBook(f.Reader)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.path, err)
	}
	for _, p := range b.deltas {
		df, err := abs.Open(p)
		if err != nil {
			return nil, err
		}
		delta, err := abs.ReadBook(df.Reader)
		df.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if book, err = abs.Apply(book, delta); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	return book, nil
}

// Attributes an Entry is made of, as entryConverter tells them apart.
const (
	attrOther uint8 = iota
	attrPrimary
	attrProxy
	attrName
	attrPhone
)

// entryConverter extracts Entries from contacts of one attribute table.
type entryConverter struct {
	t     *abs.Table
	role  []uint8 // by attribute Id
	class abs.Classifier
}

func newEntryConverter(t *abs.Table) *entryConverter {
	c := &entryConverter{t: t, class: abs.NewClassifier(t)}
	for name, role := range map[string]uint8{"msRTCSIP-PrimaryUserAddress": attrPrimary, "proxyAddresses": attrProxy,
		"displayName": attrName, "telephoneNumber": attrPhone} {
		if a, ok := t.ByName(name); ok {
			if int(a.ID) >= len(c.role) {
				c.role = append(c.role, make([]uint8, int(a.ID)+1-len(c.role))...)
			}
			c.role[a.ID] = role
		}
	}
	return c
}

func (c *entryConverter) entry(ct *abs.Contact) *Entry {
	e := &Entry{ID: GUID(ct.ID), Deleted: ct.Deleted()}
	if e.Deleted {
		return e
	}
	e.Group = c.class.Class(ct) == abs.ClassGroup
	for _, v := range ct.Values {
		if int(v.AttrID) >= len(c.role) || v.Kind != abs.ValueString && v.Kind != abs.ValueNormalized {
			continue
		}
		switch c.role[v.AttrID] {
		case attrPrimary:
			if e.PrimarySIP == "" {
				e.PrimarySIP = v.Str
			}
		case attrProxy:
			if len(v.Str) >= 4 && strings.EqualFold(v.Str[:4], "sip:") {
				e.ProxySIP = append(e.ProxySIP, v.Str)
			}
		case attrName:
			if e.DisplayName == "" {
				e.DisplayName = v.Str
			}
		case attrPhone:
			// The server's normalized copy follows the raw value and is preferred.
			if e.Phone == "" || v.Kind == abs.ValueNormalized {
				e.Phone = v.Str
			}
		}
	}
	return e
}
