package abs

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"iter"
	"slices"
)

// ApplyError is a contact record that ApplyStream cannot apply: it names the file (Delta), the
// record's offset in it and the ContactId.
type ApplyError struct {
	Delta  bool  // the record is the delta's (else the full file's)
	Offset int64 // where the record starts in that file
	ID     GUID
	Reason string
}

// Error names the offset in hex and decimal, the contact and the reason.
func (e *ApplyError) Error() string {
	return fmt.Sprintf("abs: apply: offset 0x%X (%d): contact %s: %s", e.Offset, e.Offset, e.ID, e.Reason)
}

// BadInput marks the error as bad input (exit status 2 in the CLI).
func (e *ApplyError) BadInput() bool { return true }

// WriteError is a failure of the io.Writer that ApplyStream writes to, as opposed to bad input.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }

// Unwrap returns the writer's error.
func (e *WriteError) Unwrap() error { return e.Err }

// ApplyStream is Apply for a full file and a delta read from full and delta as they stream,
// writing the resulting full file to w as it goes, ending with full's trailer (abkit's empty
// trailer when full has none): w gets byte for byte what Write(w, Apply(ReadBook(full),
// ReadBook(delta))) writes. It returns the header written and the number of contacts.
//
// Neither file nor the result is held in memory: a first pass over each file keeps each
// contact record's ContactId and offset (32 bytes per record) and checks the delta against the
// full file; a second pass merges the two in ContactId order and writes the result, streaming a
// file again when it lists its records in that order (as abkit and the server write them), else
// reading each record at its offset. Memory: 32 bytes per record of either file, plus the read
// and write buffers.
//
// Errors: a decoding error as a *SideError (New: the delta's, else the full file's); an
// *ApplyError for a record of either file that cannot be applied (a ContactId twice, a deletion
// of a contact full does not have, a new contact with empty attributes, a compact change that
// leaves no attribute, a contact the Writer refuses); a *WriteError when w fails; a plain error
// when the headers do not fit together. Whatever was written to w before an error is not a
// valid file.
func ApplyStream(full, delta *Reader, w io.Writer) (Header, int, error) {
	if err := checkApply(full.Header, full.Attributes(), delta.Header, delta.Attributes()); err != nil {
		return Header{}, 0, err
	}
	fkeys, fsorted, err := applyKeys(full, false)
	if err != nil {
		return Header{}, 0, err
	}
	dkeys, dsorted, err := applyKeys(delta, true)
	if err != nil {
		return Header{}, 0, err
	}
	if err := checkDelta(fkeys, dkeys, delta.Header.Kind); err != nil {
		return Header{}, 0, err
	}
	trailer, err := full.TrailerBody()
	if err != nil {
		return Header{}, 0, &SideError{Err: err}
	}
	rw := &recordingWriter{w: w}
	wr, err := NewWriter(rw, appliedHeader(full.Header, delta.Header), delta.Attributes(), delta.RulesText())
	if err != nil {
		return Header{}, 0, rw.wrap(err)
	}
	n := 0
	write := func(c *Contact, src *Contact, inDelta bool) error {
		if err := wr.WriteContact(c); err != nil {
			if rw.err != nil {
				return &WriteError{Err: rw.err}
			}
			return &ApplyError{Delta: inDelta, Offset: src.Offset, ID: c.ID, Reason: err.Error()}
		}
		n++
		return nil
	}
	fc, dc := newCursor(full, fkeys, fsorted, false), newCursor(delta, dkeys, dsorted, true)
	defer fc.stop()
	defer dc.stop()
	for fc.i < len(fkeys) || dc.i < len(dkeys) {
		order := 0
		switch {
		case dc.i == len(dkeys):
			order = -1
		case fc.i == len(fkeys):
			order = 1
		default:
			order = bytes.Compare(fkeys[fc.i].id[:], dkeys[dc.i].id[:])
		}
		var f, d *Contact
		if order <= 0 {
			if f, err = fc.next(); err != nil {
				return Header{}, 0, err
			}
		}
		if order >= 0 {
			if d, err = dc.next(); err != nil {
				return Header{}, 0, err
			}
		}
		switch {
		case d == nil:
			err = write(f, f, false)
		case f == nil:
			err = write(d, d, true)
		case d.Deleted():
		case delta.Header.Kind == Delta:
			err = write(d, d, true)
		default:
			m := mergeCompact(f, d)
			if len(m.Values) == 0 {
				return Header{}, 0, &ApplyError{Delta: true, Offset: d.Offset, ID: d.ID, Reason: "the compact delta leaves the contact without attributes"}
			}
			err = write(m, d, true)
		}
		if err != nil {
			return Header{}, 0, err
		}
	}
	if err := wr.Close(trailer); err != nil {
		return Header{}, 0, rw.wrap(err)
	}
	return wr.Header(), n, nil
}

