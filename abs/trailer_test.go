package abs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"iter"
	"slices"
	"strings"
	"testing"
)

// withTrailer appends a trailer body and its u32 LengthOfTrailer to data.
func withTrailer(data, body []byte) []byte {
	out := append(slices.Clone(data), body...)
	return binary.LittleEndian.AppendUint32(out, uint32(len(body)))
}

func readAll(t *testing.T, data []byte) ([]*Contact, Trailer, []byte) {
	t.Helper()
	r := open(t, data)
	cs, err := collect(r)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	tr, err := r.Trailer()
	if err != nil {
		t.Fatal(err)
	}
	body, err := r.TrailerBody()
	if err != nil {
		t.Fatal(err)
	}
	return cs, tr, body
}

// TestSpecExampleWithTrailer: the spec-built delta decodes to the same contacts with a trailer
// appended as without, and the trailer is found where LengthOfTrailer puts it.
func TestSpecExampleWithTrailer(t *testing.T) {
	plain := specDelta()
	want, tr, _ := readAll(t, plain)
	if tr.Present {
		t.Fatalf("the spec example without a trailer: %+v", tr)
	}
	for _, body := range [][]byte{{}, []byte("ABF_DELTA_TRAILER?"), bytes.Repeat([]byte{0xFF}, 300), {0, 0, 0, 0, 0, 0, 0, 0}} {
		data := withTrailer(plain, body)
		got, tr, gotBody := readAll(t, data)
		if !slices.EqualFunc(got, want, func(a, b *Contact) bool { return a.Equal(b) }) {
			t.Errorf("trailer %q: contacts differ", body)
		}
		if !tr.Present || tr.Offset != int64(len(plain)) || tr.Length != uint32(len(body)) || !bytes.Equal(gotBody, body) {
			t.Errorf("trailer %q: %+v body %q", body, tr, gotBody)
		}
		p := Probe(bytes.NewReader(data), int64(len(data)))
		if p.Err != nil || p.Trailer == nil || *p.Trailer != tr || p.Steps[len(p.Steps)-1].Offset != int64(len(plain)) {
			t.Errorf("trailer %q: probe %s", body, p)
		}
		if strings.Contains(strings.Join(open(t, data).ProvisionalParts(), "|"), ProvisionalNoTrailer) {
			t.Errorf("trailer %q: reported as missing", body)
		}
	}
}

// TestTrailerRule exercises each clause of trailerRule.
func TestTrailerRule(t *testing.T) {
	plain := specDelta()
	cases := []struct {
		name    string
		data    []byte
		present bool
		end     int64 // where the contact records end
		err     string
	}{
		// LengthOfTrailer larger than what follows the table: no trailer.
		{"length too large", plain, false, int64(len(plain)), ""},
		// A last deleted object whose OuPathId 21, read as LengthOfTrailer, puts a trailer one
		// byte inside the contact before it: that record runs past the candidate, so no trailer.
		{"no record ends at the candidate", func() []byte {
			f := &fileBuilder{b: slices.Clone(plain)}
			return f.contact(GUID{9}, 21, nil).b
		}(), false, 0, ""},
		// A record ends where the candidate is, and the tail is whole contact records: an old
		// file whose records happen to end there (the tail decodes).
		{"tail is contacts", func() []byte {
			f := &fileBuilder{b: slices.Clone(plain)}
			// A deleted object of Length 20 whose OuPathId's bytes read as LengthOfTrailer 20.
			return f.contact(GUID{9}, 20, nil).b
		}(), false, 0, ""},
		// The same bytes in a full file: a deleted object does not decode there, so they are a
		// trailer (its body: Length 20 and a GUID).
		{"tail is not contacts", func() []byte {
			f := &fileBuilder{}
			f.raw(FullFileType[:]...).u16(1).u16(1).u16(1).u16(0).raw(make([]byte, 128)...).u32(0).attr(1, 0, "a")
			f.contact(guidA, 1, recs(1, "x"))
			return f.contact(GUID{9}, 20, nil).b
		}(), true, 0, ""},
		// A trailer whose length puts it before the contacts: no trailer; the bytes fail.
		{"bad trailer", withTrailer(plain, []byte("xyz"))[:len(plain)+3+2], false, 0, "ABF_CONTACT.Length"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := open(t, tc.data)
			_, err := collect(r)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tr, err := r.Trailer()
			if err != nil || tr.Present != tc.present {
				t.Fatalf("trailer %+v %v, want present %t", tr, err, tc.present)
			}
			if tc.end > 0 && tr.Offset != tc.end {
				t.Errorf("records end at %d, want %d", tr.Offset, tc.end)
			}
			if !tc.present && !strings.Contains(strings.Join(r.ProvisionalParts(), "|"), ProvisionalNoTrailer) {
				t.Errorf("a file without trailer does not say so: %q", r.ProvisionalParts())
			}
		})
	}
}

