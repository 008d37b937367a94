package sidmap

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/abkit/abkit/ldapsync"
)

// SIDs Exchange and Windows put where a user-forest SID would be.
var (
	// SIDSelf is NT AUTHORITY\SELF (S-1-5-10). Exchange stamps it as msExchMasterAccountSid on
	// shared, room, equipment and system mailboxes: they have no linked master account.
	SIDSelf = ldapsync.MustParseSID("S-1-5-10")
)

// wellKnownNames gives the reason a well-known SID (one without a domain part) is no user-forest
// account, by SID.
var wellKnownNames = map[string]string{
	"S-1-5-10": "SELF (S-1-5-10): a shared, room, equipment or system mailbox with no linked master account",
	"S-1-5-18": "LocalSystem (S-1-5-18): a system mailbox, not a person",
	"S-1-5-19": "LocalService (S-1-5-19): a service identity, not a person",
	"S-1-5-20": "NetworkService (S-1-5-20): a service identity, not a person",
	"S-1-1-0":  "Everyone (S-1-1-0): a group of all users, not an account",
	"S-1-5-7":  "Anonymous Logon (S-1-5-7): not an account",
	"S-1-5-11": "Authenticated Users (S-1-5-11): a group, not an account",
	"S-1-3-0":  "Creator Owner (S-1-3-0): a placeholder, not an account",
}

// subAuthorities returns the authority and sub-authorities of sid.
func subAuthorities(sid ldapsync.SID) (authority uint64, subs []uint32) {
	b := sid.Bytes()
	if len(b) < 8 {
		return 0, nil
	}
	for _, x := range b[2:8] {
		authority = authority<<8 | uint64(x)
	}
	for i := 8; i+4 <= len(b); i += 4 {
		subs = append(subs, binary.LittleEndian.Uint32(b[i:]))
	}
	return authority, subs
}

// domainOf returns the domain part of an account SID S-1-5-21-a-b-c-RID (S-1-5-21-a-b-c), and
// false for a well-known SID, which has none.
func domainOf(sid ldapsync.SID) (ldapsync.SID, bool) {
	auth, subs := subAuthorities(sid)
	if auth != 5 || len(subs) < 2 || subs[0] != 21 {
		return ldapsync.SID{}, false
	}
	b := sid.Bytes()
	d := append([]byte{b[0], b[1] - 1}, b[2:len(b)-4]...)
	out, err := ldapsync.ParseSIDBytes(d)
	return out, err == nil
}

// wellKnownReason says why sid is no user-forest account when it is a well-known SID (no domain
// part); "" for an account SID or no SID.
func wellKnownReason(sid ldapsync.SID) string {
	if sid.IsZero() {
		return ""
	}
	if _, ok := domainOf(sid); ok {
		return ""
	}
	if r, ok := wellKnownNames[sid.String()]; ok {
		return r
	}
	if strings.HasPrefix(sid.String(), "S-1-5-32-") {
		return fmt.Sprintf("BUILTIN alias %s: a local group, not an account", sid)
	}
	return fmt.Sprintf("well-known SID %s: no domain part, so no user-forest account", sid)
}
