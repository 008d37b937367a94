package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/abkit/abkit/abs"
	"github.com/spf13/cobra"
)

type phoneTestOptions struct {
	f *Factory

	RulesFile string   // --rules
	ABSFile   string   // --abs
	Numbers   []string // arguments; read from stdin when none are given
}

func newCmdPhoneTest(f *Factory, runF func(*phoneTestOptions) error) *cobra.Command {
	opts := &phoneTestOptions{f: f}
	cmd := &cobra.Command{
		Use:   "test (--rules FILE | --abs FILE) [NUMBER...]",
		Short: "Show how the normalization rules turn each number into an E.164 number",
		Long: withExitStatus(`Run phone numbers through normalization rules, as ABServer.exe -testPhoneNorm does, and
show for each number the normalized result and which rule matched (number, line and text).

The rules come from a rules file in the server's format (--rules, e.g.
Company_Phone_Number_Normalization_Rules.txt: two lines per rule, a .NET regular expression and its
replacement) or from the rules block stored in an address book file (--abs). Rules are tried in
order and the first match wins; expressions are evaluated with .NET semantics. With no NUMBER
arguments, numbers are read from stdin, one per line.

Numbers that no rule matches are findings: the command exits 1 when there is any.`),
		Example: `  abkit phone test --rules Company_Phone_Number_Normalization_Rules.txt 4444 555-533-4312
  abkit phone test --abs F-0A8C.lsabs "+1 (425) 555-0100"
  cut -f2 numbers.tsv | abkit phone test --rules rules.txt -o csv`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (opts.RulesFile == "") == (opts.ABSFile == "") {
				return usageError(cmd, "give exactly one of --rules FILE and --abs FILE")
			}
			opts.Numbers = args
			if len(args) == 0 && f.IO.StdinTTY {
				return usageError(cmd, "give NUMBER arguments, or numbers on stdin (one per line)")
			}
			if runF != nil {
				return runF(opts)
			}
			return phoneTestRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.RulesFile, "rules", "", "rules file (Company_Phone_Number_Normalization_Rules.txt format)")
	cmd.Flags().StringVar(&opts.ABSFile, "abs", "", "address book file whose stored rules to use")
	return cmd
}

func phoneTestRun(ctx context.Context, opts *phoneTestOptions) error {
	f := opts.f
	rules, err := f.loadPhoneRules(ctx, opts.RulesFile, opts.ABSFile)
	if err != nil {
		return err
	}
	numbers := opts.Numbers
	if len(numbers) == 0 {
		sc := bufio.NewScanner(f.IO.In)
		for sc.Scan() {
			if n := strings.TrimSpace(sc.Text()); n != "" {
				numbers = append(numbers, n)
			}
		}
		if err := sc.Err(); err != nil {
			return runtimeFailure(fmt.Errorf("read numbers from stdin: %w", err))
		}
		if len(numbers) == 0 {
			return badInputf("no numbers: give them as arguments or on stdin")
		}
	}
	type row struct {
		Number     string `json:"number"`
		Normalized string `json:"normalized"`
		Matched    bool   `json:"matched"`
		Rule       int    `json:"rule,omitempty"`      // 1-based
		RuleLine   int    `json:"rule_line,omitempty"` // line of the rule's expression
		RuleText   string `json:"rule_text,omitempty"`
	}
	rows := make([]row, 0, len(numbers))
	t := Table{Columns: []string{"number", "normalized", "rule", "line", "expression"}}
	unmatched := 0
	for _, n := range numbers {
		res, err := rules.Normalize(n)
		if err != nil {
			return err
		}
		r := row{Number: n, Matched: res.Matched}
		if res.Matched {
			r.Normalized = res.Output
			r.Rule, r.RuleLine, r.RuleText = res.RuleIndex+1, res.Rule.Line, res.Rule.String()
			t.Append(n, r.Normalized, strconv.Itoa(r.Rule), strconv.Itoa(r.RuleLine), r.RuleText)
		} else {
			unmatched++
			t.Append(n, "", "", "", "(no rule matches)")
		}
		rows = append(rows, r)
	}
	if err := f.writeData(t, rows); err != nil {
		return runtimeFailure(err)
	}
	return findings(unmatched, "number(s) no rule normalizes")
}

// loadPhoneRules reads normalization rules from a rules file or from an address book file's
// rules block (exactly one of the two paths is set).
func (f *Factory) loadPhoneRules(ctx context.Context, rulesFile, absFile string) (abs.Rules, error) {
	if rulesFile != "" {
		rules, err := abs.ReadRulesFile(rulesFile)
		if err != nil {
			var re *abs.RuleError
			if errors.As(err, &re) {
				return nil, err
			}
			return nil, badInputf("read rules: %w", err)
		}
		return rules, nil
	}
	return f.rulesFromABS(ctx, absFile)
}
