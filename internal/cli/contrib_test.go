package cli

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const contribDir = "../../contrib"

// runScheduledCommand runs the abkit arguments of a scheduled job in-process, with the
// configuration replaced by the demo's and the report folders by temporary ones: the command line
// the job ships must parse and run the audit (exit 1: the demo has findings).
func runScheduledCommand(t *testing.T, args []string) {
	t.Helper()
	dir := t.TempDir()
	subst := map[string]string{"--config": demoConfig(t), "--out": filepath.Join(dir, "reports"), "--history": filepath.Join(dir, "history")}
	var run []string
	for i := 0; i < len(args); i++ {
		run = append(run, args[i])
		if v, ok := subst[args[i]]; ok && i+1 < len(args) {
			run = append(run, v)
			i++
			delete(subst, args[i-1])
		}
	}
	if len(subst) != 0 {
		t.Fatalf("%q lacks %v", args, subst)
	}
	_, stderr, code := runCLI(t, run...)
	if code != ExitFindings {
		t.Fatalf("abkit %s: exit %d, want %d; stderr %s", strings.Join(run, " "), code, ExitFindings, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "reports", "abkit.prom")); err != nil {
		t.Errorf("the scheduled audit wrote no reports: %v", err)
	}
	if _, err := os.ReadDir(filepath.Join(dir, "history")); err != nil {
		t.Errorf("the scheduled audit kept no history: %v", err)
	}
}

// TestWindowsScheduledTask: the Task Scheduler definition is well-formed XML in the task schema's
// namespace, runs abkit.exe daily with one instance at a time and a time limit, and its command
// line works.
func TestWindowsScheduledTask(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(contribDir, "windows", "abkit-audit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		if _, err := dec.Token(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
	var task struct {
		XMLName  xml.Name `xml:"http://schemas.microsoft.com/windows/2004/02/mit/task Task"`
		Triggers struct {
			Calendar []struct {
				Start string `xml:"StartBoundary"`
				Days  int    `xml:"ScheduleByDay>DaysInterval"`
			} `xml:"CalendarTrigger"`
		} `xml:"Triggers"`
		Settings struct {
			Instances string `xml:"MultipleInstancesPolicy"`
			Limit     string `xml:"ExecutionTimeLimit"`
		} `xml:"Settings"`
		Exec []struct {
			Command   string `xml:"Command"`
			Arguments string `xml:"Arguments"`
		} `xml:"Actions>Exec"`
	}
	if err := xml.Unmarshal(data, &task); err != nil {
		t.Fatal(err)
	}
	if len(task.Triggers.Calendar) != 1 || task.Triggers.Calendar[0].Days != 1 || !strings.HasSuffix(task.Triggers.Calendar[0].Start, "T06:30:00") {
		t.Errorf("trigger %+v, want daily at 06:30", task.Triggers)
	}
	if task.Settings.Instances != "IgnoreNew" || task.Settings.Limit != "PT2H" {
		t.Errorf("settings %+v", task.Settings)
	}
	if len(task.Exec) != 1 || !strings.HasSuffix(task.Exec[0].Command, `\abkit.exe`) {
		t.Fatalf("actions %+v", task.Exec)
	}
	runScheduledCommand(t, strings.Fields(task.Exec[0].Arguments))
}

// TestSystemdUnits: the service and timer pass `systemd-analyze verify` (when systemd is
// installed) and the service's command line works.
func TestSystemdUnits(t *testing.T) {
	service, err := os.ReadFile(filepath.Join(contribDir, "systemd", "abkit-audit.service"))
	if err != nil {
		t.Fatal(err)
	}
	timer, err := os.ReadFile(filepath.Join(contribDir, "systemd", "abkit-audit.timer"))
	if err != nil {
		t.Fatal(err)
	}
	var execStart []string
	for _, line := range strings.Split(string(service), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			execStart = strings.Fields(v)
		}
	}
	if len(execStart) < 2 || execStart[0] != "/usr/local/bin/abkit" {
		t.Fatalf("ExecStart %q", execStart)
	}
	for _, want := range []string{"Type=oneshot", "SuccessExitStatus=1", "StateDirectory=abkit"} {
		if !strings.Contains(string(service), "\n"+want+"\n") {
			t.Errorf("service lacks %s", want)
		}
	}
	for _, want := range []string{"OnCalendar=*-*-* 06:30:00", "Persistent=true"} {
		if !strings.Contains(string(timer), "\n"+want+"\n") {
			t.Errorf("timer lacks %s", want)
		}
	}
	runScheduledCommand(t, execStart[1:])

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze not installed (Debian package systemd): units not verified")
		}
		t.Skip("systemd-analyze not installed (Debian package systemd): units not verified")
	}
	// verify needs ExecStart's program to exist: point it at this test binary.
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := strings.Replace(string(service), "ExecStart=/usr/local/bin/abkit ", "ExecStart="+self+" ", 1)
	if err := os.WriteFile(filepath.Join(dir, "abkit-audit.service"), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "abkit-audit.timer"), timer, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", "--man=no", "./abkit-audit.timer", "./abkit-audit.service")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "abkit-audit") { // a complaint about our units
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
