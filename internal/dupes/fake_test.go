package dupes

import (
	"context"
	"iter"
	"slices"

	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
)

// memSource is an in-memory ldapsync.Source over LDAP entries.
type memSource struct {
	name    string
	entries []*ldap.Entry
	err     error // returned after the entries, when set
}

func (s *memSource) Name() string   { return s.name }
func (s *memSource) BaseDN() string { return "dc=test" }
func (s *memSource) Close() error   { return nil }
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
