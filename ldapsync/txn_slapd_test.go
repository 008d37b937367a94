package ldapsync

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// privateSlapd is a throwaway slapd started by testdata/slapd/server.sh for one test alone.
type privateSlapd struct {
	state string
	env   map[string]string
}

// startPrivateSlapd starts a slapd of its own for the test, stopped when the test ends. The
// transaction test writes to it: slapd 2.5.13 can crash in its RFC 5805 code (see endTxnPause),
// and a crash there must not take down the server the other tests share.
func startPrivateSlapd(t *testing.T) *privateSlapd {
	t.Helper()
	s := &privateSlapd{state: t.TempDir(), env: map[string]string{}}
	script, err := filepath.Abs("../testdata/slapd/server.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script, "start", s.state)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Cleanup(func() {
		if out, err := exec.Command("bash", script, "stop", s.state).CombinedOutput(); err != nil {
			t.Errorf("stop the private slapd: %v: %s", err, out)
		}
	})
	if err != nil {
		t.Fatalf("start a private slapd: %v: %s", err, stderr.Bytes())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			s.env[k] = v
		}
	}
	if s.env["ABKIT_SLAPD_URL"] == "" {
		t.Fatalf("the private slapd printed no ABKIT_SLAPD_URL: %q", out)
	}
	return s
}

// alive reports whether the slapd process still runs.
func (s *privateSlapd) alive() bool {
	b, err := os.ReadFile(filepath.Join(s.state, "slapd.pid"))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return false
	}
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

// TestIntegrationSlapdTransactions commits two modifies in one RFC 5805 transaction, then sends a
// transaction whose second modify's condition fails and checks that neither of its modifies took
// effect. It runs on a private slapd. When that slapd dies during the scenario (the slapd 2.5.13
// race endTxnPause works around, made rare but not impossible), the crash is logged and the
// scenario runs again on a fresh server, at most three times; any wrong result from a live
// server fails the test at once.
func TestIntegrationSlapdTransactions(t *testing.T) {
	slapdEnv(t) // the shared server runs, so slapd is installed (or CI=true fails here)
	const attempts = 3
	for i := 1; ; i++ {
		s := startPrivateSlapd(t)
		err := txnScenario(t, s.env)
		if err == nil {
			return
		}
		if s.alive() {
			t.Fatal(err)
		}
		if i == attempts {
			t.Fatalf("slapd crashed in all %d attempts; last: %v", attempts, err)
		}
		t.Logf("attempt %d: slapd crashed (known slapd 2.5.13 transaction race; a fresh server gets the next attempt): %v", i, err)
	}
}

// txnScenario runs the transaction checks against the slapd described by env.
func txnScenario(t *testing.T, env map[string]string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, err := Dial(ctx, Options{Name: "res", URL: env["ABKIT_SLAPD_URL"], Base: env["ABKIT_SLAPD_RES_BASE"],
		Bind: Bind{Method: BindSimple, DN: env["ABKIT_SLAPD_RES_BIND_DN"], Password: env["ABKIT_SLAPD_PASSWORD"]}})
	if err != nil {
		return err
	}
	defer f.Close()
	if !f.SupportsTransactions() {
		return fmt.Errorf("slapd's rootDSE does not list %s: %v", ExtStartTxn, f.RootDSE().SupportedExtensions)
	}
	dn := func(cn string) string { return "cn=" + cn + ",ou=Bulk," + env["ABKIT_SLAPD_RES_BASE"] }
	stamp := time.Now().Format(time.RFC3339Nano)
	description := func(cn string) ([]string, error) {
		var out []string
		n := 0
		for e, err := range f.SearchEntries(ctx, SearchRequest{Filter: "(cn=" + cn + ")", Attributes: []string{"description"}}) {
			if err != nil {
				return nil, err
			}
			n++
			out = append(out, e.GetAttributeValues("description")...)
		}
		if n != 1 {
			return nil, fmt.Errorf("%s: %d entries", cn, n)
		}
		return out, nil
	}
	// want checks that cn holds exactly the one description v.
	want := func(when, cn, v string) error {
		got, err := description(cn)
		if err != nil {
			return err
		}
		if len(got) != 1 || got[0] != v {
			return fmt.Errorf("%s: %s holds %q, want %q", when, cn, got, v)
		}
		return nil
	}
	set := func(cn, v string) *ldap.ModifyRequest {
		r := ldap.NewModifyRequest(dn(cn), nil)
		r.Replace("description", []string{v})
		return r
	}
	if err := f.ModifyTxn(ctx, []*ldap.ModifyRequest{set("bulk010", "a "+stamp), set("bulk011", "b "+stamp)}); err != nil {
		return err
	}
	if err := errors.Join(want("after commit", "bulk010", "a "+stamp), want("after commit", "bulk011", "b "+stamp)); err != nil {
		return err
	}

	// The second modify deletes a value bulk011 does not hold: the whole transaction fails.
	cond := ldap.NewModifyRequest(dn("bulk011"), nil)
	cond.Delete("description", []string{"not there " + stamp})
	err = f.ModifyTxn(ctx, []*ldap.ModifyRequest{set("bulk010", "c "+stamp), cond})
	var te *TxnError
	if !errors.As(err, &te) || te.Step != "commit" {
		return fmt.Errorf("failing transaction: %v, want a TxnError at commit", err)
	}
	t.Logf("failing transaction: %v", err)
	if err := want("after the aborted transaction", "bulk010", "a "+stamp); err != nil {
		return err
	}
	// The connection is usable afterwards, for a transaction and a plain modify.
	if err := f.ModifyTxn(ctx, []*ldap.ModifyRequest{set("bulk010", "d "+stamp)}); err != nil {
		return err
	}
	if err := f.Modify(ctx, set("bulk011", "e "+stamp)); err != nil {
		return err
	}
	return errors.Join(want("after the abort", "bulk010", "d "+stamp), want("after the abort", "bulk011", "e "+stamp))
}
