package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/abkit/abkit/abs"
	"github.com/spf13/cobra"
)

type absFindOptions struct {
	f     *Factory
	Path  string
	SIP   string
	Name  string
	Phone string
	GUID  string
}

func newCmdAbsFind(f *Factory, runF func(*absFindOptions) error) *cobra.Command {
	opts := &absFindOptions{f: f}
	cmd := &cobra.Command{
		Use:   "find FILE (--sip ADDR | --name TEXT | --phone NUMBER | --guid GUID)...",
		Short: "Find contacts by SIP address, name, phone number or ContactId",
		Long: withExitStatus(`Find the contacts of an address book file that match every criterion given:

  --sip ADDR      a SIP address (msRTCSIP-PrimaryUserAddress or a sip: proxyAddresses value);
                  the sip: prefix is optional; case is ignored
  --name TEXT     part of displayName, givenName, sn, mailNickname or "givenName sn"; case is ignored
  --phone NUMBER  a phone number: its digits are compared with the digits of every phone value, raw,
                  normalized, and normalized by the file's own rules; they match when equal or
                  when one ends with the other (7 digits at least), so "555-533-4312",
                  "+1 (555) 533 4312" and an extension the rules expand find the same entry
  --guid GUID     the ContactId (objectGUID), with or without braces

Each match is listed with its ContactId, type (user, contact, group or deleted), display name, SIP
addresses, OU path id and record offset; -o json gives the full contacts in the shape of
'abs dump -o json'.

Searching is not auditing: finding nothing is not an error. The exit status is 0 whether or not
something matched ("no match" is said on stderr), so that scripts can tell a search that ran from
one that failed (exit 2 or 3).`),
		Example: `  abkit abs find F-0A8C.lsabs --sip ann.berg@contoso.com
  abkit abs find F-0A8C.lsabs --name "berg" --phone 4444
  abkit abs find F-0A8C.lsabs --guid 96bd221f-8492-4450-abb2-2bd6828db27a -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			if opts.SIP == "" && opts.Name == "" && opts.Phone == "" && opts.GUID == "" {
				return usageError(cmd, "give at least one of --sip, --name, --phone and --guid")
			}
			if runF != nil {
				return runF(opts)
			}
			return absFindRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.SIP, "sip", "", "SIP address (sip: optional)")
	fl.StringVar(&opts.Name, "name", "", "part of a name")
	fl.StringVar(&opts.Phone, "phone", "", "phone number, raw or normalized")
	fl.StringVar(&opts.GUID, "guid", "", "ContactId (objectGUID)")
	return cmd
}

func absFindRun(ctx context.Context, opts *absFindOptions) error {
	f := opts.f
	q := abs.Query{SIP: opts.SIP, Name: opts.Name, Phone: opts.Phone}
	if opts.GUID != "" {
		id, err := abs.ParseGUID(opts.GUID)
		if err != nil {
			return badInputf("--guid: %w", err)
		}
		q.ID, q.HasID = id, true
	}
	af, err := f.openABS(ctx, opts.Path)
	if err != nil {
		return err
	}
	defer af.Close()
	if q.Phone != "" {
		if q.Rules, err = af.rules(); err != nil {
			fmt.Fprintf(f.IO.ErrOut, "warning: %v; matching phone digits without the rules\n", err)
		}
	}
	t := af.Table()
	if f.format() == FormatJSON {
		return findJSON(f, af, &q)
	}
	tbl := Table{Columns: []string{"contact_id", "type", "name", "sip", "ou_path_id", "offset"}}
	readErr := af.eachContact(func(c *abs.Contact) error {
		if q.Match(c, t) {
			tbl.Append(c.ID.String(), contactType(c, t), contactLabel(c, t), strings.Join(c.SIPAddresses(t), " "),
				strconv.FormatUint(uint64(c.OuPathID), 10), strconv.FormatInt(c.Offset, 10))
		}
		return nil
	})
	if len(tbl.Rows) > 0 {
		if err := f.writeData(tbl, nil); err != nil {
			return runtimeFailure(err)
		}
	}
	return findDone(f, len(tbl.Rows), readErr)
}

// findJSON streams the matching contacts as one JSON array, in the shape of dump -o json.
func findJSON(f *Factory, af *absFile, q *abs.Query) error {
	t := af.Table()
	n, err := dumpJSON(af, f.IO.Out, func(c *abs.Contact) bool { return q.Match(c, t) }, false)
	return findDone(f, n, err)
}

// findDone reports the end of a search: the read error if any, else "no match" on stderr when
// nothing matched (exit 0 either way).
func findDone(f *Factory, matches int, readErr error) error {
	if readErr != nil {
		return readErr
	}
	if matches == 0 {
		fmt.Fprintln(f.IO.ErrOut, "no match")
	}
	return nil
}
