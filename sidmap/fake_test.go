package sidmap

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"
	"sync"

	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
)

// fakeDir is an in-memory directory implementing ldapsync.Source and ldapsync.Modifier for unit
// tests. Search ignores the filter and returns every entry under the base (sidmap re-checks
// every condition on the decoded objects); Modify follows LDAP's rules for add and delete with
// values: atomic, noSuchAttribute (16) for a missing value, attributeOrValueExists (20) for a
// value present, constraintViolation (19) for a second value of a single-valued attribute.
type fakeDir struct {
	name, base string

	mu       sync.Mutex
	entries  map[string]map[string][][]byte // lower DN → attribute → values
	dns      map[string]string              // lower DN → DN
	fail     map[string]error               // lower DN → error Modify returns
	modifies int
}

var singleValued = map[string]bool{strings.ToLower(ldapsync.AttrOriginatorSid): true, "displayname": true}

func newFakeDir(name, base string) *fakeDir {
	return &fakeDir{name: name, base: base, entries: map[string]map[string][][]byte{}, dns: map[string]string{}, fail: map[string]error{}}
}

// add stores an entry; values are strings or []byte.
func (d *fakeDir) add(dn string, attrs map[string][]any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := map[string][][]byte{}
	for a, vs := range attrs {
		for _, v := range vs {
			switch v := v.(type) {
			case string:
				m[a] = append(m[a], []byte(v))
			case []byte:
				m[a] = append(m[a], v)
			case ldapsync.SID:
				m[a] = append(m[a], v.Bytes())
			default:
				panic(fmt.Sprintf("value %T", v))
			}
		}
	}
	d.entries[strings.ToLower(dn)] = m
	d.dns[strings.ToLower(dn)] = dn
}

// get returns the values of attr on dn.
func (d *fakeDir) get(dn, attr string) [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	for a, vs := range d.entries[strings.ToLower(dn)] {
		if strings.EqualFold(a, attr) {
			return vs
		}
	}
	return nil
}

func (d *fakeDir) sid(dn, attr string) ldapsync.SID {
	vs := d.get(dn, attr)
	if len(vs) == 0 {
		return ldapsync.SID{}
	}
	s, _, err := ldapsync.DecodeSIDValue(vs[0])
	if err != nil {
		return ldapsync.SID{}
	}
	return s
}

func (d *fakeDir) Name() string   { return d.name }
func (d *fakeDir) BaseDN() string { return d.base }
func (d *fakeDir) Close() error   { return nil }

func (d *fakeDir) Search(ctx context.Context, req ldapsync.SearchRequest) iter.Seq2[*ldapsync.Object, error] {
	return func(yield func(*ldapsync.Object, error) bool) {
		base := strings.ToLower(req.Base)
		if base == "" {
			base = strings.ToLower(d.base)
		}
		d.mu.Lock()
		var keys []string
		for k := range d.entries {
			if k == base || strings.HasSuffix(k, ","+base) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var objs []*ldapsync.Object
		for _, k := range keys {
			e := &ldap.Entry{DN: d.dns[k]}
			for a, vs := range d.entries[k] {
				e.Attributes = append(e.Attributes, &ldap.EntryAttribute{Name: a, Values: strs(vs), ByteValues: vs})
			}
			objs = append(objs, ldapsync.ObjectFromEntry(e))
		}
		d.mu.Unlock()
		for _, o := range objs {
			if !yield(o, nil) {
				return
			}
		}
	}
}

func strs(vs [][]byte) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func (d *fakeDir) Modify(ctx context.Context, req *ldap.ModifyRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.modifies++
	return d.modifyLocked(req)
}

// txnDir is a fakeDir that also offers transactions (ldapsync.TxnModifier): a batch is applied
// entirely or, when any modify fails, not at all.
type txnDir struct {
	*fakeDir
	started, committed int
}

func (d *txnDir) SupportsTransactions() bool { return true }

func (d *txnDir) ModifyTxn(ctx context.Context, reqs []*ldap.ModifyRequest) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.started++
	saved := make(map[string]map[string][][]byte, len(d.entries))
	for k, e := range d.entries {
		saved[k] = e // modifyLocked replaces an entry's map, never changes it
	}
	for _, r := range reqs {
		if err := d.modifyLocked(r); err != nil {
			d.entries = saved
			return fmt.Errorf("commit: %w", err)
		}
	}
	d.committed++
	return nil
}

// modifyLocked applies req with d.mu held.
func (d *fakeDir) modifyLocked(req *ldap.ModifyRequest) error {
	key := strings.ToLower(req.DN)
	if err := d.fail[key]; err != nil {
		return err
	}
	cur, ok := d.entries[key]
	if !ok {
		return ldap.NewError(ldap.LDAPResultNoSuchObject, errors.New("no such object"))
	}
	next := map[string][][]byte{}
	for a, vs := range cur {
		next[a] = append([][]byte(nil), vs...)
	}
	find := func(attr string) string {
		for a := range next {
			if strings.EqualFold(a, attr) {
				return a
			}
		}
		return attr
	}
	for _, ch := range req.Changes {
		a := find(ch.Modification.Type)
		switch ch.Operation {
		case ldap.AddAttribute:
			for _, v := range ch.Modification.Vals {
				for _, have := range next[a] {
					if string(have) == v {
						return ldap.NewError(ldap.LDAPResultAttributeOrValueExists, errors.New(a+": value exists"))
					}
				}
				if singleValued[strings.ToLower(a)] && len(next[a]) > 0 {
					return ldap.NewError(ldap.LDAPResultConstraintViolation, errors.New(a+": single-valued"))
				}
				next[a] = append(next[a], []byte(v))
			}
		case ldap.DeleteAttribute:
			if len(next[a]) == 0 {
				return ldap.NewError(ldap.LDAPResultNoSuchAttribute, errors.New(a+": no such attribute"))
			}
			if len(ch.Modification.Vals) == 0 {
				delete(next, a)
				continue
			}
			for _, v := range ch.Modification.Vals {
				i := -1
				for j, have := range next[a] {
					if string(have) == v {
						i = j
					}
				}
				if i < 0 {
					return ldap.NewError(ldap.LDAPResultNoSuchAttribute, errors.New(a+": no such value"))
				}
				next[a] = append(next[a][:i], next[a][i+1:]...)
			}
			if len(next[a]) == 0 {
				delete(next, a)
			}
		default:
			return ldap.NewError(ldap.LDAPResultUnwillingToPerform, errors.New("fake: only add and delete"))
		}
	}
	d.entries[key] = next
	return nil
}
