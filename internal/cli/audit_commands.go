package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/abkit/abkit/internal/audit"
	"github.com/abkit/abkit/internal/config"
	"github.com/go-ldap/ldap/v3"
)

// auditContext is what an audit run read, for the report's footer and for the commands that
// fix or show each finding: they repeat the run's configuration and flags.
type auditContext struct {
	configPath string // absolute; "" when the run used no configuration file
	absFolder  string // the address book folder read, "" when none
	absFlag    bool   // the folder came from --abs-folder, so the commands must say it too
	rules      string // the rules file, "" when the rules came from the newest full file
	rtc        bool
}

// describeAuditRun records in rep the configuration, the inputs and the program version of the
// run, and gives every finding the abkit command that fixes or shows it.
func describeAuditRun(rep *audit.Report, f *Factory, cfg *config.Config, opts *auditOptions) {
	c := auditContext{absFolder: opts.ABSFolder, absFlag: opts.ABSFolder != "", rtc: opts.RTC}
	c.configPath = f.ConfigPath
	if c.configPath == "" {
		c.configPath = os.Getenv(config.EnvVar)
	}
	c.configPath = absPath(c.configPath)
	if cfg.ABS != nil {
		if c.absFolder == "" {
			c.absFolder = cfg.ABS.Folder
		}
		c.rules = cfg.ABS.Rules
	}
	c.absFolder, c.rules = absPath(c.absFolder), absPath(c.rules)
	rep.Config = c.configPath
	rep.Version = currentVersion().String()
	for _, fc := range cfg.Forests {
		src := fc.URL
		if fc.LDIF != "" {
			src = absPath(fc.LDIF)
		}
		rep.Inputs = append(rep.Inputs, audit.Input{Kind: "forest", Name: fc.Name, Source: src})
	}
	if c.absFolder != "" {
		rep.Inputs = append(rep.Inputs, audit.Input{Kind: "address book folder", Source: c.absFolder})
	}
	if c.rules != "" {
		rep.Inputs = append(rep.Inputs, audit.Input{Kind: "normalization rules", Source: c.rules})
	}
	if c.rtc && cfg.RTC != nil {
		rep.Inputs = append(rep.Inputs, audit.Input{Kind: "rtc database", Source: cfg.RTC.Server + "/" + cfg.RTC.Database})
	}
	rep.WithCommands(c.command)
}

// absPath makes a path absolute, so that the report's commands work from any folder.
func absPath(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// command returns the abkit command line for a finding, "" when no abkit command helps. Every
// command it returns only reads: dupes fix and sidmap plan print a plan (dry run).
func (c auditContext) command(fd audit.Finding) string {
	var args []string
	switch fd.Check {
	case audit.CheckDuplicateSIP:
		args = c.withInputs("dupes", "fix")
	case audit.CheckDuplicatePhone:
		args = append(c.withInputs("dupes"), "--phones")
	case audit.CheckSidmap:
		args = append(c.withConfig("sidmap", "plan"), "--base", fd.Object)
	case audit.CheckHiddenSIP, audit.CheckDisabledSIP:
		cn := firstRDNValue(fd.Object)
		if cn == "" || fd.Forest == "" {
			return ""
		}
		args = append(c.withConfig("ldap", "find"), "--forest", fd.Forest, "--name", cn)
	case audit.CheckABSFreshness:
		args = c.absFileCommand(fd.Object)
	case audit.CheckSnapshotRecords:
		args = c.withConfig("config", "check") // names the forest's first skipped record
	case audit.CheckPhoneRules:
		if fd.Value == "" {
			return ""
		}
		switch newest := c.newestFullFile(); {
		case c.rules != "":
			args = []string{"phone", "test", "--rules", c.rules, fd.Value}
		case newest != "":
			args = []string{"phone", "test", "--abs", newest, fd.Value}
		}
	}
	if args == nil {
		return ""
	}
	return commandLine(args)
}

func (c auditContext) withConfig(args ...string) []string {
	if c.configPath != "" {
		args = append(args, "--config", c.configPath)
	}
	return args
}

// withInputs adds the flags that make dupes read what the audit's duplicate checks read.
func (c auditContext) withInputs(args ...string) []string {
	args = c.withConfig(args...)
	if c.absFlag {
		args = append(args, "--abs-folder", c.absFolder)
	}
	if c.rtc {
		args = append(args, "--rtc")
	}
	return args
}

var (
	fullFileName  = regexp.MustCompile(`^F-[0-9A-Fa-f]{4}\.(lsabs|dabs)$`)
	deltaFileName = regexp.MustCompile(`^D-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})\.(lsabs|dabs)$`)
)

// absFileCommand shows a stale full file (abs info) or what a missing delta would hold (abs diff
// of the two full files around it), when those files are in the folder.
func (c auditContext) absFileCommand(name string) []string {
	if c.absFolder == "" {
		return nil
	}
	exists := func(n string) (string, bool) {
		p := filepath.Join(c.absFolder, n)
		st, err := os.Stat(p)
		return p, err == nil && st.Mode().IsRegular()
	}
	if fullFileName.MatchString(name) {
		if p, ok := exists(name); ok {
			return []string{"abs", "info", p}
		}
		return nil
	}
	if m := deltaFileName.FindStringSubmatch(name); m != nil {
		from, ok1 := exists("F-" + m[1] + "." + m[3])
		to, ok2 := exists("F-" + m[2] + "." + m[3])
		if ok1 && ok2 {
			return []string{"abs", "diff", from, to}
		}
	}
	return nil
}

// newestFullFile is the newest F-XXXX.lsabs in the folder (four hex digits sort by date).
func (c auditContext) newestFullFile() string {
	if c.absFolder == "" {
		return ""
	}
	names, _ := filepath.Glob(filepath.Join(c.absFolder, "F-????.lsabs"))
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToUpper(a), strings.ToUpper(b)) })
	if len(names) == 0 {
		return ""
	}
	return names[len(names)-1]
}

// firstRDNValue is the value of a DN's first RDN ("Alice Able" of cn=Alice Able,ou=Users,...).
func firstRDNValue(dn string) string {
	d, err := ldap.ParseDN(dn)
	if err != nil || len(d.RDNs) == 0 || len(d.RDNs[0].Attributes) == 0 {
		return ""
	}
	return d.RDNs[0].Attributes[0].Value
}

// commandLine joins args after "abkit", quoting each that needs it in single quotes, which
// POSIX shells and PowerShell both take literally.
func commandLine(args []string) string {
	var b strings.Builder
	b.WriteString("abkit")
	for _, a := range args {
		b.WriteByte(' ')
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
