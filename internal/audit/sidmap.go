package audit

import (
	"context"
	"fmt"

	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
)

// CheckSidmap is the name of the SID mapping check.
const CheckSidmap = "sidmap"

// SidmapCheck reports the findings of sidmap.Verify: SIP-enabled resource-forest objects
// (disabled accounts, or contacts in a central topology) whose msRTCSIP-OriginatorSid is missing,
// not binary, unresolved, of a domain no user forest holds, points at a disabled user-forest
// account, disagrees with msExchMasterAccountSid, is shared with another object, or (central)
// whose SIP address is not in its mailbox's proxyAddresses. Room and other mailboxes whose master
// SID is SELF or another well-known SID are no finding. users are the user forests (at least one).
// A disabled user-forest account is a warning (cleanup); everything else stops the person signing
// in and is an error.
func SidmapCheck(resource *Forest, topology sidmap.Topology, users ...*Forest) Check {
	return NewCheck(CheckSidmap, "resource accounts whose msRTCSIP-OriginatorSid is missing or does not map to their user-forest account",
		func(ctx context.Context) ([]Finding, error) {
			srcs := make([]ldapsync.Source, len(users))
			for i, u := range users {
				s, err := u.Source(ctx)
				if err != nil {
					return nil, err
				}
				srcs[i] = s
			}
			if len(srcs) == 0 {
				return nil, fmt.Errorf("sidmap: no user forest")
			}
			rs, err := resource.Source(ctx)
			if err != nil {
				return nil, err
			}
			vf, err := sidmap.Verify(ctx, srcs[0], rs, sidmap.VerifyOptions{Layout: sidmap.Layout{MoreUserForests: srcs[1:], Topology: topology}})
			if err != nil {
				return nil, err
			}
			out := make([]Finding, 0, len(vf))
			for _, v := range vf {
				sev := SeverityError
				if v.Check == sidmap.CheckUserDisabled {
					sev = SeverityWarning
				}
				msg := v.Check + ": " + v.Detail
				if !v.SID.IsZero() {
					msg += fmt.Sprintf(" (msRTCSIP-OriginatorSid %s)", v.SID)
				}
				out = append(out, Finding{Check: CheckSidmap, Severity: sev, Object: v.DN, Message: msg})
			}
			return out, nil
		})
}
