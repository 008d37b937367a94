// Package rtcdbtest is a fake OCS / Lync back end for tests of rtcdb and of the commands built on
// it: a tdstest responder (the real go-mssqldb driver connects to it over loopback TCP) whose
// handler answers the statements rtcdb sends with canned rows kept in maps. New gives the OCS 2007
// R2 layout (database rtc), NewRTCAB the Lync 2010+ layout (database rtcab, AbUserEntry.UserId,
// AbDnMapping, AbAttribute.Enable); a pool is several fakes, one per instance.
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

	"github.com/abkit/abkit/rtcdb/internal/tdstest"
)

// Fake is a running fake back end. Set its exported fields before the first connection.
type Fake struct {
	Srv *tdstest.Server

	EntryDB   string             // the database holding the address book tables (default rtc)
	AB        bool               // the rtcab layout: rows carry a UserId and AbDnMapping rows
	Identity  bool               // rtcab: AbUserEntry.UserId is an IDENTITY column
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
	entries   map[GUID][]byte  // committed AbUserEntry rows
	userIDs   map[GUID]int64   // rtcab: committed AbUserEntry.UserId
	dns       map[int64]string // rtcab: committed AbDnMapping rows (one per UserId)
	txDeleted map[GUID]bool
	txAdded   map[GUID][]byte
	txIDs     map[GUID]int64
	txDnDel   map[int64]bool
	txDnAdd   map[int64]string
	txLog     []string
	hooks     []hook
}

// GUID is a UserGuid in Windows layout; rtcdb.GUID converts to it.
type GUID = [16]byte

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
		entries:   map[GUID][]byte{},
		userIDs:   map[GUID]int64{},
		dns:       map[int64]string{},
	}
	f.Srv = tdstest.Start(t, f.handle)
	return f
}

// Columns of the rtcab layout (Lync 2010 and later) as INFORMATION_SCHEMA reports them.
var (
	EntryColumnsAB = [][]any{
		{"AbUserEntry", "UserId", "int", nil},
		{"AbUserEntry", "UserGuid", "uniqueidentifier", nil},
		{"AbUserEntry", "UserData", "varbinary", int64(-1)},
	}
	DnMappingColumns = [][]any{
		{"AbDnMapping", "UserId", "int", nil},
		{"AbDnMapping", "AdDn", "nvarchar", int64(2048)},
	}
	AttributeColumnsAB = [][]any{
		{"AbAttribute", "ID", "int", nil},
		{"AbAttribute", "Name", "nvarchar", int64(256)},
		{"AbAttribute", "Flags", "int", nil},
		{"AbAttribute", "Enable", "bit", nil},
	}
)

// NewRTCAB starts a fake holding the rtcab layout in database rtcab (rtc exists, with Resource
// and ResourcePhone only): AbUserEntry with UserId, AbDnMapping, AbAttribute with Enable.
func NewRTCAB(t testing.TB) *Fake {
	f := New(t)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.EntryDB, f.AB = "rtcab", true
	f.Columns = map[string][][]any{"rtcab": concat(AttributeColumnsAB, DnMappingColumns, EntryColumnsAB)}
	f.Attrs = [][]any{
		{1, "msExchHideFromAddressLists", int64(int32(-16777213)), true},
		{4, "displayName", 0x03020000, true},
		{19, "proxyAddresses", 0x00500105, false},
	}
	return f
}

func concat(parts ...[][]any) [][]any {
	var out [][]any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Port is the responder's TCP port on 127.0.0.1.
func (f *Fake) Port() int { return f.Srv.Port() }

// Seed adds a committed AbUserEntry row (in the rtcab layout with UserId 1000 + the number of
// rows so far, and no AbDnMapping row).
func (f *Fake) Seed(g GUID, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[g] = bytes.Clone(data)
	f.userIDs[g] = int64(1000 + len(f.userIDs))
}

// SeedAB adds a committed rtcab row: AbUserEntry (id, g, data) and, when dn is not empty, its
// AbDnMapping row.
func (f *Fake) SeedAB(g GUID, id int64, data []byte, dn string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries[g] = bytes.Clone(data)
	f.userIDs[g] = id
	if dn != "" {
		f.dns[id] = dn
	}
}

// Row returns the committed UserData of g.
func (f *Fake) Row(g GUID) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.entries[g]
	return d, ok
}

