// Package config reads abkit's YAML configuration file: the forests to read (live or LDIF
// snapshots), the OCS back-end database, the address book folder, and per-command settings.
// It only parses and validates; turning sections into connections is the command line's job.
// Secrets are never stored in the file: it names an environment variable or a file instead.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// EnvVar is the environment variable consulted when no --config flag is given.
const EnvVar = "ABKIT_CONFIG"

// Config is the whole configuration file.
type Config struct {
	Forests []Forest `yaml:"forests"`
	RTC     *RTC     `yaml:"rtc,omitempty"`
	ABS     *ABS     `yaml:"abs,omitempty"`
	Sidmap  *Sidmap  `yaml:"sidmap,omitempty"`
	Dupes   *Dupes   `yaml:"dupes,omitempty"`

	// Path is the file the configuration was read from ("" when parsed from a reader).
	Path string `yaml:"-"`
}

// Error is a configuration problem, positioned by file and, where known, the section at fault.
type Error struct {
	Path    string // file name
	Section string // e.g. "forests[1] (resforest)"
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("config")
	if e.Path != "" {
		b.WriteString(" " + e.Path)
	}
	if e.Section != "" {
		b.WriteString(": " + e.Section)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// BadInput reports that a configuration error is bad input (exit status 2).
func (e *Error) BadInput() bool { return true }

// Load reads and validates the configuration file at path. Relative file names inside it are
// resolved against the file's folder.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Path: path, Err: err}
	}
	c, err := Parse(bytes.NewReader(data))
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			ce.Path = path
			return nil, ce
		}
		return nil, &Error{Path: path, Err: err}
	}
	c.Path = path
	c.resolvePaths(filepath.Dir(path))
	return c, nil
}

// Parse decodes and validates a configuration from r. Unknown keys are errors, so that a typo
// does not silently fall back to a default.
func Parse(r io.Reader) (*Config, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, &Error{Err: err}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks the whole configuration and returns the first problem found.
func (c *Config) Validate() error {
	seen := map[string]bool{}
	for i := range c.Forests {
		f := &c.Forests[i]
		section := fmt.Sprintf("forests[%d]", i)
		if f.Name != "" {
			section += " (" + f.Name + ")"
		}
		if err := f.validate(); err != nil {
			return &Error{Section: section, Err: err}
		}
		key := strings.ToLower(f.Name)
		if seen[key] {
			return &Error{Section: section, Err: fmt.Errorf("forest name %q is used twice", f.Name)}
		}
		seen[key] = true
	}
	if c.RTC != nil {
		if err := c.RTC.validate(); err != nil {
			return &Error{Section: "rtc", Err: err}
		}
	}
	if c.Sidmap != nil {
		if err := c.Sidmap.validate(c); err != nil {
			return &Error{Section: "sidmap", Err: err}
		}
	}
	return nil
}

// Forest returns the forest called name (case-insensitive).
func (c *Config) Forest(name string) (*Forest, error) {
	for i := range c.Forests {
		if strings.EqualFold(c.Forests[i].Name, name) {
			return &c.Forests[i], nil
		}
	}
	names := make([]string, len(c.Forests))
	for i, f := range c.Forests {
		names[i] = f.Name
	}
	return nil, &Error{Path: c.Path, Err: fmt.Errorf("no forest named %q (configured: %s)", name, strings.Join(names, ", "))}
}

func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	for i := range c.Forests {
		f := &c.Forests[i]
		abs(&f.LDIF)
		abs(&f.TLS.CAFile)
		abs(&f.Bind.PasswordFile)
		abs(&f.Bind.Keytab)
		abs(&f.Bind.CCache)
		abs(&f.Bind.Krb5Conf)
	}
	if c.RTC != nil {
		abs(&c.RTC.PasswordFile)
		abs(&c.RTC.CAFile)
		abs(&c.RTC.Krb5Conf)
		abs(&c.RTC.Keytab)
	}
	if c.ABS != nil {
		abs(&c.ABS.Folder)
		abs(&c.ABS.Rules)
	}
}
