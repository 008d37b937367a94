package rtcdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Table and column names this package relies on.
const (
	TableEntry     = "AbUserEntry"
	TableAttribute = "AbAttribute"
	TableDnMapping = "AbDnMapping" // Lync 2010 and later: UserId to the object's AD DN
)

// Layout is the shape of the address book tables, found by the tables and columns that exist.
type Layout string

// Layouts Discover recognizes.
const (
	// LayoutRTC is OCS 2007 / 2007 R2: AbUserEntry(UserGuid, UserData), AbAttribute(ID, Name,
	// Flags), no AbDnMapping.
	LayoutRTC Layout = "rtc"
	// LayoutRTCAB is Lync Server 2010 and later (and Skype for Business Server): AbUserEntry(UserId,
	// UserGuid, UserData), AbDnMapping(UserId, AdDn), AbAttribute with or without Enable.
	LayoutRTCAB Layout = "rtcab"
	// LayoutUnknown is any other combination: reads and writes of entries are refused.
	LayoutUnknown Layout = "unknown"
)

// Product names the server products a layout belongs to.
func (l Layout) Product() string {
	switch l {
	case LayoutRTC:
		return "OCS 2007 / 2007 R2"
	case LayoutRTCAB:
		return "Lync Server 2010 and later, Skype for Business Server"
	}
	return "unknown"
}

// Column is one column of the address book tables as INFORMATION_SCHEMA.COLUMNS reports it.
type Column struct {
	Table     string `json:"table"`
	Name      string `json:"name"`
	DataType  string `json:"data_type"`
	MaxLength int64  `json:"max_length"` // CHARACTER_MAXIMUM_LENGTH: -1 = (max), 0 = not applicable
}

// Candidate is one database Discover looked at.
type Candidate struct {
	Name         string `json:"name"`
	Exists       bool   `json:"exists"`
	HasEntry     bool   `json:"has_ab_user_entry"`
	HasAttribute bool   `json:"has_ab_attribute"`
	HasDnMapping bool   `json:"has_ab_dn_mapping"`
}

// Discovery is what Discover learnt about the server.
type Discovery struct {
	Server     string      `json:"server"`
	Version    string      `json:"version"`    // SERVERPROPERTY('ProductVersion'), e.g. 9.00.4035.00
	Edition    string      `json:"edition"`    // SERVERPROPERTY('Edition')
	Candidates []Candidate `json:"candidates"` // looked at in order, up to the one holding AbUserEntry
	// Database is the first candidate holding AbUserEntry, "" when none does.
	Database string   `json:"database"`
	Columns  []Column `json:"columns"` // of AbUserEntry, AbAttribute and AbDnMapping in Database
	// Layout is the table layout found in Database; Seen says what it was decided from.
	Layout Layout `json:"layout"`
	Seen   string `json:"layout_seen"`
	// UserIDIdentity is true when AbUserEntry.UserId (rtcab layout) is an IDENTITY column: Restore
	// then inserts with SET IDENTITY_INSERT.
	UserIDIdentity bool `json:"user_id_identity"`
	// Problems say why Delete and Restore refuse to run; empty when they may.
	Problems []string `json:"problems"`
}

// Discovery statements. DB_ID, COLUMNPROPERTY and INFORMATION_SCHEMA exist on every SQL Server
// since 2000.
const (
	qServer  = "SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS version, CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition"
	qDBID    = "SELECT DB_ID(@db) AS id"
	qColumns = "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH FROM [%s].INFORMATION_SCHEMA.COLUMNS " +
		"WHERE TABLE_SCHEMA = N'dbo' AND TABLE_NAME IN (N'AbUserEntry', N'AbAttribute', N'AbDnMapping') ORDER BY TABLE_NAME, ORDINAL_POSITION"
	qIdentity = "SELECT COLUMNPROPERTY(OBJECT_ID(@obj), N'UserId', 'IsIdentity') AS is_identity"
)

// Discover reads the server version and edition, finds the database holding AbUserEntry (the
// first of: the configured database, rtc, rtcab), decides its Layout from the tables and columns
// that exist there, and checks their column types. The result is kept: later reads use its
// Database and Layout; reads of entries refuse an unknown layout, and Delete and Restore refuse
// to run when its Problems are not empty.
func (d *DB) Discover(ctx context.Context) (*Discovery, error) {
	disc := &Discovery{Server: d.server}
	cctx, cancel := d.call(ctx)
	defer cancel()
	var ver, ed sql.NullString
	if err := d.db.QueryRowContext(cctx, qServer).Scan(&ver, &ed); err != nil {
		return nil, classify(err, "discover", d.server, d.database, "SERVERPROPERTY")
	}
	disc.Version, disc.Edition = ver.String, ed.String

	for _, name := range candidates(d.database) {
		c := Candidate{Name: name}
		cols, exists, err := d.columns(ctx, name)
		if err != nil {
			return nil, err
		}
		c.Exists = exists
		for _, col := range cols {
			c.HasEntry = c.HasEntry || col.Table == TableEntry
			c.HasAttribute = c.HasAttribute || col.Table == TableAttribute
			c.HasDnMapping = c.HasDnMapping || col.Table == TableDnMapping
		}
		disc.Candidates = append(disc.Candidates, c)
		if c.HasEntry {
			disc.Database, disc.Columns = name, cols
			break // later candidates are not needed (and may not be open to this login)
		}
	}
	disc.Layout, disc.Seen = decideLayout(disc)
	if disc.Layout == LayoutRTCAB {
		var err error
		if disc.UserIDIdentity, err = d.identity(ctx, disc.Database); err != nil {
			return nil, err
		}
	}
	disc.Problems = checkColumns(disc)
	d.disc = disc
	return disc, nil
}

