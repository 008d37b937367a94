package ldapsync

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Kind is the kind of a directory object, as abkit tells them apart.
type Kind string

// Object kinds.
const (
	KindUser    Kind = "user"
	KindContact Kind = "contact"
	KindGroup   Kind = "group"
	KindOther   Kind = "other"
)

// Attribute names abkit reads.
const (
	AttrObjectGUID                  = "objectGUID"
	AttrObjectSid                   = "objectSid"
	AttrObjectClass                 = "objectClass"
	AttrMasterAccountSid            = "msExchMasterAccountSid"
	AttrOriginatorSid               = "msRTCSIP-OriginatorSid"
	AttrPrimaryUserAddress          = "msRTCSIP-PrimaryUserAddress"
	AttrUserEnabled                 = "msRTCSIP-UserEnabled"
	AttrPrimaryHomeServer           = "msRTCSIP-PrimaryHomeServer"
	AttrOptionFlags                 = "msRTCSIP-OptionFlags"
	AttrLine                        = "msRTCSIP-Line"
	AttrProxyAddresses              = "proxyAddresses"
	AttrMail                        = "mail"
	AttrDisplayName                 = "displayName"
	AttrSAMAccountName              = "sAMAccountName"
	AttrUserPrincipalName           = "userPrincipalName"
	AttrUserAccountControl          = "userAccountControl"
	AttrGroupType                   = "groupType"
	AttrHideFromAddressLists        = "msExchHideFromAddressLists"
	AttrTelephoneNumber             = "telephoneNumber"
	AttrSourceObjectDN              = "msDS-SourceObjectDN"
	uacAccountDisable               = 0x2
	groupTypeSecurity        uint32 = 0x80000000
)

// ObjectAttributes are the attributes Object decodes; searches ask for these by default.
var ObjectAttributes = []string{
	AttrObjectClass, AttrObjectGUID, AttrObjectSid, AttrMasterAccountSid, AttrOriginatorSid,
	AttrPrimaryUserAddress, AttrUserEnabled, AttrPrimaryHomeServer, AttrOptionFlags, AttrLine,
	AttrProxyAddresses, AttrMail, AttrDisplayName, AttrSAMAccountName, AttrUserPrincipalName,
	AttrUserAccountControl, AttrGroupType, AttrHideFromAddressLists, AttrTelephoneNumber,
	AttrSourceObjectDN,
}

// GroupScope is the scope bits of groupType.
type GroupScope string

// Group scopes.
const (
	ScopeGlobal      GroupScope = "global"
	ScopeDomainLocal GroupScope = "domain-local"
	ScopeUniversal   GroupScope = "universal"
)

// Object is one directory object with the attributes abkit understands decoded.
type Object struct {
	DN   string
	Kind Kind

	GUID          GUID // objectGUID; zero when absent
	SID           SID  // objectSid
	MasterSID     SID  // msExchMasterAccountSid
	OriginatorSID SID  // msRTCSIP-OriginatorSid

	PrimaryUserAddress string // msRTCSIP-PrimaryUserAddress, as stored
	SIPEnabled         *bool  // msRTCSIP-UserEnabled; nil when absent
	PrimaryHomeServer  string
	OptionFlags        *int64
	Line               string // msRTCSIP-Line

	ProxySIP   []string // proxyAddresses values with a sip: prefix, as stored
	ProxySMTP  []string // proxyAddresses values with an smtp: prefix, as stored
	ProxyOther []string // other proxyAddresses values

	Mail              string
	DisplayName       string
	SAMAccountName    string
	UserPrincipalName string
	TelephoneNumber   string
	SourceObjectDN    string

	UserAccountControl *int64
	GroupType          *int64
	HiddenFromGAL      bool // msExchHideFromAddressLists TRUE

	// Raw holds every attribute of the entry, decoded ones included, as returned.
	Raw map[string][][]byte

	// Warnings lists values that could not be decoded (the object is still returned) and values
	// accepted in an unusual form, such as a SID stored as text.
	Warnings []string
}

// Disabled reports whether userAccountControl has the ACCOUNTDISABLE bit.
func (o *Object) Disabled() bool {
	return o.UserAccountControl != nil && *o.UserAccountControl&uacAccountDisable != 0
}

// SecurityGroup reports whether the object is a security group (groupType bit 0x80000000).
func (o *Object) SecurityGroup() bool {
	return o.GroupType != nil && uint32(*o.GroupType)&groupTypeSecurity != 0
}

// Scope returns the group scope from groupType, or "" for non-groups.
func (o *Object) Scope() GroupScope {
	if o.GroupType == nil {
		return ""
	}
	switch gt := uint32(*o.GroupType); {
	case gt&0x2 != 0:
		return ScopeGlobal
	case gt&0x4 != 0:
		return ScopeDomainLocal
	case gt&0x8 != 0:
		return ScopeUniversal
	}
	return ""
}

