package abs

// PROVISIONAL LAYOUT.
//
// Everything in this file is abkit's own choice for the parts of the address book format that no
// readable part of [MS-ABS] covers (tagged [PROVISIONAL] in docs/ms-abs.md). Each rule is chosen to
// be consistent with every known fact, and each is named by a Provisional* constant that the Reader
// records when a file depends on it, so that `abs info` and `abs probe` can say which parts of a
// file were read under a provisional layout. The day a real server file shows otherwise, this is
// the one file to correct.

import (
	"encoding/binary"
	"strings"
)

// Names of the provisional rules, as reported by (*Reader).ProvisionalParts.
const (
	// ProvisionalBlockOrder: header, ABF_NORMALIZATION_RULES, ABF_ATTRIBUTES, then ABF_CONTACT
	// records up to the trailer ([SPEC] 2.2.14), with no compression container.
	ProvisionalBlockOrder = "block order: header, rules, attribute table, contacts, trailer; uncompressed"
	// ProvisionalFullHeader: the 152-byte full header (the delta header without BaseCreationDate).
	ProvisionalFullHeader = "full header layout (152 bytes, delta header without BaseCreationDate)"
	// ProvisionalFullFileType: the full file's FileType GUID is unknown; any GUID other than the
	// delta and compact ones is taken as a full file when the rest parses.
	ProvisionalFullFileType = "full FileType GUID (any GUID that is neither delta nor compact)"
	// ProvisionalContact: ABF_CONTACT = u32 Length, 16-byte ContactId, u32 OuPathId, records.
	ProvisionalContact = "ABF_CONTACT layout (u32 Length, ContactId, u32 OuPathId, attribute records)"
	// ProvisionalMultiValue: a multi-valued attribute repeats its Id, one record per value, all
	// records of one attribute adjacent; in a normalized multi-valued attribute a record right
	// after a raw value is its normalized copy when it starts with "tel:".
	ProvisionalMultiValue = "multi-valued attributes (Id repeated, one record per value)"
	// ProvisionalEmpty: an empty attribute in a compact delta is Id + NUL (strings) or Id + FF FF
	// (binary).
	ProvisionalEmpty = "empty attributes in compact deltas (Id + lone NUL; FF FF binary)"
	// ProvisionalBinary: a binary value is u16 length + bytes.
	ProvisionalBinary = "binary values (u16 length + bytes)"
	// ProvisionalNoTrailer: the file was read as one without a trailer (see trailerRule).
	ProvisionalNoTrailer = "no trailer: the contact records run to the end of the file (see trailerRule)"
	// ProvisionalTrailerWritten: the trailer abkit writes is an empty body (LengthOfTrailer 0),
	// unless the caller passes one (Book.Trailer): the trailers' layouts could not be read.
	ProvisionalTrailerWritten = "trailer written by abkit: empty body, LengthOfTrailer 0"
	// ProvisionalPrefixCase: the smtp:/tel: prefixes of value types 0x4 and 0x5 are compared
	// without regard to case (Exchange writes SMTP: for a primary address).
	ProvisionalPrefixCase = "smtp:/tel: prefixes of types 0x4/0x5 compared without regard to case"
	// ProvisionalDeleted: a deleted object is a contact with no attribute records; a full file
	// has none.
	ProvisionalDeleted = "deleted objects (contact with no attribute records)"
)

// FullFileType is the FileType GUID abkit writes into full files: {6C3E5A1B-0F2D-4B8A-9E47-
// ABC0FFEE0001}, abkit's own value, not Microsoft's (which could not be read).
var FullFileType = GUID{0x1b, 0x5a, 0x3e, 0x6c, 0x2d, 0x0f, 0x8a, 0x4b, 0x9e, 0x47, 0xab, 0xc0, 0xff, 0xee, 0x00, 0x01}

// Full header: the delta header without BaseCreationDate.
const (
	fullHeaderSize    = 152
	fullOffDay        = 16
	fullOffNumAttrs   = 18
	fullOffMaxAttr    = 20
	fullOffUseNormRul = 22
)

// ABF_CONTACT: u32 Length (bytes after the field), ContactId, u32 OuPathId, records.
const (
	contactLenSize   = 4
	contactFixedSize = 20 // ContactId + OuPathId: the smallest Length (a deleted object)
)

// putContactHead writes the fixed part of an ABF_CONTACT whose records take n bytes.
func putContactHead(b []byte, n int, id GUID, ouPath uint32) {
	binary.LittleEndian.PutUint32(b[0:], uint32(contactFixedSize+n))
	copy(b[4:20], id[:])
	binary.LittleEndian.PutUint32(b[20:], ouPath)
}

// Value encodings that are not [SPEC].
const (
	binaryLenSize  = 2      // binary: u16 length + bytes
	binaryEmptyLen = 0xFFFF // empty binary attribute in a compact delta; also the length limit
)

// trailerRule: how a reader tells a file with a trailer from one without (abkit's files written
// before the trailer was known). [SPEC] says every file ends with a u32 LengthOfTrailer L and the
// trailer sits right before it, at T = size - 4 - L. The contact records are taken to end at T
// when
//
//  1. the file has at least 4 bytes after the attribute table and T is not before the first
//     contact record (else: no trailer), and
//  2. walking the records from the first one by their Length fields, one ends exactly at T (a
//     record that runs past T means no trailer: the records run to the end of the file), and
//  3. the bytes from T to the end of the file are not themselves whole contact records (if they
//     are, the file is an old one whose records happen to end at T; a real trailer followed by
//     its own length essentially never decodes as valid records, and abkit's empty trailer
//     cannot: a Length of 0 is too small).
//
// The walk is the decoding itself: nothing is read twice but the short tail of rule 3.

// qualifies reports whether a raw string value s may be stored for an attribute of value type t,
// and if not, what the type requires ([PRODUCT]: 0x4 only smtp: values containing @; 0x5 tel:
// values, or smtp: values containing @; ProvisionalPrefixCase).
func qualifies(t ValueType, s string) (bool, string) {
	smtp := len(s) >= 5 && strings.EqualFold(s[:5], "smtp:") && strings.IndexByte(s[5:], '@') >= 0
	switch t {
	case TypeSMTP:
		return smtp, "an smtp: value containing @ (type 0x4)"
	case TypeTelOrSMTP:
		return smtp || len(s) >= 4 && strings.EqualFold(s[:4], "tel:"), "a tel: value, or an smtp: value containing @ (type 0x5)"
	}
	return true, ""
}

// isNormalizedCopy reports whether the record s, which follows a raw value of a normalized
// attribute with the same Id, is that value's normalized copy. For single-valued attributes it
// always is ([SPEC]); for multi-valued ones it is when it starts with "tel:" (provisional).
func isNormalizedCopy(multi bool, s string) bool {
	return !multi || (len(s) >= 4 && s[:4] == "tel:")
}

// ApplyTrailerNote says what Apply does with trailers, for tools to report: the new full file
// carries the base full file's trailer body, as opaque bytes not checked against the new
// contents (a delta's trailer describes the delta).
const ApplyTrailerNote = "the new full file carries the base full file's trailer (opaque bytes, not checked against the new contents)"
