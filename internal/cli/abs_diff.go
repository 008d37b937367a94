package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/abkit/abkit/abs"
	"github.com/spf13/cobra"
)

type absDiffOptions struct {
	f       *Factory
	OldPath string
	NewPath string
}

func newCmdAbsDiff(f *Factory, runF func(*absDiffOptions) error) *cobra.Command {
	opts := &absDiffOptions{f: f}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show the contacts added, removed and changed between two address book files",
		Long: withExitStatus(`Compare two address book files (normally the full files of two days) contact by contact,
matched by ContactId, and list the contacts added, removed and changed; for a changed contact, each
attribute whose values differ (matched by name) with its old and new values. A change of the OU path
is shown as the attribute ouPathId. Deleted-object records of delta files count as absent.

One row per added or removed contact and per changed attribute: change, contact_id, type, name
(displayName, else the SIP address), attribute, old and new values (several values joined by
" | "). -o json gives one object per contact with the attribute changes as lists.

Like diff(1), the exit status is 1 when the files differ and 0 when they do not. Both files are
read into memory.`),
		Example: `  abkit abs diff F-0A8B.lsabs F-0A8C.lsabs
  abkit abs diff -o json F-0A8B.lsabs F-0A8C.lsabs | jq '.[] | select(.change == "removed")'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.OldPath, opts.NewPath = args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return absDiffRun(cmd.Context(), opts)
		},
	}
	return cmd
}

type absDiffJSON struct {
	Change     string            `json:"change"`
	ContactID  string            `json:"contact_id"`
	Type       string            `json:"type"`
	Name       string            `json:"name"`
	Attributes []absDiffAttrJSON `json:"attributes,omitempty"`
}

type absDiffAttrJSON struct {
	Name string   `json:"name"`
	Old  []string `json:"old"`
	New  []string `json:"new"`
}

func absDiffRun(ctx context.Context, opts *absDiffOptions) error {
	f := opts.f
	oldFile, err := f.openABS(ctx, opts.OldPath)
	if err != nil {
		return err
	}
	defer oldFile.Close()
	newFile, err := f.openABS(ctx, opts.NewPath)
	if err != nil {
		return err
	}
	defer newFile.Close()
	oldTable, newTable := oldFile.Table(), newFile.Table()
	changes, err := abs.ChangesStream(oldFile.Reader, newFile.Reader)
	var side *abs.SideError
	if errors.As(err, &side) {
		path := opts.OldPath
		if side.New {
			path = opts.NewPath
		}
		return fmt.Errorf("%s: %w", path, side.Err)
	}
	if err != nil {
		return err
	}
	t := Table{Columns: []string{"change", "contact_id", "type", "name", "attribute", "old", "new"}}
	js := make([]absDiffJSON, 0, len(changes))
	for _, ch := range changes {
		c, tbl := ch.New, newTable
		if c == nil {
			c, tbl = ch.Old, oldTable
		}
		j := absDiffJSON{Change: string(ch.Kind), ContactID: ch.ID.String(), Type: contactType(c, tbl), Name: contactLabel(c, tbl)}
		if ch.Kind != abs.Changed {
			t.Append(j.Change, j.ContactID, j.Type, j.Name, "", "", "")
		}
		for _, a := range ch.Attrs {
			ja := absDiffAttrJSON{Name: a.Name, Old: valueTexts(a.Old), New: valueTexts(a.New)}
			j.Attributes = append(j.Attributes, ja)
			t.Append(j.Change, j.ContactID, j.Type, j.Name, a.Name, strings.Join(ja.Old, " | "), strings.Join(ja.New, " | "))
		}
		js = append(js, j)
	}
	if err := f.writeData(t, js); err != nil {
		return runtimeFailure(err)
	}
	return findings(len(changes), fmt.Sprintf("contact(s) differ between %s and %s", opts.OldPath, opts.NewPath))
}

// contactLabel names a contact for people: its displayName, else its first SIP address, else "".
func contactLabel(c *abs.Contact, t *abs.Table) string {
	if s, ok := c.First(t, "displayName"); ok {
		return s
	}
	if sips := c.SIPAddresses(t); len(sips) > 0 {
		return "sip:" + sips[0]
	}
	return ""
}

// valueTexts formats records as the dump does, a normalized copy marked as such.
func valueTexts(vs []abs.Value) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		s := v.Text()
		if v.Kind == abs.ValueNormalized {
			s += " (normalized)"
		}
		out = append(out, s)
	}
	return out
}
