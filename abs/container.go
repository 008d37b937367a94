package abs

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"strings"
)

// The compression container named by [MS-ABS] (a COMPRESSED_BLOCK_HEADER with a CRC-32) could
// not be read. ProbeContainer looks for one without assuming its layout: it tries a few generic
// block-header layouts and the public decompressors the Go standard library offers, and names a
// container only when checks prove it. XPRESS ([MS-XCA]) and LZX are not tried: no maintained Go
// package offers them (see docs/ms-abs.md).

// ContainerCheck is one check ProbeContainer made on a candidate, and whether it passed.
type ContainerCheck struct {
	Check  string `json:"check"` // what was checked
	Passed bool   `json:"passed"`
	Detail string `json:"detail"` // where, and what was found
}

// ContainerCandidate is one container layout and decompressor that got past the first check.
type ContainerCandidate struct {
	Name     string           `json:"name"` // e.g. "blocks [stored size u32, decoded size u32, CRC-32 u32] + raw deflate"
	Checks   []ContainerCheck `json:"checks"`
	Proven   bool             `json:"proven"`    // every check passed: the file is this container
	FileType GUID             `json:"file_type"` // the first 16 decoded bytes
}

// ContainerReport is what ProbeContainer found.
type ContainerReport struct {
	Tried      []string             `json:"tried"`      // the candidates tried, by name
	Candidates []ContainerCandidate `json:"candidates"` // those that passed at least their first check
	Named      string               `json:"named"`      // the proven candidate's name; "" when none is proven
	FileType   GUID                 `json:"file_type"`  // the FileType the decoded stream starts with, when Named
}

// Bounds of the container probe: what one block and a whole decoded stream may expand to.
const (
	containerMaxBlock  = 64 << 20
	containerMaxStream = 1 << 30
	containerMaxBlocks = 1 << 16 // 4 GiB in blocks of 64 KiB: more blocks are not a container tried here
	msZipWindow        = 32 << 10
)

// blockLayout is a block header: u32 (or u16) fields in order, each 'C' (stored bytes after the
// header), 'U' (decoded bytes) or 'K' (CRC-32).
type blockLayout struct {
	fields string
	width  []int // bytes per field
}

func (l blockLayout) size() int {
	n := 0
	for _, w := range l.width {
		n += w
	}
	return n
}

func (l blockLayout) String() string {
	var parts []string
	for i, f := range l.fields {
		name := map[rune]string{'C': "stored size", 'U': "decoded size", 'K': "CRC-32"}[f]
		parts = append(parts, fmt.Sprintf("%s u%d", name, 8*l.width[i]))
	}
	return "blocks [" + strings.Join(parts, ", ") + "]"
}

var blockLayouts = func() []blockLayout {
	var out []blockLayout
	for _, f := range []string{"CUK", "UCK", "KCU", "KUC", "CKU", "UKC"} {
		out = append(out, blockLayout{f, []int{4, 4, 4}})
	}
	out = append(out, blockLayout{"CK", []int{4, 4}}, blockLayout{"KC", []int{4, 4}},
		blockLayout{"KCU", []int{4, 2, 2}}) // the last like a CAB CFDATA header, with a CRC-32
	return out
}()

// block is one block of a tiling: its header values and where its stored bytes are.
type block struct {
	off, c, u int64 // payload offset, stored size, decoded size (-1: not in the header)
	crc       uint32
}

// tile walks headers of layout l from offset 0 and returns the blocks when their sizes tile the
// file exactly in at most containerMaxBlocks blocks, the first of at least 16 stored bytes.
func tile(r io.ReaderAt, size int64, l blockLayout) []block {
	var out []block
	hs := int64(l.size())
	var hb [12]byte
	for off := int64(0); off < size; {
		if size-off < hs || len(out) >= containerMaxBlocks {
			return nil
		}
		if n, _ := r.ReadAt(hb[:hs], off); int64(n) < hs {
			return nil
		}
		b := block{u: -1}
		p := 0
		for i, f := range l.fields {
			var v int64
			if l.width[i] == 4 {
				v = int64(binary.LittleEndian.Uint32(hb[p:]))
			} else {
				v = int64(binary.LittleEndian.Uint16(hb[p:]))
			}
			p += l.width[i]
			switch f {
			case 'C':
				b.c = v
			case 'U':
				b.u = v
			case 'K':
				b.crc = uint32(v)
			}
		}
		b.off = off + hs
		if b.c == 0 || b.c > size-b.off || b.u > containerMaxBlock || b.u == 0 || (len(out) == 0 && b.c < 16) {
			return nil
		}
		out = append(out, b)
		off = b.off + b.c
	}
	return out
}

// codec decodes one block's stored bytes; dict is the end of the previous block's output.
type codec struct {
	name   string
	decode func(p io.Reader, dict []byte) (io.Reader, error)
}

