// Command genbulk writes the bulk entries of sidmap's private slapd (see ../server.sh): N user
// accounts under ou=users and N matching disabled, SIP-enabled resource accounts under ou=res,
// both below ou=sidmap,dc=resforest,dc=test, for the fault test and the benchmark. It writes
// with abkit's LDIF writer (internal/ldif).
//
//	go run ./testdata/sidmap/genbulk -n 5000 > bulk.ldif
//
// Account i (1..N) is u<i> / r<i>, sAMAccountName su<i> in both; the user's objectSid is
// S-1-5-21-100-200-300-<100000+i>; odd resource accounts carry it as msExchMasterAccountSid
// (linked mailboxes), even ones are matched by sAMAccountName.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"

	"github.com/abkit/abkit/internal/ldif"
)

const base = "ou=sidmap,dc=resforest,dc=test"

func sid(a, b, c, rid uint32) []byte {
	s := []byte{1, 5, 0, 0, 0, 0, 0, 5}
	for _, v := range []uint32{21, a, b, c, rid} {
		s = binary.LittleEndian.AppendUint32(s, v)
	}
	return s
}

func main() {
	n := flag.Int("n", 5000, "number of account pairs")
	flag.Parse()
	w := ldif.NewWriter(os.Stdout)
	a := func(name, v string) ldif.Attr { return ldif.Attr{Name: name, Value: []byte(v)} }
	w.WriteAttrs(base, []ldif.Attr{a("objectClass", "organizationalUnit"), a("ou", "sidmap")})
	w.WriteAttrs("ou=users,"+base, []ldif.Attr{a("objectClass", "organizationalUnit"), a("ou", "users")})
	w.WriteAttrs("ou=res,"+base, []ldif.Attr{a("objectClass", "organizationalUnit"), a("ou", "res")})
	for i := 1; i <= *n; i++ {
		rid := uint32(100000 + i)
		id := fmt.Sprintf("%05d", i)
		w.WriteAttrs("cn=u"+id+",ou=users,"+base, []ldif.Attr{
			a("objectClass", "user"), a("cn", "u"+id), a("sn", "User "+id), a("sAMAccountName", "su"+id),
			{Name: "objectSid", Value: sid(100, 200, 300, rid)}, a("userAccountControl", "512"),
			a("displayName", "User "+id), a("title", "Engineer"), a("telephoneNumber", fmt.Sprintf("+1 425 555 %04d", i%10000)),
		})
		res := []ldif.Attr{
			a("objectClass", "user"), a("cn", "r"+id), a("sn", "Res "+id), a("sAMAccountName", "su"+id),
			{Name: "objectSid", Value: sid(400, 500, 600, rid)}, a("userAccountControl", "514"),
			a("msRTCSIP-UserEnabled", "TRUE"), a("msRTCSIP-PrimaryUserAddress", "sip:su"+id+"@contoso.com"),
			a("displayName", "Resource "+id),
		}
		if i%2 == 1 {
			res = append(res, ldif.Attr{Name: "msExchMasterAccountSid", Value: sid(100, 200, 300, rid)})
		}
		w.WriteAttrs("cn=r"+id+",ou=res,"+base, res)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genbulk:", err)
		os.Exit(1)
	}
}