// RowAB returns the committed UserId of g and the AdDn of that UserId ("" when none).
func (f *Fake) RowAB(g GUID) (id int64, dn string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok = f.entries[g]; !ok {
		return 0, "", false
	}
	id = f.userIDs[g]
	return id, f.dns[id], true
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

// ClearFault removes the fault FailOn or DropOn injected.
func (f *Fake) ClearFault() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Fault = nil
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
	reColumns  = regexp.MustCompile(`^SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH FROM \[(\w+)\]\.INFORMATION_SCHEMA\.COLUMNS WHERE TABLE_SCHEMA = N'dbo' AND TABLE_NAME IN \(N'AbUserEntry', N'AbAttribute', N'AbDnMapping'\) ORDER BY TABLE_NAME, ORDINAL_POSITION$`)
	reAttrs    = regexp.MustCompile(`^SELECT ID, Name, Flags(, Enable)? FROM \[(\w+)\]\.\[dbo\]\.\[AbAttribute\] ORDER BY ID$`)
	reEntryAB  = regexp.MustCompile(`^SELECT e\.UserId, e\.UserData, m\.AdDn FROM \[(\w+)\]\.\[dbo\]\.\[AbUserEntry\] AS e LEFT JOIN \[\w+\]\.\[dbo\]\.\[AbDnMapping\] AS m ON m\.UserId = e\.UserId WHERE e\.UserGuid = @guid ORDER BY m\.AdDn$`)
	reLockAB   = regexp.MustCompile(`^SELECT UserId, UserData FROM \[(\w+)\]\.\[dbo\]\.\[AbUserEntry\] WITH \(UPDLOCK, HOLDLOCK\) WHERE UserGuid = @guid$`)
	reLockDn   = regexp.MustCompile(`^SELECT AdDn FROM \[(\w+)\]\.\[dbo\]\.\[AbDnMapping\] WITH \(UPDLOCK, HOLDLOCK\) WHERE UserId = @uid ORDER BY AdDn$`)
	reDeleteDn = regexp.MustCompile(`^DELETE FROM \[(\w+)\]\.\[dbo\]\.\[AbDnMapping\] WHERE UserId = @uid$`)
	reInsertAB = regexp.MustCompile(`^(SET IDENTITY_INSERT \[(\w+)\]\.\[dbo\]\.\[AbUserEntry\] ON; )?INSERT INTO \[(\w+)\]\.\[dbo\]\.\[AbUserEntry\] \(UserId, UserGuid, UserData\) VALUES \(@uid, @guid, @data\)(; SET IDENTITY_INSERT \[\w+\]\.\[dbo\]\.\[AbUserEntry\] OFF)?$`)
	reInsertDn = regexp.MustCompile(`^INSERT INTO \[(\w+)\]\.\[dbo\]\.\[AbDnMapping\] \(UserId, AdDn\) VALUES \(@uid, @dn\)$`)
	reCountDn  = regexp.MustCompile(`^SELECT COUNT_BIG\(\*\) FROM \[(\w+)\]\.\[dbo\]\.\[AbDnMapping\]$`)
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
	qIdent  = "SELECT COLUMNPROPERTY(OBJECT_ID(@obj), N'UserId', 'IsIdentity') AS is_identity"
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
		f.txDeleted, f.txAdded, f.txIDs = map[GUID]bool{}, map[GUID][]byte{}, map[GUID]int64{}
		f.txDnDel, f.txDnAdd = map[int64]bool{}, map[int64]string{}
		f.txLog = append(f.txLog, "begin")
		return tdstest.Response{}
	case tdstest.Commit:
		for g := range f.txDeleted {
			delete(f.entries, g)
		}
		for g, d := range f.txAdded {
			f.entries[g] = d
			if id, ok := f.txIDs[g]; ok {
				f.userIDs[g] = id
			}
		}
		for id := range f.txDnDel {
			delete(f.dns, id)
		}
		for id, dn := range f.txDnAdd {
			f.dns[id] = dn
		}
		f.txDeleted, f.txAdded, f.txIDs, f.txDnDel, f.txDnAdd = nil, nil, nil, nil, nil
		f.txLog = append(f.txLog, "commit")
		return tdstest.Response{}
	case tdstest.Rollback:
		f.txDeleted, f.txAdded, f.txIDs, f.txDnDel, f.txDnAdd = nil, nil, nil, nil, nil
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
	if name, ok := firstMatch(r.SQL, reEntry, rePresent, reCount, reDelete, reInsert, reEntryAB, reLockAB, reLockDn,
		reDeleteDn, reInsertDn, reCountDn); ok && name != f.EntryDB {
		return tdstest.Fail(208, "Invalid object name '"+name+".dbo.AbUserEntry'.")
	}
	if m := reAttrs.FindStringSubmatch(r.SQL); m != nil && m[2] != f.EntryDB {
		return tdstest.Fail(208, "Invalid object name '"+m[2]+".dbo.AbAttribute'.")
	}
	if m := reInsertAB.FindStringSubmatch(r.SQL); m != nil && m[3] != f.EntryDB {
		return tdstest.Fail(208, "Invalid object name '"+m[3]+".dbo.AbUserEntry'.")
	}
	if resp, ok := f.statementAB(r); ok {
		return resp
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
	if m := reAttrs.FindStringSubmatch(r.SQL); m != nil {
		cols := []tdstest.Column{{Name: "ID", Type: tdstest.Int}, {Name: "Name", Type: tdstest.NVarChar}, {Name: "Flags", Type: tdstest.Int}}
		var rows [][]any
		for _, a := range f.Attrs {
			row := a[:3]
			if m[1] != "" {
				if len(a) < 4 {
					f.t.Errorf("rtcdbtest: Enable asked for, but the fake's AbAttribute has none")
				}
				en := int64(0)
				if b, _ := a[3].(bool); b {
					en = 1
				}
				row = append(append([]any{}, a[:3]...), en)
			}
			rows = append(rows, row)
		}
		if m[1] != "" {
			cols = append(cols, tdstest.Column{Name: "Enable", Type: tdstest.Int})
		}
		return tdstest.Rows(cols, rows...)
	}
	if m := reEntry.FindStringSubmatch(r.SQL); m != nil {
		if f.AB {
			f.t.Errorf("rtcdbtest: %q on the rtcab layout: the AbDnMapping rows would be missed", r.SQL)
		}
		if m[2] != "" && r.TranID == 0 {
			f.t.Errorf("rtcdbtest: locked read outside a transaction")
		}
		if m[2] == "" && r.TranID != 0 {
			f.t.Errorf("rtcdbtest: a read inside a transaction without UPDLOCK, HOLDLOCK")
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
		if f.AB {
			f.t.Errorf("rtcdbtest: %q on the rtcab layout: no UserId", r.SQL)
		}
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

// statementAB answers the statements of the rtcab layout; the lock is held.
func (f *Fake) statementAB(r *tdstest.Request) (tdstest.Response, bool) {
	inTx := func() bool {
		if r.TranID == 0 || f.txDeleted == nil {
			f.t.Errorf("rtcdbtest: %q outside a transaction", r.SQL)
			return false
		}
		return true
	}
	noTx := tdstest.Fail(3902, "no transaction")
	switch {
	case r.SQL == qIdent:
		v := int64(0)
		if f.Identity {
			v = 1
		}
		return tdstest.Rows([]tdstest.Column{{Name: "is_identity", Type: tdstest.Int}}, []any{v}), true
	case reEntryAB.MatchString(r.SQL):
		if r.TranID != 0 {
			f.t.Errorf("rtcdbtest: a read inside a transaction without UPDLOCK, HOLDLOCK")
		}
		cols := []tdstest.Column{{Name: "UserId", Type: tdstest.Int}, {Name: "UserData", Type: tdstest.VarBinaryMax}, {Name: "AdDn", Type: tdstest.NVarChar}}
		g := f.guid(r, "@guid")
		d, ok := f.visible(g)
		if !ok {
			return tdstest.Rows(cols), true
		}
		id := f.userID(g)
		var dn any
		if s, ok := f.dnOf(id); ok {
			dn = s
		}
		return tdstest.Rows(cols, []any{id, d, dn}), true
	case reLockAB.MatchString(r.SQL):
		if !inTx() {
			return noTx, true
		}
		cols := []tdstest.Column{{Name: "UserId", Type: tdstest.Int}, {Name: "UserData", Type: tdstest.VarBinaryMax}}
		g := f.guid(r, "@guid")
		if d, ok := f.visible(g); ok {
			return tdstest.Rows(cols, []any{f.userID(g), d}), true
		}
		return tdstest.Rows(cols), true
	case reLockDn.MatchString(r.SQL):
		if !inTx() {
			return noTx, true
		}
		cols := []tdstest.Column{{Name: "AdDn", Type: tdstest.NVarChar}}
		if dn, ok := f.dnOf(f.intParam(r, "@uid")); ok {
			return tdstest.Rows(cols, []any{dn}), true
		}
		return tdstest.Rows(cols), true
	case reDeleteDn.MatchString(r.SQL):
		if !inTx() {
			return noTx, true
		}
		id := f.intParam(r, "@uid")
		if _, ok := f.dnOf(id); !ok {
			return tdstest.Affected(0), true
		}
		delete(f.txDnAdd, id)
		f.txDnDel[id] = true
		return tdstest.Affected(1), true
	case reInsertAB.MatchString(r.SQL):
		if !inTx() {
			return noTx, true
		}
		if m := reInsertAB.FindStringSubmatch(r.SQL); (m[1] != "") != f.Identity {
			f.t.Errorf("rtcdbtest: %q: SET IDENTITY_INSERT is wanted exactly when UserId is an IDENTITY column (%v)", r.SQL, f.Identity)
		}
		g := f.guid(r, "@guid")
		p, _ := r.Param("@data")
		d, _ := p.Value.([]byte)
		f.txAdded[g] = bytes.Clone(d)
		f.txIDs[g] = f.intParam(r, "@uid")
		return tdstest.Affected(1), true
	case reInsertDn.MatchString(r.SQL):
		if !inTx() {
			return noTx, true
		}
		p, _ := r.Param("@dn")
		dn, _ := p.Value.(string)
		f.txDnAdd[f.intParam(r, "@uid")] = dn
		return tdstest.Affected(1), true
	case reCountDn.MatchString(r.SQL):
		return tdstest.Rows([]tdstest.Column{{Name: "", Type: tdstest.BigInt}}, []any{int64(len(f.dns))}), true
	}
	return tdstest.Response{}, false
}

// userID is the visible UserId of g.
func (f *Fake) userID(g GUID) int64 {
	if id, ok := f.txIDs[g]; ok {
		return id
	}
	return f.userIDs[g]
}

// dnOf is the visible AbDnMapping row of id.
func (f *Fake) dnOf(id int64) (string, bool) {
	if dn, ok := f.txDnAdd[id]; ok {
		return dn, true
	}
	dn, ok := f.dns[id]
	return dn, ok && !f.txDnDel[id]
}

// intParam returns an integer parameter; anything else fails the test.
func (f *Fake) intParam(r *tdstest.Request, name string) int64 {
	p, ok := r.Param(name)
	v, isInt := p.Value.(int64)
	if !ok || !isInt {
		f.t.Errorf("rtcdbtest: %q: parameter %s is not an integer: %+v", r.SQL, name, r.Params)
	}
	return v
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
func (f *Fake) guid(r *tdstest.Request, name string) GUID {
	p, ok := r.Param(name)
	g, isGUID := p.Value.([16]byte)
	if !ok || p.Type != "uniqueidentifier" || !isGUID {
		f.t.Errorf("rtcdbtest: %q: parameter %s is not a uniqueidentifier: %+v", r.SQL, name, r.Params)
	}
	return g
}

func (f *Fake) visible(g GUID) ([]byte, bool) {
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
