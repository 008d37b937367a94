// Package ldapsynctest is an LDAP responder for tests only. go-ldap and ldapsync's own
// multiplexer connect to it over loopback TCP and speak real LDAPv3 (BER): simple binds, SASL
// "NTLM" binds and Microsoft's "Sicily" NTLM bind (NTLMv2 responses are checked against the
// account's password), searches with the paged results control (cookies, release with a page
// size of 0), abandon, modify (add, delete with values, replace; all or nothing), StartTLS (with
// Server.TLS), the Who am I?
// and RFC 5805 transaction extended operations (start, transaction specification control, end
// with commit or abort), and a rootDSE listing the supported controls and extensions.
//
// Searches on one connection run concurrently, like a real server's: a search runs while the
// next request is read, so several outstanding searches interleave their results and a modify
// is answered while a search is still sending. Other requests are answered in order. Every
// request passes the test's Hook first, which can script a failure (a result code, a delay or a
// dropped connection). Entries live in memory; filters support and, or, not, equality,
// substrings and presence (case-insensitive on strings, exact on bytes).
package ldapsynctest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	ber "github.com/go-asn1-ber/asn1-ber"
	"golang.org/x/crypto/md4" //lint:ignore SA1019 NTLM is defined on MD4
)

// OIDs the responder implements.
const (
	ControlPaging  = "1.2.840.113556.1.4.319"
	ControlTxnSpec = "1.3.6.1.1.21.2"
	ExtStartTxn    = "1.3.6.1.1.21.1"
	ExtEndTxn      = "1.3.6.1.1.21.3"
	ExtWhoAmI      = "1.3.6.1.4.1.4203.1.11.3"
	ExtStartTLS    = "1.3.6.1.4.1.1466.20037"
)

// LDAP result codes the responder sends.
const (
	Success                = 0
	OperationsError        = 1
	ProtocolError          = 2
	SizeLimitExceeded      = 4
	AuthMethodNotSupported = 7
	UnavailableCriticalExt = 12
	SaslBindInProgress     = 14
	NoSuchAttribute        = 16
	NoSuchObject           = 32
	InvalidCredentials     = 49
	UnwillingToPerform     = 53
	AttributeOrValueExists = 20
)

// Protocol operation tags (RFC 4511 4.2 to 4.12).
const (
	applicationBindRequest  = 0
	applicationBindResponse = 1
	applicationUnbind       = 2
	applicationSearch       = 3
	applicationSearchEntry  = 4
	applicationSearchDone   = 5
	applicationModify       = 6
	applicationModifyResp   = 7
	applicationAbandon      = 16
	applicationExtended     = 23
	applicationExtendedResp = 24
)

// Account is an identity the responder accepts.
type Account struct {
	DN       string // simple bind name; also what Who am I? reports ("dn:" + DN)
	Name     string // NTLM name DOMAIN\user, also accepted as a simple-bind name
	Password string
}

// Request describes one client request, as the Hook sees it.
type Request struct {
	Conn      int    // connection number, from 1
	MessageID int64  //
	Op        string // "bind", "search", "modify", "extended", "abandon", "unbind"
	Method    string // bind: "simple", "sasl/NTLM", "sicily"; "" otherwise
	DN        string // bind name, search base or modified DN
	OID       string // extended operation's name
	Page      int    // search: 0 without the paged results control, else the connection's paged request number from 1
	InTxn     bool   // modify carrying the transaction specification control
}

// Result is a scripted answer to a request.
type Result struct {
	Code  int           // result code to answer with instead of handling the request (0: handle it)
	Diag  string        // diagnostic message
	Delay time.Duration // wait this long before answering
	Close bool          // drop the connection instead of answering
}

// Hook sees every request before it is handled; a non-nil Result scripts the answer.
type Hook func(Request) *Result

// Stats counts what the responder served.
type Stats struct {
	Conns, Binds, Searches, Pages, PageReleases, Abandons, Modifies int
	TxnStarted, TxnCommitted, TxnAborted                            int
	// MaxOutstanding is the largest number of searches one connection had running at once.
	MaxOutstanding int
}

