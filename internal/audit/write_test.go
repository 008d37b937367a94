package audit

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func sampleReport(t *testing.T, at time.Time) *Report {
	t.Helper()
	checks := []Check{
		NewCheck("duplicate-sip", "duplicate SIP addresses", func(context.Context) ([]Finding, error) {
			return []Finding{
				{Severity: SeverityError, Object: "sip:alice@contoso.com", Message: `user "Alice", group <script>x</script>`},
				{Severity: SeverityError, Object: "sip:bob@contoso.com", Message: "contact, user, with a comma"},
			}, nil
		}),
		NewCheck("sidmap", "SID mapping", func(context.Context) ([]Finding, error) { return nil, errors.New("forest resforest: refused") }),
		findingsCheck("hidden-sip", 1),
		findingsCheck("clean", 0),
	}
	return Run(context.Background(), checks, Options{Now: func() time.Time { return at }})
}

func TestWriteFiles(t *testing.T) {
	dir, hist := t.TempDir(), t.TempDir()
	// An earlier run in the history folder.
	earlier := sampleReport(t, testTime.Add(-48*time.Hour))
	if _, err := Write(earlier, WriteOptions{Dir: t.TempDir(), HistoryDir: hist}); err != nil {
		t.Fatal(err)
	}
	rep := sampleReport(t, testTime)
	written, err := Write(rep, WriteOptions{Dir: dir, HistoryDir: hist})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range written {
		names = append(names, filepath.Base(p))
	}
	want := []string{
		"abkit-audit-2026-11-22.json",
		"abkit-audit-2026-11-22-duplicate-sip.csv", "abkit-audit-2026-11-22-sidmap.csv",
		"abkit-audit-2026-11-22-hidden-sip.csv", "abkit-audit-2026-11-22-clean.csv",
		"abkit-history-2026-11-22.json",
		"abkit-audit-2026-11-22.html", "abkit.prom",
	}
	if !slices.Equal(names, want) {
		t.Errorf("written %q\nwant    %q", names, want)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 7 {
		t.Errorf("report folder holds %d files, want 7 (no temporary files left)", len(entries))
	}

	var back Report
	data, _ := os.ReadFile(filepath.Join(dir, "abkit-audit-2026-11-22.json"))
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Findings != 3 || back.Errors != 1 || len(back.Checks) != 4 || back.Checks[1].Error != "forest resforest: refused" ||
		back.Checks[0].Findings[0].Object != "sip:alice@contoso.com" || !back.Time.Equal(testTime) {
		t.Errorf("JSON report = %+v", back)
	}

	f, _ := os.Open(filepath.Join(dir, "abkit-audit-2026-11-22-duplicate-sip.csv"))
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 3 || !slices.Equal(rows[0], CSVColumns) || rows[2][3] != "contact, user, with a comma" {
		t.Errorf("duplicate-sip CSV = %q, %v", rows, err)
	}
	data, _ = os.ReadFile(filepath.Join(dir, "abkit-audit-2026-11-22-sidmap.csv"))
	if string(data) != "check,severity,object,message,forest,value,command\n" {
		t.Errorf("failed check CSV = %q, want a header only", data)
	}

	html, _ := os.ReadFile(filepath.Join(dir, "abkit-audit-2026-11-22.html"))
	page := string(html)
	for _, want := range []string{
		`data-check="duplicate-sip" data-count="2"`, `data-check="clean" data-count="0"`,
		"forest resforest: refused", "&lt;script&gt;x&lt;/script&gt;", `<svg id="bar-chart"`, `<svg id="trend-chart"`,
		"last 2 run(s)", "<title>11-20: 3 findings</title>", "<title>11-22: 3 findings</title>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("HTML is not self-contained: contains %q", bad)
		}
	}

	pf, _ := os.Open(filepath.Join(dir, PromFile))
	defer pf.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(pf)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			got[key] = m.GetGauge().GetValue()
		}
	}
	wantMetrics := map[string]float64{
		"abkit_findings/duplicate-sip": 2, "abkit_findings/hidden-sip": 1, "abkit_findings/clean": 0,
		"abkit_check_errors/duplicate-sip": 0, "abkit_check_errors/sidmap": 1, "abkit_check_errors/hidden-sip": 0,
		"abkit_check_errors/clean": 0, "abkit_last_run_timestamp_seconds": float64(testTime.Unix()),
	}
	if len(got) != len(wantMetrics) {
		t.Errorf("metrics = %v", got)
	}
	for k, v := range wantMetrics {
		if got[k] != v {
			t.Errorf("metric %s = %v, want %v", k, got[k], v)
		}
	}
}

