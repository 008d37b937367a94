// Command genaudit writes the input of the audit benchmark (scripts/bench/audit.sh) into a
// folder: two LDIF snapshots of N people each -- enabled user-forest accounts (userforest.ldif)
// and their disabled, SIP-enabled, correctly mapped resource-forest accounts (resforest.ldif),
// with phone numbers the demo rules normalize -- and abkit.yaml naming them, the demo address
// book folder and its rules, and the sidmap forests. Every check then reads every object and
// finds nothing in the forests. The same flags give the same bytes.
//
//	go run ./scripts/bench/genaudit -n 100000 -demo testdata/demo -o /tmp/audit100k
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	n := flag.Int("n", 100000, "people per forest")
	demo := flag.String("demo", "testdata/demo", "the demo folder, for its address book folder and rules")
	out := flag.String("o", "", "output folder (created when missing)")
	flag.Parse()
	if *n < 1 || *out == "" {
		fmt.Fprintln(os.Stderr, "genaudit: -n must be positive and -o is required")
		os.Exit(2)
	}
	if err := run(*n, *demo, *out); err != nil {
		fmt.Fprintln(os.Stderr, "genaudit:", err)
		os.Exit(1)
	}
}

func run(n int, demo, out string) error {
	demo, err := filepath.Abs(demo)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, resource := range []bool{false, true} {
		forest := "userforest"
		if resource {
			forest = "resforest"
		}
		if err := writeForest(filepath.Join(out, forest+".ldif"), forest, resource, n); err != nil {
			return err
		}
	}
	abs := filepath.Join(demo, "abs")
	yaml := fmt.Sprintf("forests:\n  - {name: userforest, ldif: %q}\n  - {name: resforest, ldif: %q}\n"+
		"abs: {folder: %q, rules: %q}\nsidmap: {user_forest: userforest, resource_forest: resforest}\n",
		filepath.Join(out, "userforest.ldif"), filepath.Join(out, "resforest.ldif"),
		abs, filepath.Join(abs, "Company_Phone_Number_Normalization_Rules.txt"))
	return os.WriteFile(filepath.Join(out, "abkit.yaml"), []byte(yaml), 0o644)
}

// The two forests' domain SIDs, as in the demo.
const (
	userDomain = "1004336348-1177238915-682003330"
	resDomain  = "3623811015-3361044348-30300820"
)

func writeForest(path, forest string, resource bool, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, ou := range []string{"dc=" + forest + ",dc=test", "ou=Users,dc=" + forest + ",dc=test"} {
		fmt.Fprintf(w, "dn: %s\nobjectClass: top\nobjectClass: organizationalUnit\n\n", ou)
	}
	for i := range n {
		sam := "user" + strconv.Itoa(i)
		fmt.Fprintf(w, "dn: cn=%s,ou=Users,dc=%s,dc=test\n", sam, forest)
		for _, c := range []string{"top", "person", "organizationalPerson", "user"} {
			fmt.Fprintf(w, "objectClass: %s\n", c)
		}
		fmt.Fprintf(w, "cn: %s\nsn: %s\nsAMAccountName: %s\ntelephoneNumber: +1 (425) %03d-%04d\n", sam, sam, sam, i/10000, i%10000)
		guid := sha256.Sum256([]byte(forest + "/" + sam))
		binAttr(w, "objectGUID", guid[:16])
		userSID := sid(userDomain, 1000+i)
		if resource {
			mail := sam + "@contoso.com"
			binAttr(w, "objectSid", sid(resDomain, 1000+i))
			fmt.Fprintf(w, "userAccountControl: 514\nmsRTCSIP-UserEnabled: TRUE\nmsRTCSIP-PrimaryUserAddress: sip:%s\n", mail)
			fmt.Fprintf(w, "proxyAddresses: SMTP:%s\nproxyAddresses: sip:%s\n", mail, mail)
			binAttr(w, "msExchMasterAccountSid", userSID)
			binAttr(w, "msRTCSIP-OriginatorSid", userSID)
		} else {
			binAttr(w, "objectSid", userSID)
			fmt.Fprintf(w, "userAccountControl: 512\n")
		}
		w.WriteString("\n")
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func binAttr(w *bufio.Writer, name string, v []byte) {
	fmt.Fprintf(w, "%s:: %s\n", name, base64.StdEncoding.EncodeToString(v))
}

// sid returns the binary form of S-1-5-21-DOMAIN-rid.
func sid(domain string, rid int) []byte {
	var subs []uint32
	subs = append(subs, 21)
	start := 0
	for i := 0; i <= len(domain); i++ {
		if i == len(domain) || domain[i] == '-' {
			v, _ := strconv.ParseUint(domain[start:i], 10, 32)
			subs = append(subs, uint32(v))
			start = i + 1
		}
	}
	subs = append(subs, uint32(rid))
	b := []byte{1, byte(len(subs)), 0, 0, 0, 0, 0, 5}
	for _, s := range subs {
		b = binary.LittleEndian.AppendUint32(b, s)
	}
	return b
}