// Server is a running responder. Set its fields before the first client connects.
type Server struct {
	// URL is ldap://127.0.0.1:port.
	URL string
	// Accounts may bind; none = only anonymous binds succeed.
	Accounts []Account
	// Hook scripts failures; nil = none.
	Hook Hook
	// EntryDelay is slept before each search result entry, to make concurrent searches overlap.
	EntryDelay time.Duration
	// Extensions and Controls are the rootDSE's supportedExtension and supportedControl; by
	// default everything the responder implements.
	Extensions, Controls []string
	// SASLMechanisms is the rootDSE's supportedSASLMechanisms; default NTLM.
	SASLMechanisms []string
	// NoSASLNTLM answers a SASL NTLM bind with authMethodNotSupported (as Windows AD does).
	NoSASLNTLM bool
	// BaseDN is the rootDSE's defaultNamingContext and namingContexts.
	BaseDN string
	// TLS, when set, offers StartTLS (RFC 4511 4.14) with this server configuration.
	TLS *tls.Config

	ln      net.Listener
	mu      sync.Mutex
	entries []*entry // in insertion order
	stats   Stats
	cookies map[string]*pagedState
	nconn   int
	wg      sync.WaitGroup
	conns   map[net.Conn]bool
}

type entry struct {
	dn    string
	attrs []attr
}

type attr struct {
	name   string
	values [][]byte
}

type pagedState struct {
	next int // index into the matches
	key  string
}

// Start starts a responder on a loopback port for base and stops it when the test ends.
func Start(t testing.TB, base string) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{URL: "ldap://" + ln.Addr().String(), BaseDN: base, ln: ln, cookies: map[string]*pagedState{}, conns: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Close stops the responder and closes its connections.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Add stores an entry; attrs maps attribute names to values (strings or raw bytes).
func (s *Server) Add(dn string, attrs map[string][]string) {
	e := &entry{dn: dn}
	for _, name := range sortedKeys(attrs) {
		a := attr{name: name}
		for _, v := range attrs[name] {
			a.values = append(a.values, []byte(v))
		}
		e.attrs = append(e.attrs, a)
	}
	s.mu.Lock()
	s.entries = append(s.entries, e)
	s.mu.Unlock()
}

// Values returns the values of attribute name of the entry dn (nil when absent).
func (s *Server) Values(dn, name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.find(dn)
	if e == nil {
		return nil
	}
	var out []string
	if a := e.get(name); a != nil {
		for _, v := range a.values {
			out = append(out, string(v))
		}
	}
	return out
}

// Stats returns what has been served so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func (s *Server) find(dn string) *entry {
	for _, e := range s.entries {
		if strings.EqualFold(e.dn, dn) {
			return e
		}
	}
	return nil
}

func (e *entry) get(name string) *attr {
	for i := range e.attrs {
		if strings.EqualFold(e.attrs[i].name, name) {
			return &e.attrs[i]
		}
	}
	return nil
}

func (e *entry) clone() *entry {
	c := &entry{dn: e.dn, attrs: make([]attr, len(e.attrs))}
	for i, a := range e.attrs {
		c.attrs[i] = attr{name: a.name, values: slices.Clone(a.values)}
	}
	return c
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.nconn++
		s.stats.Conns++
		s.conns[c] = true
		cn := &conn{s: s, raw: c, c: c, n: s.nconn, running: map[int64]chan struct{}{}, txns: map[string][]*modifyReq{}}
		s.mu.Unlock()
		s.wg.Add(1)
		go cn.serve()
	}
}

// conn is one client connection.
type conn struct {
	s       *Server
	raw     net.Conn // the TCP connection
	c       net.Conn // raw, or the TLS connection over it after StartTLS
	n       int
	wmu     sync.Mutex
	mu      sync.Mutex
	running map[int64]chan struct{} // searches in progress, by message ID; closed on abandon
	bound   string
	ntlm    []byte // server challenge of a NTLM bind in progress
	txns    map[string][]*modifyReq
	ntxn    int
	pages   int // paged search requests read so far
	wg      sync.WaitGroup
}

func (c *conn) serve() {
	defer c.s.wg.Done()
	defer func() {
		c.c.Close()
		c.mu.Lock()
		for _, ch := range c.running {
			close(ch)
		}
		c.running = map[int64]chan struct{}{}
		c.mu.Unlock()
		c.wg.Wait()
		c.s.mu.Lock()
		delete(c.s.conns, c.raw)
		c.s.mu.Unlock()
	}()
	for {
		p, err := ber.ReadPacket(c.c)
		if err != nil {
			return
		}
		if len(p.Children) < 2 {
			return
		}
		id, _ := p.Children[0].Value.(int64)
		op := p.Children[1]
		var controls []*ber.Packet
		if len(p.Children) > 2 {
			controls = p.Children[2].Children
		}
		if !c.handle(id, op, controls) {
			return
		}
	}
}

