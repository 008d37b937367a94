package sidmap

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abkit/abkit/ldapsync"
)

const uf2Base = "dc=uf2,dc=test"

func u2sid(rid int) ldapsync.SID {
	return ldapsync.MustParseSID(fmt.Sprintf("S-1-5-21-4-5-6-%d", rid))
}

func rowsByCN(p *Plan) map[string]Row {
	out := map[string]Row{}
	for _, row := range p.Rows {
		out[strings.TrimPrefix(strings.SplitN(row.ResourceDN, ",", 2)[0], "cn=")] = row
	}
	return out
}

// TestSeveralUserForests: the SID's domain picks the forest (domain SID read from the domain
// object in one forest, derived from accounts in the other); a domain of no forest is reported.
func TestSeveralUserForests(t *testing.T) {
	u, r := forestsFor(func(u, r *fakeDir) {
		userAcct(u, "alice", 1, true, nil)
		resAcct(r, "alice", 11, attrs{"msExchMasterAccountSid": {usid(1)}})
		resAcct(r, "bob", 12, attrs{"msExchMasterAccountSid": {u2sid(2)}})
		resAcct(r, "gone", 13, attrs{"msExchMasterAccountSid": {u2sid(3)}})
		resAcct(r, "stranger", 14, attrs{"msExchMasterAccountSid": {ldapsync.MustParseSID("S-1-5-21-9-9-9-1000")}})
		resAcct(r, "mapped-stranger", 15, attrs{"msRTCSIP-OriginatorSid": {ldapsync.MustParseSID("S-1-5-21-9-9-9-1001")}})
	})
	u2 := newFakeDir("userforest2", uf2Base)
	u2.add(uf2Base, attrs{"objectClass": {"top", "domain", "domainDNS"}, "objectSid": {ldapsync.MustParseSID("S-1-5-21-4-5-6")}})
	u2.add("cn=bob,ou=Users,"+uf2Base, attrs{"objectClass": {"top", "user"}, "sAMAccountName": {"bob"}, "objectSid": {u2sid(2)}, "userAccountControl": {"512"}})
	// A third forest known only by its domain object (no accounts yet).
	u3 := newFakeDir("userforest3", "dc=uf3,dc=test")
	u3.add("dc=uf3,dc=test", attrs{"objectClass": {"top", "domain", "domainDNS"}, "objectSid": {ldapsync.MustParseSID("S-1-5-21-7-7-7")}})
	r.add(rdn("empty"), attrs{"objectClass": {"user"}, "userAccountControl": {"514"}, "msRTCSIP-UserEnabled": {"TRUE"},
		"msExchMasterAccountSid": {ldapsync.MustParseSID("S-1-5-21-7-7-7-1000")}})
	lay := Layout{MoreUserForests: []ldapsync.Source{u2, u3}}
	p, err := MakePlan(context.Background(), u, r, PlanOptions{Layout: lay})
	if err != nil {
		t.Fatal(err)
	}
	if p.UserForest != "userforest,userforest2,userforest3" {
		t.Errorf("plan user_forest %q", p.UserForest)
	}
	rows := rowsByCN(p)
	if row := rows["alice"]; row.Action != ActionSet || row.UserForest != "userforest" {
		t.Errorf("alice %+v", row)
	}
	if row := rows["bob"]; row.Action != ActionSet || row.UserForest != "userforest2" || row.ProposedSID != u2sid(2) {
		t.Errorf("bob %+v", row)
	}
	if row := rows["gone"]; row.Action != ActionConflict || !strings.Contains(row.Reason, "no account in user forest userforest2 has objectSid "+u2sid(3).String()) {
		t.Errorf("gone %+v", row)
	}
	if row := rows["stranger"]; row.Action != ActionConflict ||
		!strings.Contains(row.Reason, "is of domain S-1-5-21-9-9-9, which belongs to no configured user forest (userforest S-1-5-21-1-2-3; userforest2 S-1-5-21-4-5-6; userforest3 S-1-5-21-7-7-7)") {
		t.Errorf("stranger %+v", row)
	}
	if row := rows["empty"]; row.Action != ActionConflict || !strings.Contains(row.Reason, "no account in user forest userforest3 has objectSid S-1-5-21-7-7-7-1000") {
		t.Errorf("empty %+v", row)
	}
	fs, err := Verify(context.Background(), u, r, VerifyOptions{Layout: lay})
	if err != nil {
		t.Fatal(err)
	}
	var checks []string
	for _, f := range fs {
		if strings.HasPrefix(f.DN, "cn=mapped-stranger,") {
			checks = append(checks, f.Check)
		}
	}
	if strings.Join(checks, ",") != CheckUnknownDomain {
		t.Errorf("mapped-stranger findings %v, want %s", checks, CheckUnknownDomain)
	}
}

