package abs

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/abs sample files and golden outputs")

// sampleDir holds the committed sample files; sampleFiles makes them (go test ./abs -run
// TestSamples -update).
const sampleDir = "../testdata/abs"

// sampleBooks returns the sample address books by file name: two consecutive days of a small
// company, their delta and compact delta, and device files.
func sampleBooks(t testing.TB) map[string]*Book {
	t.Helper()
	day1 := Generate(GenOptions{Contacts: 36, Seed: 2008, Duplicates: 2, Day: 0x0A10})
	day2 := NextDay(day1, ChangeOptions{Seed: 2009, Added: 2, Deleted: 2, Modified: 4})
	// Make sure the compact delta has an empty attribute: a user loses a mobile number.
	for i, c := range day2.Contacts {
		if c.Attr(idMobile) != nil && c.Attr(idSIP) != nil {
			d := &Contact{ID: c.ID, OuPathID: c.OuPathID}
			d.Values = slices.DeleteFunc(slices.Clone(c.Values), func(v Value) bool { return v.AttrID == idMobile })
			day2.Contacts[i] = d
			break
		}
	}
	dev1 := Generate(GenOptions{Contacts: 12, Seed: 2008, Day: 0x0A10, Device: true})
	dev2 := NextDay(dev1, ChangeOptions{Seed: 2010, Added: 1, Deleted: 1, Modified: 2})
	books := map[string]*Book{"F-0A10.lsabs": day1, "F-0A11.lsabs": day2, "F-0A10.dabs": dev1}
	var err error
	if books["D-0A10-0A11.lsabs"], err = Diff(day1, day2, false); err != nil {
		t.Fatal(err)
	}
	if books["C-0A10-0A11.lsabs"], err = Diff(day1, day2, true); err != nil {
		t.Fatal(err)
	}
	if books["D-0A10-0A11.dabs"], err = Diff(dev1, dev2, false); err != nil {
		t.Fatal(err)
	}
	return books
}

// brokenFiles derives deliberately broken files from the full sample, each with what makes it
// broken.
func brokenFiles(t testing.TB, full []byte) map[string][]byte {
	t.Helper()
	r, err := NewReader(bytes.NewReader(full), int64(len(full)))
	if err != nil {
		t.Fatal(err)
	}
	first, second := contactOffsets(t, r)
	out := map[string][]byte{}
	// Cut in the middle of the second contact.
	out["truncated.lsabs"] = slices.Clone(full[:second+30])
	// The first contact's Length points past the end of the file.
	b := slices.Clone(full)
	binary.LittleEndian.PutUint32(b[first:], uint32(len(full)))
	out["bad-length.lsabs"] = b
	// The last string of the first contact loses its NUL (the next contact follows directly).
	b = slices.Clone(full)
	if b[second-1] != 0 {
		t.Fatal("the first contact does not end with a NUL-terminated string")
	}
	b[second-1] = 'x'
	out["no-nul.lsabs"] = b
	// The first record of the first contact gets an Id byte the table does not have.
	b = slices.Clone(full)
	b[first+contactLenSize+contactFixedSize] = 0xEE
	out["unknown-attribute.lsabs"] = b
	// NumberOfAttributes far larger than the file.
	b = slices.Clone(full)
	binary.LittleEndian.PutUint16(b[fullOffNumAttrs:], 0xFFFF)
	out["attribute-count.lsabs"] = b
	// The first contact's first record becomes a value of the type-0x3 attribute
	// msExchHideFromAddressLists, which never has one.
	b = slices.Clone(full)
	b[first+contactLenSize+contactFixedSize] = 20
	out["boolean-value.lsabs"] = b
	// An unknown FileType followed by bytes that are no header: compressed or unknown.
	b = slices.Clone(full[:400])
	for i := range b {
		b[i] = byte(i*131 + 7)
	}
	out["unknown-layout.lsabs"] = b
	return out
}

// contactOffsets returns the offsets of the first two contacts of r.
func contactOffsets(t testing.TB, r *Reader) (int64, int64) {
	var offs []int64
	for c, err := range r.Contacts() {
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, c.Offset)
		if len(offs) == 2 {
			break
		}
	}
	return offs[0], offs[1]
}

