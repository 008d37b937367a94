package sidmap

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
)

// mappingForests holds n unmapped accounts matched by sam, one already mapped, one mismatched
// (planned for replacement) and one conflict.
func mappingForests(n int) (*fakeDir, *fakeDir) {
	return forestsFor(func(u, r *fakeDir) {
		for i := 0; i < n; i++ {
			cn := "user" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
			userAcct(u, cn, 1000+i, true, nil)
			resAcct(r, cn, 5000+i, nil)
		}
		userAcct(u, "mapped", 900, true, nil)
		resAcct(r, "mapped", 901, attrs{"msRTCSIP-OriginatorSid": {usid(900)}})
		userAcct(u, "wrong", 902, true, nil)
		resAcct(r, "wrong", 903, attrs{"msRTCSIP-OriginatorSid": {usid(904)}})
		resAcct(r, "orphan", 905, nil)
	})
}

func makeTestPlan(t *testing.T, u, r *fakeDir) *Plan {
	t.Helper()
	p, err := MakePlan(context.Background(), u, r, PlanOptions{ReplaceMismatched: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func files(t *testing.T) (journal, undo string) {
	dir := t.TempDir()
	return filepath.Join(dir, "plan.journal"), filepath.Join(dir, "plan.undo.ldif")
}

// snapshot copies every entry's attributes.
func (d *fakeDir) snapshot() map[string]map[string][][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]map[string][][]byte{}
	for k, e := range d.entries {
		c := map[string][][]byte{}
		for a, vs := range e {
			c[strings.ToLower(a)] = append([][]byte(nil), vs...)
		}
		out[k] = c
	}
	return out
}

func sameSnapshot(a, b map[string]map[string][][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, ea := range a {
		eb, ok := b[k]
		if !ok || len(ea) != len(eb) {
			return false
		}
		for attr, va := range ea {
			if !sameValues(va, eb[attr]) {
				return false
			}
		}
	}
	return true
}

func TestApplyAndUndo(t *testing.T) {
	ctx := context.Background()
	u, r := mappingForests(30)
	before := r.snapshot()
	p := makeTestPlan(t, u, r)
	c := p.Counts()
	if c[ActionSet] != 31 || c[ActionNone] != 1 || c[ActionConflict] != 1 {
		t.Fatalf("counts %v", c)
	}
	journal, undo := files(t)

	// Dry run: nothing written, no files.
	res, err := Apply(ctx, p, r, ApplyOptions{Forest: "resforest", Base: rfBase, DryRun: true, JournalPath: journal, UndoPath: undo})
	if err != nil || res.Items != 31 || res.Applied != 0 || !res.DryRun {
		t.Fatalf("dry run = %+v, %v", res, err)
	}
	if r.modifies != 0 {
		t.Fatalf("dry run sent %d modifies", r.modifies)
	}
	for _, f := range []string{journal, undo} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("dry run created %s", f)
		}
	}

	var adds atomic.Int64
	res, err = Apply(ctx, p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo, Concurrency: 3, Progress: &countReporter{n: &adds}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 31 || len(res.Failed) != 0 || res.AlreadyDone != 0 || adds.Load() != 31 {
		t.Fatalf("apply = %+v, progress %d", res, adds.Load())
	}
	for _, row := range p.Rows {
		got := r.sid(row.ResourceDN, ldapsync.AttrOriginatorSid)
		switch row.Action {
		case ActionSet:
			if got != row.ProposedSID {
				t.Errorf("%s: %s, want %s", row.ResourceDN, got, row.ProposedSID)
			}
		default:
			if got != row.CurrentSID {
				t.Errorf("%s (%s): changed to %s", row.ResourceDN, row.Action, got)
			}
		}
	}
	// Written binary.
	if v := r.get(rdn("usera"), ldapsync.AttrOriginatorSid); len(v) != 1 || !bytes.Equal(v[0], usid(1000).Bytes()) {
		t.Errorf("stored value %x, want binary %x", v, usid(1000).Bytes())
	}
	undoText, err := os.ReadFile(undo)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(undoText), "changetype: modify"); n != 31 {
		t.Errorf("undo LDIF has %d records, want 31", n)
	}

	// Re-run: everything is in the journal, nothing is sent.
	sent := r.modifies
	res, err = Apply(ctx, p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo})
	if err != nil || res.AlreadyDone != 31 || res.Applied != 0 || r.modifies != sent {
		t.Fatalf("re-run = %+v, %v; %d modifies", res, err, r.modifies-sent)
	}

	// Undo restores the original directory.
	f, err := os.Open(undo)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	res, err = Undo(ctx, f, r, ApplyOptions{Forest: "resforest", Base: rfBase, ApplyJournal: journal, JournalPath: filepath.Join(dir, "undo.journal"), UndoPath: filepath.Join(dir, "redo.ldif")})
	if err != nil || res.Applied != 31 || len(res.Failed) != 0 {
		t.Fatalf("undo = %+v, %v", res, err)
	}
	if !sameSnapshot(before, r.snapshot()) {
		t.Error("undo did not restore the directory")
	}
}

