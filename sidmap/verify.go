package sidmap

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/progress"
)

// Verification checks, as reported in Finding.Check.
const (
	CheckMissing        = "missing"         // no msRTCSIP-OriginatorSid
	CheckNotBinary      = "not-binary"      // stored as text or undecodable, not as a binary SID
	CheckUnresolved     = "unresolved"      // no user-forest account has that objectSid
	CheckUserDisabled   = "user-disabled"   // the user-forest account is disabled
	CheckMasterMismatch = "master-mismatch" // differs from msExchMasterAccountSid
	CheckDuplicate      = "duplicate"       // another resource object carries the same SID
)

// Finding is one problem Verify found on a resource-forest account.
type Finding struct {
	DN     string        `json:"dn"`
	GUID   ldapsync.GUID `json:"guid,omitzero"`
	SID    ldapsync.SID  `json:"originator_sid,omitzero"`
	Check  string        `json:"check"`
	Detail string        `json:"detail"`
}

// VerifyOptions configures Verify.
type VerifyOptions struct {
	Base     string // resource-forest search base; "" = the source's base DN
	Filter   string // extra LDAP filter ANDed with CandidateFilter
	Progress progress.Reporter
}

// Verify checks every disabled, SIP-enabled resource account (CandidateFilter): its
// msRTCSIP-OriginatorSid is present and binary, resolves to an enabled user-forest account,
// agrees with msExchMasterAccountSid when that is set, and is carried by no other resource object.
// Findings are sorted by DN, then check.
func Verify(ctx context.Context, user, resource ldapsync.Source, opts VerifyOptions) ([]Finding, error) {
	f, err := loadForests(ctx, user, resource, nil, opts.Base, opts.Filter, nil, opts.Progress)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, c := range f.candidates {
		add := func(check, format string, args ...any) {
			out = append(out, Finding{DN: c.DN, GUID: c.GUID, SID: c.OriginatorSID, Check: check, Detail: fmt.Sprintf(format, args...)})
		}
		raw := rawValues(c, ldapsync.AttrOriginatorSid)
		if len(raw) > 0 {
			if _, asText, err := ldapsync.DecodeSIDValue(raw[0]); err != nil {
				add(CheckNotBinary, "value cannot be decoded: %v", err)
				continue
			} else if asText {
				add(CheckNotBinary, "stored as the text %q; OCS needs the binary SID", string(raw[0]))
			}
		}
		sid := c.OriginatorSID
		if sid.IsZero() {
			if c.MasterSID.IsZero() {
				add(CheckMissing, "no msRTCSIP-OriginatorSid")
			} else {
				add(CheckMissing, "no msRTCSIP-OriginatorSid; msExchMasterAccountSid is %s (%s)", c.MasterSID, f.describeSID(c.MasterSID))
			}
			continue
		}
		switch u := f.bySID[sid]; {
		case u == nil:
			add(CheckUnresolved, "no user-forest account has objectSid %s", sid)
		case u.Disabled():
			add(CheckUserDisabled, "user-forest account %s is disabled", u.DN)
		}
		if !c.MasterSID.IsZero() && c.MasterSID != sid {
			add(CheckMasterMismatch, "msExchMasterAccountSid is %s (%s)", c.MasterSID, f.describeSID(c.MasterSID))
		}
		var others []string
		for _, dn := range f.originators[sid] {
			if !strings.EqualFold(dn, c.DN) {
				others = append(others, dn)
			}
		}
		if len(others) > 0 {
			sort.Strings(others)
			add(CheckDuplicate, "also on %s", strings.Join(others, "; "))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DN < out[j].DN })
	return out, nil
}
