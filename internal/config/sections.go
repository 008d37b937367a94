package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// RTC is the OCS back-end SQL Server database.
type RTC struct {
	Server       string        `yaml:"server,omitempty"`
	Instance     string        `yaml:"instance,omitempty"` // named instance, e.g. RTC
	Port         int           `yaml:"port,omitempty"`
	Database     string        `yaml:"database,omitempty"` // default rtc
	Auth         string        `yaml:"auth,omitempty"`     // sql, ntlm, kerberos or current-user
	User         string        `yaml:"user,omitempty"`     // DOMAIN\user for ntlm
	PasswordEnv  string        `yaml:"password_env,omitempty"`
	PasswordFile string        `yaml:"password_file,omitempty"`
	DSNEnv       string        `yaml:"dsn_env,omitempty"` // a full go-mssqldb DSN in this variable instead
	Encrypt      string        `yaml:"encrypt,omitempty"` // true (default), false, disable
	TLSMin       string        `yaml:"tls_min,omitempty"` // 1.0, 1.1, 1.2 (default), 1.3
	CAFile       string        `yaml:"ca_file,omitempty"`
	Krb5Conf     string        `yaml:"krb5_conf,omitempty"`
	Keytab       string        `yaml:"keytab,omitempty"`
	Realm        string        `yaml:"realm,omitempty"`
	Timeout      time.Duration `yaml:"timeout,omitempty"`
	// Pool names a Lync / Skype for Business pool (for messages); the fields above then describe
	// its back end, and FrontEnds each Front End's local instance. Every copy uses the section's
	// database, login and TLS settings.
	Pool      string        `yaml:"pool,omitempty"`
	FrontEnds []RTCFrontEnd `yaml:"front_ends,omitempty"`
}

// RTCFrontEnd is one Front End's local SQL Server instance (<server>\RTCLOCAL) of a pool.
type RTCFrontEnd struct {
	Server   string `yaml:"server,omitempty"`
	Instance string `yaml:"instance,omitempty"` // default RTCLOCAL
	Port     int    `yaml:"port,omitempty"`     // 0: the instance's port from SQL Browser
	DSNEnv   string `yaml:"dsn_env,omitempty"`  // a full go-mssqldb DSN in this variable instead
}

func (r *RTC) validate() error {
	if r.DSNEnv == "" && r.Server == "" {
		return errors.New("server (or dsn_env) is required")
	}
	for i, fe := range r.FrontEnds {
		if fe.DSNEnv == "" && fe.Server == "" {
			return fmt.Errorf("front_ends[%d]: server (or dsn_env) is required", i)
		}
		if fe.Port < 0 || fe.Port > 65535 {
			return fmt.Errorf("front_ends[%d]: port %d out of range", i, fe.Port)
		}
	}
	switch strings.ToLower(r.Auth) {
	case "", "sql", "ntlm", "kerberos":
	case "current-user":
		if r.User != "" || r.Keytab != "" || r.PasswordEnv != "" || r.PasswordFile != "" {
			return errors.New("auth current-user signs in as the logged-on account: remove user, keytab, password_env and password_file")
		}
	default:
		return fmt.Errorf("auth %q: use sql, ntlm, kerberos or current-user", r.Auth)
	}
	switch strings.ToLower(r.Encrypt) {
	case "", "true", "false", "disable", "strict":
	default:
		return fmt.Errorf("encrypt %q: use true, false, strict or disable", r.Encrypt)
	}
	if r.PasswordEnv != "" && r.PasswordFile != "" {
		return errors.New("password_env and password_file are mutually exclusive")
	}
	return nil
}

// ABS locates the address book files.
type ABS struct {
	Folder string        `yaml:"folder,omitempty"`  // where F-/D-/C- files are written
	Rules  string        `yaml:"rules,omitempty"`   // Company_Phone_Number_Normalization_Rules.txt
	MaxAge time.Duration `yaml:"max_age,omitempty"` // newest full file older than this is a finding
}

// Sidmap names the forests of a resource- or central-forest topology and how accounts are
// matched.
type Sidmap struct {
	UserForest string `yaml:"user_forest,omitempty"`
	// UserForests names several user forests (instead of, or besides, UserForest): the domain
	// part of a SID picks the forest.
	UserForests    []string `yaml:"user_forests,omitempty"`
	ResourceForest string   `yaml:"resource_forest"`
	// Topology is resource (default: disabled user accounts carry the SIP settings) or central
	// (contact objects do).
	Topology  string   `yaml:"topology,omitempty"`
	Match     []string `yaml:"match,omitempty"`      // default: master-sid, sam (central: proxy)
	SyncAttrs []string `yaml:"sync_attrs,omitempty"` // attributes copied by sync-attrs
}

// Users returns the configured user forests: UserForest first, then UserForests, without
// repeats.
func (s *Sidmap) Users() []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range append([]string{s.UserForest}, s.UserForests...) {
		if n != "" && !seen[strings.ToLower(n)] {
			seen[strings.ToLower(n)] = true
			out = append(out, n)
		}
	}
	return out
}

func (s *Sidmap) validate(c *Config) error {
	users := s.Users()
	if len(users) == 0 || s.ResourceForest == "" {
		return errors.New("user_forest (or user_forests) and resource_forest are required")
	}
	for _, name := range append(users, s.ResourceForest) {
		if _, err := c.Forest(name); err != nil {
			return err
		}
	}
	switch strings.ToLower(s.Topology) {
	case "", "resource", "central":
	default:
		return fmt.Errorf("topology %q: use resource or central", s.Topology)
	}
	return nil
}

// Dupes configures duplicate repair: what to do to a losing object, per kind.
type Dupes struct {
	// Fix maps an object kind (user, contact, group) to an action: remove-proxy (drop the
	// colliding sip: proxyAddresses value) or clear-sip (clear its msRTCSIP attributes).
	Fix map[string]string `yaml:"fix,omitempty"`
}
