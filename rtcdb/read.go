package rtcdb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Attribute is one AbAttribute row.
type Attribute struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Flags Flags  `json:"flags"`
	// Enable is the Enable column of Lync 2013 and later; nil when the table has none.
	Enable *bool `json:"enable,omitempty"`
}

// Entry is what the database holds for one GUID in AbUserEntry.
type Entry struct {
	GUID    GUID   `json:"guid"`
	Present bool   `json:"present"`
	Size    int64  `json:"size"`   // bytes of UserData
	SHA256  string `json:"sha256"` // of UserData, hex; "" when absent
	// Addresses are the sip:/smtp:/tel: strings found in UserData by a heuristic scan
	// (FindAddresses); UserData's format is undocumented.
	Addresses []string `json:"addresses_heuristic"`
	// UserID is AbUserEntry.UserId and ADDN the AbDnMapping.AdDn values of that UserId (rtcab
	// layout only; nil otherwise).
	UserID *int64   `json:"user_id,omitempty"`
	ADDN   []string `json:"ad_dn,omitempty"`

	data []byte
}

// Counts are row counts of the address book tables; -1 when the table is absent.
type Counts struct {
	Database   string `json:"database"`
	Entries    int64  `json:"ab_user_entry"`
	Attributes int64  `json:"ab_attribute"`
	DnMappings int64  `json:"ab_dn_mapping"`
}

// Resource is a row of rtc.dbo.Resource.
type Resource struct {
	ID         string `json:"resource_id"`
	UserAtHost string `json:"user_at_host"`
}

// ResourcePhone is a row of rtc.dbo.ResourcePhone with the owner's SIP address when known.
type ResourcePhone struct {
	ID         string `json:"resource_id"`
	PhoneNum   string `json:"phone_num"`
	UserAtHost string `json:"user_at_host"`
}

const (
	qAttributes  = "SELECT ID, Name, Flags FROM %s ORDER BY ID"
	qAttributesE = "SELECT ID, Name, Flags, Enable FROM %s ORDER BY ID"
	qEntry       = "SELECT UserData FROM %s WHERE UserGuid = @guid"
	qEntryAB     = "SELECT e.UserId, e.UserData, m.AdDn FROM %s AS e LEFT JOIN %s AS m ON m.UserId = e.UserId WHERE e.UserGuid = @guid ORDER BY m.AdDn"
	qPresent     = "SELECT UserGuid FROM %s WHERE UserGuid IN (%s)"
	qCount       = "SELECT COUNT_BIG(*) FROM %s"
	qResource    = "SELECT ResourceId, UserAtHost FROM %s WHERE UserAtHost = @uah ORDER BY ResourceId"
	qPhone       = "SELECT p.ResourceId, p.PhoneNum, r.UserAtHost FROM %s AS p LEFT JOIN %s AS r ON r.ResourceId = p.ResourceId WHERE p.PhoneNum LIKE @pattern ESCAPE N'\\' ORDER BY p.PhoneNum"
	presentBatch = 200 // GUID parameters per EntriesPresent statement (SQL Server allows 2100)
)

// Attributes returns the AbAttribute rows in ID order, with Enable where the table has it.
func (d *DB) Attributes(ctx context.Context) ([]Attribute, error) {
	disc, err := d.entryDB(ctx, "read attributes")
	if err != nil {
		return nil, err
	}
	db, obj := disc.Database, "dbo."+TableAttribute
	enable := disc.column(TableAttribute, "Enable") != nil
	q := qAttributes
	if enable {
		q = qAttributesE
	}
	cctx, cancel := d.call(ctx)
	defer cancel()
	rows, err := d.db.QueryContext(cctx, fmt.Sprintf(q, table(db, TableAttribute)))
	if err != nil {
		return nil, classify(err, "read attributes", d.server, db, obj)
	}
	defer rows.Close()
	var out []Attribute
	for rows.Next() {
		var a Attribute
		var name sql.NullString
		var flags int64
		var en any
		dest := []any{&a.ID, &name, &flags}
		if enable {
			dest = append(dest, &en)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, classify(err, "read attributes", d.server, db, obj)
		}
		a.Name, a.Flags = name.String, Flags(uint32(flags))
		if enable {
			a.Enable = enableValue(en)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err, "read attributes", d.server, db, obj)
	}
	return out, nil
}