func candidates(configured string) []string {
	var out []string
	for _, n := range []string{configured, "rtc", "rtcab"} {
		dup := false
		for _, o := range out {
			dup = dup || strings.EqualFold(o, n)
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}

// columns returns the AbUserEntry and AbAttribute columns of database db, and whether db exists.
func (d *DB) columns(ctx context.Context, db string) ([]Column, bool, error) {
	cctx, cancel := d.call(ctx)
	defer cancel()
	var id sql.NullInt64
	if err := d.db.QueryRowContext(cctx, qDBID, sql.Named("db", db)).Scan(&id); err != nil {
		return nil, false, classify(err, "discover", d.server, db, "DB_ID")
	}
	if !id.Valid {
		return nil, false, nil
	}
	rows, err := d.db.QueryContext(cctx, fmt.Sprintf(qColumns, db))
	if err != nil {
		return nil, true, classify(err, "discover", d.server, db, "INFORMATION_SCHEMA.COLUMNS")
	}
	defer rows.Close()
	var cols []Column
	for rows.Next() {
		var c Column
		var ml sql.NullInt64
		if err := rows.Scan(&c.Table, &c.Name, &c.DataType, &ml); err != nil {
			return nil, true, classify(err, "discover", d.server, db, "INFORMATION_SCHEMA.COLUMNS")
		}
		c.MaxLength = ml.Int64
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, true, classify(err, "discover", d.server, db, "INFORMATION_SCHEMA.COLUMNS")
	}
	return cols, true, nil
}

// identity reports whether AbUserEntry.UserId of database db is an IDENTITY column.
func (d *DB) identity(ctx context.Context, db string) (bool, error) {
	cctx, cancel := d.call(ctx)
	defer cancel()
	var v sql.NullInt64
	if err := d.db.QueryRowContext(cctx, qIdentity, sql.Named("obj", table(db, TableEntry))).Scan(&v); err != nil {
		return false, classify(err, "discover", d.server, db, "COLUMNPROPERTY")
	}
	return v.Int64 == 1, nil
}

// decideLayout names the layout of disc.Database and what it was decided from.
func decideLayout(disc *Discovery) (Layout, string) {
	if disc.Database == "" {
		return LayoutUnknown, "no " + TableEntry + " table"
	}
	var seen []string
	for _, t := range []string{TableEntry, TableDnMapping, TableAttribute} {
		var names []string
		for _, c := range disc.Columns {
			if c.Table == t {
				names = append(names, c.Name)
			}
		}
		if names == nil {
			seen = append(seen, "no "+t)
		} else {
			seen = append(seen, t+"("+strings.Join(names, ", ")+")")
		}
	}
	text := strings.Join(seen, ", ")
	userID := disc.column(TableEntry, "UserId") != nil
	mapping := disc.column(TableDnMapping, "UserId") != nil && disc.column(TableDnMapping, "AdDn") != nil
	anyMapping := false
	for _, c := range disc.Columns {
		anyMapping = anyMapping || c.Table == TableDnMapping
	}
	enable := disc.column(TableAttribute, "Enable") != nil
	switch {
	case !userID && !anyMapping && !enable:
		return LayoutRTC, text
	case userID && mapping:
		return LayoutRTCAB, text
	}
	return LayoutUnknown, text
}

// knownLayouts describes the layouts Discover recognizes, for the refusal of an unknown one.
const knownLayouts = "abkit knows rtc (OCS 2007 R2: AbUserEntry(UserGuid, UserData), no AbDnMapping, AbAttribute without Enable) " +
	"and rtcab (Lync 2010 and later: AbUserEntry(UserId, UserGuid, UserData), AbDnMapping(UserId, AdDn))"

// checkColumns lists what keeps Delete and Restore from running.
func checkColumns(disc *Discovery) []string {
	if disc.Database == "" {
		var names []string
		for _, c := range disc.Candidates {
			names = append(names, c.Name)
		}
		return []string{fmt.Sprintf("no database among %s holds dbo.%s", strings.Join(names, ", "), TableEntry)}
	}
	if disc.Layout == LayoutUnknown {
		return []string{fmt.Sprintf("unknown table layout in database %s: saw %s; %s", disc.Database, disc.Seen, knownLayouts)}
	}
	var problems []string
	guid, data := disc.column(TableEntry, "UserGuid"), disc.column(TableEntry, "UserData")
	switch {
	case guid == nil:
		problems = append(problems, "dbo.AbUserEntry has no UserGuid column")
	case !strings.EqualFold(guid.DataType, "uniqueidentifier"):
		problems = append(problems, fmt.Sprintf("dbo.AbUserEntry.UserGuid is %s, expected uniqueidentifier", guid.DataType))
	}
	switch {
	case data == nil:
		problems = append(problems, "dbo.AbUserEntry has no UserData column")
	case strings.EqualFold(data.DataType, "image"):
	case strings.EqualFold(data.DataType, "varbinary") && data.MaxLength == -1:
	default:
		problems = append(problems, fmt.Sprintf("dbo.AbUserEntry.UserData is %s, expected image or varbinary(max)", typeText(*data)))
	}
	expected := map[string]bool{TableEntry + ".UserGuid": true, TableEntry + ".UserData": true}
	if disc.Layout == LayoutRTCAB {
		for _, c := range [][2]string{{TableEntry, "UserId"}, {TableDnMapping, "UserId"}} {
			if col := disc.column(c[0], c[1]); !isInteger(col.DataType) {
				problems = append(problems, fmt.Sprintf("dbo.%s.%s is %s, expected int or bigint", c[0], c[1], typeText(*col)))
			}
		}
		if col := disc.column(TableDnMapping, "AdDn"); !isText(col.DataType) {
			problems = append(problems, fmt.Sprintf("dbo.%s.AdDn is %s, expected nvarchar or varchar", TableDnMapping, typeText(*col)))
		}
		expected[TableEntry+".UserId"], expected[TableDnMapping+".UserId"], expected[TableDnMapping+".AdDn"] = true, true, true
	}
	for _, c := range disc.Columns {
		if (c.Table == TableEntry || c.Table == TableDnMapping) && !expected[c.Table+"."+c.Name] {
			problems = append(problems, fmt.Sprintf("dbo.%s has an unexpected column %s (%s): a restore could not recreate its rows", c.Table, c.Name, typeText(c)))
		}
	}
	return problems
}

func isInteger(t string) bool { return strings.EqualFold(t, "int") || strings.EqualFold(t, "bigint") }

func isText(t string) bool {
	return strings.EqualFold(t, "nvarchar") || strings.EqualFold(t, "varchar")
}

func (disc *Discovery) column(tableName, name string) *Column {
	for i := range disc.Columns {
		c := &disc.Columns[i]
		if c.Table == tableName && strings.EqualFold(c.Name, name) {
			return c
		}
	}
	return nil
}

func typeText(c Column) string {
	switch {
	case c.MaxLength == -1:
		return c.DataType + "(max)"
	case c.MaxLength > 0 && c.MaxLength < 1<<31-1:
		return fmt.Sprintf("%s(%d)", c.DataType, c.MaxLength)
	}
	return c.DataType
}

// Writable returns nil when Delete and Restore may run, else a KindRefused error naming every
// problem.
func (disc *Discovery) Writable() error {
	if len(disc.Problems) == 0 {
		return nil
	}
	return &Error{Op: "check", Server: disc.Server, Database: disc.Database, Object: "dbo." + TableEntry,
		Kind: KindRefused, Err: errors.New(strings.Join(disc.Problems, "; ")),
		Hint: "destructive operations run only against the documented table layout"}
}

// discovered returns the kept discovery, running Discover first when needed.
func (d *DB) discovered(ctx context.Context) (*Discovery, error) {
	if d.disc != nil {
		return d.disc, nil
	}
	return d.Discover(ctx)
}

// writableDB returns the discovery of the database holding AbUserEntry when Delete and Restore
// may write to it, else the KindRefused error of Discovery.Writable.
func (d *DB) writableDB(ctx context.Context) (*Discovery, error) {
	disc, err := d.discovered(ctx)
	if err != nil {
		return nil, err
	}
	if err := disc.Writable(); err != nil {
		return nil, err
	}
	return disc, nil
}

// entryDB returns the discovery of the database holding AbUserEntry: a KindNoObject error when
// there is none, a KindRefused one when its layout is unknown.
func (d *DB) entryDB(ctx context.Context, op string) (*Discovery, error) {
	disc, err := d.discovered(ctx)
	if err != nil {
		return nil, err
	}
	if disc.Database == "" {
		return nil, &Error{Op: op, Server: d.server, Database: d.database, Object: "dbo." + TableEntry, Kind: KindNoObject,
			Err: errors.New(disc.Problems[0])}
	}
	if disc.Layout == LayoutUnknown {
		return nil, &Error{Op: op, Server: d.server, Database: disc.Database, Object: "dbo." + TableEntry, Kind: KindRefused,
			Err: errors.New(disc.Problems[0]), Hint: "abkit reads and writes only the layouts it knows"}
	}
	return disc, nil
}
