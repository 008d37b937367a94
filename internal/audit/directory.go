package audit

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/abkit/abkit/ldapsync"
)

// Forest is one forest as the directory checks see it: its objects are read once, on first
// use, and shared by every check.
type Forest struct {
	Name string
	// Resource marks the resource forest of a resource-forest topology, whose OCS accounts are
	// disabled by design. Every other forest is a user forest.
	Resource bool

	load    func(ctx context.Context) ([]*ldapsync.Object, error)
	once    sync.Once
	objects []*ldapsync.Object
	err     error
}

// NewForest returns a Forest whose objects come from load, called at most once.
func NewForest(name string, resource bool, load func(ctx context.Context) ([]*ldapsync.Object, error)) *Forest {
	return &Forest{Name: name, Resource: resource, load: load}
}

// SourceForest returns a Forest read from src with the default search (every object carrying a
// SIP address or an OCS/Exchange SID attribute).
func SourceForest(src ldapsync.Source, resource bool) *Forest {
	return NewForest(src.Name(), resource, func(ctx context.Context) ([]*ldapsync.Object, error) {
		var out []*ldapsync.Object
		for o, err := range src.Search(ctx, ldapsync.SearchRequest{}) {
			if err != nil {
				return nil, fmt.Errorf("forest %s: %w", src.Name(), err)
			}
			out = append(out, o)
		}
		return out, nil
	})
}

// Objects returns the forest's objects, reading them on the first call. Every later call
// returns the same objects, or the same error.
func (f *Forest) Objects(ctx context.Context) ([]*ldapsync.Object, error) {
	f.once.Do(func() { f.objects, f.err = f.load(ctx) })
	return f.objects, f.err
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

// eachObject calls fn for every object of every forest selected by want.
func eachObject(ctx context.Context, forests []*Forest, want func(*Forest) bool, fn func(*Forest, *ldapsync.Object)) error {
	for _, f := range forests {
		if !want(f) {
			continue
		}
		objs, err := f.Objects(ctx)
		if err != nil {
			return err
		}
		for _, o := range objs {
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

// HiddenSIPCheck finds SIP-enabled objects hidden from address lists (msExchHideFromAddressLists
// TRUE): the Address Book Server leaves them out, so colleagues cannot find them in the client.
func HiddenSIPCheck(forests []*Forest) Check {
	return NewCheck(CheckHiddenSIP, "SIP-enabled objects hidden from address lists",
		func(ctx context.Context) ([]Finding, error) {
			var out []Finding
			err := eachObject(ctx, forests, allForests, func(f *Forest, o *ldapsync.Object) {
				if sipEnabled(o) && o.HiddenFromGAL {
					out = append(out, Finding{
						Severity: SeverityWarning,
						Object:   o.DN,
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
			err := eachObject(ctx, forests, userForest, func(f *Forest, o *ldapsync.Object) {
				if sipEnabled(o) && o.Kind == ldapsync.KindUser && o.Disabled() {
					out = append(out, Finding{
						Severity: SeverityWarning,
						Object:   o.DN,
						Message:  "account is disabled but still SIP-enabled: " + describe(f.Name, o),
					})
				}
			})
			return out, err
		})
}
