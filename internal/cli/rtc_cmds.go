package cli

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/abkit/abkit/rtcdb"
	"github.com/spf13/cobra"
)

// newCmdRTC is the `abkit rtc` group: the OCS back-end SQL Server database.
func newCmdRTC(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rtc",
		Short: "Inspect the OCS / Lync back-end databases; delete and restore AbUserEntry rows safely",
		Long: `Talk to the OCS 2007 R2 / Lync / Skype for Business back-end SQL Server (the rtc database, or
rtcab): discover the server and the address book tables and their layout (rtc on OCS 2007 R2,
rtcab with AbDnMapping on Lync 2010 and later), read AbAttribute and AbUserEntry, look up
rtc.dbo.Resource and rtc.dbo.ResourcePhone, and delete AbUserEntry rows — the last step of the
duplicate SIP address fix — in one checked transaction with a backup file that 'abkit rtc restore'
puts back. With front_ends the rtc section names a pool: its back end plus each Front End's
<server>\RTCLOCAL instance; info and entry then read every copy, and delete and restore act on
every copy, each with its own backup.

The connection comes from the rtc section of the configuration file (server, instance or port,
database, auth sql|ntlm|kerberos|current-user, user, password_env or password_file, encrypt, tls_min, ca_file)
or from a go-mssqldb DSN in the variable named by dsn_env.`,
	}
	cmd.AddCommand(
		newCmdRTCInfo(f, nil),
		newCmdRTCAttributes(f, nil),
		newCmdRTCEntry(f, nil),
		newCmdRTCResource(f, nil),
		newCmdRTCDelete(f, nil),
		newCmdRTCRestore(f, nil),
	)
	return cmd
}

// rtcInfoOptions are the options of `abkit rtc info`.
type rtcInfoOptions struct {
	f   *Factory
	ctx context.Context
}

