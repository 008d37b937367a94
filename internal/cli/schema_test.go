package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/abkit/abkit/rtcdb"
	"github.com/abkit/abkit/rtcdb/rtcdbtest"
	"github.com/go-ldap/ldap/v3"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var updateSchemas = flag.Bool("update-schemas", false, "rewrite docs/schema/*.schema.json from the commands' JSON output")

// schemaCase is one command line whose `-o json` output is a documented shape.
type schemaCase struct {
	schema string   // docs/schema/<schema>.schema.json
	args   []string // without -o json
	// run, when set, runs the command in place of args (which then only name it) and returns
	// its JSON output; it checks the exit status itself.
	run func(t *testing.T) string
}

// schemaCases run every command that works on the committed demo data (no server). Commands that
// need a live directory server are not covered here (see docs/output.md).
func schemaCases(t *testing.T) []schemaCase {
	demo := filepath.Join("..", "..", "testdata", "demo")
	cfg := filepath.Join(demo, "abkit.yaml")
	abs := func(name string) string { return filepath.Join(demo, "abs", name) }
	return []schemaCase{
		{"version", []string{"version"}, nil},
		{"abs-info", []string{"abs", "info", abs("F-24EE.lsabs")}, nil},
		{"abs-info", []string{"abs", "info", abs("D-24EC-24ED.lsabs")}, nil},
		{"abs-dump", []string{"abs", "dump", abs("F-24EE.lsabs")}, nil},
		{"abs-dump", []string{"abs", "find", abs("F-24EE.lsabs"), "--sip", "alice@contoso.com"}, nil},
		{"abs-diff", []string{"abs", "diff", abs("F-24E8.lsabs"), abs("F-24EE.lsabs")}, nil},
		{"abs-probe", []string{"abs", "probe", abs("F-24EE.lsabs")}, nil},
		{"phone-check", []string{"phone", "check", abs("F-24EE.lsabs"), "--rules", abs("Company_Phone_Number_Normalization_Rules.txt")}, nil},
		{"config-check", []string{"config", "check", "--config", cfg}, nil},
		{"ldap-ping", []string{"ldap", "ping", "--config", cfg, "--forest", "userforest"}, nil},
		{"ldap-find", []string{"ldap", "find", "--config", cfg, "--forest", "resforest", "--sip", "alice@contoso.com"}, nil},
		{"ldap-export", []string{"ldap", "export", "--config", cfg, "--forest", "userforest"}, nil},
		{"dupes", []string{"dupes", "--config", cfg}, nil},
		{"dupes-fix", []string{"dupes", "fix", "--config", cfg}, nil},
		{"sidmap-plan", []string{"sidmap", "plan", "--config", cfg}, nil},
		{"sidmap-plan", []string{"sidmap", "sync-attrs", "plan", "--config", cfg}, nil},
		{"sidmap-verify", []string{"sidmap", "verify", "--config", cfg}, nil},
		{"audit", []string{"audit", "--config", cfg, "--out", t.TempDir()}, nil},
	}
}

