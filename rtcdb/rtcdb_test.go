package rtcdb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/abkit/abkit/rtcdb/internal/tdstest"
	"github.com/abkit/abkit/rtcdb/rtcdbtest"
)

// testGUID returns a distinct GUID for i.
func testGUID(i int) GUID {
	return GUID{byte(i), byte(i >> 8), 0x22, 0x96, 0x92, 0x84, 0x50, 0x44, 0xab, 0xb2, 0x2b, 0xd6, 0x82, 0x8d, 0xb2, 0x7a}
}

func testData(i int) []byte {
	return append([]byte{0, 1, 2, byte(i)}, utf16le("sip:user"+string(rune('a'+i%26))+"@contoso.com")...)
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), 0)
	}
	return b
}

func openFake(t *testing.T, f *rtcdbtest.Fake) *DB {
	t.Helper()
	d, err := Open(context.Background(), fakeOptions(f))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func fakeOptions(f *rtcdbtest.Fake) Options {
	return Options{Server: "127.0.0.1", Port: f.Port(), User: "tester", Password: "secret",
		Encrypt: "disable", Timeout: 10 * time.Second}
}

func readBackupFile(t *testing.T, path string) *Backup {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	var b Backup
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatalf("backup: %v", err)
	}
	return &b
}

func TestDiscoverMissingTableRefusesAndNames(t *testing.T) {
	f := rtcdbtest.New(t)
	f.Columns["rtc"] = rtcdbtest.AttributeColumns // no AbUserEntry anywhere
	gs := seedN(fakeSeed(f), 1)
	d := openFake(t, f)
	disc, err := d.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if disc.Database != "" || len(disc.Problems) != 1 || !strings.Contains(disc.Problems[0], "rtc, rtcab") {
		t.Errorf("discovery %+v", disc)
	}
	_, err = d.Delete(context.Background(), gs, DeleteOptions{BackupPath: filepath.Join(t.TempDir(), "b.json")})
	if !IsKind(err, KindRefused) {
		t.Fatalf("Delete error %v, want refused", err)
	}
	_, err = d.Entry(context.Background(), gs[0])
	if !IsKind(err, KindNoObject) || !strings.Contains(err.Error(), "dbo.AbUserEntry") {
		t.Errorf("Entry error %v, want invalid object naming dbo.AbUserEntry", err)
	}
	if k := f.TxLog(); len(k) != 0 {
		t.Errorf("transaction requests %v after a refusal", k)
	}
}

func TestDiscoverWrongTypeRefusesDestructive(t *testing.T) {
	f := rtcdbtest.New(t)
	f.Columns["rtc"] = [][]any{
		{"AbUserEntry", "UserGuid", "varbinary", int64(16)},
		{"AbUserEntry", "UserData", "varbinary", int64(8000)},
	}
	gs := seedN(fakeSeed(f), 1)
	d := openFake(t, f)
	_, err := d.Delete(context.Background(), gs, DeleteOptions{BackupPath: filepath.Join(t.TempDir(), "b.json")})
	if !IsKind(err, KindRefused) {
		t.Fatalf("Delete error %v, want refused", err)
	}
	for _, want := range []string{"UserGuid is varbinary, expected uniqueidentifier", "UserData is varbinary(8000)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if _, err := d.Restore(context.Background(), writeTestBackup(t, "rtc", gs[:1]), false); !IsKind(err, KindRefused) {
		t.Errorf("Restore error %v, want refused", err)
	}
	if len(f.Requests("DELETE")) != 0 || len(f.Requests("INSERT")) != 0 || len(f.TxLog()) != 0 {
		t.Errorf("writes reached the server after a refusal")
	}
}

