package sidmap

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzReadPlan: no panic on any input; an accepted plan is written and read back to the same JSON.
func FuzzReadPlan(f *testing.F) {
	f.Add([]byte(`{"version":1,"kind":"originator-sid","user_forest":"u","resource_forest":"r","created":"2026-01-01T00:00:00Z","options":{"match":["sam"]},"rows":[{"resource_dn":"cn=a","current_sid":"S-1-5-21-1-2","proposed_sid":"S-1-5-21-1-3","action":"set"}]}`))
	f.Add([]byte(`{"version":1,"kind":"sync-attrs","rows":[{"resource_dn":"cn=a","action":"set","changes":[{"attr":"title","old":[{"base64":"AAE="}],"new":["x"]}]}]}`))
	if b, err := os.ReadFile("../testdata/sidmap/res.ldif"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPlan(bytes.NewReader(data))
		if err != nil {
			return
		}
		var a, b bytes.Buffer
		if err := WritePlan(&a, p); err != nil {
			t.Fatal(err)
		}
		q, err := ReadPlan(strings.NewReader(a.String()))
		if err != nil {
			t.Fatalf("re-read of written plan: %v\n%s", err, a.String())
		}
		if err := WritePlan(&b, q); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Fatalf("round trip changed the plan:\n%s\n%s", a.String(), b.String())
		}
		_ = planItems(p) // must not panic on any accepted plan
	})
}
