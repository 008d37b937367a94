package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/abkit/abkit/ldapsync"
	"github.com/spf13/cobra"
)

func newCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration file",
	}
	cmd.AddCommand(newCmdConfigCheck(f, nil))
	return cmd
}

type configCheckOptions struct {
	f                 *Factory
	AllowInsecureBind bool
}

func newCmdConfigCheck(f *Factory, runF func(*configCheckOptions) error) *cobra.Command {
	opts := &configCheckOptions{f: f}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and try every forest",
		Long: withExitStatus(`Validate the configuration file (--config or $ABKIT_CONFIG), then open every forest: connect,
secure and bind to live ones (and ask who we are), read snapshot files. One row per forest.
A file that does not validate exits 2; any forest that cannot be opened exits 3.`),
		Example: `  abkit config check --config abkit.yaml
  ABKIT_CONFIG=abkit.yaml abkit config check -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return configCheckRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.AllowInsecureBind, "allow-insecure-bind", false,
		"allow simple or NTLM binds with a password over unencrypted LDAP to non-loopback hosts")
	return cmd
}

// checkResult is one forest's row of `abkit config check`.
type checkResult struct {
	Forest string  `json:"forest"`
	Target string  `json:"target"`
	OK     bool    `json:"ok"`
	Detail string  `json:"detail"`
	Millis float64 `json:"ms"`
	// A snapshot's records that could not be read and were skipped, and search references.
	Partial    bool `json:"partial"`
	Skipped    int  `json:"skipped"`
	References int  `json:"references"`
}

func configCheckRun(ctx context.Context, opts *configCheckOptions) error {
	f := opts.f
	cfg, err := f.loadConfig()
	if err != nil {
		return err
	}
	var results []checkResult
	failed := 0
	var badErr error // the first unreadable record of a --strict snapshot
	for i := range cfg.Forests {
		fc := &cfg.Forests[i]
		r := checkResult{Forest: fc.Name, Target: fc.URL}
		if !fc.Live() {
			r.Target = fc.LDIF
		}
		start := time.Now()
		src, err := f.openConfiguredForest(ctx, fc, opts.AllowInsecureBind, ldapsync.NopProgress)
		if err == nil {
			var p *pingResult
			p, err = pingSource(ctx, src)
			src.Close()
			if err == nil {
				r.OK = true
				if p.Source == "snapshot" {
					r.Detail = fmt.Sprintf("snapshot, %d entries, base %q", p.Entries, p.Base)
					if rs, ok := src.(ldapsync.Reporter); ok {
						rep := rs.ReadReport()
						r.Partial, r.Skipped, r.References = rep.Partial(), rep.Skipped, rep.References
						if rep.References > 0 {
							r.Detail += fmt.Sprintf(", %d search references skipped", rep.References)
						}
						if rep.Partial() {
							r.Detail += fmt.Sprintf(", PARTIAL: %d unreadable records skipped, the first %v", rep.Skipped, rep.Problems[0])
						}
					}
				} else {
					r.Detail = fmt.Sprintf("%s, bound as %s, base %q", p.Transport, p.BoundAs, p.Base)
				}
			}
		}
		r.Millis = float64(time.Since(start).Microseconds()) / 1000
		if err != nil {
			r.Detail = err.Error()
			failed++
			var le *ldapsync.LDIFError
			if errors.As(err, &le) && badErr == nil {
				badErr = err
			}
		}
		results = append(results, r)
	}
	t := Table{Columns: []string{"forest", "target", "ok", "detail", "ms"}}
	for _, r := range results {
		t.Append(r.Forest, r.Target, strconv.FormatBool(r.OK), r.Detail, fmt.Sprintf("%.0f", r.Millis))
	}
	if err := f.writeData(t, results); err != nil {
		return err
	}
	if badErr != nil {
		return badInput(fmt.Errorf("config check: %d of %d forests failed: %w", failed, len(results), badErr))
	}
	if failed > 0 {
		return runtimeFailure(fmt.Errorf("config check: %d of %d forests failed", failed, len(results)))
	}
	return nil
}
