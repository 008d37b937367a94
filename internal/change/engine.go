package change

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/abkit/abkit/internal/fsutil"
	"github.com/abkit/abkit/ldapsync"
	"github.com/go-ldap/ldap/v3"
)

// DefaultConcurrency is the number of changes in flight when none is given.
const DefaultConcurrency = 4

// DefaultBatchSize is the number of changes per LDAP transaction when none is given.
const DefaultBatchSize = 500

// Operation is one run's input: what to change and what it may touch.
type Operation struct {
	// ID identifies the input (e.g. a hash of the plan); the journal belongs to it.
	ID string
	// Policy bounds every item.
	Policy Policy
	// Items are the changes; an item's index is its identity in the journal.
	Items []Item
	// Skip marks items (by index) that are not run: an undo's items its apply never made.
	// They are counted as not attempted and never applied.
	Skip map[int]bool
	// UndoComment heads the undo file, one comment line per line.
	UndoComment string
}

// Options configures Run.
type Options struct {
	// DryRun checks the items against the policy, counts what the journal records as done, and
	// writes nothing, neither to the directory nor to files.
	DryRun bool
	// Concurrency is the number of changes in flight; 0 = DefaultConcurrency.
	Concurrency int
	// JournalPath records every finished item; a re-run with the same journal resumes. Required
	// unless DryRun. JournalPath+".lock" is locked for the run.
	JournalPath string
	// UndoPath receives, before the first write, an LDIF that reverses every item. Required
	// unless DryRun. An existing file must hold exactly that LDIF.
	UndoPath string
	// Locks are further lock files held for the run (e.g. the journal of the apply an undo
	// reverses).
	Locks []string
	// Progress receives one unit per item.
	Progress ldapsync.Progress
	// NoTransactions sends every change on its own even when the directory offers LDAP
	// transactions (RFC 5805, ldapsync.TxnModifier).
	NoTransactions bool
	// BatchSize is the number of changes per transaction; 0 = DefaultBatchSize. A transaction
	// that does not commit (a condition failed) is retried change by change.
	BatchSize int
}

// Result is the outcome of a run. Per-item failures never stop the others.
type Result struct {
	Items        int       `json:"items"`         // changes to make
	Applied      int       `json:"applied"`       // written by this run
	AlreadyDone  int       `json:"already_done"`  // done by an earlier run, or already holding the target values
	Refused      []Failure `json:"refused"`       // the entry changed since the plan: not overwritten
	Failed       []Failure `json:"failed"`        // the server refused the change for another reason
	InFlight     []Failure `json:"in_flight"`     // sent when the run was cut: outcome unknown until a re-run reads them back
	NotAttempted int       `json:"not_attempted"` // never sent (run cut short, or skipped)
	NeverApplied int       `json:"never_applied"` // of NotAttempted: undo rows whose apply never made them
	Transactions int       `json:"transactions"`  // LDAP transactions committed (0: changes sent one by one)
	DryRun       bool      `json:"dry_run"`
}

// Finished reports whether every item is done: applied, already done or (for an undo) never
// applied in the first place.
func (r *Result) Finished() bool {
	return r.Applied+r.AlreadyDone+r.NeverApplied == r.Items
}

// Failure is one item that could not be changed.
type Failure struct {
	DN    string `json:"dn"`
	Error string `json:"error"`
	// Code is the LDAP result code, 0 when the failure has none. 16 (noSuchAttribute), 19
	// (constraintViolation) and 20 (attributeOrValueExists) mean the entry changed since the plan.
	Code uint16 `json:"ldap_code,omitempty"`
}

// OptionsError reports unusable options or files (bad input).
type OptionsError struct {
	Reason string
}

func (e *OptionsError) Error() string { return "change: " + e.Reason }

// BadInput marks unusable options as bad input.
func (e *OptionsError) BadInput() bool { return true }

// outcome is how one item went.
type outcome struct {
	i      int
	status Status
	fail   Failure
}

