package dupes

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
)

// memSource is an in-memory ldapsync.Source over LDAP entries.
type memSource struct {
	name    string
	base    string // "" = dc=test
	entries []*ldap.Entry
	err     error // returned after the entries, when set
}

func (s *memSource) Name() string { return s.name }
func (s *memSource) BaseDN() string {
	if s.base != "" {
		return s.base
	}
	return "dc=test"
}
func (s *memSource) Close() error { return nil }
func (s *memSource) Search(ctx context.Context, req ldapsync.SearchRequest) iter.Seq2[*ldapsync.Object, error] {
	return func(yield func(*ldapsync.Object, error) bool) {
		for _, e := range s.entries {
			if !yield(ldapsync.ObjectFromEntry(e), nil) {
				return
			}
		}
		if s.err != nil {
			yield(nil, s.err)
		}
	}
}

// entry builds an LDAP entry; attrs alternate name, value (repeat a name for more values).
func entry(dn string, guid string, attrs ...string) *ldap.Entry {
	m := map[string][]string{}
	var order []string
	for i := 0; i+1 < len(attrs); i += 2 {
		if _, ok := m[attrs[i]]; !ok {
			order = append(order, attrs[i])
		}
		m[attrs[i]] = append(m[attrs[i]], attrs[i+1])
	}
	e := &ldap.Entry{DN: dn}
	if guid != "" {
		g := ldapsync.MustParseGUID(guid)
		e.Attributes = append(e.Attributes, &ldap.EntryAttribute{Name: "objectGUID", Values: []string{string(g[:])}, ByteValues: [][]byte{g[:]}})
	}
	for _, n := range order {
		bv := make([][]byte, len(m[n]))
		for i, v := range m[n] {
			bv[i] = []byte(v)
		}
		e.Attributes = append(e.Attributes, &ldap.EntryAttribute{Name: n, Values: m[n], ByteValues: bv})
	}
	return e
}

// user builds a SIP-enabled, enabled user; extra attributes may override userAccountControl.
func user(dn, guid, sip string, extra ...string) *ldap.Entry {
	a := []string{"objectClass", "top", "objectClass", "person", "objectClass", "organizationalPerson", "objectClass", "user",
		"msRTCSIP-UserEnabled", "TRUE"}
	if !slices.Contains(extra, "userAccountControl") {
		a = append(a, "userAccountControl", "512")
	}
	if sip != "" {
		a = append(a, "msRTCSIP-PrimaryUserAddress", sip)
	}
	return entry(dn, guid, append(a, extra...)...)
}

func contact(dn, guid, sip string, extra ...string) *ldap.Entry {
	a := []string{"objectClass", "top", "objectClass", "contact"}
	if sip != "" {
		a = append(a, "msRTCSIP-PrimaryUserAddress", sip, "msRTCSIP-UserEnabled", "TRUE")
	}
	return entry(dn, guid, append(a, extra...)...)
}

func group(dn, guid string, security bool, proxies ...string) *ldap.Entry {
	gt := "8" // universal distribution
	if security {
		gt = "-2147483640"
	}
	a := []string{"objectClass", "top", "objectClass", "group", "groupType", gt}
	for _, p := range proxies {
		a = append(a, "proxyAddresses", p)
	}
	return entry(dn, guid, a...)
}

// memBook is an in-memory AddressBook.
type memBook struct {
	name    string
	entries []Entry
}

func (b *memBook) Name() string { return b.name }
func (b *memBook) Entries(ctx context.Context) iter.Seq2[*Entry, error] {
	return func(yield func(*Entry, error) bool) {
		for i := range b.entries {
			if !yield(&b.entries[i], nil) {
				return
			}
		}
	}
}

// fakeRTC is an EntryChecker over a set of GUIDs; it records what it was asked.
type fakeRTC struct {
	rows  map[GUID]bool
	asked []GUID
}

func (f *fakeRTC) EntriesPresent(ctx context.Context, guids []GUID) (map[GUID]bool, error) {
	f.asked = append(f.asked, guids...)
	out := map[GUID]bool{}
	for _, g := range guids {
		if f.rows[g] {
			out[g] = true
		}
	}
	return out, nil
}

// liveSource is a memSource that also accepts modifies, with LDAP's semantics for value deletes
// and adds (a missing value to delete: noSuchAttribute; a present value to add:
// attributeOrValueExists); a failing request changes nothing.
type liveSource struct {
	*memSource
	mu       sync.Mutex // the change engine modifies and reads back concurrently
	modifies int
	failDN   string // a modify of this DN fails with "busy"
}