// enableValue reads an Enable column: bit, or an integer (non-zero is true); nil for NULL.
func enableValue(v any) *bool {
	var b bool
	switch v := v.(type) {
	case bool:
		b = v
	case int64:
		b = v != 0
	default:
		return nil
	}
	return &b
}

// Entry reads the AbUserEntry row of g, with its AbDnMapping rows in the rtcab layout. A GUID
// without a row is returned with Present false.
func (d *DB) Entry(ctx context.Context, g GUID) (*Entry, error) {
	disc, err := d.entryDB(ctx, "read entry")
	if err != nil {
		return nil, err
	}
	if disc.Layout == LayoutRTCAB {
		return d.entryAB(ctx, disc.Database, g)
	}
	return d.entry(ctx, d.db, qEntry, disc.Database, g)
}

// entryAB reads the AbUserEntry row of g joined to its AbDnMapping rows.
func (d *DB) entryAB(ctx context.Context, db string, g GUID) (*Entry, error) {
	cctx, cancel := d.call(ctx)
	defer cancel()
	op, obj := "read entry "+g.String(), "dbo."+TableEntry
	rows, err := d.db.QueryContext(cctx, fmt.Sprintf(qEntryAB, table(db, TableEntry), table(db, TableDnMapping)), sql.Named("guid", uid(g)))
	if err != nil {
		return nil, classify(err, op, d.server, db, obj)
	}
	defer rows.Close()
	e := &Entry{GUID: g}
	for rows.Next() {
		var id int64
		var data []byte
		var dn sql.NullString
		if err := rows.Scan(&id, &data, &dn); err != nil {
			return nil, classify(err, op, d.server, db, obj)
		}
		if !e.Present {
			e = newEntry(g, data)
			e.UserID = &id
		}
		if dn.Valid {
			e.ADDN = append(e.ADDN, dn.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err, op, d.server, db, obj)
	}
	return e, nil
}

// querier is what Entry needs of *sql.DB and *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// entry reads the AbUserEntry row of g (rtc layout) with stmt: qEntry, or qEntryLocked in a
// transaction.
func (d *DB) entry(ctx context.Context, q querier, stmt, db string, g GUID) (*Entry, error) {
	cctx, cancel := d.call(ctx)
	defer cancel()
	var data []byte
	err := q.QueryRowContext(cctx, fmt.Sprintf(stmt, table(db, TableEntry)), sql.Named("guid", uid(g))).Scan(&data)
	switch {
	case err == sql.ErrNoRows:
		return &Entry{GUID: g}, nil
	case err != nil:
		return nil, classify(err, "read entry "+g.String(), d.server, db, "dbo."+TableEntry)
	}
	return newEntry(g, data), nil
}

// newEntry describes a present row with UserData data.
func newEntry(g GUID, data []byte) *Entry {
	sum := sha256.Sum256(data)
	return &Entry{GUID: g, Present: true, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]),
		Addresses: FindAddresses(data), data: data}
}

