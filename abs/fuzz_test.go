package abs

import (
	"bytes"
	"cmp"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// canonical sorts each contact's records by descending attribute Id (stable, so each attribute's
// records keep their order), the order Write produces.
func canonical(b *Book) *Book {
	for _, c := range b.Contacts {
		slices.SortStableFunc(c.Values, func(x, y Value) int { return cmp.Compare(y.AttrID, x.AttrID) })
	}
	return b
}

// FuzzReader: no input panics; Probe agrees with the Reader; a file that decodes can be iterated,
// dumped and queried, and decode -> Write -> decode gives the same book.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(sampleDir, "*.*abs"))
	broken, _ := filepath.Glob(filepath.Join(sampleDir, "broken", "*.lsabs"))
	for _, name := range append(files, broken...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(specDelta())
	// Small books of each kind: mutations of small inputs explore (and minimize) much faster.
	x := Generate(GenOptions{Contacts: 3, Seed: 1, Duplicates: 1})
	y := NextDay(x, ChangeOptions{Seed: 2, Added: 1, Deleted: 1, Modified: 1})
	for _, compact := range []bool{false, true} {
		d, err := Diff(x, y, compact)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(writeBook(f, d))
	}
	f.Add(writeBook(f, x))
	f.Fuzz(fuzzReader)
}

func fuzzReader(t *testing.T, data []byte) {
	{
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		p := Probe(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if p.Err == nil || p.Err.Error() != err.Error() {
				t.Fatalf("NewReader: %v; Probe: %v", err, p.Err)
			}
			return
		}
		tbl := r.Table()
		book, err := ReadBook(r)
		if (err == nil) != (p.Err == nil) {
			t.Fatalf("ReadBook: %v; Probe: %v", err, p.Err)
		}
		if derr := Dump(io.Discard, r); (derr == nil) != (err == nil) {
			t.Fatalf("Dump: %v; ReadBook: %v", derr, err)
		}
		if err != nil {
			return
		}
		i := 0
		for c, err := range r.ContactsTransient() {
			if err != nil || i >= len(book.Contacts) || !detach(c).Equal(book.Contacts[i]) {
				t.Fatalf("ContactsTransient differs from Contacts at contact %d: %v", i, err)
			}
			i++
		}
		if i != len(book.Contacts) {
			t.Fatalf("ContactsTransient: %d contacts, Contacts %d", i, len(book.Contacts))
		}
		for _, c := range book.Contacts {
			c.SIPAddresses(tbl)
			c.IsGroup(tbl)
			if again, err := r.ReadContactAt(c.Offset); err != nil || !again.Equal(c) {
				t.Fatalf("ReadContactAt(%d): %v", c.Offset, err)
			}
		}
		var buf bytes.Buffer
		if err := Write(&buf, book); err != nil {
			// The one thing a reader accepts and a writer refuses: values their type excludes,
			// which `abs info --check` reports.
			issues := 0
			for _, c := range book.Contacts {
				issues += len(CheckValues(c, tbl))
			}
			if issues == 0 || !strings.Contains(err.Error(), "the server stores only") {
				t.Fatalf("a decoded file does not write: %v", err)
			}
			return
		}
		r2, err := NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("a written file does not decode: %v", err)
		}
		book2, err := ReadBook(r2)
		if err != nil {
			t.Fatalf("a written file does not decode: %v", err)
		}
		if !canonical(book2).Equal(canonical(book)) {
			t.Fatal("decode -> write -> decode changed the book")
		}
	}
}

// TestMutations runs the fuzz invariants over deterministic random corruptions of the samples,
// so that plain `go test` covers them too.
func TestMutations(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join(sampleDir, "*.*abs"))
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range names {
		base, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for range 300 {
			d := bytes.Clone(base)
			for range 1 + rng.IntN(4) {
				d[rng.IntN(len(d))] = byte(rng.IntN(256))
			}
			if rng.IntN(3) == 0 {
				d = d[:rng.IntN(len(d))]
			}
			fuzzReader(t, d)
		}
	}
}
