package cli

import (
	"sync"

	"github.com/abkit/abkit/progress"
	"github.com/schollz/progressbar/v3"
)

// progressReporter returns a progress.Reporter that draws a bar on stderr when stderr is a
// terminal and --no-progress was not given, and otherwise ignores events.
func (f *Factory) progressReporter(description string) progress.Reporter {
	if f.NoProgress || !f.IO.StderrTTY {
		return progress.Nop
	}
	return &barReporter{f: f, description: description}
}

type barReporter struct {
	f           *Factory
	description string
	mu          sync.Mutex
	bar         *progressbar.ProgressBar
}

func (r *barReporter) Start(total int64, unit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(r.f.IO.ErrOut),
		progressbar.OptionSetDescription(r.description),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionThrottle(100_000_000), // 100 ms
		progressbar.OptionClearOnFinish(),
	}
	if unit == "bytes" {
		opts = append(opts, progressbar.OptionShowBytes(true))
	}
	r.bar = progressbar.NewOptions64(total, opts...)
}

func (r *barReporter) Add(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Add64(n)
	}
}

func (r *barReporter) Done() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Finish()
		r.bar = nil
	}
}
