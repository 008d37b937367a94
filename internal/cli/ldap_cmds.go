package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
	"github.com/spf13/cobra"
)

func newCmdLdap(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ldap",
		Short: "Read Active Directory forests (live over LDAP, or LDIF snapshots)",
		Long: `Read the user and resource forests named in the configuration file: over LDAP (ldaps:// or
StartTLS, simple, NTLM or Kerberos binds, paged searches), or from LDIF snapshots. Passwords come
from an environment variable, a file or a terminal prompt, never from the command line.`,
	}
	cmd.AddCommand(newCmdLdapPing(f, nil), newCmdLdapExport(f, nil), newCmdLdapFind(f, nil))
	return cmd
}

type ldapPingOptions struct {
	f      *Factory
	forest forestFlags
}

func newCmdLdapPing(f *Factory, runF func(*ldapPingOptions) error) *cobra.Command {
	opts := &ldapPingOptions{f: f}
	cmd := &cobra.Command{
		Use:   "ping --forest NAME",
		Short: "Connect and bind to a forest and show the server's facts",
		Long: withExitStatus(`Connect to a forest, bind, and show the rootDSE facts (naming contexts, DNS host name,
vendor, paging support), the identity the server bound us as, the transport (plain, starttls,
ldaps) and the latency. For an LDIF snapshot forest, show the file and its number of entries.`),
		Example: `  abkit ldap ping --forest userforest
  abkit ldap ping --forest resforest -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return ldapPingRun(cmd.Context(), opts)
		},
	}
	addForestFlags(cmd, &opts.forest)
	return cmd
}

// pingResult is `abkit ldap ping` in JSON.
type pingResult struct {
	Forest               string   `json:"forest"`
	Source               string   `json:"source"` // live or snapshot
	URL                  string   `json:"url,omitempty"`
	File                 string   `json:"file,omitempty"`
	Entries              int      `json:"entries,omitempty"`
	Transport            string   `json:"transport,omitempty"`
	BoundAs              string   `json:"bound_as,omitempty"`
	Base                 string   `json:"base"`
	NamingContexts       []string `json:"naming_contexts,omitempty"`
	DefaultNamingContext string   `json:"default_naming_context,omitempty"`
	DNSHostName          string   `json:"dns_host_name,omitempty"`
	Vendor               string   `json:"vendor,omitempty"`
	PagingSupported      bool     `json:"paging_supported"`
	SASLMechanisms       []string `json:"sasl_mechanisms,omitempty"`
	ConnectMillis        float64  `json:"connect_ms,omitempty"`
	RoundTripMillis      float64  `json:"round_trip_ms,omitempty"`
}

func ldapPingRun(ctx context.Context, opts *ldapPingOptions) error {
	f := opts.f
	src, err := f.openForest(ctx, opts.forest, ldapsync.NopProgress)
	if err != nil {
		return err
	}
	defer src.Close()
	res, err := pingSource(ctx, src)
	if err != nil {
		return err
	}
	t := Table{Columns: []string{"fact", "value"}} // facts named like the JSON keys
	add := func(k, v string) {
		if v != "" {
			t.Append(k, v)
		}
	}
	add("forest", res.Forest)
	add("source", res.Source)
	add("url", res.URL)
	add("file", res.File)
	if res.Source == "snapshot" {
		add("entries", strconv.Itoa(res.Entries))
	}
	add("transport", res.Transport)
	add("bound_as", res.BoundAs)
	add("base", res.Base)
	add("naming_contexts", strings.Join(res.NamingContexts, "; "))
	add("default_naming_context", res.DefaultNamingContext)
	add("dns_host_name", res.DNSHostName)
	add("vendor", res.Vendor)
	if res.Source == "live" {
		add("paging_supported", strconv.FormatBool(res.PagingSupported))
		add("sasl_mechanisms", strings.Join(res.SASLMechanisms, " "))
		add("connect_ms", fmt.Sprintf("%.1f", res.ConnectMillis))
		add("round_trip_ms", fmt.Sprintf("%.1f", res.RoundTripMillis))
	}
	return f.writeData(t, res)
}

// pingSource gathers the facts of an open source; for a live forest it also asks who we are,
// which times one round trip.
func pingSource(ctx context.Context, src ldapsync.EntrySearcher) (*pingResult, error) {
	res := &pingResult{Forest: src.Name(), Base: src.BaseDN()}
	switch s := src.(type) {
	case *ldapsync.Snapshot:
		res.Source, res.File, res.Entries = "snapshot", s.Path(), s.Len()
	case *ldapsync.Forest:
		res.Source, res.Transport = "live", s.Transport()
		res.ConnectMillis = float64(s.ConnectLatency().Microseconds()) / 1000
		start := time.Now()
		who, err := s.WhoAmI(ctx)
		if errors.Is(err, ldapsync.ErrWhoAmIUnsupported) {
			who, err = s.BoundAs()+" (the server does not answer Who am I?)", nil
		}
		if err != nil {
			return nil, err
		}
		res.RoundTripMillis = float64(time.Since(start).Microseconds()) / 1000
		res.BoundAs = who
		if who == "" {
			res.BoundAs = "(anonymous)"
		}
		if r := s.RootDSE(); r != nil {
			res.NamingContexts, res.DefaultNamingContext, res.DNSHostName = r.NamingContexts, r.DefaultNamingContext, r.DNSHostName
			res.Vendor = strings.TrimSpace(r.VendorName + " " + r.VendorVersion)
			res.PagingSupported = r.SupportsPaging()
			res.SASLMechanisms = r.SupportedSASLMechanisms
		}
	}
	return res, nil
}

type ldapFindOptions struct {
	f      *Factory
	forest forestFlags
	SIP    string
	SID    string
	GUID   string
	SAM    string
	Name   string
}

func newCmdLdapFind(f *Factory, runF func(*ldapFindOptions) error) *cobra.Command {
	opts := &ldapFindOptions{f: f}
	cmd := &cobra.Command{
		Use:   "find --forest NAME (--sip|--sid|--guid|--sam|--name) VALUE",
		Short: "Find objects by SIP address, SID, GUID, account name or name",
		Long: withExitStatus(`Find the objects of a forest matching exactly one value. The value is escaped, never
interpreted as filter syntax (a value like "*)(objectClass=*" matches only itself):
  --sip   msRTCSIP-PrimaryUserAddress or a sip: proxyAddresses value (sip: prefix optional, any case)
  --sid   objectSid, msExchMasterAccountSid or msRTCSIP-OriginatorSid (S-1-5-..., sent as escaped bytes)
  --guid  objectGUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, sent as escaped bytes)
  --sam   sAMAccountName
  --name  displayName or cn
Output has the columns of 'abkit ldap export'. Finding nothing is not an error (exit 0, a note
on stderr).`),
		Example: `  abkit ldap find --forest resforest --sip alice@contoso.com
  abkit ldap find --forest userforest --sid S-1-5-21-1004336348-1177238915-682003330-1105 -o json
  abkit ldap find --forest resforest --guid 96bd221f-8492-4450-abb2-2bd6828db27a`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return ldapFindRun(cmd, opts)
		},
	}
	addForestFlags(cmd, &opts.forest)
	fl := cmd.Flags()
	fl.StringVar(&opts.SIP, "sip", "", "SIP address (user@domain or sip:user@domain)")
	fl.StringVar(&opts.SID, "sid", "", "SID (S-1-5-21-...)")
	fl.StringVar(&opts.GUID, "guid", "", "objectGUID (text form)")
	fl.StringVar(&opts.SAM, "sam", "", "sAMAccountName")
	fl.StringVar(&opts.Name, "name", "", "displayName or cn")
	return cmd
}

// findFilter builds the escaped filter for exactly one of the find options.
func (o *ldapFindOptions) findFilter(cmd *cobra.Command) (string, error) {
	var set []string
	var filter string
	if o.SIP != "" {
		set = append(set, "--sip")
		v := ldap.EscapeFilter("sip:" + ldapsync.NormalizeSIP(o.SIP))
		filter = "(|(msRTCSIP-PrimaryUserAddress=" + v + ")(proxyAddresses=" + v + "))"
	}
	if o.SID != "" {
		set = append(set, "--sid")
		sid, err := ldapsync.ParseSID(strings.TrimSpace(o.SID))
		if err != nil {
			return "", badInput(err)
		}
		v := sid.FilterValue()
		filter = "(|(objectSid=" + v + ")(msExchMasterAccountSid=" + v + ")(msRTCSIP-OriginatorSid=" + v + "))"
	}
	if o.GUID != "" {
		set = append(set, "--guid")
		g, err := ldapsync.ParseGUID(o.GUID)
		if err != nil {
			return "", badInput(err)
		}
		filter = "(objectGUID=" + g.FilterValue() + ")"
	}
	if o.SAM != "" {
		set = append(set, "--sam")
		filter = "(sAMAccountName=" + ldap.EscapeFilter(o.SAM) + ")"
	}
	if o.Name != "" {
		set = append(set, "--name")
		v := ldap.EscapeFilter(o.Name)
		filter = "(|(displayName=" + v + ")(cn=" + v + "))"
	}
	if len(set) != 1 {
		return "", usageError(cmd, "give exactly one of --sip, --sid, --guid, --sam or --name (got %d)", len(set))
	}
	return filter, nil
}

func ldapFindRun(cmd *cobra.Command, opts *ldapFindOptions) error {
	f := opts.f
	filter, err := opts.findFilter(cmd)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	src, err := f.openForest(ctx, opts.forest, ldapsync.NopProgress)
	if err != nil {
		return err
	}
	defer src.Close()
	n, _, err := f.streamEntries(ctx, src, ldapsync.SearchRequest{Filter: filter}, newEntryWriter(f, f.format(), exportColumns(nil)))
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintf(f.IO.ErrOut, "no object in %s matches %s\n", src.Name(), filter)
	}
	return nil
}