// SIPAddresses returns every SIP address of the object — msRTCSIP-PrimaryUserAddress and the
// sip: proxyAddresses — normalized by NormalizeSIP and without repeats.
func (o *Object) SIPAddresses() []string {
	var out []string
	seen := map[string]bool{}
	add := func(v string) {
		n := NormalizeSIP(v)
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	add(o.PrimaryUserAddress)
	for _, p := range o.ProxySIP {
		add(p)
	}
	return out
}

// NormalizeSIP returns a SIP address in the form used for comparison: surrounding spaces removed,
// the sip: prefix dropped whatever its case, lower case. "" when nothing is left.
func NormalizeSIP(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 4 && strings.EqualFold(v[:4], "sip:") {
		v = strings.TrimSpace(v[4:])
	}
	return strings.ToLower(v)
}

// ObjectFromEntry decodes an LDAP entry. It never fails: values that cannot be decoded are
// recorded in Object.Warnings, naming the DN and attribute.
func ObjectFromEntry(e *ldap.Entry) *Object {
	o := &Object{DN: e.DN, Raw: make(map[string][][]byte, len(e.Attributes))}
	warn := func(attr, format string, args ...any) {
		o.Warnings = append(o.Warnings, fmt.Sprintf("%s: %s: %s", e.DN, attr, fmt.Sprintf(format, args...)))
	}
	for _, a := range e.Attributes {
		o.Raw[a.Name] = a.ByteValues
	}
	first := func(name string) (string, bool) {
		v := e.GetEqualFoldAttributeValues(name)
		if len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	firstRaw := func(name string) ([]byte, bool) {
		v := e.GetEqualFoldRawAttributeValues(name)
		if len(v) == 0 {
			return nil, false
		}
		return v[0], true
	}
	sid := func(name string, dst *SID) {
		raw, ok := firstRaw(name)
		if !ok {
			return
		}
		s, asText, err := DecodeSIDValue(raw)
		if err != nil {
			warn(name, "%v", err)
			return
		}
		if asText {
			warn(name, "SID stored as text %q, accepted", string(raw))
		}
		*dst = s
	}
	integer := func(name string) *int64 {
		v, ok := first(name)
		if !ok {
			return nil
		}
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			warn(name, "not an integer: %q", v)
			return nil
		}
		return &n
	}
	boolean := func(name string) *bool {
		v, ok := first(name)
		if !ok {
			return nil
		}
		switch strings.ToUpper(strings.TrimSpace(v)) {
		case "TRUE":
			b := true
			return &b
		case "FALSE":
			b := false
			return &b
		}
		warn(name, "not a boolean: %q", v)
		return nil
	}

	if raw, ok := firstRaw(AttrObjectGUID); ok {
		g, err := GUIDFromBytes(raw)
		if err != nil {
			warn(AttrObjectGUID, "%v", err)
		} else {
			o.GUID = g
		}
	}
	sid(AttrObjectSid, &o.SID)
	sid(AttrMasterAccountSid, &o.MasterSID)
	sid(AttrOriginatorSid, &o.OriginatorSID)

	o.PrimaryUserAddress, _ = first(AttrPrimaryUserAddress)
	o.SIPEnabled = boolean(AttrUserEnabled)
	o.PrimaryHomeServer, _ = first(AttrPrimaryHomeServer)
	o.OptionFlags = integer(AttrOptionFlags)
	o.Line, _ = first(AttrLine)
	for _, p := range e.GetEqualFoldAttributeValues(AttrProxyAddresses) {
		switch {
		case len(p) >= 4 && strings.EqualFold(p[:4], "sip:"):
			o.ProxySIP = append(o.ProxySIP, p)
		case len(p) >= 5 && strings.EqualFold(p[:5], "smtp:"):
			o.ProxySMTP = append(o.ProxySMTP, p)
		default:
			o.ProxyOther = append(o.ProxyOther, p)
		}
	}
	o.Mail, _ = first(AttrMail)
	o.DisplayName, _ = first(AttrDisplayName)
	o.SAMAccountName, _ = first(AttrSAMAccountName)
	o.UserPrincipalName, _ = first(AttrUserPrincipalName)
	o.TelephoneNumber, _ = first(AttrTelephoneNumber)
	o.SourceObjectDN, _ = first(AttrSourceObjectDN)
	o.UserAccountControl = integer(AttrUserAccountControl)
	o.GroupType = integer(AttrGroupType)
	if h := boolean(AttrHideFromAddressLists); h != nil {
		o.HiddenFromGAL = *h
	}
	o.Kind = kindOf(e.GetEqualFoldAttributeValues(AttrObjectClass))
	return o
}

// kindOf classifies by objectClass: group, contact, then user (computers count as other).
func kindOf(classes []string) Kind {
	has := func(c string) bool {
		for _, v := range classes {
			if strings.EqualFold(v, c) {
				return true
			}
		}
		return false
	}
	switch {
	case has("group"):
		return KindGroup
	case has("contact"):
		return KindContact
	case has("computer"):
		return KindOther
	case has("user") || has("inetOrgPerson"):
		return KindUser
	}
	return KindOther
}
