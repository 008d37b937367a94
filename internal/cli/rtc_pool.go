package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/abkit/abkit/rtcdb"
)

// The rtc commands on a pool (the rtc section names front_ends): every copy is read, and delete
// and restore act on every copy, each with its own backup.

// rtcPool opens the configured pool; nil when the configuration names no front_ends.
func (f *Factory) rtcPool(ctx context.Context) (*rtcdb.Pool, error) {
	name, members, err := f.rtcPoolMembers()
	if err != nil || members == nil {
		return nil, err
	}
	return f.openRTCPool(ctx, name, members)
}

// backEnd returns the pool's back end (the first copy), or why it could not be opened.
func backEnd(p *rtcdb.Pool) (*rtcdb.DB, error) {
	if c := p.Copies[0]; c.Err != nil {
		return nil, c.Err
	}
	return p.Copies[0].DB, nil
}

func rtcInfoPoolRun(f *Factory, ctx context.Context, p *rtcdb.Pool) error {
	cds, derr := p.Discover(ctx)
	t := Table{Columns: []string{"copy", "role", "item", "value"}}
	problems := 0
	layouts := map[rtcdb.Layout]bool{}
	for _, cd := range cds {
		add := func(item, value string) { t.Append(cd.Copy, cd.Role, item, value) }
		if cd.Error != "" {
			add("error", cd.Error)
			continue
		}
		d := cd.Discovery
		add("version", d.Version)
		add("address book database", orNone(d.Database))
		add("layout", layoutText(d))
		add("seen", d.Seen)
		layouts[d.Layout] = true
		if c := cd.Counts; c != nil {
			add("rows AbUserEntry", strconv.FormatInt(c.Entries, 10))
			add("rows AbDnMapping", strconv.FormatInt(c.DnMappings, 10))
		}
		for _, pr := range d.Problems {
			add("problem", pr)
			problems++
		}
	}
	if err := f.writeData(t, map[string]any{"pool": p.Name, "copies": cds}); err != nil {
		return err
	}
	if len(layouts) > 1 {
		fmt.Fprintln(f.IO.ErrOut, "abkit: the copies of the pool have different table layouts")
		problems++
	}
	if derr != nil {
		return derr // a copy could not be read: a runtime failure, not a finding
	}
	return findings(problems, "pool discovery problems: delete and restore would refuse on some copy")
}

// layoutText names a discovered layout and the product it belongs to.
func layoutText(d *rtcdb.Discovery) string {
	return string(d.Layout) + " (" + d.Layout.Product() + ")"
}

func rtcEntryPoolRun(f *Factory, ctx context.Context, p *rtcdb.Pool, guids []rtcdb.GUID) error {
	pes, err := p.Entries(ctx, guids)
	t := Table{Columns: []string{"guid", "copy", "present", "size", "sha256", "ad_dn", "copies_agree"}}
	disagree := 0
	for _, pe := range pes {
		if !pe.Agree {
			disagree++
		}
		for _, ce := range pe.Copies {
			if ce.Entry == nil {
				t.Append(pe.GUID.String(), ce.Copy, "error: "+ce.Error, "", "", "", strconv.FormatBool(pe.Agree))
				continue
			}
			e := ce.Entry
			t.Append(pe.GUID.String(), ce.Copy, strconv.FormatBool(e.Present), strconv.FormatInt(e.Size, 10), e.SHA256,
				strings.Join(e.ADDN, "; "), strconv.FormatBool(pe.Agree))
		}
	}
	if werr := f.writeData(t, pes); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	if disagree > 0 {
		fmt.Fprintf(f.IO.ErrOut, "abkit: the copies disagree about %d GUID(s)\n", disagree)
	}
	return nil
}

func rtcDeletePoolRun(f *Factory, ctx context.Context, p *rtcdb.Pool, guids []rtcdb.GUID, index string, yes bool) error {
	res, derr := p.Delete(ctx, guids, index, !yes)
	if res == nil {
		return derr
	}
	t := Table{Columns: []string{"copy", "role", "guid", "present", "ad_dn", "status", "backup"}}
	for _, cd := range res.Copies {
		if cd.Result == nil || len(cd.Result.Entries) == 0 {
			t.Append(cd.Copy, cd.Role, "", "", "", cd.Status+errText(cd.Error), cd.Backup)
			continue
		}
		for _, e := range cd.Result.Entries {
			t.Append(cd.Copy, cd.Role, e.GUID.String(), strconv.FormatBool(e.Present), strings.Join(e.ADDN, "; "),
				cd.Status+errText(cd.Error), cd.Backup)
		}
	}
	if err := f.writeData(t, res); err != nil {
		return err
	}
	e := f.IO.ErrOut
	switch {
	case res.DryRun && derr == nil:
		fmt.Fprintf(e, "dry run: nothing was deleted; run again with --yes to delete from %d copies (a backup file per copy is written first)\n", len(res.Copies))
		return nil
	case res.DryRun || res.Index == "":
		return derr
	}
	fmt.Fprintf(e, "backup index: %s\n", res.Index)
	fmt.Fprintf(e, "changed copies: %s\n", orNone(strings.Join(res.Changed, ", ")))
	if len(res.Failed) > 0 {
		fmt.Fprintf(e, "abkit: FAILED copies (not changed, or unknown where the status says so): %s\n", strings.Join(res.Failed, ", "))
	}
	if len(res.FollowUp) > 0 {
		fmt.Fprintln(e, "Next steps:")
		for _, s := range res.FollowUp {
			fmt.Fprintf(e, "  - %s\n", s)
		}
	}
	return derr
}

func errText(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// rtcRestorePoolRun restores a pool backup index on every copy, or a single copy's backup on the
// copy whose server it names.
func rtcRestorePoolRun(f *Factory, ctx context.Context, p *rtcdb.Pool, path string, yes bool) error {
	if rtcdb.IsPoolBackup(path) {
		res, rerr := p.Restore(ctx, path, !yes)
		if res == nil {
			return rerr
		}
		t := Table{Columns: []string{"copy", "guid", "action"}}
		for _, cr := range res.Copies {
			if cr.Result == nil {
				t.Append(cr.Copy, "", "FAILED: "+cr.Error)
				continue
			}
			restoreRows(cr.Result, func(g, action string) { t.Append(cr.Copy, g, action) })
		}
		if err := f.writeData(t, res); err != nil {
			return err
		}
		if !res.DryRun {
			fmt.Fprintf(f.IO.ErrOut, "restored into: %s\n", orNone(strings.Join(res.Restored, ", ")))
		}
		return rerr
	}
	b, err := rtcdb.ReadBackup(path)
	if err != nil {
		return err
	}
	for _, c := range p.Copies {
		if strings.EqualFold(c.Name, b.Server) {
			if c.Err != nil {
				return c.Err
			}
			return rtcRestoreWith(f, ctx, c.DB, path, yes)
		}
	}
	return badInput(errors.New("the backup is of server " + b.Server + ", which is not a copy of the configured pool"))
}
