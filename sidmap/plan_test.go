package sidmap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/abkit/abkit/ldapsync"
)

const (
	ufBase = "dc=uf,dc=test"
	rfBase = "dc=rf,dc=test"
)

func usid(rid int) ldapsync.SID { return ldapsync.MustParseSID(fmt.Sprintf("S-1-5-21-1-2-3-%d", rid)) }
func rsid(rid int) ldapsync.SID { return ldapsync.MustParseSID(fmt.Sprintf("S-1-5-21-7-8-9-%d", rid)) }

func udn(cn string) string { return "cn=" + cn + ",ou=Users," + ufBase }
func rdn(cn string) string { return "cn=" + cn + ",ou=Users," + rfBase }

type attrs = map[string][]any

// userAcct adds a user-forest account named cn with sAMAccountName, mail and UPN from cn.
func userAcct(d *fakeDir, cn string, rid int, enabled bool, extra attrs) {
	uac := "512"
	if !enabled {
		uac = "514"
	}
	a := attrs{"objectClass": {"top", "user"}, "sAMAccountName": {cn}, "objectSid": {usid(rid)},
		"userAccountControl": {uac}, "mail": {cn + "@contoso.com"}, "userPrincipalName": {cn + "@userforest.test"}}
	for k, v := range extra {
		a[k] = v
	}
	d.add(udn(cn), a)
}

// resAcct adds a disabled, SIP-enabled resource-forest account named cn.
func resAcct(d *fakeDir, cn string, rid int, extra attrs) {
	a := attrs{"objectClass": {"top", "user"}, "sAMAccountName": {cn}, "objectSid": {rsid(rid)},
		"userAccountControl": {"514"}, "msRTCSIP-UserEnabled": {"TRUE"},
		"msRTCSIP-PrimaryUserAddress": {"sip:" + cn + "@contoso.com"}}
	for k, v := range extra {
		if v == nil {
			delete(a, k)
			continue
		}
		a[k] = v
	}
	d.add(rdn(cn), a)
}

func forestsFor(setup func(u, r *fakeDir)) (*fakeDir, *fakeDir) {
	u, r := newFakeDir("userforest", ufBase), newFakeDir("resforest", rfBase)
	setup(u, r)
	return u, r
}

type wantRow struct {
	action Action
	rule   string
	user   string // user-forest cn; "" = none
	reason string // substring
}

