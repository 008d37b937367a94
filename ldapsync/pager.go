package ldapsync

import (
	"context"
	"errors"
	"iter"
	"strings"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Search streams the matching objects, fetching one page at a time with the paged results
// control (1.2.840.113556.1.4.319). See SearchEntries.
func (f *Forest) Search(ctx context.Context, req SearchRequest) iter.Seq2[*Object, error] {
	return objectsOf(f.SearchEntries(ctx, req))
}

// SearchEntries streams the raw entries of a subtree search under req.Base (default: the
// forest's base), one page of PageSize at a time: at most one page is in memory, and the caller's
// request is never modified. Continuation references go to req.Referral and are not chased.
//
// Breaking out of the loop ends the search cleanly: the rest of the current page is read and
// discarded and the server is told to release the paged search. When ctx ends, the search is
// abandoned (RFC 4511 4.11) and the sequence yields ctx's error; when the server sends nothing
// for the forest's Timeout, the search is abandoned and the error names the timeout. Result codes (size or time limit, referral, no such object) come as
// *SearchError with the number of objects received.
func (f *Forest) SearchEntries(ctx context.Context, req SearchRequest) iter.Seq2[*ldap.Entry, error] {
	return func(yield func(*ldap.Entry, error) bool) {
		base, filter := req.Base, req.Filter
		if base == "" {
			base = f.base
		}
		if filter == "" {
			filter = DefaultFilter
		}
		attrs := req.Attributes
		if attrs == nil {
			attrs = ObjectAttributes
		}
		q := pagedQuery{base: base, filter: filter, attrs: attrs, sizeLimit: req.SizeLimit, timeLimit: req.TimeLimit}
		if _, err := ldap.CompileFilter(filter); err != nil {
			yield(nil, &FilterError{Filter: filter, Err: err})
			return
		}
		rep := f.opts.Progress
		rep.Start(-1, "objects")
		defer rep.Done()
		fail := func(n int, err error) {
			yield(nil, &SearchError{Forest: f.opts.Name, Base: base, Filter: filter, Code: ldapCode(err), Objects: n, Err: err})
		}
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		s, err := f.sendPage(q, nil)
		if err != nil {
			fail(0, err)
			return
		}
		n := 0
		emit := func(e *ldap.Entry) bool {
			n++
			rep.Add(1)
			return yield(e, nil)
		}
		for {
			p := f.page(ctx, q, s, true, req.Referral, emit)
			if p.next != nil && (p.stopped || p.err != nil) {
				if p.stopped && p.err == nil {
					// Learn the cookie of the page already asked for, to release it.
					p = f.page(ctx, q, p.next, false, nil, nil)
				} else {
					f.abandon(p.next.id)
					f.mux.unregister(p.next)
				}
			}
			switch {
			case p.stopped:
				f.releasePaging(ctx, q, p.cookie)
				return
			case p.err != nil && ctx.Err() != nil:
				yield(nil, ctx.Err())
				return
			case p.err != nil:
				fail(n, p.err)
				return
			case p.next == nil:
				return
			}
			s = p.next
		}
	}
}

// pagedQuery is the fixed part of a paged search.
type pagedQuery struct {
	base, filter         string
	attrs                []string
	sizeLimit, timeLimit int
}

// sendPage asks for the page after cookie (nil: the first) and returns the search receiving it.
func (f *Forest) sendPage(q pagedQuery, cookie []byte) (*muxSearch, error) {
	s := f.mux.register()
	msg, err := encodeSearch(s.id, q.base, q.filter, q.attrs, q.sizeLimit, q.timeLimit, uint32(f.opts.PageSize), cookie)
	if err == nil {
		_, err = f.mux.Write(msg)
	}
	if err != nil {
		f.mux.unregister(s)
		return nil, err
	}
	return s, nil
}

// pageResult is the outcome of one page: the next page's search when it was asked for, the
// page's cookie, whether the consumer stopped, and the error that ended it.
type pageResult struct {
	next    *muxSearch
	cookie  []byte
	stopped bool
	err     error
}

// page reads one page of a paged search from the connection's multiplexer, handing entries to
// emit (nil: drop them). As soon as the page's final message has arrived (and prefetch is set),
// the next page is asked for, so that the server works on it while the consumer is still busy
// with this one: at most two pages are in memory. An idle timer (the forest's Timeout) runs
// only while waiting for the server, not while emit works. When emit returns false, the rest of
// the page is read and dropped so that the final cookie is known.
func (f *Forest) page(ctx context.Context, q pagedQuery, s *muxSearch, prefetch bool, referral func(string), emit func(*ldap.Entry) bool) pageResult {
	defer f.mux.unregister(s)
	res := pageResult{stopped: emit == nil}
	timer := time.NewTimer(f.opts.Timeout)
	defer timer.Stop()
	for {
		if prefetch && !res.stopped && res.next == nil {
			if last := s.lastMessage(); last != nil {
				if r, err := decodeSearchResponse(last); err == nil && r.done && r.code == ldap.LDAPResultSuccess && len(r.cookie) > 0 {
					if res.next, res.err = f.sendPage(q, r.cookie); res.err != nil {
						return res
					}
				}
			}
		}
		msg, ok := s.pop()
		if !ok {
			select {
			case <-s.notify:
				continue
			case <-ctx.Done():
				res.err = ctx.Err()
				f.abandon(s.id)
			case <-timer.C:
				res.err = errIdle
				f.abandon(s.id)
			case <-f.mux.done:
				res.err = f.mux.closed()
			}
			return res
		}
		timer.Stop()
		if err := ctx.Err(); err != nil {
			res.err = err
			f.abandon(s.id)
			return res
		}
		r, err := decodeSearchResponse(msg)
		switch {
		case err != nil:
			res.err = err
			return res
		case r.entry != nil:
			if !res.stopped && !emit(r.entry) {
				res.stopped = true
			}
		case r.done:
			res.cookie = r.cookie
			if r.code != ldap.LDAPResultSuccess {
				diag := r.diag
				if len(r.referrals) > 0 {
					diag += " (referral to " + strings.Join(r.referrals, ", ") + ")"
				}
				res.err = ldap.NewError(r.code, errors.New(diag))
			}
			return res
		default:
			if referral != nil && !res.stopped {
				for _, u := range r.referrals {
					referral(u)
				}
			}
		}
		timer.Reset(f.opts.Timeout)
	}
}

// abandon asks the server to stop sending the results of search id (RFC 4511 4.11); there is
// no response, and results still arriving are dropped by the multiplexer.
func (f *Forest) abandon(id int64) {
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, f.mux.nextID.Add(1), "MessageID"))
	env.AppendChild(ber.NewInteger(ber.ClassApplication, ber.TypePrimitive, ldap.ApplicationAbandonRequest, id, "Abandon Request"))
	_, _ = f.mux.Write(env.Bytes()) // best effort: the search has already ended for the caller
}

// releasePaging tells the server to drop a paged search that the consumer left early (a page
// size of 0 with the last cookie, RFC 2696). It is best effort: the consumer has already gone,
// and a server that misses it frees the state when the connection closes.
func (f *Forest) releasePaging(ctx context.Context, q pagedQuery, cookie []byte) {
	if len(cookie) == 0 || ctx.Err() != nil {
		return
	}
	paging := ldap.NewControlPaging(0)
	paging.SetCookie(cookie)
	sr := ldap.NewSearchRequest(q.base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, q.filter, q.attrs, []ldap.Control{paging})
	_ = f.guard(ctx, func() error {
		_, err := f.conn.Search(sr)
		return err
	})
}
