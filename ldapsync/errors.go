package ldapsync

import (
	"errors"
	"fmt"

	"github.com/go-ldap/ldap/v3"
)

// OptionsError reports unusable connection options, such as a malformed URL (bad input).
type OptionsError struct {
	Forest string
	Msg    string
}

func (e *OptionsError) Error() string { return fmt.Sprintf("ldapsync: forest %s: %s", e.Forest, e.Msg) }

// BadInput marks unusable options as bad input.
func (e *OptionsError) BadInput() bool { return true }

// InsecureBindError is the refusal to send a password over an unencrypted connection to a host
// that is not loopback (bad input: the configuration must use TLS or allow it explicitly).
type InsecureBindError struct {
	Forest, URL, Method string
}

func (e *InsecureBindError) Error() string {
	return fmt.Sprintf("ldapsync: forest %s: refusing a %s bind with a password over unencrypted %s: "+
		"use ldaps:// or starttls, or allow it explicitly with allow_insecure_bind (--allow-insecure-bind)",
		e.Forest, e.Method, e.URL)
}

// BadInput marks the refusal as bad input (a configuration choice).
func (e *InsecureBindError) BadInput() bool { return true }

// ConnectError reports a server that could not be reached.
type ConnectError struct {
	Forest, URL string
	Err         error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("ldapsync: forest %s: cannot connect to %s: %v", e.Forest, e.URL, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// TLSError reports a failed TLS handshake (LDAPS or StartTLS), typically an untrusted or
// mismatched certificate.
type TLSError struct {
	Forest, URL string
	Err         error
}

func (e *TLSError) Error() string {
	return fmt.Sprintf("ldapsync: forest %s: TLS with %s failed: %v (check tls.ca_file and tls.server_name)", e.Forest, e.URL, e.Err)
}

func (e *TLSError) Unwrap() error { return e.Err }

// BindError reports a refused bind, such as a wrong password.
type BindError struct {
	Forest, URL, Method, Who string
	Err                      error
}

func (e *BindError) Error() string {
	reason := e.Err.Error()
	if ldap.IsErrorWithCode(e.Err, ldap.LDAPResultInvalidCredentials) {
		reason = "invalid credentials (wrong user or password)"
	}
	return fmt.Sprintf("ldapsync: forest %s: %s bind to %s as %q refused: %s", e.Forest, e.Method, e.URL, e.Who, reason)
}

func (e *BindError) Unwrap() error { return e.Err }

// SearchError reports a failed search. Result codes that mean a bad request (no such base DN,
// a filter the server refuses) are bad input; limits, referrals and network failures are
// runtime failures.
type SearchError struct {
	Forest, Base, Filter string
	Code                 uint16 // LDAP result code; 0 when not an LDAP result
	Objects              int    // objects received before the error
	Err                  error
}

func (e *SearchError) Error() string {
	where := fmt.Sprintf("ldapsync: forest %s: search under %q", e.Forest, e.Base)
	switch e.Code {
	case ldap.LDAPResultSizeLimitExceeded:
		return fmt.Sprintf("%s: size limit exceeded after %d objects (the server's or the request's limit; narrow the filter or raise the limit)", where, e.Objects)
	case ldap.LDAPResultTimeLimitExceeded:
		return fmt.Sprintf("%s: time limit exceeded after %d objects (narrow the filter or raise the server's time limit)", where, e.Objects)
	case ldap.LDAPResultAdminLimitExceeded:
		return fmt.Sprintf("%s: administrative limit exceeded after %d objects (OpenLDAP refuses page sizes above its size.pr limit: lower page_size)", where, e.Objects)
	case ldap.LDAPResultReferral:
		return fmt.Sprintf("%s: the server answered with a referral: it does not hold this base DN; referrals are not chased (point the forest's url at a server that holds it)", where)
	case ldap.LDAPResultNoSuchObject:
		return fmt.Sprintf("%s: no such base DN on the server", where)
	case ldap.LDAPResultFilterError:
		return fmt.Sprintf("%s: the server refused the filter %s", where, e.Filter)
	}
	return fmt.Sprintf("%s: %v", where, e.Err)
}

func (e *SearchError) Unwrap() error { return e.Err }

// BadInput reports whether the search failed because of the request itself.
func (e *SearchError) BadInput() bool {
	return e.Code == ldap.LDAPResultNoSuchObject || e.Code == ldap.LDAPResultFilterError
}

// errIdle is the cause of a search cancelled because the server sent nothing for Timeout.
var errIdle = errors.New("ldapsync: server sent nothing within the timeout")

// ldapCode returns the LDAP result code of err, or 0.
func ldapCode(err error) uint16 {
	var le *ldap.Error
	if errors.As(err, &le) {
		return le.ResultCode
	}
	return 0
}