func TestMakePlanRulesAndConflicts(t *testing.T) {
	tests := []struct {
		name    string
		match   []string
		replace bool
		setup   func(u, r *fakeDir)
		want    map[string]wantRow // resource cn → row; every candidate must be listed
	}{
		{"master-sid", nil, false, func(u, r *fakeDir) {
			userAcct(u, "alice", 1105, true, nil)
			resAcct(r, "alice-res", 2101, attrs{"sAMAccountName": {"other"}, "msExchMasterAccountSid": {usid(1105)}})
		}, map[string]wantRow{"alice-res": {ActionSet, RuleMasterSID, "alice", ""}}},
		{"sam", nil, false, func(u, r *fakeDir) {
			userAcct(u, "bob", 1106, true, nil)
			resAcct(r, "bob", 2102, nil)
		}, map[string]wantRow{"bob": {ActionSet, RuleSAM, "bob", ""}}},
		{"sam is case-insensitive", nil, false, func(u, r *fakeDir) {
			userAcct(u, "Carol", 1107, true, nil)
			resAcct(r, "carol", 2103, nil)
		}, map[string]wantRow{"carol": {ActionSet, RuleSAM, "Carol", ""}}},
		{"upn local part", []string{"upn"}, false, func(u, r *fakeDir) {
			userAcct(u, "dave", 1108, true, nil)
			resAcct(r, "dave-r", 2104, attrs{"userPrincipalName": {"dave@resforest.test"}})
		}, map[string]wantRow{"dave-r": {ActionSet, RuleUPN, "dave", ""}}},
		{"mail", []string{"mail"}, false, func(u, r *fakeDir) {
			userAcct(u, "erin", 1109, true, nil)
			resAcct(r, "erin-r", 2105, attrs{"mail": {"ERIN@contoso.com"}})
		}, map[string]wantRow{"erin-r": {ActionSet, RuleMail, "erin", ""}}},
		{"attr rule", []string{"attr:employeeID=employeeNumber"}, false, func(u, r *fakeDir) {
			userAcct(u, "fay", 1110, true, attrs{"employeeNumber": {"E-77"}})
			userAcct(u, "gil", 1111, true, attrs{"employeeNumber": {"E-78"}})
			resAcct(r, "fay-r", 2106, attrs{"employeeID": {"e-77"}})
		}, map[string]wantRow{"fay-r": {ActionSet, "attr:employeeID=employeeNumber", "fay", ""}}},
		{"rules in the given order", []string{"mail", "sam"}, false, func(u, r *fakeDir) {
			userAcct(u, "hal", 1112, true, nil)
			userAcct(u, "hal2", 1113, true, attrs{"mail": {"hal-r@contoso.com"}})
			resAcct(r, "hal-r", 2107, attrs{"sAMAccountName": {"hal2"}, "mail": {"hal-r@contoso.com"}})
		}, map[string]wantRow{"hal-r": {ActionSet, RuleMail, "hal2", ""}}},
		{"two rules that disagree", []string{"mail", "sam"}, false, func(u, r *fakeDir) {
			userAcct(u, "hal", 1112, true, nil)
			userAcct(u, "hal2", 1113, true, attrs{"mail": {"hal-r@contoso.com"}})
			resAcct(r, "hal-r", 2107, attrs{"sAMAccountName": {"hal"}, "mail": {"hal-r@contoso.com"}})
		}, map[string]wantRow{"hal-r": {ActionConflict, RuleMail, "", "rules disagree: mail matches " + udn("hal2") + " (S-1-5-21-1-2-3-1113); sam matches " + udn("hal") + " (S-1-5-21-1-2-3-1112)"}}},
		{"falls through to the next rule", []string{"mail", "sam"}, false, func(u, r *fakeDir) {
			userAcct(u, "ivy", 1114, true, nil)
			resAcct(r, "ivy", 2108, attrs{"mail": {"nobody@contoso.com"}})
		}, map[string]wantRow{"ivy": {ActionSet, RuleSAM, "ivy", ""}}},
		{"no match", nil, false, func(u, r *fakeDir) {
			userAcct(u, "jan", 1115, true, nil)
			resAcct(r, "orphan", 2109, nil)
		}, map[string]wantRow{"orphan": {ActionConflict, "", "", "no match in the user forest by master-sid, sam"}}},
		{"more than one match", []string{"mail"}, false, func(u, r *fakeDir) {
			userAcct(u, "kim", 1116, true, attrs{"mail": {"shared@contoso.com"}})
			userAcct(u, "kim2", 1117, true, attrs{"mail": {"shared@contoso.com"}})
			resAcct(r, "kim-r", 2110, attrs{"mail": {"shared@contoso.com"}})
		}, map[string]wantRow{"kim-r": {ActionConflict, RuleMail, "", "more than one match by mail: " + udn("kim") + "; " + udn("kim2")}}},
		{"master SID of a missing account", nil, false, func(u, r *fakeDir) {
			userAcct(u, "lea", 1118, true, nil)
			resAcct(r, "lea", 2111, attrs{"msExchMasterAccountSid": {usid(9999)}})
		}, map[string]wantRow{"lea": {ActionConflict, RuleMasterSID, "", "user-forest account missing: no account has objectSid S-1-5-21-1-2-3-9999"}}},
		{"user-forest account disabled", nil, false, func(u, r *fakeDir) {
			userAcct(u, "max", 1119, false, nil)
			resAcct(r, "max", 2112, nil)
		}, map[string]wantRow{"max": {ActionConflict, RuleSAM, "max", "is disabled"}}},
		{"SID already on another resource account", nil, false, func(u, r *fakeDir) {
			userAcct(u, "ned", 1120, true, nil)
			resAcct(r, "ned", 2113, nil)
			r.add("cn=ned-contact,ou=Contacts,"+rfBase, attrs{"objectClass": {"contact"}, "msRTCSIP-OriginatorSid": {usid(1120)}})
		}, map[string]wantRow{"ned": {ActionConflict, RuleSAM, "ned", "already the msRTCSIP-OriginatorSid of cn=ned-contact"}}},
		{"same SID proposed twice", nil, false, func(u, r *fakeDir) {
			userAcct(u, "oli", 1121, true, nil)
			resAcct(r, "oli", 2114, nil)
			resAcct(r, "oli-2", 2115, attrs{"msExchMasterAccountSid": {usid(1121)}})
		}, map[string]wantRow{
			"oli":   {ActionConflict, RuleSAM, "oli", "also matched by " + rdn("oli-2")},
			"oli-2": {ActionConflict, RuleMasterSID, "oli", "also matched by " + rdn("oli")},
		}},
		{"mismatch", nil, false, func(u, r *fakeDir) {
			userAcct(u, "pat", 1122, true, nil)
			userAcct(u, "quin", 1123, true, nil)
			resAcct(r, "pat", 2116, attrs{"msExchMasterAccountSid": {usid(1122)}, "msRTCSIP-OriginatorSid": {usid(1123)}})
		}, map[string]wantRow{"pat": {ActionConflict, RuleMasterSID, "pat", "mismatch: msRTCSIP-OriginatorSid is S-1-5-21-1-2-3-1123 (" + udn("quin") + ")"}}},
		{"mismatch replaced when asked", nil, true, func(u, r *fakeDir) {
			userAcct(u, "pat", 1122, true, nil)
			resAcct(r, "pat", 2116, attrs{"msExchMasterAccountSid": {usid(1122)}, "msRTCSIP-OriginatorSid": {usid(4444)}})
		}, map[string]wantRow{"pat": {ActionSet, RuleMasterSID, "pat", "replaces mismatched S-1-5-21-1-2-3-4444 (no user-forest account)"}}},
		{"already mapped", nil, false, func(u, r *fakeDir) {
			userAcct(u, "ray", 1124, true, nil)
			resAcct(r, "ray", 2117, attrs{"msExchMasterAccountSid": {usid(1124)}, "msRTCSIP-OriginatorSid": {usid(1124)}})
		}, map[string]wantRow{"ray": {ActionNone, RuleMasterSID, "ray", "already mapped"}}},
		{"same SID stored as text", nil, false, func(u, r *fakeDir) {
			userAcct(u, "uma", 1128, true, nil)
			resAcct(r, "uma", 2124, attrs{"msRTCSIP-OriginatorSid": {usid(1128).String()}})
		}, map[string]wantRow{"uma": {ActionSet, RuleSAM, "uma", `rewrites the value stored as text "S-1-5-21-1-2-3-1128" in binary`}}},
		{"undecodable value", nil, false, func(u, r *fakeDir) {
			userAcct(u, "vic", 1129, true, nil)
			resAcct(r, "vic", 2125, attrs{"msRTCSIP-OriginatorSid": {[]byte{1, 9}}})
		}, map[string]wantRow{"vic": {ActionConflict, RuleSAM, "vic", "undecodable value 0109; use --replace-mismatched"}}},
		{"undecodable value replaced when asked", nil, true, func(u, r *fakeDir) {
			userAcct(u, "vic", 1129, true, nil)
			resAcct(r, "vic", 2125, attrs{"msRTCSIP-OriginatorSid": {[]byte{1, 9}}})
		}, map[string]wantRow{"vic": {ActionSet, RuleSAM, "vic", "replaces the undecodable value 0109"}}},
		{"master SID disagrees with another rule's match", []string{"sam", "master-sid"}, false, func(u, r *fakeDir) {
			userAcct(u, "sam", 1125, true, nil)
			userAcct(u, "sue", 1126, true, nil)
			resAcct(r, "sam", 2118, attrs{"msExchMasterAccountSid": {usid(1126)}})
		}, map[string]wantRow{"sam": {ActionConflict, RuleSAM, "", "rules disagree: sam matches " + udn("sam") + " (S-1-5-21-1-2-3-1125); master-sid matches " + udn("sue")}}},
		{"master SID disagrees with a match when master-sid is no rule", []string{"sam"}, false, func(u, r *fakeDir) {
			userAcct(u, "sam", 1125, true, nil)
			userAcct(u, "sue", 1126, true, nil)
			resAcct(r, "sam", 2118, attrs{"msExchMasterAccountSid": {usid(1126)}})
		}, map[string]wantRow{"sam": {ActionConflict, RuleSAM, "sam", "msExchMasterAccountSid S-1-5-21-1-2-3-1126 disagrees with the match by sam"}}},
		{"SELF: a room mailbox is skipped", nil, false, func(u, r *fakeDir) {
			userAcct(u, "room", 1130, true, nil) // same sAMAccountName: still no mapping
			resAcct(r, "room", 2130, attrs{"msExchMasterAccountSid": {SIDSelf}})
		}, map[string]wantRow{"room": {ActionSkip, "", "", "msExchMasterAccountSid is SELF (S-1-5-10): a shared, room, equipment or system mailbox"}}},
		{"other well-known SIDs are skipped with their own reason", nil, false, func(u, r *fakeDir) {
			resAcct(r, "sys", 2131, attrs{"msExchMasterAccountSid": {ldapsync.MustParseSID("S-1-5-18")}})
			resAcct(r, "admins", 2132, attrs{"msExchMasterAccountSid": {ldapsync.MustParseSID("S-1-5-32-544")}})
			resAcct(r, "odd", 2133, attrs{"msExchMasterAccountSid": {ldapsync.MustParseSID("S-1-16-12288")}})
		}, map[string]wantRow{
			"sys":    {ActionSkip, "", "", "LocalSystem (S-1-5-18)"},
			"admins": {ActionSkip, "", "", "BUILTIN alias S-1-5-32-544"},
			"odd":    {ActionSkip, "", "", "well-known SID S-1-16-12288: no domain part"},
		}},
		{"master-sid-history", []string{"master-sid", "master-sid-history"}, false, func(u, r *fakeDir) {
			userAcct(u, "una", 1131, true, nil)
			resAcct(r, "una-r", 2134, attrs{"msExchMasterAccountHistory": {usid(1131)}})
		}, map[string]wantRow{"una-r": {ActionSet, RuleMasterSIDHistory, "una", ""}}},
		{"sid-history: a migrated user", []string{"master-sid", "sid-history", "sam"}, false, func(u, r *fakeDir) {
			userAcct(u, "mig", 1132, true, attrs{"sIDHistory": {rsid(7777)}})
			resAcct(r, "mig-r", 2135, attrs{"msExchMasterAccountSid": {rsid(7777)}})
		}, map[string]wantRow{"mig-r": {ActionSet, RuleSIDHistory, "mig", ""}}},
		{"a migrated user without the sid-history rule", nil, false, func(u, r *fakeDir) {
			userAcct(u, "mig", 1132, true, attrs{"sIDHistory": {rsid(7777)}})
			resAcct(r, "mig-r", 2135, attrs{"msExchMasterAccountSid": {rsid(7777)}})
		}, map[string]wantRow{"mig-r": {ActionConflict, RuleMasterSID, "", "it is in the sIDHistory of " + udn("mig") + " (a migrated account: match with sid-history)"}}},
		{"master SID of a domain in no user forest", nil, false, func(u, r *fakeDir) {
			userAcct(u, "wes", 1133, true, nil)
			resAcct(r, "wes", 2136, attrs{"msExchMasterAccountSid": {ldapsync.MustParseSID("S-1-5-21-9-9-9-1133")}})
		}, map[string]wantRow{"wes": {ActionConflict, RuleMasterSID, "", "SID S-1-5-21-9-9-9-1133 is of domain S-1-5-21-9-9-9, which belongs to no configured user forest (userforest S-1-5-21-1-2-3)"}}},
		{"proxy: sip and smtp addresses", []string{"proxy"}, false, func(u, r *fakeDir) {
			userAcct(u, "xia", 1134, true, attrs{"mail": {"xia@corp.example"}, "proxyAddresses": {"SMTP:xia@corp.example", "sip:Xia.Lin@contoso.com"}})
			userAcct(u, "yan", 1135, true, attrs{"mail": {"yan@corp.example"}})
			resAcct(r, "xia-r", 2137, attrs{"msRTCSIP-PrimaryUserAddress": {"sip:xia.lin@contoso.com"}})
			resAcct(r, "yan-r", 2138, attrs{"proxyAddresses": {"smtp:YAN@corp.example"}})
		}, map[string]wantRow{"xia-r": {ActionSet, RuleProxy, "xia", ""}, "yan-r": {ActionSet, RuleProxy, "yan", ""}}},
		{"only disabled SIP-enabled users are candidates", nil, false, func(u, r *fakeDir) {
			userAcct(u, "tom", 1127, true, nil)
			resAcct(r, "tom", 2119, nil)
			resAcct(r, "tom-enabled", 2120, attrs{"sAMAccountName": {"tom"}, "userAccountControl": {"512"}})
			resAcct(r, "tom-sipoff", 2121, attrs{"sAMAccountName": {"tom"}, "msRTCSIP-UserEnabled": {"FALSE"}})
			resAcct(r, "tom-nosip", 2122, attrs{"sAMAccountName": {"tom"}, "msRTCSIP-UserEnabled": nil})
			resAcct(r, "tom-contact", 2123, attrs{"sAMAccountName": {"tom"}, "objectClass": {"contact"}})
		}, map[string]wantRow{"tom": {ActionSet, RuleSAM, "tom", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, r := forestsFor(tt.setup)
			rules, err := ParseRules(tt.match)
			if err != nil {
				t.Fatal(err)
			}
			p, err := MakePlan(context.Background(), u, r, PlanOptions{Match: rules, ReplaceMismatched: tt.replace})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Rows) != len(tt.want) {
				t.Fatalf("%d rows, want %d: %+v", len(p.Rows), len(tt.want), p.Rows)
			}
			for _, row := range p.Rows {
				cn := strings.TrimPrefix(strings.SplitN(row.ResourceDN, ",", 2)[0], "cn=")
				w, ok := tt.want[cn]
				if !ok {
					t.Fatalf("unexpected row %+v", row)
				}
				if row.Action != w.action || row.Rule != w.rule || !strings.Contains(row.Reason, w.reason) {
					t.Errorf("%s: action %s rule %q reason %q; want %s %q containing %q", cn, row.Action, row.Rule, row.Reason, w.action, w.rule, w.reason)
				}
				wantDN := ""
				if w.user != "" {
					wantDN = udn(w.user)
				}
				if row.UserDN != wantDN {
					t.Errorf("%s: user %q, want %q", cn, row.UserDN, wantDN)
				}
				if w.user != "" {
					if want := u.sid(udn(w.user), "objectSid"); row.ProposedSID != want {
						t.Errorf("%s: proposed %s, want %s", cn, row.ProposedSID, want)
					}
				}
				if got := r.sid(row.ResourceDN, ldapsync.AttrOriginatorSid); row.CurrentSID != got {
					t.Errorf("%s: current %s, directory has %s", cn, row.CurrentSID, got)
				}
				if (row.ResourceGUID != ldapsync.GUID{}) {
					t.Errorf("%s: GUID %s from an entry without objectGUID", cn, row.ResourceGUID)
				}
			}
		})
	}
}

