package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/abkit/abkit/rtcdb"
	"github.com/abkit/abkit/rtcdb/rtcdbtest"
)

const (
	rtcG1 = "96bd221f-8492-4450-abb2-2bd6828db27a"
	rtcG2 = "0f6b1b0e-3c4c-4f83-9c56-5c0f6c2b1a11"
)

// rtcFake starts a fake back end holding rows for rtcG1 and rtcG2 and writes a configuration
// file for it; it returns the fake and the --config argument.
func rtcFake(t *testing.T) (*rtcdbtest.Fake, string) {
	t.Helper()
	f := rtcdbtest.New(t)
	f.Seed(rtcdb.MustParseGUID(rtcG1), []byte("\x00sip:sales@contoso.com\x00"))
	f.Seed(rtcdb.MustParseGUID(rtcG2), []byte("\x00sip:bob@contoso.com\x00"))
	t.Setenv("ABKIT_TEST_RTC_PASSWORD", "secret")
	cfg := filepath.Join(t.TempDir(), "abkit.yaml")
	yaml := fmt.Sprintf("rtc:\n  server: 127.0.0.1\n  port: %d\n  user: tester\n  password_env: ABKIT_TEST_RTC_PASSWORD\n  encrypt: disable\n  timeout: 10s\n", f.Port())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return f, "--config=" + cfg
}

func TestRTCDeleteIsDryRunByDefault(t *testing.T) {
	f, cfg := rtcFake(t)
	backup := filepath.Join(t.TempDir(), "b.json")
	stdout, stderr, code := runCLI(t, cfg, "rtc", "delete", "--guid", rtcG1, "--backup", backup)
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %q", code, stderr)
	}
	if !strings.Contains(stdout, rtcG1) || !strings.Contains(stdout, "would delete") || !strings.Contains(stdout, "sip:sales@contoso.com") {
		t.Errorf("stdout %q", stdout)
	}
	if !strings.Contains(stderr, "dry run") || !strings.Contains(stderr, "encrypt=disable") {
		t.Errorf("stderr %q lacks the dry-run note or the clear-text warning", stderr)
	}
	if len(f.Requests("DELETE")) != 0 || len(f.TxLog()) != 0 {
		t.Error("a dry run sent DELETE or a transaction")
	}
	if _, err := os.Stat(backup); !os.IsNotExist(err) {
		t.Error("a dry run wrote a backup")
	}
	if _, ok := f.Row(rtcdb.MustParseGUID(rtcG1)); !ok {
		t.Error("row gone after a dry run")
	}
}

func TestRTCDeleteWithYesWritesBackupFirst(t *testing.T) {
	f, cfg := rtcFake(t)
	dir := t.TempDir()
	backup := filepath.Join(dir, "b.json")
	backupBeforeDelete := false
	f.OnStatement("DELETE", func(string) {
		_, err := os.Stat(backup)
		backupBeforeDelete = err == nil
	})
	guids := filepath.Join(dir, "guids.txt")
	if err := os.WriteFile(guids, []byte("# losers\n"+rtcG2+"  # the group\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, cfg, "rtc", "delete", "--guid", rtcG1, "--guids-file", guids, "--yes", "--backup", backup, "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d; stderr %q", code, stderr)
	}
	if !backupBeforeDelete {
		t.Error("the backup file did not exist when the DELETE arrived")
	}
	var res rtcdb.DeleteResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	if !res.Committed || len(res.Deleted) != 2 || res.BackupPath != backup {
		t.Errorf("result %+v", res)
	}
	for _, want := range []string{"ABServer.exe -regenUR", "ABServer.exe -syncNow", "AD object", "backup: " + backup} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	for _, g := range []string{rtcG1, rtcG2} {
		if _, ok := f.Row(rtcdb.MustParseGUID(g)); ok {
			t.Errorf("row %s still there", g)
		}
	}
	b, err := rtcdb.ReadBackup(backup)
	if err != nil || b.Status != rtcdb.StatusDeleted || len(b.Entries) != 2 {
		t.Errorf("backup %+v, %v", b, err)
	}
}

func TestRTCMalformedGUIDFailsBeforeConnecting(t *testing.T) {
	f, cfg := rtcFake(t)
	for _, cmd := range [][]string{{"rtc", "delete", "--yes"}, {"rtc", "entry"}} {
		_, stderr, code := runCLI(t, append(append([]string{cfg}, cmd...), "--guid", "96bd221f-8492-4450-abb2")...)
		if code != ExitBadInput || !strings.Contains(stderr, "bad GUID") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the bad GUID named", cmd, code, stderr)
		}
	}
	if u := f.Srv.Users(); len(u) != 0 {
		t.Errorf("connections were made: %v", u)
	}
}

