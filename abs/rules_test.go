package abs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// companyRulesFile is a rules file in the shape of the server's
// Company_Phone_Number_Normalization_Rules.txt, with rules from Microsoft's documented samples.
const companyRulesFile = "../testdata/abs/rules/Company_Phone_Number_Normalization_Rules.txt"

func readCompanyRules(t *testing.T) Rules {
	t.Helper()
	rs, err := ReadRulesFile(companyRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestReadRulesFile(t *testing.T) {
	b, err := os.ReadFile(companyRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "\r\n") {
		t.Fatalf("%s must keep its CRLF line ends (check .gitattributes)", companyRulesFile)
	}
	rs := readCompanyRules(t)
	want := []struct {
		pattern, replacement string
		line                 int
	}{
		{`^(\d{4})$`, `+1425555$1`, 5},
		{`^5(\d{4})$`, `+1425555$1`, 8},
		{`^9(\d{10})$`, `+1$1`, 11},
		{`^(\d{10})$`, `+1$1`, 14},
		{`^(972|214|469)(\d{7})$`, `+1$1$2`, 17},
		{`^\+?1?\s*\(?(?<area>[2-9]\d\d)\)?[\s.-]*(?<exchange>\d{3})[\s.-]*(?<line>\d{4})\s*[xX]\s*(?<ext>\d{1,5})$`, `+1${area}${exchange}${line};ext=${ext}`, 20},
		{`^(?!0)(?>(\d{3}))\s(\d{3})\s(\d{4})$`, `+44$1$2$3`, 23},
		{`E164`, ``, 26},
	}
	if len(rs) != len(want) {
		t.Fatalf("%d rules, want %d: %v", len(rs), len(want), rs)
	}
	for i, w := range want {
		r := rs[i]
		if r.Pattern != w.pattern || r.Replacement != w.replacement || r.Line != w.line {
			t.Errorf("rule %d = {%q %q line %d}, want {%q %q line %d}", i, r.Pattern, r.Replacement, r.Line, w.pattern, w.replacement, w.line)
		}
		if got, want := r.IsE164(), w.pattern == E164Rule; got != want {
			t.Errorf("rule %d IsE164 = %v", i, got)
		}
	}
}

func TestNormalize(t *testing.T) {
	rs := readCompanyRules(t)
	tests := []struct {
		number string
		output string
		rule   int // -1: no match
	}{
		{"4444", "+14255554444", 0},
		{"54444", "+14255554444", 1},
		{"94252345678", "+14252345678", 2},
		{"4252345678", "+14252345678", 3}, // rule 4 would match too: the first match wins
		{"9722345678", "+19722345678", 3},
		{"972 2345678", "tel:+9722345678", 7},
		{"(425) 555-1234 x4711", "+14255551234;ext=4711", 5}, // named groups
		{"+1 425.555.1234 X12", "+14255551234;ext=12", 5},
		{"207 946 0000", "+442079460000", 6}, // lookahead and atomic group: not RE2
		{"555-533-4312", "tel:+5555334312", 7},
		{"(555) 533.4312", "tel:+5555334312", 7},
		{"123456789012345", "tel:+123456789012345", 7},
		{"1234567890123456", "1234567890123456", -1}, // 16 digits: too long for E164
		{"+1 425 555 1234", "+1 425 555 1234", -1},   // '+' is not dropped by E164
		{"ext. 12", "ext. 12", -1},
		{"", "", -1},
		{"١٢٣٤", "+1425555١٢٣٤", 0}, // .NET's \d is Unicode-aware, so four Arabic-Indic digits match
		{"١٢٣٤٥", "١٢٣٤٥", -1},      // E164 takes only ASCII digits
	}
	for _, tt := range tests {
		res, err := rs.Normalize(tt.number)
		if err != nil {
			t.Errorf("Normalize(%q): %v", tt.number, err)
			continue
		}
		if res.Output != tt.output || res.RuleIndex != tt.rule || res.Matched != (tt.rule >= 0) || res.Input != tt.number {
			t.Errorf("Normalize(%q) = %q rule %d matched %v, want %q rule %d", tt.number, res.Output, res.RuleIndex, res.Matched, tt.output, tt.rule)
		}
		if tt.rule >= 0 && res.Rule != rs[tt.rule] {
			t.Errorf("Normalize(%q).Rule = %v, want %v", tt.number, res.Rule, rs[tt.rule])
		}
		if tt.rule < 0 && res.Rule != nil {
			t.Errorf("Normalize(%q).Rule = %v, want nil", tt.number, res.Rule)
		}
	}
}

func TestNormalizeReplacesLikeDotNet(t *testing.T) {
	// Regex.Replace replaces every match and keeps the text around them.
	rs, err := ParseRules("\\s*[xX]\\s*(\\d+)\r\n;ext=$1\r\n")
	if err != nil {
		t.Fatal(err)
	}
	res, err := rs.Normalize("+14255551234 x12 x34")
	if err != nil {
		t.Fatal(err)
	}
	if want := "+14255551234;ext=12;ext=34"; res.Output != want {
		t.Errorf("output %q, want %q", res.Output, want)
	}
	// $$ is a literal dollar, $0 the whole match.
	rs, err = ParseRules("^(\\d+)$\n$$$0\n")
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := rs.Normalize("42"); res.Output != "$42" {
		t.Errorf("output %q, want $42", res.Output)
	}
}

func TestTelURI(t *testing.T) {
	tests := []struct {
		res  Result
		want string
	}{
		{Result{Output: "+14255554444", Matched: true}, "tel:+14255554444"},
		{Result{Output: "tel:+5555334312", Matched: true}, "tel:+5555334312"},
		{Result{Output: "TEL:+5555334312", Matched: true}, "TEL:+5555334312"},
		{Result{Output: "4444"}, ""},
	}
	for _, tt := range tests {
		if got := tt.res.TelURI(); got != tt.want {
			t.Errorf("%+v.TelURI() = %q, want %q", tt.res, got, tt.want)
		}
	}
}

func TestParseRulesText(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		rules int
		lines []int
	}{
		{"empty", "", 0, nil},
		{"NUL only (empty block)", "\x00", 0, nil},
		{"CRLF", "^(\\d{4})$\r\n+1425555$1\r\nE164\r\n\r\n", 2, []int{1, 3}},
		{"LF", "^(\\d{4})$\n+1425555$1\nE164\n\n", 2, []int{1, 3}},
		{"no final line end", "^(\\d{4})$\r\n+1425555$1", 1, []int{1}},
		{"block with NUL", "^(\\d{4})$\r\n+1425555$1\r\n\x00", 1, []int{1}},
		{"BOM and comments", "\uFEFF## comment\r\n\r\n^(\\d{4})$\r\n+1425555$1\r\n", 1, []int{3}},
		{"E164 last, single line", "E164", 1, []int{1}},
		{"empty replacement kept", "^0$\r\n\r\n^(1)$\r\n$1\r\n", 2, []int{1, 3}},
	}
	for _, tt := range tests {
		rs, err := ParseRules(tt.text)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(rs) != tt.rules {
			t.Errorf("%s: %d rules, want %d", tt.name, len(rs), tt.rules)
			continue
		}
		for i, r := range rs {
			if r.Line != tt.lines[i] {
				t.Errorf("%s: rule %d on line %d, want %d", tt.name, i, r.Line, tt.lines[i])
			}
			if strings.ContainsAny(r.Pattern+r.Replacement, "\r\n\x00") {
				t.Errorf("%s: rule %d keeps a line end: %q %q", tt.name, i, r.Pattern, r.Replacement)
			}
		}
	}
}

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		line int
		msg  string
	}{
		{"unbalanced", "^(\\d{4})$\r\n+1$1\r\n^(\\d{4}$\r\n+1$1\r\n", 3, "missing closing )"},
		{"no replacement", "^(\\d{4})$\r\n+1$1\r\n^(\\d{5})$", 3, "no replacement line"},
		{"bad quantifier", "\r\n*4\r\nx\r\n", 2, "bad .NET regular expression"},
		{"NUL inside", "^1$\r\n+1\x00\r\n", 2, "NUL"},
	}
	for _, tt := range tests {
		_, err := ParseRules(tt.text)
		var re *RuleError
		if !errors.As(err, &re) {
			t.Errorf("%s: error %v, want *RuleError", tt.name, err)
			continue
		}
		if re.Line != tt.line || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: %v (line %d), want line %d and %q", tt.name, err, re.Line, tt.line, tt.msg)
		}
		if !re.BadInput() {
			t.Errorf("%s: not bad input", tt.name)
		}
	}
}

func TestReadRulesFileErrorNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Company_Phone_Number_Normalization_Rules.txt")
	if err := os.WriteFile(path, []byte("E164\r\n\r\n(\r\nx\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadRulesFile(path)
	if err == nil || !strings.Contains(err.Error(), path+" line 3") {
		t.Errorf("error %v does not name %s line 3", err, path)
	}
	if _, err := ReadRulesFile(filepath.Join(t.TempDir(), "missing.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestNormalizeTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("takes RuleMatchTimeout")
	}
	rs, err := ParseRules("^(a+)+$\r\nx\r\nE164\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	// Without the timeout, matching this number would backtrack for hours: the error alone shows
	// the timeout stopped it (no wall-clock assertion, which a loaded machine could break).
	_, err = rs.Normalize(strings.Repeat("a", 40) + "!")
	var re *RuleError
	if !errors.As(err, &re) || re.Line != 1 {
		t.Fatalf("error %v, want a *RuleError for line 1", err)
	}
}

// FuzzParseRules: rules text is untrusted (it comes from address book files). Parsing must never
// panic; accepted rules must normalize any number without panicking and report a consistent
// result.
func FuzzParseRules(f *testing.F) {
	if b, err := os.ReadFile(companyRulesFile); err == nil {
		f.Add(string(b), "4444")
	}
	f.Add("E164\r\n\r\n", "555-533-4312")
	f.Add("^(\\d{4})$\n+1425555$1\n", "١٢٣٤")
	f.Add("(?<a>\\d)(?(a)x|y)\r\n${a}$$\r\n", "1x")
	f.Add("\\p{Nd}+(?=x)\r\n$0$+$_$`$'\r\n", "12x3")
	f.Add("#c\r\n\r\n(\r\nx\r\n", "")
	f.Fuzz(func(t *testing.T, text, number string) {
		if len(text) > 4096 || len(number) > 32 {
			return
		}
		rs, err := ParseRules(text)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) || re.Line < 1 {
				t.Fatalf("error %v is not a positioned *RuleError", err)
			}
			return
		}
		if len(rs) > 16 {
			return // bound the work per input
		}
		res, err := rs.Normalize(number)
		if err != nil {
			return // a rule hit RuleMatchTimeout
		}
		if res.Matched != (res.RuleIndex >= 0) || (res.Matched && res.Rule != rs[res.RuleIndex]) || (!res.Matched && res.Output != number) {
			t.Fatalf("inconsistent result %+v", res)
		}
	})
}
