package rtcdb

import (
	"context"
	"database/sql"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/microsoft/go-mssqldb/msdsn"

	// Registers the sqlserver driver (with NTLM as the default integrated authenticator).
	_ "github.com/microsoft/go-mssqldb"
)

// DefaultTimeout bounds every call to the server when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultDatabase is the OCS database that holds AbUserEntry and AbAttribute.
const DefaultDatabase = "rtc"

// Options say how to reach the OCS back-end database.
type Options struct {
	Server   string // host name or address; "host\instance" is accepted too
	Instance string // named instance (e.g. RTC); needs SQL Browser (UDP 1434) unless Port is set
	Port     int    // TCP port; 0 = 1433, or the instance's port from SQL Browser
	Database string // "" = rtc

	// Auth is sql (default), ntlm (User is DOMAIN\user), kerberos, or current-user: the
	// logged-on account without a password (SSPI on Windows; elsewhere Kerberos with the
	// credential cache CCache that kinit filled).
	Auth     string
	User     string
	Password string // already resolved by the caller (environment, file or prompt)

	// Encrypt is true (default: TLS, certificate verified), false (TLS for the login only),
	// strict (TDS 8.0) or disable (no TLS at all: the login crosses the network in clear).
	Encrypt string
	TLSMin  string // minimum TLS version 1.0, 1.1, 1.2 (driver default) or 1.3
	CAFile  string // PEM file of the CA that signed the server certificate

	Krb5Conf string // krb5.conf for auth kerberos ("" = $KRB5_CONFIG or /etc/krb5.conf)
	Keytab   string // keytab for auth kerberos ("" = credentials cache or password)
	Realm    string // Kerberos realm
	CCache   string // credential cache file for auth current-user on Linux and macOS

	// DSN is a complete go-mssqldb connection string; when set, the connection fields above are
	// ignored (Database and Timeout still apply).
	DSN string

	Timeout time.Duration // per call; 0 = DefaultTimeout
}

// Warnings Open returns about unencrypted connections.
const (
	WarnCleartext     = "encrypt=disable: no TLS at all, the login (user name and a merely obfuscated password) and all data cross the network in clear"
	WarnDataCleartext = "encrypt=false: only the login is encrypted; statements and UserData cross the network in clear"
)

// DB is an open connection pool to the OCS back end.
type DB struct {
	db       *sql.DB
	server   string // for messages: host, host\instance or host:port
	database string // configured database (Options.Database or rtc)
	timeout  time.Duration
	warnings []string
	disc     *Discovery
}

// Open checks opts, connects and pings the server. The returned DB's Warnings say when the
// connection is not encrypted.
func Open(ctx context.Context, opts Options) (*DB, error) {
	dsn, cfg, err := opts.dsn()
	if err != nil {
		return nil, err
	}
	d := &DB{
		server:   serverLabel(cfg),
		database: opts.Database,
		timeout:  opts.Timeout,
	}
	if d.database == "" {
		d.database = cfg.Database
	}
	if d.database == "" {
		d.database = DefaultDatabase
	}
	if !validDBName(d.database) {
		return nil, badInput("open", "database name %q: use letters, digits, _ and - only", d.database)
	}
	if d.timeout <= 0 {
		d.timeout = DefaultTimeout
	}
	switch cfg.Encryption {
	case msdsn.EncryptionDisabled:
		d.warnings = append(d.warnings, WarnCleartext)
	case msdsn.EncryptionOff:
		d.warnings = append(d.warnings, WarnDataCleartext)
	}
	db, err := sql.Open("sqlserver", dsn)
	if err != nil {
		return nil, &Error{Op: "open", Server: d.server, Kind: KindBadInput, Err: err}
	}
	d.db = db
	cctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if err := db.PingContext(cctx); err != nil {
		_ = db.Close()
		return nil, classify(err, "connect", d.server, d.database, "")
	}
	return d, nil
}

// Close closes the connection pool.
func (d *DB) Close() error { return d.db.Close() }

// Server names the server for messages.
func (d *DB) Server() string { return d.server }

// Layout is the table layout the kept discovery found; "" before Discover ran.
func (d *DB) Layout() Layout {
	if d.disc == nil {
		return ""
	}
	return d.disc.Layout
}

// Warnings are security warnings about this connection (e.g. WarnCleartext).
func (d *DB) Warnings() []string { return d.warnings }

// call returns a context bounded by the per-call timeout.
func (d *DB) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d.timeout)
}

// dsn builds the go-mssqldb connection string and parses it back, so that the driver's own
// rules decide what the connection will do.
func (o Options) dsn() (string, msdsn.Config, error) {
	s := o.DSN
	if s == "" {
		var err error
		if s, err = o.buildDSN(); err != nil {
			return "", msdsn.Config{}, err
		}
	}
	cfg, err := msdsn.Parse(s)
	if err != nil {
		// The driver's message may quote the DSN, password included: keep only its gist.
		return "", msdsn.Config{}, badInput("open", "connection string does not parse: %s", redact(err.Error(), o.Password))
	}
	return s, cfg, nil
}

