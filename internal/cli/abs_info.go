package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/abkit/abkit/abs"
	"github.com/spf13/cobra"
)

type absInfoOptions struct {
	f     *Factory
	Path  string
	Check bool // --check: check every value against its attribute's value type
}

func newCmdAbsInfo(f *Factory, runF func(*absInfoOptions) error) *cobra.Command {
	opts := &absInfoOptions{f: f}
	cmd := &cobra.Command{
		Use:   "info FILE",
		Short: "Show an address book file's header, counts, attribute table and rules",
		Long: withExitStatus(`Show what an address book file holds: its kind (full, delta, compact; .lsabs or .dabs),
the FileType GUID found at offset 0, its dates (day numbers as in the file names and as dates),
the number of contacts (users with a SIP address, groups, other contacts such as mail contacts,
deleted objects) and of values (normalized phone copies, empty attributes of compact deltas), the attribute table (Id, name, Flags in
hex and decoded), the number of normalization rules, and which parts of the file were read under
abkit's provisional layout (the parts of the format that no readable part of [MS-ABS] covers).

It also shows the trailer ([MS-ABS] 2.2.14: the last 4 bytes give its length, the trailer sits
right before them): its offset, length and bytes in hex (opaque: its layout is not public), or
that the file has none (abkit's files written before the trailer was known).

--check also checks every value against its attribute's value type, as the server filters them:
type 0x4 keeps only smtp: values containing @, type 0x5 tel: values or smtp: values containing @
(prefixes compared without regard to case). Each value that breaks its type is listed (contact,
offset, attribute, value, what the type allows) and the exit status is 1. (A value of a type-0x3
Boolean-string attribute is never stored: a file with one does not decode, exit 2.)

On a terminal the header and the attribute table are two tables; piped or with -o csv|tsv they
are two blocks separated by an empty line (a third with --check); -o json gives one object. A
file that stops decoding part-way still shows what was read, then the error with its offset
(exit 2).`),
		Example: `  abkit abs info F-0A8C.lsabs
  abkit abs info --check F-0A8C.lsabs
  abkit abs info -o json D-0A8B-0A8C.lsabs | jq .counts`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			if runF != nil {
				return runF(opts)
			}
			return absInfoRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Check, "check", false, "check every value against its attribute's value type (exit 1 on findings)")
	return cmd
}

// absInfo is the JSON form of `abs info`.
type absInfo struct {
	File                  string            `json:"file"`
	Size                  int64             `json:"size"`
	Kind                  string            `json:"kind"`
	Device                bool              `json:"device"`
	FileType              string            `json:"file_type"`
	FileTypeOrigin        string            `json:"file_type_origin"`
	Day                   string            `json:"day"`
	Date                  string            `json:"date"`
	BaseDay               string            `json:"base_day,omitempty"`
	BaseDate              string            `json:"base_date,omitempty"`
	UseNormalizationRules bool              `json:"use_normalization_rules"`
	Counts                absCounts         `json:"counts"`
	Attributes            []absInfoAttr     `json:"attributes"`
	Rules                 int               `json:"rules"`
	RulesError            string            `json:"rules_error,omitempty"`
	Layout                map[string]int64  `json:"layout"`
	Trailer               *absTrailer       `json:"trailer,omitempty"` // nil when decoding stopped first
	Provisional           []string          `json:"provisional"`
	Issues                []absValueIssue   `json:"value_issues,omitempty"` // --check
	Error                 *absInfoReadError `json:"error,omitempty"`
}

// absTrailer is the JSON form of a file's trailer (also the last element of `abs dump -o json`).
type absTrailer struct {
	Type         string `json:"type,omitempty"` // "trailer" in dump output
	Present      bool   `json:"present"`
	Offset       int64  `json:"offset"` // of the body; the end of the contact records
	Length       uint32 `json:"length"` // LengthOfTrailer
	Hex          string `json:"hex"`    // the body, at most trailerHexMax bytes of it
	HexTruncated bool   `json:"hex_truncated,omitempty"`
}

// trailerHexMax is the most trailer bytes shown in hex.
const trailerHexMax = 4096

