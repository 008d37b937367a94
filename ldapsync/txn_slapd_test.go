package ldapsync

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// TestIntegrationSlapdTransactions commits two modifies in one RFC 5805 transaction, then sends a
// transaction whose second modify's condition fails and checks that neither of its modifies took
// effect.
func TestIntegrationSlapdTransactions(t *testing.T) {
	env := slapdEnv(t)
	f := dialT(t, Options{Name: "res", URL: env["ABKIT_SLAPD_URL"], Base: env["ABKIT_SLAPD_RES_BASE"],
		Bind: Bind{Method: BindSimple, DN: env["ABKIT_SLAPD_RES_BIND_DN"], Password: env["ABKIT_SLAPD_PASSWORD"]}})
	if !f.SupportsTransactions() {
		t.Fatalf("slapd's rootDSE does not list %s: %v", ExtStartTxn, f.RootDSE().SupportedExtensions)
	}
	ctx := context.Background()
	dn := func(cn string) string { return "cn=" + cn + ",ou=Bulk," + env["ABKIT_SLAPD_RES_BASE"] }
	stamp := time.Now().Format(time.RFC3339Nano)
	description := func(cn string) []string {
		got := collect(t, f, SearchRequest{Filter: "(cn=" + cn + ")", Attributes: []string{"description"}})
		if len(got) != 1 {
			t.Fatalf("%s: %d entries", cn, len(got))
		}
		var out []string
		for _, v := range got[0].Raw["description"] {
			out = append(out, string(v))
		}
		return out
	}
	set := func(cn, v string) *ldap.ModifyRequest {
		r := ldap.NewModifyRequest(dn(cn), nil)
		r.Replace("description", []string{v})
		return r
	}
	if err := f.ModifyTxn(ctx, []*ldap.ModifyRequest{set("bulk010", "a "+stamp), set("bulk011", "b "+stamp)}); err != nil {
		t.Fatal(err)
	}
	if a, b := description("bulk010"), description("bulk011"); len(a) != 1 || a[0] != "a "+stamp || len(b) != 1 || b[0] != "b "+stamp {
		t.Fatalf("after commit: %q %q", a, b)
	}

	// The second modify deletes a value bulk011 does not hold: the whole transaction fails.
	cond := ldap.NewModifyRequest(dn("bulk011"), nil)
	cond.Delete("description", []string{"not there " + stamp})
	err := f.ModifyTxn(ctx, []*ldap.ModifyRequest{set("bulk010", "c "+stamp), cond})
	var te *TxnError
	if !errors.As(err, &te) {
		t.Fatalf("failing transaction: %v", err)
	}
	t.Logf("failing transaction: %v", err)
	if a := description("bulk010"); len(a) != 1 || a[0] != "a "+stamp {
		t.Fatalf("aborted transaction changed bulk010: %q", a)
	}
	// The connection is usable afterwards, for a transaction and a plain modify.
	if err := f.ModifyTxn(ctx, []*ldap.ModifyRequest{set("bulk010", "d "+stamp)}); err != nil {
		t.Fatal(err)
	}
	if err := f.Modify(ctx, set("bulk011", "e "+stamp)); err != nil {
		t.Fatal(err)
	}
	if a, b := description("bulk010"), description("bulk011"); a[0] != "d "+stamp || b[0] != "e "+stamp {
		t.Fatalf("after the abort: %q %q", a, b)
	}
}
