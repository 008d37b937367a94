package abs

import (
	"bytes"
	"testing"
)

// writeBook writes b and returns the file bytes.
func writeBook(t testing.TB, b *Book) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, b); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

// readBytes decodes a whole file from memory.
func readBytes(t testing.TB, data []byte) *Book {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	b, err := ReadBook(r)
	if err != nil {
		t.Fatalf("ReadBook: %v", err)
	}
	return b
}

func TestWriteReadRoundTrip(t *testing.T) {
	for _, o := range []GenOptions{{Contacts: 40, Seed: 1, Duplicates: 2}, {Contacts: 500, Seed: 7}, {Contacts: 60, Seed: 3, Device: true}} {
		b := Generate(o)
		got := readBytes(t, writeBook(t, b))
		if !got.Equal(b) {
			t.Errorf("%+v: decoded book differs from the generated one", o)
		}
	}
}
