// Package audit runs abkit's scheduled consistency checks over the directory, the address book
// files and the normalization rules, and writes the results as dated report files: JSON, one CSV
// per check, a self-contained HTML report with a trend over earlier runs, and a Prometheus
// textfile for the node exporter.
//
// A Check is a name, a description and a function returning findings. Run runs every check; a
// check that cannot run (a forest that cannot be read, a missing folder) is recorded with its
// error and the others still report. The package reads only: it never changes the directory, the
// database or any file outside the report folder.
//
// Limits: each check runs its own searches (with filters that select only what it needs, and
// streaming results), so a forest is searched (or a streamed snapshot read) several times per
// run; the duplicate and sidmap checks keep compact, pointer-free indexes of what their libraries
// need (see internal/dupes and sidmap), tens of bytes per object.
package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/abkit/abkit/ldapsync"
)

// Severity ranks a finding.
type Severity string

// Severities, from most to least urgent.
const (
	SeverityError   Severity = "error"   // something is broken for users now (failed IM, stale files)
	SeverityWarning Severity = "warning" // something is wrong and will bite (hidden, unmapped, unnormalized)
)

// Finding is one problem reported by a check.
type Finding struct {
	Check    string   `json:"check"`
	Severity Severity `json:"severity"`
	// Object names what is wrong: a DN, a GUID, a SIP address or a file name.
	Object  string `json:"object"`
	Message string `json:"message"`
	// Forest is the configured forest the object was found in, "" when not one forest.
	Forest string `json:"forest,omitempty"`
	// Value is the offending value when the object is not itself the value (the telephone
	// number of a phone-normalization finding).
	Value string `json:"value,omitempty"`
	// Command is the abkit command line that fixes the finding (as a dry run) or shows it in
	// detail, "" when no abkit command helps. The command line sets it (see WithCommands).
	Command string `json:"command"`
}

// Check is one audit check.
type Check interface {
	// Name is a short stable identifier (lower case, hyphens), used in file names and metric labels.
	Name() string
	// Description says in one line what the check looks for.
	Description() string
	// Run returns the check's findings, or an error when the check could not run.
	Run(ctx context.Context) ([]Finding, error)
}

// NewCheck returns a Check built from its parts. Findings whose Check or Severity is empty get
// the check's name and SeverityWarning.
func NewCheck(name, description string, run func(ctx context.Context) ([]Finding, error)) Check {
	return &funcCheck{name: name, description: description, run: run}
}

type funcCheck struct {
	name, description string
	run               func(ctx context.Context) ([]Finding, error)
}

func (c *funcCheck) Name() string        { return c.name }
func (c *funcCheck) Description() string { return c.description }
func (c *funcCheck) Run(ctx context.Context) ([]Finding, error) {
	fs, err := c.run(ctx)
	for i := range fs {
		if fs[i].Check == "" {
			fs[i].Check = c.name
		}
		if fs[i].Severity == "" {
			fs[i].Severity = SeverityWarning
		}
	}
	return fs, err
}

// Result is the outcome of one check.
type Result struct {
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Count       int           `json:"count"`           // len(Findings)
	Error       string        `json:"error,omitempty"` // why the check could not run; "" when it ran
	Duration    time.Duration `json:"duration_ns"`
	Findings    []Finding     `json:"findings"`
}

// Failed reports whether the check could not run.
func (r *Result) Failed() bool { return r.Error != "" }

// Report is the outcome of one audit run.
type Report struct {
	Time     time.Time `json:"time"`     // when the run started (from the clock in Options)
	Findings int       `json:"findings"` // total findings over all checks
	Errors   int       `json:"errors"`   // checks that could not run
	Checks   []Result  `json:"checks"`   // in the order the checks were given
	// Config is the configuration file the run used, "" when none; Inputs are what it read.
	// Both are set by the caller and shown in the HTML footer.
	Config string  `json:"config"`
	Inputs []Input `json:"inputs"`
	// Version names the program that wrote the report (e.g. "abkit v1.2.0 (commit ...)").
	Version string `json:"version"`
}

// Input is one source an audit read.
type Input struct {
	Kind   string `json:"kind"`   // forest, address book folder, rules, rtc database
	Name   string `json:"name"`   // the forest's name; "" for the others
	Source string `json:"source"` // URL, file or folder
}

// WithCommands sets the Command of every finding to command(finding); command returns "" when
// no abkit command helps with a finding.
func (r *Report) WithCommands(command func(Finding) string) {
	for i := range r.Checks {
		for j := range r.Checks[i].Findings {
			r.Checks[i].Findings[j].Command = command(r.Checks[i].Findings[j])
		}
	}
}

// Options tunes Run.
type Options struct {
	// Now is the clock; nil means time.Now. Tests inject a fixed time.
	Now func() time.Time
	// Progress receives one unit per check finished; nil means none.
	Progress ldapsync.Progress
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// Run runs every check in order and returns the report. A check that returns an error is
// recorded with its error (and any findings it returned before failing are dropped, since they
// may be incomplete); the other checks still run. Run stops early only when ctx is cancelled:
// the checks not run are then recorded with the context's error.
func Run(ctx context.Context, checks []Check, opts Options) *Report {
	rep := &Report{Time: opts.now(), Checks: make([]Result, 0, len(checks)), Inputs: []Input{}}
	p := ldapsync.ProgressOrNop(opts.Progress)
	p.Start(int64(len(checks)), "checks")
	defer p.Done()
	for _, c := range checks {
		res := Result{Name: c.Name(), Description: c.Description(), Findings: []Finding{}}
		start := opts.now()
		var (
			fs  []Finding
			err error
		)
		if err = ctx.Err(); err == nil {
			fs, err = runSafely(ctx, c)
		}
		res.Duration = opts.now().Sub(start)
		if err != nil {
			res.Error = err.Error()
			rep.Errors++
		} else {
			res.Findings = append(res.Findings, fs...)
			res.Count = len(fs)
			rep.Findings += len(fs)
		}
		rep.Checks = append(rep.Checks, res)
		p.Add(1)
	}
	return rep
}

// runSafely runs c, turning a panic inside the check into an error so that one faulty check
// cannot take the whole report down.
func runSafely(ctx context.Context, c Check) (fs []Finding, err error) {
	defer func() {
		if r := recover(); r != nil {
			fs, err = nil, fmt.Errorf("check %s panicked: %v", c.Name(), r)
		}
	}()
	return c.Run(ctx)
}
