package abs

import (
	"errors"
	"fmt"
	"io"
)

// ErrTruncated is wrapped by the FormatError for a file that ends inside a structure; it wraps
// io.ErrUnexpectedEOF.
var ErrTruncated = fmt.Errorf("abs: truncated file: %w", io.ErrUnexpectedEOF)

// FormatError reports bytes that do not match the expected layout.
type FormatError struct {
	Offset    int64  // file offset of the offending bytes
	Structure string // e.g. "ABF_ATTRIBUTE.Length"
	Expected  string // what the layout requires there
	Found     string // what the file has
	Err       error  // an underlying cause such as ErrTruncated, or nil
}

// Error names the offset in hex and decimal, the structure, what was expected and what was found.
func (e *FormatError) Error() string {
	return fmt.Sprintf("abs: offset 0x%X (%d): %s: expected %s, found %s", e.Offset, e.Offset, e.Structure, e.Expected, e.Found)
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }

// BadInput marks a malformed file as bad input (exit status 2 in the CLI).
func (e *FormatError) BadInput() bool { return true }

// UnsupportedError reports a file abkit does not decode, e.g. one that may be compressed or of an
// unknown layout. abkit never guesses past it.
type UnsupportedError struct {
	Offset int64  // where decoding stopped
	Reason string // what is not supported
	Err    error  // the FormatError that led to it, or nil
}

// Error names the offset in hex and decimal and the reason.
func (e *UnsupportedError) Error() string {
	s := fmt.Sprintf("abs: unsupported file at offset 0x%X (%d): %s", e.Offset, e.Offset, e.Reason)
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

// Unwrap returns the FormatError that led to the verdict.
func (e *UnsupportedError) Unwrap() error { return e.Err }

// BadInput marks an unsupported file as bad input (exit status 2 in the CLI).
func (e *UnsupportedError) BadInput() bool { return true }

// ErrorOffset returns the file offset named by a FormatError or UnsupportedError in err's chain.
func ErrorOffset(err error) (int64, bool) {
	var fe *FormatError
	if errors.As(err, &fe) {
		return fe.Offset, true
	}
	var ue *UnsupportedError
	if errors.As(err, &ue) {
		return ue.Offset, true
	}
	return 0, false
}

func truncated(off int64, structure string, need, have int64) error {
	return &FormatError{Offset: off, Structure: structure,
		Expected: fmt.Sprintf("%d bytes", need),
		Found:    fmt.Sprintf("%d bytes before the end of the file", max(have, 0)),
		Err:      ErrTruncated}
}

// ErrBooleanValue is wrapped by the FormatError for a record of a type-0x3 (Boolean string)
// attribute: such an attribute never has a value in a contact ([PRODUCT]: TRUE excludes the
// object from the file, FALSE includes it without the attribute).
var ErrBooleanValue = errors.New("abs: a value for a type-0x3 (Boolean string) attribute")
