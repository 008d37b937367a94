package compact

import (
	"strings"
	"testing"

	"github.com/abkit/abkit/ldapsync"
)

func TestText(t *testing.T) {
	var a Text
	big := strings.Repeat("x", TextChunk+10)
	refs := []TextRef{a.Add("cn=A,dc=x"), a.Add(""), a.Add(big), a.Add("é")}
	for i, want := range []string{"cn=A,dc=x", "", big, "é"} {
		if got := a.String(refs[i]); got != want {
			t.Errorf("text %d: %d bytes, want %d", i, len(got), len(want))
		}
		if refs[i].Len() != len(want) {
			t.Errorf("text %d: Len %d, want %d", i, refs[i].Len(), len(want))
		}
	}
}

func TestSIDTable(t *testing.T) {
	var tab SIDTable
	sids := []string{
		"S-1-5-21-1004336348-1177238915-682003330-1000",
		"S-1-5-21-1004336348-1177238915-682003330-1001",
		"S-1-5-21-3623811015-3361044348-30300820-1000", // same RID, other domain
		"S-1-5-32-544",   // builtin: a two-sub-authority SID
		"S-1-5-18",       // one sub-authority
		"S-1-5",          // none
		"S-1-16-1000",    // another authority, one sub-authority
		"S-1-5-21-1-2-3", // a domain's own SID
	}
	keys := map[SIDKey]string{}
	for _, s := range sids {
		k := tab.Key(ldapsync.MustParseSID(s))
		if other, dup := keys[k]; dup {
			t.Fatalf("%s and %s have the same key %v", s, other, k)
		}
		keys[k] = s
		if again := tab.Key(ldapsync.MustParseSID(s)); again != k {
			t.Errorf("%s: key %v, then %v", s, k, again)
		}
		if got, ok := tab.Lookup(ldapsync.MustParseSID(s)); !ok || got != k {
			t.Errorf("Lookup(%s) = %v %v, want %v", s, got, ok, k)
		}
	}
	if len(tab.domains) != 7 {
		t.Errorf("%d domains interned, want 7: %q", len(tab.domains), tab.domains)
	}
	if _, ok := tab.Lookup(ldapsync.MustParseSID("S-1-5-21-9-9-9-1000")); ok {
		t.Error("Lookup found a SID of a domain never keyed")
	}
}
