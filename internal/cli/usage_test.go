package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// positionalArgs counts the required positional arguments a command's Use line names: the
// upper-case words (FILE, OLD, PLAN.json) before the first flag or optional part.
func positionalArgs(c *cobra.Command) int {
	n := 0
	for _, w := range strings.Fields(c.Use)[1:] {
		if !positionalWord.MatchString(w) {
			break
		}
		n++
	}
	return n
}

var positionalWord = regexp.MustCompile(`^[A-Z][A-Za-z0-9._]*$`)

// commandTree returns every command under a freshly built root (as Run builds it), groups and
// leaves apart, by command path without the leading "abkit".
func commandTree(t *testing.T) (groups, leaves map[string]*cobra.Command) {
	t.Helper()
	root := newRootCmd(&Factory{IO: TestStreams(strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})})
	enforceUsage(root, func() {})
	groups, leaves = map[string]*cobra.Command{}, map[string]*cobra.Command{}
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.HasSubCommands() {
			groups[strings.Join(path, " ")] = c
		} else {
			leaves[strings.Join(path, " ")] = c
		}
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string(nil), path...), sub.Name()))
		}
	}
	walk(root, nil)
	if len(leaves) < 30 {
		t.Fatalf("only %d leaf commands found", len(leaves))
	}
	return groups, leaves
}

func placeholders(n int) []string {
	args := make([]string, n)
	for i := range args {
		args[i] = fmt.Sprintf("/nonexistent/abkit-arg-%d", i)
	}
	return args
}

// TestUsageErrorsEveryLeaf walks the whole command tree: every leaf rejects an unknown flag and a
// wrong number of arguments with exit 2 and a pointer to its --help, before doing any work.
func TestUsageErrorsEveryLeaf(t *testing.T) {
	_, leaves := commandTree(t)
	for path, c := range leaves {
		words := strings.Fields(path)
		n := positionalArgs(c)
		cases := []struct {
			name string
			args []string
			want string
		}{
			{"unknown flag", append(append(words, placeholders(n)...), "--no-such-flag"), "unknown flag: --no-such-flag"},
			{"one argument too many", append(words, placeholders(n+1)...), "--help"},
		}
		if n > 0 {
			cases = append(cases, struct {
				name string
				args []string
				want string
			}{"one argument too few", append(words, placeholders(n-1)...), "--help"})
		}
		for _, tc := range cases {
			t.Run(path+"/"+tc.name, func(t *testing.T) {
				stdout, stderr, code := runCLI(t, tc.args...)
				if code != ExitBadInput {
					t.Fatalf("abkit %s: exit %d, want %d; stderr %q", strings.Join(tc.args, " "), code, ExitBadInput, stderr)
				}
				if !strings.Contains(stderr, tc.want) {
					t.Errorf("abkit %s: stderr %q lacks %q", strings.Join(tc.args, " "), stderr, tc.want)
				}
				if stdout != "" {
					t.Errorf("abkit %s: a usage error wrote to stdout: %q", strings.Join(tc.args, " "), stdout)
				}
			})
		}
	}
}

// TestUsageErrorsEveryGroup: every command group (abkit itself included) fails with exit 2 when
// given an unknown subcommand or none, and suggests the subcommand a typo was meant to be.
func TestUsageErrorsEveryGroup(t *testing.T) {
	groups, _ := commandTree(t)
	for path, g := range groups {
		words := strings.Fields(path)
		t.Run(path+"/unknown", func(t *testing.T) {
			_, stderr, code := runCLI(t, append(words, "no-such-command")...)
			want := `unknown command "no-such-command"`
			if g.Annotations[groupAnnotation] == "" { // a command of its own with subcommands (dupes): its own argument check
				want = `unexpected argument "no-such-command"`
			}
			if code != ExitBadInput || !strings.Contains(stderr, want) {
				t.Errorf("abkit %s no-such-command: exit %d, stderr %q", path, code, stderr)
			}
		})
		t.Run(path+"/missing", func(t *testing.T) {
			if g.Annotations[groupAnnotation] == "" {
				t.Skip("a command of its own (dupes finds duplicates); its subcommands are optional")
			}
			_, stderr, code := runCLI(t, words...)
			if code != ExitBadInput || !strings.Contains(stderr, "missing command") {
				t.Errorf("abkit %s: exit %d, stderr %q", path, code, stderr)
			}
		})
		for _, sub := range g.Commands() {
			name := sub.Name()
			if len(name) < 4 || !sub.IsAvailableCommand() {
				continue
			}
			typo := name[:len(name)-1]
			t.Run(path+"/typo "+typo, func(t *testing.T) {
				_, stderr, code := runCLI(t, append(words, typo, "x")...)
				if code != ExitBadInput || !strings.Contains(stderr, fmt.Sprintf("did you mean %q", name)) &&
					!strings.Contains(stderr, fmt.Sprintf("%q or", name)) && !strings.Contains(stderr, fmt.Sprintf("or %q", name)) {
					t.Errorf("abkit %s %s x: exit %d, stderr %q", path, typo, code, stderr)
				}
			})
		}
	}
}