func (o Options) buildDSN() (string, error) {
	host, inst := o.Server, o.Instance
	if h, i, ok := strings.Cut(host, `\`); ok {
		if inst != "" && !strings.EqualFold(inst, i) {
			return "", badInput("open", "server %q names instance %q but instance is %q", o.Server, i, inst)
		}
		host, inst = h, i
	}
	if host == "" {
		return "", badInput("open", "server is required")
	}
	if o.Port < 0 || o.Port > 65535 {
		return "", badInput("open", "port %d out of range", o.Port)
	}
	q := url.Values{}
	db := o.Database
	if db == "" {
		db = DefaultDatabase
	}
	q.Set("database", db)
	q.Set("app name", "abkit")
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	q.Set("dial timeout", strconv.Itoa(int((timeout+time.Second-1)/time.Second)))

	switch enc := strings.ToLower(o.Encrypt); enc {
	case "", "true":
		q.Set("encrypt", "true")
	case "false", "strict", "disable":
		q.Set("encrypt", enc)
	default:
		return "", badInput("open", "encrypt %q: use true, false, strict or disable", o.Encrypt)
	}
	if o.TLSMin != "" {
		switch o.TLSMin {
		case "1.0", "1.1", "1.2", "1.3":
			q.Set("tlsmin", o.TLSMin)
		default:
			return "", badInput("open", "tls_min %q: use 1.0, 1.1, 1.2 or 1.3", o.TLSMin)
		}
	}
	if o.CAFile != "" {
		q.Set("certificate", o.CAFile)
	}

	var user *url.Userinfo
	switch strings.ToLower(o.Auth) {
	case "", "sql":
		if o.User == "" {
			return "", badInput("open", "auth sql needs a user")
		}
		if strings.ContainsRune(o.User, '\\') {
			return "", badInput("open", "user %q is a Windows account: use auth ntlm (or kerberos), not sql", o.User)
		}
		user = url.UserPassword(o.User, o.Password)
	case "ntlm":
		if !strings.ContainsRune(o.User, '\\') {
			return "", badInput("open", "auth ntlm needs user DOMAIN\\user, got %q", o.User)
		}
		q.Set("authenticator", "ntlm")
		user = url.UserPassword(o.User, o.Password)
	case "kerberos":
		q.Set("authenticator", "krb5")
		if o.Krb5Conf != "" {
			q.Set("krb5-configfile", o.Krb5Conf)
		}
		if o.Keytab != "" {
			q.Set("krb5-keytabfile", o.Keytab)
		}
		if o.Realm != "" {
			q.Set("krb5-realm", o.Realm)
		}
		if o.User != "" {
			user = url.UserPassword(o.User, o.Password)
		}
	case "current-user":
		if o.User != "" {
			return "", badInput("open", "auth current-user signs in as the logged-on account: remove user %q", o.User)
		}
		if targetOS == "windows" {
			q.Set("authenticator", "winsspi") // the logon session's credentials
			break
		}
		q.Set("authenticator", "krb5")
		if o.Krb5Conf != "" {
			q.Set("krb5-configfile", o.Krb5Conf)
		}
		if o.CCache != "" {
			q.Set("krb5-credcachefile", o.CCache)
		}
	default:
		return "", badInput("open", "auth %q: use sql, ntlm, kerberos or current-user", o.Auth)
	}
	u := url.URL{Scheme: "sqlserver", User: user, Host: host, RawQuery: q.Encode()}
	if o.Port != 0 {
		u.Host = host + ":" + strconv.Itoa(o.Port)
	}
	if inst != "" {
		u.Path = "/" + inst
	}
	return u.String(), nil
}

// targetOS is the operating system the DSN is built for (a variable so that tests can build the
// Windows one elsewhere).
var targetOS = runtime.GOOS

func serverLabel(cfg msdsn.Config) string {
	s := cfg.Host
	if cfg.Instance != "" {
		s += `\` + cfg.Instance
	}
	if cfg.Port != 0 {
		s += ":" + strconv.FormatUint(cfg.Port, 10)
	}
	return s
}

func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, secret, "***"), url.QueryEscape(secret), "***")
}

// validDBName accepts the database names this package puts in three-part names.
func validDBName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// table returns the quoted three-part name of a dbo table in database db. Names are bracket-quoted
// with any ']' doubled, so a configured database name cannot end the identifier early.
func table(db, name string) string {
	return quoteIdent(db) + ".[dbo]." + quoteIdent(name)
}

// quoteIdent bracket-quotes a T-SQL identifier.
func quoteIdent(s string) string { return "[" + strings.ReplaceAll(s, "]", "]]") + "]" }
