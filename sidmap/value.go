package sidmap

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"unicode/utf8"
)

// Value is one attribute value. In JSON it is a string when the bytes are printable UTF-8, and
// {"base64": "..."} otherwise, so that binary values survive a round trip unambiguously.
type Value []byte

type binaryValue struct {
	Base64 string `json:"base64"`
}

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) {
	if printable(v) {
		return json.Marshal(string(v))
	}
	return json.Marshal(binaryValue{Base64: base64.StdEncoding.EncodeToString(v)})
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *Value) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
		var bv binaryValue
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&bv); err != nil {
			return err
		}
		raw, err := base64.StdEncoding.DecodeString(bv.Base64)
		if err != nil {
			return err
		}
		*v = raw
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*v = Value(s)
	return nil
}

// printable reports whether b is valid UTF-8 without control characters.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// sameValues reports whether a and b hold the same values, in any order.
func sameValues(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, v := range a {
		count[string(v)]++
	}
	for _, v := range b {
		count[string(v)]--
		if count[string(v)] < 0 {
			return false
		}
	}
	return true
}

func toBytes(vs []Value) [][]byte {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

func toValues(bs [][]byte) []Value {
	out := make([]Value, len(bs))
	for i, b := range bs {
		out[i] = Value(b)
	}
	return out
}
