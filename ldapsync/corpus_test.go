package ldapsync

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The LDIF corpus (testdata/ldif, see its README.md for how each file was made) and live
// captures of ldapsearch run against the project's slapd and Samba servers. Every file is read
// by both snapshot readers, which must agree; every SID and GUID is compared with the decoder
// below, written for this test from [MS-DTYP] 2.4.2.2 and 2.3.4.2 and sharing no code with
// ldapsync's own.

const corpusDir = "../testdata/ldif"

// indepSID decodes a binary SID: revision, sub-authority count, 48-bit big-endian identifier
// authority, then count little-endian 32-bit sub-authorities.
func indepSID(b []byte) (string, bool) {
	if len(b) < 8 || b[0] != 1 || len(b) != 8+4*int(b[1]) {
		return "", false
	}
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	s := "S-1-" + strconv.FormatUint(auth, 10)
	for i := 8; i < len(b); i += 4 {
		s += "-" + strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[i:])), 10)
	}
	return s, true
}

// indepGUID formats a 16-byte GUID in the Windows text form: the first three fields are
// little-endian, the last eight bytes in order.
func indepGUID(b []byte) (string, bool) {
	if len(b) != 16 {
		return "", false
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint16(b[4:]),
		binary.LittleEndian.Uint16(b[6:]), b[8:10], b[10:]), true
}

// corpusRead is what both readers made of one LDIF file.
type corpusRead struct {
	objs  []*Object
	rep   ReadReport
	sids  map[string]bool // every SID read (objectSid and the SID-valued OCS/Exchange attributes)
	guids int
}

// readCorpus reads path with the in-memory and the streaming reader, checks that they agree on
// the objects and on what they skipped, and checks every SID and GUID against the independent
// decoder.
func readCorpus(t *testing.T, path string) corpusRead {
	t.Helper()
	// Every entry, also those without objectClass (dn-only entries, the root DSE).
	req := SearchRequest{Filter: "(|(objectClass=*)(!(objectClass=*)))", Attributes: []string{"*"}}
	mem, err := OpenSnapshot("c", path, "")
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var objs []*Object
	for o, err := range mem.Search(context.Background(), req) {
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		objs = append(objs, o)
	}
	st, err := OpenStreamSnapshot("c", path, "")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for o, err := range st.Search(context.Background(), req) {
		if err != nil {
			t.Fatalf("%s stream: %v", path, err)
		}
		if n >= len(objs) || o.DN != objs[n].DN || o.SID != objs[n].SID || o.GUID != objs[n].GUID {
			t.Fatalf("%s: streaming reader's object %d (%s) differs from the in-memory reader's", path, n, o.DN)
		}
		n++
	}
	if n != len(objs) {
		t.Fatalf("%s: stream read %d objects, memory %d", path, n, len(objs))
	}
	r := corpusRead{objs: objs, rep: mem.ReadReport(), sids: map[string]bool{}}
	if sr := st.ReadReport(); sr.Skipped != r.rep.Skipped || sr.References != r.rep.References {
		t.Errorf("%s: stream report %+v, memory %+v", path, sr, r.rep)
	}
	for _, o := range objs {
		bad := false // a value the independent decoder refuses: the object must warn about it
		for name, vals := range o.Raw {
			var got string
			switch strings.ToLower(name) {
			case "objectsid":
				got = o.SID.String()
			case "msexchmasteraccountsid":
				got = o.MasterSID.String()
			case "msrtcsip-originatorsid":
				got = o.OriginatorSID.String()
			case "objectguid":
				want, ok := indepGUID(vals[0])
				if !ok {
					bad = true
					continue
				}
				if o.GUID.String() != want {
					t.Errorf("%s: %s: objectGUID %s, independent decoder %q", path, o.DN, o.GUID, want)
				}
				r.guids++
				continue
			default:
				continue
			}
			want, ok := indepSID(vals[0])
			if !ok {
				bad = true
				continue
			}
			if got != want {
				t.Errorf("%s: %s: %s %s, independent decoder %q", path, o.DN, name, got, want)
			}
			r.sids[want] = true
		}
		if bad != (len(o.Warnings) > 0) {
			t.Errorf("%s: %s: warnings %v, but the independent decoder refused a value: %v", path, o.DN, o.Warnings, bad)
		}
	}
	return r
}

