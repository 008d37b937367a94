package ldapsync

import (
	"context"
	"fmt"
	"slices"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// OIDs of LDAP transactions (RFC 5805). OpenLDAP's slapd offers them (back-mdb commits a whole
// transaction with one fsync); Active Directory and Samba do not.
const (
	ExtStartTxn    = "1.3.6.1.1.21.1" // Start Transaction extended operation
	ControlTxnSpec = "1.3.6.1.1.21.2" // transaction specification control, sent on every update
	ExtEndTxn      = "1.3.6.1.1.21.3" // End Transaction extended operation
)

// TxnModifier is a Modifier that can apply a group of modifies all or nothing.
type TxnModifier interface {
	Modifier
	// SupportsTransactions reports whether ModifyTxn can be used.
	SupportsTransactions() bool
	// ModifyTxn applies every request in one transaction: on a nil error all were committed,
	// on any error none was.
	ModifyTxn(ctx context.Context, reqs []*ldap.ModifyRequest) error
}

var _ TxnModifier = (*Forest)(nil)

// SupportsTransactions reports whether the server's rootDSE lists the Start Transaction
// extended operation (RFC 5805).
func (f *Forest) SupportsTransactions() bool {
	return f.rootDSE != nil && slices.Contains(f.rootDSE.SupportedExtensions, ExtStartTxn)
}

// TxnError reports a transaction that was not committed; none of its modifies took effect.
type TxnError struct {
	Forest string
	Step   string // "start", "modify DN" or "commit"
	Err    error
}

func (e *TxnError) Error() string {
	return fmt.Sprintf("ldapsync: forest %s: transaction %s: %v", e.Forest, e.Step, e.Err)
}

func (e *TxnError) Unwrap() error { return e.Err }

// ModifyTxn applies reqs in one RFC 5805 transaction: Start Transaction, each modify with the
// transaction specification control, then End Transaction with commit. When a modify is refused
// the transaction is aborted; when the commit fails (any modify's condition failed) the server
// applies none of them. Only one transaction runs on a connection at a time: callers serialise.
// The modifies are sent one after the other, and End Transaction only after endTxnPause: see
// endTxnPause for the slapd 2.5.13 crash this works around.
func (f *Forest) ModifyTxn(ctx context.Context, reqs []*ldap.ModifyRequest) error {
	var resp *ldap.ExtendedResponse
	err := f.guard(ctx, func() error {
		var err error
		resp, err = f.conn.Extended(ldap.NewExtendedRequest(ExtStartTxn, nil))
		return err
	})
	if err != nil {
		return &TxnError{Forest: f.opts.Name, Step: "start", Err: err}
	}
	// slapd's identifier is empty (the connection identifies the transaction), but present.
	if resp.Value == nil || resp.Value.Data == nil {
		return &TxnError{Forest: f.opts.Name, Step: "start", Err: fmt.Errorf("no transaction identifier in the response")}
	}
	id := resp.Value.Data.String()
	ctl := txnControl(id)
	for _, req := range reqs {
		r := *req
		r.Controls = append(slices.Clip(req.Controls), ctl)
		if err := f.guard(ctx, func() error { return f.conn.Modify(&r) }); err != nil {
			_ = f.endTxn(ctx, id, false)
			return &TxnError{Forest: f.opts.Name, Step: "modify " + req.DN, Err: err}
		}
	}
	if err := f.endTxn(ctx, id, true); err != nil {
		return &TxnError{Forest: f.opts.Name, Step: "commit", Err: err}
	}
	return nil
}

// txnControl is the transaction specification control; its value is the identifier, even when
// empty (ldap.ControlString omits an empty value).
type txnControl string

// GetControlType returns ControlTxnSpec.
func (c txnControl) GetControlType() string { return ControlTxnSpec }

// Encode encodes the control, critical, with the identifier as its value.
func (c txnControl) Encode() *ber.Packet {
	p := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, ControlTxnSpec, "Control Type"))
	p.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, true, "Criticality"))
	p.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(c), "Control Value"))
	return p
}

// String describes the control.
func (c txnControl) String() string { return fmt.Sprintf("transaction specification %q", string(c)) }

// endTxnPause is how long End Transaction waits after the transaction's last response.
//
// OpenLDAP slapd 2.5.13 (Debian 12's package) races in its RFC 5805 code: a thread that has
// sent a transaction modify's response is still queueing that modify when End Transaction,
// handled by another thread, starts running the queue. slapd then crashes (SIGSEGV in back_mdb,
// libc or slapd, or an assertion in pthread code), even with one connection, one modify per
// transaction, everything sent one after the other and every change succeeding: in the abkit
// test run without a pause, slapd died within 300 transactions in every run, often within 10.
// With the pause it survived runs of 600 transactions, except once with a 3 ms pause on the
// loaded two-core test machine, where the slapd thread was descheduled for longer. The pause
// makes the crash rare, not impossible; a server that must not go down is better updated with
// transactions off (sidmap --no-txn), or with a slapd where the race is fixed.
const endTxnPause = 10 * time.Millisecond

// endTxn sends End Transaction for id, committing or aborting it, after endTxnPause.
func (f *Forest) endTxn(ctx context.Context, id string, commit bool) error {
	pause := time.NewTimer(endTxnPause)
	select {
	case <-pause.C:
	case <-ctx.Done():
		pause.Stop()
	}
	seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "txnEndReq")
	if !commit {
		seq.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, "commit"))
	}
	seq.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, id, "identifier"))
	return f.guard(ctx, func() error {
		_, err := f.conn.Extended(ldap.NewExtendedRequest(ExtEndTxn, seq))
		return err
	})
}