// A GUID whose DELETE affects no row (removed meanwhile): everything is rolled back.
func TestDeleteZeroRowsRollsBackAll(t *testing.T) {
	f := rtcdbtest.New(t)
	gs := seedN(fakeSeed(f), 5)
	backup := filepath.Join(t.TempDir(), "backup.json")
	f.Fault = func(r *tdstest.Request) *tdstest.Response {
		if p, ok := r.Param("@guid"); ok && strings.HasPrefix(r.SQL, "DELETE") && GUID(p.Value.([16]byte)) == gs[3] {
			resp := tdstest.Affected(0)
			return &resp
		}
		return nil
	}
	res, err := openFake(t, f).Delete(context.Background(), gs, DeleteOptions{BackupPath: backup})
	if err == nil || !strings.Contains(err.Error(), "affected 0 rows") {
		t.Fatalf("error %v", err)
	}
	if res.Committed || len(res.Deleted) != 0 || res.Status != StatusRolledBack || len(res.FollowUp) != 0 {
		t.Errorf("result %+v", res)
	}
	for _, g := range gs {
		if _, ok := f.Row(g); !ok {
			t.Errorf("row %s gone after rollback", g)
		}
	}
	if want := []string{"begin", "rollback"}; !slices.Equal(f.TxLog(), want) {
		t.Errorf("transaction requests %v, want %v", f.TxLog(), want)
	}
	b := readBackupFile(t, backup)
	if b.Status != StatusRolledBack || !strings.Contains(b.Reason, "affected 0 rows") || b.Entries[0].Status != StatusRolledBack {
		t.Errorf("backup status %s (%s)", b.Status, b.Reason)
	}
}

func TestDeleteConnectionDropped(t *testing.T) {
	f := rtcdbtest.New(t)
	gs := seedN(fakeSeed(f), 5)
	backup := filepath.Join(t.TempDir(), "backup.json")
	f.DropOn("DELETE", 3)
	res, err := openFake(t, f).Delete(context.Background(), gs, DeleteOptions{BackupPath: backup})
	if err == nil {
		t.Fatal("no error after a dropped connection")
	}
	if !IsKind(err, KindConnection) {
		t.Errorf("error %v, want connection kind", err)
	}
	if res == nil || res.Committed || len(res.Deleted) != 0 || len(res.FollowUp) != 0 {
		t.Errorf("result %+v reports success", res)
	}
	for _, g := range gs {
		if _, ok := f.Row(g); !ok {
			t.Errorf("row %s gone", g)
		}
	}
	b := readBackupFile(t, backup)
	if len(b.Entries) != 5 || b.Status != StatusRolledBack {
		t.Errorf("backup: %d entries, status %s", len(b.Entries), b.Status)
	}
	if slices.Contains(f.TxLog(), "commit") {
		t.Error("COMMIT sent")
	}
}

// A connection lost during COMMIT leaves the outcome unknown, and the backup says so.
func TestDeleteCommitLostIsUnknown(t *testing.T) {
	f := rtcdbtest.New(t)
	gs := seedN(fakeSeed(f), 2)
	backup := filepath.Join(t.TempDir(), "backup.json")
	f.Fault = func(r *tdstest.Request) *tdstest.Response {
		if r.Kind == tdstest.Commit {
			return &tdstest.Response{Drop: true}
		}
		return nil
	}
	res, err := openFake(t, f).Delete(context.Background(), gs, DeleteOptions{BackupPath: backup})
	if !IsKind(err, KindConnection) {
		t.Fatalf("error %v, want connection failure", err)
	}
	if res.Committed || len(res.Deleted) != 0 || res.Status != StatusUnknown || len(res.FollowUp) != 0 {
		t.Errorf("result %+v", res)
	}
	if b := readBackupFile(t, backup); b.Status != StatusUnknown || !strings.Contains(b.Reason, "abkit rtc entry") {
		t.Errorf("backup status %s (%s)", b.Status, b.Reason)
	}
}