// EntriesPresent reports for each GUID whether AbUserEntry has a row for it.
func (d *DB) EntriesPresent(ctx context.Context, guids []GUID) (map[GUID]bool, error) {
	disc, err := d.entryDB(ctx, "check entries")
	if err != nil {
		return nil, err
	}
	db := disc.Database
	out := make(map[GUID]bool, len(guids))
	for _, g := range guids {
		out[g] = false
	}
	for start := 0; start < len(guids); start += presentBatch {
		batch := guids[start:min(start+presentBatch, len(guids))]
		names := make([]string, len(batch))
		args := make([]any, len(batch))
		for i, g := range batch {
			names[i] = "@g" + strconv.Itoa(i)
			args[i] = sql.Named("g"+strconv.Itoa(i), uid(g))
		}
		if err := d.present(ctx, db, strings.Join(names, ", "), args, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (d *DB) present(ctx context.Context, db, names string, args []any, out map[GUID]bool) error {
	cctx, cancel := d.call(ctx)
	defer cancel()
	obj := "dbo." + TableEntry
	rows, err := d.db.QueryContext(cctx, fmt.Sprintf(qPresent, table(db, TableEntry), names), args...)
	if err != nil {
		return classify(err, "check entries", d.server, db, obj)
	}
	defer rows.Close()
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return classify(err, "check entries", d.server, db, obj)
		}
		g, err := guidFromColumn(raw)
		if err != nil {
			return classify(err, "check entries", d.server, db, obj)
		}
		if _, asked := out[g]; asked {
			out[g] = true
		}
	}
	if err := rows.Err(); err != nil {
		return classify(err, "check entries", d.server, db, obj)
	}
	return nil
}

// Counts counts the rows of AbUserEntry, AbAttribute and AbDnMapping.
func (d *DB) Counts(ctx context.Context) (*Counts, error) {
	disc, err := d.entryDB(ctx, "count")
	if err != nil {
		return nil, err
	}
	db := disc.Database
	c := &Counts{Database: db, Attributes: -1, DnMappings: -1}
	if c.Entries, err = d.count(ctx, db, TableEntry); err != nil {
		return nil, err
	}
	for _, cand := range disc.Candidates {
		if cand.Name != db {
			continue
		}
		if cand.HasAttribute {
			if c.Attributes, err = d.count(ctx, db, TableAttribute); err != nil {
				return nil, err
			}
		}
		if cand.HasDnMapping {
			if c.DnMappings, err = d.count(ctx, db, TableDnMapping); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

func (d *DB) count(ctx context.Context, db, name string) (int64, error) {
	cctx, cancel := d.call(ctx)
	defer cancel()
	var n int64
	if err := d.db.QueryRowContext(cctx, fmt.Sprintf(qCount, table(db, name))).Scan(&n); err != nil {
		return 0, classify(err, "count", d.server, db, "dbo."+name)
	}
	return n, nil
}

// resourceDB is the rtc database (Resource and ResourcePhone never move to rtcab).
func (d *DB) resourceDB() string {
	if strings.EqualFold(d.database, "rtcab") {
		return DefaultDatabase
	}
	return d.database
}

// ResourcesBySIP returns the rtc.dbo.Resource rows whose UserAtHost is sip (a leading "sip:"
// is removed first).
func (d *DB) ResourcesBySIP(ctx context.Context, sip string) ([]Resource, error) {
	uah := strings.TrimSpace(sip)
	if len(uah) >= 4 && strings.EqualFold(uah[:4], "sip:") {
		uah = uah[4:]
	}
	if uah == "" || !strings.Contains(uah, "@") {
		return nil, badInput("read resource", "SIP address %q: want user@host", sip)
	}
	db, obj := d.resourceDB(), "dbo.Resource"
	cctx, cancel := d.call(ctx)
	defer cancel()
	rows, err := d.db.QueryContext(cctx, fmt.Sprintf(qResource, table(db, "Resource")), sql.Named("uah", uah))
	if err != nil {
		return nil, classify(err, "read resource", d.server, db, obj)
	}
	defer rows.Close()
	var out []Resource
	for rows.Next() {
		var id any
		var name sql.NullString
		if err := rows.Scan(&id, &name); err != nil {
			return nil, classify(err, "read resource", d.server, db, obj)
		}
		out = append(out, Resource{ID: anyText(id), UserAtHost: name.String})
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err, "read resource", d.server, db, obj)
	}
	return out, nil
}

// PhonesByNumber returns the rtc.dbo.ResourcePhone rows whose PhoneNum contains number.
func (d *DB) PhonesByNumber(ctx context.Context, number string) ([]ResourcePhone, error) {
	n := strings.TrimSpace(number)
	if n == "" {
		return nil, badInput("read phone", "empty phone number")
	}
	pattern := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`, "[", `\[`).Replace(n) + "%"
	db, obj := d.resourceDB(), "dbo.ResourcePhone"
	cctx, cancel := d.call(ctx)
	defer cancel()
	rows, err := d.db.QueryContext(cctx, fmt.Sprintf(qPhone, table(db, "ResourcePhone"), table(db, "Resource")),
		sql.Named("pattern", pattern))
	if err != nil {
		return nil, classify(err, "read phone", d.server, db, obj)
	}
	defer rows.Close()
	var out []ResourcePhone
	for rows.Next() {
		var id, num any
		var uah sql.NullString
		if err := rows.Scan(&id, &num, &uah); err != nil {
			return nil, classify(err, "read phone", d.server, db, obj)
		}
		out = append(out, ResourcePhone{ID: anyText(id), PhoneNum: anyText(num), UserAtHost: uah.String})
	}
	if err := rows.Err(); err != nil {
		return nil, classify(err, "read phone", d.server, db, obj)
	}
	return out, nil
}

// anyText renders a column of unknown type: integers in decimal, 16-byte values as GUIDs, other
// bytes in hex.
func anyText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []byte:
		if g, err := guidFromColumn(v); err == nil {
			return g.String()
		}
		return hex.EncodeToString(v)
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}