var blockCodecs = []codec{
	{"stored", func(p io.Reader, _ []byte) (io.Reader, error) { return p, nil }},
	{"raw deflate", func(p io.Reader, _ []byte) (io.Reader, error) { return flate.NewReader(p), nil }},
	{"zlib", func(p io.Reader, _ []byte) (io.Reader, error) { return zlib.NewReader(p) }},
	{"MSZIP ('CK' + deflate, the previous block's output as dictionary)", func(p io.Reader, dict []byte) (io.Reader, error) {
		var ck [2]byte
		if _, err := io.ReadFull(p, ck[:]); err != nil || ck != [2]byte{'C', 'K'} {
			return nil, errors.New("no 'CK' signature")
		}
		return flate.NewReaderDict(p, dict), nil
	}},
}

// tailWriter hashes what is written, counts it, keeps its first 16 bytes and its last 32 KiB.
type tailWriter struct {
	h     hash.Hash32
	n     int64
	head  []byte
	tail  []byte
	limit int64
}

func (t *tailWriter) Write(p []byte) (int, error) {
	if t.n+int64(len(p)) > t.limit {
		return 0, fmt.Errorf("decodes to more than %d bytes", t.limit)
	}
	t.h.Write(p)
	t.n += int64(len(p))
	if len(t.head) < 16 {
		t.head = append(t.head, p[:min(len(p), 16-len(t.head))]...)
	}
	t.tail = append(t.tail, p...)
	if len(t.tail) > 2*msZipWindow {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-msZipWindow:]...)
	}
	return len(p), nil
}

func (t *tailWriter) dict() []byte {
	if len(t.tail) > msZipWindow {
		return t.tail[len(t.tail)-msZipWindow:]
	}
	return t.tail
}

// ProbeContainer looks for a compression container around an address book stream in the
// size-byte file in r: block-structured containers (block headers whose sizes tile the file, each
// block's CRC-32 matching its stored or its decoded bytes) with stored, raw deflate, zlib or
// MSZIP blocks, and whole-file gzip, zlib and raw deflate. A candidate is proven, and named, only
// when every check passes and the decoded stream starts with a known FileType GUID (delta,
// compact or abkit's full). Memory stays bounded: decoded bytes are hashed, not kept.
func ProbeContainer(r io.ReaderAt, size int64) *ContainerReport {
	rep := &ContainerReport{}
	for _, l := range blockLayouts {
		blocks := tile(r, size, l)
		for _, c := range blockCodecs {
			name := l.String() + " + " + c.name
			rep.Tried = append(rep.Tried, name)
			if blocks == nil {
				continue
			}
			if cand, ok := tryBlocks(r, blocks, c); ok {
				cand.Name = name
				rep.add(cand)
			}
		}
	}
	for _, w := range wholeCodecs {
		rep.Tried = append(rep.Tried, "whole file: "+w.name)
		if cand, ok := tryWhole(r, size, w); ok {
			cand.Name = "whole file: " + w.name
			rep.add(cand)
		}
	}
	return rep
}

func (rep *ContainerReport) add(c ContainerCandidate) {
	rep.Candidates = append(rep.Candidates, c)
	if c.Proven && rep.Named == "" {
		rep.Named, rep.FileType = c.Name, c.FileType
	}
}

// tryBlocks decodes every block with c, checking each CRC-32. It reports a candidate once the
// first block decodes and its CRC matches.
func tryBlocks(r io.ReaderAt, blocks []block, c codec) (ContainerCandidate, bool) {
	cand := ContainerCandidate{}
	tw := &tailWriter{h: crc32.NewIEEE(), limit: containerMaxStream}
	crcOK, over := 0, ""
	for i, b := range blocks {
		raw := crc32.NewIEEE()
		if _, err := io.Copy(raw, io.NewSectionReader(r, b.off, b.c)); err != nil {
			return cand, false
		}
		dict := tw.dict()
		bw := &tailWriter{h: crc32.NewIEEE(), limit: containerMaxBlock}
		dec, err := c.decode(io.NewSectionReader(r, b.off, b.c), dict)
		if err == nil {
			_, err = io.Copy(io.MultiWriter(bw, tw), dec)
		}
		if err != nil || (b.u >= 0 && bw.n != b.u) || (c.name == "stored" && b.u >= 0 && b.u != b.c) {
			if i == 0 {
				return cand, false
			}
			cand.Checks = append(cand.Checks, ContainerCheck{"every block decodes", false,
				fmt.Sprintf("block %d at 0x%X does not (%v, %d bytes)", i, b.off, err, bw.n)})
			return cand, true
		}
		match := ""
		switch {
		case raw.Sum32() == b.crc && c.name == "stored":
			match = "stored"
		case bw.h.Sum32() == b.crc:
			match = "decoded"
		case raw.Sum32() == b.crc:
			match = "stored"
		}
		if match == "" {
			if i == 0 {
				return cand, false
			}
			cand.Checks = append(cand.Checks, ContainerCheck{"CRC-32 of every block", false,
				fmt.Sprintf("block %d at 0x%X: header 0x%08X, stored bytes 0x%08X, decoded bytes 0x%08X", i, b.off, b.crc, raw.Sum32(), bw.h.Sum32())})
			return cand, true
		}
		if over == "" {
			over = match
		}
		crcOK++
	}
	cand.Checks = append(cand.Checks,
		ContainerCheck{"block sizes tile the file", true, fmt.Sprintf("%d blocks from 0x0 to the end", len(blocks))},
		ContainerCheck{"every block decodes", true, fmt.Sprintf("%d bytes decoded", tw.n)},
		ContainerCheck{"CRC-32 of every block", true, fmt.Sprintf("%d of %d blocks match, over their %s bytes", crcOK, len(blocks), over)},
		guidCheck(tw.head))
	cand.Proven = cand.Checks[len(cand.Checks)-1].Passed
	copy(cand.FileType[:], tw.head)
	return cand, true
}

