package cli

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
	"github.com/go-ldap/ldap/v3"
)

// cutForest is a writable forest whose connection breaks at the change number breakAt: that
// change and every later one fail with a network error. With code set, only that change fails,
// with that LDAP result code.
type cutForest struct {
	mu      sync.Mutex
	sent    int
	breakAt int
	code    uint16
}

func (c *cutForest) Name() string   { return "res" }
func (c *cutForest) BaseDN() string { return "dc=res,dc=test" }
func (c *cutForest) Close() error   { return nil }
func (c *cutForest) Search(context.Context, ldapsync.SearchRequest) iter.Seq2[*ldapsync.Object, error] {
	return func(yield func(*ldapsync.Object, error) bool) { yield(nil, errors.New("not readable")) }
}
func (c *cutForest) Modify(ctx context.Context, req *ldap.ModifyRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sent++; c.code != 0 && c.sent == c.breakAt {
		return ldap.NewError(c.code, errors.New("ldap: refused by the fake"))
	}
	if c.code == 0 && c.sent >= c.breakAt {
		return ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection closed"))
	}
	return nil
}

// runSidmapApplyCut runs 'sidmap apply PLAN --yes' with output format output on a plan of 20 set
// rows through fake, in place of a directory server.
func runSidmapApplyCut(t *testing.T, fake *cutForest, output string) (stdout, stderr string, err error) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "abkit.yaml")
	if err := os.WriteFile(cfgPath, []byte("forests:\n  - {name: res, url: \"ldap://127.0.0.1:1\", base: \"dc=res,dc=test\"}\nsidmap: {user_forest: res, resource_forest: res}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &sidmap.Plan{Version: sidmap.PlanVersion, Kind: sidmap.KindOriginatorSID, UserForest: "users", ResourceForest: "res", Created: time.Unix(0, 0).UTC()}
	for i := 0; i < 20; i++ {
		p.Rows = append(p.Rows, sidmap.Row{ResourceDN: fmt.Sprintf("cn=r%d,dc=res,dc=test", i), Action: sidmap.ActionSet,
			ProposedSID: ldapsync.MustParseSID(fmt.Sprintf("S-1-5-21-1-2-3-%d", 1000+i))})
	}
	planPath := filepath.Join(dir, "plan.json")
	if err := writePlanFile(planPath, p); err != nil {
		t.Fatal(err)
	}
	var out, errOut strings.Builder
	f := &Factory{IO: TestStreams(strings.NewReader(""), &out, &errOut), ConfigPath: cfgPath, Output: output}
	cmd := newCmdSidmapApply(f, sidmap.KindOriginatorSID, func(o *sidmapApplyOptions) error {
		o.openWritable = func(context.Context, *config.Config, string) (ldapsync.Source, ldapsync.Modifier, error) {
			return fake, fake, nil
		}
		return sidmapApplyRun(o)
	})
	cmd.SetArgs([]string{planPath, "--yes", "--concurrency", "1"})
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

// The apply command through a replaced forest opener: a connection lost half-way reports the
// change then on its way as in flight, never as failed, and exits 3 with the advice to run again.
func TestSidmapApplyConnectionLost(t *testing.T) {
	out, errOut, err := runSidmapApplyCut(t, &cutForest{breakAt: 8}, "")
	if code := exitCode(err); code != ExitRuntime {
		t.Fatalf("exit %d (%v), want 3\n%s", code, err, errOut)
	}
	if !strings.Contains(errOut, "20 changes: 7 applied, 0 already done, 0 refused, 0 failed, 1 in flight, 12 not attempted") ||
		!strings.Contains(err.Error(), "run the same command again") {
		t.Errorf("stderr %q, err %v", errOut, err)
	}
	if !strings.Contains(out, "cn=r7,dc=res,dc=test\tin flight") {
		t.Errorf("report:\n%s", out)
	}
}
