package rtcdb

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/abkit/abkit/rtcdb/internal/tdstest"
	"github.com/abkit/abkit/rtcdb/rtcdbtest"
)

// backendAB is where an rtcab scenario runs: the fake in the rtcab layout, or a real SQL Server
// with the rtcab section of testdata/rtcdb/schema.sql.
type backendAB struct {
	open     func(t *testing.T) *DB
	seed     func(t *testing.T, g GUID, id int64, data []byte, dn string)
	row      func(t *testing.T, g GUID) (id int64, dn string, ok bool)
	database string
	fake     *rtcdbtest.Fake
}

var scenariosAB = []struct {
	name string
	run  func(t *testing.T, b *backendAB)
}{
	{"DiscoverAB", scenarioDiscoverAB},
	{"ReadsAB", scenarioReadsAB},
	{"DeleteRestoreAB", scenarioDeleteRestoreAB},
}

func TestScenariosABResponder(t *testing.T) {
	for _, s := range scenariosAB {
		t.Run(s.name, func(t *testing.T) {
			f := rtcdbtest.NewRTCAB(t)
			s.run(t, &backendAB{
				open: func(t *testing.T) *DB { return openFake(t, f) },
				seed: func(_ *testing.T, g GUID, id int64, data []byte, dn string) { f.SeedAB(g, id, data, dn) },
				row: func(_ *testing.T, g GUID) (int64, string, bool) {
					return f.RowAB(g)
				},
				database: "rtcab",
				fake:     f,
			})
		})
	}
}

// TestScenariosABRealServer is the opt-in real-server tier of the rtcab layout (the section of
// schema.sql after "-- LAYOUT rtcab"); it skips, saying so, without RTCDB_TEST_DSN.
func TestScenariosABRealServer(t *testing.T) {
	rs := openRealServer(t)
	for _, s := range scenariosAB {
		t.Run(s.name, func(t *testing.T) {
			ctx := rs.prepare(t, rs.schemaLync)
			raw := rs.raw
			s.run(t, &backendAB{
				open: rs.opener(ctx),
				seed: func(t *testing.T, g GUID, id int64, data []byte, dn string) {
					if _, err := raw.ExecContext(ctx, "SET IDENTITY_INSERT dbo.AbUserEntry ON; INSERT INTO dbo.AbUserEntry (UserId, UserGuid, UserData) VALUES (@id, @g, @d); SET IDENTITY_INSERT dbo.AbUserEntry OFF",
						sql.Named("id", id), sql.Named("g", uid(g)), sql.Named("d", data)); err != nil {
						t.Fatal(err)
					}
					if dn != "" {
						if _, err := raw.ExecContext(ctx, "INSERT INTO dbo.AbDnMapping (UserId, AdDn) VALUES (@id, @dn)", sql.Named("id", id), sql.Named("dn", dn)); err != nil {
							t.Fatal(err)
						}
					}
				},
				row: func(t *testing.T, g GUID) (int64, string, bool) {
					var id int64
					var dn sql.NullString
					err := raw.QueryRowContext(ctx, "SELECT e.UserId, m.AdDn FROM dbo.AbUserEntry AS e LEFT JOIN dbo.AbDnMapping AS m ON m.UserId = e.UserId WHERE e.UserGuid = @g",
						sql.Named("g", uid(g))).Scan(&id, &dn)
					if err == sql.ErrNoRows {
						return 0, "", false
					}
					if err != nil {
						t.Fatal(err)
					}
					return id, dn.String, true
				},
				database: rs.database,
			})
		})
	}
}

const (
	dnSales = "CN=Sales,OU=Groups,DC=contoso,DC=com"
	dnBob   = "CN=Bob,OU=Users,DC=contoso,DC=com"
)

