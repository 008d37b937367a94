package cli

import "github.com/spf13/cobra"

// addAbsCommands adds the subcommands of `abkit abs`.
func addAbsCommands(cmd *cobra.Command, f *Factory) {}

// addPhoneCommands adds the subcommands of `abkit phone`.
func addPhoneCommands(cmd *cobra.Command, f *Factory) {}