// wholeCodec decodes a whole file; its own checksum (if any) is verified by the decoder.
type wholeCodec struct {
	name     string
	checksum string // what the format verifies itself
	open     func(io.Reader) (io.Reader, error)
}

var wholeCodecs = []wholeCodec{
	{"gzip", "gzip's CRC-32 and length", func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
	{"zlib", "zlib's Adler-32", func(r io.Reader) (io.Reader, error) { return zlib.NewReader(r) }},
	{"raw deflate", "", func(r io.Reader) (io.Reader, error) { return flate.NewReader(r), nil }},
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// tryWhole decodes the whole file with w. It reports a candidate once the first 16 decoded bytes
// are there.
func tryWhole(r io.ReaderAt, size int64, w wholeCodec) (ContainerCandidate, bool) {
	cand := ContainerCandidate{}
	cr := &countReader{r: io.NewSectionReader(r, 0, size)}
	br := bufio.NewReaderSize(cr, 64<<10) // a flate.Reader: the decoders read no further than it
	dec, err := w.open(br)
	if err != nil {
		return cand, false
	}
	tw := &tailWriter{h: crc32.NewIEEE(), limit: containerMaxStream}
	_, err = io.Copy(tw, dec)
	if len(tw.head) < 16 {
		return cand, false
	}
	cand.Checks = append(cand.Checks, ContainerCheck{"the whole file decodes", err == nil,
		fmt.Sprintf("%d bytes decoded (%v)", tw.n, err)})
	if w.checksum != "" {
		cand.Checks = append(cand.Checks, ContainerCheck{w.checksum, err == nil, "verified by the decoder"})
	}
	used := cr.n - int64(br.Buffered())
	cand.Checks = append(cand.Checks, ContainerCheck{"the stream ends at the end of the file", used == size,
		fmt.Sprintf("the stream takes %d of %d bytes", used, size)}, guidCheck(tw.head))
	copy(cand.FileType[:], tw.head)
	cand.Proven = true
	for _, c := range cand.Checks {
		cand.Proven = cand.Proven && c.Passed
	}
	return cand, true
}

// guidCheck checks that a decoded stream starts with a known FileType GUID.
func guidCheck(head []byte) ContainerCheck {
	c := ContainerCheck{Check: "the decoded stream starts with a known FileType GUID"}
	if len(head) < 16 {
		c.Detail = fmt.Sprintf("only %d bytes decoded", len(head))
		return c
	}
	var g GUID
	copy(g[:], head)
	switch {
	case bytes.Equal(g[:], DeltaFileType[:]):
		c.Passed, c.Detail = true, "{"+g.String()+"}: delta ([SPEC])"
	case bytes.Equal(g[:], CompactFileType[:]):
		c.Passed, c.Detail = true, "{"+g.String()+"}: compact delta ([SPEC])"
	case bytes.Equal(g[:], FullFileType[:]):
		c.Passed, c.Detail = true, "{"+g.String()+"}: full, abkit's own"
	default:
		c.Detail = "{" + g.String() + "}: not a known FileType"
	}
	return c
}

// String formats the report: the candidates with each check, then the verdict.
func (rep *ContainerReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "container probe: %d candidates tried (block layouts x stored/deflate/zlib/MSZIP, whole-file gzip/zlib/deflate; XPRESS and LZX not available)\n", len(rep.Tried))
	for _, c := range rep.Candidates {
		fmt.Fprintf(&b, "  candidate %s\n", c.Name)
		for _, k := range c.Checks {
			mark := "FAILED"
			if k.Passed {
				mark = "passed"
			}
			fmt.Fprintf(&b, "    %s: %s (%s)\n", mark, k.Check, k.Detail)
		}
	}
	if rep.Named == "" {
		b.WriteString("  no container proven: nothing is claimed\n")
	} else {
		fmt.Fprintf(&b, "  container: %s, holding a stream with FileType {%s}\n", rep.Named, rep.FileType)
	}
	return b.String()
}
