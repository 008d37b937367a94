package sidmap

import (
	"strings"
	"testing"

	"github.com/abkit/abkit/internal/change"
)

// Every default sync-attrs attribute is on the allowlist, and the security and logon attributes
// the issue names are not; an originator-sid apply may write nothing but the OriginatorSid.
func TestPolicies(t *testing.T) {
	for _, a := range DefaultSyncAttrs {
		if !syncAllowed(a) {
			t.Errorf("default sync attribute %s is not allowlisted", a)
		}
	}
	for _, a := range []string{"altSecurityIdentities", "msDS-AllowedToActOnBehalfOfOtherIdentity", "servicePrincipalName",
		"scriptPath", "userPassword", "unicodePwd", "userAccountControl", "objectSid", "sIDHistory", "member", "msRTCSIP-OriginatorSid"} {
		if syncAllowed(a) || syncAllowed(strings.ToUpper(a)) {
			t.Errorf("%s is allowlisted for sync-attrs", a)
		}
	}
	it := change.Item{DN: "cn=a,dc=r", Changes: []change.AttrChange{{Attr: "title", New: [][]byte{[]byte("x")}}}}
	if Policy(KindOriginatorSID, "dc=r").Check([]change.Item{it}) == nil {
		t.Error("an originator-sid apply may write title")
	}
	if err := Policy(KindSyncAttrs, "dc=r").Check([]change.Item{it}); err != nil {
		t.Errorf("sync-attrs may not write title: %v", err)
	}
}
