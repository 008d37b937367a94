// Command gendocs writes abkit's man pages (section 1, one per command, from the command tree
// with cobra's doc generator) and its shell completion scripts (bash, zsh, fish, PowerShell).
// make dist ships them in every archive:
//
//	go run ./internal/cli/gendocs -man out/man -completions out/completions
//
// The pages' date is $SOURCE_DATE_EPOCH when set (reproducible builds), else today.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/abkit/abkit/internal/cli"
	"github.com/spf13/cobra/doc"
)

func main() {
	man := flag.String("man", "", "folder for the man pages")
	completions := flag.String("completions", "", "folder for the completion scripts")
	flag.Parse()
	if *man == "" && *completions == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: gendocs [-man DIR] [-completions DIR]")
		os.Exit(2)
	}
	if err := run(*man, *completions); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(manDir, completionDir string) error {
	root := cli.CommandTree()
	root.DisableAutoGenTag = true // no "generated on DATE" line: the pages depend on the code only
	if manDir != "" {
		date, err := sourceDate()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(manDir, 0o755); err != nil {
			return err
		}
		header := &doc.GenManHeader{Title: "ABKIT", Section: "1", Source: "abkit", Manual: "abkit manual", Date: &date}
		if err := doc.GenManTree(root, header, manDir); err != nil {
			return fmt.Errorf("man pages: %w", err)
		}
	}
	if completionDir != "" {
		if err := os.MkdirAll(completionDir, 0o755); err != nil {
			return err
		}
		for name, gen := range map[string]func(string) error{
			"abkit.bash": func(p string) error { return root.GenBashCompletionFileV2(p, true) },
			"_abkit":     root.GenZshCompletionFile,
			"abkit.fish": func(p string) error { return root.GenFishCompletionFile(p, true) },
			"abkit.ps1":  root.GenPowerShellCompletionFileWithDesc,
		} {
			if err := gen(filepath.Join(completionDir, name)); err != nil {
				return fmt.Errorf("completion %s: %w", name, err)
			}
		}
	}
	return nil
}

// sourceDate is $SOURCE_DATE_EPOCH (seconds) when set, else now.
func sourceDate() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Now().UTC(), nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}
