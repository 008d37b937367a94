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
// change and every later one fail with a network error.
type cutForest struct {
	mu      sync.Mutex
	sent    int
	breakAt int
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
	if c.sent++; c.sent >= c.breakAt {
		return ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection closed"))
	}
	return nil
}

// The apply command through a replaced forest opener: a connection lost half-way reports the
// change then on its way as in flight, never as failed, and exits 3 with the advice to run again.
func TestSidmapApplyConnectionLost(t *testing.T) {
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
	f := &Factory{IO: TestStreams(strings.NewReader(""), &out, &errOut), ConfigPath: cfgPath}
	fake := &cutForest{breakAt: 8}
	cmd := newCmdSidmapApply(f, sidmap.KindOriginatorSID, func(o *sidmapApplyOptions) error {
		o.openWritable = func(context.Context, *config.Config, string) (ldapsync.Source, ldapsync.Modifier, error) {
			return fake, fake, nil
		}
		return sidmapApplyRun(o)
	})
	cmd.SetArgs([]string{planPath, "--yes", "--concurrency", "1"})
	err := cmd.Execute()
	if code := exitCode(err); code != ExitRuntime {
		t.Fatalf("exit %d (%v), want 3\n%s", code, err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "20 changes: 7 applied, 0 already done, 0 refused, 0 failed, 1 in flight, 12 not attempted") ||
		!strings.Contains(err.Error(), "run the same command again") {
		t.Errorf("stderr %q, err %v", errOut.String(), err)
	}
	if !strings.Contains(out.String(), "cn=r7,dc=res,dc=test\tin flight") {
		t.Errorf("report:\n%s", out.String())
	}
}
