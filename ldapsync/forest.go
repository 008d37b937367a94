package ldapsync

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/go-ldap/ldap/v3/gssapi"
	"github.com/jcmturner/gokrb5/v8/client"
)

// Defaults of Options.
const (
	DefaultPageSize = 500
	DefaultTimeout  = 30 * time.Second
)

// BindMethod says how to authenticate to a live forest.
type BindMethod string

// Bind methods.
const (
	BindNone     BindMethod = "none"     // anonymous
	BindSimple   BindMethod = "simple"   // DN (or user@domain on AD) and password
	BindNTLM     BindMethod = "ntlm"     // domain, user and password (go-ldap NTLMBind)
	BindKerberos BindMethod = "kerberos" // GSSAPI with a keytab, a credential cache or a password
	// BindCurrentUser signs in as the logged-on account, without a password: on Linux and macOS
	// Kerberos (GSSAPI) with the credential cache kinit filled (Bind.CCache, which the caller
	// sets, e.g. from KRB5CCNAME); on Windows SSPI with the logon session's credentials.
	BindCurrentUser BindMethod = "current-user"
)

// Bind holds the credentials of a live forest. The password is already resolved: ldapsync never
// reads environment variables, files or terminals.
type Bind struct {
	Method   BindMethod // "" = none
	User     string     // NTLM/Kerberos user name, or a simple-bind name (user@domain on AD)
	DN       string     // simple-bind DN (takes precedence over User)
	Domain   string     // NTLM domain
	Password string

	Keytab   string // Kerberos keytab file (with User)
	CCache   string // Kerberos credential cache file
	Realm    string // Kerberos realm; default: the user's @REALM or Domain in upper case
	Krb5Conf string // default /etc/krb5.conf
	SPN      string // service principal; default ldap/<host of URL>
}

// TLSOptions configures certificate verification.
type TLSOptions struct {
	CAFile     string // PEM file with the CA(s) to trust in addition to the system's
	ServerName string // name to verify in the certificate; default: the URL's host
	// InsecureSkipVerify turns certificate verification off: anyone on the path can read and
	// change the traffic, passwords included.
	InsecureSkipVerify bool
}

// Options says how to reach and read one live forest.
type Options struct {
	Name     string
	URL      string // ldap://host[:port] or ldaps://host[:port]
	StartTLS bool   // upgrade an ldap:// connection with StartTLS
	Base     string // search base; default: the rootDSE's defaultNamingContext, else its first namingContext
	GCURL    string // Global Catalog URL, used by DialGC
	PageSize int    // paged search page size; default DefaultPageSize
	Timeout  time.Duration
	TLS      TLSOptions
	Bind     Bind
	// AllowInsecureBind permits a simple or NTLM bind with a password over an unencrypted
	// connection to a host that is not loopback.
	AllowInsecureBind bool
	// Progress receives the number of objects read by searches; nil = none.
	Progress Progress
}

// Forest is a connection to a live directory server (a domain controller, a Global Catalog or
// an LDAP server with the AD schema). It implements Source and Modifier. A Forest is safe for
// concurrent use; each search runs its own paged search on the shared connection.
type Forest struct {
	opts      Options
	conn      *ldap.Conn
	mux       *muxConn // under conn: carries paged searches past go-ldap's decoder
	base      string
	transport string // "plain", "starttls" or "ldaps"
	rootDSE   *RootDSE
	latency   time.Duration
	ntlmDone  bool // bound with SASL NTLM before go-ldap took the connection over
}

var (
	_ Source   = (*Forest)(nil)
	_ Modifier = (*Forest)(nil)
)

// Dial connects, secures (LDAPS or StartTLS) and binds to the forest described by opts, then
// reads the rootDSE and settles the base DN. Every step honours ctx and opts.Timeout.
func Dial(ctx context.Context, opts Options) (*Forest, error) {
	return dial(ctx, opts, false)
}

// DialGC connects to the forest's Global Catalog (opts.GCURL) with the same credentials; its
// searches cover every domain of the forest (base ""), read-only.
func DialGC(ctx context.Context, opts Options) (*Forest, error) {
	if opts.GCURL == "" {
		return nil, &OptionsError{Forest: opts.Name, Msg: "no Global Catalog URL (gc_url) configured"}
	}
	opts.URL, opts.StartTLS, opts.Base = opts.GCURL, false, ""
	return dial(ctx, opts, true)
}

