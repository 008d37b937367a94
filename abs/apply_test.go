package abs

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// applyBoth applies delta to the full file data with Apply (the whole book in memory, then
// Write) and with ApplyStream, and fails unless both give the same bytes; it returns them.
func applyBoth(t *testing.T, name string, data, delta []byte) []byte {
	t.Helper()
	want := writeBook(t, mustApply(t, name, readBytes(t, data), readBytes(t, delta)))
	var got bytes.Buffer
	h, n, err := ApplyStream(open(t, data), open(t, delta), &got)
	if err != nil {
		t.Fatalf("%s: ApplyStream: %v", name, err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("%s: ApplyStream wrote %d bytes that differ from Apply's %d", name, got.Len(), len(want))
	}
	if b := readBytes(t, want); n != len(b.Contacts) || h.Day != open(t, delta).Header.Day || h.Kind != Full {
		t.Errorf("%s: ApplyStream returned %d contacts, header %+v; the file has %d", name, n, h, len(b.Contacts))
	}
	return want
}

func mustApply(t *testing.T, name string, full, delta *Book) *Book {
	t.Helper()
	b, err := Apply(full, delta)
	if err != nil {
		t.Fatalf("%s: Apply: %v", name, err)
	}
	return b
}

// TestApplyStreamSamples: on the committed samples ApplyStream writes what Apply does, and
// applying a sample delta gives the committed next day's file byte for byte.
func TestApplyStreamSamples(t *testing.T) {
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(sampleDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	next := read("F-0A11.lsabs")
	for _, full := range []string{"F-0A10.lsabs", "trailer/F-0A10.lsabs"} {
		for _, delta := range []string{"D-0A10-0A11.lsabs", "C-0A10-0A11.lsabs"} {
			got := applyBoth(t, full+"+"+delta, read(full), read(delta))
			if full == "F-0A10.lsabs" && !bytes.Equal(got, next) {
				t.Errorf("%s + %s does not give F-0A11.lsabs", full, delta)
			}
		}
	}
	applyBoth(t, "F-0A10.dabs", read("F-0A10.dabs"), read("D-0A10-0A11.dabs"))
}

// TestApplyStreamProperty: for random books, change sets and trailers, with the full file's
// and the delta's records in ContactId order and shuffled, ApplyStream writes what Apply does.
func TestApplyStreamProperty(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		fx := Generate(GenOptions{Contacts: 20 + int(seed*7)%90, Seed: seed, Duplicates: int(seed % 3), Device: seed%7 == 0})
		if seed%3 == 0 {
			fx.Trailer = []byte("opaque full trailer")
		}
		fy := NextDay(fx, ChangeOptions{Seed: seed * 31, Added: int(seed % 5), Deleted: int(seed % 4), Modified: 1 + int(seed%9)})
		rng := rand.New(rand.NewPCG(seed, 1))
		shuffle := func(b *Book) []byte {
			s := *b
			s.Contacts = append([]*Contact(nil), b.Contacts...)
			rng.Shuffle(len(s.Contacts), func(i, j int) { s.Contacts[i], s.Contacts[j] = s.Contacts[j], s.Contacts[i] })
			return writeBook(t, &s)
		}
		for _, compact := range []bool{false, true} {
			d, err := Diff(fx, fy, compact)
			if err != nil {
				t.Fatal(err)
			}
			sorted := applyBoth(t, "sorted", writeBook(t, fx), writeBook(t, d))
			if !bytes.Equal(applyBoth(t, "full shuffled", shuffle(fx), writeBook(t, d)), sorted) ||
				!bytes.Equal(applyBoth(t, "delta shuffled", writeBook(t, fx), shuffle(d)), sorted) ||
				!bytes.Equal(applyBoth(t, "both shuffled", shuffle(fx), shuffle(d)), sorted) {
				t.Fatalf("seed %d: the order of the records changes the result", seed)
			}
		}
	}
}

type failingWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after < len(p) {
		return 0, errDiskFull
	}
	w.after -= len(p)
	return len(p), nil
}