// handle serves one request; false ends the connection.
func (c *conn) handle(id int64, op *ber.Packet, controls []*ber.Packet) bool {
	req := Request{Conn: c.n, MessageID: id}
	switch op.Tag {
	case applicationBindRequest:
		req.Op = "bind"
		if len(op.Children) >= 3 {
			req.DN = str(op.Children[1])
			switch op.Children[2].Tag {
			case 0:
				req.Method = "simple"
			case 3:
				req.Method = "sasl/" + str(op.Children[2].Children[0])
			default:
				req.Method = "sicily"
			}
		}
	case applicationSearch:
		req.Op = "search"
		if len(op.Children) > 0 {
			req.DN = str(op.Children[0])
		}
		if _, ok := findControl(controls, ControlPaging); ok {
			c.pages++
			req.Page = c.pages
		}
	case applicationModify:
		req.Op = "modify"
		if len(op.Children) > 0 {
			req.DN = str(op.Children[0])
		}
		_, req.InTxn = findControl(controls, ControlTxnSpec)
	case applicationExtended:
		req.Op = "extended"
		if len(op.Children) > 0 {
			req.OID = str(op.Children[0])
		}
	case applicationAbandon:
		req.Op = "abandon"
	case applicationUnbind:
		req.Op = "unbind"
		return false
	default:
		return c.reply(id, applicationExtendedResp, ProtocolError, "unsupported operation", nil, nil)
	}
	if req.Op == "search" {
		// Searches run on their own, like a real server's, so that others can overlap them.
		done := make(chan struct{})
		c.mu.Lock()
		c.running[id] = done
		n := len(c.running)
		c.mu.Unlock()
		c.s.mu.Lock()
		c.s.stats.MaxOutstanding = max(c.s.stats.MaxOutstanding, n)
		c.s.mu.Unlock()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer func() {
				c.mu.Lock()
				if c.running[id] == done {
					delete(c.running, id)
				}
				c.mu.Unlock()
			}()
			if c.scripted(&req, applicationSearchDone) {
				return
			}
			c.search(id, op, controls, done)
		}()
		return true
	}
	if c.scripted(&req, map[string]int{"bind": applicationBindResponse, "modify": applicationModifyResp, "extended": applicationExtendedResp, "abandon": -1}[req.Op]) {
		return true
	}
	switch req.Op {
	case "bind":
		return c.bind(id, op)
	case "modify":
		return c.modify(id, op, controls)
	case "extended":
		return c.extended(id, op)
	case "abandon":
		target, _ := op.Value.(int64)
		if target == 0 {
			target = int64(berInt(op.Data.Bytes()))
		}
		c.s.mu.Lock()
		c.s.stats.Abandons++
		c.s.mu.Unlock()
		c.mu.Lock()
		if ch, ok := c.running[target]; ok {
			close(ch)
			delete(c.running, target)
		}
		c.mu.Unlock()
	}
	return true
}

// scripted runs the Hook; it reports whether the Hook answered the request (resp is the response
// operation's tag; -1 for a request without a response).
func (c *conn) scripted(req *Request, resp int) bool {
	if c.s.Hook == nil {
		return false
	}
	r := c.s.Hook(*req)
	if r == nil {
		return false
	}
	time.Sleep(r.Delay)
	if r.Close {
		c.c.Close()
		return true
	}
	if r.Code == 0 || resp < 0 {
		return false
	}
	c.reply(req.MessageID, resp, r.Code, r.Diag, nil, nil)
	return true
}

// send writes one message with the operation op and optional controls.
func (c *conn) send(id int64, op *ber.Packet, controls ...*ber.Packet) bool {
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "MessageID"))
	env.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
		for _, ctl := range controls {
			cs.AppendChild(ctl)
		}
		env.AppendChild(cs)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.c.Write(env.Bytes())
	return err == nil
}

// startTLS answers a StartTLS request and continues the connection over TLS.
func (c *conn) startTLS(id int64) bool {
	if c.s.TLS == nil {
		return c.reply(id, applicationExtendedResp, ProtocolError, "StartTLS not offered", nil, nil)
	}
	if !c.reply(id, applicationExtendedResp, Success, "", nil, nil) {
		return false
	}
	tc := tls.Server(c.c, c.s.TLS)
	if err := tc.Handshake(); err != nil {
		return false
	}
	c.wmu.Lock()
	c.c = tc
	c.wmu.Unlock()
	return true
}