func TestParseRules(t *testing.T) {
	good := map[string]string{
		"master-sid": "master-sid", " SAM ": "sam", "upn": "upn", "Mail": "mail",
		"attr:employeeID=employeeNumber":                            "attr:employeeID=employeeNumber",
		"attr:msDS-cloudExtensionAttribute1=1.2.840.113556.1.4.221": "attr:msDS-cloudExtensionAttribute1=1.2.840.113556.1.4.221",
	}
	for in, want := range good {
		r, err := ParseRule(in)
		if err != nil || r.String() != want {
			t.Errorf("ParseRule(%q) = %v, %v; want %s", in, r, err, want)
		}
	}
	for _, bad := range []string{"", "sid", "attr:", "attr:a", "attr:=b", "attr:a=", "attr:a b=c", "attr:1a=b", "attr:-a=b"} {
		_, err := ParseRule(bad)
		var re *RuleError
		if !errors.As(err, &re) || !re.BadInput() {
			t.Errorf("ParseRule(%q) = %v, want *RuleError", bad, err)
		}
	}
	if _, err := ParseRules([]string{"sam", "SAM"}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("repeated rule: %v", err)
	}
	if r, err := ParseRules(nil); err != nil || len(r) != 2 || r[0].Name != RuleMasterSID || r[1].Name != RuleSAM {
		t.Errorf("default rules = %v, %v", r, err)
	}
}