func scenarioDiscoverAB(t *testing.T, b *backendAB) {
	disc, err := b.open(t).Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if disc.Database != b.database || disc.Layout != LayoutRTCAB || len(disc.Problems) != 0 {
		t.Fatalf("discovery %+v", disc)
	}
	for _, want := range []string{"AbUserEntry(UserId, UserGuid, UserData)", "AbDnMapping(UserId, AdDn)", "Enable)"} {
		if !strings.Contains(disc.Seen, want) {
			t.Errorf("seen %q lacks %q", disc.Seen, want)
		}
	}
	if b.fake != nil && disc.UserIDIdentity {
		t.Error("the fake's UserId is not an IDENTITY column")
	}
}

func scenarioReadsAB(t *testing.T, b *backendAB) {
	ctx := context.Background()
	g1, g2, g3 := testGUID(1), testGUID(2), testGUID(3)
	b.seed(t, g1, 7, testData(1), dnSales)
	b.seed(t, g2, 8, testData(2), "")
	d := b.open(t)
	e, err := d.Entry(ctx, g1)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Present || e.UserID == nil || *e.UserID != 7 || !slices.Equal(e.ADDN, []string{dnSales}) || !slices.Contains(e.Addresses, "sip:userb@contoso.com") {
		t.Errorf("entry %+v", e)
	}
	if e, err := d.Entry(ctx, g2); err != nil || !e.Present || *e.UserID != 8 || e.ADDN != nil {
		t.Errorf("entry without mapping %+v, %v", e, err)
	}
	if e, err := d.Entry(ctx, g3); err != nil || e.Present || e.UserID != nil {
		t.Errorf("absent entry %+v, %v", e, err)
	}
	attrs, err := d.Attributes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.fake != nil {
		if len(attrs) != 3 || attrs[0].Enable == nil || !*attrs[0].Enable || attrs[2].Enable == nil || *attrs[2].Enable {
			t.Errorf("attributes %+v", attrs)
		}
	}
	for _, sip := range []string{"sip:alice@contoso.com", "alice@contoso.com", "SIP:alice@contoso.com"} {
		res, err := d.ResourcesBySIP(ctx, sip)
		if err != nil || len(res) != 1 || res[0].UserAtHost != "alice@contoso.com" {
			t.Errorf("resource %q: %+v, %v", sip, res, err)
		}
	}
	if ph, err := d.PhonesByNumber(ctx, "5550100"); err != nil || len(ph) != 1 || ph[0].UserAtHost != "alice@contoso.com" {
		t.Errorf("phones %+v, %v", ph, err)
	}
	if b.fake != nil {
		for _, r := range b.fake.Requests("SELECT ResourceId") {
			if !strings.Contains(r.SQL, "[rtc].[dbo].[Resource]") {
				t.Errorf("Resource read from %q, want the rtc database", r.SQL)
			}
		}
	}
}

func scenarioDeleteRestoreAB(t *testing.T, b *backendAB) {
	ctx := context.Background()
	g1, g2 := testGUID(1), testGUID(2)
	b.seed(t, g1, 7, testData(1), dnSales)
	b.seed(t, g2, 8, testData(2), dnBob)
	backup := filepath.Join(t.TempDir(), "b.json")
	if b.fake != nil {
		var order []string
		b.fake.OnStatement("DELETE", func(q string) {
			_, err := os.Stat(backup)
			order = append(order, strings.Fields(q)[2]+" backup="+map[bool]string{true: "yes", false: "no"}[err == nil])
		})
		t.Cleanup(func() {
			want := []string{"[rtcab].[dbo].[AbDnMapping] backup=yes", "[rtcab].[dbo].[AbUserEntry] backup=yes"}
			if len(order) != 2 || !slices.Equal(order, want) {
				t.Errorf("DELETE order %v, want %v (the backup written before the first)", order, want)
			}
		})
	}
	d := b.open(t)
	res, err := d.Delete(ctx, []GUID{g1}, DeleteOptions{BackupPath: backup})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Committed || res.Layout != LayoutRTCAB || !slices.Equal(res.FollowUp, FollowUpLync) {
		t.Errorf("result %+v", res)
	}
	if _, _, ok := b.row(t, g1); ok {
		t.Error("row of g1 still there")
	}
	if id, dn, ok := b.row(t, g2); !ok || id != 8 || dn != dnBob {
		t.Errorf("g2 touched: %d %q %v", id, dn, ok)
	}
	bk, err := ReadBackup(backup)
	if err != nil {
		t.Fatal(err)
	}
	if bk.Format != BackupFormatAB || bk.Layout != LayoutRTCAB || bk.Status != StatusDeleted || len(bk.Entries) != 1 ||
		*bk.Entries[0].UserID != 7 || !slices.Equal(bk.Entries[0].ADDN, []string{dnSales}) {
		t.Errorf("backup %+v", bk)
	}
	rr, err := d.Restore(ctx, backup, false)
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Committed || !slices.Equal(rr.Restored, []GUID{g1}) {
		t.Errorf("restore %+v", rr)
	}
	if id, dn, ok := b.row(t, g1); !ok || id != 7 || dn != dnSales {
		t.Errorf("restored row: %d %q %v", id, dn, ok)
	}
}

