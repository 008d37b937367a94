package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/ldapsync"
	"github.com/spf13/cobra"
)

// forestFlags are the flags every command reading a forest shares.
type forestFlags struct {
	Forest            string
	AllowInsecureBind bool
}

func addForestFlags(cmd *cobra.Command, ff *forestFlags) {
	cmd.Flags().StringVar(&ff.Forest, "forest", "", "forest to read, by its name in the configuration file (required)")
	cmd.Flags().BoolVar(&ff.AllowInsecureBind, "allow-insecure-bind", false,
		"allow a simple or NTLM bind with a password over unencrypted LDAP to a non-loopback host (the password crosses the network in clear)")
}

// openForest opens the configured forest called name: a live connection (Dial) or an LDIF
// snapshot (OpenSnapshot). The caller closes it.
func (f *Factory) openForest(ctx context.Context, ff forestFlags, rep ldapsync.Progress) (ldapsync.EntrySearcher, error) {
	if ff.Forest == "" {
		return nil, badInputf("--forest is required (a forest name from the configuration file)")
	}
	cfg, err := f.loadConfig()
	if err != nil {
		return nil, err
	}
	fc, err := cfg.Forest(ff.Forest)
	if err != nil {
		return nil, err
	}
	return f.openConfiguredForest(ctx, fc, ff.AllowInsecureBind, rep)
}

// openConfiguredForest opens a configured forest: an LDIF snapshot held in memory, or a live
// connection (which also implements ldapsync.Modifier) reporting its paging to rep (nil: none).
func (f *Factory) openConfiguredForest(ctx context.Context, fc *config.Forest, allowInsecure bool, rep ldapsync.Progress) (ldapsync.EntrySearcher, error) {
	if !fc.Live() {
		s, err := f.openSnapshot(fc)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	opts, err := f.forestOptions(fc, allowInsecure)
	if err != nil {
		return nil, err
	}
	opts.Progress = rep
	return ldapsync.Dial(ctx, opts)
}

// forestOptions turns a configured live forest into connection options, resolving its password.
func (f *Factory) forestOptions(fc *config.Forest, allowInsecure bool) (ldapsync.Options, error) {
	b := fc.Bind
	method := ldapsync.BindMethod(strings.ToLower(b.Method))
	if method == "" {
		method = ldapsync.BindNone
	}
	opts := ldapsync.Options{
		Name: fc.Name, URL: fc.URL, StartTLS: fc.StartTLS, Base: fc.Base, GCURL: fc.GCURL,
		PageSize: fc.PageSize, Timeout: fc.Timeout,
		TLS: ldapsync.TLSOptions{CAFile: fc.TLS.CAFile, ServerName: fc.TLS.ServerName, InsecureSkipVerify: fc.TLS.InsecureSkipVerify},
		Bind: ldapsync.Bind{Method: method, User: b.User, DN: b.DN, Domain: b.Domain,
			Keytab: b.Keytab, CCache: b.CCache, Realm: b.Realm, Krb5Conf: b.Krb5Conf, SPN: b.SPN},
		AllowInsecureBind: fc.AllowInsecureBind || allowInsecure,
	}
	if method == ldapsync.BindCurrentUser {
		cc, conf, err := userKerberos()
		if err != nil {
			return opts, badInputf("forest %s: bind current-user: %v", fc.Name, err)
		}
		if opts.Bind.CCache == "" {
			opts.Bind.CCache = cc
		}
		if opts.Bind.Krb5Conf == "" {
			opts.Bind.Krb5Conf = conf
		}
	}
	needPassword := method == ldapsync.BindSimple || method == ldapsync.BindNTLM ||
		(method == ldapsync.BindKerberos && b.Keytab == "" && b.CCache == "")
	if needPassword {
		who := b.DN
		if who == "" {
			who = b.User
		}
		pw, err := f.readPassword(passwordSource{
			where: "forest " + fc.Name, env: b.PasswordEnv, file: b.PasswordFile,
			prompt:   fmt.Sprintf("Password for %s (forest %s): ", who, fc.Name),
			noneHint: "set bind.password_env or bind.password_file, or run on a terminal to be asked",
		})
		if err != nil {
			return opts, err
		}
		opts.Bind.Password = pw
	}
	return opts, nil
}
