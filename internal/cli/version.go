package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Set by release builds (make dist) with
// -ldflags "-X github.com/abkit/abkit/internal/cli.version=v1.2.3 -X ...cli.commit=... -X ...cli.buildDate=...".
// Empty values fall back to the build information the Go toolchain embeds.
var (
	version   string
	commit    string
	buildDate string
)

// versionInfo is what `abkit --version` and `abkit version` report.
type versionInfo struct {
	Version   string `json:"version"`    // release version, module version (go install), or "(devel)"
	Commit    string `json:"commit"`     // VCS revision the binary was built from, "" when unknown
	Modified  bool   `json:"modified"`   // built from a work tree with uncommitted changes
	BuildDate string `json:"build_date"` // release build time, else the commit time (RFC 3339), "" when unknown
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"` // GOOS/GOARCH
}

// currentVersion describes this binary.
func currentVersion() versionInfo {
	bi, _ := debug.ReadBuildInfo()
	return buildVersion(bi, version, commit, buildDate)
}

// buildVersion combines the embedded build information with the release overrides.
func buildVersion(bi *debug.BuildInfo, version, commit, date string) versionInfo {
	v := versionInfo{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			v.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Commit = s.Value
			case "vcs.time":
				v.BuildDate = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			}
		}
	}
	if version != "" {
		v.Version = version
	}
	if commit != "" {
		v.Commit = commit
		v.Modified = false
	}
	if date != "" {
		v.BuildDate = date
	}
	return v
}

// String is the one-line form printed by --version.
func (v versionInfo) String() string {
	commit := v.Commit
	if commit == "" {
		commit = "unknown"
	}
	if v.Modified {
		commit += "-dirty"
	}
	date := v.BuildDate
	if date == "" {
		date = "unknown"
	}
	return fmt.Sprintf("abkit %s (commit %s, built %s, %s, %s)", v.Version, commit, date, v.GoVersion, v.Platform)
}

func newCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Show the version, commit, build date and Go version of this binary",
		Long: withExitStatus(`Show what this binary is: its version (the release tag, the module version for
'go install', or "(devel)"), the commit and build date, the Go version and the platform.
'abkit --version' prints the same on one line; '-o json' gives the fields to scripts.`),
		Example: `  abkit version
  abkit version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := currentVersion()
			t := Table{Columns: []string{"version", "commit", "modified", "build_date", "go_version", "platform"}}
			t.Append(v.Version, v.Commit, fmt.Sprint(v.Modified), v.BuildDate, v.GoVersion, v.Platform)
			return f.writeData(t, v)
		},
	}
}
