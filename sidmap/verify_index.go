package sidmap

import (
	"context"
	"fmt"
	"strings"

	"github.com/abkit/abkit/internal/compact"
	"github.com/abkit/abkit/ldapsync"
)

// Verify remembers only what its checks look up across objects, in pointer-free form (see
// internal/compact): per user-forest account its DN, whether it is disabled and (central
// topology) its sip: proxyAddresses, keyed by objectSid and by sIDHistory; the domain SIDs of the
// user forests; and per msRTCSIP-OriginatorSid the resource DNs carrying it. The candidates are
// streamed and checked one at a time, so memory grows by tens of bytes per account, not by a
// decoded object.

// verifyIndex is what Verify keeps of the forests.
type verifyIndex struct {
	userDomains
	sids      compact.SIDTable
	text      compact.Text                         // DNs and proxy addresses
	accounts  []accountRec                         // user-forest accounts
	users     map[compact.SIDKey]uint32            // objectSid → account (the last read)
	history   map[compact.SIDKey]uint32            // sIDHistory value → account (the last read)
	proxies   []compact.TextRef                    // accountRec.proxy indexes this
	origFirst map[compact.SIDKey]compact.TextRef   // OriginatorSid → first resource DN carrying it
	origMore  map[compact.SIDKey][]compact.TextRef // OriginatorSid → further resource DNs
	rep       ldapsync.Progress
}

// accountRec is a user-forest account: DN, ACCOUNTDISABLE, and its sip: proxyAddresses as
// proxies[proxy : proxy+nProxy].
type accountRec struct {
	dn            compact.TextRef
	proxy, nProxy uint32
	disabled      bool
}

