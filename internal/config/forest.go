package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Forest is one Active Directory forest (or LDAP server), read live or from an LDIF snapshot.
type Forest struct {
	Name     string        `yaml:"name"`
	URL      string        `yaml:"url,omitempty"`       // ldap://host[:port] or ldaps://host[:port]
	LDIF     string        `yaml:"ldif,omitempty"`      // snapshot file instead of a live server
	Base     string        `yaml:"base,omitempty"`      // search base; default: the rootDSE's
	GCURL    string        `yaml:"gc_url,omitempty"`    // Global Catalog, e.g. ldaps://gc:3269
	StartTLS bool          `yaml:"starttls,omitempty"`  // upgrade ldap:// with StartTLS
	PageSize int           `yaml:"page_size,omitempty"` // paged search page size; default 500
	Timeout  time.Duration `yaml:"timeout,omitempty"`   // per-operation timeout; default 30s
	Bind     Bind          `yaml:"bind,omitempty"`
	TLS      TLS           `yaml:"tls,omitempty"`
	// AllowInsecureBind permits a simple bind over an unencrypted connection to a non-loopback
	// host. The password then crosses the network in clear.
	AllowInsecureBind bool `yaml:"allow_insecure_bind,omitempty"`
}

// Bind says how to authenticate. Method is none (anonymous), simple, ntlm, kerberos or
// current-user (the logged-on account: Kerberos credential cache on Linux/macOS, SSPI on Windows).
type Bind struct {
	Method       string `yaml:"method,omitempty"`
	User         string `yaml:"user,omitempty"`   // NTLM/Kerberos user, or a simple-bind name
	DN           string `yaml:"dn,omitempty"`     // simple-bind DN
	Domain       string `yaml:"domain,omitempty"` // NTLM domain
	PasswordEnv  string `yaml:"password_env,omitempty"`
	PasswordFile string `yaml:"password_file,omitempty"`
	Realm        string `yaml:"realm,omitempty"`     // Kerberos realm
	Keytab       string `yaml:"keytab,omitempty"`    // Kerberos keytab file
	CCache       string `yaml:"ccache,omitempty"`    // Kerberos credential cache (kerberos; current-user: default $KRB5CCNAME)
	Krb5Conf     string `yaml:"krb5_conf,omitempty"` // default /etc/krb5.conf
	SPN          string `yaml:"spn,omitempty"`       // default ldap/<host>
}

// TLS configures certificate verification.
type TLS struct {
	CAFile     string `yaml:"ca_file,omitempty"`
	ServerName string `yaml:"server_name,omitempty"`
	// InsecureSkipVerify turns certificate verification off. Named loudly on purpose.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify,omitempty"`
}

// Live reports whether the forest is read from a server rather than a snapshot.
func (f *Forest) Live() bool { return f.URL != "" }

func (f *Forest) validate() error {
	if f.Name == "" {
		return errors.New("name is required")
	}
	switch {
	case f.URL == "" && f.LDIF == "":
		return errors.New("one of url or ldif is required")
	case f.URL != "" && f.LDIF != "":
		return errors.New("url and ldif are mutually exclusive")
	}
	if f.URL != "" {
		u := strings.ToLower(f.URL)
		if !strings.HasPrefix(u, "ldap://") && !strings.HasPrefix(u, "ldaps://") {
			return fmt.Errorf("url %q: must start with ldap:// or ldaps://", f.URL)
		}
		if f.StartTLS && strings.HasPrefix(u, "ldaps://") {
			return errors.New("starttls applies to ldap:// URLs only")
		}
	}
	if f.PageSize < 0 || f.PageSize > 100000 {
		return fmt.Errorf("page_size %d: must be between 1 and 100000", f.PageSize)
	}
	switch strings.ToLower(f.Bind.Method) {
	case "", "none":
	case "simple":
		if f.Bind.DN == "" && f.Bind.User == "" {
			return errors.New("bind: simple needs dn or user")
		}
	case "ntlm":
		if f.Bind.User == "" {
			return errors.New("bind: ntlm needs user")
		}
	case "kerberos":
		if f.Bind.User == "" && f.Bind.CCache == "" {
			return errors.New("bind: kerberos needs user (with keytab or password) or ccache")
		}
	case "current-user":
		if f.Bind.User != "" || f.Bind.DN != "" || f.Bind.Keytab != "" || f.Bind.PasswordEnv != "" || f.Bind.PasswordFile != "" {
			return errors.New("bind: current-user signs in as the logged-on account: remove user, dn, keytab, password_env and password_file (or use method kerberos)")
		}
	default:
		return fmt.Errorf("bind: unknown method %q: use none, simple, ntlm, kerberos or current-user", f.Bind.Method)
	}
	if f.Bind.PasswordEnv != "" && f.Bind.PasswordFile != "" {
		return errors.New("bind: password_env and password_file are mutually exclusive")
	}
	return nil
}
