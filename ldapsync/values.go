package ldapsync

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
)

// IsSIDAttribute reports whether attr holds binary SIDs (objectSid, sIDHistory,
// msExchMasterAccountSid, msRTCSIP-OriginatorSid), case-insensitively.
func IsSIDAttribute(attr string) bool { return sidAttributes[strings.ToLower(attr)] }

// isSIDName is IsSIDAttribute without allocating, for per-entry checks.
func isSIDName(name string) bool {
	switch len(name) {
	case len(AttrObjectSid):
		return strings.EqualFold(name, AttrObjectSid)
	case len("sIDHistory"):
		return strings.EqualFold(name, "sIDHistory")
	case len(AttrMasterAccountSid): // == len(AttrOriginatorSid)
		return strings.EqualFold(name, AttrMasterAccountSid) || strings.EqualFold(name, AttrOriginatorSid)
	}
	return false
}

// FormatValue returns the text form of one attribute value for people and JSON/CSV: SIDs as
// S-1-..., objectGUID in Windows GUID text, UTF-8 strings as they are, other bytes as
// "base64:...". A malformed SID or GUID is returned as "invalid:<hex>" with the error.
func FormatValue(attr string, v []byte) (string, error) {
	switch {
	case IsSIDAttribute(attr):
		s, _, err := DecodeSIDValue(v)
		if err != nil {
			return fmt.Sprintf("invalid:%x", v), err
		}
		return s.String(), nil
	case binaryAttributes[strings.ToLower(attr)]:
		g, err := GUIDFromBytes(v)
		if err != nil {
			return fmt.Sprintf("invalid:%x", v), err
		}
		return g.String(), nil
	case utf8.Valid(v):
		return string(v), nil
	}
	return "base64:" + base64.StdEncoding.EncodeToString(v), nil
}

// EntryWarnings checks the SID and GUID values of a raw entry the way ObjectFromEntry does, but
// without decoding the rest: one message per malformed value, and one per SID stored as text.
func EntryWarnings(e *ldap.Entry) []string {
	var out []string
	for _, a := range e.Attributes {
		switch {
		case isSIDName(a.Name):
			for _, v := range a.ByteValues {
				if _, asText, err := DecodeSIDValue(v); err != nil {
					out = append(out, fmt.Sprintf("%s: %s: %v", e.DN, a.Name, err))
				} else if asText {
					out = append(out, fmt.Sprintf("%s: %s: SID stored as text %q, accepted", e.DN, a.Name, string(v)))
				}
			}
		case len(a.Name) == len(AttrObjectGUID) && strings.EqualFold(a.Name, AttrObjectGUID):
			for _, v := range a.ByteValues {
				if _, err := GUIDFromBytes(v); err != nil {
					out = append(out, fmt.Sprintf("%s: %s: %v", e.DN, a.Name, err))
				}
			}
		}
	}
	return out
}
