// Command genbulk writes N resource-forest users as LDIF for slapadd (benchmarks): each a
// disabled account with a binary objectSid, objectGUID and msExchMasterAccountSid, a SIP address
// and proxyAddresses, under ou=Bench,dc=resforest,dc=test. Output is deterministic; it is written
// with abkit's LDIF writer (internal/ldif).
//
//	go run ./testdata/slapd/genbulk -n 20000 > bulk.ldif
package main

import (
	"crypto/sha1"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/abkit/abkit/internal/ldif"
)

func sid(domain [3]uint32, rid uint32) []byte {
	b := []byte{1, 5, 0, 0, 0, 0, 0, 5}
	for _, v := range []uint32{21, domain[0], domain[1], domain[2], rid} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func main() {
	n := flag.Int("n", 20000, "number of users")
	base := flag.String("base", "dc=resforest,dc=test", "suffix")
	flag.Parse()
	w := ldif.NewWriter(os.Stdout)
	res := [3]uint32{3623811015, 3361044348, 30300820}
	usr := [3]uint32{1004336348, 1177238915, 682003330}
	a := func(name, v string) ldif.Attr { return ldif.Attr{Name: name, Value: []byte(v)} }
	w.WriteAttrs("ou=Bench,"+*base, []ldif.Attr{a("objectClass", "organizationalUnit"), a("ou", "Bench")})
	for i := 1; i <= *n; i++ {
		name := fmt.Sprintf("bench%06d", i)
		guid := sha1.Sum([]byte(name))
		mail := name + "@contoso.com"
		w.WriteAttrs("cn="+name+",ou=Bench,"+*base, []ldif.Attr{
			a("objectClass", "user"), a("cn", name), a("sn", "Bench"), a("displayName", "Bench User "+strconv.Itoa(i)),
			a("sAMAccountName", name), a("userAccountControl", "514"),
			{Name: "objectSid", Value: sid(res, uint32(100000+i))}, {Name: "objectGUID", Value: guid[:16]},
			{Name: "msExchMasterAccountSid", Value: sid(usr, uint32(100000+i))},
			a("mail", mail), a("msRTCSIP-PrimaryUserAddress", "sip:"+mail),
			a("msRTCSIP-UserEnabled", "TRUE"), a("msRTCSIP-OptionFlags", "256"),
			a("proxyAddresses", "SMTP:"+mail), a("proxyAddresses", "sip:"+mail),
		})
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genbulk:", err)
		os.Exit(1)
	}
}
