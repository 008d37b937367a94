package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/abkit/abkit/abs"
)

// TestAbsApplyBadInput: a delta that does not fit or a full file that does not decode is exit 2
// with the file, the offset and the contact named, and OUT is not written.
func TestAbsApplyBadInput(t *testing.T) {
	dir := t.TempDir()
	fx := abs.Generate(abs.GenOptions{Contacts: 40, Seed: 3, Day: 0x0A10})
	d, err := abs.Diff(fx, abs.NextDay(fx, abs.ChangeOptions{Seed: 4}), false)
	if err != nil {
		t.Fatal(err)
	}
	missing := abs.GUID{0xFF, 0xEE}
	d.Contacts = append(d.Contacts, &abs.Contact{ID: missing})
	write := func(name string, b *abs.Book) string {
		var buf bytes.Buffer
		if err := abs.Write(&buf, b); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full, delta := write("F-0A10.lsabs", fx), write("D-0A10-0A11.lsabs", d)
	data, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken-F-0A10.lsabs")
	if err := os.WriteFile(broken, data[:len(data)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.lsabs")
	for _, tt := range []struct {
		name, full string
		want       []string
	}{
		{"deletes a missing contact", full, []string{delta + ": abs: apply: offset 0x", missing.String(), "does not have it"}},
		{"full file does not decode", broken, []string{broken + ": abs: "}},
	} {
		_, stderr, code := runCLI(t, "--no-progress", "abs", "apply", tt.full, delta, "-w", out)
		if code != ExitBadInput {
			t.Errorf("%s: exit %d, want 2: %s", tt.name, code, stderr)
		}
		for _, w := range tt.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q does not name %q", tt.name, stderr, w)
			}
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: OUT was written", tt.name)
		}
	}
}

// TestAbsApplyErrorCodes: a failure to write OUT is a runtime failure (exit 3), a record that
// cannot be applied bad input (exit 2) naming its file.
func TestAbsApplyErrorCodes(t *testing.T) {
	opts := &absApplyOptions{FullPath: "F", DeltaPath: "D", Out: "OUT"}
	for _, tt := range []struct {
		err  error
		code int
		want string
	}{
		{&abs.WriteError{Err: errors.New("no space left on device")}, ExitRuntime, "write OUT: no space left on device"},
		{&abs.ApplyError{Delta: true, Offset: 9, Reason: "x"}, ExitBadInput, "D: abs: apply: offset 0x9"},
		{&abs.ApplyError{Offset: 9, Reason: "x"}, ExitBadInput, "F: abs: apply: offset 0x9"},
		{&abs.SideError{New: true, Err: &abs.FormatError{Offset: 5}}, ExitBadInput, "D: abs: offset 0x5"},
	} {
		err := applyError(opts, tt.err)
		if exitCode(err) != tt.code || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%T: exit %d, %q; want %d, %q", tt.err, exitCode(err), err, tt.code, tt.want)
		}
	}
}
