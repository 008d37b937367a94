package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/rtcdb"
)

// dupesSecret reads a password named by an environment variable or a file ("" when neither).
func dupesSecret(what, env, file string) (string, error) {
	switch {
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok {
			return "", badInputf("%s: environment variable %s is not set", what, env)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", badInputf("%s: password file: %v", what, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// dupesOpenForest opens one configured forest: a snapshot (streamed: dupes reads each snapshot
// once, or twice for a plan, so holding it in memory would only cost memory), or a live
// connection (which also implements ldapsync.Modifier).
func dupesOpenForest(ctx context.Context, fc *config.Forest) (ldapsync.Source, error) {
	if !fc.Live() {
		s, err := ldapsync.OpenStreamSnapshot(fc.Name, fc.LDIF, fc.Base)
		if err != nil {
			return nil, badInput(err)
		}
		return s, nil
	}
	pw, err := dupesSecret("forest "+fc.Name, fc.Bind.PasswordEnv, fc.Bind.PasswordFile)
	if err != nil {
		return nil, err
	}
	fr, err := ldapsync.Dial(ctx, ldapsync.Options{
		Name: fc.Name, URL: fc.URL, StartTLS: fc.StartTLS, Base: fc.Base, GCURL: fc.GCURL,
		PageSize: fc.PageSize, Timeout: fc.Timeout, AllowInsecureBind: fc.AllowInsecureBind,
		TLS: ldapsync.TLSOptions{CAFile: fc.TLS.CAFile, ServerName: fc.TLS.ServerName, InsecureSkipVerify: fc.TLS.InsecureSkipVerify},
		Bind: ldapsync.Bind{
			Method: ldapsync.BindMethod(strings.ToLower(fc.Bind.Method)), User: fc.Bind.User, DN: fc.Bind.DN,
			Domain: fc.Bind.Domain, Password: pw, Keytab: fc.Bind.Keytab, CCache: fc.Bind.CCache,
			Realm: fc.Bind.Realm, Krb5Conf: fc.Bind.Krb5Conf, SPN: fc.Bind.SPN,
		},
	})
	if err != nil {
		return nil, runtimeFailure(err)
	}
	return fr, nil
}

// dupesRowStore is what the dupes commands need of the rtc database.
type dupesRowStore interface {
	dupes.EntryChecker
	dupes.EntryDeleter
	dupes.EntryRestorer
	Warnings() []string
	Close() error
}

// openDupesRows connects to the configured rtc database. It is a variable so that tests can
// put a recording fake in its place.
var openDupesRows = func(ctx context.Context, rc *config.RTC) (dupesRowStore, error) {
	db, err := dupesOpenRTC(ctx, rc)
	if err != nil {
		return nil, err
	}
	return dupesRows{db}, nil
}

// dupesOpenRTC connects to the configured rtc database.
func dupesOpenRTC(ctx context.Context, rc *config.RTC) (*rtcdb.DB, error) {
	pw, err := dupesSecret("rtc", rc.PasswordEnv, rc.PasswordFile)
	if err != nil {
		return nil, err
	}
	opts := rtcdb.Options{
		Server: rc.Server, Instance: rc.Instance, Port: rc.Port, Database: rc.Database, Auth: rc.Auth,
		User: rc.User, Password: pw, Encrypt: rc.Encrypt, TLSMin: rc.TLSMin, CAFile: rc.CAFile,
		Krb5Conf: rc.Krb5Conf, Keytab: rc.Keytab, Realm: rc.Realm, Timeout: rc.Timeout,
	}
	if rc.DSNEnv != "" {
		dsn, ok := os.LookupEnv(rc.DSNEnv)
		if !ok {
			return nil, badInputf("rtc: environment variable %s is not set", rc.DSNEnv)
		}
		opts.DSN = dsn
	}
	db, err := rtcdb.Open(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("rtc: %w", err)
	}
	return db, nil
}

// dupesRows adapts rtcdb to the dupes interfaces for AbUserEntry rows.
type dupesRows struct{ db *rtcdb.DB }

func (r dupesRows) EntriesPresent(ctx context.Context, guids []dupes.GUID) (map[dupes.GUID]bool, error) {
	return r.db.EntriesPresent(ctx, guids)
}

func (r dupesRows) DeleteEntries(ctx context.Context, guids []dupes.GUID, backupPath string) error {
	res, err := r.db.Delete(ctx, guids, rtcdb.DeleteOptions{BackupPath: backupPath})
	if err != nil {
		return err
	}
	if !res.Committed {
		return fmt.Errorf("rows not deleted: %s %s", res.Status, res.Reason)
	}
	return nil
}

func (r dupesRows) Warnings() []string { return r.db.Warnings() }
func (r dupesRows) Close() error       { return r.db.Close() }

func (r dupesRows) RestoreEntries(ctx context.Context, backupPath string) error {
	_, err := r.db.Restore(ctx, backupPath, false)
	return err
}
