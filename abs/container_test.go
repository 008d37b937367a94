package abs

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// blockCompress compresses one block with the named codec; prev is the output so far (MSZIP's
// dictionary).
func blockCompress(t testing.TB, codec string, block, prev []byte) []byte {
	var buf bytes.Buffer
	switch codec {
	case "stored":
		return block
	case "deflate":
		w, _ := flate.NewWriter(&buf, flate.BestCompression)
		w.Write(block)
		w.Close()
	case "zlib":
		w := zlib.NewWriter(&buf)
		w.Write(block)
		w.Close()
	case "mszip":
		buf.WriteString("CK")
		w, _ := flate.NewWriterDict(&buf, flate.BestCompression, prev[max(0, len(prev)-msZipWindow):])
		w.Write(block)
		w.Close()
	default:
		t.Fatalf("codec %s", codec)
	}
	return buf.Bytes()
}

// blockContainer splits stream into blocks of n bytes, each with a [stored size u32, decoded
// size u32, CRC-32 u32] header; crcOfDecoded says which bytes the CRC covers.
func blockContainer(t testing.TB, stream []byte, n int, codec string, crcOfDecoded bool) []byte {
	var out []byte
	for i := 0; i < len(stream); i += n {
		block := stream[i:min(i+n, len(stream))]
		c := blockCompress(t, codec, block, stream[:i])
		crc := crc32.ChecksumIEEE(c)
		if crcOfDecoded {
			crc = crc32.ChecksumIEEE(block)
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(len(c)))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(block)))
		out = binary.LittleEndian.AppendUint32(out, crc)
		out = append(out, c...)
	}
	return out
}

func wholeCompress(codec string, stream []byte) []byte {
	var buf bytes.Buffer
	switch codec {
	case "gzip":
		w := gzip.NewWriter(&buf)
		w.Write(stream)
		w.Close()
	case "zlib":
		w := zlib.NewWriter(&buf)
		w.Write(stream)
		w.Close()
	default:
		w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
		w.Write(stream)
		w.Close()
	}
	return buf.Bytes()
}

// containerSamples builds a delta sample wrapped in each supported container, by the name the
// probe must give it.
func containerSamples(t testing.TB) map[string][]byte {
	stream, err := os.ReadFile(filepath.Join(sampleDir, "D-0A10-0A11.lsabs"))
	if err != nil {
		t.Fatal(err)
	}
	layout := "blocks [stored size u32, decoded size u32, CRC-32 u32] + "
	return map[string][]byte{
		layout + "stored":      blockContainer(t, stream, 1000, "stored", false),
		layout + "raw deflate": blockContainer(t, stream, 1000, "deflate", true),
		layout + "zlib":        blockContainer(t, stream, 1500, "zlib", false),
		layout + "MSZIP ('CK' + deflate, the previous block's output as dictionary)": blockContainer(t, stream, 700, "mszip", true),
		"whole file: gzip":        wholeCompress("gzip", stream),
		"whole file: zlib":        wholeCompress("zlib", stream),
		"whole file: raw deflate": wholeCompress("deflate", stream),
	}
}

// TestProbeNamesContainers: each container built here is named, with every check passed; a
// broken one and random bytes are not.
func TestProbeNamesContainers(t *testing.T) {
	for name, data := range containerSamples(t) {
		p := Probe(bytes.NewReader(data), int64(len(data)))
		c := p.Container
		if p.Err == nil || c == nil || c.Named != name || c.FileType != DeltaFileType {
			t.Errorf("%s: probe says %+v", name, c)
			continue
		}
		for _, cand := range c.Candidates {
			if cand.Name != name {
				continue
			}
			for _, k := range cand.Checks {
				if !k.Passed {
					t.Errorf("%s: check %q failed but the container is named", name, k.Check)
				}
			}
		}
		if s := c.String(); !strings.Contains(s, "container: "+name) || !strings.Contains(s, "passed: the decoded stream starts with a known FileType GUID") {
			t.Errorf("%s: report\n%s", name, s)
		}
	}
	// One corrupted byte in a later block: the CRC check fails there, nothing is named.
	data := containerSamples(t)["blocks [stored size u32, decoded size u32, CRC-32 u32] + stored"]
	data[len(data)-5] ^= 0x40
	c := Probe(bytes.NewReader(data), int64(len(data))).Container
	if c.Named != "" || !strings.Contains(c.String(), "FAILED: CRC-32 of every block") {
		t.Errorf("corrupted block: %s", c)
	}
	// Random bytes: no claim.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		b := make([]byte, 1+rng.IntN(70_000))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		if c := Probe(bytes.NewReader(b), int64(len(b))).Container; c == nil || c.Named != "" {
			t.Fatalf("random bytes: %+v", c)
		}
	}
}

// FuzzProbe: Probe never panics and never names a container whose checks did not all pass or
// whose stream does not start with a known FileType.
func FuzzProbe(f *testing.F) {
	for _, data := range containerSamples(f) {
		f.Add(data)
	}
	f.Add([]byte("CK\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := Probe(bytes.NewReader(data), int64(len(data)))
		c := p.Container
		if c == nil || c.Named == "" {
			return
		}
		if !guidCheck(c.FileType[:]).Passed {
			t.Fatalf("named %q with FileType %s", c.Named, c.FileType)
		}
		for _, cand := range c.Candidates {
			if cand.Name == c.Named {
				for _, k := range cand.Checks {
					if !k.Passed {
						t.Fatalf("named %q with check %q failed", c.Named, k.Check)
					}
				}
			}
		}
	})
}
