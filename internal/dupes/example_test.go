package dupes_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
)

// A user and a mail-enabled security group carrying the same SIP address, one of them with a
// different case: Find reports one row, the user first as the keeper.
func ExampleFind() {
	const ldif = `dn: cn=Alice,dc=contoso,dc=com
objectClass: user
userAccountControl: 512
msRTCSIP-PrimaryUserAddress: sip:alice@contoso.com
msRTCSIP-UserEnabled: TRUE

dn: cn=Sales,dc=contoso,dc=com
objectClass: group
groupType: -2147483640
proxyAddresses: SMTP:sales@contoso.com
proxyAddresses: SIP:Alice@Contoso.com
`
	forest, err := ldapsync.ReadSnapshot("contoso", strings.NewReader(ldif), "")
	if err != nil {
		panic(err)
	}
	rep, err := dupes.Find(context.Background(), dupes.Inputs{Forests: []ldapsync.Source{forest}})
	if err != nil {
		panic(err)
	}
	for _, row := range rep.SIP {
		fmt.Println(row.Value, "-", row.Reason)
		for _, m := range row.Members {
			fmt.Printf("  keep=%v %s (%s) via %v\n", m.Keep, m.DN, m.Kind, m.Via)
		}
	}
	// Output:
	// alice@contoso.com - a SIP-enabled user beats a group
	//   keep=true cn=Alice,dc=contoso,dc=com (user) via [msRTCSIP-PrimaryUserAddress]
	//   keep=false cn=Sales,dc=contoso,dc=com (security group) via [proxyAddresses]
}
