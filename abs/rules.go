package abs

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/dlclark/regexp2"
)

// Phone normalization rules ([MS-ABS] ABF_NORMALIZATION_RULES and the server's
// Company_Phone_Number_Normalization_Rules.txt).
//
// The text is a list of rules of two lines each: a .NET regular expression, then its replacement
// with .NET substitutions ($1, ${name}, $$, $0 ...). Lines end in CRLF; a bare LF is accepted too.
// Rules are tried in order and the first whose expression matches wins: the number becomes
// the result of .NET's Regex.Replace(number, replacement), every match replaced. A rule whose
// expression line is exactly E164 matches a number that is at most 15 decimal digits once spaces,
// periods, hyphens and parentheses are dropped, and yields tel:+ and those digits.
//
// Where a pattern line is expected, an empty line or a line starting with '#' is skipped: the
// sample rules file that ships with the server opens with comment lines, and admins separate
// rules with blank lines. A replacement line is always taken as written.
//
// Expressions are evaluated with github.com/dlclark/regexp2, which implements .NET semantics (Go's
// regexp is RE2 and would accept or reject other expressions), each match bounded by
// RuleMatchTimeout.

// E164Rule is the expression line of the built-in E.164 pseudo-rule.
const E164Rule = "E164"

// RuleMatchTimeout bounds the time one rule may spend matching one number, so that a rule with
// catastrophic backtracking cannot hang a run.
const RuleMatchTimeout = time.Second

// e164MaxDigits is the most digits the E164 pseudo-rule accepts.
const e164MaxDigits = 15

// Rule is one normalization rule.
type Rule struct {
	Pattern     string // the .NET regular expression as written, or E164Rule
	Replacement string // the replacement as written (not used by the E164 pseudo-rule)
	Line        int    // 1-based line of Pattern in the text it was parsed from

	re *regexp2.Regexp // nil for the E164 pseudo-rule
}

// IsE164 reports whether r is the E164 pseudo-rule.
func (r *Rule) IsE164() bool { return r.re == nil }

// String returns the rule as "pattern -> replacement".
func (r *Rule) String() string {
	if r.IsE164() {
		return E164Rule
	}
	return r.Pattern + " -> " + r.Replacement
}

// Apply applies r to number. It reports whether the rule matched; a regular expression that runs
// past RuleMatchTimeout is an error.
func (r *Rule) Apply(number string) (output string, matched bool, err error) {
	if r.IsE164() {
		out, ok := applyE164(number)
		return out, ok, nil
	}
	m, err := r.re.FindStringMatch(number)
	if err != nil {
		return "", false, &RuleError{Line: r.Line, Msg: fmt.Sprintf("matching %q", number), Err: err}
	}
	if m == nil {
		return number, false, nil
	}
	out, err := r.re.Replace(number, r.Replacement, -1, -1)
	if err != nil {
		return "", false, &RuleError{Line: r.Line, Msg: fmt.Sprintf("replacing in %q", number), Err: err}
	}
	return out, true, nil
}

// applyE164 implements the E164 pseudo-rule.
func applyE164(number string) (string, bool) {
	var b strings.Builder
	b.WriteString("tel:+")
	digits := 0
	for i := 0; i < len(number); i++ {
		switch c := number[i]; {
		case c >= '0' && c <= '9':
			digits++
			if digits > e164MaxDigits {
				return number, false
			}
			b.WriteByte(c)
		case c == ' ' || c == '.' || c == '-' || c == '(' || c == ')':
		default:
			return number, false
		}
	}
	if digits == 0 {
		return number, false
	}
	return b.String(), true
}

// Rules is an ordered list of normalization rules; the first rule that matches wins.
type Rules []*Rule

// Result is the outcome of normalizing one number.
type Result struct {
	Input     string // the number as given
	Output    string // the normalized number; Input when no rule matched
	Matched   bool   // whether a rule matched
	RuleIndex int    // 0-based index of the matching rule in Rules, -1 when none matched
	Rule      *Rule  // the matching rule, nil when none matched
}

// TelURI returns Output as a tel: URI, the form the server stores normalized numbers in: Output
// itself when it already starts with "tel:" (in any case), else "tel:" + Output. It returns ""
// when no rule matched.
func (res Result) TelURI() string {
	if !res.Matched {
		return ""
	}
	if HasTelPrefix(res.Output) {
		return res.Output
	}
	return "tel:" + res.Output
}

