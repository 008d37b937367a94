package sidmap

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/abkit/abkit/ldapsync"
)

// Verification checks, as reported in Finding.Check.
const (
	CheckMissing        = "missing"         // no msRTCSIP-OriginatorSid
	CheckNotBinary      = "not-binary"      // stored as text or undecodable, not as a binary SID
	CheckUnresolved     = "unresolved"      // no user-forest account has that objectSid
	CheckUserDisabled   = "user-disabled"   // the user-forest account is disabled
	CheckMasterMismatch = "master-mismatch" // differs from msExchMasterAccountSid
	CheckDuplicate      = "duplicate"       // another resource object carries the same SID
	CheckUnknownDomain  = "unknown-domain"  // the SID's domain belongs to no configured user forest
	// CheckAddressNotInMailbox: a central-forest contact's msRTCSIP-PrimaryUserAddress is not in
	// the proxyAddresses of the user-forest account (the mailbox) its OriginatorSid names.
	CheckAddressNotInMailbox = "address-not-in-mailbox"
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
	Layout          // more user forests; resource or central topology
	Base     string // resource-forest search base; "" = the source's base DN
	Filter   string // extra LDAP filter ANDed with CandidateFilter
	Progress ldapsync.Progress
}

// Verify checks every candidate (disabled, SIP-enabled resource account, CandidateFilter; or
// SIP-enabled contact in a central forest, CentralCandidateFilter): its msRTCSIP-OriginatorSid is
// present and binary, resolves to an enabled account of a configured user forest, agrees with
// msExchMasterAccountSid when that is set, and is carried by no other resource object; a contact's
// msRTCSIP-PrimaryUserAddress is in that account's proxyAddresses. An account whose
// msExchMasterAccountSid is a well-known SID (SELF on a room mailbox) needs no OriginatorSid.
// Findings are sorted by DN, then check.
func Verify(ctx context.Context, user, resource ldapsync.Source, opts VerifyOptions) ([]Finding, error) {
	rep := ldapsync.ProgressOrNop(opts.Progress)
	rep.Start(-1, "objects")
	defer rep.Done()
	users := append([]ldapsync.Source{user}, opts.MoreUserForests...)
	f, err := loadVerifyIndex(ctx, users, resource, opts.Topology == TopologyCentral, rep)
	if err != nil {
		return nil, err
	}
	var out []Finding
	err = f.eachCandidate(ctx, resource, opts.Layout, opts.Base, opts.Filter, func(c *ldapsync.Object) {
		selfLike := wellKnownReason(c.MasterSID) != ""
		add := func(check, format string, args ...any) {
			out = append(out, Finding{DN: c.DN, GUID: c.GUID, SID: c.OriginatorSID, Check: check, Detail: fmt.Sprintf(format, args...)})
		}
		raw := rawValues(c, ldapsync.AttrOriginatorSid)
		if len(raw) > 0 {
			if _, asText, err := ldapsync.DecodeSIDValue(raw[0]); err != nil {
				add(CheckNotBinary, "value cannot be decoded: %v", err)
				return
			} else if asText {
				add(CheckNotBinary, "stored as the text %q; OCS needs the binary SID", string(raw[0]))
			}
		}
		sid := c.OriginatorSID
		if sid.IsZero() {
			if selfLike {
				return
			}
			if c.MasterSID.IsZero() {
				add(CheckMissing, "no msRTCSIP-OriginatorSid")
			} else {
				add(CheckMissing, "no msRTCSIP-OriginatorSid; msExchMasterAccountSid is %s (%s)", c.MasterSID, f.describeSID(c.MasterSID))
			}
			return
		}
		u := f.user(sid)
		switch {
		case u == nil && f.unknownDomain(sid):
			add(CheckUnknownDomain, "%s", f.explainMissing(sid))
		case u == nil:
			add(CheckUnresolved, "%s", f.explainMissing(sid))
		case u.Disabled():
			add(CheckUserDisabled, "user-forest account %s is disabled", u.DN)
		}
		if u != nil && opts.Topology == TopologyCentral {
			if detail := addressInMailbox(c, u); detail != "" {
				add(CheckAddressNotInMailbox, "%s", detail)
			}
		}
		if !c.MasterSID.IsZero() && !selfLike && c.MasterSID != sid && (u == nil || !f.inHistoryOf(c.MasterSID, sid)) {
			add(CheckMasterMismatch, "msExchMasterAccountSid is %s (%s)", c.MasterSID, f.describeSID(c.MasterSID))
		}
		if others := f.originators(sid, c.DN); len(others) > 0 {
			sort.Strings(others)
			add(CheckDuplicate, "also on %s", strings.Join(others, "; "))
		}
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].DN < out[j].DN })
	return out, nil
}

// addressInMailbox checks that contact c's msRTCSIP-PrimaryUserAddress is one of the sip:
// proxyAddresses of mailbox u, the user-forest account c's OriginatorSid names; it returns what
// is wrong, or "".
func addressInMailbox(c, u *ldapsync.Object) string {
	addr := strings.TrimSpace(c.PrimaryUserAddress)
	if addr == "" {
		return fmt.Sprintf("no msRTCSIP-PrimaryUserAddress; the mailbox is %s", u.DN)
	}
	for _, p := range u.ProxySIP {
		if strings.EqualFold(p, addr) {
			return ""
		}
	}
	have := "it has no sip: proxyAddresses"
	if len(u.ProxySIP) > 0 {
		have = "it has " + strings.Join(u.ProxySIP, ", ")
	}
	return fmt.Sprintf("msRTCSIP-PrimaryUserAddress %s is not in the proxyAddresses of the mailbox %s (the user-forest account whose objectSid is the contact's msRTCSIP-OriginatorSid); %s", addr, u.DN, have)
}
