// Command abkit is a toolkit for the address book of Office Communications Server 2007 R2 and its
// Lync / Skype for Business successors, and for the Active Directory behind it.
package main

import (
	"os"

	"github.com/abkit/abkit/internal/cli"
)

func main() { os.Exit(cli.Main()) }