type countReporter struct{ n *atomic.Int64 }

func (c *countReporter) Start(int64, string) {}
func (c *countReporter) Add(n int64)         { c.n.Add(n) }
func (c *countReporter) Done()               {}

func TestApplyConditional(t *testing.T) {
	ctx := context.Background()
	u, r := mappingForests(3)
	p := makeTestPlan(t, u, r)
	// After planning, someone else edits three accounts:
	r.add(rdn("usera"), attrs{"msRTCSIP-OriginatorSid": {usid(7777)}}) // set while the plan saw it empty
	r.add(rdn("userb"), attrs{"msRTCSIP-OriginatorSid": {usid(1001)}}) // set to exactly the target
	r.add(rdn("wrong"), attrs{"msRTCSIP-OriginatorSid": {usid(8888)}}) // changed from the mismatched value
	journal, undo := files(t)
	res, err := Apply(ctx, p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo})
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 1 || res.AlreadyDone != 1 || len(res.Refused) != 2 || len(res.Failed) != 0 {
		t.Fatalf("result %+v", res)
	}
	failed := map[string]Failure{}
	for _, f := range res.Refused {
		failed[f.DN] = f
	}
	if f := failed[rdn("usera")]; f.Code != ldap.LDAPResultConstraintViolation || !strings.Contains(f.Error, "changed since the plan") {
		t.Errorf("usera failure %+v", f)
	}
	if f := failed[rdn("wrong")]; f.Code != ldap.LDAPResultNoSuchAttribute {
		t.Errorf("wrong failure %+v", f)
	}
	if got := r.sid(rdn("usera"), ldapsync.AttrOriginatorSid); got != usid(7777) {
		t.Errorf("concurrent value overwritten: %s", got)
	}
	if got := r.sid(rdn("wrong"), ldapsync.AttrOriginatorSid); got != usid(8888) {
		t.Errorf("concurrent value overwritten: %s", got)
	}
	if got := r.sid(rdn("userc"), ldapsync.AttrOriginatorSid); got != usid(1002) {
		t.Errorf("userc = %s", got)
	}
}

