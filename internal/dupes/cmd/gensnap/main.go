// Command gensnap writes a synthetic LDIF snapshot for the dupes benchmark: N objects (users,
// contacts and mail-enabled groups with AD-like attributes, binary objectGUID and objectSid)
// of which a given fraction duplicate another object's SIP address: mail-enabled security groups
// carrying a user's address as SIP:... in proxyAddresses (a case-only difference), contacts
// with a user's msRTCSIP-PrimaryUserAddress, and disabled users with it. The same flags give the
// same bytes. It prints the number of duplicated addresses it planted on stderr.
//
//	go run ./internal/dupes/cmd/gensnap -n 1000000 -dup 0.01 -o snap.ldif
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"

	"github.com/abkit/abkit/internal/ldif"
	"github.com/go-ldap/ldap/v3"
)

func main() {
	n := flag.Int("n", 1000000, "number of objects")
	dup := flag.Float64("dup", 0.01, "fraction of objects that duplicate another object's SIP address")
	seed := flag.Uint64("seed", 1, "random seed")
	base := flag.String("base", "dc=bigforest,dc=test", "base DN")
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	if *n < 1 || *dup < 0 || *dup > 0.5 {
		fmt.Fprintln(os.Stderr, "gensnap: -n must be positive and -dup between 0 and 0.5")
		os.Exit(2)
	}
	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gensnap:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	planted, err := generate(bw, *n, *dup, *seed, *base)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensnap:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "gensnap: %d objects, %d duplicated SIP addresses\n", *n, planted)
}

var first = []string{"Ann", "Ben", "Chloe", "Dev", "Emma", "Finn", "Grace", "Hugo", "Ines", "Jon", "Kai", "Lena", "Maya", "Noah", "Olga", "Priya"}
var last = []string{"Abbott", "Brandt", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito", "Jensen", "Kowalski", "Larsen"}

func generate(w *bufio.Writer, n int, dup float64, seed uint64, base string) (int, error) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	lw := ldif.NewWriter(w)
	dups := int(float64(n) * dup)
	unique := n - dups
	for _, dn := range []string{base, "ou=Users," + base, "ou=Contacts," + base, "ou=Groups," + base} {
		e := &ldap.Entry{DN: dn}
		add(e, "objectClass", "top", "organizationalUnit")
		if err := lw.WriteEntry(e); err != nil {
			return 0, err
		}
	}
	addr := func(i int) string {
		return fmt.Sprintf("%s.%s%d@contoso.com", lower(first[i%len(first)]), lower(last[(i/len(first))%len(last)]), i)
	}
	for i := range n {
		var e *ldap.Entry
		switch {
		case i < unique:
			e = object(rng, i, addr(i), base)
		default:
			// Duplicate the address of a user among the unique objects (kinds 0-6 of 10 are users).
			j := (i - unique) * 10 % unique
			j -= j % 10
			e = duplicate(rng, i, addr(j), base)
		}
		if err := lw.WriteEntry(e); err != nil {
			return 0, err
		}
	}
	return dups, lw.Flush()
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func add(e *ldap.Entry, name string, vals ...string) {
	a := ldap.NewEntryAttribute(name, vals)
	e.Attributes = append(e.Attributes, a)
}

func addBin(e *ldap.Entry, name string, v []byte) {
	e.Attributes = append(e.Attributes, &ldap.EntryAttribute{Name: name, Values: []string{string(v)}, ByteValues: [][]byte{v}})
}

func guid(rng *rand.Rand) []byte {
	g := make([]byte, 16)
	binary.LittleEndian.PutUint64(g, rng.Uint64())
	binary.LittleEndian.PutUint64(g[8:], rng.Uint64())
	g[7] = g[7]&0x0f | 0x40
	g[8] = g[8]&0x3f | 0x80
	return g
}

func sid(rid int) []byte {
	b := []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0}
	for _, sub := range []uint32{1004336348, 1177238915, 682003330, uint32(1000 + rid)} {
		b = binary.LittleEndian.AppendUint32(b, sub)
	}
	return b
}

func person(e *ldap.Entry, i int) (given, sn string) {
	given, sn = first[i%len(first)], last[(i/len(first))%len(last)]
	add(e, "cn", given+" "+sn+" "+strconv.Itoa(i))
	add(e, "givenName", given)
	add(e, "sn", sn)
	add(e, "displayName", given+" "+sn)
	return given, sn
}

