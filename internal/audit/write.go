package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/abkit/abkit/internal/fsutil"
)

// FilePrefix starts the name of every dated report file.
const FilePrefix = "abkit-audit-"

// HistoryPrefix starts the name of every run summary in the history folder. It differs from
// FilePrefix so that one folder can serve as both --out and --history.
const HistoryPrefix = "abkit-history-"

// PromFile is the Prometheus textfile's name: not dated, so that the node exporter's textfile
// collector always reads the latest run.
const PromFile = "abkit.prom"

// Names are the stable file names of one run's reports, all in one folder. The date is the run's
// UTC date, so a second run on the same day replaces the first day's files.
type Names struct {
	Date string // YYYY-MM-DD
}

// NamesFor returns the file names of a run at t.
func NamesFor(t time.Time) Names { return Names{Date: t.UTC().Format(time.DateOnly)} }

// JSON is the name of the full JSON report, e.g. abkit-audit-2026-11-22.json.
func (n Names) JSON() string { return FilePrefix + n.Date + ".json" }

// CSV is the name of one check's CSV file, e.g. abkit-audit-2026-11-22-hidden-sip.csv.
func (n Names) CSV(check string) string { return FilePrefix + n.Date + "-" + check + ".csv" }

// HTML is the name of the HTML report, e.g. abkit-audit-2026-11-22.html.
func (n Names) HTML() string { return FilePrefix + n.Date + ".html" }

// History is the name of the run's summary in the history folder, e.g. abkit-history-2026-11-22.json.
func (n Names) History() string { return HistoryPrefix + n.Date + ".json" }

// WriteOptions says where Write puts its files.
type WriteOptions struct {
	Dir        string // report folder (created when missing)
	HistoryDir string // "" = no history: the HTML trend shows this run only
}

// Write writes every report file of rep into opts.Dir: the JSON report, one CSV per check, the
// HTML report and the Prometheus textfile; with opts.HistoryDir it also stores the run's summary
// there and draws the HTML trend from every summary found. Each file is written to a temporary
// name and renamed, so a reader never sees half a file. It returns the paths written.
func Write(rep *Report, opts WriteOptions) ([]string, error) {
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("audit: report folder: %w", err)
	}
	names := NamesFor(rep.Time)
	var written []string
	put := func(name string, data []byte) error {
		p := filepath.Join(opts.Dir, name)
		if err := fsutil.Write(p, fsutil.Shared, true, fsutil.WriteBytes(data)); err != nil {
			return err
		}
		written = append(written, p)
		return nil
	}

	js, err := marshalJSON(rep)
	if err != nil {
		return written, err
	}
	if err := put(names.JSON(), js); err != nil {
		return written, err
	}
	for i := range rep.Checks {
		data, err := checkCSV(&rep.Checks[i])
		if err != nil {
			return written, err
		}
		if err := put(names.CSV(rep.Checks[i].Name), data); err != nil {
			return written, err
		}
	}

	history := []Summary{SummaryOf(rep)}
	if opts.HistoryDir != "" {
		if err := os.MkdirAll(opts.HistoryDir, 0o755); err != nil {
			return written, fmt.Errorf("audit: history folder: %w", err)
		}
		sj, err := marshalJSON(SummaryOf(rep))
		if err != nil {
			return written, err
		}
		hp := filepath.Join(opts.HistoryDir, names.History())
		if err := fsutil.Write(hp, fsutil.Shared, true, fsutil.WriteBytes(sj)); err != nil {
			return written, err
		}
		written = append(written, hp)
		if history, err = ReadHistory(opts.HistoryDir); err != nil {
			return written, err
		}
	}
	page, err := renderHTML(rep, history)
	if err != nil {
		return written, err
	}
	if err := put(names.HTML(), page); err != nil {
		return written, err
	}

	pp := filepath.Join(opts.Dir, PromFile)
	if err := writeProm(pp, rep); err != nil {
		return written, fmt.Errorf("audit: %s: %w", pp, err)
	}
	return append(written, pp), nil
}

func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("audit: encode JSON: %w", err)
	}
	return b.Bytes(), nil
}

// CSVColumns are the columns of every check's CSV file.
var CSVColumns = []string{"check", "severity", "object", "message", "forest", "value", "command"}

// checkCSV renders one check's findings. A check that could not run gets a header and no rows;
// its error is in the JSON and HTML reports.
func checkCSV(r *Result) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(CSVColumns); err != nil {
		return nil, err
	}
	for _, f := range r.Findings {
		if err := w.Write([]string{f.Check, string(f.Severity), f.Object, f.Message, f.Forest, f.Value, f.Command}); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// Summary is the small record of one run kept in the history folder for the HTML trend.
type Summary struct {
	Time     time.Time      `json:"time"`
	Findings int            `json:"findings"`
	Errors   int            `json:"errors"`
	Counts   map[string]int `json:"counts"`           // findings per check that ran
	Failed   []string       `json:"failed,omitempty"` // checks that could not run
}

// SummaryOf returns the summary of rep.
func SummaryOf(rep *Report) Summary {
	s := Summary{Time: rep.Time, Findings: rep.Findings, Errors: rep.Errors, Counts: map[string]int{}}
	for _, c := range rep.Checks {
		if c.Failed() {
			s.Failed = append(s.Failed, c.Name)
			continue
		}
		s.Counts[c.Name] = c.Count
	}
	return s
}

// ReadHistory reads every run summary (HistoryPrefix*.json) in dir, oldest first. A file that does
// not decode is an error naming it, so that a damaged history is noticed.
func ReadHistory(dir string) ([]Summary, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: history: %w", err)
	}
	var out []Summary
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, HistoryPrefix) || !strings.HasSuffix(name, ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("audit: history: %w", err)
		}
		var s Summary
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("audit: history file %s: %w", filepath.Join(dir, name), err)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}