func dial(ctx context.Context, opts Options, gc bool) (*Forest, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	opts.Progress = ProgressOrNop(opts.Progress)
	if opts.Bind.Method == "" {
		opts.Bind.Method = BindNone
	}
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Hostname() == "" {
		return nil, &OptionsError{Forest: opts.Name, Msg: fmt.Sprintf("url %q: want ldap://host[:port] or ldaps://host[:port]", opts.URL)}
	}
	if opts.StartTLS && u.Scheme == "ldaps" {
		return nil, &OptionsError{Forest: opts.Name, Msg: "starttls applies to ldap:// URLs only"}
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"ldap": "389", "ldaps": "636"}[u.Scheme]
	}
	encrypted := u.Scheme == "ldaps" || opts.StartTLS
	switch opts.Bind.Method {
	case BindNone, BindKerberos, BindCurrentUser:
	case BindSimple, BindNTLM:
		if !encrypted && !opts.AllowInsecureBind && !isLoopback(host) {
			return nil, &InsecureBindError{Forest: opts.Name, URL: opts.URL, Method: string(opts.Bind.Method)}
		}
		if opts.Bind.Password == "" {
			return nil, &OptionsError{Forest: opts.Name, Msg: fmt.Sprintf("%s bind needs a password (an empty password is an unauthenticated bind)", opts.Bind.Method)}
		}
	default:
		return nil, &OptionsError{Forest: opts.Name, Msg: fmt.Sprintf("unknown bind method %q: use none, simple, ntlm, kerberos or current-user", opts.Bind.Method)}
	}
	tlsConfig, err := newTLSConfig(opts, host)
	if err != nil {
		return nil, err
	}

	f := &Forest{opts: opts, transport: "plain"}
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(dctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, &ConnectError{Forest: opts.Name, URL: opts.URL, Err: err}
	}
	if u.Scheme == "ldaps" {
		tc := tls.Client(raw, tlsConfig)
		if err := tc.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, &TLSError{Forest: opts.Name, URL: opts.URL, Err: err}
		}
		raw = tc
		f.transport = "ldaps"
	}
	rl := &rawLDAP{conn: raw}
	if opts.StartTLS {
		if raw, err = rl.startTLS(dctx, tlsConfig); err != nil {
			rl.conn.Close()
			return nil, &TLSError{Forest: opts.Name, URL: opts.URL, Err: err}
		}
		f.transport = "starttls"
	}
	if opts.Bind.Method == BindNTLM {
		done, err := rl.saslNTLM(dctx, opts.Bind.Domain, opts.Bind.User, opts.Bind.Password)
		if err != nil {
			raw.Close()
			return nil, &BindError{Forest: opts.Name, URL: opts.URL, Method: string(opts.Bind.Method), Who: opts.Bind.User, Err: err}
		}
		f.ntlmDone = done
	}
	f.mux = newMuxConn(raw)
	f.conn = ldap.NewConn(f.mux, f.transport != "plain")
	f.conn.Start()
	f.conn.SetTimeout(opts.Timeout)
	ok := false
	defer func() {
		if !ok {
			f.conn.Close()
		}
	}()
	if err := f.bind(ctx, host); err != nil {
		return nil, err
	}
	if f.rootDSE, err = f.readRootDSE(ctx); err != nil && opts.Base == "" && !gc {
		return nil, err
	}
	f.latency = time.Since(start)
	switch {
	case gc:
		f.base = ""
	case opts.Base != "":
		f.base = opts.Base
	case f.rootDSE.DefaultNamingContext != "":
		f.base = f.rootDSE.DefaultNamingContext
	case len(f.rootDSE.NamingContexts) > 0:
		f.base = f.rootDSE.NamingContexts[0]
	default:
		return nil, &OptionsError{Forest: opts.Name, Msg: "no base configured and the rootDSE names no naming context"}
	}
	ok = true
	return f, nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func newTLSConfig(opts Options, host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: opts.TLS.InsecureSkipVerify}
	if opts.TLS.ServerName != "" {
		cfg.ServerName = opts.TLS.ServerName
	}
	if opts.TLS.CAFile != "" {
		pem, err := os.ReadFile(opts.TLS.CAFile)
		if err != nil {
			return nil, &OptionsError{Forest: opts.Name, Msg: fmt.Sprintf("tls ca_file: %v", err)}
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &OptionsError{Forest: opts.Name, Msg: fmt.Sprintf("tls ca_file %s: no PEM certificate in it", opts.TLS.CAFile)}
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// guard runs op, closing the connection if ctx ends or opts.Timeout passes first (go-ldap's
// blocking calls do not take a context). It returns the context's error in that case.
func (f *Forest) guard(ctx context.Context, op func() error) error {
	opCtx, cancel := context.WithTimeoutCause(ctx, f.opts.Timeout, errIdle)
	defer cancel()
	stop := context.AfterFunc(opCtx, func() { f.conn.Close() })
	err := op()
	if !stop() {
		return context.Cause(opCtx)
	}
	return err
}

func (f *Forest) bind(ctx context.Context, host string) error {
	b := f.opts.Bind
	who := b.DN
	if who == "" {
		who = b.User
	}
	var err error
	switch b.Method {
	case BindNone:
		return nil
	case BindSimple:
		err = f.guard(ctx, func() error { return f.conn.Bind(who, b.Password) })
	case BindNTLM:
		if f.ntlmDone {
			return nil
		}
		err = f.guard(ctx, func() error { return f.conn.NTLMBind(b.Domain, b.User, b.Password) })
	case BindKerberos:
		err = f.kerberosBind(ctx, host)
	case BindCurrentUser:
		var cl ldap.GSSAPIClient
		var release func()
		if cl, release, err = currentUserClient(b); err == nil {
			defer release()
			err = f.gssapiBind(ctx, cl, host)
		}
	}
	if err != nil {
		return &BindError{Forest: f.opts.Name, URL: f.opts.URL, Method: string(b.Method), Who: who, Err: err}
	}
	return nil
}

func (f *Forest) kerberosBind(ctx context.Context, host string) error {
	b := f.opts.Bind
	conf := krb5Conf(b)
	user, realm := b.User, b.Realm
	if i := strings.LastIndexByte(user, '@'); i >= 0 {
		if realm == "" {
			realm = user[i+1:]
		}
		user = user[:i]
	}
	if realm == "" {
		realm = b.Domain
	}
	realm = strings.ToUpper(realm)
	// AD does not offer FAST; without this gokrb5 insists on PA-FX-FAST and fails.
	noFAST := client.DisablePAFXFAST(true)
	var cl *gssapi.Client
	var err error
	switch {
	case b.CCache != "":
		cl, err = gssapi.NewClientFromCCache(b.CCache, conf, noFAST)
	case b.Keytab != "":
		cl, err = gssapi.NewClientWithKeytab(user, realm, b.Keytab, conf, noFAST)
	case b.Password != "":
		cl, err = gssapi.NewClientWithPassword(user, realm, b.Password, conf, noFAST)
	default:
		return errors.New("kerberos needs a keytab, a credential cache or a password")
	}
	if err != nil {
		return fmt.Errorf("kerberos client: %w", err)
	}
	defer cl.Close()
	return f.gssapiBind(ctx, cl, host)
}

// krb5Conf returns the krb5.conf file of b: Bind.Krb5Conf, default /etc/krb5.conf.
func krb5Conf(b Bind) string {
	if b.Krb5Conf == "" {
		return "/etc/krb5.conf"
	}
	return b.Krb5Conf
}

// gssapiBind binds with the SASL GSSAPI mechanism for the service principal Bind.SPN (default
// ldap/<host>).
func (f *Forest) gssapiBind(ctx context.Context, cl ldap.GSSAPIClient, host string) error {
	spn := f.opts.Bind.SPN
	if spn == "" {
		spn = "ldap/" + host
	}
	return f.guard(ctx, func() error { return f.conn.GSSAPIBind(cl, spn, "") })
}

// Name returns the forest's configured name.
func (f *Forest) Name() string { return f.opts.Name }

// BaseDN returns the search base: the configured one or the one found in the rootDSE.
func (f *Forest) BaseDN() string { return f.base }

// Transport returns how the connection is protected: "plain", "starttls" or "ldaps".
func (f *Forest) Transport() string { return f.transport }

// ConnectLatency returns how long Dial took, from connecting to reading the rootDSE.
func (f *Forest) ConnectLatency() time.Duration { return f.latency }

// RootDSE returns the server facts read at Dial; nil when the server refused to show them.
func (f *Forest) RootDSE() *RootDSE { return f.rootDSE }

// Close unbinds and closes the connection.
func (f *Forest) Close() error { return f.conn.Close() }

// ErrWhoAmIUnsupported is returned by WhoAmI when the server does not implement RFC 4532
// (Samba answers with a protocol error); BoundAs then says who we bound as.
var ErrWhoAmIUnsupported = errors.New("ldapsync: the server does not support the Who am I? operation")

// WhoAmI returns the identity the server bound us as (RFC 4532), e.g. "dn:cn=admin,dc=x" or
// "u:DOMAIN\user"; "" for an anonymous bind.
func (f *Forest) WhoAmI(ctx context.Context) (string, error) {
	var res *ldap.WhoAmIResult
	err := f.guard(ctx, func() error {
		var err error
		res, err = f.conn.WhoAmI(nil)
		return err
	})
	switch ldapCode(err) {
	case 0:
	case ldap.LDAPResultProtocolError, ldap.LDAPResultUnavailableCriticalExtension, ldap.LDAPResultUnwillingToPerform:
		return "", ErrWhoAmIUnsupported
	}
	if err != nil {
		return "", fmt.Errorf("ldapsync: forest %s: who am I: %w", f.opts.Name, err)
	}
	return res.AuthzID, nil
}

// BoundAs describes the configured identity of the bind: method and name, e.g.
// "kerberos Administrator@USERFOREST.TEST"; "anonymous" for none.
func (f *Forest) BoundAs() string {
	b := f.opts.Bind
	switch b.Method {
	case BindNone:
		return "anonymous"
	case BindSimple:
		if b.DN != "" {
			return "simple " + b.DN
		}
	case BindNTLM:
		if b.Domain != "" {
			return "ntlm " + b.Domain + `\` + b.User
		}
	case BindKerberos:
		if b.CCache != "" && b.User == "" {
			return "kerberos (credential cache " + b.CCache + ")"
		}
	case BindCurrentUser:
		return "current-user (" + currentUserSource(b) + ")"
	}
	return string(b.Method) + " " + b.User
}

// Modify applies one modify request.
func (f *Forest) Modify(ctx context.Context, req *ldap.ModifyRequest) error {
	if err := f.guard(ctx, func() error { return f.conn.Modify(req) }); err != nil {
		return fmt.Errorf("ldapsync: forest %s: modify %s: %w", f.opts.Name, req.DN, err)
	}
	return nil
}

// RootDSE holds the server facts abkit reports (`abkit ldap ping`).
type RootDSE struct {
	NamingContexts          []string
	DefaultNamingContext    string // AD only
	RootDomainNamingContext string // AD only
	ConfigurationContext    string // AD only
	DNSHostName             string // AD only
	ServerName              string
	SupportedControls       []string
	SupportedExtensions     []string // OIDs of the extended operations the server offers
	SupportedLDAPVersions   []string
	SupportedSASLMechanisms []string
	VendorName              string
	VendorVersion           string
	ForestFunctionality     string // AD only: forestFunctionality level
	Raw                     *ldap.Entry
}

// ControlPagedResults is the OID of the Simple Paged Results control.
const ControlPagedResults = "1.2.840.113556.1.4.319"

// SupportsPaging reports whether the server lists the paged results control.
func (r *RootDSE) SupportsPaging() bool {
	for _, c := range r.SupportedControls {
		if c == ControlPagedResults {
			return true
		}
	}
	return false
}

func (f *Forest) readRootDSE(ctx context.Context) (*RootDSE, error) {
	req := ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)",
		[]string{"namingContexts", "defaultNamingContext", "rootDomainNamingContext", "configurationNamingContext",
			"dnsHostName", "serverName", "supportedControl", "supportedExtension", "supportedLDAPVersion", "supportedSASLMechanisms",
			"vendorName", "vendorVersion", "forestFunctionality"}, nil)
	var res *ldap.SearchResult
	err := f.guard(ctx, func() error {
		var err error
		res, err = f.conn.Search(req)
		return err
	})
	if err != nil {
		return nil, &SearchError{Forest: f.opts.Name, Base: "(rootDSE)", Filter: req.Filter, Code: ldapCode(err), Err: err}
	}
	if len(res.Entries) == 0 {
		return nil, &SearchError{Forest: f.opts.Name, Base: "(rootDSE)", Filter: req.Filter, Err: errors.New("the server returned no rootDSE")}
	}
	e := res.Entries[0]
	return &RootDSE{
		NamingContexts:          e.GetAttributeValues("namingContexts"),
		DefaultNamingContext:    e.GetAttributeValue("defaultNamingContext"),
		RootDomainNamingContext: e.GetAttributeValue("rootDomainNamingContext"),
		ConfigurationContext:    e.GetAttributeValue("configurationNamingContext"),
		DNSHostName:             e.GetAttributeValue("dnsHostName"),
		ServerName:              e.GetAttributeValue("serverName"),
		SupportedControls:       e.GetAttributeValues("supportedControl"),
		SupportedExtensions:     e.GetAttributeValues("supportedExtension"),
		SupportedLDAPVersions:   e.GetAttributeValues("supportedLDAPVersion"),
		SupportedSASLMechanisms: e.GetAttributeValues("supportedSASLMechanisms"),
		VendorName:              e.GetAttributeValue("vendorName"),
		VendorVersion:           e.GetAttributeValue("vendorVersion"),
		ForestFunctionality:     e.GetAttributeValue("forestFunctionality"),
		Raw:                     e,
	}, nil
}
