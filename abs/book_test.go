package abs

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"testing"
)

// TestApplyDiffProperty: for random books and change sets, Apply(F-X, Diff(F-X, F-Y)) = F-Y, for
// deltas and compact deltas, with the delta passed through Write and the Reader.
func TestApplyDiffProperty(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		fx := Generate(GenOptions{Contacts: 20 + int(seed*7)%90, Seed: seed, Duplicates: int(seed % 3), Device: seed%7 == 0})
		o := ChangeOptions{Seed: seed * 31}
		if seed%2 == 0 {
			o.Added, o.Deleted, o.Modified = int(seed%5), int(seed%4), 1+int(seed%9)
		}
		fy := NextDay(fx, o)
		if fy.Equal(fx) {
			t.Fatalf("seed %d: NextDay changed nothing", seed)
		}
		for _, compact := range []bool{false, true} {
			d, err := Diff(fx, fy, compact)
			if err != nil {
				t.Fatalf("seed %d: Diff: %v", seed, err)
			}
			if want := map[bool]Kind{false: Delta, true: Compact}[compact]; d.Header.Kind != want || d.Header.BaseDay != fx.Header.Day || d.Header.Day != fy.Header.Day {
				t.Fatalf("seed %d: delta header %+v", seed, d.Header)
			}
			d = readBytes(t, writeBook(t, d))
			got, err := Apply(fx, d)
			if err != nil {
				t.Fatalf("seed %d compact=%t: Apply: %v", seed, compact, err)
			}
			if !got.Equal(fy) {
				t.Fatalf("seed %d compact=%t: Apply(F-X, Diff(F-X, F-Y)) differs from F-Y", seed, compact)
			}
			if !readBytes(t, writeBook(t, got)).Equal(fy) {
				t.Fatalf("seed %d: applied book does not survive writing", seed)
			}
		}
	}
}

// diffs returns the delta and the compact delta from old to new.
func diffs(t *testing.T, old, new *Book) (delta, compact *Book) {
	t.Helper()
	delta, err := Diff(old, new, false)
	if err != nil {
		t.Fatal(err)
	}
	compact, err = Diff(old, new, true)
	if err != nil {
		t.Fatal(err)
	}
	return delta, compact
}

func TestDiffContents(t *testing.T) {
	fx := Generate(GenOptions{Contacts: 50, Seed: 9})
	d, c := diffs(t, fx, NextDay(fx, ChangeOptions{Seed: 4, Added: 3, Deleted: 2, Modified: 5}))
	deleted := 0
	for _, x := range d.Contacts {
		if x.Deleted() {
			deleted++
		}
	}
	if deleted != 2 || len(d.Contacts) < 5 || len(d.Contacts) > 10 || len(c.Contacts) != len(d.Contacts) {
		t.Errorf("delta has %d contacts (%d deleted), compact %d", len(d.Contacts), deleted, len(c.Contacts))
	}
	var dsize, csize int
	dsize, csize = len(writeBook(t, d)), len(writeBook(t, c))
	if csize >= dsize {
		t.Errorf("compact delta (%d bytes) is not smaller than the delta (%d bytes)", csize, dsize)
	}
}

