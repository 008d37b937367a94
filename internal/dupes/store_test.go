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

// TestValueIndexGrows: values survive the hash table's growth (it starts at 1,024 slots).
func TestValueIndexGrows(t *testing.T) {
	v := newValueIndex()
	const n = 5000
	for i := range n {
		v.add(fmt.Sprintf("u%d@x", i), uint32(i), viaPrimary)
	}
	for i := 0; i < n; i += 1000 { // a second object for every thousandth value
		v.add(fmt.Sprintf("u%d@x", i), uint32(n+i), viaProxy)
	}
	var got []string
	for _, c := range v.collisions() {
		got = append(got, fmt.Sprintf("%s=%d,%d", c.key, c.refs[0]>>viaBits, c.refs[1]>>viaBits))
	}
	want := "u0@x=0,5000 u1000@x=1000,6000 u2000@x=2000,7000 u3000@x=3000,8000 u4000@x=4000,9000"
	if strings.Join(got, " ") != want || v.first.n != n {
		t.Errorf("collisions %q (%d values), want %q (%d)", got, v.first.n, want, n)
	}
}
