// Package ldif is abkit's one LDIF codec (RFC 2849): a streaming record scanner that keeps line
// numbers, the value codec (when a value is base64-encoded, folding at one width) and a writer
// whose output the scanner reads back to the same records, and that written again gives the same
// bytes. Every LDIF that abkit reads or writes goes through it: snapshots (in memory and
// streaming), ldap export -o ldif, sidmap undo and change files, dupes undo files.
//
// # What the scanner reads
//
// Content records, "changetype: add" records (ldifde writes one per entry) and change records
// (modify, delete, moddn), each reported with its kind, so that a caller refuses what it does not
// take. Comments (and their continuation lines), "version: 1", folded lines (joined in linear
// time), base64 values ("::"), LF and CRLF line ends, the empty DN (the root DSE), entries with a
// dn: line only, ldapsearch output without -LLL (search references — records of ref: lines — and
// the search:/result: trailer are records of their own kinds), a UTF-8 byte order mark, and
// UTF-16 (ldifde -u) told by its byte order mark: transcoded to UTF-8 as a stream (Decode), the
// lines numbered as in the file, invalid UTF-16 an *EncodingError that ends the scan. URL values
// ("attr:< file:///...") are refused: LDIF files are untrusted input and must never make abkit read
// other files.
//
// A record that cannot be read is an *Error (file, line, DN when known, what was wrong); the
// scanner then skips to the end of that record and goes on, so that one odd record never makes a
// file unreadable: the caller counts and reports it, or stops (strict mode).
//
// # Memory
//
// The scanner reuses its memory from record to record: the unfolded line, the decoded values
// (back to back in one buffer) and the attribute slice. A Record and its values are valid until
// the next call to Next; a caller that keeps them copies them once (Record.Entry makes one copy
// of the values, shared by the entry's string and byte forms). Attribute names are interned.
// Over input already in memory (ResetBytes), lines that are not folded are not copied at all.
//
// # Why not github.com/go-ldap/ldif
//
// The project prefers go-ldap/ldif, and its test suite uses it as an independent reader of what
// Writer writes. Its model cannot carry what abkit needs: it reports no line numbers (errors name
// no line, records no first line), stops at the first bad record instead of skipping it, refuses
// the empty value "attr:" and so the root DSE's "dn:", and entries with a dn: line only, has no
// kind for search references or ldapsearch's result trailer, returns attributes in map order,
// allocates every value as a new string, reads "attr:< file://" URLs from the local disk (unsafe
// for untrusted files) and folds with repeated string concatenation (quadratic in the line).
//
// # Value codec
//
// A value is written plain when it is an RFC 2849 SAFE-STRING restricted to printable ASCII
// (0x20-0x7E), does not start with a space, ':' or '<' and does not end with a space (readers
// may strip it). Everything else is base64 ("attr:: ..."), and so is the empty value, written
// "attr::" (go-ldap/ldif and ldapmodify read it; "attr:" is not read by every tool). Lines are
// folded at FoldWidth bytes.
package ldif