func TestApplyErrors(t *testing.T) {
	fx := Generate(GenOptions{Contacts: 10, Seed: 1})
	fy := NextDay(fx, ChangeOptions{Seed: 2})
	d, err := Diff(fx, fy, false)
	if err != nil {
		t.Fatal(err)
	}
	other := *d
	other.Header.BaseDay++
	dev := Generate(GenOptions{Contacts: 10, Seed: 1, Device: true})
	tests := []struct {
		name        string
		full, delta *Book
		want        string
	}{
		{"base not full", d, d, "want a full file"},
		{"change not delta", fx, fy, "want a delta"},
		{"wrong base day", fx, &other, "based on day"},
		{"different tables", dev, d, "different attribute tables"},
	}
	for _, tt := range tests {
		if _, err := Apply(tt.full, tt.delta); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := Diff(fy, fx, false); err == nil || !strings.Contains(err.Error(), "not after") {
		t.Errorf("Diff backwards: %v", err)
	}
}

func TestWriterRejects(t *testing.T) {
	attrs := append(DefaultAttributes(), Attribute{30, "targetAddress", 0x00000004})
	tests := []struct {
		name string
		kind Kind
		vals []Value
		want string
	}{
		{"unknown attribute", Full, []Value{{AttrID: 98, Str: "x"}}, "not in the table"},
		{"normalized first", Full, []Value{{AttrID: idTelephone, Kind: ValueNormalized, Str: "tel:+1"}}, "read this record as string"},
		{"raw after raw single-valued", Full, []Value{{AttrID: idTelephone, Str: "1"}, {AttrID: idTelephone, Str: "2"}}, "read this record as normalized"},
		{"single-valued repeat", Full, []Value{{AttrID: idTitle, Str: "a"}, {AttrID: idTitle, Str: "b"}}, "single-valued"},
		{"NUL in string", Full, []Value{{AttrID: idTitle, Str: "a\x00b"}}, "NUL"},
		{"empty in full", Full, []Value{{AttrID: idTitle, Kind: ValueEmpty}}, "only in compact"},
		{"empty string in compact", Compact, []Value{{AttrID: idTitle, Str: ""}}, "empty attribute in a compact"},
		{"binary kind on string", Full, []Value{{AttrID: idTitle, Kind: ValueBinary, Str: "\x01"}}, "holds strings"},
		{"value of a boolean-string", Full, []Value{{AttrID: 20, Str: "FALSE"}}, "never has a value"},
		{"empty boolean-string in compact", Compact, []Value{{AttrID: 20, Kind: ValueEmpty}}, "never has a value"},
		{"type 0x5 sip:", Full, []Value{{AttrID: idProxy, Str: "sip:a@b"}}, "tel: value, or an smtp: value containing @"},
		{"type 0x5 smtp: without @", Full, []Value{{AttrID: idProxy, Str: "smtp:ab"}}, "containing @"},
		{"type 0x4 tel:", Full, []Value{{AttrID: 30, Str: "tel:+1"}}, "an smtp: value containing @ (type 0x4)"},
		{"too long", Full, []Value{{AttrID: idTitle, Str: strings.Repeat("x", MaxValueSize+1)}}, "longer than"},
		{"too many records", Full, slices.Repeat([]Value{{AttrID: idProxy, Str: "smtp:a@b"}}, MaxContactRecords+1), "more than"},
		{"deleted in full", Full, nil, "no deleted objects"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Header{Kind: tt.kind, UseNormalizationRules: true}, attrs, "")
		if err != nil {
			t.Fatal(err)
		}
		// What the types allow is written.
		ok := &Contact{ID: guidA, Values: []Value{{AttrID: 30, Str: "SMTP:a@b"}, {AttrID: idProxy, Str: "smtp:a@b"}, {AttrID: idProxy, Str: "TEL:+1"}}}
		if tt.kind != Full {
			ok.Values = ok.Values[:1]
		}
		if err := w.WriteContact(ok); err != nil {
			t.Errorf("%s: a valid contact: %v", tt.name, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		err = w.WriteContact(&Contact{ID: guidA, Values: tt.vals})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := NewWriter(&bytes.Buffer{}, Header{Kind: Full}, []Attribute{{1, "a", 0}, {257, "b", 0}}, ""); err == nil {
		t.Error("NewWriter accepted two Ids with the same low byte")
	}
	if _, err := NewWriter(&bytes.Buffer{}, Header{Kind: Full, FileType: DeltaFileType}, attrs, ""); err == nil {
		t.Error("NewWriter accepted a full file with the delta FileType")
	}
}

func TestWriterDescendingOrder(t *testing.T) {
	b := Generate(GenOptions{Contacts: 5, Seed: 1})
	// Ascending attribute order and values in ascending Id order in, descending out.
	for i, j := 0, len(b.Attributes)-1; i < j; i, j = i+1, j-1 {
		b.Attributes[i], b.Attributes[j] = b.Attributes[j], b.Attributes[i]
	}
	c := b.Contacts[0]
	slices.SortStableFunc(c.Values, func(x, y Value) int { return cmp.Compare(x.AttrID, y.AttrID) })
	r := open(t, writeBook(t, b))
	prev := 1 << 16
	for _, a := range r.Attributes() {
		if int(a.ID) >= prev {
			t.Fatalf("attribute %d after %d", a.ID, prev)
		}
		prev = int(a.ID)
	}
	cs, err := collect(r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(cs[0].Values); i++ {
		if cs[0].Values[i].AttrID > cs[0].Values[i-1].AttrID {
			t.Fatalf("records not in descending Id order: %v", cs[0].Values)
		}
	}
}

func TestDiffIgnoresAttributeOrder(t *testing.T) {
	fx := Generate(GenOptions{Contacts: 30, Seed: 11})
	fy := NextDay(fx, ChangeOptions{Seed: 12, Modified: 3})
	// The same day-X contacts with their attributes in ascending order: no change.
	asc := &Book{Header: fx.Header, Attributes: fx.Attributes, Rules: fx.Rules}
	for _, c := range fx.Contacts {
		d := c.Clone()
		slices.SortStableFunc(d.Values, func(x, y Value) int { return cmp.Compare(x.AttrID, y.AttrID) })
		asc.Contacts = append(asc.Contacts, d)
	}
	a, err := Diff(fx, fy, true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Diff(asc, fy, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Contacts) == 0 || !a.Equal(b) {
		t.Errorf("attribute order changed the diff: %d vs %d contacts", len(a.Contacts), len(b.Contacts))
	}
}