func TestApplyRewritesTextAndUndecodable(t *testing.T) {
	u, r := forestsFor(func(u, r *fakeDir) {
		userAcct(u, "text", 1, true, nil)
		userAcct(u, "junk", 2, true, nil)
		resAcct(r, "text", 11, attrs{"msRTCSIP-OriginatorSid": {usid(1).String()}})
		resAcct(r, "junk", 12, attrs{"msRTCSIP-OriginatorSid": {[]byte{1, 9}}})
	})
	before := r.snapshot()
	p := makeTestPlan(t, u, r)
	if c := p.Counts(); c[ActionSet] != 2 {
		t.Fatalf("counts %v", c)
	}
	journal, undo := files(t)
	res, err := Apply(context.Background(), p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo})
	if err != nil || res.Applied != 2 {
		t.Fatalf("apply %+v, %v", res, err)
	}
	for cn, sid := range map[string]ldapsync.SID{"text": usid(1), "junk": usid(2)} {
		if v := r.get(rdn(cn), ldapsync.AttrOriginatorSid); len(v) != 1 || !bytes.Equal(v[0], sid.Bytes()) {
			t.Errorf("%s: %q, want binary %s", cn, v, sid)
		}
	}
	f, err := os.Open(undo)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	if _, err := Undo(context.Background(), f, r, ApplyOptions{Forest: "resforest", Base: rfBase, ApplyJournal: journal, JournalPath: filepath.Join(dir, "j"), UndoPath: filepath.Join(dir, "r")}); err != nil {
		t.Fatal(err)
	}
	if !sameSnapshot(before, r.snapshot()) {
		t.Error("undo did not restore the text and undecodable values")
	}
}

func TestApplyResumesAfterFailures(t *testing.T) {
	ctx := context.Background()
	u, r := mappingForests(40)
	p := makeTestPlan(t, u, r)
	down := ldap.NewError(ldap.ErrorNetwork, errors.New("connection closed"))
	for _, cn := range []string{"usera", "userc", "userex", "userz"} {
		r.fail[strings.ToLower(rdn(cn))] = down
	}
	journal, undo := files(t)
	res, err := Apply(ctx, p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo, Concurrency: 8})
	// A lost connection cuts the run: the changes sent are in flight (not failed), the rest are
	// not attempted.
	if err == nil || len(res.InFlight) == 0 || len(res.Failed) != 0 || len(res.Refused) != 0 ||
		res.Applied+res.AlreadyDone+len(res.InFlight)+res.NotAttempted != res.Items {
		t.Fatalf("first run %+v, %v", res, err)
	}
	for _, fl := range res.InFlight {
		if _, ok := r.fail[strings.ToLower(fl.DN)]; !ok {
			t.Errorf("%s reported in flight though its change succeeded", fl.DN)
		}
	}
	// The server is back. One of the failed changes actually reached it before the
	// connection broke (its journal line is missing): it must count as done, not fail.
	r.fail = map[string]error{}
	r.add(rdn("userz"), attrs{"objectClass": {"user"}, "sAMAccountName": {"userz"}, "userAccountControl": {"514"},
		"msRTCSIP-UserEnabled": {"TRUE"}, "msRTCSIP-OriginatorSid": {usid(1025)}})
	sent := r.modifies
	res, err = Apply(ctx, p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo, Concurrency: 8})
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied+res.AlreadyDone != 41 || len(res.Failed) != 0 || len(res.Refused) != 0 || res.Applied == 0 {
		t.Fatalf("second run %+v", res)
	}
	if done := 41 - res.AlreadyDone - res.Applied; r.modifies-sent > 41-done || r.modifies-sent < res.Applied {
		t.Errorf("second run sent %d modifies for %d applied", r.modifies-sent, res.Applied)
	}
	for _, row := range p.Rows {
		if row.Action == ActionSet && r.sid(row.ResourceDN, ldapsync.AttrOriginatorSid) != row.ProposedSID {
			t.Errorf("%s not mapped", row.ResourceDN)
		}
	}
}

