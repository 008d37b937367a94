package cli

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonStringRef is s as encoding/json writes it with SetEscapeHTML(false), the reference the
// hand-written encoder must match byte for byte.
func jsonStringRef(t testing.TB, s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// checkJSONString fails t unless appendJSONString writes s as encoding/json does, after any prefix.
func checkJSONString(t testing.TB, s string) {
	t.Helper()
	want := jsonStringRef(t, s)
	if got := string(appendJSONString([]byte("x"), s)); got != "x"+want {
		t.Fatalf("%q: got %s, encoding/json writes %s", s, got[1:], want)
	}
}

// jsonHostile are strings every branch of the encoder must get right: each escape, invalid and
// truncated UTF-8, U+2028/U+2029, HTML characters (not escaped: SetEscapeHTML(false)), and the
// lengths around the 4- and 8-byte blocks with the odd byte at each end.
var jsonHostile = []string{
	"", "a", "ab", "abc", "abcd", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnop", "abcdefghijklmnopq",
	"plain", "García Zoë", "日本語", "quote \" back \\ slash", "tab\tnl\ncr\r", "\b\f", "\x00\x1f\x7f", "\x7f",
	"bad \xff utf8 \xe2\x82", "\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80", "\u2028 line sep",
	"\u2029", "a\u2028b\u2029c", "\u2027\u202a", "<script>&amp;</script>", "\ufffd", "\U0010ffff",
	"01234567\"9abcdef", "abcdefgh\x01", "abcdefghé and more ascii", "abcdefgh\xff", "abcdefg\\", "\\abcdefg",
	"sip:ann.berg@contoso.com;x=\u007f", "\"", "\\", "\"abc", "abc\"", "ab\"cd", "a\x1fbcdefgh", "abcdefgh\x1f",
	"\x20\x21\x23\x5b\x5d\x7e",
}

func TestAbsJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonHostile {
		checkJSONString(t, s)
	}
	// Every single byte, and every byte at each position of the block lengths.
	for c := range 256 {
		for _, n := range []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17} {
			for i := range n {
				p := bytes.Repeat([]byte{'a'}, n)
				p[i] = byte(c)
				checkJSONString(t, string(p))
			}
		}
	}
	// Random strings from an alphabet weighted towards the bytes that matter.
	alphabet := []string{"a", "Z", "0", " ", "\"", "\\", "\x00", "\x1f", "\b", "\f", "\n", "\x7f", "<", "&",
		"é", "日", "\u2028", "\u2029", "\xff", "\xe2", "\x80", "\xed\xa0\x80", "\U0001F600"}
	rng := rand.New(rand.NewPCG(15, 300))
	for range 20000 {
		var sb strings.Builder
		for range rng.IntN(40) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		checkJSONString(t, sb.String())
	}
}

// TestAbsPlainJSON: the word-at-a-time test says plain exactly when every byte is printable ASCII
// other than '"' and '\\'.
func TestAbsPlainJSON(t *testing.T) {
	for _, s := range jsonHostile {
		want := true
		for i := 0; i < len(s); i++ {
			want = want && s[i] >= 0x20 && s[i] < utf8.RuneSelf && s[i] != '"' && s[i] != '\\'
		}
		if got := plainJSON(s); got != want {
			t.Errorf("plainJSON(%q) = %t, want %t", s, got, want)
		}
	}
}

// FuzzAbsJSONString: the hand-written string encoder writes what encoding/json writes.
func FuzzAbsJSONString(f *testing.F) {
	for _, s := range jsonHostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkJSONString(t, s) })
}