// Run makes op's items true in the directory through m (see the package documentation). When m
// is also an ldapsync.Source, an item whose condition fails is read back, and counts as done
// when it already holds the target values. The returned error is non-nil when the run was cut
// short or its journal could not be written; the Result then says how far it got.
func Run(ctx context.Context, op Operation, m ldapsync.Modifier, opts Options) (*Result, error) {
	items := op.Items
	res := &Result{Items: len(items), DryRun: opts.DryRun, Refused: []Failure{}, Failed: []Failure{}, InFlight: []Failure{}}
	if err := op.Policy.Check(items); err != nil {
		return nil, err
	}
	if opts.DryRun {
		j, err := ReadJournal(opts.JournalPath)
		if err != nil {
			return nil, err
		}
		for i, it := range items {
			switch {
			case op.Skip[i]:
				res.NotAttempted++
				res.NeverApplied++
			case j != nil && j.Header.ID == op.ID && j.done(i, it.DN):
				res.AlreadyDone++
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
	for _, p := range append([]string{opts.JournalPath + ".lock"}, opts.Locks...) {
		l, err := AcquireLock(p)
		if err != nil {
			return nil, err
		}
		defer l.Release()
	}
	reverse := make([]Item, len(items))
	for i, it := range items {
		reverse[i] = it.Reversed()
	}
	undoSum, err := writeUndo(opts.UndoPath, op.UndoComment, reverse)
	if err != nil {
		return nil, err
	}
	jw, done, err := openJournal(opts.JournalPath, Header{Journal: journalKind, Version: 1, ID: op.ID,
		Op: op.Policy.Name, Attrs: op.Policy.Attrs, Base: op.Policy.Base, UndoSHA256: undoSum})
	if err != nil {
		return nil, err
	}
	defer jw.close()

	rep := ldapsync.ProgressOrNop(opts.Progress)
	rep.Start(int64(len(items)), "changes")
	defer rep.Done()

	e := &engine{items: items, m: m, conc: opts.Concurrency, batch: opts.BatchSize}
	e.reader, _ = m.(ldapsync.Source)
	e.tx, _ = m.(ldapsync.TxnModifier)
	if opts.NoTransactions || e.tx == nil || !e.tx.SupportsTransactions() {
		e.tx, e.batch = nil, 1
	} else if e.batch <= 0 {
		e.batch = DefaultBatchSize
	}
	switch {
	case e.tx != nil:
		e.conc = 1 // one transaction at a time: a connection carries only one
	case e.conc <= 0:
		e.conc = DefaultConcurrency
	}
	var todo []int
	for i, it := range items {
		switch {
		case op.Skip[i]:
			res.NotAttempted++
			res.NeverApplied++
			rep.Add(1)
		case done.done(i, it.DN):
			res.AlreadyDone++
			rep.Add(1)
		default:
			todo = append(todo, i)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	attempted := 0
	var jerr error
	for o := range e.run(ctx, cctx, cancel, todo) {
		attempted++
		switch o.status {
		case StatusApplied:
			res.Applied++
		case StatusAlready:
			res.AlreadyDone++
		case StatusRefused:
			res.Refused = append(res.Refused, o.fail)
		case StatusInFlight:
			res.InFlight = append(res.InFlight, o.fail)
		default:
			res.Failed = append(res.Failed, o.fail)
		}
		if jerr == nil {
			if jerr = jw.record(o.i, items[o.i].DN, o.status, o.fail.Error); jerr != nil {
				cancel()
			}
		}
		rep.Add(1)
	}
	res.NotAttempted += len(todo) - attempted
	res.Transactions = int(e.committed.Load())
	if err := jw.sync(); err != nil && jerr == nil {
		jerr = err
	}
	if jerr != nil {
		return res, fmt.Errorf("change: journal %s: %w", opts.JournalPath, jerr)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if e.cut.Load() != nil {
		return res, fmt.Errorf("change: run cut short: %w", *e.cut.Load())
	}
	return res, nil
}

// engine runs the items of one Run.
type engine struct {
	items     []Item
	m         ldapsync.Modifier
	reader    ldapsync.Source
	tx        ldapsync.TxnModifier
	conc      int
	batch     int
	committed atomic.Int64
	cut       atomic.Pointer[error] // why the run stopped early, when it did
}

// run sends the items todo (by index) in batches to conc workers and returns their outcomes.
// A cut (cancelled context, lost connection) stops handing out work; what was sent is reported
// in flight.
func (e *engine) run(ctx, cctx context.Context, cancel context.CancelFunc, todo []int) <-chan outcome {
	work := make(chan []int)
	results := make(chan outcome)
	stop := func(err error) {
		e.cut.CompareAndSwap(nil, &err)
		cancel()
	}
	var wg sync.WaitGroup
	for w := 0; w < e.conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				e.batchOf(ctx, cctx, b, results, stop)
			}
		}()
	}
	go func() {
		defer close(work)
		for len(todo) > 0 {
			n := min(e.batch, len(todo))
			select {
			case work <- todo[:n]:
				todo = todo[n:]
			case <-cctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	return results
}

// batchOf sends one batch: as a transaction when there is one, else (or when it does not
// commit) change by change.
func (e *engine) batchOf(ctx, cctx context.Context, b []int, results chan<- outcome, stop func(error)) {
	if e.tx != nil && len(b) > 1 {
		reqs := make([]*ldap.ModifyRequest, len(b))
		for k, i := range b {
			reqs[k] = e.items[i].Request()
		}
		err := e.tx.ModifyTxn(ctx, reqs)
		if err == nil {
			e.committed.Add(1)
			for _, i := range b {
				results <- outcome{i: i, status: StatusApplied}
			}
			return
		}
		if cutShort(ctx, err) {
			// The commit may or may not have reached the server.
			stop(err)
			for _, i := range b {
				results <- outcome{i: i, status: StatusInFlight, fail: failure(e.items[i].DN, err)}
			}
			return
		}
		// Not committed, so nothing of it was written: item by item, to learn which failed
		// and to write the others.
	}
	for _, i := range b {
		if cctx.Err() != nil {
			return
		}
		o := e.one(ctx, i)
		if o.status == StatusInFlight {
			stop(errors.New(o.fail.Error))
		}
		results <- o
	}
}

// one makes item i true on its own and reports how it went.
func (e *engine) one(ctx context.Context, i int) outcome {
	it := e.items[i]
	err := e.m.Modify(ctx, it.Request())
	switch {
	case err == nil:
		return outcome{i: i, status: StatusApplied}
	case cutShort(ctx, err):
		return outcome{i: i, status: StatusInFlight, fail: failure(it.DN, err)}
	case conditionFailed(err):
		if e.reader != nil {
			held, rerr := holdsTarget(ctx, e.reader, it)
			switch {
			case rerr == nil && held:
				return outcome{i: i, status: StatusAlready}
			case rerr != nil && cutShort(ctx, rerr):
				return outcome{i: i, status: StatusInFlight, fail: failure(it.DN, rerr)}
			}
		}
		return outcome{i: i, status: StatusRefused, fail: failure(it.DN, fmt.Errorf("%w (the entry changed since the plan)", err))}
	}
	return outcome{i: i, status: StatusFailed, fail: failure(it.DN, err)}
}

// cutShort reports whether err means the run was cut (cancelled, or the connection lost or timed
// out), so that a change sent may or may not have reached the server.
func cutShort(ctx context.Context, err error) bool {
	var ne net.Error
	return ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		ldap.IsErrorWithCode(err, ldap.ErrorNetwork) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unable to read LDAP response packet")
}

// conditionFailed reports whether err says the entry no longer holds the values the change
// expected.
func conditionFailed(err error) bool {
	return ldap.IsErrorAnyOf(err, ldap.LDAPResultNoSuchAttribute, ldap.LDAPResultAttributeOrValueExists,
		ldap.LDAPResultConstraintViolation)
}

// holdsTarget reads the entry back and reports whether every attribute of it already holds its
// target: the new values present, the old ones gone.
func holdsTarget(ctx context.Context, src ldapsync.Source, it Item) (bool, error) {
	attrs := make([]string, len(it.Changes))
	for i, c := range it.Changes {
		attrs[i] = c.Attr
	}
	for o, err := range src.Search(ctx, ldapsync.SearchRequest{Base: it.DN, Filter: "(objectClass=*)", Attributes: attrs}) {
		if err != nil {
			return false, err
		}
		if !strings.EqualFold(o.DN, it.DN) {
			continue
		}
		for _, c := range it.Changes {
			if !c.reached(rawValues(o, c.Attr)) {
				return false, nil
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("entry %s not found", it.DN)
}

func rawValues(o *ldapsync.Object, name string) [][]byte {
	for k, v := range o.Raw {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func failure(dn string, err error) Failure {
	f := Failure{DN: dn, Error: err.Error()}
	var le *ldap.Error
	if errors.As(err, &le) && le.ResultCode < ldap.ErrorNetwork {
		f.Code = le.ResultCode
	}
	return f
}

// writeUndo writes the reverse LDIF durably and returns its SHA-256. An existing file is kept
// when it holds exactly this LDIF and refused otherwise, so that the undo of an earlier,
// different run is never overwritten.
func writeUndo(path, comment string, reverse []Item) (string, error) {
	var buf bytes.Buffer
	if err := WriteLDIF(&buf, comment, reverse); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	old, err := os.ReadFile(path)
	switch {
	case err == nil && bytes.Equal(old, buf.Bytes()):
		return hex.EncodeToString(sum[:]), nil
	case err == nil:
		return "", &OptionsError{Reason: fmt.Sprintf("undo file %s exists and belongs to another run: keep it and name a new one", path)}
	case !errors.Is(err, os.ErrNotExist):
		return "", err
	}
	if err := fsutil.WriteNew(path, fsutil.Private, fsutil.WriteBytes(buf.Bytes())); err != nil {
		return "", err
	}
	return hex.EncodeToString(sum[:]), nil
}

// ID identifies an input for its journal: prefix, ":sha256:" and the hash of v's JSON form.
func ID(prefix string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return prefix + ":sha256:" + hex.EncodeToString(sum[:]), nil
}

func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}
