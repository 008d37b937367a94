package audit

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"time"
)

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"utc": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}).Parse(reportTemplateText))

// MaxHTMLRows caps the findings listed per check in the HTML report; the CSV and JSON files
// always hold every finding.
const MaxHTMLRows = 500

// Chart geometry, in SVG user units.
const (
	barLabelWidth = 190
	barWidth      = 560
	barHeight     = 22
	barGap        = 8
	trendWidth    = 1000
	trendHeight   = 220
	trendPad      = 40
	maxTrendRuns  = 60
)

type htmlPage struct {
	Report  *Report
	Bars    barChart
	Trend   trendChart
	Checks  []htmlCheck
	Failed  int
	Clean   bool
	MaxRows int
}

type htmlCheck struct {
	*Result
	Shown []Finding
	More  int // findings not shown
}

// bar is one check's bar: its error findings (red) then its warnings (amber), end to end.
type bar struct {
	Name             string
	Count            int
	Errors, Warnings int
	Failed           bool
	Y, Width         int
	ErrorWidth       int // of the red part; the amber part starts at LabelWidth+ErrorWidth
	WarnX, WarnWidth int
	TextY, CountX    int
}

type barChart struct {
	Bars          []bar
	Width, Height int
	LabelWidth    int
	BarHeight     int
}

type trendPoint struct {
	X, Y     float64
	Findings int
	Label    string // date
	ShowText bool
}

type trendChart struct {
	Points        []trendPoint
	Polyline      string
	Width, Height int
	Left, Top     int // plot area corners, in SVG units
	Right, Bottom int
	Min, Max      int // the values at the bottom and top of the y axis
	YAxis         []trendTick
	Runs          int
}

type trendTick struct {
	Y     float64
	Label int
}

// renderHTML renders the self-contained HTML report: no scripts, no external resources, charts
// as inline SVG.
func renderHTML(rep *Report, history []Summary) ([]byte, error) {
	page := htmlPage{Report: rep, MaxRows: MaxHTMLRows, Bars: barsOf(rep), Trend: trendOf(history)}
	for i := range rep.Checks {
		c := &rep.Checks[i]
		hc := htmlCheck{Result: c, Shown: c.Findings}
		if len(hc.Shown) > MaxHTMLRows {
			hc.Shown, hc.More = hc.Shown[:MaxHTMLRows], len(hc.Shown)-MaxHTMLRows
		}
		page.Checks = append(page.Checks, hc)
		if c.Failed() {
			page.Failed++
		}
	}
	page.Clean = rep.Findings == 0 && page.Failed == 0
	var b bytes.Buffer
	if err := reportTemplate.Execute(&b, page); err != nil {
		return nil, fmt.Errorf("audit: render HTML: %w", err)
	}
	return b.Bytes(), nil
}

func barsOf(rep *Report) barChart {
	most := 1
	for _, c := range rep.Checks {
		most = max(most, c.Count)
	}
	ch := barChart{LabelWidth: barLabelWidth, BarHeight: barHeight, Width: barLabelWidth + barWidth + 60}
	for i, c := range rep.Checks {
		y := 10 + i*(barHeight+barGap)
		b := bar{Name: c.Name, Count: c.Count, Failed: c.Failed(), Y: y, TextY: y + barHeight/2 + 5}
		for _, f := range c.Findings {
			if f.Severity == SeverityError {
				b.Errors++
			} else {
				b.Warnings++
			}
		}
		b.ErrorWidth = segmentWidth(b.Errors, most)
		b.WarnWidth = segmentWidth(b.Warnings, most)
		b.Width = b.ErrorWidth + b.WarnWidth
		b.WarnX = barLabelWidth + b.ErrorWidth
		b.CountX = barLabelWidth + b.Width + 8
		ch.Bars = append(ch.Bars, b)
	}
	ch.Height = 20 + len(rep.Checks)*(barHeight+barGap)
	return ch
}

// segmentWidth is the bar length of n findings when most findings fill barWidth; at least 2
// units for one finding, so that it shows.
func segmentWidth(n, most int) int {
	if n == 0 {
		return 0
	}
	return max(2, n*barWidth/most)
}

// trendOf lays out total findings over the last maxTrendRuns runs. The y axis fits the data:
// from zero when the values vary a lot, else from a round number just below the lowest run, so
// that a change from 1000 to 1010 findings is visible; ticks are whole numbers at a round step.
func trendOf(history []Summary) trendChart {
	if len(history) > maxTrendRuns {
		history = history[len(history)-maxTrendRuns:]
	}
	tc := trendChart{Width: trendWidth, Height: trendHeight, Runs: len(history),
		Left: trendPad, Top: trendPad, Right: trendWidth - trendPad, Bottom: trendHeight - trendPad}
	lowest, highest := 0, 0
	for i, s := range history {
		if i == 0 || s.Findings < lowest {
			lowest = s.Findings
		}
		highest = max(highest, s.Findings)
	}
	axis := trendAxis(lowest, highest)
	tc.Min, tc.Max = axis.min, axis.max
	plotW := float64(tc.Right - tc.Left)
	plotH := float64(tc.Bottom - tc.Top)
	yOf := func(v int) float64 { return float64(tc.Bottom) - plotH*float64(v-tc.Min)/float64(tc.Max-tc.Min) }
	labelEvery := 1 + len(history)/12
	var poly bytes.Buffer
	for i, s := range history {
		x := float64(tc.Left) + plotW/2
		if len(history) > 1 {
			x = float64(tc.Left) + plotW*float64(i)/float64(len(history)-1)
		}
		p := trendPoint{X: x, Y: yOf(s.Findings), Findings: s.Findings, Label: s.Time.UTC().Format("01-02"),
			ShowText: i%labelEvery == 0 || i == len(history)-1}
		tc.Points = append(tc.Points, p)
		fmt.Fprintf(&poly, "%.1f,%.1f ", p.X, p.Y)
	}
	tc.Polyline = poly.String()
	for v := tc.Min; v <= tc.Max; v += axis.step {
		tc.YAxis = append(tc.YAxis, trendTick{Y: yOf(v), Label: v})
	}
	return tc
}

type axis struct{ min, max, step int }

// trendAxis returns a y axis for values from lo to hi: a round step (1, 2 or 5 times a power of
// ten) giving at most 5 intervals, the top the first step above hi with some headroom, the bottom
// zero unless lo is more than half of hi, then the last step at or below lo minus a step.
func trendAxis(lo, hi int) axis {
	bottom := 0
	if hi > 0 && lo*2 > hi {
		bottom = lo
	}
	span := max(hi-bottom, 1)
	step := 1
	for p := 1; ; p *= 10 {
		found := false
		for _, m := range []int{1, 2, 5} {
			if m*p*4 >= span {
				step, found = m*p, true
				break
			}
		}
		if found {
			break
		}
	}
	a := axis{step: step}
	if bottom > 0 {
		a.min = max(0, (bottom/step-1)*step)
	}
	a.max = (hi/step + 1) * step
	return a
}