func TestDiscoverUnknownLayoutRefused(t *testing.T) {
	f := rtcdbtest.New(t)
	// UserId in AbUserEntry but no AbDnMapping: neither OCS 2007 R2 nor Lync.
	f.Columns["rtc"] = append(append([][]any{}, rtcdbtest.AttributeColumns...), rtcdbtest.EntryColumnsAB...)
	gs := seedN(fakeSeed(f), 1)
	d := openFake(t, f)
	disc, err := d.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if disc.Layout != LayoutUnknown || len(disc.Problems) != 1 {
		t.Fatalf("discovery %+v", disc)
	}
	for _, want := range []string{"unknown table layout", "saw AbUserEntry(UserId, UserGuid, UserData), no AbDnMapping, AbAttribute(ID, Name, Flags)", "abkit knows rtc"} {
		if !strings.Contains(disc.Problems[0], want) {
			t.Errorf("problem %q lacks %q", disc.Problems[0], want)
		}
	}
	if _, err := d.Entry(context.Background(), gs[0]); !IsKind(err, KindRefused) {
		t.Errorf("Entry error %v, want refused", err)
	}
	if _, err := d.Delete(context.Background(), gs, DeleteOptions{BackupPath: filepath.Join(t.TempDir(), "b.json")}); !IsKind(err, KindRefused) {
		t.Errorf("Delete error %v, want refused", err)
	}
	if len(f.Requests("SELECT UserData")) != 0 || len(f.TxLog()) != 0 {
		t.Error("rows were read or a transaction started on an unknown layout")
	}
}

func TestDiscoverOCSLayout(t *testing.T) {
	disc, err := openFake(t, rtcdbtest.New(t)).Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if disc.Layout != LayoutRTC || !strings.Contains(disc.Seen, "no AbDnMapping") || disc.Layout.Product() != "OCS 2007 / 2007 R2" {
		t.Errorf("discovery %+v", disc)
	}
}

