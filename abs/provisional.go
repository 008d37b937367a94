package abs

// PROVISIONAL LAYOUT.
//
// Everything in this file is abkit's own choice for the parts of the address book format that no
// readable part of [MS-ABS] covers (tagged [PROVISIONAL] in docs/ms-abs.md). Each rule is chosen to
// be consistent with every known fact, and each is named by a Provisional* constant that the Reader
// records when a file depends on it, so that `abs info` and `abs probe` can say which parts of a
// file were read under a provisional layout. The day a real server file shows otherwise, this is
// the one file to correct.

import "encoding/binary"

// Names of the provisional rules, as reported by (*Reader).ProvisionalParts.
const (
	// ProvisionalBlockOrder: header, ABF_NORMALIZATION_RULES, ABF_ATTRIBUTES, then ABF_CONTACT
	// records up to the end of the stream, with no compression container.
	ProvisionalBlockOrder = "block order: header, rules, attribute table, contacts; uncompressed"
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
	// ProvisionalEmpty: an empty attribute in a compact delta is Id + NUL (strings), Id + FF FF
	// (binary) or Id + FF (boolean).
	ProvisionalEmpty = "empty attributes in compact deltas (Id + lone NUL; FF FF binary; FF boolean)"
	// ProvisionalBinary: a binary value is u16 length + bytes.
	ProvisionalBinary = "binary values (u16 length + bytes)"
	// ProvisionalBoolean: a boolean value is one byte, 0 or 1.
	ProvisionalBoolean = "boolean values (one byte, 0 or 1)"
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
	boolFalse      = 0
	boolTrue       = 1
	boolEmpty      = 0xFF // empty boolean attribute in a compact delta
)

// isNormalizedCopy reports whether the record s, which follows a raw value of a normalized
// attribute with the same Id, is that value's normalized copy. For single-valued attributes it
// always is ([SPEC]); for multi-valued ones it is when it starts with "tel:" (provisional).
func isNormalizedCopy(multi bool, s string) bool {
	return !multi || (len(s) >= 4 && s[:4] == "tel:")
}
