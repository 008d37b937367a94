//go:build !windows

package ldapsync

import (
	"errors"
	"fmt"
	"os"

	"github.com/go-ldap/ldap/v3"
	"github.com/go-ldap/ldap/v3/gssapi"
	"github.com/jcmturner/gokrb5/v8/client"
)

// currentUserClient returns the GSSAPI client of the logged-on account: Kerberos with the
// tickets in the credential cache b.CCache (filled by kinit or the desktop login), and the
// function that releases it.
func currentUserClient(b Bind) (ldap.GSSAPIClient, func(), error) {
	if b.CCache == "" {
		return nil, nil, errors.New("no Kerberos credential cache: sign in with kinit (the cache is $KRB5CCNAME, default /tmp/krb5cc_<uid>)")
	}
	if _, err := os.Stat(b.CCache); err != nil {
		return nil, nil, fmt.Errorf("credential cache: %w (sign in with kinit first)", err)
	}
	// AD does not offer FAST; without this gokrb5 insists on PA-FX-FAST and fails.
	cl, err := gssapi.NewClientFromCCache(b.CCache, krb5Conf(b), client.DisablePAFXFAST(true))
	if err != nil {
		return nil, nil, fmt.Errorf("kerberos client from credential cache %s: %w", b.CCache, err)
	}
	return cl, func() { _ = cl.Close() }, nil
}

// currentUserSource says where the current-user bind takes its credentials from.
func currentUserSource(b Bind) string { return "credential cache " + b.CCache }
