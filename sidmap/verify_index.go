package sidmap

import (
	"context"
	"fmt"
	"strings"

	"github.com/abkit/abkit/internal/compact"
	"github.com/abkit/abkit/internal/progress"
	"github.com/abkit/abkit/ldapsync"
)

// Verify remembers only what its checks look up across objects, in pointer-free form (see
// internal/compact): per user-forest account its DN and whether it is disabled, keyed by
// objectSid, and per msRTCSIP-OriginatorSid the resource DNs carrying it. The candidates are
// streamed and checked one by one, so memory grows by tens of bytes per account, not by a
// decoded object.

// Attributes Verify asks for.
var (
	verifyUserAttrs = []string{ldapsync.AttrObjectClass, ldapsync.AttrObjectSid, ldapsync.AttrUserAccountControl}
	verifyCandAttrs = []string{ldapsync.AttrObjectClass, ldapsync.AttrObjectGUID, ldapsync.AttrObjectSid,
		ldapsync.AttrUserAccountControl, ldapsync.AttrUserEnabled, ldapsync.AttrOriginatorSid, ldapsync.AttrMasterAccountSid}
)

// verifyIndex is what Verify keeps of the forests.
type verifyIndex struct {
	sids      compact.SIDTable
	text      compact.Text                         // DNs
	users     map[compact.SIDKey]accountRec        // objectSid → user-forest account (the last read)
	origFirst map[compact.SIDKey]compact.TextRef   // OriginatorSid → first resource DN carrying it
	origMore  map[compact.SIDKey][]compact.TextRef // OriginatorSid → further resource DNs
	rep       progress.Reporter
}

type accountRec struct {
	dn       compact.TextRef
	disabled bool
}

// account is a user-forest account as a lookup returns it.
type account struct {
	DN       string
	disabled bool
}

// Disabled reports whether the account has ACCOUNTDISABLE set.
func (a *account) Disabled() bool { return a.disabled }

// loadVerifyIndex reads the user forest's accounts and the resource objects carrying an
// OriginatorSid.
func loadVerifyIndex(ctx context.Context, user, resource ldapsync.Source, rep progress.Reporter) (*verifyIndex, error) {
	ix := &verifyIndex{
		users:     map[compact.SIDKey]accountRec{},
		origFirst: map[compact.SIDKey]compact.TextRef{},
		origMore:  map[compact.SIDKey][]compact.TextRef{},
		rep:       progress.OrNop(rep),
	}
	err := ix.read(ctx, user, ldapsync.SearchRequest{Filter: userFilter, Attributes: verifyUserAttrs}, func(o *ldapsync.Object) {
		if o.Kind != ldapsync.KindUser || o.SID.IsZero() {
			return
		}
		ix.users[ix.sids.Key(o.SID)] = accountRec{dn: ix.text.Add(o.DN), disabled: o.Disabled()}
	})
	if err != nil {
		return nil, err
	}
	err = ix.read(ctx, resource, ldapsync.SearchRequest{Filter: originatorFilter, Attributes: []string{ldapsync.AttrOriginatorSid}}, func(o *ldapsync.Object) {
		if o.OriginatorSID.IsZero() {
			return
		}
		k, dn := ix.sids.Key(o.OriginatorSID), ix.text.Add(o.DN)
		if _, ok := ix.origFirst[k]; ok {
			ix.origMore[k] = append(ix.origMore[k], dn)
		} else {
			ix.origFirst[k] = dn
		}
	})
	if err != nil {
		return nil, err
	}
	return ix, nil
}

// read streams the objects of one search to each.
func (ix *verifyIndex) read(ctx context.Context, src ldapsync.Source, req ldapsync.SearchRequest, each func(*ldapsync.Object)) error {
	for o, err := range src.Search(ctx, req) {
		if err != nil {
			return fmt.Errorf("sidmap: read forest %s: %w", src.Name(), err)
		}
		each(o)
		ix.rep.Add(1)
	}
	return nil
}

// eachCandidate streams the resource forest's candidates under base and filter to each.
func (ix *verifyIndex) eachCandidate(ctx context.Context, resource ldapsync.Source, base, filter string, each func(*ldapsync.Object)) error {
	req := ldapsync.SearchRequest{Base: base, Filter: candidateFilter(filter), Attributes: verifyCandAttrs}
	return ix.read(ctx, resource, req, func(o *ldapsync.Object) {
		if isCandidate(o) {
			each(o)
		}
	})
}

// user returns the user-forest account whose objectSid is sid, or nil.
func (ix *verifyIndex) user(sid ldapsync.SID) *account {
	k, ok := ix.sids.Lookup(sid)
	if !ok {
		return nil
	}
	r, ok := ix.users[k]
	if !ok {
		return nil
	}
	return &account{DN: ix.text.String(r.dn), disabled: r.disabled}
}

// describeSID names the user-forest account holding sid, for findings.
func (ix *verifyIndex) describeSID(sid ldapsync.SID) string {
	if u := ix.user(sid); u != nil {
		return u.DN
	}
	return "no user-forest account"
}

// originators returns the DNs of the resource objects whose OriginatorSid is sid, other than dn
// (compared without regard to case).
func (ix *verifyIndex) originators(sid ldapsync.SID, dn string) []string {
	k, ok := ix.sids.Lookup(sid)
	if !ok {
		return nil
	}
	first, ok := ix.origFirst[k]
	if !ok {
		return nil
	}
	var out []string
	for _, r := range append([]compact.TextRef{first}, ix.origMore[k]...) {
		if s := ix.text.String(r); !strings.EqualFold(s, dn) {
			out = append(out, s)
		}
	}
	return out
}