// rtcSchemaCases run the rtc commands against the wire-level fake back end (rtcdbtest): one OCS 2007
// R2 database, one Lync (rtcab) database and a pool of three rtcab copies (rtcPoolFake). The cases
// run in order, so a delete --yes writes the backup the restore cases after it read.
func rtcSchemaCases(t *testing.T) []schemaCase {
	_, cfg := rtcFake(t)
	_, ocs := rtcFake(t) // deleted from and restored into
	ocsBackup := filepath.Join(t.TempDir(), "ocs.json")
	pool, _ := rtcPoolFake(t)
	ab := filepath.Join(t.TempDir(), "abkit.yaml") // a single database in the rtcab layout
	yaml := fmt.Sprintf("rtc:\n  server: 127.0.0.1\n  port: %d\n  user: tester\n  password_env: ABKIT_TEST_RTC_PASSWORD\n  encrypt: disable\n", pool[0].Port())
	if err := os.WriteFile(ab, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	abCfg, abBackup := "--config="+ab, filepath.Join(t.TempDir(), "ab.json")
	_, poolCfg := rtcPoolFake(t)
	demoRTC := demoWithRTC(t)
	odd, oddCfg := rtcFake(t) // an unknown layout: rtc info reports its problems
	odd.Columns["rtc"] = append(append([][]any{}, rtcdbtest.AttributeColumnsAB...), rtcdbtest.EntryColumns...)
	poolIndex := filepath.Join(t.TempDir(), "idx.json")
	return []schemaCase{
		{"rtc-info", []string{cfg, "rtc", "info"}, nil},
		{"rtc-attributes", []string{cfg, "rtc", "attributes"}, nil},
		{"rtc-entry", []string{cfg, "rtc", "entry", "--guid", rtcG1, "--guid", rtcG2, "--guid", "00000000-0000-0000-0000-000000000001"}, nil},
		{"rtc-delete", []string{cfg, "rtc", "delete", "--guid", rtcG1}, nil},
		{"rtc-resource", []string{cfg, "rtc", "resource", "--sip", "sip:alice@contoso.com"}, nil},
		{"rtc-resource", []string{cfg, "rtc", "resource", "--phone", "4255550100"}, nil},
		{"rtc-delete", []string{ocs, "rtc", "delete", "--guid", rtcG1, "--guid", rtcG2, "--yes", "--backup", ocsBackup}, nil},
		{"rtc-restore", []string{ocs, "rtc", "restore", ocsBackup}, nil},
		{"rtc-restore", []string{ocs, "rtc", "restore", ocsBackup, "--yes"}, nil},
		{"rtc-restore", []string{ocs, "rtc", "restore", ocsBackup}, nil}, // every row exists again
		{"rtc-info", []string{oddCfg, "rtc", "info"}, nil},
		{"rtc-info", []string{abCfg, "rtc", "info"}, nil},
		{"rtc-attributes", []string{abCfg, "rtc", "attributes"}, nil},
		{"rtc-entry", []string{abCfg, "rtc", "entry", "--guid", rtcG1, "--guid", rtcG2}, nil},
		{"rtc-delete", []string{abCfg, "rtc", "delete", "--guid", rtcG1, "--yes", "--backup", abBackup}, nil},
		{"rtc-restore", []string{abCfg, "rtc", "restore", abBackup, "--yes"}, nil},
		{"dupes", []string{"dupes", demoRTC, "--rtc"}, nil},
		{"dupes-fix", []string{"dupes", "fix", demoRTC, "--rtc"}, nil},
		{"rtc-info-pool", []string{poolCfg, "rtc", "info"}, nil},
		{"rtc-entry-pool", []string{poolCfg, "rtc", "entry", "--guid", rtcG1 + "," + rtcG2}, nil},
		{"rtc-delete-pool", []string{poolCfg, "rtc", "delete", "--guid", rtcG1}, nil},
		{"rtc-delete-pool", []string{poolCfg, "rtc", "delete", "--guid", rtcG1, "--guid", rtcG2, "--yes", "--backup", poolIndex}, nil},
		{"rtc-restore-pool", []string{poolCfg, "rtc", "restore", poolIndex}, nil},
		{"rtc-restore-pool", []string{poolCfg, "rtc", "restore", poolIndex, "--yes"}, nil},
		{"rtc-restore-pool", []string{poolCfg, "rtc", "restore", poolIndex}, nil},
	}
}

// demoWithRTC returns a --config argument for the demo data with an rtc section naming a fake
// back end that holds an AbUserEntry row for one of the demo's duplicated objects (c1482dfb…,
// cn=Alice Able in resforest), so that dupes --rtc reports in_rtc true and false.
func demoWithRTC(t *testing.T) string {
	demo, err := filepath.Abs(filepath.Join("..", "..", "testdata", "demo"))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := rtcFake(t)
	f.Seed(rtcdb.MustParseGUID("c1482dfb-64e0-41ea-930b-717299f7f797"), []byte("\x00sip:alice@contoso.com\x00"))
	yaml := fmt.Sprintf(`forests:
  - {name: userforest, ldif: %[1]s/userforest.ldif, base: "dc=userforest,dc=test"}
  - {name: resforest, ldif: %[1]s/resforest.ldif, base: "dc=resforest,dc=test"}
abs: {folder: %[1]s/abs}
rtc: {server: 127.0.0.1, port: %[2]d, user: tester, password_env: ABKIT_TEST_RTC_PASSWORD, encrypt: disable, timeout: 10s}
`, demo, f.Port())
	cfg := filepath.Join(t.TempDir(), "abkit.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return "--config=" + cfg
}

// applySchemaCases run 'sidmap apply --yes' through a replaced forest opener (cutForest, no
// directory server): once through, with the connection lost at the eighth change (exit 3, a change
// in flight), with a change refused (changed since the plan) and with one failed.
func applySchemaCases() []schemaCase {
	apply := func(fake *cutForest, want int) func(t *testing.T) string {
		return func(t *testing.T) string {
			stdout, stderr, err := runSidmapApplyCut(t, fake, "json")
			if code := exitCode(err); code != want {
				t.Fatalf("sidmap apply through %+v: exit %d (%v), want %d; stderr %s", fake, code, err, want, stderr)
			}
			return stdout
		}
	}
	args := []string{"sidmap", "apply", "plan.json", "--yes"}
	return []schemaCase{
		{schema: "sidmap-apply", args: args, run: apply(&cutForest{breakAt: 1000}, ExitOK)},
		{schema: "sidmap-apply", args: args, run: apply(&cutForest{breakAt: 8}, ExitRuntime)},
		{schema: "sidmap-apply", args: args, run: apply(&cutForest{breakAt: 3, code: ldap.LDAPResultAttributeOrValueExists}, ExitRuntime)},
		{schema: "sidmap-apply", args: args, run: apply(&cutForest{breakAt: 5, code: ldap.LDAPResultInsufficientAccessRights}, ExitRuntime)},
	}
}

// mapProperties hold data keyed by names from the data (LDAP attribute names, forest names), not
// fields: their keys are not checked for snake_case and their schema is additionalProperties.
var mapProperties = map[string]bool{"attributes": true, "normalized": true, "undo_ldif": true}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestOutputSchemas runs each command with -o json and checks its output against the committed
// JSON Schema in docs/schema/ (with a JSON Schema validator), and that the schema lists exactly the
// fields the commands emit: a schema inferred from the outputs must equal the committed one. So
// adding, renaming or retyping a field fails here until the schema is regenerated with
// -update-schemas and the change is reviewed and committed, like gh's jsonfieldstest.
func TestOutputSchemas(t *testing.T) {
	docs := map[string][]any{}
	var order []string
	for _, tc := range slices.Concat(schemaCases(t), rtcSchemaCases(t), applySchemaCases()) {
		args := append(slices.Clone(tc.args), "-o", "json")
		var stdout string
		if tc.run != nil {
			stdout = tc.run(t)
		} else {
			var stderr string
			var code int
			stdout, stderr, code = runCLI(t, args...)
			if code != ExitOK && code != ExitFindings {
				t.Fatalf("abkit %s: exit %d; stderr %s", strings.Join(args, " "), code, stderr)
			}
		}
		var doc any
		dec := json.NewDecoder(strings.NewReader(stdout))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("abkit %s: stdout is not one JSON document: %v\n%s", strings.Join(args, " "), err, stdout)
		}
		if dec.More() {
			t.Fatalf("abkit %s: more than one JSON document on stdout", strings.Join(args, " "))
		}
		checkSnakeCase(t, strings.Join(args, " "), doc, "")
		if _, ok := docs[tc.schema]; !ok {
			order = append(order, tc.schema)
		}
		docs[tc.schema] = append(docs[tc.schema], doc)
	}
	for _, name := range order {
		path := filepath.Join("..", "..", "docs", "schema", name+".schema.json")
		inferred := inferSchema(docs[name], "")
		inferred["$schema"] = "https://json-schema.org/draft/2020-12/schema"
		inferred["$id"] = "https://github.com/abkit/abkit/docs/schema/" + name + ".schema.json"
		inferred["title"] = "abkit " + strings.ReplaceAll(name, "-", " ") + " -o json"
		inferred["$comment"] = "Generated from the command's output on the demo data by " +
			"`go test ./internal/cli -run TestOutputSchemas -update-schemas`; a change here is a change of the output contract (docs/output.md)."
		want, err := json.MarshalIndent(inferred, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if *updateSchemas {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update-schemas to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s does not list exactly the fields `-o json` emits; the output changed. If that is deliberate, "+
				"run go test ./internal/cli -run TestOutputSchemas -update-schemas and commit the schema and docs/output.md.\nemitted:\n%s", path, want)
			continue
		}
		c := jsonschema.NewCompiler()
		sch, err := c.Compile(path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for i, doc := range docs[name] {
			if err := sch.Validate(doc); err != nil {
				t.Errorf("%s: output %d does not validate: %v", name, i, err)
			}
		}
	}
}

// checkSnakeCase fails on a JSON object key that is not snake_case, outside data maps.
func checkSnakeCase(t *testing.T, cmd string, v any, at string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !snakeCase.MatchString(k) {
				t.Errorf("abkit %s: key %q at %s is not snake_case", cmd, k, at)
			}
			if !mapProperties[k] {
				checkSnakeCase(t, cmd, x, at+"."+k)
			}
		}
	case []any:
		for _, x := range v {
			checkSnakeCase(t, cmd, x, at+"[]")
		}
	}
}

