package sidmap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/abkit/abkit/internal/fsutil"
	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/progress"
	"github.com/go-ldap/ldap/v3"
)

// DefaultConcurrency is the number of changes Apply has in flight when none is given.
const DefaultConcurrency = 4

// DefaultBatchSize is the number of changes per LDAP transaction when none is given.
const DefaultBatchSize = 500

// ApplyOptions configures Apply and Undo.
type ApplyOptions struct {
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
	// Progress receives one unit per item.
	Progress progress.Reporter
	// NoTransactions sends every change on its own even when the directory offers LDAP
	// transactions (RFC 5805, ldapsync.TxnModifier).
	NoTransactions bool
	// BatchSize is the number of changes per transaction; 0 = DefaultBatchSize. A transaction
	// that does not commit (a condition failed) is retried change by change.
	BatchSize int
}

// Result is the outcome of Apply or Undo. Per-item failures never stop the others.
type Result struct {
	Items        int       `json:"items"`         // changes to make
	Applied      int       `json:"applied"`       // written by this run
	AlreadyDone  int       `json:"already_done"`  // done by an earlier run, or already holding the target values
	NotAttempted int       `json:"not_attempted"` // left when the run was cancelled
	Transactions int       `json:"transactions"`  // LDAP transactions committed (0: changes sent one by one)
	Failed       []Failure `json:"failed"`
	DryRun       bool      `json:"dry_run"`
}

// Failure is one item that could not be changed.
type Failure struct {
	DN    string `json:"dn"`
	Error string `json:"error"`
	// Code is the LDAP result code, 0 when the failure has none. 16 (noSuchAttribute), 19
	// (constraintViolation) and 20 (attributeOrValueExists) mean the entry changed since the plan.
	Code uint16 `json:"ldap_code,omitempty"`
}

// OptionsError reports unusable ApplyOptions or files (bad input).
type OptionsError struct {
	Reason string
}

func (e *OptionsError) Error() string { return "sidmap: " + e.Reason }

// BadInput marks unusable options as bad input.
func (e *OptionsError) BadInput() bool { return true }

// Apply makes the plan's set rows true in the directory through m, each change conditional on
// the values the plan saw: a delete of the old value and an add of the new one in one modify, or
// an add alone when the attribute was empty. When m is also an ldapsync.Source, an item whose
// condition fails is read back, and counts as done when it already holds the target values.
func Apply(ctx context.Context, p *Plan, m ldapsync.Modifier, opts ApplyOptions) (*Result, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	id, err := planID(p)
	if err != nil {
		return nil, err
	}
	comment := fmt.Sprintf("abkit sidmap undo for the %s plan of %s made %s (%s)\napply with: abkit sidmap undo FILE",
		p.Kind, p.ResourceForest, p.Created.Format("2006-01-02T15:04:05Z07:00"), id)
	return run(ctx, id, comment, planItems(p), m, opts)
}

// Undo applies an undo LDIF written by Apply under the same conditions: each entry is changed
// back only while it still holds the values Apply wrote.
func Undo(ctx context.Context, undo io.Reader, m ldapsync.Modifier, opts ApplyOptions) (*Result, error) {
	data, err := io.ReadAll(undo)
	if err != nil {
		return nil, err
	}
	items, err := readChangeLDIF(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	id := "ldif:sha256:" + hex.EncodeToString(sum[:])
	return run(ctx, id, "abkit sidmap redo: reverses an undo ("+id+")", items, m, opts)
}

// WriteChanges writes the plan's set rows as an LDIF change file (the same conditional delete and
// add that Apply sends), for review or for ldapmodify.
func WriteChanges(w io.Writer, p *Plan) error {
	if err := p.validate(); err != nil {
		return err
	}
	return writeChangeLDIF(w, fmt.Sprintf("abkit sidmap %s changes for %s", p.Kind, p.ResourceForest), planItems(p))
}

// planItems turns the set rows of p into items.
func planItems(p *Plan) []item {
	var items []item
	for i := range p.Rows {
		r := &p.Rows[i]
		if r.Action != ActionSet {
			continue
		}
		it := item{dn: r.ResourceDN, changes: r.Changes}
		if p.Kind == KindOriginatorSID {
			c := AttrChange{Attr: ldapsync.AttrOriginatorSid, New: []Value{r.ProposedSID.Bytes()}}
			switch {
			case len(r.CurrentValue) > 0:
				c.Old = []Value{r.CurrentValue}
			case !r.CurrentSID.IsZero():
				c.Old = []Value{r.CurrentSID.Bytes()}
			}
			it.changes = []AttrChange{c}
		}
		items = append(items, it)
	}
	return items
}

// planID identifies a plan for its journal: a hash of its JSON form.
func planID(p *Plan) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "plan:sha256:" + hex.EncodeToString(sum[:]), nil
}