func TestRestoreABIdentityAndLayoutMismatch(t *testing.T) {
	f := rtcdbtest.NewRTCAB(t)
	f.Identity = true
	g := testGUID(1)
	f.SeedAB(g, 42, testData(1), dnSales)
	d := openFake(t, f)
	backup := filepath.Join(t.TempDir(), "b.json")
	if _, err := d.Delete(context.Background(), []GUID{g}, DeleteOptions{BackupPath: backup}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Restore(context.Background(), backup, false); err != nil {
		t.Fatal(err)
	}
	if id, dn, ok := f.RowAB(g); !ok || id != 42 || dn != dnSales {
		t.Errorf("restored %d %q %v", id, dn, ok)
	}
	if n := len(f.Requests("SET IDENTITY_INSERT")); n != 1 {
		t.Errorf("%d INSERTs with SET IDENTITY_INSERT, want 1", n)
	}
	// An OCS backup does not go into an rtcab database.
	ocs := writeTestBackup(t, "rtcab", []GUID{testGUID(5)})
	if _, err := d.Restore(context.Background(), ocs, false); !IsKind(err, KindBadInput) || !strings.Contains(err.Error(), "layout") {
		t.Errorf("restore of an rtc backup: %v", err)
	}
}

func TestDeleteABMappingCountMismatchRollsBack(t *testing.T) {
	f := rtcdbtest.NewRTCAB(t)
	g := testGUID(1)
	f.SeedAB(g, 7, testData(1), dnSales)
	f.Fault = func(r *tdstest.Request) *tdstest.Response {
		if strings.HasPrefix(r.SQL, "DELETE FROM [rtcab].[dbo].[AbDnMapping]") {
			resp := tdstest.Affected(2)
			return &resp
		}
		return nil
	}
	backup := filepath.Join(t.TempDir(), "b.json")
	res, err := openFake(t, f).Delete(context.Background(), []GUID{g}, DeleteOptions{BackupPath: backup})
	if err == nil || !strings.Contains(err.Error(), "want exactly 1 (the rows backed up)") || res.Committed {
		t.Fatalf("delete: %+v, %v", res, err)
	}
	if id, dn, ok := f.RowAB(g); !ok || id != 7 || dn != dnSales {
		t.Errorf("row after rollback: %d %q %v", id, dn, ok)
	}
	if b, _ := ReadBackup(backup); b == nil || b.Status != StatusRolledBack {
		t.Errorf("backup %+v", b)
	}
	if log := f.TxLog(); !slices.Equal(log, []string{"begin", "rollback"}) {
		t.Errorf("tx log %v", log)
	}
}

// A pool whose second Front End cannot be reached: the other copies are changed, each after its
// own backup, and the result and the index say which copies changed and which failed.
func TestPoolDeleteWithUnreachableCopy(t *testing.T) {
	ctx := context.Background()
	g := testGUID(1)
	var fakes []*rtcdbtest.Fake
	var members []Member
	for i := range 3 {
		f := rtcdbtest.NewRTCAB(t)
		f.SeedAB(g, 7, testData(1), dnSales)
		fakes = append(fakes, f)
		members = append(members, Member{Role: "front end", Options: fakeOptions(f)})
		if i == 2 {
			f.Srv.Close()
		}
	}
	p, err := OpenPool(ctx, "pool01", members)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Copies[2].Err == nil || p.Copies[0].Err != nil {
		t.Fatalf("open errors: %v, %v", p.Copies[0].Err, p.Copies[2].Err)
	}
	index := filepath.Join(t.TempDir(), "idx.json")
	res, err := p.Delete(ctx, []GUID{g}, index, false)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 copies failed") || !strings.Contains(err.Error(), "changed: "+p.Copies[0].Name+", "+p.Copies[1].Name) {
		t.Fatalf("error %v", err)
	}
	if !slices.Equal(res.Changed, []string{p.Copies[0].Name, p.Copies[1].Name}) || !slices.Equal(res.Failed, []string{p.Copies[2].Name}) ||
		!slices.Equal(res.FollowUp, FollowUpLync) {
		t.Errorf("result %+v", res)
	}
	for i, f := range fakes[:2] {
		if _, ok := f.Row(g); ok {
			t.Errorf("copy %d: row still there", i)
		}
		b, err := ReadBackup(res.Copies[i].Backup)
		if err != nil || b.Status != StatusDeleted || *b.Entries[0].UserID != 7 {
			t.Errorf("copy %d backup %+v, %v", i, b, err)
		}
	}
	idx, err := ReadPoolBackup(index)
	if err != nil || len(idx.Copies) != 3 || idx.Copies[2].Status != StatusFailed || !strings.Contains(idx.Copies[2].Error, "connect") {
		t.Errorf("index %+v, %v", idx, err)
	}
	// Nothing anywhere: refused before any change.
	if _, err := p.Delete(ctx, []GUID{g}, filepath.Join(t.TempDir(), "i2.json"), false); !IsKind(err, KindNotFound) || !strings.Contains(err.Error(), "no copy that could be checked holds") {
		t.Errorf("second delete: %v", err)
	}
}
