package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/abkit/abkit/abs"
	"github.com/spf13/cobra"
)

type phoneCheckOptions struct {
	f         *Factory
	Path      string
	RulesFile string // --rules
}

func newCmdPhoneCheck(f *Factory, runF func(*phoneCheckOptions) error) *cobra.Command {
	opts := &phoneCheckOptions{f: f}
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Check an address book file's phone numbers against the normalization rules",
		Long: withExitStatus(`Check every phone number of an address book file against normalization rules: the rules
block stored in the file, or a rules file given with --rules (to try new rules on today's data).

Only the attributes the server normalizes are checked: those with flag 0x1000, and those with
0x2000 when the file's header says normalization rules were used. Three kinds of finding:

  no-rule   no rule normalizes the number (ABServer lists these in a text file beside the
            address book files; its built-in generic rules are not in the file, so a number
            they handle shows up here too)
  mismatch  the normalized copy stored in the file differs from what the rules give
  missing   a rule normalizes the number but the file stores no normalized copy

One row per finding: contact_id, name, attribute, finding, raw number, stored normalized value,
expected value, and the rule that matched (number and line). A summary goes to stderr. The exit
status is 1 when there is any finding.`),
		Example: `  abkit phone check F-0A8C.lsabs
  abkit phone check F-0A8C.lsabs --rules Company_Phone_Number_Normalization_Rules.txt -o csv > phones.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Path = args[0]
			if runF != nil {
				return runF(opts)
			}
			return phoneCheckRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.RulesFile, "rules", "", "rules file to use instead of the file's own rules block")
	return cmd
}

type phoneFindingJSON struct {
	ContactID string `json:"contact_id"`
	Name      string `json:"name"`
	Attribute string `json:"attribute"`
	Finding   string `json:"finding"`
	Raw       string `json:"raw"`
	Stored    string `json:"stored"`
	Expected  string `json:"expected"`
	Rule      int    `json:"rule,omitempty"` // 1-based
	RuleLine  int    `json:"rule_line,omitempty"`
}

func phoneCheckRun(ctx context.Context, opts *phoneCheckOptions) error {
	f := opts.f
	af, err := f.openABS(ctx, opts.Path)
	if err != nil {
		return err
	}
	defer af.Close()
	var rules abs.Rules
	if opts.RulesFile != "" {
		rules, err = f.loadPhoneRules(ctx, opts.RulesFile, "")
	} else {
		rules, err = af.rules()
	}
	if err != nil {
		return err
	}
	t := af.Table()
	useRules := af.Header.UseNormalizationRules
	tbl := Table{Columns: []string{"contact_id", "name", "attribute", "finding", "raw", "stored", "expected", "rule", "line"}}
	js := []phoneFindingJSON{}
	counts := map[abs.PhoneIssueKind]int{}
	readErr := af.eachContact(func(c *abs.Contact) error {
		issues, err := abs.CheckPhones(c, t, useRules, rules)
		if err != nil {
			return err
		}
		for _, is := range issues {
			counts[is.Kind]++
			j := phoneFindingJSON{ContactID: c.ID.String(), Name: contactLabel(c, t), Attribute: is.Attr,
				Finding: string(is.Kind), Raw: is.Raw, Stored: is.Stored, Expected: is.Expected}
			rule, line := "", ""
			if is.Rule != nil {
				j.Rule, j.RuleLine = is.RuleIndex+1, is.Rule.Line
				rule, line = strconv.Itoa(j.Rule), strconv.Itoa(j.RuleLine)
			}
			js = append(js, j)
			tbl.Append(j.ContactID, j.Name, j.Attribute, j.Finding, j.Raw, j.Stored, j.Expected, rule, line)
		}
		return nil
	})
	if readErr != nil {
		return readErr
	}
	if err := f.writeData(tbl, js); err != nil {
		return runtimeFailure(err)
	}
	fmt.Fprintf(f.IO.ErrOut, "%d rules; %d no-rule, %d mismatch, %d missing\n",
		len(rules), counts[abs.PhoneNoRule], counts[abs.PhoneMismatch], counts[abs.PhoneMissing])
	return findings(len(js), "phone number finding(s)")
}