func newCmdRTCInfo(f *Factory, runF func(*rtcInfoOptions) error) *cobra.Command {
	opts := &rtcInfoOptions{f: f}
	return &cobra.Command{
		Use:   "info",
		Short: "Server version and edition, where AbUserEntry lives, its column types and row counts",
		Long: withExitStatus(`Discover the back end: SQL Server version and edition, which database holds AbUserEntry and
AbAttribute (the configured database, then rtc, then rtcab), the table layout found there (rtc:
OCS 2007 R2; rtcab: Lync 2010 and later, with AbUserEntry.UserId and AbDnMapping) and what it was
decided from, column types, and row counts. An unknown layout is reported with what was seen.
On a pool, every copy. Exits 1 when something would make 'abkit rtc delete' and 'restore' refuse
to run.`),
		Example: `  abkit rtc info --config abkit.yaml
  abkit rtc info -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return rtcInfoRun(opts)
		},
	}
}

func rtcInfoRun(opts *rtcInfoOptions) error {
	f := opts.f
	if p, err := f.rtcPool(opts.ctx); err != nil || p != nil {
		if err != nil {
			return err
		}
		defer p.Close()
		return rtcInfoPoolRun(f, opts.ctx, p)
	}
	db, err := f.openRTC(opts.ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	disc, err := db.Discover(opts.ctx)
	if err != nil {
		return err
	}
	var counts *rtcdb.Counts
	if disc.Database != "" && disc.Layout != rtcdb.LayoutUnknown {
		if counts, err = db.Counts(opts.ctx); err != nil {
			return err
		}
	}
	t := Table{Columns: []string{"item", "value"}}
	t.Append("server", disc.Server)
	t.Append("version", disc.Version)
	t.Append("edition", disc.Edition)
	for _, c := range disc.Candidates {
		var has []string
		if c.HasEntry {
			has = append(has, rtcdb.TableEntry)
		}
		if c.HasAttribute {
			has = append(has, rtcdb.TableAttribute)
		}
		state := "does not exist"
		if c.Exists {
			state = "exists, tables: " + orNone(strings.Join(has, ", "))
		}
		t.Append("database "+c.Name, state)
	}
	t.Append("address book database", orNone(disc.Database))
	t.Append("layout", layoutText(disc))
	t.Append("seen", disc.Seen)
	for _, c := range disc.Columns {
		t.Append("column "+c.Table+"."+c.Name, c.DataType+maxLenText(c.MaxLength))
	}
	if counts != nil {
		t.Append("rows AbUserEntry", strconv.FormatInt(counts.Entries, 10))
		t.Append("rows AbAttribute", strconv.FormatInt(counts.Attributes, 10))
		t.Append("rows AbDnMapping", strconv.FormatInt(counts.DnMappings, 10))
	}
	for _, p := range disc.Problems {
		t.Append("problem", p)
	}
	if err := f.writeData(t, map[string]any{"discovery": disc, "counts": counts}); err != nil {
		return err
	}
	for _, p := range disc.Problems {
		fmt.Fprintf(f.IO.ErrOut, "abkit: %s\n", p)
	}
	return findings(len(disc.Problems), "discovery problems: delete and restore would refuse to run")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func maxLenText(n int64) string {
	switch {
	case n == -1:
		return "(max)"
	case n > 0 && n < 1<<31-1:
		return "(" + strconv.FormatInt(n, 10) + ")"
	}
	return ""
}

// rtcAttributesOptions are the options of `abkit rtc attributes`.
type rtcAttributesOptions struct {
	f   *Factory
	ctx context.Context
}

func newCmdRTCAttributes(f *Factory, runF func(*rtcAttributesOptions) error) *cobra.Command {
	opts := &rtcAttributesOptions{f: f}
	return &cobra.Command{
		Use:   "attributes",
		Short: "List AbAttribute: the attributes User Replicator copies, with decoded Flags",
		Long: withExitStatus(`List the AbAttribute rows (ID, Name, Flags, and Enable where the table has it: Lync 2013
and later) with Flags decoded: the client field (high byte), the value type (low byte) and the
option bits between them. Unknown values are shown as numbers. On a pool, the back end's rows.`),
		Example: `  abkit rtc attributes
  abkit rtc attributes -o csv > attributes.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return rtcAttributesRun(opts)
		},
	}
}

// openRTCBackEnd opens the configured database, or the back end of the configured pool; close
// releases it.
func (f *Factory) openRTCBackEnd(ctx context.Context) (db *rtcdb.DB, close func() error, err error) {
	p, err := f.rtcPool(ctx)
	if err != nil {
		return nil, nil, err
	}
	if p != nil {
		if db, err = backEnd(p); err != nil {
			_ = p.Close()
			return nil, nil, err
		}
		return db, p.Close, nil
	}
	if db, err = f.openRTC(ctx); err != nil {
		return nil, nil, err
	}
	return db, db.Close, nil
}

func rtcAttributesRun(opts *rtcAttributesOptions) error {
	db, closeDB, err := opts.f.openRTCBackEnd(opts.ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	attrs, err := db.Attributes(opts.ctx)
	if err != nil {
		return err
	}
	t := Table{Columns: []string{"id", "name", "flags", "client_field", "value_type", "options", "enable"}}
	type jsonAttr struct {
		rtcdb.Attribute
		FlagsHex    string   `json:"flags_hex"`
		ClientField string   `json:"client_field"`
		ValueType   string   `json:"value_type"`
		Options     []string `json:"options"`
	}
	js := []jsonAttr{}
	for _, a := range attrs {
		hexFlags := fmt.Sprintf("0x%08X", uint32(a.Flags))
		enable := "(no column)"
		if a.Enable != nil {
			enable = strconv.FormatBool(*a.Enable)
		}
		t.Append(strconv.FormatInt(a.ID, 10), a.Name, hexFlags, a.Flags.ClientFieldName(), a.Flags.ValueTypeName(),
			strings.Join(a.Flags.Options(), ", "), enable)
		js = append(js, jsonAttr{a, hexFlags, a.Flags.ClientFieldName(), a.Flags.ValueTypeName(), a.Flags.Options()})
	}
	return opts.f.writeData(t, js)
}

// rtcEntryOptions are the options of `abkit rtc entry`.
type rtcEntryOptions struct {
	f     *Factory
	ctx   context.Context
	GUIDs []string
}

func newCmdRTCEntry(f *Factory, runF func(*rtcEntryOptions) error) *cobra.Command {
	opts := &rtcEntryOptions{f: f}
	cmd := &cobra.Command{
		Use:   "entry --guid GUID...",
		Short: "Show the AbUserEntry rows of objectGUIDs: present, size, SHA-256, addresses found",
		Long: withExitStatus(`Show whether AbUserEntry holds a row for each GUID (an AD objectGUID, the ContactId of the
address book files), with the size and SHA-256 of its UserData, and in the rtcab layout (Lync 2010
and later) its UserId and the AD DN from AbDnMapping. On a pool, every copy: where a row exists
and whether the copies agree. The addresses column lists the
sip:, smtp: and tel: strings found inside UserData by a heuristic scan: UserData's format is
undocumented, so treat them as hints.`),
		Example: `  abkit rtc entry --guid 96bd221f-8492-4450-abb2-2bd6828db27a
  abkit rtc entry --guid 96bd221f-8492-4450-abb2-2bd6828db27a,0f6b1b0e-3c4c-4f83-9c56-5c0f6c2b1a11 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.GUIDs) == 0 {
				return usageError(cmd, "--guid is required")
			}
			opts.ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return rtcEntryRun(opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.GUIDs, "guid", nil, "objectGUID (repeatable, or comma-separated)")
	return cmd
}