func TestReadHistoryOrderAndDamage(t *testing.T) {
	hist := t.TempDir()
	for _, d := range []int{3, 1, 2} {
		rep := sampleReport(t, testTime.AddDate(0, 0, d))
		if _, err := Write(rep, WriteOptions{Dir: t.TempDir(), HistoryDir: hist}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadHistory(hist)
	if err != nil || len(got) != 3 {
		t.Fatalf("ReadHistory = %v, %v", got, err)
	}
	for i, s := range got {
		if s.Time.Day() != 23+i || s.Counts["duplicate-sip"] != 2 || !slices.Equal(s.Failed, []string{"sidmap"}) {
			t.Errorf("summary %d = %+v", i, s)
		}
	}
	if err := os.WriteFile(filepath.Join(hist, "abkit-history-2026-01-01.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadHistory(hist); err == nil || !strings.Contains(err.Error(), "abkit-history-2026-01-01.json") {
		t.Errorf("damaged history: err = %v", err)
	}
}

func TestTrendAxis(t *testing.T) {
	for _, tt := range []struct {
		lo, hi int
		want   axis
	}{
		{0, 0, axis{0, 1, 1}},
		{11, 12, axis{10, 13, 1}},        // the demo's three runs: 11, 11, 12 fill the plot
		{3, 17, axis{0, 20, 5}},          // values that vary a lot start at zero
		{1000, 1010, axis{995, 1015, 5}}, // a large steady count: the change shows
		{0, 4000, axis{0, 5000, 1000}},
	} {
		got := trendAxis(tt.lo, tt.hi)
		if got != tt.want {
			t.Errorf("trendAxis(%d, %d) = %+v, want %+v", tt.lo, tt.hi, got, tt.want)
		}
		if got.min > tt.lo || got.max <= tt.hi || (got.max-got.min)%got.step != 0 || (got.max-got.min)/got.step > 6 {
			t.Errorf("trendAxis(%d, %d) = %+v does not fit the data", tt.lo, tt.hi, got)
		}
	}
}

func TestOneFolderForReportsAndHistory(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []int{0, 1} {
		if _, err := Write(sampleReport(t, testTime.AddDate(0, 0, d)), WriteOptions{Dir: dir, HistoryDir: dir}); err != nil {
			t.Fatal(err)
		}
	}
	sums, err := ReadHistory(dir)
	if err != nil || len(sums) != 2 {
		t.Fatalf("history = %v, %v", sums, err)
	}
	var rep Report
	data, _ := os.ReadFile(filepath.Join(dir, "abkit-audit-2026-11-22.json"))
	if err := json.Unmarshal(data, &rep); err != nil || len(rep.Checks) != 4 {
		t.Errorf("the full report was replaced: %v %+v", err, rep)
	}
}

func TestHTMLCapsRowsPerCheck(t *testing.T) {
	rep := Run(context.Background(), []Check{findingsCheck("many", MaxHTMLRows+7)}, Options{Now: fixedClock})
	page, err := renderHTML(rep, []Summary{SummaryOf(rep)})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), `<tr><td><span class="sev`); n != MaxHTMLRows {
		t.Errorf("%d finding rows, want %d", n, MaxHTMLRows)
	}
	if !strings.Contains(string(page), "7 more finding(s) not shown") {
		t.Error("the page does not say how many findings it left out")
	}
}