func TestRTCDeleteAbsentGUIDRefused(t *testing.T) {
	f, cfg := rtcFake(t)
	backup := filepath.Join(t.TempDir(), "b.json")
	absent := "11111111-2222-3333-4444-555555555555"
	_, stderr, code := runCLI(t, cfg, "rtc", "delete", "--guid", rtcG1+","+absent, "--yes", "--backup", backup)
	if code != ExitBadInput || !strings.Contains(stderr, absent) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(backup); !os.IsNotExist(err) {
		t.Error("backup written for a refused delete")
	}
	if len(f.Requests("DELETE")) != 0 {
		t.Error("DELETE sent")
	}
}

func TestRTCDeleteDroppedConnectionExit3(t *testing.T) {
	f, cfg := rtcFake(t)
	backup := filepath.Join(t.TempDir(), "b.json")
	f.DropOn("DELETE", 2)
	stdout, stderr, code := runCLI(t, cfg, "rtc", "delete", "--guid", rtcG1, "--guid", rtcG2, "--yes", "--backup", backup)
	if code != ExitRuntime {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stderr, "deleted 2") || strings.Contains(stderr, "regenUR") || strings.Contains(stdout, "\tdeleted") {
		t.Errorf("success reported:\n%s\n%s", stdout, stderr)
	}
	if !strings.Contains(stderr, "nothing was deleted: the transaction was rolled back; backup "+backup+" has status rolled-back") {
		t.Errorf("stderr %q does not point at the backup", stderr)
	}
	if b, err := rtcdb.ReadBackup(backup); err != nil || b.Status != rtcdb.StatusRolledBack {
		t.Errorf("backup %+v, %v", b, err)
	}
	for _, g := range []string{rtcG1, rtcG2} {
		if _, ok := f.Row(rtcdb.MustParseGUID(g)); !ok {
			t.Errorf("row %s gone", g)
		}
	}
}

