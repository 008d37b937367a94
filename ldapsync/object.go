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
	return newObject(e, nil, false)
}

// newObject is ObjectFromEntry over the attributes of e whose names want accepts (nil: all).
// With copyRaw, Object.Raw gets its own slices of e's byte values (one allocation), so that e's
// attribute structs and value slices may be reused once it returns.
func newObject(e *ldap.Entry, want func(name string) bool, copyRaw bool) *Object {
	kept := func(a *ldap.EntryAttribute) bool { return want == nil || want(a.Name) }
	n, vals := 0, 0
	for _, a := range e.Attributes {
		if kept(a) {
			n, vals = n+1, vals+len(a.ByteValues)
		}
	}
	mem := &objectMem{Object: Object{DN: e.DN, Raw: make(map[string][][]byte, n)}}
	o := &mem.Object
	var room [][]byte
	if copyRaw {
		room = make([][]byte, 0, vals)
	}
	var byField objectFieldAttrs
	for _, a := range e.Attributes {
		if !kept(a) {
			continue
		}
		raw := a.ByteValues
		if copyRaw {
			start := len(room)
			room = append(room, raw...)
			raw = room[start:len(room):len(room)]
		}
		o.Raw[a.Name] = raw
		if f := objectFieldOf(a.Name); f != 0 && byField[f] == nil {
			byField[f] = a
		}
	}
	decodeObjectFields(o, &byField, &mem.storage)
	return o
}

// objectMem is an Object and the room of its decoded fields, allocated together.
type objectMem struct {
	Object
	storage objectStorage
}

// Fields of Object that decodeObjectFields fills, numbered from 1 (0: an attribute it does not
// decode). objectFieldNames gives each one's attribute name.
const (
	fieldGUID = iota + 1
	fieldSID
	fieldMasterSID
	fieldOriginatorSID
	fieldPrimaryUserAddress
	fieldUserEnabled
	fieldPrimaryHomeServer
	fieldOptionFlags
	fieldLine
	fieldProxyAddresses
	fieldMail
	fieldDisplayName
	fieldSAMAccountName
	fieldUserPrincipalName
	fieldTelephoneNumber
	fieldSourceObjectDN
	fieldUserAccountControl
	fieldGroupType
	fieldHideFromAddressLists
	fieldObjectClass
	numObjectFields
)

// objectFieldNames are the attribute names of the decoded fields, by field number; warnings
// name attributes this way.
var objectFieldNames = [numObjectFields]string{
	fieldGUID: AttrObjectGUID, fieldSID: AttrObjectSid, fieldMasterSID: AttrMasterAccountSid,
	fieldOriginatorSID: AttrOriginatorSid, fieldPrimaryUserAddress: AttrPrimaryUserAddress,
	fieldUserEnabled: AttrUserEnabled, fieldPrimaryHomeServer: AttrPrimaryHomeServer,
	fieldOptionFlags: AttrOptionFlags, fieldLine: AttrLine, fieldProxyAddresses: AttrProxyAddresses,
	fieldMail: AttrMail, fieldDisplayName: AttrDisplayName, fieldSAMAccountName: AttrSAMAccountName,
	fieldUserPrincipalName: AttrUserPrincipalName, fieldTelephoneNumber: AttrTelephoneNumber,
	fieldSourceObjectDN: AttrSourceObjectDN, fieldUserAccountControl: AttrUserAccountControl,
	fieldGroupType: AttrGroupType, fieldHideFromAddressLists: AttrHideFromAddressLists,
	fieldObjectClass: AttrObjectClass,
}

// objectFieldOf returns the field number of an attribute name in any case, 0 for others,
// without allocating.
func objectFieldOf(name string) int {
	for f := 1; f < numObjectFields; f++ {
		if n := objectFieldNames[f]; len(n) == len(name) && strings.EqualFold(n, name) {
			return f
		}
	}
	return 0
}

// objectFieldAttrs holds, by field number, the entry's first attribute of that name (nil: none).
type objectFieldAttrs [numObjectFields]*ldap.EntryAttribute

// objectStorage is room for the values an Object points to, so that a caller decoding many
// entries can give each object its pointers from one allocation; nil: allocate each.
type objectStorage struct {
	ints    [3]int64 // msRTCSIP-OptionFlags, userAccountControl, groupType
	bools   [2]bool  // msRTCSIP-UserEnabled, msExchHideFromAddressLists
	proxies [8]string
}

