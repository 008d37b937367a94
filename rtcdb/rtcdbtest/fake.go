// Package rtcdbtest is a fake OCS back end for tests of rtcdb and of the commands built on it: a
// tdstest responder (the real go-mssqldb driver connects to it over loopback TCP) whose handler
// answers the statements rtcdb sends with canned rows kept in maps.
//
// It executes no SQL. Each request is matched against the shape of one rtcdb statement (regular
// expressions over the exact text); unknown statements fail the test. Transactions are modelled
// only as far as the tests need: deletes and inserts made between begin and commit become
// visible at commit and vanish at rollback.
package rtcdbtest

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/rtcdb/internal/tdstest"
)

// Fake is a running fake back end. Set its exported fields before the first connection.
type Fake struct {
	Srv *tdstest.Server

	EntryDB   string             // the database holding the address book tables (default rtc)
	DBIDs     map[string]int     // databases that exist
	Columns   map[string][][]any // INFORMATION_SCHEMA.COLUMNS rows per database
	Attrs     [][]any            // AbAttribute rows (ID, Name, Flags)
	Resources [][]any            // Resource rows (ResourceId, UserAtHost)
	Phones    [][]any            // ResourcePhone rows (ResourceId, PhoneNum, UserAtHost)
	// Fault, when it returns non-nil, answers a request instead of the fake. It runs with the
	// fake's lock held: it must not call the fake's methods.
	Fault func(*tdstest.Request) *tdstest.Response

	t         testing.TB
	mu        sync.Mutex
	entries   map[ldapsync.GUID][]byte // committed AbUserEntry rows
	txDeleted map[ldapsync.GUID]bool
	txAdded   map[ldapsync.GUID][]byte
	txLog     []string
	hooks     []hook
}

type hook struct {
	prefix string
	fn     func(sql string)
}

// EntryColumns and AttributeColumns are the INFORMATION_SCHEMA rows of the documented tables.
var (
	EntryColumns = [][]any{
		{"AbUserEntry", "UserGuid", "uniqueidentifier", nil},
		{"AbUserEntry", "UserData", "image", int64(2147483647)},
	}
	AttributeColumns = [][]any{
		{"AbAttribute", "ID", "int", nil},
		{"AbAttribute", "Name", "nvarchar", int64(256)},
		{"AbAttribute", "Flags", "int", nil},
	}
)

// New starts a fake holding the documented tables in database rtc (rtcab exists but is empty),
// three AbAttribute rows, one Resource and one ResourcePhone row.
func New(t testing.TB) *Fake {
	f := &Fake{
		EntryDB: "rtc",
		DBIDs:   map[string]int{"rtc": 5, "rtcab": 6},
		Columns: map[string][][]any{"rtc": append(append([][]any{}, AttributeColumns...), EntryColumns...)},
		Attrs: [][]any{
			{1, "msExchHideFromAddressLists", int64(int32(-16777213))}, // 0xFF000003
			{4, "displayName", 0x03020000},
			{19, "proxyAddresses", 0x00500105},
		},
		Resources: [][]any{{int64(1001), "alice@contoso.com"}},
		Phones:    [][]any{{int64(1001), "tel:+14255550100", "alice@contoso.com"}},
		t:         t,
		entries:   map[ldapsync.GUID][]byte{},
	}
	f.Srv = tdstest.Start(t, f.handle)
	return f
}

// Port is the responder's TCP port on 127.0.0.1.
func (f *Fake) Port() int { return f.Srv.Port() }

// Seed adds committed AbUserEntry rows.
func (f *Fake) Seed(entries map[ldapsync.GUID][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for g, d := range entries {
		f.entries[g] = bytes.Clone(d)
	}
}

// Row returns the committed UserData of g.
func (f *Fake) Row(g ldapsync.GUID) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.entries[g]
	return d, ok
}

// TxLog lists the transaction requests received: "begin", "commit", "rollback".
func (f *Fake) TxLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.txLog...)
}

