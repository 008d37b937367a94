package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// enforceUsage makes every usage mistake in the command tree under root exit ExitBadInput, with
// a message that names the command and its --help:
//
//   - a group (a command with subcommands and nothing to run of its own) given no subcommand, or
//     an unknown one, fails instead of printing its help and exiting 0 (cobra's default); an
//     unknown subcommand gets cobra's "did you mean" suggestions;
//   - the argument validator of every command reports wrong argument counts as usage errors;
//   - markRan wraps every run function, so that Run can tell cobra's own errors (required flags,
//     flag groups), which happen before the command runs, from the command's errors.
//
// It is applied once, to the finished tree, so that command files need no boilerplate.
func enforceUsage(root *cobra.Command, markRan func()) {
	root.SetHelpCommand(newCmdHelp(root))
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case c.HasSubCommands() && !c.Runnable():
			c.Args = cobra.ArbitraryArgs
			c.RunE = groupRun
			if c.Annotations == nil {
				c.Annotations = map[string]string{}
			}
			c.Annotations[groupAnnotation] = "true"
		case c.Args != nil:
			validate := c.Args
			c.Args = func(cmd *cobra.Command, args []string) error {
				err := validate(cmd, args)
				if err == nil {
					return nil
				}
				if cmd.HasAvailableSubCommands() && len(args) > 0 && hasSuggestions(cmd, args[0]) {
					return unknownCommand(cmd, args[0])
				}
				if exitCode(err) == ExitBadInput {
					return err
				}
				return usageError(cmd, "%v", err)
			}
		}
		if run := c.RunE; run != nil {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				markRan()
				return run(cmd, args)
			}
		} else if run := c.Run; run != nil {
			c.Run = func(cmd *cobra.Command, args []string) {
				markRan()
				run(cmd, args)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// groupAnnotation marks the commands enforceUsage made into pure groups.
const groupAnnotation = "abkit/group"

// groupRun is the run function of a command group: it only ever reports a usage error.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return unknownCommand(cmd, args[0])
	}
	fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
	var names []string
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return usageError(cmd, "missing command: one of %s", strings.Join(names, ", "))
}

// unknownCommand is the usage error for a mistyped command, with cobra's suggestions.
func unknownCommand(cmd *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q", name)
	if s := suggestions(cmd, name); len(s) > 0 {
		for i := range s {
			s[i] = strconv.Quote(s[i])
		}
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError(cmd, "%s", msg)
}

// newCmdHelp replaces cobra's help command, which prints "Unknown help topic" and exits 0.
func newCmdHelp(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return usageError(cmd, "unknown help topic %q", strings.Join(args, " "))
			}
			return target.Help()
		},
	}
}

// suggestions are the subcommands of cmd that name may be a typo of.
func suggestions(cmd *cobra.Command, name string) []string {
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default, set only on its own error path
	}
	return cmd.SuggestionsFor(name)
}

func hasSuggestions(cmd *cobra.Command, name string) bool { return len(suggestions(cmd, name)) > 0 }