// decodeObjectFields fills o's decoded fields from the attributes in byField, recording what
// cannot be decoded in o.Warnings. It is the one decoder of attribute values behind
// ObjectFromEntry and the streaming snapshot reader. A field whose attribute has no value
// (string values for text, integers and booleans; byte values for SIDs and the GUID) is left
// unset. The pointers and proxy lists use m's room.
func decodeObjectFields(o *Object, byField *objectFieldAttrs, m *objectStorage) {
	warn := func(f int, format string, args ...any) {
		o.Warnings = append(o.Warnings, fmt.Sprintf("%s: %s: %s", o.DN, objectFieldNames[f], fmt.Sprintf(format, args...)))
	}
	str := func(f int) (string, bool) {
		if a := byField[f]; a != nil && len(a.Values) > 0 {
			return a.Values[0], true
		}
		return "", false
	}
	raw := func(f int) ([]byte, bool) {
		if a := byField[f]; a != nil && len(a.ByteValues) > 0 {
			return a.ByteValues[0], true
		}
		return nil, false
	}
	text := func(f int) string {
		v, _ := str(f)
		return v
	}
	sid := func(f int, dst *SID) {
		v, ok := raw(f)
		if !ok {
			return
		}
		s, note, ok := sidValue(v)
		if note != "" {
			warn(f, "%s", note)
		}
		if ok {
			*dst = s
		}
	}
	integer := func(f int, n *int64) *int64 {
		v, ok := str(f)
		if !ok {
			return nil
		}
		i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			warn(f, "not an integer: %q", v)
			return nil
		}
		*n = i
		return n
	}
	boolean := func(f int, b *bool) *bool {
		v, ok := str(f)
		if !ok {
			return nil
		}
		switch strings.ToUpper(strings.TrimSpace(v)) {
		case "TRUE":
			*b = true
		case "FALSE":
			*b = false
		default:
			warn(f, "not a boolean: %q", v)
			return nil
		}
		return b
	}

	if v, ok := raw(fieldGUID); ok {
		if g, err := GUIDFromBytes(v); err != nil {
			warn(fieldGUID, "%v", err)
		} else {
			o.GUID = g
		}
	}
	sid(fieldSID, &o.SID)
	sid(fieldMasterSID, &o.MasterSID)
	sid(fieldOriginatorSID, &o.OriginatorSID)
	o.PrimaryUserAddress = text(fieldPrimaryUserAddress)
	o.SIPEnabled = boolean(fieldUserEnabled, &m.bools[0])
	o.PrimaryHomeServer = text(fieldPrimaryHomeServer)
	o.OptionFlags = integer(fieldOptionFlags, &m.ints[0])
	o.Line = text(fieldLine)
	if a := byField[fieldProxyAddresses]; a != nil {
		o.ProxySIP, o.ProxySMTP, o.ProxyOther = splitProxyAddresses(a.Values, m.proxies[:])
	}
	o.Mail, o.DisplayName = text(fieldMail), text(fieldDisplayName)
	o.SAMAccountName, o.UserPrincipalName = text(fieldSAMAccountName), text(fieldUserPrincipalName)
	o.TelephoneNumber, o.SourceObjectDN = text(fieldTelephoneNumber), text(fieldSourceObjectDN)
	o.UserAccountControl = integer(fieldUserAccountControl, &m.ints[1])
	o.GroupType = integer(fieldGroupType, &m.ints[2])
	if h := boolean(fieldHideFromAddressLists, &m.bools[1]); h != nil {
		o.HiddenFromGAL = *h
	}
	var classes []string
	if a := byField[fieldObjectClass]; a != nil {
		classes = a.Values
	}
	o.Kind = kindOf(classes)
}

// sidValue decodes one SID value as abkit accepts it (binary, or S-1-... text) and returns the
// warning to record for it: the decoding error (ok is false), a note that it is stored as text,
// or "".
func sidValue(v []byte) (s SID, note string, ok bool) {
	s, asText, err := DecodeSIDValue(v)
	switch {
	case err != nil:
		return SID{}, err.Error(), false
	case asText:
		return s, fmt.Sprintf("SID stored as text %q, accepted", string(v)), true
	}
	return s, "", true
}

// Kinds of proxyAddresses values, as proxyKind tells them apart.
const (
	proxySIP = iota
	proxySMTP
	proxyOther
)

// proxyKind classifies a proxyAddresses value by its prefix, in any case: sip:, smtp: or other.
func proxyKind(p string) int {
	switch {
	case len(p) >= 4 && strings.EqualFold(p[:4], "sip:"):
		return proxySIP
	case len(p) >= 5 && strings.EqualFold(p[:5], "smtp:"):
		return proxySMTP
	}
	return proxyOther
}

// splitProxyAddresses returns the sip:, smtp: and other proxyAddresses values, as stored and in
// order; a kind with no value gets nil. When the values fit in room, the lists are slices of it
// (counted first) and need no allocation.
func splitProxyAddresses(values, room []string) (sip, smtp, other []string) {
	lists := [3]*[]string{&sip, &smtp, &other}
	if len(values) <= len(room) {
		var n [3]int
		for _, p := range values {
			n[proxyKind(p)]++
		}
		off := 0
		for k, l := range lists {
			if n[k] > 0 {
				*l = room[off : off : off+n[k]]
				off += n[k]
			}
		}
	}
	for _, p := range values {
		l := lists[proxyKind(p)]
		*l = append(*l, p)
	}
	return sip, smtp, other
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
