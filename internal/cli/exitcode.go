package cli

import (
	"context"
	"errors"
	"fmt"
)

// Exit codes, the only place where they are decided. They are listed in `abkit --help`.
const (
	ExitOK       = 0 // success, nothing to report
	ExitFindings = 1 // the command ran and found problems (duplicates, differences, findings)
	ExitBadInput = 2 // bad usage, bad configuration or input that cannot be decoded
	ExitRuntime  = 3 // a runtime failure: server unreachable, refused, or only partly done
	// ExitInterrupted is for a run stopped by Ctrl-C (SIGINT) or SIGTERM before it finished, the
	// code a shell gives a process killed by SIGINT (128+2). Work already done is as a runtime
	// failure would leave it (journals and undo files are written as the run goes).
	ExitInterrupted = 130
)

const exitStatusHelp = `EXIT STATUS
    0  ok: the command ran and there is nothing to report
    1  findings: the command ran and found problems (duplicates, differences, audit findings)
    2  bad input or usage: unknown command or flag, wrong arguments, bad configuration, a file
       that does not decode (with --strict: an LDIF snapshot record that cannot be read)
    3  runtime or partial failure: a server could not be reached, a change failed or was cut short,
       or records of an LDIF snapshot could not be read and were skipped (partial input)
  130  interrupted: stopped by Ctrl-C (SIGINT) or SIGTERM before it finished`

// errInterrupted marks the error of a run whose context was cancelled by a signal (see Run).
var errInterrupted = errors.New("interrupted")

// interrupted wraps the error of a run stopped by a signal so that it exits ExitInterrupted,
// whatever error the cancelled operation happened to return.
func interrupted(err error) error {
	return fmt.Errorf("%w: %w", errInterrupted, err)
}

// exitError carries an explicit exit code chosen by a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badInput marks err as bad input or usage (exit 2).
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: ExitBadInput, err: err}
}

// badInputf formats a bad-input error (exit 2).
func badInputf(format string, args ...any) error {
	return badInput(fmt.Errorf(format, args...))
}

// runtimeFailure marks err as a runtime or partial failure (exit 3).
func runtimeFailure(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: ExitRuntime, err: err}
}

// partialInput marks a command's result as partial: it ran on input with skipped records
// (exit 3). A command that failed keeps its own error.
func partialInput(err error, msg string) error {
	if err != nil && exitCode(err) != ExitFindings {
		return err
	}
	return runtimeFailure(errors.New(msg))
}

// findingsError reports that a command ran and found problems (exit 1). Its message is printed
// on stderr; the findings themselves are already on stdout.
type findingsError struct {
	count int
	what  string
}

func (e *findingsError) Error() string { return fmt.Sprintf("%d %s", e.count, e.what) }

// findings returns nil when count is zero, otherwise an error that exits 1.
func findings(count int, what string) error {
	if count == 0 {
		return nil
	}
	return &findingsError{count: count, what: what}
}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, errInterrupted) || errors.Is(err, context.Canceled) {
		return ExitInterrupted
	}
	var fe *findingsError
	if errors.As(err, &fe) {
		return ExitFindings
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var be interface{ BadInput() bool }
	if errors.As(err, &be) && be.BadInput() {
		return ExitBadInput
	}
	return ExitRuntime
}
