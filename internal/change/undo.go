package change

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// PrepareUndo turns an undo file written by Run back into an Operation that reverses what that
// run applied. data is the undo file, applyJournal the journal of the run that wrote it, pol what
// the undo command may touch at most (its Base the configured forest's base). It refuses an undo
// file whose SHA-256 is not the one the journal recorded (edited, or from another run), and
// narrows pol to the attributes the run itself was allowed. Items the run never applied (no
// record, refused or failed) are skipped: a re-run of the undo reports them as never applied.
// Items left in flight are kept: their conditional change is read back when it does not apply.
func PrepareUndo(data []byte, applyJournal string, pol Policy) (Operation, error) {
	j, err := ReadJournal(applyJournal)
	if err != nil {
		return Operation{}, err
	}
	if j == nil {
		return Operation{}, &OptionsError{Reason: fmt.Sprintf("no journal %s: an undo needs the journal of the run that wrote the undo file", applyJournal)}
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	if hash != j.Header.UndoSHA256 {
		return Operation{}, &OptionsError{Reason: fmt.Sprintf("the undo file is not the one the run of journal %s wrote (SHA-256 %s, journal records %s): it was edited or belongs to another run", applyJournal, hash, j.Header.UndoSHA256)}
	}
	if !strings.EqualFold(j.Header.Base, pol.Base) {
		return Operation{}, &OptionsError{Reason: fmt.Sprintf("journal %s records base %q, the configured forest's base is %q", applyJournal, j.Header.Base, pol.Base)}
	}
	items, err := ReadLDIF(bytes.NewReader(data))
	if err != nil {
		return Operation{}, err
	}
	narrowed := Policy{Name: "undo of " + j.Header.Op, Base: pol.Base}
	for _, a := range j.Header.Attrs {
		if pol.Allows(a) {
			narrowed.Attrs = append(narrowed.Attrs, a)
		}
	}
	op := Operation{ID: "undo:sha256:" + hash, Policy: narrowed, Items: items, Skip: map[int]bool{},
		UndoComment: "abkit redo: reverses the undo " + hash}
	for i, it := range items {
		s := j.Status[i]
		ran := slices.Contains([]Status{StatusApplied, StatusAlready, StatusInFlight}, s)
		if !ran || !strings.EqualFold(j.DN[i], it.DN) {
			op.Skip[i] = true
		}
	}
	return op, nil
}
