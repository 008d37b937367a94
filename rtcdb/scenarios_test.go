package rtcdb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/abkit/abkit/rtcdb/rtcdbtest"
)

// backend is where a scenario runs: the fake back end (the tdstest responder: wire contract
// only) or, when RTCDB_TEST_DSN is set, a real SQL Server with testdata/rtcdb/schema.sql.
type backend struct {
	open     func(t *testing.T) *DB
	seed     func(t *testing.T, rows map[GUID][]byte)
	row      func(t *testing.T, g GUID) ([]byte, bool)
	database string          // where AbUserEntry is expected
	fake     *rtcdbtest.Fake // nil on a real server; enables the wire-level assertions
}

// scenarios run on both tiers.
var scenarios = []struct {
	name string
	run  func(t *testing.T, b *backend)
}{
	{"Discover", scenarioDiscover},
	{"Attributes", scenarioAttributes},
	{"Entry", scenarioEntry},
	{"EntriesPresent", scenarioEntriesPresent},
	{"CountsResourcesPhones", scenarioCountsResourcesPhones},
	{"DeleteOne", scenarioDeleteOne},
	{"DeleteFifty", scenarioDeleteFifty},
	{"DeleteDryRun", scenarioDeleteDryRun},
	{"DeleteMissingRefused", scenarioDeleteMissingRefused},
	{"Restore", scenarioRestore},
}

func TestScenariosResponder(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			f := rtcdbtest.New(t)
			s.run(t, &backend{
				open:     func(t *testing.T) *DB { return openFake(t, f) },
				seed:     func(_ *testing.T, rows map[GUID][]byte) { fakeSeed(f)(rows) },
				row:      func(_ *testing.T, g GUID) ([]byte, bool) { return f.Row(g) },
				database: "rtc",
				fake:     f,
			})
		})
	}
}

// TestScenariosRealServer is the opt-in real-server tier; it is the one test allowed to skip,
// also under CI, because no SQL Server engine can be installed from the registries CI reaches.
func TestScenariosRealServer(t *testing.T) {
	rs := openRealServer(t)
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			ctx := rs.prepare(t, rs.schemaOCS)
			raw := rs.raw
			s.run(t, &backend{
				open: rs.opener(ctx),
				seed: func(t *testing.T, rows map[GUID][]byte) {
					for g, data := range rows {
						if _, err := raw.ExecContext(ctx, "INSERT INTO dbo.AbUserEntry (UserGuid, UserData) VALUES (@g, @d)",
							sql.Named("g", uid(g)), sql.Named("d", data)); err != nil {
							t.Fatal(err)
						}
					}
				},
				row: func(t *testing.T, g GUID) ([]byte, bool) {
					var data []byte
					err := raw.QueryRowContext(ctx, "SELECT UserData FROM dbo.AbUserEntry WHERE UserGuid = @g", sql.Named("g", uid(g))).Scan(&data)
					if err == sql.ErrNoRows {
						return nil, false
					}
					if err != nil {
						t.Fatal(err)
					}
					return data, true
				},
				database: rs.database,
			})
		})
	}
}

// realServer is the opt-in real SQL Server of RTCDB_TEST_DSN with the two sections of
// testdata/rtcdb/schema.sql (OCS 2007 R2 before "-- LAYOUT rtcab", Lync after it).
type realServer struct {
	dsn, database         string
	raw                   *sql.DB
	schemaOCS, schemaLync string
}

