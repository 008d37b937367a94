package audit

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/abkit/abkit/internal/config"
	"github.com/abkit/abkit/ldapsync"
)

func TestNewPlan(t *testing.T) {
	opened := 0
	open := func(ctx context.Context, fc *config.Forest) (ldapsync.Source, error) {
		opened++
		return nil, errors.New("not reached")
	}
	p := NewPlan(PlanOptions{Config: &config.Config{}, OpenForest: open})
	if len(p.Checks) != 0 || len(p.Skipped) != 3 {
		t.Errorf("empty configuration: checks %d, skipped %q", len(p.Checks), p.Skipped)
	}
	cfg := &config.Config{
		Forests: []config.Forest{{Name: "users"}, {Name: "res"}},
		Sidmap:  &config.Sidmap{UserForest: "users", ResourceForest: "res"},
		ABS:     &config.ABS{Folder: t.TempDir()},
	}
	p = NewPlan(PlanOptions{Config: cfg, OpenForest: open})
	defer p.Close()
	var names []string
	for _, c := range p.Checks {
		names = append(names, c.Name())
	}
	want := []string{"duplicate-sip", "duplicate-phone", "sidmap", "hidden-sip", "disabled-sip", "abs-freshness", "phone-normalization", "snapshot-records"}
	if !slices.Equal(names, want) || len(p.Skipped) != 0 {
		t.Errorf("checks %v, skipped %q; want %v", names, p.Skipped, want)
	}
	if opened != 0 {
		t.Errorf("planning opened %d forests; they open when a check runs", opened)
	}
	p = NewPlan(PlanOptions{Config: &config.Config{Forests: cfg.Forests}, OpenForest: open})
	if len(p.Skipped) != 3 || !strings.Contains(strings.Join(p.Skipped, "\n"), "no sidmap section") {
		t.Errorf("without sidmap and folder: skipped %q", p.Skipped)
	}
}