func TestDeleteDeadlockVictim(t *testing.T) {
	f := rtcdbtest.New(t)
	gs := seedN(fakeSeed(f), 2)
	f.Fault = func(r *tdstest.Request) *tdstest.Response {
		if strings.HasPrefix(r.SQL, "DELETE") {
			return &tdstest.Response{Error: &tdstest.SQLError{Number: 1205, Class: 13,
				Message: "Transaction (Process ID 57) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction."}, AbortTx: true}
		}
		return nil
	}
	res, err := openFake(t, f).Delete(context.Background(), gs, DeleteOptions{BackupPath: filepath.Join(t.TempDir(), "b.json")})
	if !IsKind(err, KindDeadlock) || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("error %v, want deadlock with advice", err)
	}
	if res.Committed || res.Status != StatusRolledBack {
		t.Errorf("result %+v", res)
	}
}

func TestDeleteCancelledRollsBack(t *testing.T) {
	f := rtcdbtest.New(t)
	gs := seedN(fakeSeed(f), 4)
	backup := filepath.Join(t.TempDir(), "backup.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	f.Fault = func(r *tdstest.Request) *tdstest.Response {
		if strings.HasPrefix(r.SQL, "DELETE") {
			if n++; n == 2 {
				cancel() // Ctrl-C while the second DELETE runs
			}
		}
		return nil
	}
	d := openFake(t, f)
	res, err := d.Delete(ctx, gs, DeleteOptions{BackupPath: backup})
	if err == nil || !(IsKind(err, KindCancelled) || errors.Is(err, context.Canceled)) {
		t.Fatalf("error %v, want cancelled", err)
	}
	if res.Committed || len(res.Deleted) != 0 {
		t.Errorf("result %+v", res)
	}
	if want := []string{"begin", "rollback"}; !slices.Equal(f.TxLog(), want) {
		t.Errorf("transaction requests %v, want %v: the ROLLBACK must reach the server", f.TxLog(), want)
	}
	for _, g := range gs {
		if _, ok := f.Row(g); !ok {
			t.Errorf("row %s gone", g)
		}
	}
	if b := readBackupFile(t, backup); b.Status != StatusRolledBack || !strings.HasPrefix(b.Reason, "cancelled") {
		t.Errorf("backup status %s (%s)", b.Status, b.Reason)
	}
}

func TestRestoreRejectsTamperedBackup(t *testing.T) {
	path := writeTestBackup(t, "rtc", []GUID{testGUID(1)})
	b := readBackupFile(t, path)
	b.Entries[0].UserData = []byte("changed")
	data, _ := json.Marshal(b)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadBackup(path); !IsKind(err, KindBadInput) || !strings.Contains(err.Error(), "SHA-256") {
		t.Errorf("error %v, want bad input about SHA-256", err)
	}
}