// openRealServer skips the test, saying so, when RTCDB_TEST_DSN is not set: the one skip allowed
// also under CI, because no SQL Server engine can be installed from the registries CI reaches.
func openRealServer(t *testing.T) *realServer {
	t.Helper()
	dsn := os.Getenv("RTCDB_TEST_DSN")
	if dsn == "" {
		t.Skip("RTCDB_TEST_DSN is not set: the real SQL Server tier did not run; the responder tier checks the wire contract only, not T-SQL execution")
	}
	file, err := os.ReadFile(filepath.Join("..", "testdata", "rtcdb", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	ocs, lync, ok := strings.Cut(string(file), "-- LAYOUT rtcab")
	if !ok {
		t.Fatal("schema.sql has no -- LAYOUT rtcab section")
	}
	raw, err := sql.Open("sqlserver", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	_, cfg, err := Options{DSN: dsn}.dsn()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database == "" {
		t.Fatal("RTCDB_TEST_DSN must name the test database (database=...)")
	}
	return &realServer{dsn: dsn, database: cfg.Database, raw: raw, schemaOCS: ocs, schemaLync: lync}
}

// prepare runs a schema section and returns the scenario's context.
func (rs *realServer) prepare(t *testing.T, schema string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	for _, batch := range splitBatches(schema) {
		if _, err := rs.raw.ExecContext(ctx, batch); err != nil {
			t.Fatalf("schema.sql: %v\n%s", err, batch)
		}
	}
	return ctx
}

// opener opens the real server with rtcdb.
func (rs *realServer) opener(ctx context.Context) func(t *testing.T) *DB {
	return func(t *testing.T) *DB {
		d, err := Open(ctx, Options{DSN: rs.dsn, Timeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = d.Close() })
		return d
	}
}

// splitBatches splits a T-SQL script at lines holding only GO.
func splitBatches(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		if strings.EqualFold(strings.TrimSpace(line), "GO") {
			if s := strings.TrimSpace(cur.String()); s != "" {
				out = append(out, s)
			}
			cur.Reset()
			continue
		}
		cur.WriteString(line + "\n")
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// seedN seeds rows testGUID(0..n-1) with testData and returns their GUIDs.
func seedN(seed func(map[GUID][]byte), n int) []GUID {
	var gs []GUID
	m := map[GUID][]byte{}
	for i := range n {
		g := testGUID(i)
		gs = append(gs, g)
		m[g] = testData(i)
	}
	seed(m)
	return gs
}

// seeder adapts a backend's seed function to seedN.
func (b *backend) seeder(t *testing.T) func(map[GUID][]byte) {
	return func(m map[GUID][]byte) { b.seed(t, m) }
}

func scenarioDiscover(t *testing.T, b *backend) {
	disc, err := b.open(t).Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if disc.Database != b.database || disc.Version == "" || disc.Edition == "" {
		t.Errorf("discovery %+v", disc)
	}
	if len(disc.Problems) != 0 || disc.Writable() != nil {
		t.Errorf("problems %v", disc.Problems)
	}
	if len(disc.Columns) != 5 || disc.column(TableEntry, "UserGuid").DataType != "uniqueidentifier" {
		t.Errorf("columns %+v", disc.Columns)
	}
	if b.fake != nil {
		want := []Candidate{{"rtc", true, true, true, false}}
		if !slices.Equal(disc.Candidates, want) || disc.Version != "9.00.4035.00" {
			t.Errorf("candidates %+v, want %+v", disc.Candidates, want)
		}
	}
}

func scenarioAttributes(t *testing.T, b *backend) {
	attrs, err := b.open(t).Attributes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]Attribute{}
	for _, a := range attrs {
		byID[a.ID] = a
	}
	hide, disp := byID[1], byID[4]
	if hide.Name != "msExchHideFromAddressLists" || hide.Flags != 0xFF000003 || hide.Flags.ClientFieldName() != "none" || hide.Flags.ValueType() != 3 {
		t.Errorf("row 1: %+v %v", hide, hide.Flags)
	}
	if disp.Name != "displayName" || disp.Flags.ClientFieldName() != "displayName" || !slices.Equal(disp.Flags.Options(), []string{"in device files"}) {
		t.Errorf("row 4: %+v %v", disp, disp.Flags)
	}
	if b.fake != nil {
		proxy := byID[19]
		if got := proxy.Flags.Options(); !slices.Equal(got, []string{"multi-valued", "0x500000"}) || proxy.Flags.ValueTypeName() != "tel: or smtp: values only" {
			t.Errorf("proxyAddresses: %v", proxy.Flags)
		}
	}
}

func scenarioEntry(t *testing.T, b *backend) {
	g := testGUID(1)
	data := append([]byte("\x00\x01smtp:bob@contoso.com\x00"), utf16le("sip:bob@contoso.com")...)
	data = append(data, 0xff, 't', 'e', 'l', ':', '+', '1', '4', '2', '5')
	b.seed(t, map[GUID][]byte{g: data})
	d := b.open(t)
	e, err := d.Entry(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if !e.Present || e.Size != int64(len(data)) || e.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("entry %+v", e)
	}
	if want := []string{"smtp:bob@contoso.com", "tel:+1425", "sip:bob@contoso.com"}; !slices.Equal(e.Addresses, want) {
		t.Errorf("addresses %q, want %q", e.Addresses, want)
	}
	absent, err := d.Entry(context.Background(), testGUID(2))
	if err != nil || absent.Present || absent.Size != 0 {
		t.Errorf("absent entry %+v, %v", absent, err)
	}
	if b.fake != nil {
		p, _ := b.fake.Requests("SELECT UserData")[0].Param("@guid")
		if p.Type != "uniqueidentifier" || GUID(p.Value.([16]byte)) != g {
			t.Errorf("GUID parameter %+v", p)
		}
	}
}

func scenarioEntriesPresent(t *testing.T, b *backend) {
	var all []GUID
	for i := range 450 {
		all = append(all, testGUID(i))
	}
	m := map[GUID][]byte{}
	for i := 0; i < 450; i += 2 {
		m[all[i]] = []byte{1}
	}
	b.seed(t, m)
	got, err := b.open(t).EntriesPresent(context.Background(), all)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 450 {
		t.Fatalf("%d results", len(got))
	}
	for i, g := range all {
		if got[g] != (i%2 == 0) {
			t.Fatalf("GUID %d present=%v", i, got[g])
		}
	}
	if b.fake != nil {
		if n := len(b.fake.Requests("SELECT UserGuid")); n != 3 {
			t.Errorf("%d statements, want 3 batches of at most %d", n, presentBatch)
		}
	}
}

func scenarioCountsResourcesPhones(t *testing.T, b *backend) {
	seedN(b.seeder(t), 4)
	d := b.open(t)
	ctx := context.Background()
	c, err := d.Counts(ctx)
	if err != nil || c.Entries != 4 || c.Attributes < 2 || c.Database != b.database {
		t.Errorf("counts %+v, %v", c, err)
	}
	res, err := d.ResourcesBySIP(ctx, "sip:alice@contoso.com")
	if err != nil || len(res) != 1 || res[0] != (Resource{ID: "1001", UserAtHost: "alice@contoso.com"}) {
		t.Errorf("resources %+v, %v", res, err)
	}
	phones, err := d.PhonesByNumber(ctx, "5550100")
	if err != nil || len(phones) != 1 || phones[0].UserAtHost != "alice@contoso.com" || phones[0].PhoneNum != "tel:+14255550100" {
		t.Errorf("phones %+v, %v", phones, err)
	}
	if _, err := d.ResourcesBySIP(ctx, "nobody"); !IsKind(err, KindBadInput) {
		t.Errorf("bad SIP address: %v", err)
	}
	if b.fake != nil {
		if p, _ := b.fake.Requests("SELECT ResourceId")[0].Param("@uah"); p.Value != "alice@contoso.com" {
			t.Errorf("UserAtHost parameter %+v: sip: not removed", p)
		}
		if p, _ := b.fake.Requests("SELECT p.ResourceId")[0].Param("@pattern"); p.Value != "%5550100%" || p.Type != "nvarchar" {
			t.Errorf("pattern parameter %+v", p)
		}
	}
}

func scenarioDeleteOne(t *testing.T, b *backend) {
	gs := seedN(b.seeder(t), 3)
	backup := filepath.Join(t.TempDir(), "backup.json")
	sawBackup := false
	if b.fake != nil {
		b.fake.OnStatement("DELETE", func(string) {
			bk := readBackupFile(t, backup) // must exist before any DELETE
			sawBackup = len(bk.Entries) == 1 && bk.Entries[0].GUID == gs[1] && bk.Status == StatusPending
		})
	}
	d := b.open(t)
	res, err := d.Delete(context.Background(), gs[1:2], DeleteOptions{BackupPath: backup})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || res.Status != StatusDeleted || !slices.Equal(res.Deleted, gs[1:2]) {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(strings.Join(res.FollowUp, "\n"), "ABServer.exe -regenUR") {
		t.Errorf("follow-up %q", res.FollowUp)
	}
	if _, ok := b.row(t, gs[1]); ok {
		t.Error("row still present after commit")
	}
	if _, ok := b.row(t, gs[0]); !ok {
		t.Error("another row was removed")
	}
	bk := readBackupFile(t, backup)
	if bk.Status != StatusDeleted || bk.Database != b.database || bk.Server != d.Server() ||
		!bytes.Equal(bk.Entries[0].UserData, testData(1)) || bk.Entries[0].Status != StatusDeleted {
		t.Errorf("backup %+v", bk)
	}
	if b.fake != nil {
		if !sawBackup {
			t.Error("the DELETE did not find the pending backup on disk")
		}
		if want := []string{"begin", "commit"}; !slices.Equal(b.fake.TxLog(), want) {
			t.Errorf("transaction requests %v, want %v", b.fake.TxLog(), want)
		}
	}
}

func scenarioDeleteFifty(t *testing.T, b *backend) {
	gs := seedN(b.seeder(t), 60)
	backup := filepath.Join(t.TempDir(), "backup.json")
	res, err := b.open(t).Delete(context.Background(), gs[:50], DeleteOptions{BackupPath: backup})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) != 50 || !res.Committed {
		t.Fatalf("result %+v", res)
	}
	for i, g := range gs {
		if _, ok := b.row(t, g); ok != (i >= 50) {
			t.Errorf("row %d present=%v", i, ok)
		}
	}
	if bk := readBackupFile(t, backup); len(bk.Entries) != 50 || bk.Status != StatusDeleted {
		t.Errorf("backup: %d entries, status %s", len(bk.Entries), bk.Status)
	}
	if b.fake != nil {
		dels := b.fake.Requests("DELETE")
		if len(dels) != 50 {
			t.Fatalf("%d DELETE statements, want 50", len(dels))
		}
		for i, r := range dels {
			p, _ := r.Param("@guid")
			if len(r.Params) != 1 || GUID(p.Value.([16]byte)) != gs[i] || r.TranID != dels[0].TranID {
				t.Errorf("DELETE %d: %s", i, r)
			}
		}
	}
}

func scenarioDeleteDryRun(t *testing.T, b *backend) {
	gs := seedN(b.seeder(t), 2)
	res, err := b.open(t).Delete(context.Background(), []GUID{gs[0], testGUID(99)}, DeleteOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Committed || res.Status != "dry-run" || len(res.Deleted) != 0 || !slices.Equal(res.Missing, []GUID{testGUID(99)}) {
		t.Errorf("result %+v", res)
	}
	if len(res.Entries) != 2 || !res.Entries[0].Present {
		t.Errorf("entries %+v", res.Entries)
	}
	if _, ok := b.row(t, gs[0]); !ok {
		t.Error("a dry run removed a row")
	}
	if b.fake != nil && (len(b.fake.Requests("DELETE")) != 0 || len(b.fake.TxLog()) != 0) {
		t.Error("a dry run reached DELETE or a transaction")
	}
}

func scenarioDeleteMissingRefused(t *testing.T, b *backend) {
	gs := seedN(b.seeder(t), 2)
	backup := filepath.Join(t.TempDir(), "backup.json")
	_, err := b.open(t).Delete(context.Background(), []GUID{gs[0], testGUID(77)}, DeleteOptions{BackupPath: backup})
	if !IsKind(err, KindNotFound) || !strings.Contains(err.Error(), testGUID(77).String()) {
		t.Fatalf("error %v, want not found naming the GUID", err)
	}
	if _, serr := os.Stat(backup); !os.IsNotExist(serr) {
		t.Error("a backup was written for a refused delete")
	}
	if _, ok := b.row(t, gs[0]); !ok {
		t.Error("row removed")
	}
	if b.fake != nil && len(b.fake.Requests("DELETE")) != 0 {
		t.Error("DELETE sent")
	}
}

func scenarioRestore(t *testing.T, b *backend) {
	gs := seedN(b.seeder(t), 4)
	d := b.open(t)
	ctx := context.Background()
	backup := filepath.Join(t.TempDir(), "backup.json")
	if _, err := d.Delete(ctx, gs[:3], DeleteOptions{BackupPath: backup}); err != nil {
		t.Fatal(err)
	}
	// User Replicator wrote one row again meanwhile.
	b.seed(t, map[GUID][]byte{gs[1]: []byte("rewritten")})

	dry, err := d.Restore(ctx, backup, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dry.Restored, []GUID{gs[0], gs[2]}) || !slices.Equal(dry.Existing, gs[1:2]) || dry.Committed {
		t.Errorf("dry run %+v", dry)
	}
	if _, ok := b.row(t, gs[0]); ok {
		t.Error("dry run inserted")
	}
	res, err := d.Restore(ctx, backup, false)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || !slices.Equal(res.Restored, []GUID{gs[0], gs[2]}) || !slices.Equal(res.Existing, gs[1:2]) {
		t.Errorf("restore %+v", res)
	}
	for i, want := range [][]byte{testData(0), []byte("rewritten"), testData(2), testData(3)} {
		if got, ok := b.row(t, gs[i]); !ok || !bytes.Equal(got, want) {
			t.Errorf("row %d = %q, %v; want %q", i, got, ok, want)
		}
	}
	if b.fake != nil {
		if n := len(b.fake.Requests("INSERT")); n != 2 {
			t.Errorf("%d INSERTs, want 2", n)
		}
	}
}

// fakeSeed adapts the fake's Seed to seedN.
func fakeSeed(f *rtcdbtest.Fake) func(map[GUID][]byte) {
	return func(m map[GUID][]byte) {
		for g, d := range m {
			f.Seed(g, d)
		}
	}
}
