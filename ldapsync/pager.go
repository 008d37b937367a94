package ldapsync

import (
	"context"
	"errors"
	"iter"
	"time"

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
// discarded and the server is told to release the paged search. When ctx ends, the sequence
// yields ctx's error. When the server sends nothing for the forest's Timeout, it yields an
// error naming the timeout. Result codes (size or time limit, referral, no such object) come as
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
		paging := ldap.NewControlPaging(uint32(f.opts.PageSize))
		sr := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			req.SizeLimit, req.TimeLimit, false, filter, append([]string(nil), attrs...), []ldap.Control{paging})
		fail := func(n int, err error) {
			yield(nil, &SearchError{Forest: f.opts.Name, Base: base, Filter: filter, Code: ldapCode(err), Objects: n, Err: err})
		}
		if _, err := ldap.CompileFilter(filter); err != nil {
			yield(nil, &FilterError{Filter: filter, Err: err})
			return
		}
		rep := f.opts.Progress
		rep.Start(-1, "objects")
		defer rep.Done()
		n := 0
		for {
			p := f.page(ctx, sr, req.Referral, func(e *ldap.Entry) bool {
				n++
				rep.Add(1)
				return yield(e, nil)
			})
			switch {
			case p.stopped:
				f.releasePaging(ctx, sr, paging, p.cookie)
				return
			case ctx.Err() != nil:
				yield(nil, ctx.Err())
				return
			case p.err != nil:
				fail(n, p.err)
				return
			case len(p.cookie) == 0:
				return
			}
			paging.SetCookie(p.cookie)
		}
	}
}

// pageResult is the outcome of one page: the cookie for the next page, whether the consumer
// stopped, and the error that ended it.
type pageResult struct {
	cookie  []byte
	stopped bool
	err     error
}

// page runs one page of a paged search, handing entries to emit. An idle timer (the forest's
// Timeout) runs only while waiting for the server, not while emit works. When emit returns
// false, the rest of the page is drained so that the final cookie is known.
func (f *Forest) page(ctx context.Context, sr *ldap.SearchRequest, referral func(string), emit func(*ldap.Entry) bool) pageResult {
	pctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(f.opts.Timeout, func() { cancel(errIdle) })
	defer timer.Stop()
	var res pageResult
	resp := f.conn.SearchAsync(pctx, sr, 64)
	for resp.Next() {
		timer.Stop()
		switch {
		case resp.Entry() != nil:
			if !res.stopped && !emit(resp.Entry()) {
				res.stopped = true
			}
		case resp.Referral() != "":
			if referral != nil && !res.stopped {
				referral(resp.Referral())
			}
		default:
			if c, ok := ldap.FindControl(resp.Controls(), ControlPagedResults).(*ldap.ControlPaging); ok {
				res.cookie = c.Cookie
			}
		}
		timer.Reset(f.opts.Timeout)
	}
	res.err = resp.Err()
	if res.err == nil && errors.Is(context.Cause(pctx), errIdle) {
		res.err = errIdle
	}
	return res
}

// releasePaging tells the server to drop a paged search that the consumer left early (a page
// size of 0 with the last cookie, RFC 2696). It is best effort: the consumer has already gone,
// and a server that misses it frees the state when the connection closes.
func (f *Forest) releasePaging(ctx context.Context, sr *ldap.SearchRequest, paging *ldap.ControlPaging, cookie []byte) {
	if len(cookie) == 0 || ctx.Err() != nil {
		return
	}
	paging.PagingSize = 0
	paging.SetCookie(cookie)
	_ = f.guard(ctx, func() error {
		_, err := f.conn.Search(sr)
		return err
	})
}