// TestIssueUsageExamples pins the command lines of issue 14 that used to exit 0 or 3.
func TestIssueUsageExamples(t *testing.T) {
	for _, args := range [][]string{
		{"bogus"}, {"abs", "dump"}, {"sidmap", "verfy"}, {"abs", "dmp", "x"}, {"abs"}, {},
		{"help", "bogus"}, {"abs", "dump", "a", "b"}, {"--output", "xml", "version"},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != ExitBadInput {
			t.Errorf("abkit %s: exit %d, want %d; stderr %q", strings.Join(args, " "), code, ExitBadInput, stderr)
		}
	}
	if _, stderr, _ := runCLI(t, "sidmap", "verfy"); !strings.Contains(stderr, `did you mean "verify"?`) {
		t.Errorf("no suggestion: %q", stderr)
	}
	for _, args := range [][]string{{"--help"}, {"abs", "--help"}, {"help", "abs"}, {"completion", "bash"}} {
		if stdout, stderr, code := runCLI(t, args...); code != ExitOK || stdout == "" {
			t.Errorf("abkit %s: exit %d; stderr %q", strings.Join(args, " "), code, stderr)
		}
	}
}

// TestInterruptedRunExitCode: a run whose context is cancelled exits ExitInterrupted, whatever
// error the interrupted operation returned.
func TestInterruptedRunExitCode(t *testing.T) {
	if got := exitCode(interrupted(runtimeFailure(errors.New("read: connection reset")))); got != ExitInterrupted {
		t.Errorf("interrupted runtime failure: exit %d", got)
	}
	if got := exitCode(interrupted(findings(2, "x"))); got != ExitInterrupted {
		t.Errorf("interrupted findings: exit %d", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	cfg := filepath.Join(t.TempDir(), "abkit.yaml")
	ln, _ := hangingListener(t)
	writeFile(t, cfg, fmt.Sprintf("forests:\n  - name: f\n    url: ldap://%s\n    base: dc=x\n    bind: {method: none}\n", ln))
	code := Run(ctx, []string{"ldap", "ping", "--config", cfg, "--forest", "f"}, TestStreams(strings.NewReader(""), &out, &errOut))
	if code != ExitInterrupted || !strings.Contains(errOut.String(), "interrupted") {
		t.Errorf("cancelled run: exit %d, stderr %q", code, errOut.String())
	}
}

// hangingListener accepts LDAP connections and never answers; it returns its address and a
// channel closed at the first connection.
func hangingListener(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done, accepted := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if len(conns) == 0 {
				close(accepted)
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String(), accepted
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMainProcess is not a test: TestSignalExitCode runs the test binary as abkit through it.
func TestMainProcess(t *testing.T) {
	if os.Getenv("ABKIT_TEST_MAIN") != "1" {
		t.Skip("helper process for TestSignalExitCode")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			os.Args = append([]string{"abkit"}, args[i+1:]...)
			break
		}
	}
	os.Exit(Main())
}

// TestSignalExitCode sends SIGINT and SIGTERM to a real abkit process stuck on a server that
// never answers: it must stop and exit ExitInterrupted, not ExitRuntime.
func TestSignalExitCode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no SIGINT to send to another process; Ctrl-C reaches abkit as os.Interrupt")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			addr, connected := hangingListener(t)
			cfg := filepath.Join(t.TempDir(), "abkit.yaml")
			writeFile(t, cfg, fmt.Sprintf("forests:\n  - name: f\n    url: ldap://%s\n    base: dc=x\n    bind: {method: none}\n", addr))
			cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$", "--", "ldap", "ping", "--config", cfg, "--forest", "f")
			cmd.Env = append(os.Environ(), "ABKIT_TEST_MAIN=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select { // abkit is running (its signal handler set up) once it has connected
			case <-connected:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("abkit did not connect within 60s")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			timer := time.AfterFunc(20*time.Second, func() { _ = cmd.Process.Kill() })
			defer timer.Stop()
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted {
				t.Fatalf("after %v: %v, want exit %d; stderr %q", sig, err, ExitInterrupted, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("stderr %q does not say interrupted", stderr.String())
			}
		})
	}
}
