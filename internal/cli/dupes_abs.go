package cli

import (
	"github.com/abkit/abkit/abs"
	"github.com/abkit/abkit/internal/dupes"
)

// openAddressBook selects the address book input: --abs, --abs-folder, else the configured
// folder (unless --no-abs).
func (s *dupesSession) openAddressBook(fl *dupesSourceFlags) error {
	folder := fl.ABSFolder
	if folder == "" && fl.ABSFile == "" && !fl.NoABS && s.cfg != nil && s.cfg.ABS != nil {
		folder = s.cfg.ABS.Folder
	}
	var (
		b   *dupes.ABSFile
		err error
	)
	switch {
	case fl.NoABS:
		return nil
	case fl.ABSFile != "":
		b, err = dupes.OpenABSFile(fl.ABSFile)
	case folder != "":
		b, err = dupes.OpenABSFolder(folder)
	default:
		return nil
	}
	if err != nil {
		return badInput(err)
	}
	s.inputs.AddressBook = b
	s.book = b
	return nil
}

// openRules picks the phone normalization rules: --rules, abs.rules, the address book file's own
// rules, else the E164 rule.
func (s *dupesSession) openRules(fl *dupesSourceFlags) error {
	path := fl.Rules
	if path == "" && s.cfg != nil && s.cfg.ABS != nil {
		path = s.cfg.ABS.Rules
	}
	var (
		rules abs.Rules
		err   error
	)
	switch {
	case path != "":
		rules, err = abs.ReadRulesFile(path)
	case s.book != nil && s.book.RulesText() != "":
		rules, err = abs.ParseRules(s.book.RulesText())
	default:
		s.inputs.Normalizer = dupes.E164{}
		return nil
	}
	if err != nil {
		return badInput(err)
	}
	s.inputs.Normalizer = dupes.Rules{Rules: rules}
	return nil
}
