// Command genbulk writes the bulk entries of sidmap's private slapd (see ../server.sh): N user
// accounts under ou=users and N matching disabled, SIP-enabled resource accounts under ou=res,
// both below ou=sidmap,dc=resforest,dc=test, for the fault test and the benchmark.
//
//	go run ./testdata/sidmap/genbulk -n 5000 > bulk.ldif
//
// Account i (1..N) is u<i> / r<i>, sAMAccountName su<i> in both; the user's objectSid is
// S-1-5-21-100-200-300-<100000+i>; odd resource accounts carry it as msExchMasterAccountSid
// (linked mailboxes), even ones are matched by sAMAccountName.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
)

const base = "ou=sidmap,dc=resforest,dc=test"

func sid(a, b, c, rid uint32) string {
	s := []byte{1, 5, 0, 0, 0, 0, 0, 5}
	for _, v := range []uint32{21, a, b, c, rid} {
		s = binary.LittleEndian.AppendUint32(s, v)
	}
	return base64.StdEncoding.EncodeToString(s)
}

func main() {
	n := flag.Int("n", 5000, "number of account pairs")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "dn: %s\nobjectClass: organizationalUnit\nou: sidmap\n\n", base)
	fmt.Fprintf(w, "dn: ou=users,%s\nobjectClass: organizationalUnit\nou: users\n\n", base)
	fmt.Fprintf(w, "dn: ou=res,%s\nobjectClass: organizationalUnit\nou: res\n\n", base)
	for i := 1; i <= *n; i++ {
		rid := uint32(100000 + i)
		fmt.Fprintf(w, "dn: cn=u%05d,ou=users,%s\nobjectClass: user\ncn: u%05d\nsn: User %05d\nsAMAccountName: su%05d\n"+
			"objectSid:: %s\nuserAccountControl: 512\ndisplayName: User %05d\ntitle: Engineer\ntelephoneNumber: +1 425 555 %04d\n\n",
			i, base, i, i, i, sid(100, 200, 300, rid), i, i%10000)
		fmt.Fprintf(w, "dn: cn=r%05d,ou=res,%s\nobjectClass: user\ncn: r%05d\nsn: Res %05d\nsAMAccountName: su%05d\n"+
			"objectSid:: %s\nuserAccountControl: 514\nmsRTCSIP-UserEnabled: TRUE\nmsRTCSIP-PrimaryUserAddress: sip:su%05d@contoso.com\n"+
			"displayName: Resource %05d\n",
			i, base, i, i, i, sid(400, 500, 600, rid), i, i)
		if i%2 == 1 {
			fmt.Fprintf(w, "msExchMasterAccountSid:: %s\n", sid(100, 200, 300, rid))
		}
		fmt.Fprintln(w)
	}
}