// summary is the golden text of a decoded file: header, tables, provisional parts, dump.
func summary(r *Reader, dumpErr error, dump string) string {
	var b strings.Builder
	h := r.Header
	fmt.Fprintf(&b, "Kind %s\nFileType {%s}\nBaseDay %s (%s)\nDay %s (%s)\nNumberOfAttributes %d\nMaximumAttributeId %d\nUseNormalizationRules %t\n",
		h.Kind, h.FileType, h.BaseDay, h.BaseTime().Format("2006-01-02"), h.Day, h.Time().Format("2006-01-02"),
		h.NumberOfAttributes, h.MaximumAttributeID, h.UseNormalizationRules)
	fmt.Fprintf(&b, "Layout %+v\nRules %q\n", r.Layout, r.RulesText())
	for _, a := range r.Attributes() {
		fmt.Fprintf(&b, "Attribute %d %s %s\n", a.ID, a.Name, a.Flags)
	}
	if dumpErr == nil {
		tr, err := r.Trailer()
		body, berr := r.TrailerBody()
		fmt.Fprintf(&b, "Trailer %+v %v body %q %v\n", tr, err, body, berr)
	}
	for _, p := range r.ProvisionalParts() {
		fmt.Fprintf(&b, "Provisional %s\n", p)
	}
	if dumpErr != nil {
		fmt.Fprintf(&b, "Error %v\n", dumpErr)
	}
	b.WriteString("\n" + dump)
	return b.String()
}

func decodeSummary(data []byte) (string, error) {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return "", err
	}
	var dump bytes.Buffer
	derr := Dump(&dump, r)
	return summary(r, derr, dump.String()), derr
}

// TestSamples checks that the committed sample files are what the generator makes, and that each
// decodes to its golden text (-update rewrites both).
func TestSamples(t *testing.T) {
	books := sampleBooks(t)
	files := map[string][]byte{}
	for name, b := range books {
		files[name] = writeBook(t, b)
	}
	for name, data := range brokenFiles(t, files["F-0A10.lsabs"]) {
		files["broken/"+name] = data
	}
	// A file without a trailer, as abkit wrote them before the trailer was known: the empty
	// trailer's LengthOfTrailer removed.
	files["legacy/F-0A10.lsabs"] = files["F-0A10.lsabs"][:len(files["F-0A10.lsabs"])-4]
	// The same book with an opaque 24-byte trailer body.
	withTrailer := *books["F-0A10.lsabs"]
	withTrailer.Trailer = []byte("opaque trailer \x00\x01\x02\x03\xfe\xff\x10\x20\x30")
	files["trailer/F-0A10.lsabs"] = writeBook(t, &withTrailer)
	if *update {
		for name, data := range files {
			p := filepath.Join(sampleDir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(sampleDir, name))
		if err != nil {
			t.Fatalf("%v (run go test ./abs -run TestSamples -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: committed file differs from the generator's output (run with -update)", name)
		}
	}
	for name, b := range books {
		fn, err := ParseFileName(name)
		if err != nil || fn != b.Header.FileName(fn.Device) || b.Header.FileName(fn.Device).String() != name {
			t.Errorf("%s: name %+v (%v) does not match header %+v", name, fn, err, b.Header)
		}
	}
}

// TestGolden decodes every sample file, good and broken, against its golden text and expected
// error.
func TestGolden(t *testing.T) {
	tests := []struct {
		file    string
		wantErr string // substring of the error; "" = decodes
		is      error  // errors.Is target, or nil
		unsup   bool   // an *UnsupportedError
	}{
		{file: "F-0A10.lsabs"},
		{file: "F-0A11.lsabs"},
		{file: "D-0A10-0A11.lsabs"},
		{file: "C-0A10-0A11.lsabs"},
		{file: "F-0A10.dabs"},
		{file: "D-0A10-0A11.dabs"},
		{file: "legacy/F-0A10.lsabs"},
		{file: "trailer/F-0A10.lsabs"},
		{file: "broken/boolean-value.lsabs", wantErr: "never has a value", is: ErrBooleanValue},
		{file: "broken/truncated.lsabs", wantErr: "ABF_CONTACT.Length", is: ErrTruncated},
		{file: "broken/bad-length.lsabs", wantErr: "ABF_CONTACT.Length", is: io.ErrUnexpectedEOF},
		{file: "broken/no-nul.lsabs", wantErr: "NUL-terminated string"},
		{file: "broken/unknown-attribute.lsabs", wantErr: "found 0xEE"},
		{file: "broken/attribute-count.lsabs", wantErr: "NumberOfAttributes", unsup: false, is: ErrTruncated},
		{file: "broken/unknown-layout.lsabs", wantErr: "may be compressed or of an unknown layout", unsup: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(sampleDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeSummary(data)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
			} else {
				checkError(t, err, tt.wantErr, tt.is, tt.unsup)
				if got == "" {
					got = "Error " + err.Error() + "\n"
				}
				p := Probe(bytes.NewReader(data), int64(len(data)))
				off, _ := p.MismatchOffset()
				hv, herr := HexView(bytes.NewReader(data), int64(len(data)), off, 40)
				if herr != nil {
					t.Fatal(herr)
				}
				got += "\nProbe:\n" + p.String() + hv
			}
			golden := filepath.Join(sampleDir, "golden", strings.ReplaceAll(tt.file, "/", "_")+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("decoded text differs from %s (run with -update and review the diff)", golden)
			}
		})
	}
}

