package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/rtcdb"
	"github.com/abkit/abkit/rtcdb/rtcdbtest"
)

const (
	poolDN1 = "CN=Sales,OU=Groups,DC=contoso,DC=com"
	poolDN2 = "CN=Bob,OU=Users,DC=contoso,DC=com"
)

// rtcPoolFake starts a pool of three fakes in the rtcab layout — the back end and two Front Ends'
// RTCLOCAL instances — and writes a configuration naming them. rtcG1 is in every copy (the second
// Front End's UserData differs), rtcG2 only in the back end and the first Front End.
func rtcPoolFake(t *testing.T) ([]*rtcdbtest.Fake, string) {
	t.Helper()
	var fs []*rtcdbtest.Fake
	for i := range 3 {
		f := rtcdbtest.NewRTCAB(t)
		data := "\x00sip:sales@contoso.com\x00"
		if i == 2 {
			data = "\x00sip:sales@contoso.com\x00old"
		}
		f.SeedAB(rtcdb.MustParseGUID(rtcG1), 7, []byte(data), poolDN1)
		if i < 2 {
			f.SeedAB(rtcdb.MustParseGUID(rtcG2), 8, []byte("\x00sip:bob@contoso.com\x00"), poolDN2)
		}
		fs = append(fs, f)
	}
	t.Setenv("ABKIT_TEST_RTC_PASSWORD", "secret")
	cfg := filepath.Join(t.TempDir(), "abkit.yaml")
	yaml := fmt.Sprintf(`rtc:
  pool: pool01.contoso.com
  server: 127.0.0.1
  port: %d
  user: tester
  password_env: ABKIT_TEST_RTC_PASSWORD
  encrypt: disable
  timeout: 10s
  front_ends:
    - server: 127.0.0.1
      port: %d
    - server: 127.0.0.1
      port: %d
`, fs[0].Port(), fs[1].Port(), fs[2].Port())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return fs, "--config=" + cfg
}

func copyName(f *rtcdbtest.Fake, fe bool) string {
	if fe {
		return fmt.Sprintf(`127.0.0.1\RTCLOCAL:%d`, f.Port())
	}
	return fmt.Sprintf("127.0.0.1:%d", f.Port())
}

