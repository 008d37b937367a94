package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams are the standard streams of one run, injected so that commands can be tested.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // data only
	ErrOut io.Writer // messages, warnings, progress

	StdoutTTY bool
	StderrTTY bool
	StdinTTY  bool

	// TerminalWidth is the width of the terminal stdout writes to, 0 when it is not a terminal
	// (or unknown): terminal tables are fitted to it.
	TerminalWidth int
}

// SystemStreams returns the process's streams with terminal detection.
func SystemStreams() *IOStreams {
	s := &IOStreams{
		In:        os.Stdin,
		Out:       os.Stdout,
		ErrOut:    os.Stderr,
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
	}
	if s.StdoutTTY {
		if w, _, err := term.GetSize(int(os.Stdout.Fd())); err == nil {
			s.TerminalWidth = w
		}
	}
	return s
}

// TestStreams returns streams over in-memory buffers, none of them a terminal.
func TestStreams(in io.Reader, out, errOut io.Writer) *IOStreams {
	return &IOStreams{In: in, Out: out, ErrOut: errOut}
}
