package cli

import (
	"context"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// auditChromiumPath returns the headless browser for the HTML report test: $ABKIT_CHROMIUM, else
// /usr/bin/chromium, else chromium on PATH. Missing, the test fails under CI=true and skips
// otherwise (scripts/ensure-chromium.sh installs it).
func auditChromiumPath(t *testing.T) string {
	t.Helper()
	candidates := []string{os.Getenv("ABKIT_CHROMIUM"), "/usr/bin/chromium"}
	if p, err := exec.LookPath("chromium"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c
		}
	}
	msg := "headless Chromium not found (set ABKIT_CHROMIUM, or run scripts/ensure-chromium.sh to install the Debian package chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// auditArtifactDir is where tests keep files for people to look at: $ABKIT_ARTIFACTS, else
// out/test-artifacts at the repository root (ignored by git).
func auditArtifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ABKIT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "out", "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// auditRunChromium runs headless Chromium with a throwaway profile and no network activity of its own.
func auditRunChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// demoErrors are the findings of severity error among demoCounts; the others are warnings.
var demoErrors = map[string]int{"duplicate-sip": 3, "sidmap": 2, "abs-freshness": 1}

func TestAuditHTMLInChromium(t *testing.T) {
	bin := auditChromiumPath(t)
	// Three daily runs on the demo data, so that the trend has points.
	hist, out := t.TempDir(), t.TempDir()
	for d := range 3 {
		if _, stderr, code := runAudit(t, demoConfig(t), demoRunTime.AddDate(0, 0, d-2), "--out", out, "--history", hist); code != ExitFindings {
			t.Fatalf("audit run %d: exit %d: %s", d, code, stderr)
		}
	}
	report := filepath.Join(out, "abkit-audit-2026-11-22.html")
	url := "file://" + report

	dom := string(auditRunChromium(t, bin, "--dump-dom", url))
	total := 0
	for _, c := range demoCounts {
		total += c.count
		row := regexp.MustCompile(fmt.Sprintf(`<tr data-check="%s" data-count="%d"><td><a href="#check-%s">%s</a></td><td>[^<]+</td><td class="count">%d</td>`,
			regexp.QuoteMeta(c.check), c.count, regexp.QuoteMeta(c.check), regexp.QuoteMeta(c.check), c.count))
		if !row.MatchString(dom) {
			t.Errorf("rendered summary lacks %s with %d findings", c.check, c.count)
		}
		section := regexp.MustCompile(fmt.Sprintf(`<section class="check" id="check-%s"[^>]*>\s*<header><h3>%s</h3><span><strong class="count">%d</strong>`,
			regexp.QuoteMeta(c.check), regexp.QuoteMeta(c.check), c.count))
		if !section.MatchString(dom) {
			t.Errorf("rendered details lack the section of %s with %d findings", c.check, c.count)
		}
		rects := "+" // a check without findings (snapshot-records on the demo) has no bar to draw
		if c.count == 0 {
			rects = "*"
		}
		bar := regexp.MustCompile(fmt.Sprintf(`>%s</text>(\s*<rect [^>]*>(<title>[^<]*</title>)?</rect>)%s\s*<text [^>]*>%d</text>`, regexp.QuoteMeta(c.check), rects, c.count))
		if !bar.MatchString(dom) {
			t.Errorf("rendered bar chart lacks %s = %d", c.check, c.count)
		}
		// The bar is coloured by severity: a red part for errors, an amber part for warnings.
		segments := regexp.MustCompile(fmt.Sprintf(`<rect class="bar-(error|warning)" data-severity="(?:error|warning)" data-count="(\d+)"[^>]* fill="(#[0-9a-f]{6})"><title>%s: `, regexp.QuoteMeta(c.check)))
		bySeverity := map[string]int{}
		for _, m := range segments.FindAllStringSubmatch(dom, -1) {
			var n int
			fmt.Sscan(m[2], &n)
			bySeverity[m[1]] += n
			if want := map[string]string{"error": "#c62828", "warning": "#e69500"}[m[1]]; m[3] != want {
				t.Errorf("%s %s bar part is %s, want %s", c.check, m[1], m[3], want)
			}
		}
		if bySeverity["error"] != demoErrors[c.check] || bySeverity["error"]+bySeverity["warning"] != c.count {
			t.Errorf("%s bar parts %v, want %d errors of %d", c.check, bySeverity, demoErrors[c.check], c.count)
		}
	}
	if !regexp.MustCompile(fmt.Sprintf(`id="total-findings"><div class="n">%d</div>`, total)).MatchString(dom) {
		t.Errorf("rendered page does not show the total of %d findings", total)
	}
	if n := strings.Count(dom, "<circle"); n != 3 {
		t.Errorf("trend shows %d runs, want 3", n)
	}
	// The trend's y axis fits the runs' totals (11, 11, 12): ticks 10 to 13, not 0 to 20.
	var ticks []string
	for _, m := range regexp.MustCompile(`text-anchor="end" font-size="12" fill="#52606d">(\d+)</text>`).FindAllStringSubmatch(dom, -1) {
		ticks = append(ticks, m[1])
	}
	if got := strings.Join(ticks, ","); got != "10,11,12,13" {
		t.Errorf("trend y axis ticks %s, want 10,11,12,13", got)
	}
	// Each finding says what to run, with the configuration the audit used.
	cfg := regexp.QuoteMeta(demoConfig(t))
	for _, want := range []string{
		`<td class="cmd" colspan="2"><code>abkit dupes fix --config ` + cfg + `</code></td>`,
		`<td class="cmd" colspan="2"><code>abkit sidmap plan --config ` + cfg + ` --base 'cn=Grace Green,ou=Users,dc=resforest,dc=test'</code></td>`,
		`<td class="cmd" colspan="2"><code>abkit ldap find --config ` + cfg + ` --forest userforest --name 'Oscar Olsen'</code></td>`,
		`<td class="cmd" colspan="2"><code>abkit phone test --rules [^<]+Company_Phone_Number_Normalization_Rules.txt '\+44 20 7946 0958'</code></td>`,
	} {
		if !regexp.MustCompile(want).MatchString(dom) {
			t.Errorf("rendered page lacks the command %s", want)
		}
	}
	if n := strings.Count(dom, `<td class="cmd" colspan="2"><code>abkit `); n != total {
		t.Errorf("%d findings show a command, want all %d", n, total)
	}
	// The footer names the configuration and every input.
	if !regexp.MustCompile(`<footer id="inputs">[\s\S]*<code id="config-path">` + cfg + `</code>`).MatchString(dom) {
		t.Error("footer does not name the configuration file")
	}
	for _, in := range []string{`<td>forest</td><td>userforest</td><td class="obj">[^<]+userforest.ldif</td>`,
		`<td>forest</td><td>resforest</td><td class="obj">[^<]+resforest.ldif</td>`,
		`<td>address book folder</td><td></td><td class="obj">[^<]+abs</td>`} {
		if !regexp.MustCompile(`<tr class="input">` + in).MatchString(dom) {
			t.Errorf("footer lacks the input %s", in)
		}
	}

	shot := filepath.Join(auditArtifactDir(t), "audit-report.png")
	auditRunChromium(t, bin, "--screenshot="+shot, "--window-size=1280,2000", url)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2000 {
		t.Errorf("screenshot is %dx%d, want 1280x2000", b.Dx(), b.Dy())
	}
	// A page that rendered has text and charts: many distinct colours, not a blank canvas.
	colours := map[uint32]bool{}
	for y := 0; y < img.Bounds().Dy(); y += 7 {
		for x := 0; x < img.Bounds().Dx(); x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours: the page looks blank", len(colours))
	}
	// The error parts of the bars are drawn in red, the warnings in amber.
	for name, rgb := range map[string]uint32{"red (errors)": 0xc62828, "amber (warnings)": 0xe69500} {
		if !colours[rgb] {
			t.Errorf("screenshot has no %s bar pixel #%06x", name, rgb)
		}
	}
	t.Logf("screenshot kept at %s", shot)
}
