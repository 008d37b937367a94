package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/abkit/abkit/internal/ldif"
)

// auditBenchForests writes two LDIF snapshots of n people each: enabled user-forest accounts
// and their disabled, SIP-enabled, correctly mapped resource-forest accounts, with phone numbers
// the demo rules normalize. Every check then reads every object and finds nothing.
func auditBenchForests(b *testing.B, dir string, n int) (userPath, resPath string) {
	b.Helper()
	userPath, resPath = filepath.Join(dir, "user.ldif"), filepath.Join(dir, "res.ldif")
	for _, side := range []struct {
		path, forest string
		resource     bool
	}{{userPath, "userforest", false}, {resPath, "resforest", true}} {
		f, err := os.Create(side.path)
		if err != nil {
			b.Fatal(err)
		}
		w := ldif.NewWriter(f)
		for i := range n {
			sam := "user" + strconv.Itoa(i)
			userSID := demoSID(demoUserDomain, 1000+i)
			attrs := []any{"objectClass", demoUserClasses, "cn", sam, "sn", sam, "sAMAccountName", sam,
				"telephoneNumber", fmt.Sprintf("+1 (425) %03d-%04d", i/10000, i%10000),
				"objectGUID", demoGUIDBytes(side.forest + "/" + sam)}
			if side.resource {
				mail := sam + "@contoso.com"
				attrs = append(attrs, "objectSid", demoSID(demoResDomain, 1000+i), "userAccountControl", "514",
					"msRTCSIP-UserEnabled", "TRUE", "msRTCSIP-PrimaryUserAddress", "sip:"+mail,
					"proxyAddresses", []string{"SMTP:" + mail, "sip:" + mail},
					"msExchMasterAccountSid", userSID, "msRTCSIP-OriginatorSid", userSID)
			} else {
				attrs = append(attrs, "objectSid", userSID, "userAccountControl", "512")
			}
			if err := w.WriteEntry(demoEntry(fmt.Sprintf("cn=%s,ou=Users,dc=%s,dc=test", sam, side.forest), attrs...)); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return userPath, resPath
}

// BenchmarkAuditSnapshots runs `abkit audit` over two LDIF snapshots of $ABKIT_BENCH_AUDIT_PEOPLE
// people each (default 100,000) and the demo address book folder. scripts/bench/audit.sh runs it
// and reports the time and peak memory.
func BenchmarkAuditSnapshots(b *testing.B) {
	n := 100_000
	if v := os.Getenv("ABKIT_BENCH_AUDIT_PEOPLE"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	userPath, resPath := auditBenchForests(b, dir, n)
	demo, _ := filepath.Abs(demoDir)
	cfg := filepath.Join(dir, "abkit.yaml")
	yaml := fmt.Sprintf("forests:\n  - {name: userforest, ldif: %s}\n  - {name: resforest, ldif: %s}\n"+
		"abs: {folder: %s, rules: %s}\nsidmap: {user_forest: userforest, resource_forest: resforest}\n",
		userPath, resPath, filepath.Join(demo, "abs"), filepath.Join(demo, "abs", "Company_Phone_Number_Normalization_Rules.txt"))
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		var out, errOut bytes.Buffer
		f := &Factory{IO: TestStreams(strings.NewReader(""), &out, &errOut), ConfigPath: cfg, Output: "tsv"}
		opts := &auditOptions{f: f, Out: filepath.Join(dir, "out"), Now: func() time.Time { return demoRunTime }}
		err := auditRun(context.Background(), opts)
		// The only findings come from the demo folder: its stale file and missing delta, and the
		// two SIP duplicates planted in its address book (alice and the group, carol and the old
		// contact), which the duplicate check reads with the forests.
		table := out.String()
		if exitCode(err) != ExitFindings || !strings.Contains(table, "abs-freshness\t2\t") ||
			!strings.Contains(table, "duplicate-sip\t2\t") || !strings.Contains(table, "duplicate-phone\t0\t") ||
			!strings.Contains(table, "sidmap\t0\t") {
			b.Fatalf("audit: %v\n%s%s", err, table, errOut.String())
		}
	}
}