// writeTestBackup writes a committed backup of guids with testData.
func writeTestBackup(t *testing.T, db string, guids []GUID) string {
	t.Helper()
	b := &Backup{Format: BackupFormat, Server: "x", Database: db, Table: "dbo.AbUserEntry", Status: StatusDeleted}
	for i, g := range guids {
		e := newEntry(g, testData(i))
		b.Entries = append(b.Entries, BackupEntry{GUID: g, UserData: e.data, Size: e.Size, SHA256: e.SHA256, Status: StatusDeleted})
	}
	path := filepath.Join(t.TempDir(), "backup.json")
	if err := b.writeNew(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPermissionErrorNamesServerDatabaseObject(t *testing.T) {
	f := rtcdbtest.New(t)
	f.FailOn("SELECT ID, Name, Flags", 229, "The SELECT permission was denied on the object 'AbAttribute', database 'rtc', schema 'dbo'.")
	_, err := openFake(t, f).Attributes(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindPermission || e.Number != 229 || e.BadInput() {
		t.Fatalf("error %#v", err)
	}
	msg := err.Error()
	for _, want := range []string{"server 127.0.0.1:", "database rtc", "object dbo.AbAttribute", "permission denied", "SELECT permission was denied"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestInvalidObjectIsBadInput(t *testing.T) {
	f := rtcdbtest.New(t)
	f.FailOn("SELECT ResourceId", 208, "Invalid object name 'rtc.dbo.Resource'.")
	_, err := openFake(t, f).ResourcesBySIP(context.Background(), "a@b.c")
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindNoObject || !e.BadInput() || e.Object != "dbo.Resource" {
		t.Fatalf("error %v", err)
	}
}

func TestLoginFailure(t *testing.T) {
	f := rtcdbtest.New(t)
	f.Srv.LoginError = &tdstest.SQLError{Number: 18456, Class: 14, Message: "Login failed for user 'tester'."}
	_, err := Open(context.Background(), fakeOptions(f))
	if !IsKind(err, KindLogin) || !strings.Contains(err.Error(), "127.0.0.1") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error %v", err)
	}
}

func TestKerberosConfigurationError(t *testing.T) {
	f := rtcdbtest.New(t)
	o := fakeOptions(f)
	o.Auth, o.Keytab, o.Realm, o.Krb5Conf = "kerberos", "/nonexistent/abkit.keytab", "CONTOSO.COM", "/nonexistent/krb5.conf"
	_, err := Open(context.Background(), o)
	if !IsKind(err, KindLogin) || !strings.Contains(err.Error(), "krb5_conf") {
		t.Fatalf("error %v, want a login failure explaining the Kerberos settings", err)
	}
}

func TestOpenWarnsWhenEncryptionDisabled(t *testing.T) {
	f := rtcdbtest.New(t)
	d := openFake(t, f)
	if !slices.Contains(d.Warnings(), WarnCleartext) {
		t.Errorf("warnings %q", d.Warnings())
	}
}

// An existing file is never overwritten: the delete stops before any DELETE.
func TestDeleteRefusesExistingBackupFile(t *testing.T) {
	f := rtcdbtest.New(t)
	gs := seedN(fakeSeed(f), 1)
	backup := filepath.Join(t.TempDir(), "backup.json")
	if err := os.WriteFile(backup, []byte("an earlier backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := openFake(t, f).Delete(context.Background(), gs, DeleteOptions{BackupPath: backup})
	if !IsKind(err, KindBadInput) || !strings.Contains(err.Error(), "nothing was changed") || res.Committed {
		t.Fatalf("error %v, result %+v", err, res)
	}
	if data, _ := os.ReadFile(backup); string(data) != "an earlier backup" {
		t.Error("the existing file was overwritten")
	}
	if len(f.Requests("DELETE")) != 0 || slices.Contains(f.TxLog(), "commit") {
		t.Error("DELETE or COMMIT sent")
	}
	if _, ok := f.Row(gs[0]); !ok {
		t.Error("row removed")
	}
}

func TestOpenEncryptedAgainstServerWithoutTLS(t *testing.T) {
	f := rtcdbtest.New(t)
	o := fakeOptions(f)
	o.Encrypt = "true"
	_, err := Open(context.Background(), o)
	if !IsKind(err, KindTLS) || !strings.Contains(err.Error(), "tls_min") {
		t.Fatalf("error %v, want TLS failure with advice", err)
	}
}

func TestParseGUIDsBadInput(t *testing.T) {
	_, err := ParseGUIDs([]string{"96bd221f-8492-4450-abb2-2bd6828db27a", "96bd221f-8492-4450-abb2"})
	var e *Error
	if !errors.As(err, &e) || !e.BadInput() {
		t.Fatalf("error %v, want bad input", err)
	}
	gs, err := ParseGUIDs([]string{"{96BD221F-8492-4450-ABB2-2BD6828DB27A}", "96bd221f-8492-4450-abb2-2bd6828db27a"})
	if err != nil || len(gs) != 1 || gs[0].String() != "96bd221f-8492-4450-abb2-2bd6828db27a" {
		t.Errorf("ParseGUIDs = %v, %v", gs, err)
	}
}

func TestUIDCarriesWindowsLayout(t *testing.T) {
	g := testGUID(7)
	v, err := uid(g).Value()
	if err != nil || !bytes.Equal(v.([]byte), g[:]) {
		t.Errorf("wire bytes %x, want %x", v, g[:])
	}
}

func TestBuildDSN(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		want    []string // substrings of the DSN
		wantErr string
	}{
		{"sql", Options{Server: "sql01", User: "sa", Password: "p@ss;word"}, []string{"sqlserver://sa:p%40ss;word@sql01?", "encrypt=true", "database=rtc"}, ""},
		{"instance in server", Options{Server: `sql01\RTC`, User: "sa", TLSMin: "1.0"}, []string{"@sql01/RTC?", "tlsmin=1.0"}, ""},
		{"port", Options{Server: "sql01", Port: 50123, User: "sa"}, []string{"@sql01:50123?"}, ""},
		{"missing CA file", Options{Server: "sql01", User: "sa", Password: "pw-secret", CAFile: "/nonexistent/ca.pem"}, nil, "/nonexistent/ca.pem"},
		{"ntlm", Options{Server: "sql01", Auth: "ntlm", User: `CONTOSO\admin`}, []string{"authenticator=ntlm", "CONTOSO%5Cadmin"}, ""},
		{"kerberos", Options{Server: "sql01", Auth: "kerberos", Keytab: "/k.tab", Realm: "CONTOSO.COM", User: "admin"}, []string{"authenticator=krb5", "krb5-keytabfile=%2Fk.tab", "krb5-realm=CONTOSO.COM"}, ""},
		{"ntlm without domain", Options{Server: "sql01", Auth: "ntlm", User: "admin"}, nil, "DOMAIN\\user"},
		{"sql with domain user", Options{Server: "sql01", User: `CONTOSO\admin`}, nil, "auth ntlm"},
		{"bad encrypt", Options{Server: "sql01", User: "sa", Encrypt: "maybe"}, nil, "encrypt"},
		{"bad tls", Options{Server: "sql01", User: "sa", TLSMin: "0.9"}, nil, "tls_min"},
		{"no server", Options{User: "sa"}, nil, "server is required"},
		{"instance clash", Options{Server: `a\X`, Instance: "Y", User: "sa"}, nil, "instance"},
	}
	for _, tt := range tests {
		dsn, _, err := tt.o.dsn()
		if tt.wantErr != "" {
			if !IsKind(err, KindBadInput) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(dsn, w) {
				t.Errorf("%s: DSN %q lacks %q", tt.name, dsn, w)
			}
		}
	}
}

// Lync keeps the address book data in rtcab: discovery finds it there when rtc lacks it.
func TestDiscoverFindsRtcab(t *testing.T) {
	f := rtcdbtest.New(t)
	f.EntryDB = "rtcab"
	f.Columns = map[string][][]any{"rtcab": append(append([][]any{}, rtcdbtest.AttributeColumns...), rtcdbtest.EntryColumns...)}
	gs := seedN(fakeSeed(f), 1)
	d := openFake(t, f)
	disc, err := d.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if disc.Database != "rtcab" || len(disc.Problems) != 0 {
		t.Fatalf("discovery %+v", disc)
	}
	if want := []Candidate{{"rtc", true, false, false, false}, {"rtcab", true, true, true, false}}; !slices.Equal(disc.Candidates, want) {
		t.Errorf("candidates %+v, want %+v", disc.Candidates, want)
	}
	e, err := d.Entry(context.Background(), gs[0])
	if err != nil || !e.Present {
		t.Errorf("entry %+v, %v", e, err)
	}
	if sql := f.Requests("SELECT UserData")[0].SQL; !strings.Contains(sql, "[rtcab].[dbo].[AbUserEntry]") {
		t.Errorf("entry read from %q", sql)
	}
}

func TestTableQuotesIdentifiers(t *testing.T) {
	if got, want := table("rtc", "AbUserEntry"), "[rtc].[dbo].[AbUserEntry]"; got != want {
		t.Errorf("table = %s, want %s", got, want)
	}
	if got, want := table("x]; DROP TABLE y --", "AbUserEntry"), "[x]]; DROP TABLE y --].[dbo].[AbUserEntry]"; got != want {
		t.Errorf("table = %s, want %s", got, want)
	}
}
