package ldapsync

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Matching rules for bitwise filters, understood by AD, Samba and OpenLDAP.
const (
	MatchingRuleBitAnd = "1.2.840.113556.1.4.803" // every bit of the value is set
	MatchingRuleBitOr  = "1.2.840.113556.1.4.804" // at least one bit of the value is set
)

// FilterError reports a search filter that cannot be parsed or evaluated.
type FilterError struct {
	Filter string
	Err    error
}

func (e *FilterError) Error() string {
	return fmt.Sprintf("ldapsync: bad filter %s: %v", e.Filter, e.Err)
}

func (e *FilterError) Unwrap() error { return e.Err }

// BadInput marks a bad filter as bad input.
func (e *FilterError) BadInput() bool { return true }

// sidAttributes hold binary SIDs: compared byte-exact, or as SIDs when a value or the assertion
// is the text form (AD accepts S-1-... in filters; Samba may store text).
var sidAttributes = map[string]bool{
	"objectsid": true, "sidhistory": true, "msexchmasteraccountsid": true, "msrtcsip-originatorsid": true,
}

// binaryAttributes are compared byte-exact (octet strings).
var binaryAttributes = map[string]bool{"objectguid": true}

// matcher evaluates a compiled filter against one entry.
type matcher func(e *ldap.Entry) bool

// compileFilter parses an RFC 4515 filter into an in-memory evaluator with the semantics of
// Active Directory: case-insensitive strings, byte-exact binary attributes (objectGUID, SIDs),
// integer comparison for numeric values, and the bitwise matching rules 803 and 804.
// Approximate matching is treated as equality.
func compileFilter(filter string) (matcher, error) {
	p, err := ldap.CompileFilter(filter)
	if err != nil {
		return nil, &FilterError{Filter: filter, Err: err}
	}
	m, err := compilePacket(p)
	if err != nil {
		return nil, &FilterError{Filter: filter, Err: err}
	}
	return m, nil
}

func compilePacket(p *ber.Packet) (matcher, error) {
	switch p.Tag {
	case ldap.FilterAnd, ldap.FilterOr:
		subs := make([]matcher, 0, len(p.Children))
		for _, c := range p.Children {
			m, err := compilePacket(c)
			if err != nil {
				return nil, err
			}
			subs = append(subs, m)
		}
		if p.Tag == ldap.FilterAnd {
			return func(e *ldap.Entry) bool {
				for _, m := range subs {
					if !m(e) {
						return false
					}
				}
				return true
			}, nil
		}
		return func(e *ldap.Entry) bool {
			for _, m := range subs {
				if m(e) {
					return true
				}
			}
			return false
		}, nil
	case ldap.FilterNot:
		if len(p.Children) != 1 {
			return nil, fmt.Errorf("not: %d operands, want 1", len(p.Children))
		}
		m, err := compilePacket(p.Children[0])
		if err != nil {
			return nil, err
		}
		return func(e *ldap.Entry) bool { return !m(e) }, nil
	case ldap.FilterPresent:
		attr := p.Data.String()
		return func(e *ldap.Entry) bool { return len(e.GetEqualFoldRawAttributeValues(attr)) > 0 }, nil
	case ldap.FilterEqualityMatch, ldap.FilterApproxMatch, ldap.FilterGreaterOrEqual, ldap.FilterLessOrEqual:
		if len(p.Children) != 2 {
			return nil, fmt.Errorf("comparison with %d parts, want 2", len(p.Children))
		}
		attr, want := p.Children[0].Data.String(), p.Children[1].Data.Bytes()
		cmp := valueComparer(attr, want)
		var ok func(int) bool
		switch p.Tag {
		case ldap.FilterGreaterOrEqual:
			ok = func(c int) bool { return c >= 0 }
		case ldap.FilterLessOrEqual:
			ok = func(c int) bool { return c <= 0 }
		default:
			ok = func(c int) bool { return c == 0 }
		}
		return anyValue(attr, func(v []byte) bool { return ok(cmp(v)) }), nil
	case ldap.FilterSubstrings:
		return compileSubstrings(p)
	case ldap.FilterExtensibleMatch:
		return compileExtensible(p)
	}
	return nil, fmt.Errorf("unsupported filter component (tag %d)", p.Tag)
}

