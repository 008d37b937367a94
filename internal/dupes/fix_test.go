package dupes

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
)

func scenario() *liveSource {
	return &liveSource{memSource: &memSource{name: "userforest", base: "dc=u", entries: []*ldap.Entry{
		user("cn=Alice,dc=u", gAlice, "sip:alice@contoso.com", "msRTCSIP-PrimaryHomeServer", "cn=pool,dc=u",
			"msRTCSIP-OriginatorSid", "S-1-5-21-1-2-3-1105"),
		group("cn=Sales,dc=u", gGroup, true, "SMTP:sales@contoso.com", "SIP:Alice@Contoso.com", "sip:sales@contoso.com"),
		user("cn=Bob,dc=u", gBob, "sip:bob@contoso.com"),
		contact("cn=Bob Contact,dc=u", gBobC, "sip:Bob@contoso.com", "msRTCSIP-OriginatorSid", "S-1-5-21-1-2-3-1106",
			"proxyAddresses", "smtp:bob@fabrikam.com"),
		user("cn=Carol,dc=u", gCarol, "sip:carol@contoso.com"),
	}}}
}

var fixedNow = func() time.Time { return time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC) }

func findAndPlan(t *testing.T, src ldapsync.Source, rows EntryChecker, policy Policy) (*Report, *Plan) {
	t.Helper()
	rep, err := Find(context.Background(), Inputs{Forests: []ldapsync.Source{src}, RTC: rows})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := BuildPlan(context.Background(), rep, PlanOptions{Forests: []ldapsync.Source{src}, Policy: policy, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return rep, plan
}

func TestFixApplyUndo(t *testing.T) {
	src := scenario()
	before := src.dump()
	rows := &fakeRows{rows: map[GUID]bool{guid(gGroup): true, guid(gBobC): true, guid(gAlice): true}}
	_, plan := findAndPlan(t, src, rows, DefaultPolicy())

	want := []Change{
		{Forest: "userforest", DN: "cn=Sales,dc=u", GUID: guid(gGroup), Kind: KindSecurityGroup, Addresses: []string{"alice@contoso.com"},
			Action: ActionRemoveProxy, Remove: []AttrValues{{"proxyAddresses", []string{"SIP:Alice@Contoso.com"}}}, DeleteRow: true},
		{Forest: "userforest", DN: "cn=Bob Contact,dc=u", GUID: guid(gBobC), Kind: KindContact, Addresses: []string{"bob@contoso.com"},
			Action: ActionClearSIP, Remove: []AttrValues{
				{"msRTCSIP-PrimaryUserAddress", []string{"sip:Bob@contoso.com"}},
				{"msRTCSIP-UserEnabled", []string{"TRUE"}},
			}, DeleteRow: true},
	}
	if got, _ := json.Marshal(plan.Changes); string(got) != mustJSON(t, want) {
		t.Fatalf("plan:\n got %s\nwant %s", got, mustJSON(t, want))
	}
	if m, r := plan.Writes(); m != 2 || r != 2 {
		t.Errorf("writes %d, %d", m, r)
	}

	// Dry run: nothing written anywhere.
	dir := filepath.Join(t.TempDir(), "undo")
	res, err := Apply(context.Background(), plan, ApplyOptions{UndoDir: dir, Modifiers: map[string]ldapsync.Modifier{"UserForest": src}, Rows: rows, DryRun: true})
	if err != nil || res.Modified != 0 || src.modifies != 0 || len(rows.deleted) != 0 {
		t.Fatalf("dry run: %+v %v, %d modifies", res, err, src.modifies)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("dry run created the undo folder")
	}

	res, err = Apply(context.Background(), plan, ApplyOptions{UndoDir: dir, Modifiers: map[string]ldapsync.Modifier{"userforest": src}, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	if res.Modified != 2 || res.Partial() || !slices.Equal(res.RowsDeleted, []GUID{guid(gGroup), guid(gBobC)}) {
		t.Fatalf("result %+v", res)
	}
	if rows.rows[guid(gGroup)] || rows.rows[guid(gBobC)] || !rows.rows[guid(gAlice)] {
		t.Errorf("rows left %v", rows.rows)
	}
	for _, f := range []string{ManifestFile, PlanFile, RTCBackupFile, "undo-userforest.ldif"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("undo folder: %v", err)
		}
	}
	if rep, _ := Find(context.Background(), Inputs{Forests: []ldapsync.Source{src}}); len(rep.SIP) != 0 {
		t.Errorf("after fix: %q", summaries(rep.SIP))
	}
	// The contact keeps its OriginatorSid and its smtp address; the group keeps its other addresses.
	after := src.dump()
	for _, s := range []string{"msrtcsip-originatorsid: S-1-5-21-1-2-3-1106", "proxyaddresses: smtp:bob@fabrikam.com", "proxyaddresses: sip:sales@contoso.com"} {
		if !strings.Contains(after, s) {
			t.Errorf("after fix lacks %q", s)
		}
	}

	// A second apply of the same plan into the same folder resumes: all done, nothing sent.
	n := src.modifies
	if again, err := Apply(context.Background(), plan, ApplyOptions{UndoDir: dir, Modifiers: map[string]ldapsync.Modifier{"userforest": src}}); err != nil ||
		!again.Resumed || again.AlreadyDone != 2 || again.Modified != 0 || src.modifies != n {
		t.Errorf("resumed apply: %+v, %v, %d modifies", again, err, src.modifies-n)
	}
	// Another plan into that folder is refused before any write.
	other := *plan
	other.Created = other.Created.Add(time.Second)
	if _, err := Apply(context.Background(), &other, ApplyOptions{UndoDir: dir, Modifiers: map[string]ldapsync.Modifier{"userforest": src}}); err == nil || src.modifies != n {
		t.Errorf("apply of another plan into a used undo folder: %v, %d modifies", err, src.modifies-n)
	}

	ures, err := Undo(context.Background(), dir, UndoOptions{Modifiers: map[string]ldapsync.Modifier{"userforest": src}, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	if ures.Restored != 2 || len(ures.Failed) != 0 || !ures.RowsRestored {
		t.Errorf("undo %+v", ures)
	}
	if got := src.dump(); got != before {
		t.Errorf("after undo:\n%s\nwant\n%s", got, before)
	}
	if !rows.rows[guid(gGroup)] || !rows.rows[guid(gBobC)] {
		t.Errorf("rows after undo %v", rows.rows)
	}
	// Undo again: the values are there already, nothing fails.
	ures, err = Undo(context.Background(), dir, UndoOptions{Modifiers: map[string]ldapsync.Modifier{"userforest": src}, Rows: rows})
	if err != nil || ures.Restored != 0 || ures.AlreadyPresent != 2 || len(ures.Failed) != 0 {
		t.Errorf("second undo %+v %v", ures, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A value changed after the plan makes that item fail; the others go on, and the failure says
// that the object's row, deleted before the modifies, will come back.
func TestApplyConditional(t *testing.T) {
	src := scenario()
	rows := &fakeRows{rows: map[GUID]bool{guid(gGroup): true, guid(gBobC): true}}
	_, plan := findAndPlan(t, src, rows, DefaultPolicy())
	// Someone edits the group's address between plan and apply.
	if err := src.Modify(context.Background(), ldap.NewModifyRequest("cn=Sales,dc=u", nil)); err != nil {
		t.Fatal(err)
	}
	mr := ldap.NewModifyRequest("cn=Sales,dc=u", nil)
	mr.Delete("proxyAddresses", []string{"SIP:Alice@Contoso.com"})
	mr.Add("proxyAddresses", []string{"sip:alice@contoso.com"})
	if err := src.Modify(context.Background(), mr); err != nil {
		t.Fatal(err)
	}
	res, err := Apply(context.Background(), plan, ApplyOptions{UndoDir: filepath.Join(t.TempDir(), "u"), Modifiers: map[string]ldapsync.Modifier{"userforest": src}, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	if res.Modified != 1 || len(res.Failed) != 1 || res.Failed[0].DN != "cn=Sales,dc=u" || res.Failed[0].Outcome != "refused" || !strings.Contains(res.Failed[0].Error, "no value") ||
		!strings.Contains(res.Failed[0].Error, "User Replicator will write it again") {
		t.Errorf("result %+v", res)
	}
	// The rows went first, with their backup, before any modify.
	if !slices.Equal(res.RowsDeleted, []GUID{guid(gGroup), guid(gBobC)}) || rows.rows[guid(gGroup)] {
		t.Errorf("rows deleted %v, left %v", res.RowsDeleted, rows.rows)
	}
	if !strings.Contains(src.dump(), "proxyaddresses: sip:alice@contoso.com") {
		t.Errorf("the concurrent change was overwritten")
	}
}

func TestPlanRules(t *testing.T) {
	t.Run("remove-proxy escalates when the primary address collides", func(t *testing.T) {
		src := &liveSource{memSource: &memSource{name: "f", entries: []*ldap.Entry{
			user("cn=A,dc=x", gAlice, "sip:x@c.com"),
			contact("cn=C,dc=x", gBobC, "sip:X@c.com", "proxyAddresses", "sip:x@c.com"),
		}}}
		_, plan := findAndPlan(t, src, nil, Policy{User: ActionRemoveProxy, Contact: ActionRemoveProxy, Group: ActionRemoveProxy})
		c := plan.Changes[0]
		if c.Action != ActionClearSIP || !strings.Contains(c.Note, "clear-sip instead") || len(c.Remove) != 3 || c.DeleteRow {
			t.Errorf("change %+v", c)
		}
	})
	t.Run("an object that loses every row is cleared once", func(t *testing.T) {
		src := &liveSource{memSource: &memSource{name: "f", entries: []*ldap.Entry{
			user("cn=A,dc=x", gAlice, "sip:a@c.com", "proxyAddresses", "sip:b@c.com"),
			user("cn=B,dc=x", gBob, "sip:b@c.com", "proxyAddresses", "sip:a@c.com", "userAccountControl", "514"),
		}}}
		_, plan := findAndPlan(t, src, nil, DefaultPolicy())
		// The enabled account A wins both rows before the primary attribute is considered.
		if len(plan.Changes) != 1 {
			t.Fatalf("changes %+v", plan.Changes)
		}
		if c := plan.Changes[0]; c.Action != ActionClearSIP || !slices.Equal(c.Addresses, []string{"a@c.com", "b@c.com"}) {
			t.Errorf("change %+v", c)
		}
	})
	t.Run("keeper of one row, loser of another", func(t *testing.T) {
		src := &liveSource{memSource: &memSource{name: "f", entries: []*ldap.Entry{
			user("cn=A,dc=x", gAlice, "sip:a@c.com", "proxyAddresses", "sip:b@c.com"),
			user("cn=B,dc=x", gBob, "sip:b@c.com"),
		}}}
		_, plan := findAndPlan(t, src, nil, DefaultPolicy())
		c := plan.Changes[0]
		if c.DN != "cn=A,dc=x" || c.Action != ActionRemoveProxy || !strings.Contains(c.Note, "sip:a@c.com is not duplicated") ||
			mustJSON(t, c.Remove) != `[{"attr":"proxyAddresses","values":["sip:b@c.com"]}]` {
			t.Errorf("change %+v", c)
		}
	})
	t.Run("snapshot forests and address-book-only objects are skipped", func(t *testing.T) {
		snap := &memSource{name: "snap", entries: []*ldap.Entry{
			user("cn=A,dc=x", gAlice, "sip:a@c.com"),
			group("cn=G,dc=x", gGroup, false, "sip:a@c.com"),
		}}
		book := &memBook{name: "F-0001.lsabs", entries: []Entry{{ID: guid(gStale), PrimarySIP: "sip:a@c.com"}}}
		rep, err := Find(context.Background(), Inputs{Forests: []ldapsync.Source{snap}, AddressBook: book})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := BuildPlan(context.Background(), rep, PlanOptions{Forests: []ldapsync.Source{snap}, Policy: DefaultPolicy()})
		if err != nil {
			t.Fatal(err)
		}
		var skips []string
		for _, c := range plan.Changes {
			skips = append(skips, c.Skip)
		}
		// The address book entry of unknown kind ranks before the group.
		want := []string{"known only from the address book file: no directory object was read", "forest snap is read from a snapshot (read-only)"}
		if !slices.Equal(skips, want) || plan.Changes[1].Action != ActionRemoveProxy {
			t.Errorf("skips %q, changes %+v", skips, plan.Changes)
		}
		if m, _ := plan.Writes(); m != 0 {
			t.Errorf("writes %d", m)
		}
	})
}

// A failed row deletion is reported and does not stop the directory changes.
func TestApplyRowsFail(t *testing.T) {
	src := scenario()
	rows := &fakeRows{rows: map[GUID]bool{guid(gGroup): true, guid(gBobC): true}}
	_, plan := findAndPlan(t, src, rows, DefaultPolicy())
	rows.fail = errors.New("deadlock victim")
	res, err := Apply(context.Background(), plan, ApplyOptions{UndoDir: filepath.Join(t.TempDir(), "u"), Modifiers: map[string]ldapsync.Modifier{"userforest": src}, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	if res.Modified != 2 || res.RowsError != "deadlock victim" || len(res.RowsDeleted) != 0 || !res.Partial() {
		t.Errorf("result %+v", res)
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy(map[string]string{"Group": "clear-sip", "contact": " Remove-Proxy "})
	if err != nil || p != (Policy{User: ActionClearSIP, Contact: ActionRemoveProxy, Group: ActionClearSIP}) {
		t.Errorf("%+v %v", p, err)
	}
	for _, bad := range []map[string]string{{"user": "delete"}, {"computer": "clear-sip"}} {
		if _, err := ParsePolicy(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// A plan that strays outside what a fix may touch is refused before any write: a non-SIP
// attribute, a proxyAddresses value that is not a sip: address, an object outside the forest's
// base.
func TestApplyPolicy(t *testing.T) {
	for name, edit := range map[string]func(c *Change){
		"userPassword": func(c *Change) { c.Remove = append(c.Remove, AttrValues{Attr: "userPassword", Values: []string{"x"}}) },
		"smtp proxy": func(c *Change) {
			c.Remove = []AttrValues{{Attr: "proxyAddresses", Values: []string{"SMTP:sales@contoso.com"}}}
		},
		"originator sid":    func(c *Change) { c.Remove = []AttrValues{{Attr: "msRTCSIP-OriginatorSid", Values: []string{"x"}}} },
		"outside the base":  func(c *Change) { c.DN = "cn=Sales,dc=other" },
		"suffix in the RDN": func(c *Change) { c.DN = `cn=Sales\,dc=u` },
	} {
		src := scenario()
		_, plan := findAndPlan(t, src, nil, DefaultPolicy())
		for i := range plan.Changes {
			if plan.Changes[i].Skip == "" {
				edit(&plan.Changes[i])
				break
			}
		}
		dir := filepath.Join(t.TempDir(), "u")
		if _, err := Apply(context.Background(), plan, ApplyOptions{UndoDir: dir, Modifiers: map[string]ldapsync.Modifier{"userforest": src}}); err == nil || src.modifies != 0 {
			t.Errorf("%s: err %v, %d modifies", name, err, src.modifies)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s: the undo folder was created", name)
		}
	}
}
