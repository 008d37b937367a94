package sidmap

import (
	"bytes"
	"strings"
	"testing"
)

func TestValueJSON(t *testing.T) {
	for _, v := range []Value{Value("plain"), Value("Zoë"), usid(1).Bytes(), Value("tab\there"), Value{}} {
		b, err := v.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back Value
		if err := back.UnmarshalJSON(b); err != nil || !bytes.Equal(back, v) {
			t.Errorf("%q → %s → %q, %v", v, b, back, err)
		}
		if printable(v) == strings.HasPrefix(string(b), "{") {
			t.Errorf("%q encoded as %s", v, b)
		}
	}
	var v Value
	for _, bad := range []string{`{"base64":"!!"}`, `{"hex":"00"}`, `12`} {
		if err := v.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
