//go:build linux

package cli

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/abkit/abkit/abs"
)

// absChildEnv makes the test binary run one abkit command line (its arguments separated by U+001F in
// the variable) and exit with its status: TestAbsHostileChild is that child.
const absChildEnv = "ABKIT_TEST_CHILD_ARGS"

func TestAbsHostileChild(t *testing.T) {
	args := os.Getenv(absChildEnv)
	if args == "" {
		t.Skip("only run as the child of TestAbsHostileFilesMemory")
	}
	code := Run(context.Background(), strings.Split(args, "\x1f"), TestStreams(strings.NewReader(""), io.Discard, os.Stderr))
	// The peak RSS of this process's own memory (VmHWM). rusage's Maxrss would also count the
	// parent's memory, recorded when the child was exec'ed from it.
	if st, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(line, "VmHWM:") {
				fmt.Fprintln(os.Stderr, line)
			}
		}
	}
	// The bytes this process read (read and pread calls): how much of the file it looked at.
	if io, err := os.ReadFile("/proc/self/io"); err == nil {
		for _, line := range strings.Split(string(io), "\n") {
			if strings.HasPrefix(line, "rchar:") {
				fmt.Fprintln(os.Stderr, line)
			}
		}
	}
	os.Exit(code)
}

// runChild runs abkit with args in a child process and returns its exit status, stderr, peak
// RSS in bytes (the child's VmHWM) and the bytes it read (rchar of /proc/self/io).
func runChild(t *testing.T, args ...string) (code int, stderr string, rss, read int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAbsHostileChild$")
	cmd.Env = append(os.Environ(), absChildEnv+"="+strings.Join(args, "\x1f"))
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	kb, read := int64(-1), int64(-1)
	for _, line := range strings.Split(errBuf.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
		if v, ok := strings.CutPrefix(line, "rchar:"); ok {
			read, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	if kb < 0 || read < 0 {
		t.Fatalf("%v: the child reported no VmHWM or rchar: %s", args, errBuf.String())
	}
	return cmd.ProcessState.ExitCode(), errBuf.String(), kb * 1024, read
}

// hostileFile writes the header and table of the F-0A10 sample and a first contact whose Length
// covers the rest of a size-byte file; fill, when not zero, is written for fillLen bytes after
// the contact's fixed part (the rest stays sparse: zeros that take no disk).
func hostileFile(t *testing.T, dir, name string, size int64, first []byte, fillLen int) string {
	t.Helper()
	r, err := abs.Open(absSample("F-0A10.lsabs"))
	if err != nil {
		t.Fatal(err)
	}
	off := r.Layout.ContactsOffset
	r.Close()
	head, err := os.ReadFile(absSample("F-0A10.lsabs"))
	if err != nil {
		t.Fatal(err)
	}
	b := binary.LittleEndian.AppendUint32(bytes.Clone(head[:off]), uint32(size-off-4-4)) // ends where a 0-length trailer would start
	b = append(b, make([]byte, 20)...)
	b = append(b, first...)
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fill := bytes.Repeat([]byte{'A'}, 1<<20)
	_, err = f.Write(b)
	for n := 0; err == nil && n < fillLen; n += len(fill) {
		_, err = f.Write(fill[:min(len(fill), fillLen-n)])
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAbsHostileFilesMemory: files whose first contact claims (nearly) all of a 2 GB file fail
// with exit 2 within 100 MB of peak RSS, whatever the command, having read at most 64 MB of the
// file (bytes read, not wall time, which a loaded machine would make flaky).
func TestAbsHostileFilesMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes sparse 2 GB files")
	}
	if raceEnabled {
		t.Skip("peak RSS under -race is the race detector's shadow memory: scripts/test.sh runs this test again without -race")
	}
	dir := t.TempDir()
	const size = 2 << 30
	files := map[string]string{
		// Zeros after the contact head: an attribute Id byte 0x00 that the table does not have.
		"zeros": hostileFile(t, dir, "zeros.lsabs", size, nil, 0),
		// A title string of 64 MB of 'A' without NUL: longer than one value may be.
		"long string": hostileFile(t, dir, "long.lsabs", size, []byte{4}, 64<<20),
		// Many small valid records, then zeros.
		"records": hostileFile(t, dir, "records.lsabs", size, bytes.Repeat([]byte{4, 'x', 0}, 1), 0),
	}
	for name, path := range files {
		for _, args := range [][]string{
			{"--no-progress", "abs", "info", path},
			{"--no-progress", "abs", "dump", "-o", "json", path},
			{"--no-progress", "abs", "probe", path},
		} {
			code, stderr, rss, read := runChild(t, args...)
			t.Logf("%s, %s: exit %d, peak RSS %.1f MB, %.1f MB read", name, args[2], code, float64(rss)/1e6, float64(read)/1e6)
			if code != ExitBadInput || !strings.Contains(stderr, "offset 0x") {
				t.Errorf("%s, %v: exit %d, stderr %q; want 2 and a positioned error", name, args, code, stderr)
			}
			if rss > 100<<20 {
				t.Errorf("%s, %v: peak RSS %d bytes, want under 100 MB", name, args, rss)
			}
			if read > 64<<20 {
				t.Errorf("%s, %v: read %d bytes of the %d-byte file, want at most 64 MB", name, args, read, int64(size))
			}
		}
	}
}

// TestAbsFIFORefused: a FIFO is refused at once, without blocking on the open.
func TestAbsFIFORefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "F-0A10.lsabs")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, args := range [][]string{{"abs", "info", fifo}, {"abs", "dump", fifo}, {"abs", "probe", fifo},
		{"abs", "apply", fifo, fifo, "-w", fifo + ".out"}, {"phone", "check", fifo}} {
		done := make(chan struct{})
		var code int
		var stderr string
		go func() {
			_, stderr, code = runCLI(t, args...)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: blocked on the FIFO", args)
		}
		if code != ExitBadInput || !strings.Contains(stderr, "not a regular file") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

// TestAbsCanceled: a read stops with the context (Ctrl-C, SIGTERM).
func TestAbsCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := Run(ctx, []string{"abs", "dump", absSample("F-0A10.lsabs")}, TestStreams(strings.NewReader(""), &out, &errOut))
	if code == ExitOK || !strings.Contains(errOut.String(), "context canceled") {
		t.Errorf("canceled dump: exit %d, stderr %q", code, errOut.String())
	}
}
