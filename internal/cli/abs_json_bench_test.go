package cli

import (
	"bytes"
	"io"
	"testing"

	"github.com/abkit/abkit/abs"
)

// absBenchFile returns a generated address book file of n contacts.
func absBenchFile(b *testing.B, n int) []byte {
	b.Helper()
	var file bytes.Buffer
	if err := abs.Write(&file, abs.Generate(abs.GenOptions{Contacts: n, Seed: 1, Duplicates: 10})); err != nil {
		b.Fatal(err)
	}
	return file.Bytes()
}

// BenchmarkDumpJSON measures dump -o json from decoding to the written bytes (no file system).
// The full command is measured by scripts/bench/abs.sh.
func BenchmarkDumpJSON(b *testing.B) {
	file := absBenchFile(b, 20000)
	b.SetBytes(int64(len(file)))
	for b.Loop() {
		r, err := abs.NewReader(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := dumpJSON(&absFile{Reader: r}, io.Discard, nil, true); err != nil {
			b.Fatal(err)
		}
	}
}
