package ldapsync

import (
	"bufio"
	"bytes"
	"context"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
	"golang.org/x/text/encoding/unicode"
)

// entryMessage encodes a SearchResultEntry the way a server does.
func entryMessage(id int64, e *ldap.Entry) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "entry")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.DN, "dn"))
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attrs")
	for _, a := range e.Attributes {
		pa := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attr")
		pa.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a.Name, "type"))
		vals := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
		for _, v := range a.ByteValues {
			vals.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(v), "val"))
		}
		pa.AppendChild(vals)
		attrs.AppendChild(pa)
	}
	op.AppendChild(attrs)
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "msg")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "id"))
	env.AppendChild(op)
	return env.Bytes()
}

// doneMessage encodes a SearchResultDone with a paged results cookie.
func doneMessage(id int64, code uint16, diag string, cookie []byte) []byte {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultDone, nil, "done")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(code), "code"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matched"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, "diag"))
	paging := ldap.NewControlPaging(0)
	paging.SetCookie(cookie)
	ctls := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "controls")
	ctls.AppendChild(paging.Encode())
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "msg")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "id"))
	env.AppendChild(op)
	env.AppendChild(ctls)
	return env.Bytes()
}

func TestDecodeSearchResponse(t *testing.T) {
	want := &ldap.Entry{DN: "cn=a,dc=x", Attributes: []*ldap.EntryAttribute{
		ldap.NewEntryAttribute("objectSid", []string{string(MustParseSID(aliceSID).Bytes())}),
		ldap.NewEntryAttribute("proxyAddresses", []string{"SMTP:a@x", "sip:a@x", strings.Repeat("z", 300)}),
	}}
	msg := entryMessage(muxFirstID+7, want)
	if id, err := messageID(msg); err != nil || id != muxFirstID+7 {
		t.Fatalf("messageID = %d, %v", id, err)
	}
	r, err := decodeSearchResponse(msg)
	if err != nil || r.entry == nil {
		t.Fatalf("decode: %v", err)
	}
	if err := sameEntries([]*ldap.Entry{want}, []*ldap.Entry{r.entry}); err != nil || r.entry.Attributes[1].Values[1] != "sip:a@x" {
		t.Fatalf("decoded %+v: %v", r.entry, err)
	}
	r, err = decodeSearchResponse(doneMessage(3, ldap.LDAPResultSizeLimitExceeded, "too many", []byte{1, 2, 3}))
	if err != nil || !r.done || r.code != ldap.LDAPResultSizeLimitExceeded || r.diag != "too many" || !bytes.Equal(r.cookie, []byte{1, 2, 3}) {
		t.Fatalf("done: %+v %v", r, err)
	}
	// Framing: two messages back to back, then a truncated one.
	stream := append(append(append([]byte{}, msg...), doneMessage(4, 0, "", nil)...), msg[:len(msg)-1]...)
	br := bufio.NewReader(bytes.NewReader(stream))
	for i := 0; i < 2; i++ {
		if _, err := readMessage(br); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if _, err := readMessage(br); err == nil {
		t.Error("truncated message accepted")
	}
	for i := range msg {
		if _, err := decodeSearchResponse(msg[:i]); err == nil {
			t.Errorf("prefix of %d bytes decoded", i)
		}
	}
}

// FuzzDecodeSearchResponse: no panic on any input, and an accepted entry's values lie within
// the input.
func FuzzDecodeSearchResponse(f *testing.F) {
	f.Add(entryMessage(1, &ldap.Entry{DN: "cn=a", Attributes: []*ldap.EntryAttribute{ldap.NewEntryAttribute("cn", []string{"a", "b"})}}))
	f.Add(doneMessage(2, 0, "ok", []byte("cookie")))
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := readMessage(bufio.NewReader(bytes.NewReader(b))); err != nil {
			return
		}
		r, err := decodeSearchResponse(b)
		if err != nil || r.entry == nil {
			return
		}
		total := 0
		for _, a := range r.entry.Attributes {
			for _, v := range a.ByteValues {
				total += len(v)
			}
		}
		if total > len(b) {
			t.Fatalf("values of %d bytes from %d bytes of input", total, len(b))
		}
	})
}

// FuzzReadSnapshot: no panic on any LDIF; what is accepted writes and reads back identically.
func FuzzReadSnapshot(f *testing.F) {
	f.Add(ldifdeSample())
	f.Add("dn: cn=a,dc=x\ncn: a\nsn:: w6k=\n\ndn: cn=b,dc=x\ncn: b\n")
	f.Add("version: 1\ndn: cn=a\n desc\ncn: a\n")
	// UTF-16, as ldifde -u writes it (read through the same scanner), valid and not.
	f.Add(string(encodeUTF16(f, []byte(ldifdeSample()), unicode.LittleEndian)))
	f.Add(string(encodeUTF16(f, []byte("dn: cn=Zoë 𝄞\r\ncn:: w6k=\r\n"), unicode.BigEndian)))
	f.Add(string(encodeUTF16(f, []byte("dn: cn=a\r\ncn: a\r\n\r\ndn: cn=b"), unicode.LittleEndian)) + "\x00\xdc")
	f.Fuzz(func(t *testing.T, s string) {
		snap, err := ReadSnapshot("f", strings.NewReader(s), "")
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := WriteSnapshot(&buf, snap.entries); err != nil {
			t.Fatal(err)
		}
		back, err := ReadSnapshot("f", &buf, "")
		if err != nil {
			t.Fatalf("written snapshot does not read back: %v\n%q", err, buf.String())
		}
		if err := sameEntries(snap.entries, back.entries); err != nil {
			t.Fatal(err)
		}
		for range snap.Search(context.Background(), SearchRequest{Filter: "(objectClass=*)"}) {
		}
	})
}
