package sidmap

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	u, r := forestsFor(func(u, r *fakeDir) {
		userAcct(u, "good", 1, true, nil)
		userAcct(u, "off", 2, false, nil)
		userAcct(u, "twice", 3, true, nil)
		userAcct(u, "other", 4, true, nil)
		resAcct(r, "good", 101, attrs{"msExchMasterAccountSid": {usid(1)}, "msRTCSIP-OriginatorSid": {usid(1)}})
		resAcct(r, "missing", 102, attrs{"msExchMasterAccountSid": {usid(4)}})
		resAcct(r, "bare", 103, nil)
		resAcct(r, "unresolved", 104, attrs{"msRTCSIP-OriginatorSid": {usid(99)}})
		resAcct(r, "userdisabled", 105, attrs{"msRTCSIP-OriginatorSid": {usid(2)}})
		resAcct(r, "mismatch", 106, attrs{"msExchMasterAccountSid": {usid(4)}, "msRTCSIP-OriginatorSid": {usid(1)}})
		resAcct(r, "dup1", 107, attrs{"msRTCSIP-OriginatorSid": {usid(3)}})
		resAcct(r, "text", 108, attrs{"msRTCSIP-OriginatorSid": {"S-1-5-21-1-2-3-4"}})
		resAcct(r, "garbage", 109, attrs{"msRTCSIP-OriginatorSid": {[]byte{1, 9, 0}}})
		r.add("cn=dup2,ou=Contacts,"+rfBase, attrs{"objectClass": {"contact"}, "msRTCSIP-OriginatorSid": {usid(3)}})
		// Not verified: enabled, or not SIP-enabled.
		resAcct(r, "enabled", 110, attrs{"userAccountControl": {"512"}})
		resAcct(r, "sipoff", 111, attrs{"msRTCSIP-UserEnabled": {"FALSE"}})
	})
	got, err := Verify(context.Background(), u, r, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ cn, check string }
	var keys []key
	for _, f := range got {
		cn := strings.TrimPrefix(strings.SplitN(f.DN, ",", 2)[0], "cn=")
		keys = append(keys, key{cn, f.Check})
		if f.Detail == "" {
			t.Errorf("%s %s: no detail", cn, f.Check)
		}
	}
	want := []key{
		{"bare", CheckMissing},
		{"dup1", CheckDuplicate},
		{"garbage", CheckNotBinary},
		{"good", CheckDuplicate}, // usid(1) is also on "mismatch"
		{"mismatch", CheckMasterMismatch},
		{"mismatch", CheckDuplicate}, // usid(1) is also on "good"
		{"missing", CheckMissing},
		{"text", CheckNotBinary},
		{"unresolved", CheckUnresolved},
		{"userdisabled", CheckUserDisabled},
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("findings %v\nwant     %v", keys, want)
	}
	for _, f := range got {
		if strings.HasPrefix(f.DN, "cn=dup1,") && !strings.Contains(f.Detail, "cn=dup2,ou=Contacts") {
			t.Errorf("dup1 detail %q", f.Detail)
		}
		if strings.HasPrefix(f.DN, "cn=missing,") && !strings.Contains(f.Detail, udn("other")) {
			t.Errorf("missing detail %q does not name the master account", f.Detail)
		}
	}
}

func TestVerifyAfterApplyIsClean(t *testing.T) {
	u, r := mappingForests(12)
	p := makeTestPlan(t, u, r)
	dir := t.TempDir()
	if _, err := Apply(context.Background(), p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: filepath.Join(dir, "j"), UndoPath: filepath.Join(dir, "u")}); err != nil {
		t.Fatal(err)
	}
	got, err := Verify(context.Background(), u, r, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Only the planted orphan (no match) is left.
	if len(got) != 1 || got[0].DN != rdn("orphan") || got[0].Check != CheckMissing {
		t.Errorf("findings %+v", got)
	}
}

