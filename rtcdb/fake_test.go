package rtcdb

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/abkit/abkit/rtcdb/internal/tdstest"
)

// fakeRTC answers the statements of this package with canned rows kept in maps. It does not
// execute SQL: each request is matched against the exact statement text rtcdb sends, and
// unknown statements fail the test.
type fakeRTC struct {
	t   *testing.T
	srv *tdstest.Server

	mu        sync.Mutex
	dbIDs     map[string]int                           // databases that exist
	columns   map[string][][]any                       // INFORMATION_SCHEMA rows per database
	entries   map[GUID][]byte                          // committed AbUserEntry rows of database "rtc"
	txDeleted map[GUID]bool                            // deleted in the open transaction
	txAdded   map[GUID][]byte                          // inserted in the open transaction
	attrs     [][]any                                  // AbAttribute rows
	resources [][]any                                  // Resource rows (ResourceId, UserAtHost)
	phones    [][]any                                  // ResourcePhone rows (ResourceId, PhoneNum, UserAtHost)
	fault     func(*tdstest.Request) *tdstest.Response // injected answer, nil = normal
	commits   int
	rollbacks int
}

var entryColumns = [][]any{
	{"AbUserEntry", "UserGuid", "uniqueidentifier", nil},
	{"AbUserEntry", "UserData", "image", int64(2147483647)},
}

var attributeColumns = [][]any{
	{"AbAttribute", "ID", "int", nil},
	{"AbAttribute", "Name", "nvarchar", int64(256)},
	{"AbAttribute", "Flags", "int", nil},
}

func newFake(t *testing.T) *fakeRTC {
	f := &fakeRTC{
		t:       t,
		dbIDs:   map[string]int{"rtc": 5, "rtcab": 6},
		columns: map[string][][]any{"rtc": append(append([][]any{}, attributeColumns...), entryColumns...)},
		entries: map[GUID][]byte{},
		attrs: [][]any{
			{1, "msExchHideFromAddressLists", int64(int32(-16777213))}, // 0xFF000003
			{4, "displayName", 0x03020000},
			{19, "proxyAddresses", 0x00500105},
		},
		resources: [][]any{{int64(1001), "alice@contoso.com"}},
		phones:    [][]any{{int64(1001), "tel:+14255550100", "alice@contoso.com"}},
	}
	f.srv = tdstest.Start(t, f.handle)
	return f
}

// open connects an rtcdb.DB to the responder.
func (f *fakeRTC) open(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), f.options())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func (f *fakeRTC) options() Options {
	return Options{Server: "127.0.0.1", Port: f.srv.Port(), User: "tester", Password: "secret",
		Encrypt: "disable", Timeout: 10 * time.Second}
}

func (f *fakeRTC) seed(entries map[GUID][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for g, d := range entries {
		f.entries[g] = d
	}
}

func (f *fakeRTC) row(g GUID) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.entries[g]
	return d, ok
}

