package sidmap_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
)

// Plan from two snapshots, then apply to the live resource forest (compile-only: it needs a
// server).
func Example() {
	ctx := context.Background()
	users, err := ldapsync.OpenSnapshot("corp", "corp.ldif", "")
	if err != nil {
		log.Fatal(err)
	}
	res, err := ldapsync.Dial(ctx, ldapsync.Options{Name: "ocs", URL: "ldaps://dc1.ocs.contoso.com",
		Bind: ldapsync.Bind{Method: ldapsync.BindSimple, User: "svc@ocs.contoso.com", Password: os.Getenv("OCS_PW")}})
	if err != nil {
		log.Fatal(err)
	}
	defer res.Close()
	rules, err := sidmap.ParseRules([]string{"master-sid", "sam", "mail"})
	if err != nil {
		log.Fatal(err)
	}
	plan, err := sidmap.MakePlan(ctx, users, res, sidmap.PlanOptions{Match: rules})
	if err != nil {
		log.Fatal(err)
	}
	result, err := sidmap.Apply(ctx, plan, res, sidmap.ApplyOptions{JournalPath: "plan.journal", UndoPath: "plan.undo.ldif"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d applied, %d failed\n", result.Applied, len(result.Failed))
}
