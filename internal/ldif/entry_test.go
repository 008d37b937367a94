package ldif

import (
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// TestReuseEntry checks that ReuseEntry, reusing one ldap.Entry across records with different
// attributes (more, fewer, another order, names in another case), gives what Entry gives, and
// that the values it returned for a record are not changed by the next records.
func TestReuseEntry(t *testing.T) {
	text := "dn: cn=a,dc=x\ncn: a\nmail: a@x\nproxyAddresses: sip:a@x\nPROXYADDRESSES: smtp:a@x\ndescription:: aMOpbGxv\n\n" +
		"dn: cn=b,dc=x\nmail: b@x\n\n" +
		"dn: cn=c,dc=x\nproxyAddresses: sip:c@x\ncn: c\nmail: c1@x\nmail: c2@x\nsn: c\ngivenName: c\nmail: c3@x\n\n" +
		"dn: cn=d,dc=x\n\n"
	sc := NewScanner(strings.NewReader(text), Options{})
	var e ldap.Entry
	var kept []*ldap.Entry // earlier results, as ReuseEntry left them, and what Entry gave
	var want []*ldap.Entry
	for {
		rec, err := sc.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		w := rec.Entry()
		rec.ReuseEntry(&e)
		if !reflect.DeepEqual(&e, w) {
			t.Errorf("ReuseEntry of %s:\n%+v\nEntry:\n%+v", rec.DN, entryText(&e), entryText(w))
		}
		// Keep the values (not the reused structs and slices) to check them after the next records.
		c := &ldap.Entry{DN: e.DN, Attributes: []*ldap.EntryAttribute{}}
		for _, a := range e.Attributes {
			c.Attributes = append(c.Attributes, &ldap.EntryAttribute{Name: a.Name, Values: slices.Clone(a.Values), ByteValues: slices.Clone(a.ByteValues)})
		}
		kept, want = append(kept, c), append(want, w)
	}
	if len(kept) != 4 {
		t.Fatalf("%d records, want 4", len(kept))
	}
	for i := range kept {
		if !reflect.DeepEqual(kept[i], want[i]) {
			t.Errorf("record %d changed after later records:\n%v\nwant\n%v", i, entryText(kept[i]), entryText(want[i]))
		}
	}
}

func entryText(e *ldap.Entry) string {
	var b strings.Builder
	b.WriteString(e.DN)
	for _, a := range e.Attributes {
		b.WriteString("\n" + a.Name + ": " + strings.Join(a.Values, " | "))
	}
	return b.String()
}
