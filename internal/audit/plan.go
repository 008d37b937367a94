package audit

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/abkit/abkit/abs"
	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/internal/dupes"
	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/sidmap"
)

// DefaultMaxAge is how old the newest full address book file may be before the audit reports it.
const DefaultMaxAge = 36 * time.Hour

// PlanOptions are what NewPlan builds a run's checks from. The Open functions are the inputs'
// constructors, replaceable in tests.
type PlanOptions struct {
	Config    *config.Config
	ABSFolder string        // overrides abs.folder of the configuration
	MaxAge    time.Duration // > 0 overrides abs.max_age (default DefaultMaxAge)
	RTC       bool          // the duplicate checks say which objects have an AbUserEntry row
	Now       func() time.Time
	// OpenForest opens a configured forest for reading (a live server or an LDIF snapshot).
	OpenForest func(ctx context.Context, fc *config.Forest) (ldapsync.Source, error)
	// OpenRTC opens the rtc database's AbUserEntry reader; needed only with RTC.
	OpenRTC func(ctx context.Context) (dupes.EntryChecker, io.Closer, error)
}

// Plan is the checks of one run, in report order, and what must be closed afterwards.
type Plan struct {
	Checks  []Check
	Skipped []string // checks left out, with the reason

	forests []*Forest
	mu      sync.Mutex
	closers []io.Closer // inputs opened while the checks run (the rtc database)
}

// Close closes the forests and the inputs the checks opened.
func (p *Plan) Close() {
	for _, f := range p.forests {
		f.Close()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.closers {
		_ = c.Close()
	}
}

// NewPlan turns the configuration into the list of checks, in report order, and says which
// checks are left out and why.
func NewPlan(o PlanOptions) *Plan {
	p := &Plan{}
	cfg := o.Config
	folder := o.ABSFolder
	maxAge := DefaultMaxAge
	var rulesFile string
	if cfg.ABS != nil {
		if folder == "" {
			folder = cfg.ABS.Folder
		}
		if cfg.ABS.MaxAge > 0 {
			maxAge = cfg.ABS.MaxAge
		}
		rulesFile = cfg.ABS.Rules
	}
	if o.MaxAge > 0 {
		maxAge = o.MaxAge
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}

	var userForests []*Forest
	var resForest *Forest
	for i := range cfg.Forests {
		fc := &cfg.Forests[i]
		resource := cfg.Sidmap != nil && strings.EqualFold(fc.Name, cfg.Sidmap.ResourceForest)
		// An ldif: snapshot is streamed: each check's search reads the file again rather than
		// the audit holding it in memory. A live forest is one connection shared by the checks.
		fr := NewForest(fc.Name, resource, func(ctx context.Context) (ldapsync.Source, error) {
			return o.OpenForest(ctx, fc)
		})
		p.forests = append(p.forests, fr)
		if cfg.Sidmap != nil {
			switch {
			case resource:
				resForest = fr
			case slices.ContainsFunc(cfg.Sidmap.Users(), func(n string) bool { return strings.EqualFold(n, fc.Name) }):
				userForests = append(userForests, fr)
			}
		}
	}

	rules := rulesLoader(rulesFile, folder)
	if len(p.forests) > 0 {
		sip, phone := DuplicateChecks(p.forests, func(ctx context.Context) (DuplicateInputs, error) {
			return p.duplicateInputs(ctx, o, folder, rules)
		})
		p.Checks = append(p.Checks, sip, phone)
	} else {
		p.Skipped = append(p.Skipped, "duplicate-sip, duplicate-phone, hidden-sip, disabled-sip, phone-normalization: no forests configured")
	}
	if len(userForests) > 0 && resForest != nil {
		topology, _ := sidmap.ParseTopology(cfg.Sidmap.Topology) // checked when the configuration was loaded
		p.Checks = append(p.Checks, SidmapCheck(resForest, topology, userForests...))
	} else {
		p.Skipped = append(p.Skipped, "sidmap: no sidmap section (user_forest, resource_forest) in the configuration")
	}
	if len(p.forests) > 0 {
		p.Checks = append(p.Checks, HiddenSIPCheck(p.forests), DisabledSIPCheck(p.forests))
	}
	if folder != "" {
		p.Checks = append(p.Checks, ABSFreshnessCheck(folder, maxAge, now))
	} else {
		p.Skipped = append(p.Skipped, "abs-freshness: no address book folder (abs.folder or --abs-folder)")
	}
	if len(p.forests) > 0 {
		if rulesFile == "" && folder == "" {
			p.Skipped = append(p.Skipped, "phone-normalization: no rules (abs.rules) and no address book folder")
		} else {
			p.Checks = append(p.Checks, PhoneRulesCheck(p.forests, rules))
		}
		// Last: the snapshots have been read by the checks above.
		p.Checks = append(p.Checks, SnapshotRecordsCheck(p.forests))
	}
	return p
}

// duplicateInputs opens what the duplicate checks read besides the forests: the address book
// folder (the newest full file with its deltas), the rtc database with RTC, and the rules.
// Phone lines are compared after normalization with the rules; when they cannot be read, the
// checks fall back to the E164 rule and phone-normalization says why. A folder or database that
// cannot be opened makes both checks fail.
func (p *Plan) duplicateInputs(ctx context.Context, o PlanOptions, folder string, rules func(context.Context) (abs.Rules, error)) (DuplicateInputs, error) {
	var in DuplicateInputs
	if rs, err := rules(ctx); err == nil {
		in.Normalizer = dupes.Rules{Rules: rs}
	}
	if folder != "" {
		b, err := dupes.OpenABSFolder(folder)
		if err != nil {
			return in, err
		}
		in.AddressBook = b
	}
	if o.RTC {
		rows, closer, err := o.OpenRTC(ctx)
		if err != nil {
			return in, fmt.Errorf("rtc database: %w", err)
		}
		p.mu.Lock()
		p.closers = append(p.closers, closer)
		p.mu.Unlock()
		in.RTC = rows
	}
	return in, nil
}

// rulesLoader returns a loader of the normalization rules, read at most once: the rules file
// when configured, else the rules block of the newest full .lsabs file in folder.
func rulesLoader(file, folder string) func(context.Context) (abs.Rules, error) {
	var (
		once  sync.Once
		rules abs.Rules
		err   error
	)
	return func(context.Context) (abs.Rules, error) {
		once.Do(func() {
			if file != "" {
				rules, err = abs.ReadRulesFile(file)
			} else {
				rules, err = NewestFullRules(folder)
			}
		})
		return rules, err
	}
}
