// Package tdstest is a TDS responder for tests only. The real go-mssqldb driver connects to it
// over loopback TCP and speaks the real protocol: PRELOGIN (encryption not supported, so the test
// DSN must say encrypt=disable), LOGIN7, SQL batches, RPC requests (sp_executesql with typed
// parameters), transaction manager requests (begin, commit, rollback) and attention.
//
// It executes no SQL. Each request is parsed — statement text, parameter names, TDS types and
// values, the transaction descriptor — recorded, and handed to the test's Handler, which returns a
// canned answer: result sets (int, bigint, nvarchar, uniqueidentifier, image and varbinary(max)
// columns), a row count, an SQL error (optionally ending the transaction, like a deadlock victim)
// or a dropped connection. Transaction begin, commit and rollback are answered with the ENVCHANGE
// tokens SQL Server sends, so that database/sql's Tx.Commit and Tx.Rollback reach the responder.
//
// Parameters whose name matches Server.GUIDParam must be sent as uniqueidentifier: a GUID sent as
// varbinary fails the test, as does any request the responder cannot parse.
package tdstest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

// Kind is the kind of a client request.
type Kind int

// Request kinds.
const (
	Batch    Kind = iota // SQL batch: a statement without parameters
	RPC                  // RPC: sp_executesql or a stored procedure with parameters
	Begin                // transaction manager: begin transaction
	Commit               // transaction manager: commit
	Rollback             // transaction manager: rollback
)

func (k Kind) String() string {
	return [...]string{"batch", "rpc", "begin", "commit", "rollback"}[k]
}

// Request is one parsed client request.
type Request struct {
	Conn   int    // connection number, from 1
	Kind   Kind   //
	SQL    string // batch text, or sp_executesql's statement
	Decl   string // sp_executesql's parameter declarations, e.g. "@guid uniqueidentifier"
	Proc   string // stored procedure name of an RPC that is not sp_executesql
	Params []Param
	TranID uint64 // transaction descriptor sent with the request (0: none)
}

// Param returns the parameter named name (with its @).
func (r *Request) Param(name string) (Param, bool) {
	for _, p := range r.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Param is one RPC parameter as it crossed the wire.
type Param struct {
	Name string // with the leading @
	// Type is the TDS type: uniqueidentifier, nvarchar, varchar, varbinary, tinyint, smallint,
	// int, bigint, bit or null.
	Type string
	// Value: [16]byte for uniqueidentifier (wire order, which is the Windows GUID layout),
	// string, []byte, int64 or bool; nil for NULL.
	Value any
}

// ColType is a result column type.
type ColType int

// Result column types.
const (
	Int ColType = iota
	BigInt
	NVarChar
	GUID
	Image
	VarBinaryMax
)

// Column is a result column.
type Column struct {
	Name string
	Type ColType
}

// Result is one result set, or, with no Columns, the row count of a statement.
type Result struct {
	Columns  []Column
	Rows     [][]any // per column: int64/int, string, [16]byte, []byte or nil
	RowCount int64   // rows affected when Columns is nil
}

// SQLError is an error SQL Server reports (ERROR token).
type SQLError struct {
	Number  int32
	Class   uint8 // severity; 0 means 16
	Message string
}

// Response is the canned answer to one request.
type Response struct {
	Results []Result
	Error   *SQLError // sent after Results
	AbortTx bool      // with Error: the server ended the transaction (as for deadlock victim 1205)
	Drop    bool      // close the connection without answering
}

// Rows returns a response with one result set.
func Rows(cols []Column, rows ...[]any) Response {
	return Response{Results: []Result{{Columns: cols, Rows: rows}}}
}

// Affected returns a response reporting n rows affected.
func Affected(n int64) Response { return Response{Results: []Result{{RowCount: n}}} }

// Fail returns a response carrying SQL error number with message.
func Fail(number int32, message string) Response {
	return Response{Error: &SQLError{Number: number, Message: message}}
}

// Handler answers a request. Calls are serialized. Begin, Commit and Rollback requests get the
// usual transaction answer when the handler returns a zero Response.
type Handler func(*Request) Response

// Server is a running responder.
type Server struct {
	// GUIDParam matches the names of parameters that carry GUIDs and must be uniqueidentifier.
	GUIDParam *regexp.Regexp
	// LoginError, when set before connecting, makes every login fail with this error.
	LoginError *SQLError

	t       testing.TB
	ln      net.Listener
	handler Handler

	hmu   sync.Mutex // serializes handler calls
	mu    sync.Mutex
	reqs  []Request
	users []string
	conns int
	tran  uint64
	open  map[net.Conn]bool
	wg    sync.WaitGroup
}

// Start listens on 127.0.0.1 (a free port) and serves until the test ends.
func Start(t testing.TB, h Handler) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("tdstest: listen: %v", err)
	}
	s := &Server{GUIDParam: regexp.MustCompile(`(?i)guid|^@g[0-9]+$`), t: t, ln: ln, handler: h,
		open: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Port is the TCP port the responder listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// DSN is a go-mssqldb connection string for the responder (SQL login, encrypt=disable).
func (s *Server) DSN(database string) string {
	return fmt.Sprintf("sqlserver://tester:secret@127.0.0.1:%d?database=%s&encrypt=disable&dial+timeout=5", s.Port(), database)
}

// Requests returns a copy of the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Users returns the login names of the connections so far.
func (s *Server) Users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.users...)
}