// TestSampleContents checks that the samples hold what they are meant to exercise.
func TestSampleContents(t *testing.T) {
	count := func(name string) Summary {
		f, err := Open(filepath.Join(sampleDir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		s, err := Summarize(f.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	full, delta, compact := count("F-0A10.lsabs"), count("D-0A10-0A11.lsabs"), count("C-0A10-0A11.lsabs")
	if full.Contacts < 24 || full.Contacts > 60 || full.Groups == 0 || full.Normalized == 0 || full.Deleted != 0 {
		t.Errorf("F-0A10: %+v", full)
	}
	if delta.Deleted == 0 || delta.Empty != 0 || compact.Deleted != delta.Deleted || compact.Empty == 0 || compact.Values >= delta.Values {
		t.Errorf("delta %+v, compact %+v", delta, compact)
	}
	if dev := count("F-0A10.dabs"); dev.Contacts == 0 || dev.Groups != 0 {
		t.Errorf("F-0A10.dabs: %+v", dev)
	}
	r, err := Open(filepath.Join(sampleDir, "F-0A10.lsabs"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Name != (FileName{Kind: Full, Day: 0x0A10}) {
		t.Errorf("Open: name %+v", r.Name)
	}
	multi := false
	for c, err := range r.Contacts() {
		if err != nil {
			t.Fatal(err)
		}
		multi = multi || len(c.Get(r.Table(), ProxyAddresses)) > 1
	}
	if !multi {
		t.Error("no multi-valued proxyAddresses in F-0A10")
	}
}

// TestProbeGoodFiles: on a file that decodes, Probe reports no mismatch and its steps cover the
// file without gaps.
func TestProbeGoodFiles(t *testing.T) {
	for _, name := range []string{"F-0A10.lsabs", "D-0A10-0A11.lsabs", "C-0A10-0A11.lsabs", "F-0A10.dabs"} {
		data, err := os.ReadFile(filepath.Join(sampleDir, name))
		if err != nil {
			t.Fatal(err)
		}
		p := Probe(bytes.NewReader(data), int64(len(data)))
		if p.Err != nil || p.Contacts == 0 || len(p.Steps) != 6 || len(p.Provisional) == 0 || p.Trailer == nil || !p.Trailer.Present {
			t.Fatalf("%s: %s", name, p)
		}
		end := p.Steps[1].Offset // steps[0] is the FileType inside the header
		for _, s := range p.Steps[1:] {
			if s.Offset != end {
				t.Errorf("%s: %s starts at %d, the previous step ended at %d", name, s.Structure, s.Offset, end)
			}
			end = s.Offset + s.Length
		}
		if end != int64(len(data)) {
			t.Errorf("%s: steps end at %d of %d bytes", name, end, len(data))
		}
		if _, ok := p.MismatchOffset(); ok {
			t.Errorf("%s: a mismatch offset without a mismatch", name)
		}
	}
}
