package rtcdb

import (
	"slices"
	"testing"
)

func TestFindAddresses(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"empty", nil, nil},
		{"ascii, case kept", []byte("\x00SIP:Bob@Contoso.com\x01"), []string{"SIP:Bob@Contoso.com"}},
		{"utf-16 odd alignment", append([]byte{0xff}, utf16le("tel:+14255550100")...), []string{"tel:+14255550100"}},
		{"scheme only", []byte("sip:\x00smtp: x"), nil},
		{"repeats once", []byte("smtp:a@b smtp:a@b"), []string{"smtp:a@b"}},
		{"inside a word", []byte("xxsip:a@b"), []string{"sip:a@b"}},
		{"other schemes", []byte("http://x mailto:y"), nil},
		{"colon at start", []byte(":sip"), nil},
	}
	for _, tt := range tests {
		if got := FindAddresses(tt.data); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func FuzzFindAddresses(f *testing.F) {
	f.Add([]byte("sip:a@b"))
	f.Add(utf16le("smtp:x@y"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out := FindAddresses(data)
		if len(out) > maxFoundStrings {
			t.Fatalf("%d strings", len(out))
		}
		for _, s := range out {
			if len(s) > maxFoundLen {
				t.Fatalf("string of %d bytes", len(s))
			}
		}
	})
}