func (f *fakeRTC) handle(r *tdstest.Request) tdstest.Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fault != nil {
		if resp := f.fault(r); resp != nil {
			return *resp
		}
	}
	switch r.Kind {
	case tdstest.Begin:
		f.txDeleted, f.txAdded = map[GUID]bool{}, map[GUID][]byte{}
		return tdstest.Response{}
	case tdstest.Commit:
		for g := range f.txDeleted {
			delete(f.entries, g)
		}
		for g, d := range f.txAdded {
			f.entries[g] = d
		}
		f.txDeleted, f.txAdded = nil, nil
		f.commits++
		return tdstest.Response{}
	case tdstest.Rollback:
		f.txDeleted, f.txAdded = nil, nil
		f.rollbacks++
		return tdstest.Response{}
	}
	entry := table("rtc", TableEntry)
	guidParam := func() GUID {
		p, ok := r.Param("@guid")
		if !ok || p.Type != "uniqueidentifier" {
			f.t.Errorf("statement %q: @guid missing or not uniqueidentifier: %+v", r.SQL, r.Params)
		}
		g, _ := p.Value.([16]byte)
		return GUID(g)
	}
	visible := func(g GUID) ([]byte, bool) {
		if d, ok := f.txAdded[g]; ok {
			return d, true
		}
		d, ok := f.entries[g]
		return d, ok && !f.txDeleted[g]
	}
	switch {
	case r.SQL == "select 1;": // the driver's ping
		return tdstest.Rows([]tdstest.Column{{Name: "", Type: tdstest.Int}}, []any{1})
	case r.SQL == qServer:
		return tdstest.Rows([]tdstest.Column{{Name: "version", Type: tdstest.NVarChar}, {Name: "edition", Type: tdstest.NVarChar}},
			[]any{"9.00.4035.00", "Enterprise Edition"})
	case r.SQL == qDBID:
		p, _ := r.Param("@db")
		var id any
		if n, ok := f.dbIDs[p.Value.(string)]; ok {
			id = n
		}
		return tdstest.Rows([]tdstest.Column{{Name: "id", Type: tdstest.Int}}, []any{id})
	case strings.HasPrefix(r.SQL, "SELECT TABLE_NAME"):
		for db, rows := range f.columns {
			if r.SQL == fmt.Sprintf(qColumns, db) {
				return tdstest.Rows(infoColumns, rows...)
			}
		}
		return tdstest.Rows(infoColumns)
	case r.SQL == fmt.Sprintf(qAttributes, table("rtc", TableAttribute)):
		return tdstest.Rows([]tdstest.Column{{Name: "ID", Type: tdstest.Int}, {Name: "Name", Type: tdstest.NVarChar}, {Name: "Flags", Type: tdstest.Int}}, f.attrs...)
	case r.SQL == fmt.Sprintf(qEntry, entry) || r.SQL == fmt.Sprintf(qEntryLocked, entry):
		if strings.Contains(r.SQL, "UPDLOCK") && r.TranID == 0 {
			f.t.Errorf("locked read outside a transaction")
		}
		cols := []tdstest.Column{{Name: "UserData", Type: tdstest.Image}}
		if d, ok := visible(guidParam()); ok {
			return tdstest.Rows(cols, []any{d})
		}
		return tdstest.Rows(cols)
	case strings.HasPrefix(r.SQL, "SELECT UserGuid FROM "+entry+" WHERE UserGuid IN ("):
		var rows [][]any
		for _, p := range r.Params {
			if p.Type != "uniqueidentifier" {
				f.t.Errorf("EntriesPresent parameter %s is %s", p.Name, p.Type)
			}
			g, _ := p.Value.([16]byte)
			if _, ok := visible(GUID(g)); ok {
				rows = append(rows, []any{g})
			}
		}
		return tdstest.Rows([]tdstest.Column{{Name: "UserGuid", Type: tdstest.GUID}}, rows...)
	case r.SQL == fmt.Sprintf(qCount, entry):
		return tdstest.Rows([]tdstest.Column{{Name: "", Type: tdstest.BigInt}}, []any{int64(len(f.entries))})
	case r.SQL == fmt.Sprintf(qCount, table("rtc", TableAttribute)):
		return tdstest.Rows([]tdstest.Column{{Name: "", Type: tdstest.BigInt}}, []any{int64(len(f.attrs))})
	case r.SQL == fmt.Sprintf(qDelete, entry):
		if r.TranID == 0 {
			f.t.Errorf("DELETE outside a transaction")
		}
		g := guidParam()
		if _, ok := visible(g); !ok {
			return tdstest.Affected(0)
		}
		f.txDeleted[g] = true
		return tdstest.Affected(1)
	case r.SQL == fmt.Sprintf(qInsert, entry):
		if r.TranID == 0 {
			f.t.Errorf("INSERT outside a transaction")
		}
		g := guidParam()
		p, _ := r.Param("@data")
		if p.Type != "varbinary" {
			f.t.Errorf("@data sent as %s", p.Type)
		}
		d, _ := p.Value.([]byte)
		f.txAdded[g] = bytes.Clone(d)
		return tdstest.Affected(1)
	case r.SQL == fmt.Sprintf(qResource, table("rtc", "Resource")):
		p, _ := r.Param("@uah")
		var rows [][]any
		for _, row := range f.resources {
			if row[1] == p.Value {
				rows = append(rows, row)
			}
		}
		return tdstest.Rows([]tdstest.Column{{Name: "ResourceId", Type: tdstest.BigInt}, {Name: "UserAtHost", Type: tdstest.NVarChar}}, rows...)
	case r.SQL == fmt.Sprintf(qPhone, table("rtc", "ResourcePhone"), table("rtc", "Resource")):
		p, _ := r.Param("@pattern")
		needle := strings.Trim(p.Value.(string), "%")
		var rows [][]any
		for _, row := range f.phones {
			if strings.Contains(row[1].(string), needle) {
				rows = append(rows, row)
			}
		}
		return tdstest.Rows([]tdstest.Column{{Name: "ResourceId", Type: tdstest.BigInt}, {Name: "PhoneNum", Type: tdstest.NVarChar}, {Name: "UserAtHost", Type: tdstest.NVarChar}}, rows...)
	}
	f.t.Errorf("fake: unexpected request %s", r)
	return tdstest.Fail(102, "fake: unexpected statement")
}

var infoColumns = []tdstest.Column{
	{Name: "TABLE_NAME", Type: tdstest.NVarChar}, {Name: "COLUMN_NAME", Type: tdstest.NVarChar},
	{Name: "DATA_TYPE", Type: tdstest.NVarChar}, {Name: "CHARACTER_MAXIMUM_LENGTH", Type: tdstest.Int},
}

// requests returns the recorded requests whose statement starts with prefix.
func (f *fakeRTC) requests(prefix string) []tdstest.Request {
	var out []tdstest.Request
	for _, r := range f.srv.Requests() {
		if strings.HasPrefix(r.SQL, prefix) {
			out = append(out, r)
		}
	}
	return out
}