// applyKey is what ApplyStream keeps of a contact record.
type applyKey struct {
	id       GUID
	off      int64
	deleted  bool // the record has no attributes
	hasEmpty bool // the record has an empty attribute
}

// applyKeys reads the keys of every contact record of r, sorted by ContactId, and says whether
// r lists them in that order. A ContactId that appears twice is an *ApplyError.
func applyKeys(r *Reader, delta bool) ([]applyKey, bool, error) {
	var keys []applyKey
	sorted := true
	for c, err := range r.ContactsTransient() {
		if err != nil {
			return nil, false, &SideError{New: delta, Err: err}
		}
		if n := len(keys); n > 0 && bytes.Compare(keys[n-1].id[:], c.ID[:]) >= 0 {
			sorted = false
		}
		keys = append(keys, applyKey{id: c.ID, off: c.Offset, deleted: c.Deleted(),
			hasEmpty: slices.ContainsFunc(c.Values, func(v Value) bool { return v.Kind == ValueEmpty })})
	}
	if !sorted {
		slices.SortFunc(keys, func(a, b applyKey) int {
			if c := bytes.Compare(a.id[:], b.id[:]); c != 0 {
				return c
			}
			return cmp.Compare(a.off, b.off)
		})
	}
	for i := 1; i < len(keys); i++ {
		if keys[i].id == keys[i-1].id {
			return nil, false, &ApplyError{Delta: delta, Offset: keys[i].off, ID: keys[i].id,
				Reason: fmt.Sprintf("appears twice in the %s (first at offset %d)", map[bool]string{false: "full file", true: "delta"}[delta], keys[i-1].off)}
		}
	}
	return keys, sorted, nil
}

// checkDelta checks the delta's records (dkeys, of a file of kind kind) against the full file's
// (fkeys), both sorted by ContactId, as Apply does.
func checkDelta(fkeys, dkeys []applyKey, kind Kind) error {
	i := 0
	for _, d := range dkeys {
		for i < len(fkeys) && bytes.Compare(fkeys[i].id[:], d.id[:]) < 0 {
			i++
		}
		exists := i < len(fkeys) && fkeys[i].id == d.id
		bad := func(why string) error { return &ApplyError{Delta: true, Offset: d.off, ID: d.id, Reason: why} }
		switch {
		case d.deleted && !exists:
			return bad("the delta deletes it and the full file does not have it")
		case !d.deleted && (kind == Delta || !exists) && d.hasEmpty:
			return bad("a new contact with empty attributes")
		}
	}
	return nil
}

// cursor yields the contact records of a file in the order of its sorted keys: from the stream
// when the file lists them in that order, else each read at its offset.
type cursor struct {
	r     *Reader
	keys  []applyKey
	i     int // the next key
	delta bool
	pull  func() (*Contact, error, bool)
	stop  func()
}

func newCursor(r *Reader, keys []applyKey, sorted, delta bool) *cursor {
	c := &cursor{r: r, keys: keys, delta: delta, stop: func() {}}
	if sorted {
		c.pull, c.stop = iter.Pull2(r.ContactsTransient())
	}
	return c
}

// next returns the record of the next key. A record of the stream is valid until the next call.
func (c *cursor) next() (*Contact, error) {
	k := c.keys[c.i]
	c.i++
	var ct *Contact
	var err error
	if c.pull != nil {
		ct, err, _ = c.pull()
	} else {
		ct, err = c.r.ReadContactAt(k.off)
	}
	if err != nil {
		return nil, &SideError{New: c.delta, Err: err}
	}
	if ct == nil || ct.ID != k.id || ct.Offset != k.off {
		return nil, &ApplyError{Delta: c.delta, Offset: k.off, ID: k.id, Reason: "the file changed while it was read"}
	}
	return ct, nil
}

// recordingWriter keeps the first error of w, telling a failing writer from a refused contact.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// wrap returns the writer's error as a *WriteError when it failed, else err.
func (r *recordingWriter) wrap(err error) error {
	if r.err != nil {
		return &WriteError{Err: r.err}
	}
	return err
}
