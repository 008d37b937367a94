// Package dupes finds duplicate SIP addresses and phone lines across Active Directory forests
// (live or LDIF snapshots), an address book file and the OCS back-end database, recommends which
// object keeps each address, and repairs the losers with a plan, conditional LDAP modifies, an
// undo LDIF and a database backup.
//
// Find works on compact facts: it streams every source once and keeps, per object, only its
// identity and a few flags, and per address a small object id; whole objects are never held.
// Plan re-reads the losing objects, so that every change is conditional on the exact values it
// removes (a value changed since the plan makes that item fail instead of being overwritten).
//
// # Limits
//
// An address book file does not record whether an entry is a user or a contact, nor whether it
// is enabled; such facts are reported as unknown for objects known only from the file. Snapshots
// are read-only: a plan can be shown for them, but only live forests are changed. Deleting an
// AbUserEntry row only helps when the AD object is fixed too (User Replicator writes the row
// again otherwise), so rows are deleted only for objects whose directory change succeeded.
package dupes
