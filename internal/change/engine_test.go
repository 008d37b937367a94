package change

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestPolicyCheck(t *testing.T) {
	pol := Policy{Name: "op", Attrs: []string{"title"}, Base: "OU=Users,DC=rf,DC=test"}
	ok := func(dn string) Item {
		return Item{DN: dn, Changes: []AttrChange{{Attr: "Title", New: [][]byte{[]byte("x")}}}}
	}
	for _, dn := range []string{"cn=a,ou=users,dc=rf,dc=test", "CN=b,OU=USERS,DC=RF,DC=TEST", "cn=c,  ou=Users , dc=rf,dc=test", `cn=d\,x,ou=Users,dc=rf,dc=test`} {
		if err := pol.Check([]Item{ok(dn)}); err != nil {
			t.Errorf("%s refused: %v", dn, err)
		}
	}
	refused := map[string]Item{
		"the base itself":         ok("ou=Users,dc=rf,dc=test"),
		"another branch":          ok("cn=a,ou=Admins,dc=rf,dc=test"),
		"text ends with the base": ok(`cn=x\,ou=Users,dc=rf,dc=test`),
		"suffix within an RDN":    ok("cn=a,ou=EvilUsers,dc=rf,dc=test"),
		"longer suffix":           ok("cn=a,ou=Users,dc=rf,dc=test,dc=evil"),
		"not a DN":                ok("cn=a,,ou=Users,dc=rf,dc=test"),
		"attribute not allowed":   {DN: "cn=a,ou=Users,dc=rf,dc=test", Changes: []AttrChange{{Attr: "userPassword", New: [][]byte{[]byte("x")}}}},
		"no change":               {DN: "cn=a,ou=Users,dc=rf,dc=test"},
		"empty change":            {DN: "cn=a,ou=Users,dc=rf,dc=test", Changes: []AttrChange{{Attr: "title"}}},
	}
	for name, it := range refused {
		var re *RefusedError
		if err := pol.Check([]Item{ok("cn=fine,ou=Users,dc=rf,dc=test"), it}); !errors.As(err, &re) || re.Index != 2 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := (Policy{Attrs: []string{"title"}}).Check([]Item{ok("cn=a,dc=x")}); err == nil {
		t.Error("no base: accepted")
	}
}

// memDir is a directory of one attribute per entry, title, that fails modifies on request.
type memDir struct {
	mu    sync.Mutex
	title map[string]string
	// block, when set, is called inside each modify (before it takes effect).
	block func(dn string) error
	sent  int
}

func (d *memDir) Modify(ctx context.Context, req *ldap.ModifyRequest) error {
	if d.block != nil {
		if err := d.block(req.DN); err != nil {
			return err
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent++
	cur := d.title[req.DN]
	for _, c := range req.Changes {
		switch c.Operation {
		case ldap.DeleteAttribute:
			if cur != c.Modification.Vals[0] {
				return ldap.NewError(ldap.LDAPResultNoSuchAttribute, errors.New("no such value"))
			}
			cur = ""
		case ldap.AddAttribute:
			if cur != "" {
				return ldap.NewError(ldap.LDAPResultAttributeOrValueExists, errors.New("exists"))
			}
			cur = c.Modification.Vals[0]
		}
	}
	d.title[req.DN] = cur
	return nil
}

func items(n int) ([]Item, *memDir) {
	d := &memDir{title: map[string]string{}}
	var out []Item
	for i := 0; i < n; i++ {
		dn := fmt.Sprintf("cn=%d,dc=x", i)
		d.title[dn] = "old"
		out = append(out, Item{DN: dn, Changes: []AttrChange{{Attr: "title", Old: [][]byte{[]byte("old")}, New: [][]byte{[]byte("new")}}}})
	}
	return out, d
}

// A run cut while changes are in flight reports them in flight, not failed, and the rest not
// attempted; a re-run sends them again conditionally and finishes.
func TestRunCutInFlight(t *testing.T) {
	its, d := items(50)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	calls := 0
	d.block = func(dn string) error {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls == 20 {
			cancel() // cut the run while this change is on its way
			return context.Canceled
		}
		return nil
	}
	dir := t.TempDir()
	op := Operation{ID: "t", Policy: Policy{Name: "t", Attrs: []string{"title"}, Base: "dc=x"}, Items: its}
	opts := Options{JournalPath: filepath.Join(dir, "j"), UndoPath: filepath.Join(dir, "u"), Concurrency: 4}
	res, err := Run(ctx, op, d, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if len(res.InFlight) == 0 || len(res.Failed) != 0 || len(res.Refused) != 0 ||
		res.Applied+len(res.InFlight)+res.NotAttempted != 50 || res.NotAttempted == 0 {
		t.Fatalf("cut run %+v", res)
	}
	d.block = nil
	res, err = Run(context.Background(), op, d, opts)
	if err != nil || len(res.Failed)+len(res.Refused)+len(res.InFlight) != 0 || res.Applied+res.AlreadyDone != 50 {
		t.Fatalf("re-run %+v %v", res, err)
	}
	for dn, v := range d.title {
		if v != "new" {
			t.Errorf("%s = %q", dn, v)
		}
	}
}

// Undo after a partial apply undoes only what the apply did; the rest is never applied, not
// failed. An undo file that is not the apply's own is refused.
func TestUndoAfterPartialApply(t *testing.T) {
	its, d := items(10)
	d.title["cn=3,dc=x"] = "changed since the plan"
	dir := t.TempDir()
	pol := Policy{Name: "t", Attrs: []string{"title"}, Base: "dc=x"}
	journal, undo := filepath.Join(dir, "j"), filepath.Join(dir, "u")
	res, err := Run(context.Background(), Operation{ID: "t", Policy: pol, Items: its}, d, Options{JournalPath: journal, UndoPath: undo})
	if err != nil || res.Applied != 9 || len(res.Refused) != 1 {
		t.Fatalf("apply %+v %v", res, err)
	}
	data, err := os.ReadFile(undo)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PrepareUndo(append(data, '\n'), journal, pol); err == nil || !strings.Contains(err.Error(), "edited or belongs to another run") {
		t.Errorf("edited undo: %v", err)
	}
	if _, err := PrepareUndo(data, journal, Policy{Name: "u", Attrs: []string{"title"}, Base: "dc=y"}); err == nil {
		t.Error("undo under another base accepted")
	}
	op, err := PrepareUndo(data, journal, Policy{Name: "u", Attrs: []string{"title", "userPassword"}, Base: "dc=x"})
	if err != nil {
		t.Fatal(err)
	}
	if len(op.Policy.Attrs) != 1 || op.Policy.Attrs[0] != "title" || len(op.Skip) != 1 || !op.Skip[3] {
		t.Fatalf("undo operation %+v", op)
	}
	res, err = Run(context.Background(), op, d, Options{JournalPath: filepath.Join(dir, "uj"), UndoPath: filepath.Join(dir, "redo")})
	if err != nil || res.Applied != 9 || res.NeverApplied != 1 || res.NotAttempted != 1 || len(res.Failed)+len(res.Refused) != 0 || !res.Finished() {
		t.Fatalf("undo %+v %v", res, err)
	}
	if d.title["cn=3,dc=x"] != "changed since the plan" || d.title["cn=4,dc=x"] != "old" {
		t.Errorf("after undo %v", d.title)
	}
}

// TestLockHelper is not a test: run by TestLockTwoProcesses in a child process, it holds the
// lock named by ABKIT_LOCK_HELPER until its stdin closes.
func TestLockHelper(t *testing.T) {
	path := os.Getenv("ABKIT_LOCK_HELPER")
	if path == "" {
		t.Skip("helper process only")
	}
	l, err := AcquireLock(path)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("locked")
	bufio.NewReader(os.Stdin).ReadString('\n')
	l.Release()
}

// A second process cannot take a lock another holds, and is told who holds it; once the holder
// ends, the lock is free again (no stale lock).
func TestLockTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.journal.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelper$")
	cmd.Env = append(os.Environ(), "ABKIT_LOCK_HELPER="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("helper: %q", line)
	}
	_, err = AcquireLock(path)
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(le.Holder, fmt.Sprintf("pid %d on ", cmd.Process.Pid)) {
		t.Fatalf("second lock: %v", err)
	}
	// The holder is killed: the operating system releases its lock.
	cmd.Process.Kill()
	cmd.Wait()
	stdin.Close()
	l, err := AcquireLock(path)
	if err != nil {
		t.Fatalf("lock after the holder died: %v", err)
	}
	l.Release()
}