func TestPlanJSONRoundTrip(t *testing.T) {
	g := ldapsync.MustParseGUID("96bd221f-8492-4450-abb2-2bd6828db27a")
	u, r := forestsFor(func(u, r *fakeDir) {
		userAcct(u, "alice", 1105, true, nil)
		userAcct(u, "bob", 1106, true, nil)
		resAcct(r, "alice", 2101, attrs{"objectGUID": {g[:]}})
		resAcct(r, "bob", 2102, attrs{"msRTCSIP-OriginatorSid": {usid(1)}})
	})
	created := time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC)
	p, err := MakePlan(context.Background(), u, r, PlanOptions{Filter: "(sn=*)", Now: func() time.Time { return created }})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePlan(&buf, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"version": 1`, `"kind": "originator-sid"`, `"user_forest": "userforest"`,
		`"created": "2026-11-22T01:02:03Z"`, `"filter": "(sn=*)"`, `"proposed_sid": "S-1-5-21-1-2-3-1105"`,
		`"resource_guid": "96bd221f-8492-4450-abb2-2bd6828db27a"`, `"current_sid": "S-1-5-21-1-2-3-1"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("plan JSON lacks %s:\n%s", want, buf.String())
		}
	}
	q, err := ReadPlan(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := WritePlan(&again, q); err != nil {
		t.Fatal(err)
	}
	if again.String() != buf.String() {
		t.Errorf("round trip changed the plan:\n%s\n---\n%s", buf.String(), again.String())
	}
}