// readTrailer reads the trailer of af, whose contacts have been iterated.
func readTrailer(af *absFile) (*absTrailer, error) {
	t, err := af.Trailer()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", af.Path, err)
	}
	body, err := af.TrailerBody()
	if err != nil {
		return nil, fmt.Errorf("%s: trailer: %w", af.Path, err)
	}
	out := &absTrailer{Present: t.Present, Offset: t.Offset, Length: t.Length}
	out.HexTruncated = len(body) > trailerHexMax
	out.Hex = hex.EncodeToString(body[:min(len(body), trailerHexMax)])
	return out, nil
}

// text describes the trailer in one line.
func (t *absTrailer) text() string {
	if !t.Present {
		return fmt.Sprintf("none: the contact records run to the end of the file (offset %d)", t.Offset)
	}
	s := fmt.Sprintf("offset %d, LengthOfTrailer %d", t.Offset, t.Length)
	switch {
	case t.Length == 0:
		return s + " (empty body)"
	case len(t.Hex) > 128:
		return s + ", hex " + t.Hex[:128] + "..."
	}
	return s + ", hex " + t.Hex
}

// absValueIssue is one value that breaks its attribute's value type.
type absValueIssue struct {
	ContactID string `json:"contact_id"`
	Offset    int64  `json:"offset"`
	Attribute string `json:"attribute"`
	Type      string `json:"type"`
	Value     string `json:"value"`
	Allowed   string `json:"allowed"`
}

// absCounts is abs.Summary with JSON names.
type absCounts struct {
	Contacts   int `json:"contacts"`
	Users      int `json:"users"`
	Groups     int `json:"groups"`
	Others     int `json:"other_contacts"`
	Deleted    int `json:"deleted"`
	Values     int `json:"values"`
	Normalized int `json:"normalized_values"`
	Empty      int `json:"empty_values"`
}

type absInfoAttr struct {
	ID          uint16   `json:"id"`
	Name        string   `json:"name"`
	Flags       string   `json:"flags"`
	ClientField int      `json:"client_field"`
	Type        string   `json:"type"`
	Bits        []string `json:"bits"`
}

type absInfoReadError struct {
	Offset  int64  `json:"offset"`
	Message string `json:"message"`
}

func absInfoRun(ctx context.Context, opts *absInfoOptions) error {
	f := opts.f
	af, err := f.openABS(ctx, opts.Path)
	if err != nil {
		return err
	}
	defer af.Close()
	h := af.Header
	info := absInfo{
		File: opts.Path, Size: af.Size(), Kind: h.Kind.String(), Device: af.Name.Device,
		FileType: "{" + h.FileType.String() + "}", FileTypeOrigin: fileTypeOrigin(h.FileType),
		Day: h.Day.String(), Date: h.Time().Format(time.DateOnly),
		UseNormalizationRules: h.UseNormalizationRules,
		Layout: map[string]int64{
			"header_size":       af.Layout.HeaderSize,
			"rules_offset":      af.Layout.RulesOffset,
			"rules_length":      int64(af.Layout.RulesLength),
			"attributes_offset": af.Layout.AttributesOffset,
			"contacts_offset":   af.Layout.ContactsOffset,
		},
	}
	if h.Kind != abs.Full {
		info.BaseDay, info.BaseDate = h.BaseDay.String(), h.BaseTime().Format(time.DateOnly)
	}
	if rules, err := af.rules(); err != nil {
		info.RulesError = err.Error()
	} else {
		info.Rules = len(rules)
	}
	for _, a := range af.Attributes() {
		info.Attributes = append(info.Attributes, absInfoAttr{
			ID: a.ID, Name: a.Name, Flags: fmt.Sprintf("0x%08X", uint32(a.Flags)),
			ClientField: int(a.Flags.ClientField()), Type: a.Flags.Type().String(), Bits: a.Flags.BitNames(),
		})
	}
	var sum abs.Summary
	var readErr error
	if opts.Check {
		sum, info.Issues, readErr = summarizeChecked(af)
	} else {
		sum, readErr = abs.Summarize(af.Reader)
	}
	info.Counts = absCounts(sum)
	if readErr == nil {
		info.Trailer, readErr = readTrailer(af)
	}
	if readErr != nil {
		readErr = fmt.Errorf("%s: %w", opts.Path, readErr)
		off, _ := abs.ErrorOffset(readErr)
		info.Error = &absInfoReadError{Offset: off, Message: readErr.Error()}
	}
	info.Provisional = af.ProvisionalParts()

	if readErr == nil && len(info.Issues) > 0 {
		readErr = findings(len(info.Issues), "values their attribute's type excludes")
	}
	if f.format() == FormatJSON {
		if err := writeJSON(f.IO.Out, info); err != nil {
			return runtimeFailure(err)
		}
		return readErr
	}
	if err := f.writeData(infoTable(&info), nil); err != nil {
		return runtimeFailure(err)
	}
	fmt.Fprintln(f.IO.Out)
	at := Table{Columns: []string{"id", "name", "flags", "client", "type", "bits"}}
	for _, a := range info.Attributes {
		at.Append(strconv.Itoa(int(a.ID)), a.Name, a.Flags, fmt.Sprintf("%02X", a.ClientField), a.Type, strings.Join(a.Bits, " "))
	}
	if err := f.writeData(at, nil); err != nil {
		return runtimeFailure(err)
	}
	if opts.Check {
		fmt.Fprintln(f.IO.Out)
		it := Table{Columns: []string{"contact_id", "offset", "attribute", "type", "value", "allowed"}}
		for _, i := range info.Issues {
			it.Append(i.ContactID, strconv.FormatInt(i.Offset, 10), i.Attribute, i.Type, i.Value, i.Allowed)
		}
		if err := f.writeData(it, nil); err != nil {
			return runtimeFailure(err)
		}
	}
	return readErr
}

