// Package abs reads and writes the address book files of the OCS 2007 / 2007 R2 and Lync Address
// Book Server: F-XXXX.lsabs full files, D-XXXX-YYYY.lsabs deltas, C-XXXX-YYYY.lsabs compact
// deltas and their .dabs device counterparts (format: docs/ms-abs.md, after [MS-ABS]).
//
// A Reader decodes a file held in an io.ReaderAt: NewReader (or Open) reads the header, the
// normalization rules text and the attribute table, and Contacts streams the contacts as a Go
// iterator without holding the file in memory (ContactsReused is the faster variant for callers
// that look at each contact once, ContactsTransient the fastest, for callers done with each
// contact's strings too before the next). Each Value says whether it is a raw string, the server's
// normalized copy of the phone number before it, a binary value (its raw bytes in Str, like a
// string's text), or (compact deltas) an empty attribute. A type-0x3 (Boolean string) attribute
// never has a value in a contact: a file with one is reported (ErrBooleanValue). Trailer and
// TrailerBody give the [MS-ABS] 2.2.14 trailer that ends every file, kept as opaque bytes. Contact helpers find values by attribute name, tell groups apart and list
// normalized SIP addresses; Summarize counts users, groups and deleted objects.
//
// A Writer writes full, delta and compact files (attributes and records in descending Id order,
// like the server); Book, ReadBook, Apply, Diff and Changes work on whole files in memory
// (ChangesStream compares two Readers as they stream, ApplyStream applies a delta Reader to a
// full file Reader as they stream, writing the result as it goes); Generate and
// NextDay make deterministic synthetic books; Dump prints the `ABServer.exe -dumpfile` text;
// Probe and HexView say how far a file matches the layout and show the bytes where it stops;
// ProbeContainer looks for a compression container and names one only when checks prove it;
// CheckValues reports values their attribute's type (0x4, 0x5) excludes.
// ParseFileName and FileName convert between F-/D-/C- names and days (Day, day 0 = 2001-01-01).
//
// # Provisional layout
//
// Parts of the format could not be read from the specification: the full header and its FileType
// GUID, the ABF_CONTACT record, multi-valued attributes, empty attributes in compact deltas,
// binary values, deleted objects, the order of the blocks, how a file without a trailer is told
// apart and which trailer abkit writes (an empty one), and a compression container, which this
// package does not decode: a file that does not parse as an uncompressed stream is reported as an
// UnsupportedError, never guessed at. abkit's choices for them all live
// in provisional.go; Reader.ProvisionalParts names those a file was read under, so that tools can
// say so. Full files written here carry FullFileType, abkit's own GUID.
//
// # Limits
//
// Attribute Ids are referenced by their low byte in contact records, so a table whose Ids share a
// low byte is rejected. Records of one attribute must be adjacent in a contact. A file's
// normalization rules are exposed as text (RulesText); ParseRules (or ReadRulesFile) turns such
// text into Rules, and Rules.Normalize evaluates them on a number the way the server does, with
// .NET regular-expression semantics (github.com/dlclark/regexp2, each match bounded by
// RuleMatchTimeout; see rules.go). CRC-32 checks belong to the unread container layer and are
// not made.
//
// # Security
//
// Files are untrusted input. Every length and count is checked against the file size before it
// is used, nothing is allocated from an unchecked count, reads grow their buffers only as data
// arrives, a contact larger than the 256 KiB read window is decoded record by record, and one
// value (MaxValueSize), one contact (MaxContactRecords) and the rules (MaxRulesSize) are
// bounded, so memory follows what is kept, not what a file claims. Malformed input yields a
// *FormatError (offset, structure, expected, found) or *UnsupportedError, never a panic (and a
// record ApplyStream cannot apply an *ApplyError: file, offset, ContactId). All three
// have BadInput() so the CLI exits with status 2. Truncation errors wrap ErrTruncated and
// io.ErrUnexpectedEOF. Open refuses anything but a regular file before opening it;
// NewReaderContext stops iterations when its context is done. The package is fuzzed
// (FuzzReader, FuzzTrailer, FuzzProbe).
package abs
