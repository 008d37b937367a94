package cli

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/abkit/abkit", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "c9d994fc7fa7085ae1f2dd1be8cc2b6d899d8a39"},
			{Key: "vcs.time", Value: "2026-12-06T03:00:00Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	v := buildVersion(bi, "", "", "")
	if v.Version != "v1.4.0" || v.Commit != "c9d994fc7fa7085ae1f2dd1be8cc2b6d899d8a39" || v.BuildDate != "2026-12-06T03:00:00Z" || !v.Modified || v.GoVersion != "go1.26.8" {
		t.Errorf("from build info: %+v", v)
	}
	if s := v.String(); !strings.Contains(s, "abkit v1.4.0 (commit c9d994fc7fa7085ae1f2dd1be8cc2b6d899d8a39-dirty, built 2026-12-06T03:00:00Z, go1.26.8") {
		t.Errorf("String() = %q", s)
	}
	v = buildVersion(bi, "v2.0.0", "abc123", "2026-12-07T00:00:00Z")
	if v.Version != "v2.0.0" || v.Commit != "abc123" || v.Modified || v.BuildDate != "2026-12-07T00:00:00Z" {
		t.Errorf("ldflags overrides: %+v", v)
	}
	if v := buildVersion(nil, "", "", ""); v.Version != "(devel)" || v.Commit != "" {
		t.Errorf("no build info: %+v", v)
	}
}

func TestVersionCommand(t *testing.T) {
	out, stderr, code := runCLI(t, "--version")
	if code != ExitOK || !strings.HasPrefix(out, "abkit ") || !strings.Contains(out, "go1.") {
		t.Fatalf("--version: exit %d, out %q, stderr %q", code, out, stderr)
	}
	out, stderr, code = runCLI(t, "version", "-o", "json")
	if code != ExitOK {
		t.Fatalf("version -o json: exit %d, stderr %q", code, stderr)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "commit", "modified", "build_date", "go_version", "platform"} {
		if _, ok := v[k]; !ok {
			t.Errorf("version -o json lacks %q: %s", k, out)
		}
	}
}