func TestReadPlanRejects(t *testing.T) {
	row := `{"resource_dn":"cn=a,dc=rf","action":"set","proposed_sid":"S-1-5-21-1-2-3-4"}`
	tests := []struct{ name, json, want string }{
		{"not JSON", `{`, "not a plan file"},
		{"two values", `{"version":1,"kind":"originator-sid","rows":[]} {}`, "data after the plan"},
		{"unknown field", `{"version":1,"kind":"originator-sid","rows":[],"extra":1}`, "unknown field"},
		{"version", `{"version":2,"kind":"originator-sid","rows":[]}`, "version 2"},
		{"kind", `{"version":1,"kind":"other","rows":[]}`, `unknown kind "other"`},
		{"topology", `{"version":1,"kind":"originator-sid","options":{"match":[],"topology":"hub"},"rows":[]}`, `unknown topology "hub"`},
		{"bad SID", `{"version":1,"kind":"originator-sid","rows":[{"resource_dn":"cn=a","action":"set","proposed_sid":"S-1-x"}]}`, "bad SID"},
		{"set without SID", `{"version":1,"kind":"originator-sid","rows":[{"resource_dn":"cn=a","action":"set"}]}`, "without proposed_sid"},
		{"no DN", `{"version":1,"kind":"originator-sid","rows":[{"action":"none"}]}`, "no resource_dn"},
		{"twice", `{"version":1,"kind":"originator-sid","rows":[` + row + `,` + row + `]}`, "appears twice"},
		{"action", `{"version":1,"kind":"originator-sid","rows":[{"resource_dn":"cn=a","action":"delete"}]}`, `unknown action "delete"`},
		{"sync without changes", `{"version":1,"kind":"sync-attrs","rows":[{"resource_dn":"cn=a","action":"set"}]}`, "without changes"},
		{"sync protected attr", `{"version":1,"kind":"sync-attrs","rows":[{"resource_dn":"cn=a","action":"set","changes":[{"attr":"objectSid","old":[],"new":["x"]}]}]}`, "not one sync-attrs may change"},
		{"changes in a SID plan", `{"version":1,"kind":"originator-sid","rows":[{"resource_dn":"cn=a","action":"set","proposed_sid":"S-1-5-21-1-2-3-4","changes":[{"attr":"title","old":[],"new":["x"]}]}]}`, "changes in an originator-sid plan"},
		{"sync bad attr", `{"version":1,"kind":"sync-attrs","rows":[{"resource_dn":"cn=a","action":"set","changes":[{"attr":"a b","old":[],"new":["x"]}]}]}`, "bad attribute name"},
	}
	for _, tt := range tests {
		_, err := ReadPlan(strings.NewReader(tt.json))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
		var pe *PlanError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("%s: %T is not a *PlanError", tt.name, err)
		}
	}
}
