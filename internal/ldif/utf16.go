package ldif

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// EncodingError is input that is not valid in the encoding its byte order mark names: a UTF-16
// file of an odd number of bytes, or with an unpaired surrogate. It ends the read (it is not a
// record that can be skipped).
type EncodingError struct {
	Path   string `json:"path,omitempty"` // file name ("" when read from a stream)
	Line   int    `json:"line"`           // 1-based line of the bad code unit
	Offset int64  `json:"offset"`         // byte offset of the bad code unit in the file
	Msg    string `json:"message"`        // what is wrong
}

func (e *EncodingError) Error() string {
	return fmt.Sprintf("%sbyte offset %d: %s", position(e.Path, e.Line), e.Offset, e.Msg)
}

// BadInput marks an undecodable input as bad input.
func (e *EncodingError) BadInput() bool { return true }

// Decode returns r as UTF-8. When r starts with a UTF-16 byte order mark (FF FE: little endian,
// as ldifde -u writes on Windows; FE FF: big endian) it returns a reader that transcodes r as a
// stream, the mark removed; invalid UTF-16 makes its Read fail with an *EncodingError naming
// path and the line. Otherwise it returns r with the two bytes it looked at put back, without
// transcoding. The encoding is told by the mark only, never guessed. Scanner does this itself;
// Decode is for callers that read LDIF bytes without a Scanner (splitting a file into blocks).
func Decode(r io.Reader, path string) io.Reader {
	var head [2]byte
	n, err := io.ReadFull(r, head[:])
	if order, ok := utf16Order(head[:n]); ok {
		return newUTF16Reader(r, order, path)
	}
	rest := r
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		rest = errReader{err}
	}
	return io.MultiReader(bytes.NewReader(head[:n]), rest)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// utf16Order tells the byte order of a UTF-16 byte order mark at the start of b.
func utf16Order(b []byte) (unicode.Endianness, bool) {
	switch {
	case len(b) < 2:
	case b[0] == 0xff && b[1] == 0xfe:
		return unicode.LittleEndian, true
	case b[0] == 0xfe && b[1] == 0xff:
		return unicode.BigEndian, true
	}
	return unicode.LittleEndian, false
}

// peekUTF16 tells whether br starts with a UTF-16 byte order mark and, if so, returns a reader
// of br's content as UTF-8 (the mark discarded).
func peekUTF16(br *bufio.Reader, path string) (io.Reader, bool) {
	b, _ := br.Peek(2)
	order, ok := utf16Order(b)
	if !ok {
		return nil, false
	}
	br.Discard(2)
	return newUTF16Reader(br, order, path), true
}

// newUTF16Reader transcodes r, UTF-16 in the given byte order after its byte order mark, to
// UTF-8: x/text's decoder, behind a check that turns what that decoder would replace by U+FFFD
// into an *EncodingError.
func newUTF16Reader(r io.Reader, order unicode.Endianness, path string) io.Reader {
	check := &utf16Check{big: order == unicode.BigEndian, path: path}
	check.Reset()
	dec := unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder()
	return transform.NewReader(r, transform.Chain(check, dec))
}

// utf16Check passes UTF-16 through unchanged, failing on an odd trailing byte and unpaired
// surrogates; it counts lines (U+000A) and bytes to say where.
type utf16Check struct {
	big  bool
	path string
	line int
	off  int64 // offset in the file of the next byte, the byte order mark counted
}

// Reset implements transform.Transformer.
func (c *utf16Check) Reset() { c.line, c.off = 1, 2 }

func (c *utf16Check) unit(b []byte) uint16 {
	if c.big {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return uint16(b[1])<<8 | uint16(b[0])
}

func (c *utf16Check) fail(at int, format string, args ...any) error {
	return &EncodingError{Path: c.path, Line: c.line, Offset: c.off + int64(at), Msg: "invalid UTF-16: " + fmt.Sprintf(format, args...)}
}

// Transform implements transform.Transformer.
func (c *utf16Check) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	defer func() { c.off += int64(nSrc) }()
	for nSrc+1 < len(src) {
		u, size := c.unit(src[nSrc:]), 2
		switch {
		case u >= 0xdc00 && u <= 0xdfff:
			return nDst, nSrc, c.fail(nSrc, "low surrogate %#04x without a high surrogate before it", u)
		case u >= 0xd800 && u <= 0xdbff:
			if nSrc+3 >= len(src) {
				if atEOF {
					return nDst, nSrc, c.fail(nSrc, "high surrogate %#04x at the end of the input", u)
				}
				return nDst, nSrc, transform.ErrShortSrc
			}
			if v := c.unit(src[nSrc+2:]); v < 0xdc00 || v > 0xdfff {
				return nDst, nSrc, c.fail(nSrc, "high surrogate %#04x followed by %#04x, not a low surrogate", u, v)
			}
			size = 4
		}
		if nDst+size > len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		copy(dst[nDst:], src[nSrc:nSrc+size])
		nDst, nSrc = nDst+size, nSrc+size
		if u == '\n' {
			c.line++
		}
	}
	if nSrc < len(src) {
		if atEOF {
			return nDst, nSrc, c.fail(nSrc, "odd number of bytes: a lone byte at the end of the input")
		}
		return nDst, nSrc, transform.ErrShortSrc
	}
	return nDst, nSrc, nil
}
