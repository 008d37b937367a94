package audit

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/abkit/abkit/ldapsync"
)

// Forest is one forest as the checks see it: its source is opened once, on first use, and
// shared by every check; an error opening it is the same for every check that needs it. Each
// check runs its own search with a filter that lets the server (or the snapshot) select the few
// objects it needs, and streams the results, so no forest is held in memory by the audit.
type Forest struct {
	Name string
	// Resource marks the resource forest of a resource-forest topology, whose OCS accounts are
	// disabled by design. Every other forest is a user forest.
	Resource bool

	open     func(ctx context.Context) (ldapsync.Source, error)
	openOnce sync.Once
	src      ldapsync.Source
	openErr  error
}

// NewForest returns a Forest whose source open returns, called at most once.
func NewForest(name string, resource bool, open func(ctx context.Context) (ldapsync.Source, error)) *Forest {
	return &Forest{Name: name, Resource: resource, open: open}
}

// Source returns the forest's source, opening it on the first call.
func (f *Forest) Source(ctx context.Context) (ldapsync.Source, error) {
	f.openOnce.Do(func() {
		f.src, f.openErr = f.open(ctx)
		if f.openErr != nil {
			f.openErr = fmt.Errorf("forest %s: %w", f.Name, f.openErr)
		}
	})
	return f.src, f.openErr
}

// Close closes the source if it was opened.
func (f *Forest) Close() error {
	if f.src == nil {
		return nil
	}
	return f.src.Close()
}

// sipEnabled reports whether o has msRTCSIP-UserEnabled TRUE.
func sipEnabled(o *ldapsync.Object) bool { return o.SIPEnabled != nil && *o.SIPEnabled }

// describe names an object for a finding message: forest, kind and SIP address.
func describe(forest string, o *ldapsync.Object) string {
	s := fmt.Sprintf("%s in forest %s", o.Kind, forest)
	if sips := o.SIPAddresses(); len(sips) > 0 {
		s += " (sip:" + strings.Join(sips, ", sip:") + ")"
	}
	return s
}

// eachObject calls fn for every object matching filter in every forest selected by want.
func eachObject(ctx context.Context, forests []*Forest, want func(*Forest) bool, filter string, fn func(*Forest, *ldapsync.Object)) error {
	for _, f := range forests {
		if !want(f) {
			continue
		}
		src, err := f.Source(ctx)
		if err != nil {
			return err
		}
		for o, err := range src.Search(ctx, ldapsync.SearchRequest{Filter: filter}) {
			if err != nil {
				return fmt.Errorf("forest %s: %w", f.Name, err)
			}
			fn(f, o)
		}
	}
	return nil
}

func allForests(*Forest) bool { return true }

// Check names of the directory checks.
const (
	CheckHiddenSIP   = "hidden-sip"
	CheckDisabledSIP = "disabled-sip"
)

// Search filters of the directory checks. Each check also tests the decoded attributes itself,
// so a server that matches more loosely cannot add findings.
const (
	hiddenSIPFilter   = "(&(msRTCSIP-UserEnabled=TRUE)(msExchHideFromAddressLists=TRUE))"
	disabledSIPFilter = "(&(objectClass=user)(msRTCSIP-UserEnabled=TRUE)(userAccountControl:1.2.840.113556.1.4.803:=2))"
	phoneFilter       = "(&(telephoneNumber=*)" + ldapsync.DefaultFilter + ")"
)

// HiddenSIPCheck finds SIP-enabled objects hidden from address lists (msExchHideFromAddressLists
// TRUE): the Address Book Server leaves them out, so colleagues cannot find them in the client.
func HiddenSIPCheck(forests []*Forest) Check {
	return NewCheck(CheckHiddenSIP, "SIP-enabled objects hidden from address lists",
		func(ctx context.Context) ([]Finding, error) {
			var out []Finding
			err := eachObject(ctx, forests, allForests, hiddenSIPFilter, func(f *Forest, o *ldapsync.Object) {
				if sipEnabled(o) && o.HiddenFromGAL {
					out = append(out, Finding{
						Severity: SeverityWarning,
						Object:   o.DN,
						Forest:   f.Name,
						Message:  "SIP-enabled " + describe(f.Name, o) + " is hidden from address lists: it is left out of the address book",
					})
				}
			})
			return out, err
		})
}

// DisabledSIPCheck finds SIP-enabled accounts whose account is disabled (userAccountControl
// ACCOUNTDISABLE) in a user forest. Resource forests are skipped: their accounts are disabled by
// design, and whether their user-forest account is enabled is the sidmap check's question.
func DisabledSIPCheck(forests []*Forest) Check {
	return NewCheck(CheckDisabledSIP, "SIP-enabled accounts disabled in a user forest",
		func(ctx context.Context) ([]Finding, error) {
			var out []Finding
			userForest := func(f *Forest) bool { return !f.Resource }
			err := eachObject(ctx, forests, userForest, disabledSIPFilter, func(f *Forest, o *ldapsync.Object) {
				if sipEnabled(o) && o.Kind == ldapsync.KindUser && o.Disabled() {
					out = append(out, Finding{
						Severity: SeverityWarning,
						Object:   o.DN,
						Forest:   f.Name,
						Message:  "account is disabled but still SIP-enabled: " + describe(f.Name, o),
					})
				}
			})
			return out, err
		})
}

// CheckSnapshotRecords is the name of SnapshotRecordsCheck.
const CheckSnapshotRecords = "snapshot-records"

// SnapshotRecordsCheck reports, for every forest read from an LDIF snapshot, the records that
// could not be read and were skipped, each with its file and line: the other checks ran on the
// rest of the forest. Put it after the checks that search the forests (a streamed snapshot knows
// its skipped records once searched).
func SnapshotRecordsCheck(forests []*Forest) Check {
	return NewCheck(CheckSnapshotRecords, "LDIF snapshot records that could not be read and were skipped",
		func(ctx context.Context) ([]Finding, error) {
			var out []Finding
			for _, f := range forests {
				src, err := f.Source(ctx)
				if err != nil {
					return nil, err
				}
				r, ok := src.(ldapsync.Reporter)
				if !ok {
					continue
				}
				rep := r.ReadReport()
				for _, p := range rep.Problems {
					msg := fmt.Sprintf("forest %s: record skipped: %s", f.Name, p.Msg)
					if p.DN != "" {
						msg += " (dn: " + p.DN + ")"
					}
					out = append(out, Finding{Object: fmt.Sprintf("%s:%d", p.Path, p.Line), Message: msg, Forest: f.Name})
				}
				if more := rep.Skipped - len(rep.Problems); more > 0 {
					out = append(out, Finding{Object: rep.Path, Message: fmt.Sprintf("forest %s: %d more records skipped", f.Name, more), Forest: f.Name})
				}
			}
			return out, nil
		})
}
