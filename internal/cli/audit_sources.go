package cli

import (
	"context"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/ldapsync"
)

// openForest opens one configured forest: its LDIF snapshot, or a live connection.
func openForest(ctx context.Context, f *Factory, fc *config.Forest) (ldapsync.Source, error) {
	if !fc.Live() {
		return ldapsync.OpenSnapshot(fc.Name, fc.LDIF, fc.Base)
	}
	return nil, badInputf("forest %s: live forests: not wired yet", fc.Name)
}