// loadVerifyIndex reads every user forest's accounts and domain SIDs and the resource objects
// carrying an OriginatorSid; with proxies, it keeps the accounts' sip: proxyAddresses too.
func loadVerifyIndex(ctx context.Context, users []ldapsync.Source, resource ldapsync.Source, proxies bool, rep ldapsync.Progress) (*verifyIndex, error) {
	ix := &verifyIndex{
		userDomains: userDomains{domains: map[ldapsync.SID]string{}},
		users:       map[compact.SIDKey]uint32{},
		history:     map[compact.SIDKey]uint32{},
		origFirst:   map[compact.SIDKey]compact.TextRef{},
		origMore:    map[compact.SIDKey][]compact.TextRef{},
		rep:         ldapsync.ProgressOrNop(rep),
	}
	attrs := []string{ldapsync.AttrObjectClass, ldapsync.AttrObjectSid, ldapsync.AttrUserAccountControl, attrSIDHistory}
	if proxies {
		attrs = append(attrs, ldapsync.AttrProxyAddresses)
	}
	// One search per user forest finds its accounts and its domain objects (a snapshot is read
	// once, not twice). A forest's domain objects override what its accounts' SIDs claimed, as in
	// loadForests.
	usersAndDomains := ldapsync.SearchRequest{Filter: userOrDomainFilter, Attributes: attrs}
	for _, src := range users {
		name := src.Name()
		ix.userForests = append(ix.userForests, name)
		var domains []ldapsync.SID
		err := ix.read(ctx, src, usersAndDomains, func(o *ldapsync.Object) {
			if hasValue(o, ldapsync.AttrObjectClass, "domain") {
				if !o.SID.IsZero() {
					domains = append(domains, o.SID)
				}
				return
			}
			if o.Kind != ldapsync.KindUser || o.SID.IsZero() {
				return
			}
			a := accountRec{dn: ix.text.Add(o.DN), disabled: o.Disabled(), proxy: uint32(len(ix.proxies))}
			if proxies {
				for _, p := range o.ProxySIP {
					ix.proxies = append(ix.proxies, ix.text.Add(p))
				}
				a.nProxy = uint32(len(o.ProxySIP))
			}
			id := uint32(len(ix.accounts))
			ix.accounts = append(ix.accounts, a)
			ix.users[ix.sids.Key(o.SID)] = id
			ix.claim(o.SID, name)
			for _, h := range sidValues(o, attrSIDHistory) {
				ix.history[ix.sids.Key(h)] = id
				ix.claim(h, name)
			}
		})
		if err != nil {
			return nil, err
		}
		for _, d := range domains {
			ix.domains[d] = name
		}
	}
	err := ix.read(ctx, resource, ldapsync.SearchRequest{Filter: originatorFilter, Attributes: []string{ldapsync.AttrOriginatorSid}}, func(o *ldapsync.Object) {
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

// verifyCandAttrs are the attributes Verify reads of a candidate.
var verifyCandAttrs = []string{ldapsync.AttrObjectClass, ldapsync.AttrObjectGUID, ldapsync.AttrObjectSid,
	ldapsync.AttrUserAccountControl, ldapsync.AttrUserEnabled, ldapsync.AttrOriginatorSid, ldapsync.AttrMasterAccountSid,
	ldapsync.AttrPrimaryUserAddress}

// eachCandidate streams the resource forest's candidates of layout under base and filter to each.
func (ix *verifyIndex) eachCandidate(ctx context.Context, resource ldapsync.Source, layout Layout, base, filter string, each func(*ldapsync.Object)) error {
	req := ldapsync.SearchRequest{Base: base, Filter: layout.candidateFilter(filter), Attributes: verifyCandAttrs}
	return ix.read(ctx, resource, req, func(o *ldapsync.Object) {
		if layout.isCandidate(o) {
			each(o)
		}
	})
}

// lookup returns the key of sid when some account or OriginatorSid of its domain was indexed.
func (ix *verifyIndex) lookup(sid ldapsync.SID) (compact.SIDKey, bool) {
	if sid.IsZero() {
		return compact.SIDKey{}, false
	}
	return ix.sids.Lookup(sid)
}

// account looks sid up in by (users or history).
func (ix *verifyIndex) account(by map[compact.SIDKey]uint32, sid ldapsync.SID) (uint32, bool) {
	k, ok := ix.lookup(sid)
	if !ok {
		return 0, false
	}
	id, ok := by[k]
	return id, ok
}

// user returns the user-forest account whose objectSid is sid, or nil. The object holds what
// Verify kept: DN, userAccountControl's ACCOUNTDISABLE bit, and the sip: proxyAddresses when they
// were read.
func (ix *verifyIndex) user(sid ldapsync.SID) *ldapsync.Object {
	id, ok := ix.account(ix.users, sid)
	if !ok {
		return nil
	}
	a := ix.accounts[id]
	uac := int64(0)
	if a.disabled {
		uac = 2 // ACCOUNTDISABLE
	}
	u := &ldapsync.Object{DN: ix.text.String(a.dn), Kind: ldapsync.KindUser, SID: sid, UserAccountControl: &uac}
	for _, p := range ix.proxies[a.proxy : a.proxy+a.nProxy] {
		u.ProxySIP = append(u.ProxySIP, ix.text.String(p))
	}
	return u
}

// describeSID names the user-forest account holding sid, for findings.
func (ix *verifyIndex) describeSID(sid ldapsync.SID) string {
	if u := ix.user(sid); u != nil {
		return u.DN
	}
	return ix.describeMissing(sid)
}

// explainMissing says why no user-forest account has objectSid sid.
func (ix *verifyIndex) explainMissing(sid ldapsync.SID) string {
	historyDN := ""
	if id, ok := ix.account(ix.history, sid); ok {
		historyDN = ix.text.String(ix.accounts[id].dn)
	}
	return ix.userDomains.explainMissing(sid, historyDN)
}

// inHistoryOf reports whether h is in the sIDHistory of the account whose objectSid is sid.
func (ix *verifyIndex) inHistoryOf(h, sid ldapsync.SID) bool {
	a, ok := ix.account(ix.history, h)
	b, ok2 := ix.account(ix.users, sid)
	return ok && ok2 && a == b
}

// originators returns the DNs of the resource objects whose OriginatorSid is sid, other than dn
// (compared without regard to case).
func (ix *verifyIndex) originators(sid ldapsync.SID, dn string) []string {
	k, ok := ix.lookup(sid)
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
