package audit

import (
	"context"
	"fmt"

	"github.com/abkit/abkit/sidmap"
)

// CheckSidmap is the name of the SID mapping check.
const CheckSidmap = "sidmap"

// SidmapCheck reports the findings of sidmap.Verify: SIP-enabled resource-forest accounts whose
// msRTCSIP-OriginatorSid is missing, not binary, unresolved, points at a disabled user-forest
// account, disagrees with msExchMasterAccountSid, or is shared with another account. A disabled
// user-forest account is a warning (cleanup); everything else stops the person signing in and
// is an error.
func SidmapCheck(user, resource *Forest) Check {
	return NewCheck(CheckSidmap, "resource accounts whose msRTCSIP-OriginatorSid is missing or does not map to their user-forest account",
		func(ctx context.Context) ([]Finding, error) {
			us, err := user.Source(ctx)
			if err != nil {
				return nil, err
			}
			rs, err := resource.Source(ctx)
			if err != nil {
				return nil, err
			}
			vf, err := sidmap.Verify(ctx, us, rs, sidmap.VerifyOptions{})
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