// OnStatement calls fn (without the fake's lock) before answering each statement that starts
// with prefix.
func (f *Fake) OnStatement(prefix string, fn func(sql string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks = append(f.hooks, hook{prefix, fn})
}

// FailOn answers every statement starting with prefix with SQL error number.
func (f *Fake) FailOn(prefix string, number int32, message string) {
	f.inject(prefix, 1, tdstest.Fail(number, message), true)
}

// DropOn drops the connection at the nth statement (from 1) starting with prefix.
func (f *Fake) DropOn(prefix string, nth int) {
	f.inject(prefix, nth, tdstest.Response{Drop: true}, false)
}

func (f *Fake) inject(prefix string, nth int, resp tdstest.Response, every bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := 0
	f.Fault = func(r *tdstest.Request) *tdstest.Response {
		if r.SQL == "" || !strings.HasPrefix(r.SQL, prefix) {
			return nil
		}
		if seen++; seen == nth || every && seen > nth {
			return &resp
		}
		return nil
	}
}

// Requests returns the recorded requests whose statement starts with prefix.
func (f *Fake) Requests(prefix string) []tdstest.Request {
	var out []tdstest.Request
	for _, r := range f.Srv.Requests() {
		if strings.HasPrefix(r.SQL, prefix) {
			out = append(out, r)
		}
	}
	return out
}

// Statement shapes; group 1 is the database name.
var (
	reColumns  = regexp.MustCompile(`^SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH FROM \[(\w+)\]\.INFORMATION_SCHEMA\.COLUMNS WHERE TABLE_SCHEMA = N'dbo' AND TABLE_NAME IN \(N'AbUserEntry', N'AbAttribute'\) ORDER BY TABLE_NAME, ORDINAL_POSITION$`)
	reAttrs    = regexp.MustCompile(`^SELECT ID, Name, Flags FROM \[(\w+)\]\.\[dbo\]\.\[AbAttribute\] ORDER BY ID$`)
	reEntry    = regexp.MustCompile(`^SELECT UserData FROM \[(\w+)\]\.\[dbo\]\.\[AbUserEntry\]( WITH \(UPDLOCK, HOLDLOCK\))? WHERE UserGuid = @guid$`)
	rePresent  = regexp.MustCompile(`^SELECT UserGuid FROM \[(\w+)\]\.\[dbo\]\.\[AbUserEntry\] WHERE UserGuid IN \(@g0(, @g[0-9]+)*\)$`)
	reCount    = regexp.MustCompile(`^SELECT COUNT_BIG\(\*\) FROM \[(\w+)\]\.\[dbo\]\.\[(AbUserEntry|AbAttribute)\]$`)
	reDelete   = regexp.MustCompile(`^DELETE FROM \[(\w+)\]\.\[dbo\]\.\[AbUserEntry\] WHERE UserGuid = @guid$`)
	reInsert   = regexp.MustCompile(`^INSERT INTO \[(\w+)\]\.\[dbo\]\.\[AbUserEntry\] \(UserGuid, UserData\) VALUES \(@guid, @data\)$`)
	reResource = regexp.MustCompile(`^SELECT ResourceId, UserAtHost FROM \[(\w+)\]\.\[dbo\]\.\[Resource\] WHERE UserAtHost = @uah ORDER BY ResourceId$`)
	rePhone    = regexp.MustCompile(`^SELECT p\.ResourceId, p\.PhoneNum, r\.UserAtHost FROM \[(\w+)\]\.\[dbo\]\.\[ResourcePhone\] AS p LEFT JOIN \[(\w+)\]\.\[dbo\]\.\[Resource\] AS r ON r\.ResourceId = p\.ResourceId WHERE p\.PhoneNum LIKE @pattern ESCAPE N'\\' ORDER BY p\.PhoneNum$`)
)

const (
	qServer = "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS version, CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition"
	qDBID   = "SELECT DB_ID(@db) AS id"
)

func (f *Fake) handle(r *tdstest.Request) tdstest.Response {
	f.mu.Lock()
	var fns []func(string)
	for _, h := range f.hooks {
		if r.SQL != "" && strings.HasPrefix(r.SQL, h.prefix) {
			fns = append(fns, h.fn)
		}
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(r.SQL)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Fault != nil {
		if resp := f.Fault(r); resp != nil {
			return *resp
		}
	}
	switch r.Kind {
	case tdstest.Begin:
		f.txDeleted, f.txAdded = map[ldapsync.GUID]bool{}, map[ldapsync.GUID][]byte{}
		f.txLog = append(f.txLog, "begin")
		return tdstest.Response{}
	case tdstest.Commit:
		for g := range f.txDeleted {
			delete(f.entries, g)
		}
		for g, d := range f.txAdded {
			f.entries[g] = d
		}
		f.txDeleted, f.txAdded = nil, nil
		f.txLog = append(f.txLog, "commit")
		return tdstest.Response{}
	case tdstest.Rollback:
		f.txDeleted, f.txAdded = nil, nil
		f.txLog = append(f.txLog, "rollback")
		return tdstest.Response{}
	}
	return f.statement(r)
}

// statement answers a batch or sp_executesql request; the lock is held.
func (f *Fake) statement(r *tdstest.Request) tdstest.Response {
	db := func(re *regexp.Regexp) (string, bool) {
		m := re.FindStringSubmatch(r.SQL)
		if m == nil {
			return "", false
		}
		return m[1], true
	}
	if name, ok := firstMatch(r.SQL, reAttrs, reEntry, rePresent, reCount, reDelete, reInsert); ok && name != f.EntryDB {
		return tdstest.Fail(208, "Invalid object name '"+name+".dbo.AbUserEntry'.")
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
		if s, ok := p.Value.(string); ok {
			if n, ok := f.DBIDs[s]; ok {
				id = n
			}
		}
		return tdstest.Rows([]tdstest.Column{{Name: "id", Type: tdstest.Int}}, []any{id})
	}
	if name, ok := db(reColumns); ok {
		return tdstest.Rows(infoColumns, f.Columns[name]...)
	}
	if _, ok := db(reAttrs); ok {
		return tdstest.Rows([]tdstest.Column{{Name: "ID", Type: tdstest.Int}, {Name: "Name", Type: tdstest.NVarChar},
			{Name: "Flags", Type: tdstest.Int}}, f.Attrs...)
	}
	if m := reEntry.FindStringSubmatch(r.SQL); m != nil {
		if m[2] != "" && r.TranID == 0 {
			f.t.Errorf("rtcdbtest: locked read outside a transaction")
		}
		cols := []tdstest.Column{{Name: "UserData", Type: tdstest.Image}}
		if d, ok := f.visible(f.guid(r, "@guid")); ok {
			return tdstest.Rows(cols, []any{d})
		}
		return tdstest.Rows(cols)
	}
	if _, ok := db(rePresent); ok {
		var rows [][]any
		for _, p := range r.Params {
			g := f.guid(r, p.Name)
			if _, ok := f.visible(g); ok {
				rows = append(rows, []any{[16]byte(g)})
			}
		}
		return tdstest.Rows([]tdstest.Column{{Name: "UserGuid", Type: tdstest.GUID}}, rows...)
	}
	if m := reCount.FindStringSubmatch(r.SQL); m != nil {
		n := len(f.entries)
		if m[2] == "AbAttribute" {
			n = len(f.Attrs)
		}
		return tdstest.Rows([]tdstest.Column{{Name: "", Type: tdstest.BigInt}}, []any{int64(n)})
	}
	if _, ok := db(reDelete); ok {
		if r.TranID == 0 || f.txDeleted == nil {
			f.t.Errorf("rtcdbtest: DELETE outside a transaction")
			return tdstest.Fail(3902, "no transaction")
		}
		g := f.guid(r, "@guid")
		if _, ok := f.visible(g); !ok {
			return tdstest.Affected(0)
		}
		f.txDeleted[g] = true
		return tdstest.Affected(1)
	}
	if _, ok := db(reInsert); ok {
		if r.TranID == 0 || f.txAdded == nil {
			f.t.Errorf("rtcdbtest: INSERT outside a transaction")
			return tdstest.Fail(3902, "no transaction")
		}
		g := f.guid(r, "@guid")
		p, _ := r.Param("@data")
		if p.Type != "varbinary" {
			f.t.Errorf("rtcdbtest: @data sent as %s, want varbinary", p.Type)
		}
		d, _ := p.Value.([]byte)
		f.txAdded[g] = bytes.Clone(d)
		return tdstest.Affected(1)
	}
	if _, ok := db(reResource); ok {
		p, _ := r.Param("@uah")
		var rows [][]any
		for _, row := range f.Resources {
			if row[1] == p.Value {
				rows = append(rows, row)
			}
		}
		return tdstest.Rows([]tdstest.Column{{Name: "ResourceId", Type: tdstest.BigInt}, {Name: "UserAtHost", Type: tdstest.NVarChar}}, rows...)
	}
	if _, ok := db(rePhone); ok {
		p, _ := r.Param("@pattern")
		pattern, _ := p.Value.(string)
		needle := strings.Trim(pattern, "%")
		var rows [][]any
		for _, row := range f.Phones {
			if s, _ := row[1].(string); strings.Contains(s, needle) {
				rows = append(rows, row)
			}
		}
		return tdstest.Rows([]tdstest.Column{{Name: "ResourceId", Type: tdstest.BigInt}, {Name: "PhoneNum", Type: tdstest.NVarChar},
			{Name: "UserAtHost", Type: tdstest.NVarChar}}, rows...)
	}
	f.t.Errorf("rtcdbtest: unexpected request %s", r)
	return tdstest.Fail(102, "rtcdbtest: unexpected statement")
}

func firstMatch(s string, res ...*regexp.Regexp) (string, bool) {
	for _, re := range res {
		if m := re.FindStringSubmatch(s); m != nil {
			return m[1], true
		}
	}
	return "", false
}

// guid returns the uniqueidentifier parameter name; anything else fails the test.
func (f *Fake) guid(r *tdstest.Request, name string) ldapsync.GUID {
	p, ok := r.Param(name)
	g, isGUID := p.Value.([16]byte)
	if !ok || p.Type != "uniqueidentifier" || !isGUID {
		f.t.Errorf("rtcdbtest: %q: parameter %s is not a uniqueidentifier: %+v", r.SQL, name, r.Params)
	}
	return ldapsync.GUID(g)
}

func (f *Fake) visible(g ldapsync.GUID) ([]byte, bool) {
	if d, ok := f.txAdded[g]; ok {
		return d, true
	}
	d, ok := f.entries[g]
	return d, ok && !f.txDeleted[g]
}

var infoColumns = []tdstest.Column{
	{Name: "TABLE_NAME", Type: tdstest.NVarChar}, {Name: "COLUMN_NAME", Type: tdstest.NVarChar},
	{Name: "DATA_TYPE", Type: tdstest.NVarChar}, {Name: "CHARACTER_MAXIMUM_LENGTH", Type: tdstest.Int},
}