// TestVerifyNoFindingByDesign: a room mailbox (SELF) needs no OriginatorSid, one carrying a SID
// anyway is not compared with SELF, and a migrated user's old SID as master SID is no mismatch.
func TestVerifyNoFindingByDesign(t *testing.T) {
	u, r := forestsFor(func(u, r *fakeDir) {
		userAcct(u, "alice", 1, true, nil)
		userAcct(u, "mig", 2, true, attrs{"sIDHistory": {rsid(5001)}})
		resAcct(r, "mig", 13, attrs{"msExchMasterAccountSid": {rsid(5001)}, "msRTCSIP-OriginatorSid": {usid(2)}})
		resAcct(r, "room", 11, attrs{"msExchMasterAccountSid": {SIDSelf}})
		resAcct(r, "room-mapped", 12, attrs{"msExchMasterAccountSid": {SIDSelf}, "msRTCSIP-OriginatorSid": {usid(1)}})
	})
	fs, err := Verify(context.Background(), u, r, VerifyOptions{})
	if err != nil || len(fs) != 0 {
		t.Errorf("findings %+v, %v", fs, err)
	}
}

// TestCentralTopology: contacts are the candidates; they are matched by address, and verify
// checks the contact's SIP address against its mailbox's proxyAddresses.
func TestCentralTopology(t *testing.T) {
	ctx := context.Background()
	u, r := forestsFor(func(u, r *fakeDir) {
		userAcct(u, "alice", 1, true, attrs{"proxyAddresses": {"SMTP:alice@contoso.com", "sip:alice@contoso.com"}})
		userAcct(u, "bob", 2, true, attrs{"proxyAddresses": {"SMTP:bob@contoso.com"}})
		contact := func(cn string, extra attrs) {
			a := attrs{"objectClass": {"top", "contact"}, "mail": {cn + "@contoso.com"},
				"msRTCSIP-UserEnabled": {"TRUE"}, "msRTCSIP-PrimaryUserAddress": {"sip:" + cn + "@contoso.com"}}
			for k, v := range extra {
				a[k] = v
			}
			r.add("cn="+cn+",ou=Contacts,"+rfBase, a)
		}
		contact("alice", nil)
		contact("bob", nil)
		contact("carol", nil)
		resAcct(r, "alice", 11, nil) // a disabled user: no candidate in a central forest
	})
	lay := Layout{Topology: TopologyCentral}
	p, err := MakePlan(ctx, u, r, PlanOptions{Layout: lay})
	if err != nil {
		t.Fatal(err)
	}
	rows := rowsByCN(p)
	if len(rows) != 3 || rows["alice"].Action != ActionSet || rows["alice"].Rule != RuleProxy || rows["alice"].ProposedSID != usid(1) ||
		rows["bob"].Action != ActionSet || rows["carol"].Action != ActionConflict || p.Options.Topology != TopologyCentral {
		t.Fatalf("rows %+v", p.Rows)
	}
	dir := t.TempDir()
	if res, err := Apply(ctx, p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: filepath.Join(dir, "j"), UndoPath: filepath.Join(dir, "u")}); err != nil || res.Applied != 2 {
		t.Fatalf("apply %+v %v", res, err)
	}
	if got := r.sid("cn=alice,ou=Contacts,"+rfBase, ldapsync.AttrOriginatorSid); got != usid(1) {
		t.Errorf("contact alice OriginatorSid %s", got)
	}
	fs, err := Verify(ctx, u, r, VerifyOptions{Layout: lay})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, strings.SplitN(f.DN, ",", 2)[0]+" "+f.Check)
		if f.Check == CheckAddressNotInMailbox && !strings.Contains(f.Detail, "not in the proxyAddresses of the mailbox "+udn("bob")) {
			t.Errorf("detail %q", f.Detail)
		}
	}
	if strings.Join(got, "|") != "cn=bob address-not-in-mailbox|cn=carol missing" {
		t.Errorf("findings %q", got)
	}
	again, _ := MakePlan(ctx, u, r, PlanOptions{Layout: lay})
	if c := again.Counts(); c[ActionSet] != 0 {
		t.Errorf("plan after apply %v", c)
	}
}

