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

// ApplyStream is Apply for a full file read from full as it streams, writing the resulting full
// file to w as it goes, ending with full's trailer (abkit's empty trailer when full has none); w
// gets byte for byte what Write(w, Apply(ReadBook(full), delta)) writes. It returns the header
// written and the number of contacts.
//
// Neither full nor the result is held in memory: a first pass over full keeps each contact's
// ContactId and offset (24 bytes per contact); a second pass writes the contacts in ContactId
// order with the delta's merged in, streaming full again when it lists its contacts in that
// order (as abkit and the server write them), else reading each at its offset. Memory: delta,
// 24 bytes per contact of full and the read and write buffers.
//
// Errors: a decoding error of full as its Reader returns it; an *ApplyError for a record of
// either file that cannot be applied (a ContactId twice, a deletion of a contact full does not
// have, a new contact with empty attributes, a compact change that leaves no attribute, a
// contact the Writer refuses); a *WriteError when w fails; a plain error when the headers do not
// fit together. Whatever was written to w before an error is not a valid file.
func ApplyStream(full *Reader, delta *Book, w io.Writer) (Header, int, error) {
	if err := checkApply(full.Header, full.Attributes(), delta); err != nil {
		return Header{}, 0, err
	}
	keys, sorted, err := applyKeys(full)
	if err != nil {
		return Header{}, 0, err
	}
	changes, adds, err := applyIndex(keys, delta)
	if err != nil {
		return Header{}, 0, err
	}
	trailer, err := full.TrailerBody()
	if err != nil {
		return Header{}, 0, err
	}
	rw := &recordingWriter{w: w}
	wr, err := NewWriter(rw, appliedHeader(full.Header, delta), delta.Attributes, delta.Rules)
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
	src := full.ContactsTransient()
	if !sorted {
		src = contactsAt(full, keys)
	}
	i := 0
	for c, err := range src {
		if err != nil {
			return Header{}, 0, err
		}
		if i >= len(keys) || c.ID != keys[i].id {
			return Header{}, 0, &ApplyError{Offset: c.Offset, ID: c.ID, Reason: "the full file changed while it was read"}
		}
		i++
		for ; len(adds) > 0 && bytes.Compare(adds[0].ID[:], c.ID[:]) < 0; adds = adds[1:] {
			if err := write(adds[0], adds[0], true); err != nil {
				return Header{}, 0, err
			}
		}
		d, ok := changes[c.ID]
		switch {
		case !ok:
			err = write(c, c, false)
		case d.Deleted():
		case delta.Header.Kind == Delta:
			err = write(d, d, true)
		default:
			m := mergeCompact(c, d)
			if len(m.Values) == 0 {
				return Header{}, 0, &ApplyError{Delta: true, Offset: d.Offset, ID: d.ID, Reason: "the compact delta leaves the contact without attributes"}
			}
			err = write(m, d, true)
		}
		if err != nil {
			return Header{}, 0, err
		}
	}
	if i != len(keys) {
		return Header{}, 0, &ApplyError{Offset: keys[i].off, ID: keys[i].id, Reason: "the full file changed while it was read"}
	}
	for _, a := range adds {
		if err := write(a, a, true); err != nil {
			return Header{}, 0, err
		}
	}
	if err := wr.Close(trailer); err != nil {
		return Header{}, 0, rw.wrap(err)
	}
	return wr.Header(), n, nil
}

// applyKey is what ApplyStream keeps of a contact of the full file.
type applyKey struct {
	id  GUID
	off int64
}

// applyKeys reads the ContactId and offset of every contact of full, sorted by ContactId, and
// says whether full lists them in that order. A ContactId that appears twice is an *ApplyError.
func applyKeys(full *Reader) ([]applyKey, bool, error) {
	var keys []applyKey
	sorted := true
	for c, err := range full.ContactsTransient() {
		if err != nil {
			return nil, false, err
		}
		if n := len(keys); n > 0 && bytes.Compare(keys[n-1].id[:], c.ID[:]) >= 0 {
			sorted = false
		}
		keys = append(keys, applyKey{id: c.ID, off: c.Offset})
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
			return nil, false, &ApplyError{Offset: keys[i].off, ID: keys[i].id,
				Reason: fmt.Sprintf("appears twice in the full file (first at offset %d)", keys[i-1].off)}
		}
	}
	return keys, sorted, nil
}

// applyIndex checks the records of delta against the full file's sorted keys, in the delta's
// order as Apply does, and returns the records that change or delete a contact of the full file
// by ContactId and those that add one, sorted by ContactId.
func applyIndex(keys []applyKey, delta *Book) (map[GUID]*Contact, []*Contact, error) {
	changes := make(map[GUID]*Contact)
	var adds []*Contact
	seen := make(map[GUID]bool, len(delta.Contacts))
	for _, d := range delta.Contacts {
		bad := func(why string) error { return &ApplyError{Delta: true, Offset: d.Offset, ID: d.ID, Reason: why} }
		if seen[d.ID] {
			return nil, nil, bad("appears twice in the delta")
		}
		seen[d.ID] = true
		_, exists := slices.BinarySearchFunc(keys, d.ID, func(k applyKey, id GUID) int { return bytes.Compare(k.id[:], id[:]) })
		switch {
		case d.Deleted() && !exists:
			return nil, nil, bad("the delta deletes it and the full file does not have it")
		case !d.Deleted() && (delta.Header.Kind == Delta || !exists) &&
			slices.ContainsFunc(d.Values, func(v Value) bool { return v.Kind == ValueEmpty }):
			return nil, nil, bad("a new contact with empty attributes")
		case exists:
			changes[d.ID] = d
		default:
			adds = append(adds, d)
		}
	}
	sortContacts(adds)
	return changes, adds, nil
}

// contactsAt yields the contacts of full at the keys' offsets, in the keys' order.
func contactsAt(full *Reader, keys []applyKey) iter.Seq2[*Contact, error] {
	return func(yield func(*Contact, error) bool) {
		for _, k := range keys {
			c, err := full.ReadContactAt(k.off)
			if !yield(c, err) || err != nil {
				return
			}
		}
	}
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
