package cli

import "github.com/spf13/cobra"

// Command groups. Each group's subcommands live in files named after the group (abs_*.go, ...).

func newCmdAbs(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "abs",
		Short: "Decode, search, diff and write address book files (.lsabs, .dabs)",
		Long: `Read the binary address book files that the OCS Address Book Server writes every day
(F-XXXX.lsabs full files, D-XXXX-YYYY.lsabs deltas, C-XXXX-YYYY.lsabs compact deltas, .dabs device
files), offline and on any operating system.`,
	}
	addAbsCommands(cmd, f)
	return cmd
}

func newCmdPhone(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "phone",
		Short: "Test phone numbers against the address book normalization rules",
	}
	addPhoneCommands(cmd, f)
	return cmd
}