// Close stops listening, closes every connection and waits for the goroutines.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for c := range s.open {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		id := s.conns
		s.open[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.open, c)
				s.mu.Unlock()
				_ = c.Close()
			}()
			if err := s.session(&conn{c: c, id: id}); err != nil && !isClosed(err) {
				s.t.Errorf("tdstest: connection %d: %v", id, err)
			}
		}()
	}
}

func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, errDropped)
}

var errDropped = errors.New("connection dropped by the handler")

// conn is one client connection.
type conn struct {
	c    net.Conn
	id   int
	tran uint64 // open transaction, 0 when none
}

// TDS packet types.
const (
	pktBatch    = 0x01
	pktRPC      = 0x03
	pktReply    = 0x04
	pktAttn     = 0x06
	pktTransMgr = 0x0E
	pktLogin7   = 0x10
	pktPrelogin = 0x12
)

// readMessage reads packets up to the end-of-message flag; the message is capped at 16 MiB.
func (c *conn) readMessage() (byte, []byte, error) {
	var msg []byte
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(c.c, hdr[:]); err != nil {
			return 0, nil, err
		}
		n := int(hdr[2])<<8 | int(hdr[3])
		if n < 8 {
			return 0, nil, fmt.Errorf("packet length %d", n)
		}
		if len(msg)+n > 16<<20 {
			return 0, nil, errors.New("message longer than 16 MiB")
		}
		body := make([]byte, n-8)
		if _, err := io.ReadFull(c.c, body); err != nil {
			return 0, nil, err
		}
		msg = append(msg, body...)
		if hdr[1]&0x01 != 0 {
			return hdr[0], msg, nil
		}
	}
}

// writeMessage sends payload as reply packets of at most 4096 bytes.
func (c *conn) writeMessage(payload []byte) error {
	const max = 4096 - 8
	seq := byte(1)
	for first := true; first || len(payload) > 0; first = false {
		n := min(len(payload), max)
		status := byte(0)
		if n == len(payload) {
			status = 0x01
		}
		pkt := make([]byte, 8, 8+n)
		pkt[0], pkt[1] = pktReply, status
		pkt[2], pkt[3] = byte((n+8)>>8), byte(n+8)
		pkt[6] = seq
		pkt = append(pkt, payload[:n]...)
		if _, err := c.c.Write(pkt); err != nil {
			return err
		}
		payload = payload[n:]
		seq++
	}
	return nil
}

