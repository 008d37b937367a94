package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/ldapsync"
)

// sidmapOpenForest opens the configured forest called name: an LDIF snapshot or a live
// connection (which is also an ldapsync.Modifier). needLive refuses snapshots (writes need a server).
func (f *Factory) sidmapOpenForest(ctx context.Context, cfg *config.Config, name string, needLive bool) (ldapsync.Source, error) {
	fc, err := cfg.Forest(name)
	if err != nil {
		return nil, err
	}
	if !fc.Live() {
		if needLive {
			return nil, badInputf("forest %s is an LDIF snapshot (%s): changes need a live forest (url)", fc.Name, fc.LDIF)
		}
		return ldapsync.OpenSnapshot(fc.Name, fc.LDIF, fc.Base)
	}
	pw, err := sidmapPassword(fc)
	if err != nil {
		return nil, err
	}
	return ldapsync.Dial(ctx, ldapsync.Options{
		Name: fc.Name, URL: fc.URL, StartTLS: fc.StartTLS, Base: fc.Base, GCURL: fc.GCURL,
		PageSize: fc.PageSize, Timeout: fc.Timeout,
		TLS: ldapsync.TLSOptions{CAFile: fc.TLS.CAFile, ServerName: fc.TLS.ServerName, InsecureSkipVerify: fc.TLS.InsecureSkipVerify},
		Bind: ldapsync.Bind{
			Method: ldapsync.BindMethod(strings.ToLower(fc.Bind.Method)), User: fc.Bind.User, DN: fc.Bind.DN,
			Domain: fc.Bind.Domain, Password: pw, Keytab: fc.Bind.Keytab, CCache: fc.Bind.CCache,
			Realm: fc.Bind.Realm, Krb5Conf: fc.Bind.Krb5Conf, SPN: fc.Bind.SPN,
		},
		AllowInsecureBind: fc.AllowInsecureBind,
	})
}

// sidmapPassword reads a forest's bind password from the environment variable or file the
// configuration names.
func sidmapPassword(fc *config.Forest) (string, error) {
	switch {
	case fc.Bind.PasswordEnv != "":
		pw, ok := os.LookupEnv(fc.Bind.PasswordEnv)
		if !ok {
			return "", badInputf("forest %s: environment variable %s (password_env) is not set", fc.Name, fc.Bind.PasswordEnv)
		}
		return pw, nil
	case fc.Bind.PasswordFile != "":
		b, err := os.ReadFile(fc.Bind.PasswordFile)
		if err != nil {
			return "", badInput(fmt.Errorf("forest %s: password_file: %w", fc.Name, err))
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}