func TestSyncAttrs(t *testing.T) {
	ctx := context.Background()
	u, r := forestsFor(func(u, r *fakeDir) {
		userAcct(u, "alice", 1, true, attrs{"displayName": {"Alice Able"}, "title": {"CFO"}, "telephoneNumber": {"+1 425 555 0100"}})
		userAcct(u, "bob", 2, true, attrs{"displayName": {"Bob Baker"}})
		userAcct(u, "carol", 3, true, attrs{"displayName": {"Carol"}})
		userAcct(u, "dave", 4, false, nil)
		// alice: paired through OriginatorSid although sAMAccountName differs
		resAcct(r, "alice-r", 11, attrs{"msRTCSIP-OriginatorSid": {usid(1)}, "displayName": {"Alice"}, "telephoneNumber": {"+1 425 555 0199"}, "mail": {"alice@contoso.com"}})
		// bob: paired by sam; in step except mail (resource has none) and a stale title
		resAcct(r, "bob", 12, attrs{"displayName": {"Bob Baker"}, "title": {"Intern"}})
		// carol: in step
		resAcct(r, "carol", 13, attrs{"displayName": {"Carol"}, "mail": {"carol@contoso.com"}})
		resAcct(r, "dave", 14, nil)
		resAcct(r, "eve", 15, attrs{"msRTCSIP-OriginatorSid": {usid(99)}})
	})
	attrsList := []string{"displayName", "title", "telephoneNumber", "mail"}
	p, err := PlanSync(ctx, u, r, SyncOptions{Attributes: attrsList})
	if err != nil {
		t.Fatal(err)
	}
	byCN := map[string]Row{}
	for _, row := range p.Rows {
		byCN[strings.TrimPrefix(strings.SplitN(row.ResourceDN, ",", 2)[0], "cn=")] = row
	}
	if row := byCN["alice-r"]; row.Action != ActionSet || row.Rule != RuleOriginatorSID || row.Reason != "differs: displayName, title, telephoneNumber" {
		t.Errorf("alice-r %+v", row)
	}
	if row := byCN["bob"]; row.Action != ActionSet || row.Rule != RuleSAM || row.Reason != "differs: title, mail" {
		t.Errorf("bob %+v", row)
	}
	if row := byCN["carol"]; row.Action != ActionNone {
		t.Errorf("carol %+v", row)
	}
	if row := byCN["dave"]; row.Action != ActionConflict || !strings.Contains(row.Reason, "disabled") {
		t.Errorf("dave %+v", row)
	}
	if row := byCN["eve"]; row.Action != ActionConflict || !strings.Contains(row.Reason, "resolves to no user-forest account") {
		t.Errorf("eve %+v", row)
	}
	before := r.snapshot()
	dir := t.TempDir()
	res, err := Apply(ctx, p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: filepath.Join(dir, "j"), UndoPath: filepath.Join(dir, "u")})
	if err != nil || res.Applied != 2 || len(res.Failed) != 0 {
		t.Fatalf("apply %+v, %v", res, err)
	}
	for _, cn := range []string{"alice-r", "bob"} {
		row := byCN[cn]
		for _, a := range attrsList {
			if got, want := r.get(row.ResourceDN, a), u.get(row.UserDN, a); !sameValues(got, want) {
				t.Errorf("%s %s = %q, want %q", cn, a, got, want)
			}
		}
	}
	again, err := PlanSync(ctx, u, r, SyncOptions{Attributes: attrsList})
	if err != nil {
		t.Fatal(err)
	}
	if c := again.Counts(); c[ActionSet] != 0 || c[ActionNone] != 3 {
		t.Errorf("after apply: %v", c)
	}
	f, err := os.Open(filepath.Join(dir, "u"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Undo(ctx, f, r, ApplyOptions{Forest: "resforest", Base: rfBase, ApplyJournal: filepath.Join(dir, "j"), JournalPath: filepath.Join(dir, "uj"), UndoPath: filepath.Join(dir, "redo")}); err != nil {
		t.Fatal(err)
	}
	if !sameSnapshot(before, r.snapshot()) {
		t.Error("undo did not restore the attributes")
	}
	for _, bad := range [][]string{{"objectSid"}, {"msRTCSIP-OriginatorSid"}, {"a b"}, {"title", "Title"}} {
		if _, err := PlanSync(ctx, u, r, SyncOptions{Attributes: bad}); err == nil {
			t.Errorf("PlanSync accepted %v", bad)
		}
	}
}
