// Package ldapsync reads Active Directory (and LDAP servers carrying the AD/OCS schema) for abkit:
// users, contacts and groups with their msRTCSIP-* and msExch* attributes, SIDs as S-1-5-21-...,
// GUIDs in Windows text form. A Source is either a live forest, searched with a streaming paged
// search, or an LDIF snapshot, so that every feature works on live forests and on files alike.
//
// # Security
//
// Certificate verification is on unless explicitly turned off; a simple bind over an unencrypted
// connection to a non-loopback host is refused unless explicitly allowed; passwords come from an
// environment variable, a file or a prompt, never from the command line. Values read from the
// wire are validated (SID length and count, GUID length) before use.
//
// # Limits
//
// Referrals are reported, never chased. A snapshot is held in memory (about twice the size of
// its file); live searches hold at most one page. Kerberos uses gokrb5, whose calls to the KDC
// follow its own timeouts rather than the context. NTLM is tried as SASL "NTLM" (Samba) and
// then as Microsoft's "Sicily" bind (Windows AD); only the first is tested against a real
// server here.
package ldapsync

import (
	"context"
	"iter"

	"github.com/go-ldap/ldap/v3"
)

// SearchRequest says what to read from a Source. The zero value reads every object carrying a SIP
// address or an OCS/Exchange SID attribute under the source's base DN, with ObjectAttributes.
type SearchRequest struct {
	Base       string   // "" = the source's base DN
	Filter     string   // "" = DefaultFilter
	Attributes []string // nil = ObjectAttributes; "*" for all

	SizeLimit int // at most this many objects (0 = no limit of the request's own); exceeding it is an error
	TimeLimit int // seconds the server may spend (0 = no limit of the request's own); live sources only

	// Referral receives each continuation reference (a URL to another server) met during a live
	// search. Referrals are never chased; nil drops them.
	Referral func(url string)
}

// DefaultFilter selects objects carrying a SIP address or an OCS/Exchange SID attribute.
const DefaultFilter = "(|(msRTCSIP-PrimaryUserAddress=*)(proxyAddresses=sip:*)(msRTCSIP-OriginatorSid=*)(msExchMasterAccountSid=*))"

// Source is a forest to read: live (a server) or an LDIF snapshot.
type Source interface {
	// Name is the forest's configured name.
	Name() string
	// BaseDN is the default search base.
	BaseDN() string
	// Search streams matching objects one at a time; a live source fetches one page at a time.
	// An error ends the sequence; objects already yielded stay valid.
	Search(ctx context.Context, req SearchRequest) iter.Seq2[*Object, error]
	// Close releases the connection, if any.
	Close() error
}

// EntrySearcher is a Source that can also stream raw entries, as LDIF export needs them (binary
// values exact, every attribute kept). Both Forest and Snapshot implement it.
type EntrySearcher interface {
	Source
	SearchEntries(ctx context.Context, req SearchRequest) iter.Seq2[*ldap.Entry, error]
}

// Modifier applies changes to a live directory. Snapshots are read-only.
type Modifier interface {
	Modify(ctx context.Context, req *ldap.ModifyRequest) error
}
