package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/abkit/abkit/internal/config"
)

// runCLI runs abkit in-process with the given arguments and returns stdout, stderr and the exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), args, TestStreams(strings.NewReader(""), &out, &errOut))
	return out.String(), errOut.String(), code
}

func TestExitCodeMapping(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"findings", findings(3, "duplicates"), ExitFindings},
		{"wrapped findings", fmt.Errorf("x: %w", findings(1, "finding")), ExitFindings},
		{"no findings", findings(0, "duplicates"), ExitOK},
		{"bad input", badInputf("bad"), ExitBadInput},
		{"config error", &config.Error{Err: errors.New("x")}, ExitBadInput},
		{"runtime", runtimeFailure(errors.New("down")), ExitRuntime},
		{"unclassified", errors.New("boom"), ExitRuntime},
		{"cancelled", context.Canceled, ExitInterrupted},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("%s: exitCode = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	_, stderr, code := runCLI(t, "--no-such-flag")
	if code != ExitBadInput {
		t.Fatalf("exit %d, want %d; stderr %q", code, ExitBadInput, stderr)
	}
	if !strings.Contains(stderr, "no-such-flag") {
		t.Errorf("stderr %q does not name the flag", stderr)
	}
}

func TestUnknownOutputFormat(t *testing.T) {
	if _, err := parseFormat("xml"); exitCode(err) != ExitBadInput {
		t.Errorf("parseFormat(xml) = %v, want bad input", err)
	}
}

func TestHelpListsExitStatus(t *testing.T) {
	out, _, code := runCLI(t, "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"EXIT STATUS", "1  findings", "2  bad input", "3  runtime", "130  interrupted"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestDefaultFormatFollowsTTY(t *testing.T) {
	f := &Factory{IO: &IOStreams{StdoutTTY: true}}
	if got := f.format(); got != FormatTable {
		t.Errorf("terminal: %q, want table", got)
	}
	f.IO.StdoutTTY = false
	if got := f.format(); got != FormatTSV {
		t.Errorf("piped: %q, want tsv", got)
	}
	f.Output = "JSON"
	if got := f.format(); got != FormatJSON {
		t.Errorf("-o JSON: %q, want json", got)
	}
}

func TestWriteFormats(t *testing.T) {
	tbl := Table{Columns: []string{"sip_address", "dn"}}
	tbl.Append("sip:a@x.test", "CN=A\tB,DC=x")
	tbl.Append("sip:b@x.test", "CN=\"B\",DC=x")

	var b bytes.Buffer
	if err := writeFormatted(&b, FormatTSV, tbl, nil); err != nil {
		t.Fatal(err)
	}
	if want := "sip_address\tdn\nsip:a@x.test\tCN=A B,DC=x\nsip:b@x.test\tCN=\"B\",DC=x\n"; b.String() != want {
		t.Errorf("tsv:\n%q\nwant\n%q", b.String(), want)
	}

	b.Reset()
	if err := writeFormatted(&b, FormatCSV, tbl, nil); err != nil {
		t.Fatal(err)
	}
	if want := "sip_address,dn\nsip:a@x.test,\"CN=A\tB,DC=x\"\nsip:b@x.test,\"CN=\"\"B\"\",DC=x\"\n"; b.String() != want {
		t.Errorf("csv:\n%q\nwant\n%q", b.String(), want)
	}

	b.Reset()
	if err := writeFormatted(&b, FormatTable, tbl, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "sip_address") {
		t.Errorf("table reformatted the header:\n%s", b.String())
	}

	b.Reset()
	if err := writeFormatted(&b, FormatJSON, tbl, map[string]int{"n": 2}); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"n\": 2\n}\n"; b.String() != want {
		t.Errorf("json: %q, want %q", b.String(), want)
	}
}