// ldapsearchCounts returns the "# numEntries" and "# numReferences" comments of ldapsearch
// output (0 when absent): ldapsearch's own count of what it received.
func ldapsearchCounts(t *testing.T, text []byte) (entries, refs int) {
	t.Helper()
	for _, m := range regexp.MustCompile(`(?m)^# num(Entries|References): (\d+)\r?$`).FindAllSubmatch(text, -1) {
		v, _ := strconv.Atoi(string(m[2]))
		if string(m[1]) == "Entries" {
			entries = v
		} else {
			refs = v
		}
	}
	return entries, refs
}

func TestLDIFCorpus(t *testing.T) {
	tests := []struct {
		file                   string
		objects, refs, skipped int
		sids                   []string // SIDs that must be among those read
		guids                  int
	}{
		{"ldifde-add.ldf", 5, 0, 0, []string{"S-1-5-21-3623811015-3361044348-30300820", "S-1-5-32-544", "S-1-5-11", "S-1-1-0",
			"S-1-5-21-3623811015-3361044348-30300820-2105", "S-1-5-21-1004336348-1177238915-682003330-1105"}, 4},
		{"ldifde-unicode.ldf", 6, 0, 0, []string{"S-1-5-21-3623811015-3361044348-30300820-2106", "S-1-5-32-544", "S-1-1-0"}, 5},
		{"broken-middle.ldif", 6, 0, 3, nil, 0},
		{"slapd-ldapsearch.ldif", 10, 0, 0, []string{"S-1-5-21-1004336348-1177238915-682003330-1105"}, 6},
		{"slapd-referral-anonymous.ldif", 5, 1, 0, []string{"S-1-5-21-111-222-333-1001"}, 0},
		{"slapd-anonymous-dn-only.ldif", 10, 0, 0, nil, 0},
		{"slapd-rootdse.ldif", 1, 0, 0, nil, 0},
		{"samba-ldapsearch.ldif", -1, 3, 0, []string{"S-1-5-32-544", "S-1-5-11"}, -1},
		{"samba-rootdse.ldif", 1, 0, 0, nil, 0},
		{"samba-anonymous-refused.ldif", 0, 0, 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(corpusDir, tt.file)
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := readCorpus(t, path)
			if ne, nr := ldapsearchCounts(t, text); ne > 0 && (len(r.objs) != ne || r.rep.References != nr) {
				t.Errorf("%d objects and %d references, ldapsearch counted %d and %d", len(r.objs), r.rep.References, ne, nr)
			}
			if tt.objects >= 0 && len(r.objs) != tt.objects || r.rep.References != tt.refs || r.rep.Skipped != tt.skipped {
				t.Errorf("%d objects, %d references, %d skipped; want %d, %d, %d", len(r.objs), r.rep.References, r.rep.Skipped, tt.objects, tt.refs, tt.skipped)
			}
			for _, s := range tt.sids {
				if !r.sids[s] {
					t.Errorf("SID %s not read (read %v)", s, r.sids)
				}
			}
			if tt.guids >= 0 && r.guids != tt.guids {
				t.Errorf("%d GUIDs, want %d", r.guids, tt.guids)
			}
		})
	}
}