// HasTelPrefix reports whether s starts with "tel:", compared case-insensitively.
func HasTelPrefix(s string) bool {
	return len(s) >= 4 && strings.EqualFold(s[:4], "tel:")
}

// Normalize runs number through the rules in order and returns the result of the first rule
// that matches, or an unmatched Result. The error is a *RuleError for a rule that exceeded
// RuleMatchTimeout.
func (rs Rules) Normalize(number string) (Result, error) {
	for i, r := range rs {
		out, ok, err := r.Apply(number)
		if err != nil {
			return Result{Input: number, Output: number, RuleIndex: -1}, err
		}
		if ok {
			return Result{Input: number, Output: out, Matched: true, RuleIndex: i, Rule: r}, nil
		}
	}
	return Result{Input: number, Output: number, RuleIndex: -1}, nil
}

// RuleError is an error in normalization rules text, or a rule that failed on a number. It is
// bad input: the rules need fixing.
type RuleError struct {
	File string // the rules file, when the rules came from one
	Line int    // 1-based line of the rule's pattern (or of the problem), 0 when unknown
	Msg  string // what was being done or what is wrong
	Err  error  // the underlying error, if any
}

func (e *RuleError) Error() string {
	s := "abs: normalization rules"
	if e.File != "" {
		s += " " + e.File
	}
	if e.Line > 0 {
		s += fmt.Sprintf(" line %d", e.Line)
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *RuleError) Unwrap() error { return e.Err }

// BadInput reports that a RuleError means bad input (the command line maps it to exit 2).
func (e *RuleError) BadInput() bool { return true }

// ParseRules parses normalization rules text: the rules block of an address book file (a trailing
// NUL is accepted) or the contents of Company_Phone_Number_Normalization_Rules.txt (a leading
// UTF-8 byte order mark is accepted). Errors are *RuleError values naming the line.
func ParseRules(text string) (Rules, error) {
	text = strings.TrimPrefix(text, "\uFEFF")
	text = strings.TrimSuffix(text, "\x00")
	if strings.IndexByte(text, 0) >= 0 {
		return nil, &RuleError{Line: 1 + strings.Count(text[:strings.IndexByte(text, 0)], "\n"), Msg: "NUL byte inside the rules text"}
	}
	lines := strings.Split(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1] // text ending in a line break
	}
	var rules Rules
	for i := 0; i < len(lines); i++ {
		pattern := strings.TrimSuffix(lines[i], "\r")
		if pattern == "" || strings.HasPrefix(pattern, "#") {
			continue
		}
		line := i + 1
		if pattern == E164Rule {
			// The pseudo-rule's second line is not used; a file may also end right after it.
			r := &Rule{Pattern: pattern, Line: line}
			if i+1 < len(lines) {
				i++
				r.Replacement = strings.TrimSuffix(lines[i], "\r")
			}
			rules = append(rules, r)
			continue
		}
		if i+1 >= len(lines) {
			return nil, &RuleError{Line: line, Msg: fmt.Sprintf("expression %q has no replacement line", pattern)}
		}
		i++
		replacement := strings.TrimSuffix(lines[i], "\r")
		r, err := compileRule(pattern, replacement, line)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// compileRule compiles one rule and checks its replacement.
func compileRule(pattern, replacement string, line int) (*Rule, error) {
	re, err := regexp2.Compile(pattern, regexp2.None)
	if err != nil {
		return nil, &RuleError{Line: line, Msg: fmt.Sprintf("bad .NET regular expression %q", pattern), Err: unwrapRegexpError(err)}
	}
	re.MatchTimeout = RuleMatchTimeout
	// Replace parses the replacement before it looks for a match: this validates it.
	if _, err := re.Replace("", replacement, -1, -1); err != nil {
		return nil, &RuleError{Line: line + 1, Msg: fmt.Sprintf("bad replacement %q", replacement), Err: err}
	}
	return &Rule{Pattern: pattern, Replacement: replacement, Line: line, re: re}, nil
}

// unwrapRegexpError drops regexp2's repetition of the expression from its parse errors.
func unwrapRegexpError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, " in `"); i > 0 {
		return errors.New(msg[:i])
	}
	return err
}

// ReadRulesFile reads and parses a rules file such as Company_Phone_Number_Normalization_Rules.txt.
// A file that cannot be read is returned as the os error; rules errors are *RuleError values
// with File set.
func ReadRulesFile(path string) (Rules, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rs, err := ParseRules(string(b))
	if re, ok := err.(*RuleError); ok {
		re.File = path
	}
	return rs, err
}