// session runs one connection: prelogin, login, then requests until the client leaves.
func (s *Server) session(c *conn) error {
	typ, _, err := c.readMessage()
	if err != nil {
		return err
	}
	if typ != pktPrelogin {
		return fmt.Errorf("first packet type 0x%02x, want PRELOGIN", typ)
	}
	// VERSION 9.0.4035 (SQL Server 2005 SP3), ENCRYPTION = not supported, terminator.
	pre := []byte{0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xFF, 9, 0, 0x0F, 0xA3, 0, 0, 0x02}
	if err := c.writeMessage(pre); err != nil {
		return err
	}
	typ, login, err := c.readMessage()
	if err != nil {
		return err
	}
	if typ != pktLogin7 {
		return fmt.Errorf("packet type 0x%02x after PRELOGIN, want LOGIN7 (did the client try TLS? use encrypt=disable)", typ)
	}
	user, database, err := parseLogin7(login)
	if err != nil {
		return fmt.Errorf("LOGIN7: %w", err)
	}
	s.mu.Lock()
	s.users = append(s.users, user)
	s.mu.Unlock()
	var w tokens
	if s.LoginError != nil {
		w.error(s.LoginError)
		w.done(doneError, 0, 0)
		return c.writeMessage(w.b)
	}
	w.loginAck()
	w.envChange(1, ucs2Bvar(database), ucs2Bvar("master"))
	w.done(0, 0, 0)
	if err := c.writeMessage(w.b); err != nil {
		return err
	}
	for {
		typ, msg, err := c.readMessage()
		if err != nil {
			return err
		}
		if typ == pktAttn {
			var a tokens
			a.done(doneAttn, 0, 0)
			if err := c.writeMessage(a.b); err != nil {
				return err
			}
			continue
		}
		req, err := parseRequest(typ, msg)
		if err != nil {
			return err
		}
		req.Conn = c.id
		s.checkParams(req)
		s.mu.Lock()
		s.reqs = append(s.reqs, *req)
		s.mu.Unlock()
		s.hmu.Lock()
		resp := s.handler(req)
		s.hmu.Unlock()
		if resp.Drop {
			return errDropped
		}
		if err := c.writeMessage(s.answer(c, req, resp)); err != nil {
			return err
		}
	}
}

// checkParams fails the test when a GUID parameter is not a uniqueidentifier.
func (s *Server) checkParams(r *Request) {
	for _, p := range r.Params {
		if s.GUIDParam.MatchString(p.Name) && p.Type != "uniqueidentifier" {
			s.t.Errorf("tdstest: parameter %s of %q sent as %s, want uniqueidentifier", p.Name, r.SQL, p.Type)
		}
		if b, ok := p.Value.([]byte); ok && p.Type == "varbinary" && len(b) == 16 {
			s.t.Errorf("tdstest: parameter %s of %q is a 16-byte varbinary: a GUID sent as []byte?", p.Name, r.SQL)
		}
	}
}

// answer encodes resp, handling the transaction requests.
func (s *Server) answer(c *conn, req *Request, resp Response) []byte {
	var w tokens
	empty := len(resp.Results) == 0 && resp.Error == nil
	switch {
	case req.Kind == Begin && empty:
		s.mu.Lock()
		s.tran++
		c.tran = s.tran
		s.mu.Unlock()
		w.envChange(8, bvarBytes(le64(c.tran)), []byte{0})
	case (req.Kind == Commit || req.Kind == Rollback) && empty:
		typ := byte(9)
		if req.Kind == Rollback {
			typ = 10
		}
		w.envChange(typ, []byte{0}, bvarBytes(le64(c.tran)))
		c.tran = 0
	}
	for i, r := range resp.Results {
		more := uint16(0)
		if i < len(resp.Results)-1 || resp.Error != nil {
			more = doneMore
		}
		if r.Columns == nil {
			w.done(doneCount|more, curCmdDML, uint64(r.RowCount))
			continue
		}
		w.colMetadata(r.Columns)
		for _, row := range r.Rows {
			w.row(r.Columns, row)
		}
		w.done(doneCount|more, curCmdSelect, uint64(len(r.Rows)))
	}
	if resp.Error != nil {
		w.error(resp.Error)
		if resp.AbortTx && c.tran != 0 {
			w.envChange(10, []byte{0}, bvarBytes(le64(c.tran)))
			c.tran = 0
		}
		w.done(doneError, 0, 0)
	} else if len(resp.Results) == 0 {
		w.done(0, 0, 0)
	}
	return w.b
}

func le64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

func bvarBytes(b []byte) []byte { return append([]byte{byte(len(b))}, b...) }

// String describes a request for failure messages.
func (r Request) String() string {
	s := r.Kind.String() + " " + strconv.Quote(r.SQL)
	for _, p := range r.Params {
		s += fmt.Sprintf(" %s(%s)=%v", p.Name, p.Type, p.Value)
	}
	return s
}