// Search reads the entries as they are when it starts.
func (s *liveSource) Search(ctx context.Context, req ldapsync.SearchRequest) iter.Seq2[*ldapsync.Object, error] {
	s.mu.Lock()
	var objs []*ldapsync.Object
	var serr error
	for o, err := range s.memSource.Search(ctx, req) {
		if err != nil {
			serr = err
			break
		}
		objs = append(objs, o)
	}
	s.mu.Unlock()
	return func(yield func(*ldapsync.Object, error) bool) {
		for _, o := range objs {
			if !yield(o, nil) {
				return
			}
		}
		if serr != nil {
			yield(nil, serr)
		}
	}
}

func (s *liveSource) Modify(ctx context.Context, req *ldap.ModifyRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.modifies++
	if strings.EqualFold(req.DN, s.failDN) {
		return ldap.NewError(ldap.LDAPResultBusy, errors.New("busy"))
	}
	var e *ldap.Entry
	for _, x := range s.entries {
		if strings.EqualFold(x.DN, req.DN) {
			e = x
		}
	}
	if e == nil {
		return ldap.NewError(ldap.LDAPResultNoSuchObject, errors.New("no such object"))
	}
	attrs := map[string][]string{}
	var order []string
	for _, a := range e.Attributes {
		attrs[strings.ToLower(a.Name)] = slices.Clone(a.Values)
		order = append(order, a.Name)
	}
	for _, ch := range req.Changes {
		name := strings.ToLower(ch.Modification.Type)
		switch ch.Operation {
		case ldap.DeleteAttribute:
			for _, v := range ch.Modification.Vals {
				i := slices.Index(attrs[name], v)
				if i < 0 {
					return ldap.NewError(ldap.LDAPResultNoSuchAttribute, fmt.Errorf("%s: no value %q", name, v))
				}
				attrs[name] = slices.Delete(attrs[name], i, i+1)
			}
		case ldap.AddAttribute:
			if _, ok := attrs[name]; !ok {
				order = append(order, ch.Modification.Type)
			}
			for _, v := range ch.Modification.Vals {
				if slices.Contains(attrs[name], v) {
					return ldap.NewError(ldap.LDAPResultAttributeOrValueExists, fmt.Errorf("%s: value %q exists", name, v))
				}
				attrs[name] = append(attrs[name], v)
			}
		default:
			return fmt.Errorf("unexpected operation %d", ch.Operation)
		}
	}
	e.Attributes = nil
	for _, n := range order {
		vals := attrs[strings.ToLower(n)]
		if len(vals) == 0 {
			continue
		}
		bv := make([][]byte, len(vals))
		for i, v := range vals {
			bv[i] = []byte(v)
		}
		e.Attributes = append(e.Attributes, &ldap.EntryAttribute{Name: n, Values: vals, ByteValues: bv})
	}
	return nil
}

// dump renders every entry with sorted values, for before/after comparisons.
func (s *memSource) dump() string {
	var b strings.Builder
	for _, e := range s.entries {
		b.WriteString("dn: " + e.DN + "\n")
		var lines []string
		for _, a := range e.Attributes {
			for _, v := range a.Values {
				lines = append(lines, strings.ToLower(a.Name)+": "+v)
			}
		}
		slices.Sort(lines)
		b.WriteString(strings.Join(lines, "\n") + "\n\n")
	}
	return b.String()
}

// fakeRows is an EntryDeleter and EntryRestorer over an in-memory AbUserEntry table.
type fakeRows struct {
	rows    map[GUID]bool
	deleted [][]GUID
	fail    error
}

func (f *fakeRows) EntriesPresent(ctx context.Context, guids []GUID) (map[GUID]bool, error) {
	return (&fakeRTC{rows: f.rows}).EntriesPresent(ctx, guids)
}

func (f *fakeRows) DeleteEntries(ctx context.Context, guids []GUID, backupPath string) error {
	if f.fail != nil {
		return f.fail
	}
	var lines []string
	for _, g := range guids {
		if !f.rows[g] {
			return fmt.Errorf("row %s: 0 rows affected", g)
		}
		lines = append(lines, g.String())
	}
	if err := os.WriteFile(backupPath, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		return err
	}
	for _, g := range guids {
		delete(f.rows, g)
	}
	f.deleted = append(f.deleted, guids)
	return nil
}

func (f *fakeRows) RestoreEntries(ctx context.Context, backupPath string) error {
	data, err := os.ReadFile(backupPath)
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(data), "\n") {
		f.rows[ldapsync.MustParseGUID(l)] = true
	}
	return nil
}
