//go:build windows

package ldapsync

import (
	"fmt"

	"github.com/go-ldap/ldap/v3"
	"github.com/go-ldap/ldap/v3/gssapi"
)

// currentUserClient returns the GSSAPI client of the logged-on account: SSPI (Kerberos) with the
// credentials of the Windows logon session, and the function that releases it.
func currentUserClient(Bind) (ldap.GSSAPIClient, func(), error) {
	cl, err := gssapi.NewSSPIClient()
	if err != nil {
		return nil, nil, fmt.Errorf("SSPI: credentials of the logged-on account: %w", err)
	}
	return cl, func() { _ = cl.Close() }, nil
}

// currentUserSource says where the current-user bind takes its credentials from.
func currentUserSource(Bind) string { return "Windows logon session, SSPI" }
