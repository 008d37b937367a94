package sidmap

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/abkit/abkit/internal/change"
	"github.com/abkit/abkit/ldapsync"
)

// DefaultConcurrency is the number of changes Apply has in flight when none is given.
const DefaultConcurrency = change.DefaultConcurrency

// DefaultBatchSize is the number of changes per LDAP transaction when none is given.
const DefaultBatchSize = change.DefaultBatchSize

// ApplyOptions configures Apply and Undo.
type ApplyOptions struct {
	// Forest is the configured resource forest's name: a plan naming another one is refused.
	Forest string
	// Base is the configured resource forest's base DN: every DN written must be under it.
	Base string
	// DryRun counts what would be done and writes nothing, neither to the directory nor to files.
	DryRun bool
	// Concurrency is the number of changes in flight; 0 = DefaultConcurrency.
	Concurrency int
	// JournalPath records every finished item; a re-run with the same journal skips what is done.
	// Required unless DryRun.
	JournalPath string
	// UndoPath receives, before the first write, an LDIF that reverses every change (for Undo it
	// is a redo file). Required unless DryRun. An existing file must hold exactly that LDIF.
	UndoPath string
	// ApplyJournal (Undo only) is the journal of the run that wrote the undo file: it must record
	// the undo file's hash, and only what that run applied is undone.
	ApplyJournal string
	// Progress receives one unit per item.
	Progress ldapsync.Progress
	// NoTransactions sends every change on its own even when the directory offers LDAP
	// transactions (RFC 5805, ldapsync.TxnModifier).
	NoTransactions bool
	// BatchSize is the number of changes per transaction; 0 = DefaultBatchSize. A transaction
	// that does not commit (a condition failed) is retried change by change.
	BatchSize int
}

func (o ApplyOptions) engine() change.Options {
	return change.Options{DryRun: o.DryRun, Concurrency: o.Concurrency, JournalPath: o.JournalPath, UndoPath: o.UndoPath,
		Progress: o.Progress, NoTransactions: o.NoTransactions, BatchSize: o.BatchSize}
}

// Result is the outcome of Apply or Undo (the change engine's result).
type Result = change.Result

// Failure is one item that could not be changed.
type Failure = change.Failure

// OptionsError reports unusable ApplyOptions or files (bad input).
type OptionsError = change.OptionsError

// Policy returns what applying a plan of kind may touch under base: msRTCSIP-OriginatorSid for
// an originator-sid plan, the descriptive attributes of SyncAttrAllowlist for a sync-attrs plan.
func Policy(kind PlanKind, base string) change.Policy {
	if kind == KindSyncAttrs {
		return change.Policy{Name: "sidmap sync-attrs", Attrs: SyncAttrAllowlist, Base: base}
	}
	return change.Policy{Name: "sidmap originator-sid", Attrs: []string{ldapsync.AttrOriginatorSid}, Base: base}
}

// UndoPolicy is what a sidmap undo may touch at most; the apply's journal narrows it further.
func UndoPolicy(base string) change.Policy {
	return change.Policy{Name: "sidmap undo", Attrs: append([]string{ldapsync.AttrOriginatorSid}, SyncAttrAllowlist...), Base: base}
}

// Apply makes the plan's set rows true in the directory through m, each change conditional on
// the values the plan saw: a delete of the old value and an add of the new one in one modify, or
// an add alone when the attribute was empty. The plan must name opts.Forest, and every row must
// stay within Policy(plan kind, opts.Base). When m is also an ldapsync.Source, an item whose
// condition fails is read back, and counts as done when it already holds the target values.
func Apply(ctx context.Context, p *Plan, m ldapsync.Modifier, opts ApplyOptions) (*Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if !strings.EqualFold(p.ResourceForest, opts.Forest) {
		return nil, &OptionsError{Reason: fmt.Sprintf("sidmap: the plan is for resource forest %q, the configuration names %q: make a plan for the configured forest", p.ResourceForest, opts.Forest)}
	}
	id, err := change.ID("plan", p)
	if err != nil {
		return nil, err
	}
	comment := fmt.Sprintf("abkit sidmap undo for the %s plan of %s made %s (%s)\napply with: abkit sidmap undo FILE",
		p.Kind, p.ResourceForest, p.Created.Format("2006-01-02T15:04:05Z07:00"), id)
	return change.Run(ctx, change.Operation{ID: id, Policy: Policy(p.Kind, opts.Base), Items: planItems(p), UndoComment: comment}, m, opts.engine())
}

// Undo applies an undo LDIF written by Apply (or Undo) under the same conditions: each entry is
// changed back only while it still holds the values Apply wrote. The undo file must be the one
// the run of opts.ApplyJournal wrote; only what that run applied is undone, and only within
// UndoPolicy(opts.Base) narrowed to that run's own attributes.
func Undo(ctx context.Context, undo io.Reader, m ldapsync.Modifier, opts ApplyOptions) (*Result, error) {
	data, err := io.ReadAll(undo)
	if err != nil {
		return nil, err
	}
	op, err := change.PrepareUndo(data, opts.ApplyJournal, UndoPolicy(opts.Base))
	if err != nil {
		return nil, err
	}
	eo := opts.engine()
	eo.Locks = []string{opts.ApplyJournal + ".lock"}
	return change.Run(ctx, op, m, eo)
}

// WriteChanges writes the plan's set rows as an LDIF change file (the same conditional delete and
// add that Apply sends), for review or for ldapmodify.
func WriteChanges(w io.Writer, p *Plan) error {
	if err := p.validate(); err != nil {
		return err
	}
	return change.WriteLDIF(w, fmt.Sprintf("abkit sidmap %s changes for %s", p.Kind, p.ResourceForest), planItems(p))
}

// planItems turns the set rows of p into items.
func planItems(p *Plan) []change.Item {
	var items []change.Item
	for i := range p.Rows {
		r := &p.Rows[i]
		if r.Action != ActionSet {
			continue
		}
		it := change.Item{DN: r.ResourceDN}
		if p.Kind == KindOriginatorSID {
			c := change.AttrChange{Attr: ldapsync.AttrOriginatorSid, New: [][]byte{r.ProposedSID.Bytes()}}
			switch {
			case len(r.CurrentValue) > 0:
				c.Old = [][]byte{r.CurrentValue}
			case !r.CurrentSID.IsZero():
				c.Old = [][]byte{r.CurrentSID.Bytes()}
			}
			it.Changes = []change.AttrChange{c}
		} else {
			for _, c := range r.Changes {
				it.Changes = append(it.Changes, change.AttrChange{Attr: c.Attr, Old: toBytes(c.Old), New: toBytes(c.New)})
			}
		}
		items = append(items, it)
	}
	return items
}

// ApplyJournalFor returns the default journal of the run that wrote the undo (or redo) file
// path: PLAN.journal for PLAN.undo.ldif, PLAN.undo.journal for PLAN.undo.redo.ldif.
func ApplyJournalFor(path string) string {
	stem := strings.TrimSuffix(path, ".ldif")
	for _, suffix := range []string{".undo", ".redo"} {
		if s, ok := strings.CutSuffix(stem, suffix); ok {
			return s + ".journal"
		}
	}
	return stem + ".journal"
}
