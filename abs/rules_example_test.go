package abs_test

import (
	"fmt"

	"github.com/abkit/abkit/abs"
)

func ExampleRules_Normalize() {
	rules, err := abs.ParseRules("^(\\d{4})$\r\n+1425555$1\r\nE164\r\n\r\n")
	if err != nil {
		panic(err)
	}
	for _, number := range []string{"4444", "555-533-4312", "ext. 12"} {
		res, err := rules.Normalize(number)
		if err != nil {
			panic(err)
		}
		if !res.Matched {
			fmt.Printf("%s: no rule\n", number)
			continue
		}
		fmt.Printf("%s -> %s (rule %d, line %d: %s)\n", number, res.TelURI(), res.RuleIndex+1, res.Rule.Line, res.Rule)
	}
	// Output:
	// 4444 -> tel:+14255554444 (rule 1, line 1: ^(\d{4})$ -> +1425555$1)
	// 555-533-4312 -> tel:+5555334312 (rule 2, line 3: E164)
	// ext. 12: no rule
}