// TestTrailerRoundTrip: books written with abkit's empty trailer and with an opaque one read back
// the same, trailer included; Apply carries the full file's trailer; Trailer works before any
// iteration.
func TestTrailerRoundTrip(t *testing.T) {
	x := Generate(GenOptions{Contacts: 50, Seed: 7, Duplicates: 2})
	for _, body := range [][]byte{nil, []byte("\x01\x02opaque\x00\xff")} {
		x.Trailer = body
		data := writeBook(t, x)
		if got := binary.LittleEndian.Uint32(data[len(data)-4:]); got != uint32(len(body)) {
			t.Fatalf("LengthOfTrailer %d, want %d", got, len(body))
		}
		r := open(t, data)
		tr, err := r.Trailer() // before any iteration
		if err != nil || !tr.Present || tr.Length != uint32(len(body)) {
			t.Fatalf("Trailer %+v %v", tr, err)
		}
		b, err := ReadBook(open(t, data))
		if err != nil {
			t.Fatal(err)
		}
		if !b.Equal(x) || !bytes.Equal(b.Trailer, body) {
			t.Errorf("trailer %q: the book does not round-trip", body)
		}
	}
	y := NextDay(x, ChangeOptions{Seed: 8})
	d, err := Diff(x, y, false)
	if err != nil {
		t.Fatal(err)
	}
	d.Trailer = []byte("delta trailer")
	next, err := Apply(x, d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(next.Trailer, x.Trailer) {
		t.Errorf("Apply carried %q, want the full file's %q", next.Trailer, x.Trailer)
	}
}

// TestLargeContactStreams: a contact larger than the read window decodes chunk by chunk to the
// same values, and its limits are enforced without reading past them.
func TestLargeContactStreams(t *testing.T) {
	attrs := []Attribute{{2, "proxyAddresses", 0x00000100}, {1, "title", 0}}
	c := &Contact{ID: guidA, OuPathID: 3, Values: []Value{{AttrID: 2, Str: strings.Repeat("p", 300<<10)}}}
	for i := range 40_000 {
		c.Values = append(c.Values, Value{AttrID: 2, Str: "smtp:" + strings.Repeat("x", i%50) + "@a"})
	}
	c.Values = append(c.Values, Value{AttrID: 1, Str: strings.Repeat("t", MaxValueSize)})
	b := &Book{Header: Header{Kind: Full}, Attributes: attrs, Contacts: []*Contact{c, {ID: GUID{2}, Values: []Value{{AttrID: 1, Str: "small"}}}}}
	data := writeBook(t, b)
	for mode := range 3 {
		r := open(t, data)
		var got []*Contact
		seq := [...]iter.Seq2[*Contact, error]{r.Contacts(), r.ContactsReused(), r.ContactsTransient()}[mode]
		for c, err := range seq {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, detach(c))
		}
		if len(got) != 2 || !got[0].Equal(canonical(b).Contacts[0]) || !got[1].Equal(b.Contacts[1]) {
			t.Fatalf("mode %d: %d contacts, differ", mode, len(got))
		}
	}
	// One byte more than MaxValueSize, inside a contact that covers it: an UnsupportedError.
	f := &fileBuilder{b: slices.Clone(data[:open(t, data).Layout.ContactsOffset])}
	f.contact(guidA, 1, append(append([]byte{1}, bytes.Repeat([]byte{'v'}, MaxValueSize+1)...), 0))
	var ue *UnsupportedError
	if _, err := collect(open(t, f.b)); !errors.As(err, &ue) || !strings.Contains(err.Error(), "abkit's limit") {
		t.Errorf("a value over the limit: %v", err)
	}
	// More than MaxContactRecords records.
	f = &fileBuilder{b: slices.Clone(f.b[:open(t, data).Layout.ContactsOffset])}
	f.contact(guidA, 1, bytes.Repeat([]byte{2, 'a', 0}, MaxContactRecords+1))
	if _, err := collect(open(t, f.b)); !errors.As(err, &ue) || !strings.Contains(err.Error(), "records") {
		t.Errorf("too many records: %v", err)
	}
}