// TestLDIFBrokenMiddle: the records around the unreadable ones are read, each skipped record
// is named by line and what is wrong, and strict mode stops at the first.
func TestLDIFBrokenMiddle(t *testing.T) {
	path := filepath.Join(corpusDir, "broken-middle.ldif")
	s, err := OpenSnapshot("b", path, "")
	if err != nil {
		t.Fatal(err)
	}
	var dns []string
	for _, e := range s.entries {
		dns = append(dns, strings.SplitN(e.DN, ",", 2)[0])
	}
	if strings.Join(dns, " ") != "cn=one cn=two cn=three cn=four cn=five cn=six" {
		t.Errorf("read %v", dns)
	}
	var got []string
	for _, p := range s.ReadReport().Problems {
		got = append(got, strings.TrimPrefix(p.Error(), path))
	}
	want := []string{
		":15: bad base64 value of objectSid (dn: cn=broken base64,dc=example,dc=test)",
		":21: changetype: modify record in a snapshot; only entries and changetype: add are accepted (dn: cn=ldifde modify,dc=example,dc=test)",
		":31: duplicate DN: the entry of line 9 again (DNs compare case-insensitively); the first is kept (dn: CN=TWO,DC=example,DC=test)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, err = OpenSnapshotWith("b", path, "", ReadOptions{Strict: true})
	if err == nil || err.Error() != path+want[0] {
		t.Errorf("strict: %v", err)
	}
}

// capture runs ldapsearch with args (env added to the environment) and returns its output. It
// writes the output to testdata/ldif/name when ABKIT_LDIF_CORPUS_UPDATE=1, which is how the
// committed captures were made.
func capture(t *testing.T, name string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("ldapsearch", args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil && out.Len() == 0 {
		t.Fatalf("ldapsearch %v: %v: %s", args, err, errOut.String())
	}
	path := filepath.Join(t.TempDir(), name)
	if os.Getenv("ABKIT_LDIF_CORPUS_UPDATE") == "1" {
		path = filepath.Join(corpusDir, name)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkCapture reads a live capture and compares its counts with ldapsearch's own.
func checkCapture(t *testing.T, path string) corpusRead {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := readCorpus(t, path)
	ne, nr := ldapsearchCounts(t, text)
	if len(r.objs) != ne || r.rep.References != nr || r.rep.Skipped != 0 {
		t.Errorf("%s: %d objects, %d references, %d skipped; ldapsearch counted %d entries, %d references",
			path, len(r.objs), r.rep.References, r.rep.Skipped, ne, nr)
	}
	return r
}

// sameObjects compares the SIDs and GUIDs of a capture's objects with a live search's.
func sameObjects(t *testing.T, what string, got []*Object, live []*Object) {
	t.Helper()
	key := func(o *Object) string { return strings.ToLower(o.DN) + " " + o.SID.String() + " " + o.GUID.String() }
	var a, b []string
	for _, o := range got {
		a = append(a, key(o))
	}
	for _, o := range live {
		b = append(b, key(o))
	}
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		t.Errorf("%s: the capture's objects differ from a live search's:\n%v\n%v", what, a, b)
	}
}

// TestLDIFCaptureSlapd captures ldapsearch output without -LLL from the project's slapd: a bound
// search, an anonymous one with a referral and bad values, an anonymous one with dn-only
// entries (attribute 1.1), and the root DSE; each reads as ldapsearch counted it.
func TestLDIFCaptureSlapd(t *testing.T) {
	env := slapdEnv(t)
	url, res := env["ABKIT_SLAPD_URL"], env["ABKIT_SLAPD_RES_BASE"]
	bound := checkCapture(t, capture(t, "slapd-ldapsearch.ldif", nil, "-x", "-H", url, "-D", env["ABKIT_SLAPD_RES_BIND_DN"],
		"-w", env["ABKIT_SLAPD_PASSWORD"], "-b", res, "-z", "0", "(!(cn=bulk*))"))
	f := dialT(t, Options{Name: "res", URL: url, Bind: Bind{Method: BindSimple, DN: env["ABKIT_SLAPD_RES_BIND_DN"], Password: env["ABKIT_SLAPD_PASSWORD"]}})
	sameObjects(t, "slapd", bound.objs, collect(t, f, SearchRequest{Base: res, Filter: "(!(cn=bulk*))", Attributes: []string{"*"}}))

	ref := checkCapture(t, capture(t, "slapd-referral-anonymous.ldif", nil, "-x", "-H", url, "-b", "dc=broken,dc=test"))
	if ref.rep.References != 1 || !ref.sids["S-1-5-21-111-222-333-1001"] {
		t.Errorf("referral capture: %+v %v", ref.rep, ref.sids)
	}
	dnOnly := checkCapture(t, capture(t, "slapd-anonymous-dn-only.ldif", nil, "-x", "-H", url, "-b", res, "-z", "0", "(!(cn=bulk*))", "1.1"))
	for _, o := range dnOnly.objs {
		if len(o.Raw) != 0 {
			t.Errorf("dn-only capture: %s has %d attributes", o.DN, len(o.Raw))
		}
	}
	if len(dnOnly.objs) != len(bound.objs) {
		t.Errorf("anonymous dn-only capture: %d objects, bound capture %d", len(dnOnly.objs), len(bound.objs))
	}
	root := readCorpus(t, capture(t, "slapd-rootdse.ldif", nil, "-x", "-H", url, "-b", "", "-s", "base", "+"))
	if len(root.objs) != 1 || root.objs[0].DN != "" || len(root.objs[0].Raw["namingContexts"]) < 3 {
		t.Errorf("root DSE: %+v", root.objs)
	}
}

// TestLDIFCaptureSamba captures ldapsearch output without -LLL from the Samba resource forest
// DC: the whole domain partition (with its referrals to ForestDnsZones and DomainDnsZones, the
// domain object's SID without a RID, builtin and well-known SIDs), the root DSE, and an
// anonymous search the DC refuses (only ldapsearch's result trailer).
func TestLDIFCaptureSamba(t *testing.T) {
	env := sambaEnv(t)
	base := env["ABKIT_SAMBA_RES_BASE"]
	tlsEnv := []string{"LDAPTLS_CACERT=" + env["ABKIT_SAMBA_RES_CA"], "LDAPTLS_REQCERT=demand"}
	attrs := []string{"objectClass", "cn", "name", "sAMAccountName", "objectSid", "objectGUID", "userAccountControl", "groupType",
		"displayName", "msExchMasterAccountSid", "msRTCSIP-OriginatorSid", "msRTCSIP-PrimaryUserAddress", "proxyAddresses"}
	path := capture(t, "samba-ldapsearch.ldif", tlsEnv, append([]string{"-x", "-H", env["ABKIT_SAMBA_RES_LDAPS_URL"],
		"-D", env["ABKIT_SAMBA_RES_BIND"], "-w", env["ABKIT_SAMBA_PASSWORD"], "-b", base, "-E", "pr=200/noprompt", "(objectClass=*)"}, attrs...)...)
	r := checkCapture(t, path)
	text, _ := os.ReadFile(path)
	for _, zone := range []string{"DC=ForestDnsZones,", "DC=DomainDnsZones,"} {
		if !regexp.MustCompile(`(?mi)^ref: ldaps?://[^\n]*/` + zone).Match(text) {
			t.Errorf("no search reference to %s in the capture", zone)
		}
	}
	domain := ""
	for _, o := range r.objs {
		if strings.EqualFold(o.DN, base) {
			domain = o.SID.String()
		}
	}
	if strings.Count(domain, "-") != 6 || !strings.HasPrefix(domain, "S-1-5-21-") {
		t.Errorf("domain object SID %q, want S-1-5-21-a-b-c without a RID", domain)
	}
	for _, s := range []string{"S-1-5-32-544", "S-1-5-32-545", "S-1-5-11"} {
		if !r.sids[s] {
			t.Errorf("well-known SID %s not in the capture", s)
		}
	}
	f := dialT(t, Options{Name: "res", URL: env["ABKIT_SAMBA_RES_LDAPS_URL"], TLS: TLSOptions{CAFile: env["ABKIT_SAMBA_RES_CA"]},
		Bind: Bind{Method: BindSimple, User: env["ABKIT_SAMBA_RES_BIND"], Password: env["ABKIT_SAMBA_PASSWORD"]}})
	sameObjects(t, "samba", r.objs, collect(t, f, SearchRequest{Base: base, Filter: "(objectClass=*)", Attributes: attrs}))

	root := readCorpus(t, capture(t, "samba-rootdse.ldif", nil, "-x", "-H", env["ABKIT_SAMBA_RES_URL"], "-b", "", "-s", "base"))
	if len(root.objs) != 1 || root.objs[0].DN != "" || !strings.EqualFold(string(root.objs[0].Raw["defaultNamingContext"][0]), base) {
		t.Errorf("root DSE: %+v", root.objs)
	}
	refused := readCorpus(t, capture(t, "samba-anonymous-refused.ldif", nil, "-x", "-H", env["ABKIT_SAMBA_RES_URL"], "-b", base))
	if len(refused.objs) != 0 || refused.rep.Partial() {
		t.Errorf("refused anonymous search: %+v", refused)
	}
}
