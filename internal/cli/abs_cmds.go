package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"sync"

	"github.com/abkit/abkit/abs"
	"github.com/abkit/abkit/ldapsync"
	"github.com/spf13/cobra"
)

// addAbsCommands adds the subcommands of `abkit abs`.
func addAbsCommands(cmd *cobra.Command, f *Factory) {
	cmd.AddCommand(
		newCmdAbsInfo(f, nil),
		newCmdAbsDump(f, nil),
		newCmdAbsFind(f, nil),
		newCmdAbsDiff(f, nil),
		newCmdAbsApply(f, nil),
		newCmdAbsProbe(f, nil),
		newCmdAbsGen(f, nil),
	)
}

// addPhoneCommands adds the subcommands of `abkit phone`.
func addPhoneCommands(cmd *cobra.Command, f *Factory) {
	cmd.AddCommand(
		newCmdPhoneTest(f, nil),
		newCmdPhoneCheck(f, nil),
	)
}

// absFile is an address book file opened for a command, with progress in bytes read.
type absFile struct {
	*abs.Reader
	Name abs.FileName // parsed from the file name; zero when it is not an address book name
	Path string

	file *os.File
	pr   ldapsync.Progress
}

// openABS opens an address book file. A missing or unreadable file, one that is not a regular
// file (refused before it is opened: opening a FIFO would block) and a file that does not decode
// are bad input (exit 2); the error names the file. Reading stops with ctx's error once ctx is
// done (Ctrl-C, SIGTERM). On a terminal a progress bar follows the bytes read until Close.
func (f *Factory) openABS(ctx context.Context, path string) (*absFile, error) {
	file, st, err := abs.OpenRegular(path)
	if err != nil {
		return nil, badInput(err)
	}
	pr := f.progressReporter("reading " + filepath.Base(path))
	pr.Start(st.Size(), "bytes")
	rd, err := abs.NewReaderContext(ctx, &progressReaderAt{r: file, pr: pr, ctx: ctx}, st.Size())
	if err != nil {
		pr.Done()
		file.Close()
		return nil, fmt.Errorf("%s: %w", path, err) // FormatError or UnsupportedError: bad input
	}
	name, _ := abs.ParseFileName(path)
	return &absFile{Reader: rd, Name: name, Path: path, file: file, pr: pr}, nil
}

// Close ends the progress bar and closes the file.
func (a *absFile) Close() error {
	a.pr.Done()
	return a.file.Close()
}

// eachContact streams the contacts of a to fn, reusing one Contact (abs.Reader.ContactsReused):
// fn must not keep c past its return (strings in it stay valid). A decoding error is returned
// after fn has seen every contact before it, naming the file (it carries the offset and maps to
// exit 2); an error from fn stops the stream and is returned as it is.
func (a *absFile) eachContact(fn func(c *abs.Contact) error) error {
	return a.walk(a.ContactsReused(), fn)
}

// eachContactTransient is eachContact for fn that is done with c, its strings included, when it
// returns, as output written contact by contact is (abs.Reader.ContactsTransient).
func (a *absFile) eachContactTransient(fn func(c *abs.Contact) error) error {
	return a.walk(a.ContactsTransient(), fn)
}

func (a *absFile) walk(seq iter.Seq2[*abs.Contact, error], fn func(c *abs.Contact) error) error {
	for c, err := range seq {
		if err != nil {
			return fmt.Errorf("%s: %w", a.Path, err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

// rules parses the file's normalization rules block; errors name the file.
func (a *absFile) rules() (abs.Rules, error) {
	rules, err := abs.ParseRules(a.RulesText())
	var re *abs.RuleError
	if errors.As(err, &re) {
		re.File = a.Path + " (rules block)"
	}
	return rules, err
}

// rulesFromABS returns the normalization rules stored in an address book file.
func (f *Factory) rulesFromABS(ctx context.Context, path string) (abs.Rules, error) {
	af, err := f.openABS(ctx, path)
	if err != nil {
		return nil, err
	}
	defer af.Close()
	return af.rules()
}

// progressReaderAt reports the furthest offset read so far to a ldapsync.Progress, and fails
// every read once ctx (when set) is done.
type progressReaderAt struct {
	r   io.ReaderAt
	pr  ldapsync.Progress
	ctx context.Context

	mu sync.Mutex
	hi int64
}

func (p *progressReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if p.ctx != nil {
		if err := p.ctx.Err(); err != nil {
			return 0, err
		}
	}
	n, err := p.r.ReadAt(b, off)
	if end := off + int64(n); n > 0 {
		p.mu.Lock()
		if end > p.hi {
			p.pr.Add(end - p.hi)
			p.hi = end
		}
		p.mu.Unlock()
	}
	return n, err
}
