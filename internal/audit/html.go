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

type bar struct {
	Name          string
	Count         int
	Failed        bool
	Y, Width      int
	TextY, CountX int
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
	Max           int // the value at the top of the y axis
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
	max := 1
	for _, c := range rep.Checks {
		if c.Count > max {
			max = c.Count
		}
	}
	ch := barChart{LabelWidth: barLabelWidth, BarHeight: barHeight, Width: barLabelWidth + barWidth + 60}
	for i, c := range rep.Checks {
		y := 10 + i*(barHeight+barGap)
		w := c.Count * barWidth / max
		if c.Count > 0 && w < 2 {
			w = 2
		}
		ch.Bars = append(ch.Bars, bar{
			Name: c.Name, Count: c.Count, Failed: c.Failed(),
			Y: y, Width: w, TextY: y + barHeight/2 + 5, CountX: barLabelWidth + w + 8,
		})
	}
	ch.Height = 20 + len(rep.Checks)*(barHeight+barGap)
	return ch
}

// trendOf lays out total findings over the last maxTrendRuns runs.
func trendOf(history []Summary) trendChart {
	if len(history) > maxTrendRuns {
		history = history[len(history)-maxTrendRuns:]
	}
	tc := trendChart{Width: trendWidth, Height: trendHeight, Runs: len(history),
		Left: trendPad, Top: trendPad, Right: trendWidth - trendPad, Bottom: trendHeight - trendPad}
	highest := 0
	for _, s := range history {
		highest = max(highest, s.Findings)
	}
	tc.Max = axisMax(highest)
	plotW := float64(tc.Right - tc.Left)
	plotH := float64(tc.Bottom - tc.Top)
	yOf := func(v int) float64 { return float64(tc.Bottom) - plotH*float64(v)/float64(tc.Max) }
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
	for _, v := range []int{0, tc.Max / 2, tc.Max} {
		tc.YAxis = append(tc.YAxis, trendTick{Y: yOf(v), Label: v})
	}
	return tc
}

// axisMax returns the top of a y axis for values up to v: the smallest 2, 5 or 10 times a
// power of ten that leaves about 15% headroom above v.
func axisMax(v int) int {
	want := v + (v*15+99)/100
	for p := 1; ; p *= 10 {
		for _, m := range []int{2, 5, 10} {
			if m*p >= want {
				return m * p
			}
		}
	}
}