// summarizeChecked is abs.Summarize plus abs.CheckValues on every contact.
func summarizeChecked(af *absFile) (abs.Summary, []absValueIssue, error) {
	var issues []absValueIssue
	t := af.Table()
	sum, err := abs.Summarize(af.Reader, func(c *abs.Contact) {
		for _, i := range abs.CheckValues(c, t) {
			issues = append(issues, absValueIssue{ContactID: i.Contact.String(), Offset: i.Offset, Attribute: i.Attribute,
				Type: fmt.Sprintf("0x%X %s", uint8(i.Type), i.Type), Value: i.Value, Allowed: i.Want})
		}
	})
	return sum, issues, err
}

// infoTable is the header part of `abs info` as field/value rows.
func infoTable(info *absInfo) Table {
	t := Table{Columns: []string{"field", "value"}}
	t.Append("file", info.File)
	t.Append("size", strconv.FormatInt(info.Size, 10))
	kind := info.Kind
	if info.Device {
		kind += " (device, .dabs)"
	}
	t.Append("kind", kind)
	t.Append("file type", info.FileType+" ("+info.FileTypeOrigin+")")
	if info.BaseDay != "" {
		t.Append("base day", info.BaseDay+" ("+info.BaseDate+")")
	}
	t.Append("day", info.Day+" ("+info.Date+")")
	t.Append("use normalization rules", strconv.FormatBool(info.UseNormalizationRules))
	t.Append("contacts", strconv.Itoa(info.Counts.Contacts))
	t.Append("users", strconv.Itoa(info.Counts.Users))
	t.Append("groups", strconv.Itoa(info.Counts.Groups))
	t.Append("other contacts", strconv.Itoa(info.Counts.Others))
	t.Append("deleted", strconv.Itoa(info.Counts.Deleted))
	t.Append("values", strconv.Itoa(info.Counts.Values))
	t.Append("normalized values", strconv.Itoa(info.Counts.Normalized))
	t.Append("empty values", strconv.Itoa(info.Counts.Empty))
	t.Append("attributes", strconv.Itoa(len(info.Attributes)))
	if info.RulesError != "" {
		t.Append("rules", "invalid: "+info.RulesError)
	} else {
		t.Append("rules", strconv.Itoa(info.Rules))
	}
	t.Append("contacts offset", strconv.FormatInt(info.Layout["contacts_offset"], 10))
	if info.Trailer != nil {
		t.Append("trailer", info.Trailer.text())
	}
	for _, p := range info.Provisional {
		t.Append("provisional", p)
	}
	if info.Error != nil {
		t.Append("error", info.Error.Message)
	}
	return t
}

// fileTypeOrigin says where a FileType GUID comes from.
func fileTypeOrigin(g abs.GUID) string {
	switch g {
	case abs.DeltaFileType:
		return "delta, [MS-ABS]"
	case abs.CompactFileType:
		return "compact delta, [MS-ABS]"
	case abs.FullFileType:
		return "full, abkit's own value"
	}
	return "unknown: taken as a full file"
}
