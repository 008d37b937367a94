package ldapsync

import (
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// TestObjectFromEntryDecodes pins what the one attribute decoder (behind ObjectFromEntry and
// the streaming snapshot reader) makes of good, unusual and bad values.
func TestObjectFromEntryDecodes(t *testing.T) {
	sid := MustParseSID("S-1-5-21-1-2-3-1104")
	master := MustParseSID("S-1-5-21-7-8-9-500")
	guid := MustParseGUID("96bd221f-8492-4450-abb2-2bd6828db27a")
	raw := func(name string, vs ...[]byte) *ldap.EntryAttribute {
		a := &ldap.EntryAttribute{Name: name, ByteValues: vs}
		for _, v := range vs {
			a.Values = append(a.Values, string(v))
		}
		return a
	}
	str := func(name string, vs ...string) *ldap.EntryAttribute {
		return ldap.NewEntryAttribute(name, vs)
	}
	e := &ldap.Entry{DN: "cn=alice,dc=x", Attributes: []*ldap.EntryAttribute{
		str("OBJECTCLASS", "top", "person", "User"),
		raw("objectGUID", guid[:]),
		raw("objectsid", sid.Bytes()),
		raw("msExchMasterAccountSid", []byte(master.String())), // text: accepted with a warning
		raw("msRTCSIP-OriginatorSid", []byte{1, 2, 3}),         // malformed
		str("msRTCSIP-UserEnabled", " true "),
		str("msRTCSIP-OptionFlags", "x17"),
		str("userAccountControl", "514"),
		str("groupType", "-2147483646"),
		str("msExchHideFromAddressLists", "maybe"),
		str("proxyAddresses", "SIP:Alice@x", "smtp:alice@x", "X500:/o=x", "sip:a2@x", "SMTP:A@x"),
		str("mail", "alice@x", "second@x"),
		str("msRTCSIP-PrimaryUserAddress", "sip:alice@x"),
	}}
	o := ObjectFromEntry(e)
	if o.Kind != KindUser || o.GUID != guid || o.SID != sid || o.MasterSID != master || !o.OriginatorSID.IsZero() {
		t.Errorf("kind %s guid %s sid %s master %s originator %s", o.Kind, o.GUID, o.SID, o.MasterSID, o.OriginatorSID)
	}
	if o.SIPEnabled == nil || !*o.SIPEnabled || o.OptionFlags != nil || o.UserAccountControl == nil || *o.UserAccountControl != 514 || !o.Disabled() {
		t.Errorf("enabled %v optionflags %v uac %v", o.SIPEnabled, o.OptionFlags, o.UserAccountControl)
	}
	if o.GroupType == nil || *o.GroupType != -2147483646 || !o.SecurityGroup() || o.Scope() != ScopeGlobal || o.HiddenFromGAL {
		t.Errorf("groupType %v hidden %v", o.GroupType, o.HiddenFromGAL)
	}
	if !slices.Equal(o.ProxySIP, []string{"SIP:Alice@x", "sip:a2@x"}) || !slices.Equal(o.ProxySMTP, []string{"smtp:alice@x", "SMTP:A@x"}) ||
		!slices.Equal(o.ProxyOther, []string{"X500:/o=x"}) {
		t.Errorf("proxies %q %q %q", o.ProxySIP, o.ProxySMTP, o.ProxyOther)
	}
	if o.Mail != "alice@x" || o.PrimaryUserAddress != "sip:alice@x" || o.DisplayName != "" || len(o.Raw) != len(e.Attributes) {
		t.Errorf("mail %q address %q display %q raw %d", o.Mail, o.PrimaryUserAddress, o.DisplayName, len(o.Raw))
	}
	want := []string{
		"cn=alice,dc=x: msExchMasterAccountSid: SID stored as text",
		"cn=alice,dc=x: msRTCSIP-OriginatorSid: ",
		`cn=alice,dc=x: msRTCSIP-OptionFlags: not an integer: "x17"`,
		`cn=alice,dc=x: msExchHideFromAddressLists: not a boolean: "maybe"`,
	}
	if len(o.Warnings) != len(want) {
		t.Fatalf("warnings %q, want %d", o.Warnings, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(o.Warnings[i], w) {
			t.Errorf("warning %d = %q, want it to start with %q", i, o.Warnings[i], w)
		}
	}
	// EntryWarnings checks the SIDs and the GUID the same way.
	if ew := EntryWarnings(e); len(ew) != 2 || ew[0] != o.Warnings[0] || !strings.HasPrefix(ew[1], "cn=alice,dc=x: msRTCSIP-OriginatorSid: ") {
		t.Errorf("EntryWarnings %q", ew)
	}
	// Nothing decodable: no values, no warnings, nil slices.
	empty := ObjectFromEntry(&ldap.Entry{DN: "cn=g", Attributes: []*ldap.EntryAttribute{str("objectClass", "group"), str("mail")}})
	if empty.Kind != KindGroup || empty.SIPEnabled != nil || empty.ProxySIP != nil || empty.Mail != "" || len(empty.Warnings) != 0 {
		t.Errorf("empty object %+v", empty)
	}
}