func TestApplyRefusals(t *testing.T) {
	ctx := context.Background()
	u, r := mappingForests(2)
	p := makeTestPlan(t, u, r)
	journal, undo := files(t)
	refuse := func(name string, opts ApplyOptions, want string) {
		t.Helper()
		sent := r.modifies
		_, err := Apply(ctx, p, r, opts)
		var oe *OptionsError
		if !errors.As(err, &oe) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want OptionsError containing %q", name, err, want)
		}
		if r.modifies != sent {
			t.Errorf("%s: %d modifies sent", name, r.modifies-sent)
		}
	}
	refuse("no journal", ApplyOptions{Forest: "resforest", Base: rfBase, UndoPath: undo}, "journal and an undo file")
	refuse("no undo", ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal}, "journal and an undo file")
	refuse("same file", ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: undo, UndoPath: undo}, "different files")
	if err := os.WriteFile(undo, []byte("# another run\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refuse("undo of another run", ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo}, "belongs to another run")
	os.Remove(undo)
	if err := os.WriteFile(journal, []byte(`{"journal":"abkit-change","version":1,"id":"plan:sha256:00"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refuse("journal of another plan", ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo}, "belongs to another run")
	if err := os.WriteFile(journal, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refuse("not a journal", ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo + "2"}, "not an abkit change journal")
}

func TestApplyCancelled(t *testing.T) {
	u, r := mappingForests(10)
	p := makeTestPlan(t, u, r)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	journal, undo := files(t)
	res, err := Apply(ctx, p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo, Concurrency: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if res.Applied+len(res.Failed)+len(res.InFlight)+res.NotAttempted+res.AlreadyDone != res.Items || res.NotAttempted == 0 {
		t.Errorf("result %+v does not account for every item", res)
	}
}

func TestApplyTransactions(t *testing.T) {
	ctx := context.Background()
	u, r := mappingForests(40)
	p := makeTestPlan(t, u, r)
	// After the plan, usera gains a value: its conditional add now fails, and with it the
	// transaction that holds it.
	r.add(rdn("usera"), attrs{"objectClass": {"user"}, "sAMAccountName": {"usera"}, "userAccountControl": {"512"},
		"msRTCSIP-UserEnabled": {"TRUE"}, "msRTCSIP-OriginatorSid": {usid(7777)}})
	tr := &txnDir{fakeDir: r}
	journal, undo := files(t)
	res, err := Apply(ctx, p, tr, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo, BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	// 41 changes: batches of 10, 10, 10, 10 and 1; the one with usera is retried item by item.
	if res.Items != 41 || res.Applied != 40 || len(res.Refused) != 1 || len(res.Failed) != 0 || res.Transactions != 3 {
		t.Fatalf("result %+v", res)
	}
	if f := res.Refused[0]; !strings.EqualFold(f.DN, rdn("usera")) || (f.Code != 19 && f.Code != 20) {
		t.Errorf("failure %+v", f)
	}
	if tr.started != 4 || tr.committed != 3 {
		t.Errorf("transactions started %d, committed %d; want 4, 3", tr.started, tr.committed)
	}
	if tr.modifies != 11 { // the failed batch's 10 one by one, and the last batch of one
		t.Errorf("%d modifies outside transactions, want 11", tr.modifies)
	}
	if got := r.sid(rdn("usera"), ldapsync.AttrOriginatorSid); got != usid(7777) {
		t.Errorf("usera holds %v", got)
	}
	for _, row := range p.Rows {
		if row.Action == ActionSet && !strings.EqualFold(row.ResourceDN, rdn("usera")) &&
			r.sid(row.ResourceDN, ldapsync.AttrOriginatorSid) != row.ProposedSID {
			t.Errorf("%s not mapped", row.ResourceDN)
		}
	}
	// A re-run finds 40 done in the journal and retries only usera, on its own.
	res, err = Apply(ctx, p, tr, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo, BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadyDone != 40 || len(res.Refused) != 1 || res.Transactions != 0 || tr.started != 4 {
		t.Fatalf("re-run %+v, %d transactions started", res, tr.started)
	}
}

func TestApplyNoTransactions(t *testing.T) {
	u, r := mappingForests(30)
	p := makeTestPlan(t, u, r)
	tr := &txnDir{fakeDir: r}
	journal, undo := files(t)
	res, err := Apply(context.Background(), p, tr, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: journal, UndoPath: undo, NoTransactions: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 31 || res.Transactions != 0 || tr.started != 0 || tr.modifies != 31 {
		t.Fatalf("result %+v, %d transactions, %d modifies", res, tr.started, tr.modifies)
	}
}