// inferSchema returns the narrowest schema of this kind that accepts all values: object
// properties required when present in every sample, no other properties allowed.
func inferSchema(values []any, key string) map[string]any {
	types := map[string]bool{}
	var objects []map[string]any
	var items []any
	for _, v := range values {
		switch v := v.(type) {
		case nil:
			types["null"] = true
		case bool:
			types["boolean"] = true
		case json.Number:
			types["number"] = true
		case string:
			types["string"] = true
		case []any:
			types["array"] = true
			items = append(items, v...)
		case map[string]any:
			types["object"] = true
			objects = append(objects, v)
		default:
			panic(fmt.Sprintf("unexpected JSON value %T", v))
		}
	}
	s := map[string]any{}
	var names []string
	for ty := range types {
		names = append(names, ty)
	}
	sort.Strings(names)
	if len(names) == 1 {
		s["type"] = names[0]
	} else if len(names) > 1 {
		s["type"] = names
	}
	if types["array"] {
		s["items"] = inferSchema(items, "")
	}
	if types["object"] {
		if mapProperties[key] {
			var vals []any
			for _, o := range objects {
				for _, x := range o {
					vals = append(vals, x)
				}
			}
			s["additionalProperties"] = inferSchema(vals, key) // a map of maps stays a map
			return s
		}
		props := map[string]any{}
		seen := map[string][]any{}
		count := map[string]int{}
		for _, o := range objects {
			for k, x := range o {
				seen[k] = append(seen[k], x)
				count[k]++
			}
		}
		var required []string
		for k, xs := range seen {
			props[k] = inferSchema(xs, k)
			if count[k] == len(objects) {
				required = append(required, k)
			}
		}
		sort.Strings(required)
		s["properties"] = props
		s["required"] = required
		s["additionalProperties"] = false
	}
	return s
}
