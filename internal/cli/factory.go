package cli

import (
	"errors"
	"os"

	"github.com/abkit/abkit/internal/config"
)

// errNoConfig is returned when a command needs the configuration file and none was named.
var errNoConfig = badInput(errors.New("no configuration file: pass --config FILE or set " + config.EnvVar))

// loadConfig reads the configuration named by --config or $ABKIT_CONFIG.
func (f *Factory) loadConfig() (*config.Config, error) {
	path := f.ConfigPath
	if path == "" {
		path = os.Getenv(config.EnvVar)
	}
	if path == "" {
		return nil, errNoConfig
	}
	return config.Load(path)
}
