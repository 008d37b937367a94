package audit

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/abkit/abkit/abs"
	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
)

func mustName(t *testing.T, s string) abs.FileName {
	t.Helper()
	n, err := abs.ParseFileName(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestFreshnessFindings(t *testing.T) {
	// 0A10 = 2008-01-21.
	now := time.Date(2008, 1, 24, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		files []string
		now   time.Time
		want  []string // "severity object"
	}{
		{"complete and fresh", []string{"F-0A10.lsabs", "F-0A13.lsabs", "D-0A10-0A11.lsabs", "C-0A11-0A12.lsabs", "D-0A12-0A13.lsabs"}, now, nil},
		{"stale", []string{"F-0A10.lsabs", "F-0A11.lsabs", "D-0A10-0A11.lsabs"}, now, []string{"error F-0A11.lsabs"}},
		{"exactly max age is fresh", []string{"F-0A13.lsabs"}, time.Date(2008, 1, 25, 12, 0, 0, 0, time.UTC), nil},
		{"gaps", []string{"F-0A10.lsabs", "F-0A13.lsabs", "D-0A11-0A12.lsabs", "D-0A10-0A12.lsabs"}, now,
			[]string{"warning D-0A10-0A11.lsabs", "warning D-0A12-0A13.lsabs"}},
		{"deltas older than the oldest full file", []string{"D-0A0E-0A0F.lsabs", "F-0A13.lsabs"}, now,
			[]string{"warning D-0A0F-0A10.lsabs", "warning D-0A10-0A11.lsabs", "warning D-0A11-0A12.lsabs", "warning D-0A12-0A13.lsabs"}},
		{"device files apart", []string{"F-0A13.lsabs", "F-0A11.dabs", "F-0A13.dabs", "D-0A11-0A12.dabs"}, now,
			[]string{"warning D-0A12-0A13.dabs"}},
		{"deltas only", []string{"D-0A12-0A13.lsabs"}, now, []string{"error F-XXXX.lsabs"}},
		{"nothing", nil, now, []string{"error /abs"}},
	}
	for _, tt := range tests {
		var names []abs.FileName
		for _, f := range tt.files {
			names = append(names, mustName(t, f))
		}
		var got []string
		for _, f := range freshnessFindings("/abs", names, tt.now, 36*time.Hour) {
			got = append(got, string(f.Severity)+" "+f.Object)
			if f.Check != CheckABSFreshness || f.Message == "" {
				t.Errorf("%s: finding %+v", tt.name, f)
			}
		}
		if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
			t.Errorf("%s: findings %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestABSFreshnessCheckReadsFolder(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"F-0A10.lsabs", "F-0A12.lsabs", "D-0A11-0A12.lsabs", "notes.txt", "F-zzzz.lsabs"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := func() time.Time { return time.Date(2008, 1, 30, 0, 0, 0, 0, time.UTC) }
	fs, err := ABSFreshnessCheck(dir, 48*time.Hour, now).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := objectsOf(fs); got != "F-0A12.lsabs D-0A10-0A11.lsabs" {
		t.Errorf("findings %q", got)
	}
	if !strings.Contains(fs[0].Message, "7d old, more than the 48h allowed") {
		t.Errorf("message %q", fs[0].Message)
	}
	if _, err := ABSFreshnessCheck(filepath.Join(dir, "missing"), time.Hour, now).Run(context.Background()); err == nil {
		t.Error("a missing folder must make the check fail")
	}
}

func TestPhoneRulesCheck(t *testing.T) {
	rules, err := abs.ParseRules(abs.DefaultRules)
	if err != nil {
		t.Fatal(err)
	}
	forests := []*Forest{staticForest("f", false,
		&ldapsync.Object{DN: "CN=ok", Kind: ldapsync.KindUser, TelephoneNumber: "(425) 555-0100"},
		&ldapsync.Object{DN: "CN=ext", Kind: ldapsync.KindUser, TelephoneNumber: "+1 425 555 0100 ext. 7"},
		&ldapsync.Object{DN: "CN=none", Kind: ldapsync.KindContact},
		&ldapsync.Object{DN: "CN=uk", Kind: ldapsync.KindContact, TelephoneNumber: "+44 20 7946 0958"},
	)}
	load := func(context.Context) (abs.Rules, error) { return rules, nil }
	fs, err := PhoneRulesCheck(forests, load).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := objectsOf(fs); got != "CN=ext CN=uk" {
		t.Errorf("findings %q", got)
	}
	if !strings.Contains(fs[0].Message, `"+1 425 555 0100 ext. 7"`) {
		t.Errorf("message %q lacks the number", fs[0].Message)
	}
	bad := func(context.Context) (abs.Rules, error) { return abs.ParseRules("(unclosed\r\nx\r\n") }
	if _, err := PhoneRulesCheck(forests, bad).Run(context.Background()); err == nil {
		t.Error("rules that do not parse must make the check fail")
	}

	// The duplicate-phone check normalizes with the same rules, through dupes.Rules.
	n := dupes.Rules{Rules: rules}
	if got, ok := n.Normalize("425-555-0100"); !ok || got != "tel:+14255550100" {
		t.Errorf("dupes.Rules = %q, %v", got, ok)
	}
	if _, ok := n.Normalize("call me"); ok {
		t.Error("dupes.Rules matched a non-number")
	}

}

const sidmapUserLDIF = `dn: cn=Ann,dc=u
objectClass: user
sAMAccountName: ann
objectSid:: {{S-1-5-21-1-2-3-1001}}
userAccountControl: 512

dn: cn=Old,dc=u
objectClass: user
sAMAccountName: old
objectSid:: {{S-1-5-21-1-2-3-1002}}
userAccountControl: 514
`

const sidmapResLDIF = `dn: cn=Room,dc=r
objectClass: user
sAMAccountName: room
userAccountControl: 514
msRTCSIP-UserEnabled: TRUE
msRTCSIP-PrimaryUserAddress: sip:room@contoso.com
msExchMasterAccountSid:: {{S-1-5-10}}

dn: cn=Ann,dc=r
objectClass: user
sAMAccountName: ann
userAccountControl: 514
msRTCSIP-UserEnabled: TRUE
msRTCSIP-PrimaryUserAddress: sip:ann@contoso.com
msRTCSIP-OriginatorSid:: {{S-1-5-21-1-2-3-1001}}

dn: cn=Old,dc=r
objectClass: user
sAMAccountName: old
userAccountControl: 514
msRTCSIP-UserEnabled: TRUE
msRTCSIP-PrimaryUserAddress: sip:old@contoso.com
msRTCSIP-OriginatorSid:: {{S-1-5-21-1-2-3-1002}}

dn: cn=New,dc=r
objectClass: user
sAMAccountName: new
userAccountControl: 514
msRTCSIP-UserEnabled: TRUE
msRTCSIP-PrimaryUserAddress: sip:new@contoso.com
`

// binarySIDs replaces {{S-1-...}} in ldif with the base64 of the binary SID.
func binarySIDs(ldif string) string {
	re := regexp.MustCompile(`{{(S-[0-9-]+)}}`)
	return re.ReplaceAllStringFunc(ldif, func(m string) string {
		return base64.StdEncoding.EncodeToString(ldapsync.MustParseSID(m[2 : len(m)-2]).Bytes())
	})
}

func snapshotForest(t *testing.T, name, ldif string, resource bool) *Forest {
	t.Helper()
	ldif = binarySIDs(ldif)
	return NewForest(name, resource, func(context.Context) (ldapsync.Source, error) {
		return ldapsync.ReadSnapshot(name, strings.NewReader(ldif), "")
	})
}

func TestSidmapCheck(t *testing.T) {
	user := snapshotForest(t, "userforest", sidmapUserLDIF, false)
	res := snapshotForest(t, "resforest", sidmapResLDIF, true)
	fs, err := SidmapCheck(res, sidmap.TopologyResource, user).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, string(f.Severity)+" "+f.Object+" "+strings.SplitN(f.Message, ":", 2)[0])
	}
	// cn=Room (msExchMasterAccountSid SELF: a room mailbox) is no finding.
	want := "error cn=New,dc=r missing, warning cn=Old,dc=r user-disabled"
	if strings.Join(got, ", ") != want {
		t.Errorf("findings %q, want %q", got, want)
	}
	missing := NewForest("resforest", true, func(context.Context) (ldapsync.Source, error) {
		return ldapsync.OpenSnapshot("resforest", filepath.Join(t.TempDir(), "missing.ldif"), "")
	})
	if _, err := SidmapCheck(missing, sidmap.TopologyResource, user).Run(context.Background()); err == nil {
		t.Error("an unreadable resource forest must make the check fail")
	}
}

// TestSnapshotRecordsCheck: a record that cannot be read is skipped, the other checks run on
// the rest of the forest, and snapshot-records names the record by file and line.
func TestSnapshotRecordsCheck(t *testing.T) {
	user := snapshotForest(t, "userforest", sidmapUserLDIF, false)
	broken := snapshotForest(t, "resforest", sidmapResLDIF+"\ndn: cn=x,dc=r\nbad line without colon\n", true)
	fs, err := SidmapCheck(broken, sidmap.TopologyResource, user).Run(context.Background())
	if err != nil || len(fs) != 2 {
		t.Fatalf("sidmap on a forest with a broken record: %d findings, %v", len(fs), err)
	}
	fs, err = SnapshotRecordsCheck([]*Forest{user, broken}).Run(context.Background())
	want := fmt.Sprintf(":%d", strings.Count(sidmapResLDIF, "\n")+3)
	if err != nil || len(fs) != 1 || !strings.HasSuffix(fs[0].Object, want) ||
		!strings.Contains(fs[0].Message, "forest resforest: record skipped: want attr: value") || !strings.Contains(fs[0].Message, "cn=x,dc=r") {
		t.Errorf("snapshot-records: %+v, %v; want one finding at line %s", fs, err, want)
	}
}
