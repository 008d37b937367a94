package cli

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
)

// passwordSource says where a configured password comes from: the environment variable env,
// else the file file (first line), else a prompt on the terminal. A password never comes from a
// command-line flag.
type passwordSource struct {
	where      string // start of error messages, such as "forest userforest"
	env, file  string // password_env, password_file
	prompt     string // asked on the terminal
	noneHint   string // what to configure, said when there is no terminal to prompt on
	allowEmpty bool   // an empty password is a password (SQL logins); otherwise bad input
}

// readPassword resolves a password from s: bad input when the variable is not set, the file
// cannot be read, there is no terminal to ask on, or the password is empty (unless allowed).
func (f *Factory) readPassword(s passwordSource) (string, error) {
	switch {
	case s.env != "":
		v, ok := os.LookupEnv(s.env)
		if !ok || v == "" && !s.allowEmpty {
			return "", badInputf("%s: password_env names %s, which is not set", s.where, s.env)
		}
		return v, nil
	case s.file != "":
		data, err := os.ReadFile(s.file)
		if err != nil {
			return "", badInputf("%s: password_file: %v", s.where, err)
		}
		pw := strings.TrimRight(strings.SplitN(string(data), "\n", 2)[0], "\r")
		if pw == "" && !s.allowEmpty {
			return "", badInputf("%s: password_file %s is empty", s.where, s.file)
		}
		return pw, nil
	}
	in, ok := f.IO.In.(*os.File)
	if !ok || !f.IO.StdinTTY {
		return "", badInputf("%s: no password: %s", s.where, s.noneHint)
	}
	fmt.Fprint(f.IO.ErrOut, s.prompt)
	b, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(f.IO.ErrOut)
	if err != nil {
		return "", runtimeFailure(fmt.Errorf("reading the password: %w", err))
	}
	if len(b) == 0 && !s.allowEmpty {
		return "", badInputf("%s: empty password", s.where)
	}
	return string(b), nil
}
