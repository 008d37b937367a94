package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestRateText(t *testing.T) {
	tests := []struct {
		count   int64
		elapsed time.Duration
		want    string
	}{
		{7, 138 * time.Microsecond, ""},      // the 7 checks that showed "50741 checks/s"
		{7, 10 * time.Second, ""},            // too few items, however long
		{100000, 200 * time.Millisecond, ""}, // too early
		{5000, 2 * time.Second, "2500 objects/s"},
	}
	for _, tt := range tests {
		if got := rateText(tt.count, tt.elapsed, "objects"); got != tt.want {
			t.Errorf("rateText(%d, %v) = %q, want %q", tt.count, tt.elapsed, got, tt.want)
		}
	}
}

// fakeClock advances by step at each reading.
func fakeClock(step time.Duration) func() time.Time {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	return func() time.Time { now = now.Add(step); return now }
}

func TestProgressBarRates(t *testing.T) {
	var errOut bytes.Buffer
	f := &Factory{IO: &IOStreams{ErrOut: &errOut, StderrTTY: true}}

	r := f.progressReporter("audit").(*barReporter)
	r.now = fakeClock(time.Microsecond)
	r.Start(7, "checks")
	for range 6 {
		r.Add(1)
	}
	time.Sleep(150 * time.Millisecond) // past the bar's render throttle
	r.Add(1)
	if s := r.bar.String(); strings.Contains(s, "/s") || strings.Contains(s, "/min") {
		t.Errorf("7 checks show a rate: %q", s)
	}
	r.Done()

	r = f.progressReporter("reading F-0A10.lsabs").(*barReporter)
	r.now = fakeClock(time.Second)
	r.Start(10<<20, "bytes")
	time.Sleep(20 * time.Millisecond) // the bar's own clock: a byte rate > 0
	r.Add(5 << 20)
	if s := r.bar.String(); strings.Count(s, "/s") != 1 {
		t.Errorf("byte progress shows %d rates, want 1: %q", strings.Count(s, "/s"), s)
	}
	r.Done()

	r = f.progressReporter("reading forests").(*barReporter)
	r.now = fakeClock(time.Second)
	r.Start(-1, "objects")
	for range 300 {
		r.Add(1)
	}
	time.Sleep(150 * time.Millisecond) // past the bar's render throttle
	r.Add(1)
	if s := r.bar.String(); !strings.Contains(s, "objects/s") {
		t.Errorf("300 objects over minutes show no rate: %q", s)
	}
	r.Done()
}