// reply sends an LDAPResult-shaped response; extra are appended after the diagnostic message.
func (c *conn) reply(id int64, tag, code int, diag string, extra []*ber.Packet, controls []*ber.Packet, matched ...string) bool {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ber.Tag(tag), nil, "Response")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(code), "resultCode"))
	m := ""
	if len(matched) > 0 {
		m = matched[0]
	}
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, m, "matchedDN"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diag, "diagnosticMessage"))
	for _, e := range extra {
		op.AppendChild(e)
	}
	return c.send(id, op, controls...)
}

func str(p *ber.Packet) string {
	if p == nil || p.Data == nil {
		return ""
	}
	return p.Data.String()
}

func berInt(b []byte) int {
	n := 0
	for _, c := range b {
		n = n<<8 | int(c)
	}
	return n
}

func findControl(controls []*ber.Packet, oid string) (value []byte, ok bool) {
	for _, ctl := range controls {
		if len(ctl.Children) == 0 || str(ctl.Children[0]) != oid {
			continue
		}
		last := ctl.Children[len(ctl.Children)-1]
		if len(ctl.Children) > 1 && last.Tag == ber.TagOctetString {
			return last.Data.Bytes(), true
		}
		return nil, true
	}
	return nil, false
}

// ---- bind -------------------------------------------------------------------------------------

func (c *conn) bind(id int64, op *ber.Packet) bool {
	c.s.mu.Lock()
	c.s.stats.Binds++
	c.s.mu.Unlock()
	if len(op.Children) < 3 {
		return c.reply(id, applicationBindResponse, ProtocolError, "malformed bind", nil, nil)
	}
	name, auth := str(op.Children[1]), op.Children[2]
	switch {
	case auth.ClassType == ber.ClassContext && auth.Tag == 0: // simple
		pw := auth.Data.String()
		if name == "" && pw == "" {
			c.setBound("")
			return c.reply(id, applicationBindResponse, Success, "", nil, nil)
		}
		for _, a := range c.s.Accounts {
			if (strings.EqualFold(a.DN, name) || strings.EqualFold(a.Name, name)) && a.Password == pw && pw != "" {
				c.setBound("dn:" + a.DN)
				return c.reply(id, applicationBindResponse, Success, "", nil, nil)
			}
		}
		return c.reply(id, applicationBindResponse, InvalidCredentials, "80090308: invalid credentials", nil, nil)
	case auth.Tag == 3: // SASL
		if len(auth.Children) == 0 || str(auth.Children[0]) != "NTLM" || c.s.NoSASLNTLM {
			return c.reply(id, applicationBindResponse, AuthMethodNotSupported, "SASL mechanism not supported", nil, nil)
		}
		var cred []byte
		if len(auth.Children) > 1 {
			cred = auth.Children[1].Data.Bytes()
		}
		code, challenge := c.ntlmStep(cred)
		var extra []*ber.Packet
		if challenge != nil {
			extra = append(extra, ber.NewString(ber.ClassContext, ber.TypePrimitive, 7, string(challenge), "serverSaslCreds"))
		}
		return c.reply(id, applicationBindResponse, code, "", extra, nil)
	case auth.Tag == 10 || auth.Tag == 11: // Sicily negotiate / response
		code, challenge := c.ntlmStep(auth.Data.Bytes())
		if challenge != nil { // the challenge travels in matchedDN, with success
			return c.reply(id, applicationBindResponse, Success, "", nil, nil, string(challenge))
		}
		return c.reply(id, applicationBindResponse, code, "", nil, nil)
	}
	return c.reply(id, applicationBindResponse, AuthMethodNotSupported, "unsupported authentication", nil, nil)
}

func (c *conn) setBound(who string) {
	c.mu.Lock()
	c.bound = who
	c.mu.Unlock()
}

