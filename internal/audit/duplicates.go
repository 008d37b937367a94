package audit

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
)

// Check names of the duplicate checks.
const (
	CheckDuplicateSIP   = "duplicate-sip"
	CheckDuplicatePhone = "duplicate-phone"
)

// DuplicateInputs are the inputs of the duplicate checks besides the forests.
type DuplicateInputs struct {
	AddressBook dupes.AddressBook     // nil: none
	RTC         dupes.EntryChecker    // nil: AbUserEntry presence not checked
	Normalizer  dupes.PhoneNormalizer // nil: the E164 rule
}

// DuplicateChecks returns the duplicate-sip and duplicate-phone checks. Both come from one run
// of dupes.Find over the forests (and the address book and database prepare returns), made by
// whichever check runs first. prepare (nil: no other inputs) opens those inputs; an error from it
// makes both checks fail.
func DuplicateChecks(forests []*Forest, prepare func(ctx context.Context) (DuplicateInputs, error)) (sip, phone Check) {
	var (
		once sync.Once
		rep  *dupes.Report
		err  error
	)
	find := func(ctx context.Context) (*dupes.Report, error) {
		once.Do(func() {
			var in DuplicateInputs
			if prepare != nil {
				if in, err = prepare(ctx); err != nil {
					return
				}
			}
			fin := dupes.Inputs{AddressBook: in.AddressBook, RTC: in.RTC, Normalizer: in.Normalizer, Phones: true}
			for _, f := range forests {
				src, e := f.Source(ctx)
				if e != nil {
					err = e
					return
				}
				fin.Forests = append(fin.Forests, src)
			}
			rep, err = dupes.Find(ctx, fin)
		})
		return rep, err
	}
	sip = NewCheck(CheckDuplicateSIP, "SIP addresses carried by more than one user, contact or group",
		func(ctx context.Context) ([]Finding, error) {
			r, err := find(ctx)
			if err != nil {
				return nil, err
			}
			return rowFindings(CheckDuplicateSIP, SeverityError, "sip:", r.SIP), nil
		})
	phone = NewCheck(CheckDuplicatePhone, "phone lines carried by more than one SIP-enabled user",
		func(ctx context.Context) ([]Finding, error) {
			r, err := find(ctx)
			if err != nil {
				return nil, err
			}
			return rowFindings(CheckDuplicatePhone, SeverityWarning, "", r.Phone), nil
		})
	return sip, phone
}

// rowFindings turns duplicate rows into findings: one per duplicated value, naming every object
// involved and the recommended keeper.
func rowFindings(check string, sev Severity, prefix string, rows []dupes.Row) []Finding {
	out := make([]Finding, 0, len(rows))
	for _, r := range rows {
		parts := make([]string, len(r.Members))
		for i, m := range r.Members {
			parts[i] = memberText(m)
		}
		msg := fmt.Sprintf("%d objects: %s", len(r.Members), strings.Join(parts, "; "))
		if r.Reason != "" {
			msg += "; keep the first: " + r.Reason
		}
		out = append(out, Finding{Check: check, Severity: sev, Object: prefix + r.Value, Message: msg})
	}
	return out
}

// memberText describes one object of a duplicate row: kind, DN (or GUID), where it was found
// (forest, address book file), and, when they were read, whether it is missing from the address
// book and whether it has an AbUserEntry row.
func memberText(m dupes.Member) string {
	id := m.DN
	if id == "" && m.GUID != (ldapsync.GUID{}) {
		id = "{" + m.GUID.String() + "}"
	}
	s := string(m.Kind) + " " + id
	notes := append([]string(nil), m.Sources...)
	if m.InAddressBook != nil && !*m.InAddressBook {
		notes = append(notes, "not in the address book")
	}
	if m.InRTC != nil {
		if *m.InRTC {
			notes = append(notes, "AbUserEntry row")
		} else {
			notes = append(notes, "no AbUserEntry row")
		}
	}
	if len(notes) > 0 {
		s += " [" + strings.Join(notes, ", ") + "]"
	}
	return s
}
