package change

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzReadChangeLDIF: no panic on any input; an accepted LDIF survives write and read unchanged.
func FuzzReadChangeLDIF(f *testing.F) {
	f.Add([]byte("version: 1\n\ndn: cn=a,dc=x\nchangetype: modify\ndelete: sn\nsn: A\n-\nadd: sn\nsn:: Qg==\n-\n"))
	f.Add([]byte("dn:: Y249YQ==\nchangetype: modify\nadd: msRTCSIP-OriginatorSid\nmsRTCSIP-OriginatorSid:: AQUAAAAAAAUVAAAA\n-\n"))
	f.Add([]byte("# c\n folded\ndn: cn=a,\n dc=x\nchangetype: modify\nadd: sn\nsn: x\n-\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := ReadLDIF(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteLDIF(&buf, "fuzz", items); err != nil {
			t.Fatal(err)
		}
		again, err := ReadLDIF(&buf)
		if err != nil {
			t.Fatalf("re-read of written LDIF: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(normalizeItems(items), normalizeItems(again)) {
			t.Fatalf("round trip changed the items:\n%+v\n%+v", items, again)
		}
	})
}

// normalizeItems maps empty value lists to nil, which the writer cannot tell apart.
func normalizeItems(items []Item) []Item {
	for i := range items {
		for j := range items[i].Changes {
			c := &items[i].Changes[j]
			if len(c.Old) == 0 {
				c.Old = nil
			}
			if len(c.New) == 0 {
				c.New = nil
			}
		}
	}
	return items
}