// ntlmStep answers an NTLM NEGOTIATE with a CHALLENGE (code SaslBindInProgress) and checks an
// AUTHENTICATE's NTLMv2 response against the accounts.
func (c *conn) ntlmStep(msg []byte) (code int, challenge []byte) {
	if len(msg) < 12 || !bytes.HasPrefix(msg, []byte("NTLMSSP\x00")) {
		return ProtocolError, nil
	}
	switch binary.LittleEndian.Uint32(msg[8:]) {
	case 1:
		c.ntlm = make([]byte, 8)
		_, _ = rand.Read(c.ntlm)
		return SaslBindInProgress, ntlmChallenge(c.ntlm)
	case 3:
		if c.ntlm == nil {
			return ProtocolError, nil
		}
		server := c.ntlm
		c.ntlm = nil
		field := func(off int) []byte {
			if len(msg) < off+8 {
				return nil
			}
			l, o := int(binary.LittleEndian.Uint16(msg[off:])), int(binary.LittleEndian.Uint32(msg[off+4:]))
			if o+l > len(msg) {
				return nil
			}
			return msg[o : o+l]
		}
		nt, domain, user := field(20), utf16String(field(28)), utf16String(field(36))
		if len(nt) < 16 {
			return InvalidCredentials, nil
		}
		for _, a := range c.s.Accounts {
			ad, au, ok := strings.Cut(a.Name, `\`)
			// The Sicily bind sends no domain; the NTLMv2 proof covers what was sent.
			if !ok || (domain != "" && !strings.EqualFold(ad, domain)) || !strings.EqualFold(au, user) {
				continue
			}
			if hmac.Equal(nt[:16], ntProof(a.Password, user, domain, server, nt[16:])) {
				c.setBound("u:" + a.Name)
				return Success, nil
			}
		}
		return InvalidCredentials, nil
	}
	return ProtocolError, nil
}

// ntlmChallenge builds a CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2): Unicode, NTLM, extended session
// security, target info holding only MsvAvEOL.
func ntlmChallenge(server []byte) []byte {
	const flags = 0x00000001 | 0x00000200 | 0x00080000 | 0x00800000
	info := []byte{0, 0, 0, 0} // MsvAvEOL
	b := make([]byte, 48, 48+len(info))
	copy(b, "NTLMSSP\x00")
	binary.LittleEndian.PutUint32(b[8:], 2)
	binary.LittleEndian.PutUint32(b[16:], 48) // empty target name at the end
	binary.LittleEndian.PutUint32(b[20:], flags)
	copy(b[24:32], server)
	binary.LittleEndian.PutUint16(b[40:], uint16(len(info)))
	binary.LittleEndian.PutUint16(b[42:], uint16(len(info)))
	binary.LittleEndian.PutUint32(b[44:], 48)
	return append(b, info...)
}

// ntProof is the NTLMv2 NTProofStr for password, user and domain over the server challenge and
// the client's blob (MS-NLMP 3.3.2).
func ntProof(password, user, domain string, server, blob []byte) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	key := hmac.New(md5.New, h.Sum(nil))
	key.Write(utf16le(strings.ToUpper(user) + domain))
	mac := hmac.New(md5.New, key.Sum(nil))
	mac.Write(server)
	mac.Write(blob)
	return mac.Sum(nil)
}

func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return b
}

func utf16String(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// ---- search -----------------------------------------------------------------------------------

func (c *conn) search(id int64, op *ber.Packet, controls []*ber.Packet, done chan struct{}) {
	if len(op.Children) < 8 {
		c.reply(id, applicationSearchDone, ProtocolError, "malformed search", nil, nil)
		return
	}
	base, scope := str(op.Children[0]), int(op.Children[1].Value.(int64))
	sizeLimit := int(op.Children[3].Value.(int64))
	filter := op.Children[6]
	var want []string
	for _, a := range op.Children[7].Children {
		want = append(want, str(a))
	}
	if base == "" && scope == 0 {
		c.send(id, c.s.rootDSE().encode(want))
		c.reply(id, applicationSearchDone, Success, "", nil, nil)
		return
	}
	c.s.mu.Lock()
	c.s.stats.Searches++
	var matches []*entry
	for _, e := range c.s.entries {
		if inScope(e.dn, base, scope) && match(e, filter) {
			matches = append(matches, e.clone())
		}
	}
	c.s.mu.Unlock()
	pv, paged := findControl(controls, ControlPaging)
	start, end := 0, len(matches)
	var respControls []*ber.Packet
	if paged {
		size, cookie, err := decodePaging(pv)
		if err != nil {
			c.reply(id, applicationSearchDone, ProtocolError, "malformed paged results control", nil, nil)
			return
		}
		key := fmt.Sprintf("%s|%d|%x", base, scope, filter.Bytes())
		c.s.mu.Lock()
		st := c.s.cookies[string(cookie)]
		if len(cookie) > 0 {
			delete(c.s.cookies, string(cookie))
		}
		c.s.mu.Unlock()
		if len(cookie) > 0 && (st == nil || st.key != key) {
			c.reply(id, applicationSearchDone, UnwillingToPerform, "unknown paged results cookie", nil, nil)
			return
		}
		if st != nil {
			start = st.next
		}
		if size == 0 { // release (RFC 2696)
			c.s.mu.Lock()
			c.s.stats.PageReleases++
			c.s.mu.Unlock()
			c.reply(id, applicationSearchDone, Success, "", nil, []*ber.Packet{pagingControl(nil)})
			return
		}
		end = min(start+size, len(matches))
		var next []byte
		c.s.mu.Lock()
		c.s.stats.Pages++
		if end < len(matches) {
			next = make([]byte, 8)
			_, _ = rand.Read(next)
			c.s.cookies[string(next)] = &pagedState{next: end, key: key}
		}
		c.s.mu.Unlock()
		respControls = []*ber.Packet{pagingControl(next)}
	}
	for i, e := range matches[start:end] {
		if sizeLimit > 0 && start+i >= sizeLimit {
			c.reply(id, applicationSearchDone, SizeLimitExceeded, "size limit exceeded", nil, nil)
			return
		}
		if c.s.EntryDelay > 0 {
			time.Sleep(c.s.EntryDelay)
		}
		select {
		case <-done:
			return // abandoned: no more results, no SearchResultDone
		default:
		}
		if !c.send(id, e.encode(want)) {
			return
		}
	}
	c.reply(id, applicationSearchDone, Success, "", nil, respControls)
}

func (s *Server) rootDSE() *entry {
	ext := s.Extensions
	if ext == nil {
		ext = []string{ExtStartTxn, ExtEndTxn, ExtWhoAmI}
		if s.TLS != nil {
			ext = append(ext, ExtStartTLS)
		}
	}
	ctl := s.Controls
	if ctl == nil {
		ctl = []string{ControlPaging, ControlTxnSpec}
	}
	sasl := s.SASLMechanisms
	if sasl == nil {
		sasl = []string{"NTLM"}
	}
	e := &entry{}
	add := func(name string, vals ...string) {
		a := attr{name: name}
		for _, v := range vals {
			a.values = append(a.values, []byte(v))
		}
		e.attrs = append(e.attrs, a)
	}
	add("namingContexts", s.BaseDN)
	add("defaultNamingContext", s.BaseDN)
	add("supportedControl", ctl...)
	add("supportedExtension", ext...)
	add("supportedLDAPVersion", "3")
	add("supportedSASLMechanisms", sasl...)
	add("vendorName", "abkit ldapsynctest")
	return e
}

// inScope reports whether dn is within base at scope (0 base, 1 one level, 2 subtree).
func inScope(dn, base string, scope int) bool {
	d, b := strings.ToLower(dn), strings.ToLower(base)
	switch scope {
	case 0:
		return d == b
	case 1:
		rest, ok := strings.CutSuffix(d, ","+b)
		return ok && !strings.Contains(rest, ",")
	}
	return d == b || b == "" || strings.HasSuffix(d, ","+b)
}

// match evaluates a BER-encoded search filter (RFC 4511 4.5.1.7) against e.
func match(e *entry, f *ber.Packet) bool {
	switch f.Tag {
	case 0: // and
		for _, c := range f.Children {
			if !match(e, c) {
				return false
			}
		}
		return true
	case 1: // or
		for _, c := range f.Children {
			if match(e, c) {
				return true
			}
		}
		return false
	case 2: // not
		return len(f.Children) == 1 && !match(e, f.Children[0])
	case 3, 8: // equality, approx
		if len(f.Children) != 2 {
			return false
		}
		a := e.get(str(f.Children[0]))
		want := f.Children[1].Data.Bytes()
		return a != nil && slices.ContainsFunc(a.values, func(v []byte) bool { return equal(v, want) })
	case 4: // substrings
		if len(f.Children) != 2 {
			return false
		}
		a := e.get(str(f.Children[0]))
		return a != nil && slices.ContainsFunc(a.values, func(v []byte) bool { return substrings(strings.ToLower(string(v)), f.Children[1].Children) })
	case 7: // present
		if strings.EqualFold(f.Data.String(), "objectClass") {
			return true
		}
		return e.get(f.Data.String()) != nil
	}
	return false
}

func equal(v, want []byte) bool {
	return bytes.Equal(v, want) || strings.EqualFold(string(v), string(want))
}

func substrings(v string, parts []*ber.Packet) bool {
	for i, p := range parts {
		s := strings.ToLower(p.Data.String())
		switch p.Tag {
		case 0:
			if !strings.HasPrefix(v, s) {
				return false
			}
			v = v[len(s):]
		case 1:
			j := strings.Index(v, s)
			if j < 0 {
				return false
			}
			v = v[j+len(s):]
		case 2:
			if !strings.HasSuffix(v, s) || (i == 0 && len(v) < len(s)) {
				return false
			}
		}
	}
	return true
}

// encode returns e as a SearchResultEntry with the attributes in want (all for none or "*").
func (e *entry) encode(want []string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, applicationSearchEntry, nil, "SearchResultEntry")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, e.dn, "objectName"))
	all := len(want) == 0 || slices.Contains(want, "*")
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attributes")
	for _, a := range e.attrs {
		if !all && !slices.ContainsFunc(want, func(w string) bool { return strings.EqualFold(w, a.name) }) {
			continue
		}
		pa := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "attribute")
		pa.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a.name, "type"))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "vals")
		for _, v := range a.values {
			set.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(v), "value"))
		}
		pa.AppendChild(set)
		attrs.AppendChild(pa)
	}
	op.AppendChild(attrs)
	return op
}

func decodePaging(v []byte) (size int, cookie []byte, err error) {
	p, err := ber.DecodePacketErr(v)
	if err != nil {
		return 0, nil, err
	}
	if len(p.Children) != 2 {
		return 0, nil, errors.New("paged results control: want size and cookie")
	}
	n, ok := p.Children[0].Value.(int64)
	if !ok {
		return 0, nil, errors.New("paged results control: bad size")
	}
	return int(n), p.Children[1].Data.Bytes(), nil
}

func pagingControl(cookie []byte) *ber.Packet {
	val := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "pagedResults")
	val.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(0), "size"))
	val.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(cookie), "cookie"))
	ctl := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	ctl.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, ControlPaging, "type"))
	ctl.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(val.Bytes()), "value"))
	return ctl
}

// ---- modify and transactions ------------------------------------------------------------------

// modifyReq is a decoded modify request.
type modifyReq struct {
	dn      string
	changes []change
}

type change struct {
	op     int // 0 add, 1 delete, 2 replace
	attr   string
	values [][]byte
}

func decodeModify(op *ber.Packet) (*modifyReq, error) {
	if len(op.Children) != 2 {
		return nil, errors.New("malformed modify")
	}
	m := &modifyReq{dn: str(op.Children[0])}
	for _, ch := range op.Children[1].Children {
		if len(ch.Children) != 2 || len(ch.Children[1].Children) != 2 {
			return nil, errors.New("malformed change")
		}
		kind, _ := ch.Children[0].Value.(int64)
		c := change{op: int(kind), attr: str(ch.Children[1].Children[0])}
		for _, v := range ch.Children[1].Children[1].Children {
			c.values = append(c.values, v.Data.Bytes())
		}
		m.changes = append(m.changes, c)
	}
	return m, nil
}

func (c *conn) modify(id int64, op *ber.Packet, controls []*ber.Packet) bool {
	m, err := decodeModify(op)
	if err != nil {
		return c.reply(id, applicationModifyResp, ProtocolError, err.Error(), nil, nil)
	}
	if txn, ok := findControl(controls, ControlTxnSpec); ok {
		c.mu.Lock()
		_, known := c.txns[string(txn)]
		if known {
			c.txns[string(txn)] = append(c.txns[string(txn)], m)
		}
		c.mu.Unlock()
		if !known {
			return c.reply(id, applicationModifyResp, UnwillingToPerform, "unknown transaction", nil, nil)
		}
		return c.reply(id, applicationModifyResp, Success, "", nil, nil)
	}
	code, diag := c.s.apply([]*modifyReq{m})
	return c.reply(id, applicationModifyResp, code, diag, nil, nil)
}

// apply applies every modify or none; it returns the first failure's code and message.
func (s *Server) apply(reqs []*modifyReq) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	work := map[string]*entry{}
	for _, m := range reqs {
		s.stats.Modifies++
		key := strings.ToLower(m.dn)
		e := work[key]
		if e == nil {
			orig := s.find(m.dn)
			if orig == nil {
				return NoSuchObject, "no such object: " + m.dn
			}
			e = orig.clone()
			work[key] = e
		}
		for _, ch := range m.changes {
			if code, diag := e.change(ch); code != Success {
				return code, diag
			}
		}
	}
	for i, e := range s.entries {
		if w := work[strings.ToLower(e.dn)]; w != nil {
			s.entries[i] = w
		}
	}
	return Success, ""
}

func (e *entry) change(ch change) (int, string) {
	a := e.get(ch.attr)
	has := func(v []byte) bool {
		return a != nil && slices.ContainsFunc(a.values, func(x []byte) bool { return equal(x, v) })
	}
	switch ch.op {
	case 0:
		for _, v := range ch.values {
			if has(v) {
				return AttributeOrValueExists, ch.attr + ": value exists"
			}
		}
		if a == nil {
			e.attrs = append(e.attrs, attr{name: ch.attr})
			a = &e.attrs[len(e.attrs)-1]
		}
		a.values = append(a.values, ch.values...)
	case 1:
		if a == nil {
			return NoSuchAttribute, ch.attr + ": no such attribute"
		}
		for _, v := range ch.values {
			if !has(v) {
				return NoSuchAttribute, ch.attr + ": no such value"
			}
			a.values = slices.DeleteFunc(a.values, func(x []byte) bool { return equal(x, v) })
		}
		if len(ch.values) == 0 || len(a.values) == 0 {
			e.attrs = slices.DeleteFunc(e.attrs, func(x attr) bool { return strings.EqualFold(x.name, ch.attr) })
		}
	case 2:
		e.attrs = slices.DeleteFunc(e.attrs, func(x attr) bool { return strings.EqualFold(x.name, ch.attr) })
		if len(ch.values) > 0 {
			e.attrs = append(e.attrs, attr{name: ch.attr, values: ch.values})
		}
	default:
		return ProtocolError, "unknown modify operation"
	}
	return Success, ""
}

func (c *conn) extended(id int64, op *ber.Packet) bool {
	oid := str(op.Children[0])
	var value []byte
	if len(op.Children) > 1 {
		value = op.Children[1].Data.Bytes()
	}
	offered := c.s.Extensions == nil || slices.Contains(c.s.Extensions, oid)
	if !offered {
		return c.reply(id, applicationExtendedResp, ProtocolError, "unsupported extended operation "+oid, nil, nil)
	}
	respValue := func(v string) []*ber.Packet {
		return []*ber.Packet{ber.NewString(ber.ClassContext, ber.TypePrimitive, 11, v, "responseValue")}
	}
	switch oid {
	case ExtStartTLS:
		return c.startTLS(id)
	case ExtWhoAmI:
		c.mu.Lock()
		who := c.bound
		c.mu.Unlock()
		return c.reply(id, applicationExtendedResp, Success, "", respValue(who), nil)
	case ExtStartTxn:
		c.mu.Lock()
		c.ntxn++
		txn := fmt.Sprintf("txn-%d-%d", c.n, c.ntxn)
		c.txns[txn] = nil
		c.mu.Unlock()
		c.s.mu.Lock()
		c.s.stats.TxnStarted++
		c.s.mu.Unlock()
		return c.reply(id, applicationExtendedResp, Success, "", respValue(txn), nil)
	case ExtEndTxn:
		p, err := ber.DecodePacketErr(value)
		if err != nil || len(p.Children) == 0 {
			return c.reply(id, applicationExtendedResp, ProtocolError, "malformed end transaction", nil, nil)
		}
		commit := true
		if b, ok := p.Children[0].Value.(bool); ok && len(p.Children) == 2 {
			commit = b
		}
		txn := str(p.Children[len(p.Children)-1])
		c.mu.Lock()
		reqs, known := c.txns[txn]
		delete(c.txns, txn)
		c.mu.Unlock()
		if !known {
			return c.reply(id, applicationExtendedResp, UnwillingToPerform, "unknown transaction", nil, nil)
		}
		code, diag := Success, ""
		if commit {
			code, diag = c.s.apply(reqs)
		}
		c.s.mu.Lock()
		if commit && code == Success {
			c.s.stats.TxnCommitted++
		} else {
			c.s.stats.TxnAborted++
		}
		c.s.mu.Unlock()
		return c.reply(id, applicationExtendedResp, code, diag, nil, nil)
	}
	return c.reply(id, applicationExtendedResp, ProtocolError, "unsupported extended operation "+oid, nil, nil)
}