// anyValue matches when any value of attr satisfies f.
func anyValue(attr string, f func([]byte) bool) matcher {
	return func(e *ldap.Entry) bool {
		for _, v := range e.GetEqualFoldRawAttributeValues(attr) {
			if f(v) {
				return true
			}
		}
		return false
	}
}

// valueComparer returns a function comparing a stored value with the assertion value (the sign
// of the result, as bytes.Compare).
func valueComparer(attr string, want []byte) func(v []byte) int {
	name := strings.ToLower(attr)
	switch {
	case sidAttributes[name]:
		wantSID, _, werr := DecodeSIDValue(want)
		return func(v []byte) int {
			if werr == nil {
				if got, _, err := DecodeSIDValue(v); err == nil {
					return strings.Compare(got.b, wantSID.b)
				}
			}
			return bytes.Compare(v, want)
		}
	case binaryAttributes[name]:
		return func(v []byte) int { return bytes.Compare(v, want) }
	}
	wantNum, numErr := strconv.ParseInt(string(want), 10, 64)
	wantFold := strings.ToLower(string(want))
	return func(v []byte) int {
		if numErr == nil {
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				switch {
				case n < wantNum:
					return -1
				case n > wantNum:
					return 1
				}
				return 0
			}
		}
		return strings.Compare(strings.ToLower(string(v)), wantFold)
	}
}

func compileSubstrings(p *ber.Packet) (matcher, error) {
	if len(p.Children) != 2 {
		return nil, fmt.Errorf("substring filter with %d parts, want 2", len(p.Children))
	}
	attr := p.Children[0].Data.String()
	var initial, final string
	var anys []string
	for _, c := range p.Children[1].Children {
		s := strings.ToLower(c.Data.String())
		switch c.Tag {
		case ldap.FilterSubstringsInitial:
			initial = s
		case ldap.FilterSubstringsAny:
			anys = append(anys, s)
		case ldap.FilterSubstringsFinal:
			final = s
		}
	}
	binary := binaryAttributes[strings.ToLower(attr)] || sidAttributes[strings.ToLower(attr)]
	return anyValue(attr, func(raw []byte) bool {
		v := string(raw)
		if !binary {
			v = strings.ToLower(v)
		}
		if !strings.HasPrefix(v, initial) {
			return false
		}
		v = v[len(initial):]
		for _, a := range anys {
			i := strings.Index(v, a)
			if i < 0 {
				return false
			}
			v = v[i+len(a):]
		}
		return strings.HasSuffix(v, final)
	}), nil
}

func compileExtensible(p *ber.Packet) (matcher, error) {
	var rule, attr, value string
	for _, c := range p.Children {
		switch c.Tag {
		case ldap.MatchingRuleAssertionMatchingRule:
			rule = c.Data.String()
		case ldap.MatchingRuleAssertionType:
			attr = c.Data.String()
		case ldap.MatchingRuleAssertionMatchValue:
			value = c.Data.String()
		case ldap.MatchingRuleAssertionDNAttributes:
			return nil, fmt.Errorf("dn attributes in extensible match are not supported")
		}
	}
	if attr == "" {
		return nil, fmt.Errorf("extensible match without an attribute is not supported")
	}
	switch rule {
	case "":
		cmp := valueComparer(attr, []byte(value))
		return anyValue(attr, func(v []byte) bool { return cmp(v) == 0 }), nil
	case MatchingRuleBitAnd, MatchingRuleBitOr:
		mask, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bitwise rule %s needs an integer, got %q", rule, value)
		}
		all := rule == MatchingRuleBitAnd
		return anyValue(attr, func(v []byte) bool {
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return false
			}
			// AD compares 32-bit attributes (groupType is signed): compare as unsigned 32-bit
			// when both sides fit, so that -2147483646 matches 2147483648.
			un, um := uint64(n), uint64(mask)
			if n >= -1<<31 && n < 1<<32 && mask >= -1<<31 && mask < 1<<32 {
				un, um = uint64(uint32(n)), uint64(uint32(mask))
			}
			if all {
				return un&um == um
			}
			return un&um != 0
		}), nil
	}
	return nil, fmt.Errorf("matching rule %s is not supported (only %s and %s)", rule, MatchingRuleBitAnd, MatchingRuleBitOr)
}