// object is a unique object: kinds 0-6 users, 7-8 contacts, 9 mail-enabled groups.
func object(rng *rand.Rand, i int, sip, base string) *ldap.Entry {
	switch k := i % 10; {
	case k <= 6:
		return userEntry(rng, i, sip, base, 512)
	case k <= 8:
		e := &ldap.Entry{DN: "cn=Contact " + strconv.Itoa(i) + ",ou=Contacts," + base}
		add(e, "objectClass", "top", "person", "organizationalPerson", "contact")
		person(e, i)
		addBin(e, "objectGUID", guid(rng))
		add(e, "mail", "ext"+strconv.Itoa(i)+"@fabrikam.com")
		add(e, "proxyAddresses", "SMTP:ext"+strconv.Itoa(i)+"@fabrikam.com", "sip:ext"+strconv.Itoa(i)+"@fabrikam.com")
		add(e, "msRTCSIP-PrimaryUserAddress", "sip:ext"+strconv.Itoa(i)+"@fabrikam.com")
		add(e, "msRTCSIP-UserEnabled", "TRUE")
		return e
	default:
		return groupEntry(rng, i, "sip:group"+strconv.Itoa(i)+"@contoso.com", base)
	}
}

func userEntry(rng *rand.Rand, i int, sip, base string, uac int) *ldap.Entry {
	e := &ldap.Entry{DN: "cn=User " + strconv.Itoa(i) + ",ou=Users," + base}
	add(e, "objectClass", "top", "person", "organizationalPerson", "user")
	person(e, i)
	addBin(e, "objectGUID", guid(rng))
	addBin(e, "objectSid", sid(i))
	add(e, "sAMAccountName", "u"+strconv.Itoa(i))
	add(e, "userPrincipalName", "u"+strconv.Itoa(i)+"@contoso.com")
	add(e, "userAccountControl", strconv.Itoa(uac))
	mail := sip
	add(e, "mail", mail)
	add(e, "proxyAddresses", "SMTP:"+mail, "sip:"+sip)
	add(e, "msRTCSIP-PrimaryUserAddress", "sip:"+sip)
	add(e, "msRTCSIP-UserEnabled", "TRUE")
	add(e, "msRTCSIP-PrimaryHomeServer", "CN=LC Services,CN=Microsoft,CN=pool01,CN=Pools,CN=RTC Service,CN=Services,CN=Configuration,"+base)
	add(e, "msRTCSIP-OptionFlags", "257")
	add(e, "telephoneNumber", fmt.Sprintf("+1 (425) 555-%04d x%d", i%10000, i))
	add(e, "msRTCSIP-Line", fmt.Sprintf("tel:+1425%07d", i))
	return e
}

func groupEntry(rng *rand.Rand, i int, proxy, base string) *ldap.Entry {
	e := &ldap.Entry{DN: "cn=Group " + strconv.Itoa(i) + ",ou=Groups," + base}
	add(e, "objectClass", "top", "group")
	add(e, "cn", "Group "+strconv.Itoa(i))
	add(e, "displayName", "Group "+strconv.Itoa(i))
	addBin(e, "objectGUID", guid(rng))
	add(e, "groupType", "-2147483640") // universal security group
	add(e, "mail", "group"+strconv.Itoa(i)+"@contoso.com")
	add(e, "proxyAddresses", "SMTP:group"+strconv.Itoa(i)+"@contoso.com", proxy)
	return e
}

// duplicate carries sip (a user's address) on another object, in one of three ways.
func duplicate(rng *rand.Rand, i int, sip, base string) *ldap.Entry {
	switch i % 3 {
	case 0: // a mail-enabled security group, the address in proxyAddresses with a case difference
		return groupEntry(rng, i, "SIP:"+upperFirst(sip), base)
	case 1: // a contact
		e := &ldap.Entry{DN: "cn=Contact " + strconv.Itoa(i) + ",ou=Contacts," + base}
		add(e, "objectClass", "top", "person", "organizationalPerson", "contact")
		person(e, i)
		addBin(e, "objectGUID", guid(rng))
		add(e, "msRTCSIP-PrimaryUserAddress", "sip:"+sip)
		add(e, "msRTCSIP-UserEnabled", "TRUE")
		return e
	default: // a disabled user
		return userEntry(rng, i, sip, base, 514)
	}
}

func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-32) + s[1:]
}