func rtcEntryRun(opts *rtcEntryOptions) error {
	guids, err := rtcdb.ParseGUIDs(opts.GUIDs)
	if err != nil {
		return err
	}
	if p, err := opts.f.rtcPool(opts.ctx); err != nil || p != nil {
		if err != nil {
			return err
		}
		defer p.Close()
		return rtcEntryPoolRun(opts.f, opts.ctx, p, guids)
	}
	db, err := opts.f.openRTC(opts.ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	entries := []*rtcdb.Entry{}
	for _, g := range guids {
		e, err := db.Entry(opts.ctx, g)
		if err != nil {
			return err
		}
		entries = append(entries, e)
	}
	t := entryTable(entries, nil)
	return opts.f.writeData(t, entries)
}

// entryTable lists entries; status, when not nil, adds a status column.
func entryTable(entries []*rtcdb.Entry, status func(*rtcdb.Entry) string) Table {
	t := Table{Columns: []string{"guid", "present", "size", "sha256", "addresses_heuristic"}}
	if status != nil {
		t.Columns = append(t.Columns, "status")
	}
	// The rtcab layout (Lync 2010 and later) adds UserId and the AD DN from AbDnMapping.
	ab := slices.ContainsFunc(entries, func(e *rtcdb.Entry) bool { return e.UserID != nil })
	if ab {
		t.Columns = append(t.Columns, "user_id", "ad_dn")
	}
	for _, e := range entries {
		row := []string{e.GUID.String(), strconv.FormatBool(e.Present), strconv.FormatInt(e.Size, 10), e.SHA256,
			strings.Join(e.Addresses, " ")}
		if status != nil {
			row = append(row, status(e))
		}
		if ab {
			id := ""
			if e.UserID != nil {
				id = strconv.FormatInt(*e.UserID, 10)
			}
			row = append(row, id, strings.Join(e.ADDN, "; "))
		}
		t.Append(row...)
	}
	return t
}

// rtcResourceOptions are the options of `abkit rtc resource`.
type rtcResourceOptions struct {
	f     *Factory
	ctx   context.Context
	SIP   string
	Phone string
}

func newCmdRTCResource(f *Factory, runF func(*rtcResourceOptions) error) *cobra.Command {
	opts := &rtcResourceOptions{f: f}
	cmd := &cobra.Command{
		Use:   "resource --sip ADDRESS | --phone NUMBER",
		Short: "Look up rtc.dbo.Resource by SIP address or rtc.dbo.ResourcePhone by number",
		Long: withExitStatus(`Find a leftover user record (rtc.dbo.Resource, UserAtHost is the SIP address without sip:;
give it with or without sip:) or who uses a phone number (rtc.dbo.ResourcePhone rows whose
PhoneNum contains NUMBER). Both tables are read from the rtc database on OCS and Lync alike; on a
pool, from the back end.`),
		Example: `  abkit rtc resource --sip sip:alice@contoso.com
  abkit rtc resource --phone 4255550100`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (opts.SIP == "") == (opts.Phone == "") {
				return usageError(cmd, "give exactly one of --sip and --phone")
			}
			opts.ctx = cmd.Context()
			if runF != nil {
				return runF(opts)
			}
			return rtcResourceRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.SIP, "sip", "", "SIP address (user@host, sip: optional)")
	cmd.Flags().StringVar(&opts.Phone, "phone", "", "phone number or part of it")
	return cmd
}

func rtcResourceRun(opts *rtcResourceOptions) error {
	db, closeDB, err := opts.f.openRTCBackEnd(opts.ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	if opts.SIP != "" {
		res, err := db.ResourcesBySIP(opts.ctx, opts.SIP)
		if err != nil {
			return err
		}
		t := Table{Columns: []string{"resource_id", "user_at_host"}}
		for _, r := range res {
			t.Append(r.ID, r.UserAtHost)
		}
		return opts.f.writeData(t, res)
	}
	phones, err := db.PhonesByNumber(opts.ctx, opts.Phone)
	if err != nil {
		return err
	}
	t := Table{Columns: []string{"resource_id", "phone_num", "user_at_host"}}
	for _, p := range phones {
		t.Append(p.ID, p.PhoneNum, p.UserAtHost)
	}
	return opts.f.writeData(t, phones)
}
