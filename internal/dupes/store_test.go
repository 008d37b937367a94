package dupes

import (
	"fmt"
	"strings"
	"testing"
)

func TestValueIndex(t *testing.T) {
	for _, name := range []string{"maphash", "every value the same hash"} {
		v := newValueIndex()
		if name != "maphash" {
			v.hash = func(string) uint64 { return 42 }
		}
		v.add("a@x", 0, viaPrimary)
		v.add("b@x", 1, viaPrimary)
		v.add("a@x", 0, viaProxy) // the same object again: one reference, both bits
		v.add("a@x", 2, viaProxy)
		v.add("b@x", 3, viaPrimary)
		v.add("b@x", 3, viaProxy)
		v.add("c@x", 4, viaPrimary)
		var got []string
		for _, c := range v.collisions() {
			var refs []string
			for _, r := range c.refs {
				refs = append(refs, fmt.Sprintf("%d/%d", r>>viaBits, r&(1<<viaBits-1)))
			}
			got = append(got, c.key+"="+strings.Join(refs, ","))
		}
		want := "a@x=0/3,2/2 b@x=1/1,3/3"
		if strings.Join(got, " ") != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