func TestRTCPoolInfoAndEntry(t *testing.T) {
	fs, cfg := rtcPoolFake(t)
	stdout, stderr, code := runCLI(t, cfg, "rtc", "info")
	if code != ExitOK {
		t.Fatalf("info: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for i, f := range fs {
		if !strings.Contains(stdout, copyName(f, i > 0)+"\t") {
			t.Errorf("info lacks copy %s:\n%s", copyName(f, i > 0), stdout)
		}
	}
	if n := strings.Count(stdout, "layout\trtcab (Lync Server 2010 and later"); n != 3 {
		t.Errorf("%d copies with layout rtcab, want 3:\n%s", n, stdout)
	}
	stdout, stderr, code = runCLI(t, cfg, "rtc", "entry", "--guid", rtcG1+","+rtcG2, "-o", "json")
	if code != ExitOK {
		t.Fatalf("entry: exit %d\n%s", code, stderr)
	}
	var pes []rtcdb.PoolEntry
	if err := json.Unmarshal([]byte(stdout), &pes); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(pes) != 2 || pes[0].Agree || len(pes[0].Where) != 3 || pes[1].Agree ||
		!slices.Equal(pes[1].Where, []string{copyName(fs[0], false), copyName(fs[1], true)}) {
		t.Errorf("entries %+v", pes)
	}
	if e := pes[0].Copies[0].Entry; e == nil || !slices.Equal(e.ADDN, []string{poolDN1}) || *e.UserID != 7 {
		t.Errorf("back end entry %+v", e)
	}
	if !strings.Contains(stderr, "the copies disagree about 2 GUID(s)") {
		t.Errorf("stderr %q", stderr)
	}
}

func TestRTCPoolDeleteFrontEndFailsThenRestore(t *testing.T) {
	fs, cfg := rtcPoolFake(t)
	dir := t.TempDir()
	index := filepath.Join(dir, "idx.json")
	backupFirst := make([]bool, 3)
	for i, f := range fs {
		f.OnStatement("DELETE", func(string) {
			m, _ := filepath.Glob(filepath.Join(dir, fmt.Sprintf("idx.%d-*.json", i+1)))
			_, err := os.Stat(index)
			backupFirst[i] = len(m) == 1 && err == nil
		})
	}
	stdout, stderr, code := runCLI(t, cfg, "rtc", "delete", "--guid", rtcG1, "--backup", index)
	if code != ExitOK || strings.Count(stdout, "\tdry-run") != 3 || !strings.Contains(stderr, "dry run: nothing was deleted") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, err := os.Stat(index); !os.IsNotExist(err) {
		t.Fatal("a dry run wrote the index")
	}
	fs[2].FailOn("DELETE", 229, "The DELETE permission was denied on the object 'AbDnMapping'.")
	stdout, stderr, code = runCLI(t, cfg, "rtc", "delete", "--guid", rtcG1, "--yes", "--backup", index)
	if code != ExitRuntime {
		t.Fatalf("exit %d, want 3 (partial)\n%s\n%s", code, stdout, stderr)
	}
	for i := range fs {
		if !backupFirst[i] {
			t.Errorf("copy %d: its backup (or the index) did not exist at its first DELETE", i)
		}
	}
	be, fe1, fe2 := copyName(fs[0], false), copyName(fs[1], true), copyName(fs[2], true)
	for _, want := range []string{"changed copies: " + be + ", " + fe1, "FAILED copies (not changed, or unknown where the status says so): " + fe2,
		"Update-CsAddressBook", "1 of 3 copies failed", "permission denied"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "regenUR") {
		t.Error("the OCS follow-up was printed for a Lync pool")
	}
	g1 := rtcdb.MustParseGUID(rtcG1)
	for i, f := range fs {
		_, dn, ok := f.RowAB(g1)
		if ok != (i == 2) || (i == 2) != (dn == poolDN1) {
			t.Errorf("copy %d: row present %v, dn %q", i, ok, dn)
		}
	}
	idx, err := rtcdb.ReadPoolBackup(index)
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, c := range idx.Copies {
		statuses = append(statuses, c.Status)
	}
	if want := []string{rtcdb.StatusDeleted, rtcdb.StatusDeleted, rtcdb.StatusFailed}; !slices.Equal(statuses, want) {
		t.Errorf("index statuses %v, want %v", statuses, want)
	}

	stdout, stderr, code = runCLI(t, cfg, "rtc", "restore", index, "--yes")
	if code != ExitOK {
		t.Fatalf("restore: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "restored into: "+be+", "+fe1) {
		t.Errorf("stderr %q", stderr)
	}
	for i, f := range fs {
		if id, dn, ok := f.RowAB(g1); !ok || id != 7 || dn != poolDN1 {
			t.Errorf("copy %d after restore: %d %q %v", i, id, dn, ok)
		}
	}
}

func TestRTCPoolDeleteAbsentEverywhereRefused(t *testing.T) {
	fs, cfg := rtcPoolFake(t)
	absent := "11111111-2222-3333-4444-555555555555"
	_, stderr, code := runCLI(t, cfg, "rtc", "delete", "--guid", rtcG1, "--guid", absent, "--yes", "--backup", filepath.Join(t.TempDir(), "i.json"))
	if code != ExitBadInput || !strings.Contains(stderr, "no copy holds a row for "+absent) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	for _, f := range fs {
		if len(f.TxLog()) != 0 {
			t.Error("a transaction started although the delete was refused")
		}
	}
	// A pool index is refused by a configuration without the pool, before connecting.
	single := filepath.Join(t.TempDir(), "abkit.yaml")
	if err := os.WriteFile(single, []byte(fmt.Sprintf("rtc:\n  server: 127.0.0.1\n  port: %d\n  user: tester\n  password_env: ABKIT_TEST_RTC_PASSWORD\n  encrypt: disable\n", fs[0].Port())), 0o600); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(t.TempDir(), "i.json")
	if err := os.WriteFile(index, []byte(`{"format":"abkit-rtcdb-pool-backup/1","copies":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	users := len(fs[0].Srv.Users())
	if _, stderr, code := runCLI(t, "--config="+single, "rtc", "restore", index, "--yes"); code != ExitBadInput || !strings.Contains(stderr, "front_ends") {
		t.Errorf("restore of an index without a pool: exit %d, %q", code, stderr)
	}
	if len(fs[0].Srv.Users()) != users {
		t.Error("connected before refusing")
	}
}

// The database step of dupes fix and undo on a pool: every copy, the Lync follow-up.
func TestDupesRowsPool(t *testing.T) {
	fs, _ := rtcPoolFake(t)
	var members []rtcdb.Member
	for i, f := range fs {
		members = append(members, rtcdb.Member{Role: map[bool]string{false: "back end", true: "front end"}[i > 0],
			Options: rtcdb.Options{Server: "127.0.0.1", Port: f.Port(), User: "tester", Password: "secret", Encrypt: "disable"}})
	}
	ctx := context.Background()
	p, err := rtcdb.OpenPool(ctx, "pool01", members)
	if err != nil {
		t.Fatal(err)
	}
	rows := dupesRows{pool: p, last: &poolDeletes{}}
	defer rows.Close()
	g2 := dupes.GUID(rtcdb.MustParseGUID(rtcG2))
	present, err := rows.EntriesPresent(ctx, []dupes.GUID{g2})
	if err != nil || !present[g2] {
		t.Fatalf("present %v, %v", present, err)
	}
	fs[1].DropOn("DELETE", 1)
	backup := filepath.Join(t.TempDir(), dupes.RTCBackupFile)
	err = rows.DeleteEntries(ctx, []dupes.GUID{g2}, backup)
	if err == nil || !strings.Contains(err.Error(), "changed: "+copyName(fs[0], false)) {
		t.Fatalf("DeleteEntries error %v; want the failed front end and the changed back end named", err)
	}
	if f := rows.followUp(dupes.FollowUp); !slices.Equal(f, rtcdb.FollowUpLync) {
		t.Errorf("follow-up %v", f)
	}
	if _, ok := fs[0].Row(g2); ok {
		t.Error("back end row still there")
	}
	if _, ok := fs[1].Row(g2); !ok {
		t.Error("the failed front end lost its row")
	}
	fs[1].ClearFault()
	if err := rows.RestoreEntries(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if id, dn, ok := fs[0].RowAB(g2); !ok || id != 8 || dn != poolDN2 {
		t.Errorf("back end after restore: %d %q %v", id, dn, ok)
	}
}

func TestRTCPoolConfigStrict(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "abkit.yaml")
	if err := os.WriteFile(cfg, []byte("rtc:\n  server: be\n  front_ends:\n    - server: fe1\n      instanse: X\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, "--config="+cfg, "rtc", "info")
	if code != ExitBadInput || !strings.Contains(stderr, "instanse") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// A single rtcab (Lync) back end: info names the layout, delete prints Update-CsAddressBook.
func TestRTCSingleRTCAB(t *testing.T) {
	fs, _ := rtcPoolFake(t)
	f := fs[0]
	cfg := filepath.Join(t.TempDir(), "abkit.yaml")
	yaml := fmt.Sprintf("rtc:\n  server: 127.0.0.1\n  port: %d\n  user: tester\n  password_env: ABKIT_TEST_RTC_PASSWORD\n  encrypt: disable\n", f.Port())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runCLI(t, "--config="+cfg, "rtc", "info")
	if code != ExitOK || !strings.Contains(stdout, "layout\trtcab (Lync Server 2010 and later") || !strings.Contains(stdout, "AbDnMapping(UserId, AdDn)") {
		t.Fatalf("info: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, _, code = runCLI(t, "--config="+cfg, "rtc", "attributes")
	if code != ExitOK || !strings.Contains(stdout, "proxyAddresses") || !strings.Contains(stdout, "\tfalse") {
		t.Errorf("attributes: exit %d\n%s", code, stdout)
	}
	backup := filepath.Join(t.TempDir(), "b.json")
	stdout, stderr, code = runCLI(t, "--config="+cfg, "rtc", "delete", "--guid", rtcG1, "--yes", "--backup", backup)
	if code != ExitOK || !strings.Contains(stdout, poolDN1) || !strings.Contains(stderr, "Update-CsAddressBook") || strings.Contains(stderr, "regenUR") {
		t.Fatalf("delete: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, _, ok := f.RowAB(rtcdb.MustParseGUID(rtcG1)); ok {
		t.Error("row still there")
	}
}

func TestRTCInfoUnknownLayout(t *testing.T) {
	f, cfg := rtcFake(t)
	f.Columns["rtc"] = append(append([][]any{}, rtcdbtest.AttributeColumnsAB...), rtcdbtest.EntryColumns...) // Enable without AbDnMapping
	stdout, stderr, code := runCLI(t, cfg, "rtc", "info")
	if code != ExitFindings || !strings.Contains(stdout, "layout\tunknown (unknown)") ||
		!strings.Contains(stderr, "unknown table layout in database rtc: saw AbUserEntry(UserGuid, UserData), no AbDnMapping, AbAttribute(ID, Name, Flags, Enable)") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, cfg, "rtc", "entry", "--guid", rtcG1); code != ExitRuntime || !strings.Contains(stderr, "refused") {
		t.Errorf("entry on an unknown layout: exit %d, %q", code, stderr)
	}
}

// A Front End that cannot be reached: info shows the others and exits 3.
func TestRTCPoolInfoUnreachableFrontEnd(t *testing.T) {
	fs, cfg := rtcPoolFake(t)
	fs[2].Srv.Close()
	stdout, stderr, code := runCLI(t, cfg, "rtc", "info")
	if code != ExitRuntime || strings.Count(stdout, "layout\trtcab") != 2 || !strings.Contains(stdout, copyName(fs[2], true)+"\tfront end\terror") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