// FuzzTrailer: whatever follows the contact records, a decodable file decodes to the same
// contacts (or fails the same way), and a trailer it finds lies within the file and is read back.
func FuzzTrailer(f *testing.F) {
	f.Add([]byte{}, uint32(0))
	f.Add([]byte("opaque"), uint32(6))
	f.Add([]byte{20, 0, 0, 0}, uint32(4))
	f.Add([]byte{0xFF, 0xFF}, uint32(0xFFFFFFFF))
	base := specDelta()
	want, err := collect(open(f, base))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, length uint32) {
		data := binary.LittleEndian.AppendUint32(append(slices.Clone(base), body...), length)
		r, err := NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("the header no longer reads: %v", err)
		}
		got, err := collect(r)
		if p := Probe(bytes.NewReader(data), int64(len(data))); (p.Err == nil) != (err == nil) {
			t.Fatalf("Probe %v, Contacts %v", p.Err, err)
		}
		if err != nil {
			return
		}
		tr, err := r.Trailer()
		if err != nil {
			t.Fatal(err)
		}
		if tr.Present {
			if tr.Offset+int64(tr.Length)+4 != int64(len(data)) || tr.Offset < r.Layout.ContactsOffset {
				t.Fatalf("trailer %+v outside the file of %d bytes", tr, len(data))
			}
			if body, err := r.TrailerBody(); err != nil || len(body) != int(tr.Length) {
				t.Fatalf("TrailerBody: %d bytes, %v", len(body), err)
			}
		}
		if int(length) == len(body) && (!tr.Present || tr.Offset != int64(len(base)) || !slices.EqualFunc(got, want, func(a, b *Contact) bool { return a.Equal(b) })) &&
			!tailDecodes(body, length) {
			t.Fatalf("a trailer of %d bytes: %+v, %d contacts", len(body), tr, len(got))
		}
	})
}

// tailDecodes reports whether a trailer body and its length read as whole contact records of
// specDelta's table (the one case in which trailerRule prefers no trailer).
func tailDecodes(body []byte, length uint32) bool {
	base := specDelta()
	r, err := NewReader(bytes.NewReader(base), int64(len(base)))
	if err != nil {
		return false
	}
	tail := binary.LittleEndian.AppendUint32(slices.Clone(body), length)
	data := append(slices.Clone(base), tail...)
	r.r, r.size = bytes.NewReader(data), int64(len(data))
	return r.tailIsContacts(int64(len(base)))
}

// TestContactsTransient: the transient walk, whose strings point into a reused read buffer,
// yields the contacts Contacts does, across chunk boundaries of several sizes (small chunks put
// most contacts past the window, through the chunk-by-chunk path).
func TestContactsTransient(t *testing.T) {
	data := writeBook(t, Generate(GenOptions{Contacts: 3000, Seed: 4, Duplicates: 5}))
	want, err := collect(open(t, data))
	if err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int64{chunkSize, 4 << 10, 200, 24} {
		r := open(t, data)
		d := newDecoder(r, r.Layout.ContactsOffset, true)
		d.w.transient, d.w.chunk = true, chunk
		var got []*Contact
		for {
			c, err := d.next()
			if err != nil {
				t.Fatalf("chunk %d: %v", chunk, err)
			}
			if c == nil {
				break
			}
			got = append(got, detach(c))
		}
		if !slices.EqualFunc(got, want, func(a, b *Contact) bool { return a.Equal(b) && a.Offset == b.Offset }) {
			t.Fatalf("chunk %d: %d contacts differ from Contacts' %d", chunk, len(got), len(want))
		}
	}
}
