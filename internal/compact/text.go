// Package compact holds the pointer-free building blocks of the indexes that checks keep over a
// whole forest (dupes, sidmap verify): strings stored back to back in an arena, and SIDs as two
// integers with their domains interned. A million objects kept this way cost tens of bytes
// each instead of the kilobytes of a decoded ldapsync.Object, and give the garbage collector
// nothing to scan.
package compact

// TextRef locates a string in a Text arena; the zero value is "".
type TextRef struct {
	chunk, off, n uint32
}

// Len returns the length of the string in bytes.
func (r TextRef) Len() int { return int(r.n) }

// Text stores strings back to back in pointer-free chunks. The zero value is ready to use.
type Text struct {
	chunks [][]byte
}

// TextChunk is the size of an arena chunk; a longer string gets a chunk of its own.
const TextChunk = 1 << 20

// Add copies s into the arena.
func (a *Text) Add(s string) TextRef {
	if s == "" {
		return TextRef{}
	}
	last := len(a.chunks) - 1
	if last < 0 || len(a.chunks[last])+len(s) > cap(a.chunks[last]) {
		a.chunks = append(a.chunks, make([]byte, 0, max(TextChunk, len(s))))
		last++
	}
	c := &a.chunks[last]
	ref := TextRef{chunk: uint32(last), off: uint32(len(*c)), n: uint32(len(s))}
	*c = append(*c, s...)
	return ref
}

// Bytes returns the text of r without copying; the caller must not change it.
func (a *Text) Bytes(r TextRef) []byte {
	if r.n == 0 {
		return nil
	}
	return a.chunks[r.chunk][r.off : r.off+r.n]
}

// String returns the text of r as a new string.
func (a *Text) String(r TextRef) string { return string(a.Bytes(r)) }
