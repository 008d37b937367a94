package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/rtcdb"
)

// rtcOptions reads the configuration file and turns its rtc section into rtcdb.Options.
func (f *Factory) rtcOptions() (rtcdb.Options, error) {
	cfg, err := f.loadConfig()
	if err != nil {
		return rtcdb.Options{}, err
	}
	if cfg.RTC == nil {
		return rtcdb.Options{}, badInput(&config.Error{Path: cfg.Path, Err: errors.New("no rtc section: abkit rtc needs the back-end database (server, auth, user ...)")})
	}
	return f.rtcSectionOptions(cfg.Path, cfg.RTC)
}

// rtcSectionOptions turns an rtc section (of the file at path) into rtcdb.Options, resolving the
// password (environment variable, file, or a prompt on a terminal) and the DSN variable.
func (f *Factory) rtcSectionOptions(path string, r *config.RTC) (rtcdb.Options, error) {
	o := rtcdb.Options{
		Server: r.Server, Instance: r.Instance, Port: r.Port, Database: r.Database,
		Auth: r.Auth, User: r.User, Encrypt: r.Encrypt, TLSMin: r.TLSMin, CAFile: r.CAFile,
		Krb5Conf: r.Krb5Conf, Keytab: r.Keytab, Realm: r.Realm, Timeout: r.Timeout,
	}
	if strings.EqualFold(r.Auth, "current-user") {
		cc, conf, err := userKerberos()
		if err != nil {
			return o, badInputf("config %s: rtc: auth current-user: %v", path, err)
		}
		o.CCache = cc
		if o.Krb5Conf == "" {
			o.Krb5Conf = conf
		}
	}
	if r.DSNEnv != "" {
		o.DSN = os.Getenv(r.DSNEnv)
		if o.DSN == "" {
			return o, badInputf("config %s: rtc: dsn_env names %s, which is not set", path, r.DSNEnv)
		}
		return o, nil
	}
	var err error
	o.Password, err = f.rtcPassword(path, r)
	return o, err
}

// rtcPassword resolves the SQL password of an rtc section (not needed for Kerberos, which
// uses the keytab or credentials cache, nor for current-user); an empty one is accepted.
func (f *Factory) rtcPassword(path string, r *config.RTC) (string, error) {
	if r.PasswordEnv == "" && r.PasswordFile == "" && (strings.EqualFold(r.Auth, "kerberos") || strings.EqualFold(r.Auth, "current-user")) {
		return "", nil
	}
	return f.readPassword(passwordSource{
		where: fmt.Sprintf("config %s: rtc", path), env: r.PasswordEnv, file: r.PasswordFile,
		prompt:     fmt.Sprintf("Password for %s on %s: ", r.User, r.Server),
		noneHint:   "set password_env or password_file (no terminal to prompt on)",
		allowEmpty: true,
	})
}

// rtcPoolMembers returns the members of the configured pool (the back end, then each Front End's
// local instance) and the pool's name; nil members when the rtc section names no front_ends.
func (f *Factory) rtcPoolMembers() (string, []rtcdb.Member, error) {
	cfg, err := f.loadConfig()
	if err != nil {
		return "", nil, err
	}
	if cfg.RTC == nil || len(cfg.RTC.FrontEnds) == 0 {
		return "", nil, nil
	}
	base, err := f.rtcSectionOptions(cfg.Path, cfg.RTC)
	if err != nil {
		return "", nil, err
	}
	name := cfg.RTC.Pool
	if name == "" {
		name = "pool"
	}
	members := []rtcdb.Member{{Role: "back end", Options: base}}
	for i, fe := range cfg.RTC.FrontEnds {
		o := base
		o.DSN, o.Server, o.Instance, o.Port = "", fe.Server, fe.Instance, fe.Port
		if o.Instance == "" && !strings.Contains(o.Server, `\`) {
			o.Instance = rtcdb.DefaultFrontEndInstance
		}
		if fe.DSNEnv != "" {
			if o.DSN = os.Getenv(fe.DSNEnv); o.DSN == "" {
				return "", nil, badInputf("config %s: rtc: front_ends[%d]: dsn_env names %s, which is not set", cfg.Path, i, fe.DSNEnv)
			}
		} else if base.DSN != "" && base.Password == "" {
			// The back end comes from a DSN: the Front Ends need their own password source.
			if o.Password, err = f.rtcPassword(cfg.Path, cfg.RTC); err != nil {
				return "", nil, err
			}
		}
		members = append(members, rtcdb.Member{Role: "front end", Options: o})
	}
	return name, members, nil
}

// openRTCPool opens every copy of the configured pool, printing each connection's security
// warnings and each copy that could not be opened on stderr.
func (f *Factory) openRTCPool(ctx context.Context, name string, members []rtcdb.Member) (*rtcdb.Pool, error) {
	p, err := rtcdb.OpenPool(ctx, name, members)
	if err != nil {
		return nil, err
	}
	for _, c := range p.Copies {
		if c.Err != nil {
			fmt.Fprintf(f.IO.ErrOut, "abkit: %s %s: %v\n", c.Role, c.Name, c.Err)
			continue
		}
		for _, w := range c.DB.Warnings() {
			fmt.Fprintf(f.IO.ErrOut, "abkit: warning: %s: %s\n", c.Name, w)
		}
	}
	return p, nil
}

// openRTCRows opens the configured back end, or the whole pool when front_ends are configured,
// as the dupes interfaces for AbUserEntry rows.
func (f *Factory) openRTCRows(ctx context.Context) (*dupesRows, error) {
	name, members, err := f.rtcPoolMembers()
	if err != nil {
		return nil, err
	}
	if members != nil {
		p, err := f.openRTCPool(ctx, name, members)
		if err != nil {
			return nil, err
		}
		return &dupesRows{pool: p, last: &poolDeletes{}}, nil
	}
	db, err := f.openRTC(ctx)
	if err != nil {
		return nil, err
	}
	return &dupesRows{db: db}, nil
}

// openRTC connects with the configured options and prints the connection's security warnings.
func (f *Factory) openRTC(ctx context.Context) (*rtcdb.DB, error) {
	o, err := f.rtcOptions()
	if err != nil {
		return nil, err
	}
	return f.openRTCWith(ctx, o)
}

// openRTCWith connects with o and prints the connection's security warnings on stderr.
func (f *Factory) openRTCWith(ctx context.Context, o rtcdb.Options) (*rtcdb.DB, error) {
	db, err := rtcdb.Open(ctx, o)
	if err != nil {
		return nil, err
	}
	for _, w := range db.Warnings() {
		fmt.Fprintf(f.IO.ErrOut, "abkit: warning: %s\n", w)
	}
	return db, nil
}
