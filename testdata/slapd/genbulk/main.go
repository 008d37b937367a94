// Command genbulk writes N resource-forest users as LDIF for slapadd (benchmarks): each a
// disabled account with a binary objectSid, objectGUID and msExchMasterAccountSid, a SIP address
// and proxyAddresses, under ou=Bench,dc=resforest,dc=test. Output is deterministic.
//
//	go run ./testdata/slapd/genbulk -n 20000 > bulk.ldif
package main

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
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
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	b64 := base64.StdEncoding.EncodeToString
	res := [3]uint32{3623811015, 3361044348, 30300820}
	usr := [3]uint32{1004336348, 1177238915, 682003330}
	fmt.Fprintf(w, "dn: ou=Bench,%s\nobjectClass: organizationalUnit\nou: Bench\n\n", *base)
	for i := 1; i <= *n; i++ {
		name := fmt.Sprintf("bench%06d", i)
		guid := sha1.Sum([]byte(name))
		fmt.Fprintf(w, "dn: cn=%s,ou=Bench,%s\nobjectClass: user\ncn: %s\nsn: Bench\ndisplayName: Bench User %d\n"+
			"sAMAccountName: %s\nuserAccountControl: 514\nobjectSid:: %s\nobjectGUID:: %s\n"+
			"msExchMasterAccountSid:: %s\nmail: %s@contoso.com\nmsRTCSIP-PrimaryUserAddress: sip:%s@contoso.com\n"+
			"msRTCSIP-UserEnabled: TRUE\nmsRTCSIP-OptionFlags: 256\nproxyAddresses: SMTP:%s@contoso.com\nproxyAddresses: sip:%s@contoso.com\n\n",
			name, *base, name, i, name, b64(sid(res, uint32(100000+i))), b64(guid[:16]), b64(sid(usr, uint32(100000+i))),
			name, name, name, name)
	}
}
