package cli

import (
	"fmt"
	"sync"
	"time"

	"github.com/abkit/abkit/ldapsync"
	"github.com/schollz/progressbar/v3"
)

// progressReporter returns a ldapsync.Progress that draws a bar on stderr when stderr is a
// terminal and --no-progress was not given, and otherwise ignores events.
func (f *Factory) progressReporter(description string) ldapsync.Progress {
	if f.NoProgress || !f.IO.StderrTTY {
		return ldapsync.NopProgress
	}
	return &barReporter{f: f, description: description, now: time.Now}
}

// A rate is shown only once it means something: after minRateElapsed and minRateCount items.
// Before that (and for a run of 7 checks) a rate is noise such as "50741 checks/s".
const (
	minRateElapsed = time.Second
	minRateCount   = 100
)

type barReporter struct {
	f           *Factory
	description string
	now         func() time.Time // the clock; tests replace it

	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	unit  string
	start time.Time
	count int64
}

func (r *barReporter) Start(total int64, unit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(r.f.IO.ErrOut),
		progressbar.OptionSetDescription(r.description),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100_000_000), // 100 ms
		progressbar.OptionClearOnFinish(),
	}
	if unit == "bytes" {
		// The bar shows the byte counts and the byte rate itself (once: no "its" rate beside it).
		opts = append(opts, progressbar.OptionShowBytes(true))
	}
	r.bar = progressbar.NewOptions64(total, opts...)
	r.unit, r.start, r.count = unit, r.now(), 0
}

func (r *barReporter) Add(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar == nil {
		return
	}
	r.count += n
	if r.unit != "bytes" {
		if rate := rateText(r.count, r.now().Sub(r.start), r.unit); rate != "" {
			r.bar.Describe(r.description + " (" + rate + ")")
		}
	}
	_ = r.bar.Add64(n)
}

func (r *barReporter) Done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Finish()
		r.bar = nil
	}
}

// rateText is the item rate to show after count items in elapsed time, "" while too few items or
// too little time have passed for a rate to mean anything.
func rateText(count int64, elapsed time.Duration, unit string) string {
	if count < minRateCount || elapsed < minRateElapsed {
		return ""
	}
	return fmt.Sprintf("%.0f %s/s", float64(count)/elapsed.Seconds(), unit)
}