// TestApplyStreamErrors: bad input gives an *ApplyError naming the file and the record's
// offset (as Apply refuses the same input), or Apply's header errors; a failing writer gives a
// *WriteError.
func TestApplyStreamErrors(t *testing.T) {
	fx := Generate(GenOptions{Contacts: 30, Seed: 5})
	d, c := diffs(t, fx, NextDay(fx, ChangeOptions{Seed: 6, Added: 2, Deleted: 2, Modified: 3}))
	withDelta := func(base *Book, edit func(b *Book)) *Book {
		b := *base
		b.Contacts = append([]*Contact(nil), base.Contacts...)
		edit(&b)
		return &b
	}
	dupFull := *fx
	dupFull.Contacts = append(append([]*Contact(nil), fx.Contacts...), fx.Contacts[3])
	victim := fx.Contacts[7]
	emptied := &Contact{ID: victim.ID, OuPathID: victim.OuPathID}
	for _, id := range attrIDs(victim) {
		emptied.Values = append(emptied.Values, Value{AttrID: id, Kind: ValueEmpty})
	}
	other := *d
	other.Header.BaseDay++
	tests := []struct {
		name    string
		full    *Book
		delta   *Book
		inDelta bool
		want    string
	}{
		{"full twice", &dupFull, d, false, "appears twice in the full file"},
		{"delta twice", fx, withDelta(d, func(b *Book) { b.Contacts = append(b.Contacts, b.Contacts[0]) }), true, "appears twice in the delta"},
		{"delete missing", fx, withDelta(d, func(b *Book) { b.Contacts = append(b.Contacts, &Contact{ID: GUID{0xFF, 1}}) }), true, "does not have it"},
		{"new with empty", fx, withDelta(c, func(b *Book) {
			b.Contacts = append(b.Contacts, &Contact{ID: GUID{0xFF, 2}, Values: []Value{{AttrID: idMobile, Kind: ValueEmpty}}})
		}), true, "empty attributes"},
		{"compact empties", fx, withDelta(c, func(b *Book) {
			b.Contacts = append(b.Contacts[:0:0], emptied)
		}), true, "without attributes"},
		{"wrong base day", fx, &other, false, "based on day"},
	}
	for _, tt := range tests {
		if _, err := Apply(tt.full, tt.delta); err == nil {
			t.Errorf("%s: Apply accepts it", tt.name)
		}
		data := writeBook(t, tt.full)
		_, _, err := ApplyStream(open(t, data), open(t, writeBook(t, tt.delta)), &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
			continue
		}
		var ae *ApplyError
		if tt.name == "wrong base day" {
			if errors.As(err, &ae) {
				t.Errorf("%s: %T, want a plain error", tt.name, err)
			}
			continue
		}
		if !errors.As(err, &ae) || ae.Delta != tt.inDelta || ae.Offset <= 0 || !strings.Contains(err.Error(), "offset 0x") {
			t.Errorf("%s: %#v, want an *ApplyError in the delta=%t at a record's offset", tt.name, err, tt.inDelta)
			continue
		}
		b := readBytes(t, data)
		if tt.inDelta {
			b = readBytes(t, writeBook(t, tt.delta))
		}
		found := false
		for _, x := range b.Contacts {
			found = found || (x.Offset == ae.Offset && x.ID == ae.ID)
		}
		if !found {
			t.Errorf("%s: offset %d, contact %s is not a record of the file", tt.name, ae.Offset, ae.ID)
		}
	}
	data := writeBook(t, fx)
	for _, after := range []int{0, 100, len(data) / 2} {
		_, _, err := ApplyStream(open(t, data), open(t, writeBook(t, d)), &failingWriter{after: after})
		var we *WriteError
		if !errors.As(err, &we) || !errors.Is(err, errDiskFull) {
			t.Errorf("writer failing after %d bytes: %#v, want a *WriteError", after, err)
		}
	}
}

// TestApplyStreamDecodingErrors: a record of either file that does not decode is a *SideError
// that says which file, carrying the positioned FormatError.
func TestApplyStreamDecodingErrors(t *testing.T) {
	fx := Generate(GenOptions{Contacts: 30, Seed: 5})
	d, _ := diffs(t, fx, NextDay(fx, ChangeOptions{Seed: 6}))
	full, delta := writeBook(t, fx), writeBook(t, d)
	for _, name := range []string{"no-nul.lsabs", "unknown-attribute.lsabs"} {
		for _, inDelta := range []bool{false, true} {
			f, dl := full, delta
			if inDelta {
				dl = brokenFiles(t, delta)[name]
			} else {
				f = brokenFiles(t, full)[name]
			}
			_, _, err := ApplyStream(open(t, f), open(t, dl), &bytes.Buffer{})
			var se *SideError
			var fe *FormatError
			if !errors.As(err, &se) || se.New != inDelta || !errors.As(err, &fe) {
				t.Errorf("%s in the delta=%t: %#v, want a *SideError with a *FormatError", name, inDelta, err)
			}
		}
	}
}
