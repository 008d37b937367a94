package tdstest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	mssql "github.com/microsoft/go-mssqldb"
)

// The responder against the real driver: types in both directions, transactions, errors.
func TestResponderWithRealDriver(t *testing.T) {
	guid := [16]byte{0x1f, 0x22, 0xbd, 0x96, 0x92, 0x84, 0x50, 0x44, 0xab, 0xb2, 0x2b, 0xd6, 0x82, 0x8d, 0xb2, 0x7a}
	blob := bytes.Repeat([]byte("sip:x@example.com "), 500) // 9000 bytes: crosses packets
	s := Start(t, func(r *Request) Response {
		switch r.SQL {
		case "SELECT 1":
			return Rows([]Column{{"i", Int}, {"b", BigInt}, {"s", NVarChar}, {"g", GUID}, {"img", Image}, {"vb", VarBinaryMax}},
				[]any{7, int64(1) << 40, "grüße", guid, blob, []byte{1, 2}},
				[]any{nil, nil, nil, nil, nil, nil})
		case "DELETE FROM t WHERE UserGuid = @guid":
			return Affected(1)
		case "SELECT missing":
			return Fail(208, "Invalid object name 'missing'.")
		case "SELECT deadlock":
			return Response{Error: &SQLError{Number: 1205, Message: "deadlock victim"}, AbortTx: true}
		}
		return Response{}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := sql.Open("sqlserver", s.DSN("rtc"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	rows, err := db.QueryContext(ctx, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	var got [][]any
	for rows.Next() {
		vals := make([]any, 6)
		ptrs := make([]any, 6)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		got = append(got, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d rows, want 2", len(got))
	}
	r0 := got[0]
	if r0[0] != int64(7) || r0[1] != int64(1)<<40 || r0[2] != "grüße" || !bytes.Equal(r0[3].([]byte), guid[:]) ||
		!bytes.Equal(r0[4].([]byte), blob) || !bytes.Equal(r0[5].([]byte), []byte{1, 2}) {
		t.Errorf("row 0 = %v", r0)
	}
	for i, v := range got[1] {
		if v != nil {
			t.Errorf("row 1 column %d = %v, want NULL", i, v)
		}
	}

	// A GUID parameter inside a committed transaction.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var u mssql.UniqueIdentifier
	if err := u.Scan(guid[:]); err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM t WHERE UserGuid = @guid", sql.Named("guid", u))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("rows affected %d, want 1", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	var kinds []Kind
	for _, r := range reqs {
		kinds = append(kinds, r.Kind)
	}
	if want := []Kind{Batch, Begin, RPC, Commit}; !equalKinds(kinds, want) {
		t.Fatalf("request kinds %v, want %v", kinds, want)
	}
	del := reqs[2]
	p, ok := del.Param("@guid")
	if !ok || p.Type != "uniqueidentifier" || p.Value != guid {
		t.Errorf("DELETE parameter %+v, want uniqueidentifier %x", p, guid)
	}
	if del.TranID == 0 || reqs[3].TranID != del.TranID {
		t.Errorf("transaction descriptors: delete %d, commit %d", del.TranID, reqs[3].TranID)
	}
	if del.Decl != "@guid uniqueidentifier" {
		t.Errorf("declaration %q", del.Decl)
	}

	// SQL errors reach the caller with their number.
	_, err = db.ExecContext(ctx, "SELECT missing")
	var me mssql.Error
	if !errors.As(err, &me) || me.Number != 208 {
		t.Errorf("error %v, want SQL 208", err)
	}

	// A deadlock victim's transaction is ended by the server; Rollback then succeeds locally.
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT deadlock"); !errors.As(err, &me) || me.Number != 1205 {
		t.Errorf("error %v, want SQL 1205", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Errorf("rollback after deadlock: %v", err)
	}
	if u := s.Users(); len(u) == 0 || u[0] != "tester" {
		t.Errorf("users %v", u)
	}
}

func TestLoginError(t *testing.T) {
	s := Start(t, func(*Request) Response { return Response{} })
	s.LoginError = &SQLError{Number: 18456, Class: 14, Message: "Login failed for user 'tester'."}
	db, err := sql.Open("sqlserver", s.DSN("rtc"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = db.PingContext(ctx)
	var me mssql.Error
	if !errors.As(err, &me) || me.Number != 18456 {
		t.Fatalf("ping error %v, want SQL 18456", err)
	}
}

func equalKinds(a, b []Kind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