// outcome is how one item went: status is statusApplied, statusAlready or statusFailed.
type outcome struct {
	i      int
	status string
	fail   Failure
}

// run applies items with a journal and a reverse LDIF; it is the engine of Apply and Undo. With
// a TxnModifier that supports transactions, items go in transactions of BatchSize, recorded in
// the journal only once committed.
func run(ctx context.Context, id, comment string, items []item, m ldapsync.Modifier, opts ApplyOptions) (*Result, error) {
	res := &Result{Items: len(items), DryRun: opts.DryRun, Failed: []Failure{}}
	conc := opts.Concurrency
	if conc <= 0 {
		conc = DefaultConcurrency
	}
	if opts.DryRun {
		if opts.JournalPath != "" {
			done, err := readJournal(opts.JournalPath, id)
			if err != nil {
				return nil, err
			}
			for i, it := range items {
				if done[i] == it.dn {
					res.AlreadyDone++
				}
			}
		}
		return res, nil
	}
	if opts.JournalPath == "" || opts.UndoPath == "" {
		return nil, &OptionsError{Reason: "a journal and an undo file are needed before writing"}
	}
	if samePath(opts.JournalPath, opts.UndoPath) {
		return nil, &OptionsError{Reason: "the journal and the undo file must be different files"}
	}
	reverse := make([]item, len(items))
	for i, it := range items {
		reverse[i] = it.reversed()
	}
	if err := writeUndo(opts.UndoPath, comment, reverse); err != nil {
		return nil, err
	}
	j, done, err := openJournal(opts.JournalPath, id)
	if err != nil {
		return nil, err
	}
	defer j.close()

	rep := progress.OrNop(opts.Progress)
	rep.Start(int64(len(items)), "changes")
	defer rep.Done()

	reader, _ := m.(ldapsync.Source)
	// one makes item i true on its own and reports how it went.
	one := func(i int) outcome {
		it := items[i]
		err := m.Modify(ctx, it.request())
		switch {
		case err == nil:
			return outcome{i: i, status: statusApplied}
		case conditionFailed(err) && reader != nil:
			if held, rerr := holdsTarget(ctx, reader, it); rerr == nil && held {
				return outcome{i: i, status: statusAlready}
			} else if rerr == nil {
				err = fmt.Errorf("%w (the entry changed since the plan)", err)
			}
		}
		return outcome{i: i, status: statusFailed, fail: failure(it.dn, err)}
	}
	tx, _ := m.(ldapsync.TxnModifier)
	batch := opts.BatchSize
	if opts.NoTransactions || tx == nil || !tx.SupportsTransactions() {
		tx, batch = nil, 1
	} else if batch <= 0 {
		batch = DefaultBatchSize
	}
	if tx != nil {
		// One transaction at a time: a connection carries only one.
		conc = 1
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan []int)
	results := make(chan outcome)
	var committed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if tx != nil && len(b) > 1 {
					reqs := make([]*ldap.ModifyRequest, len(b))
					for k, i := range b {
						reqs[k] = items[i].request()
					}
					if tx.ModifyTxn(ctx, reqs) == nil {
						committed.Add(1)
						for _, i := range b {
							results <- outcome{i: i, status: statusApplied}
						}
						continue
					}
					// Not committed, so nothing of it was written: item by item, to
					// learn which failed and to write the others.
				}
				for _, i := range b {
					if cctx.Err() != nil {
						break
					}
					results <- one(i)
				}
			}
		}()
	}
	go func() {
		defer close(work)
		var b []int
		for i, it := range items {
			if done[i] == it.dn {
				continue
			}
			if b = append(b, i); len(b) < batch {
				continue
			}
			if cctx.Err() != nil {
				return
			}
			select {
			case work <- b:
				b = nil
			case <-cctx.Done():
				return
			}
		}
		if len(b) > 0 {
			select {
			case work <- b:
			case <-cctx.Done():
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for i, it := range items {
		if done[i] == it.dn {
			res.AlreadyDone++
			rep.Add(1)
		}
	}
	attempted := res.AlreadyDone
	var jerr error
	for o := range results {
		attempted++
		switch o.status {
		case statusApplied:
			res.Applied++
		case statusAlready:
			res.AlreadyDone++
		default:
			res.Failed = append(res.Failed, o.fail)
		}
		if jerr == nil {
			if jerr = j.record(o.i, items[o.i].dn, o.status, o.fail.Error); jerr != nil {
				cancel()
			}
		}
		rep.Add(1)
	}
	res.NotAttempted = len(items) - attempted
	res.Transactions = int(committed.Load())
	if err := j.sync(); err != nil && jerr == nil {
		jerr = err
	}
	if jerr != nil {
		return res, fmt.Errorf("sidmap: journal %s: %w", opts.JournalPath, jerr)
	}
	return res, ctx.Err()
}

// request builds the one modify that makes it true: delete the expected values, add the new ones.
func (it item) request() *ldap.ModifyRequest {
	req := ldap.NewModifyRequest(it.dn, nil)
	for _, c := range it.changes {
		if len(c.Old) > 0 {
			req.Delete(c.Attr, valueStrings(c.Old))
		}
		if len(c.New) > 0 {
			req.Add(c.Attr, valueStrings(c.New))
		}
	}
	return req
}

func valueStrings(vs []Value) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// conditionFailed reports whether err says the entry no longer holds the values the change
// expected.
func conditionFailed(err error) bool {
	return ldap.IsErrorAnyOf(err, ldap.LDAPResultNoSuchAttribute, ldap.LDAPResultAttributeOrValueExists,
		ldap.LDAPResultConstraintViolation)
}

// holdsTarget reads the entry back and reports whether every attribute of it already holds the
// new values.
func holdsTarget(ctx context.Context, src ldapsync.Source, it item) (bool, error) {
	attrs := make([]string, len(it.changes))
	for i, c := range it.changes {
		attrs[i] = c.Attr
	}
	for o, err := range src.Search(ctx, ldapsync.SearchRequest{Base: it.dn, Filter: "(objectClass=*)", Attributes: attrs}) {
		if err != nil {
			return false, err
		}
		if !strings.EqualFold(o.DN, it.dn) {
			continue
		}
		for _, c := range it.changes {
			if !sameValues(rawValues(o, c.Attr), toBytes(c.New)) {
				return false, nil
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("entry %s not found", it.dn)
}

func failure(dn string, err error) Failure {
	f := Failure{DN: dn, Error: err.Error()}
	var le *ldap.Error
	if errors.As(err, &le) && le.ResultCode < ldap.ErrorNetwork {
		f.Code = le.ResultCode
	}
	return f
}

// writeUndo writes the reverse LDIF durably (temporary file, fsync, rename, fsync of the
// folder). An existing file is kept when it holds exactly this LDIF and refused otherwise, so
// that the undo of an earlier, different run is never overwritten.
func writeUndo(path, comment string, reverse []item) error {
	var buf bytes.Buffer
	if err := writeChangeLDIF(&buf, comment, reverse); err != nil {
		return err
	}
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, buf.Bytes()):
		return nil
	case err == nil:
		return &OptionsError{Reason: fmt.Sprintf("undo file %s exists and belongs to another run: keep it and name a new one", path)}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	return fsutil.Replace(path, fsutil.WriteBytes(buf.Bytes()))
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}