// TestSyncManagerAndPhoto: manager is translated to the manager's resource object; a manager
// without one is reported and left alone; thumbnailPhoto is compared and written byte-exact.
func TestSyncManagerAndPhoto(t *testing.T) {
	ctx := context.Background()
	photo := []byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0}
	u, r := forestsFor(func(u, r *fakeDir) {
		userAcct(u, "boss", 1, true, nil)
		userAcct(u, "alice", 2, true, attrs{"manager": {"CN=boss, OU=Users, DC=uf, DC=test"}, "thumbnailPhoto": {photo}})
		userAcct(u, "lonely", 3, true, nil)
		userAcct(u, "bob", 4, true, attrs{"manager": {udn("lonely")}})
		userAcct(u, "carl", 5, true, attrs{"manager": {udn("boss")}})
		resAcct(r, "boss-r", 11, attrs{"msRTCSIP-OriginatorSid": {usid(1)}})
		resAcct(r, "alice", 12, attrs{"thumbnailPhoto": {append(append([]byte(nil), photo...), 1)}})
		resAcct(r, "bob", 14, nil)
		resAcct(r, "carl", 15, attrs{"manager": {"CN=Boss-R,OU=Users,DC=rf,DC=test"}})
	})
	opts := SyncOptions{Attributes: []string{"thumbnailPhoto", AttrManager}}
	p, err := PlanSync(ctx, u, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	rows := rowsByCN(p)
	if row := rows["alice"]; row.Action != ActionSet || len(row.Changes) != 2 ||
		!bytes.Equal(row.Changes[0].New[0], photo) || string(row.Changes[1].New[0]) != rdn("boss-r") {
		t.Errorf("alice %+v", row)
	}
	if row := rows["bob"]; row.Action != ActionNone || !strings.Contains(row.Reason, "manager "+udn("lonely")+" has no resource-forest object (manager left as it is)") {
		t.Errorf("bob %+v", row)
	}
	if row := rows["carl"]; row.Action != ActionNone { // same DN, other case
		t.Errorf("carl %+v", row)
	}
	dir := t.TempDir()
	if _, err := Apply(ctx, p, r, ApplyOptions{Forest: "resforest", Base: rfBase, JournalPath: filepath.Join(dir, "j"), UndoPath: filepath.Join(dir, "u")}); err != nil {
		t.Fatal(err)
	}
	if got := r.get(rdn("alice"), "thumbnailPhoto"); len(got) != 1 || !bytes.Equal(got[0], photo) {
		t.Errorf("photo %x", got)
	}
	if got := r.get(rdn("alice"), "manager"); len(got) != 1 || string(got[0]) != rdn("boss-r") {
		t.Errorf("manager %q", got)
	}
	again, err := PlanSync(ctx, u, r, opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := again.Counts(); c[ActionSet] != 0 {
		t.Errorf("after apply %v", c)
	}
}