func TestRTCRestore(t *testing.T) {
	f, cfg := rtcFake(t)
	backup := filepath.Join(t.TempDir(), "b.json")
	if _, stderr, code := runCLI(t, cfg, "rtc", "delete", "--guid", rtcG1, "--guid", rtcG2, "--yes", "--backup", backup); code != ExitOK {
		t.Fatalf("delete: exit %d, %s", code, stderr)
	}
	f.Seed(rtcdb.MustParseGUID(rtcG2), []byte("written again"))

	stdout, stderr, code := runCLI(t, cfg, "rtc", "restore", backup)
	if code != ExitOK || !strings.Contains(stdout, rtcG1+"\twould restore") || !strings.Contains(stdout, rtcG2+"\texists, left alone") ||
		!strings.Contains(stderr, "dry run") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, ok := f.Row(rtcdb.MustParseGUID(rtcG1)); ok {
		t.Fatal("dry run restored")
	}
	stdout, stderr, code = runCLI(t, cfg, "rtc", "restore", backup, "--yes")
	if code != ExitOK || !strings.Contains(stdout, rtcG1+"\trestored") {
		t.Fatalf("restore: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if d, ok := f.Row(rtcdb.MustParseGUID(rtcG1)); !ok || string(d) != "\x00sip:sales@contoso.com\x00" {
		t.Errorf("restored row %q, %v", d, ok)
	}
	if d, _ := f.Row(rtcdb.MustParseGUID(rtcG2)); string(d) != "written again" {
		t.Errorf("existing row changed to %q", d)
	}
	if want := []string{"begin", "commit", "begin", "commit"}; !slices.Equal(f.TxLog(), want) {
		t.Errorf("transactions %v, want %v", f.TxLog(), want)
	}
}

func TestRTCRestoreBadBackupBeforeConnecting(t *testing.T) {
	f, cfg := rtcFake(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"format":"something else"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, cfg, "rtc", "restore", bad, "--yes")
	if code != ExitBadInput || !strings.Contains(stderr, "format") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if u := f.Srv.Users(); len(u) != 0 {
		t.Errorf("connections were made: %v", u)
	}
}

func TestRTCPermissionErrorExit3(t *testing.T) {
	f, cfg := rtcFake(t)
	f.FailOn("SELECT ID, Name, Flags", 229, "The SELECT permission was denied on the object 'AbAttribute', database 'rtc', schema 'dbo'.")
	_, stderr, code := runCLI(t, cfg, "rtc", "attributes")
	if code != ExitRuntime {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"server 127.0.0.1:", "database rtc", "object dbo.AbAttribute", "permission denied"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
}

func TestRTCReads(t *testing.T) {
	_, cfg := rtcFake(t)
	stdout, stderr, code := runCLI(t, cfg, "rtc", "info", "-o", "json")
	if code != ExitOK {
		t.Fatalf("info: exit %d, %s", code, stderr)
	}
	var info struct {
		Discovery rtcdb.Discovery
		Counts    rtcdb.Counts
	}
	if err := json.Unmarshal([]byte(stdout), &info); err != nil || info.Discovery.Database != "rtc" || info.Counts.Entries != 2 {
		t.Errorf("info %+v, %v", info, err)
	}
	stdout, _, code = runCLI(t, cfg, "rtc", "attributes")
	if code != ExitOK || !strings.Contains(stdout, "1\tmsExchHideFromAddressLists\t0xFF000003\tnone\tboolean") {
		t.Errorf("attributes: exit %d\n%s", code, stdout)
	}
	stdout, _, code = runCLI(t, cfg, "rtc", "entry", "--guid", rtcG2)
	if code != ExitOK || !strings.Contains(stdout, rtcG2+"\ttrue\t") || !strings.Contains(stdout, "sip:bob@contoso.com") {
		t.Errorf("entry: exit %d\n%s", code, stdout)
	}
	stdout, _, code = runCLI(t, cfg, "rtc", "resource", "--sip", "sip:alice@contoso.com")
	if code != ExitOK || !strings.Contains(stdout, "1001\talice@contoso.com") {
		t.Errorf("resource: exit %d\n%s", code, stdout)
	}
	stdout, _, code = runCLI(t, cfg, "rtc", "resource", "--phone", "4255550100")
	if code != ExitOK || !strings.Contains(stdout, "1001\ttel:+14255550100\talice@contoso.com") {
		t.Errorf("phone: exit %d\n%s", code, stdout)
	}
	if _, _, code = runCLI(t, cfg, "rtc", "resource", "--sip", "a@b", "--phone", "1"); code != ExitBadInput {
		t.Errorf("both --sip and --phone: exit %d, want 2", code)
	}
}

func TestRTCInfoReportsWrongTypes(t *testing.T) {
	f, cfg := rtcFake(t)
	f.Columns["rtc"] = [][]any{{"AbUserEntry", "UserGuid", "varbinary", int64(16)}, {"AbUserEntry", "UserData", "image", int64(2147483647)}}
	stdout, stderr, code := runCLI(t, cfg, "rtc", "info")
	if code != ExitFindings || !strings.Contains(stdout, "expected uniqueidentifier") || !strings.Contains(stderr, "expected uniqueidentifier") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	_, stderr, code = runCLI(t, cfg, "rtc", "delete", "--guid", rtcG1, "--yes", "--backup", filepath.Join(t.TempDir(), "b.json"))
	if code != ExitRuntime || !strings.Contains(stderr, "refused") {
		t.Errorf("delete: exit %d, stderr %q", code, stderr)
	}
}

func TestRTCConfigProblems(t *testing.T) {
	dir := t.TempDir()
	noRTC := filepath.Join(dir, "none.yaml")
	if err := os.WriteFile(noRTC, []byte("forests: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "--config="+noRTC, "rtc", "info"); code != ExitBadInput || !strings.Contains(stderr, "no rtc section") {
		t.Errorf("no rtc section: exit %d, %q", code, stderr)
	}
	unset := filepath.Join(dir, "unset.yaml")
	if err := os.WriteFile(unset, []byte("rtc:\n  server: x\n  user: sa\n  password_env: ABKIT_TEST_UNSET_VARIABLE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "--config="+unset, "rtc", "info"); code != ExitBadInput || !strings.Contains(stderr, "ABKIT_TEST_UNSET_VARIABLE") {
		t.Errorf("unset password variable: exit %d, %q", code, stderr)
	}
}

func TestRTCPasswordFileAndDSNEnv(t *testing.T) {
	f, _ := rtcFake(t)
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	configs := map[string]string{
		"password_file": fmt.Sprintf("rtc:\n  server: 127.0.0.1\n  port: %d\n  user: tester\n  password_file: %s\n  encrypt: disable\n", f.Port(), pwFile),
		"dsn_env":       "rtc:\n  dsn_env: ABKIT_TEST_RTC_DSN\n",
		"no password":   "rtc:\n  server: 127.0.0.1\n  user: tester\n",
	}
	t.Setenv("ABKIT_TEST_RTC_DSN", f.Srv.DSN("rtc"))
	for name, yaml := range configs {
		cfg := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := runCLI(t, "--config="+cfg, "rtc", "entry", "--guid", rtcG1)
		want := ExitOK
		if name == "no password" {
			want = ExitBadInput
			if !strings.Contains(stderr, "no password") {
				t.Errorf("%s: stderr %q", name, stderr)
			}
		}
		if code != want {
			t.Errorf("%s: exit %d, want %d; stderr %q", name, code, want, stderr)
		}
	}
}
