package ldapsync

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/abkit/abkit/ldapsync/ldapsynctest"
	"github.com/go-ldap/ldap/v3"
)

// These tests run ldapsync's paging, multiplexing, raw bind and transaction code against the
// in-process responder (ldapsynctest): no server needed.

const respBase = "dc=resp,dc=test"

// startResponder starts a responder holding n users with SIP addresses.
func startResponder(t *testing.T, n int) *ldapsynctest.Server {
	t.Helper()
	s := ldapsynctest.Start(t, respBase)
	s.Accounts = []ldapsynctest.Account{{DN: "cn=admin," + respBase, Name: `RESP\alice`, Password: "s3cret!"}}
	for i := range n {
		s.Add(fmt.Sprintf("cn=u%03d,%s", i, respBase), map[string][]string{
			"objectClass":                 {"user"},
			"cn":                          {fmt.Sprintf("u%03d", i)},
			"msRTCSIP-PrimaryUserAddress": {fmt.Sprintf("sip:u%03d@resp.test", i)},
			"msRTCSIP-OriginatorSid":      {"old"},
			"description":                 {"planted"},
		})
	}
	return s
}

func dialResponder(t *testing.T, s *ldapsynctest.Server, bind Bind, pageSize int) *Forest {
	t.Helper()
	f, err := Dial(context.Background(), Options{Name: "resp", URL: s.URL, PageSize: pageSize, Timeout: 5 * time.Second, Bind: bind})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

var adminBind = Bind{Method: BindSimple, DN: "cn=admin," + respBase, Password: "s3cret!"}

// collectDNs reads a search whole, returning the DNs.
func collectDNs(t *testing.T, f *Forest, req SearchRequest) ([]string, error) {
	t.Helper()
	var dns []string
	for e, err := range f.SearchEntries(context.Background(), req) {
		if err != nil {
			return dns, err
		}
		dns = append(dns, e.DN)
	}
	return dns, nil
}

func TestResponderPaging(t *testing.T) {
	s := startResponder(t, 23)
	f := dialResponder(t, s, adminBind, 5)
	dns, err := collectDNs(t, f, SearchRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dns) != 23 || dns[0] != "cn=u000,"+respBase || dns[22] != "cn=u022,"+respBase {
		t.Fatalf("got %d entries (%v ... ), want u000..u022 in order", len(dns), dns[:min(len(dns), 2)])
	}
	if st := s.Stats(); st.Pages != 5 {
		t.Errorf("pages served %d, want 5 (23 entries, page size 5)", st.Pages)
	}
	// Leaving early releases the paged search with the last cookie (page size 0).
	n := 0
	for _, err := range f.SearchEntries(context.Background(), SearchRequest{}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 7 {
			break
		}
	}
	if st := s.Stats(); st.PageReleases != 1 {
		t.Errorf("page releases %d, want 1 after leaving a search early", st.PageReleases)
	}
	// The filter is applied by the server: one object.
	if dns, err := collectDNs(t, f, SearchRequest{Filter: "(cn=u007)"}); err != nil || len(dns) != 1 {
		t.Errorf("filtered search: %v, %v", dns, err)
	}
}

func TestResponderSearchFailures(t *testing.T) {
	s := startResponder(t, 23)
	s.Hook = func(r ldapsynctest.Request) *ldapsynctest.Result {
		if r.Op == "search" && r.Page == 3 {
			return &ldapsynctest.Result{Code: ldapsynctest.UnwillingToPerform, Diag: "scripted"}
		}
		return nil
	}
	f := dialResponder(t, s, adminBind, 5)
	dns, err := collectDNs(t, f, SearchRequest{})
	var se *SearchError
	if !errors.As(err, &se) || se.Code != ldap.LDAPResultUnwillingToPerform || se.Objects != 10 || len(dns) != 10 {
		t.Fatalf("failing third page: %d entries, %v; want a SearchError (unwilling to perform) after 10 objects", len(dns), err)
	}

	// A connection dropped in the middle of a search ends it with an error, not a short result.
	s2 := startResponder(t, 23)
	s2.Hook = func(r ldapsynctest.Request) *ldapsynctest.Result {
		if r.Op == "search" && r.Page == 2 {
			return &ldapsynctest.Result{Close: true}
		}
		return nil
	}
	f2 := dialResponder(t, s2, adminBind, 5)
	if dns, err := collectDNs(t, f2, SearchRequest{}); err == nil || len(dns) != 5 {
		t.Fatalf("dropped connection: %d entries, %v; want an error after 5", len(dns), err)
	}
}

func TestResponderMultiplexing(t *testing.T) {
	s := startResponder(t, 40)
	s.EntryDelay = time.Millisecond
	f := dialResponder(t, s, adminBind, 7)
	filters := []string{"(cn=u00*)", "(cn=u01*)", "(cn=u02*)", "(msRTCSIP-PrimaryUserAddress=*)"}
	want := []int{10, 10, 10, 40}
	got := make([][]string, len(filters))
	errs := make([]error, len(filters))
	var wg sync.WaitGroup
	for i, filter := range filters {
		wg.Go(func() { got[i], errs[i] = collectDNs(t, f, SearchRequest{Filter: filter}) })
	}
	wg.Wait()
	for i := range filters {
		if errs[i] != nil || len(got[i]) != want[i] {
			t.Errorf("search %s: %d entries, %v; want %d", filters[i], len(got[i]), errs[i], want[i])
		}
	}
	if st := s.Stats(); st.MaxOutstanding < 2 || st.Conns != 1 {
		t.Errorf("%d connections, at most %d searches outstanding; want 1 connection carrying several at once", st.Conns, st.MaxOutstanding)
	}
	// A modify sent while a search is being consumed is answered (the read loop never waits
	// for the search's consumer).
	n := 0
	for e, err := range f.SearchEntries(context.Background(), SearchRequest{}) {
		if err != nil {
			t.Fatal(err)
		}
		req := ldap.NewModifyRequest(e.DN, nil)
		req.Replace("description", []string{"touched"})
		if err := f.Modify(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 40 || s.Values("cn=u039,"+respBase, "description")[0] != "touched" {
		t.Errorf("modified %d objects during the search, want 40", n)
	}
}

func TestResponderRawBind(t *testing.T) {
	s := startResponder(t, 1)
	ntlm := Bind{Method: BindNTLM, Domain: "RESP", User: "alice", Password: "s3cret!"}
	f := dialResponder(t, s, ntlm, 0)
	if !f.ntlmDone {
		t.Error("SASL NTLM offered, but the raw bind did not do it")
	}
	if who, err := f.WhoAmI(context.Background()); err != nil || who != `u:RESP\alice` {
		t.Errorf("who am I after SASL NTLM: %q, %v", who, err)
	}
	// A wrong password is refused by the server's check of the NTLMv2 response.
	bad := ntlm
	bad.Password = "wrong"
	_, err := Dial(context.Background(), Options{Name: "resp", URL: s.URL, Bind: bad, Timeout: 5 * time.Second})
	var be *BindError
	if !errors.As(err, &be) || !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Errorf("NTLM with a wrong password: %v, want a BindError with invalid credentials", err)
	}
	// A server without SASL NTLM (Windows AD) gets go-ldap's Sicily bind.
	s.NoSASLNTLM = true
	f2 := dialResponder(t, s, ntlm, 0)
	if f2.ntlmDone {
		t.Error("SASL NTLM refused, yet reported done")
	}
	if who, err := f2.WhoAmI(context.Background()); err != nil || who != `u:RESP\alice` {
		t.Errorf("who am I after the Sicily bind: %q, %v", who, err)
	}
	// Simple bind: a wrong password is refused.
	wrong := adminBind
	wrong.Password = "nope"
	if _, err := Dial(context.Background(), Options{Name: "resp", URL: s.URL, Bind: wrong, Timeout: 5 * time.Second}); !errors.As(err, &be) {
		t.Errorf("simple bind with a wrong password: %v, want a BindError", err)
	}
}

func TestResponderTransactions(t *testing.T) {
	s := startResponder(t, 3)
	f := dialResponder(t, s, adminBind, 0)
	if !f.SupportsTransactions() {
		t.Fatal("the rootDSE lists the Start Transaction operation, yet SupportsTransactions is false")
	}
	setSID := func(i int, old, v string) *ldap.ModifyRequest {
		r := ldap.NewModifyRequest(fmt.Sprintf("cn=u%03d,%s", i, respBase), nil)
		r.Delete("msRTCSIP-OriginatorSid", []string{old}) // the condition: still the old value
		r.Add("msRTCSIP-OriginatorSid", []string{v})
		return r
	}
	ctx := context.Background()
	if err := f.ModifyTxn(ctx, []*ldap.ModifyRequest{setSID(0, "old", "new0"), setSID(1, "old", "new1")}); err != nil {
		t.Fatal(err)
	}
	if v := s.Values("cn=u001,"+respBase, "msRTCSIP-OriginatorSid"); len(v) != 1 || v[0] != "new1" {
		t.Errorf("after the commit: %v, want new1", v)
	}
	// One failed condition: the commit fails and nothing is applied.
	err := f.ModifyTxn(ctx, []*ldap.ModifyRequest{setSID(2, "old", "new2"), setSID(0, "old", "again")})
	var te *TxnError
	if !errors.As(err, &te) || te.Step != "commit" {
		t.Fatalf("transaction with a failed condition: %v, want a TxnError at commit", err)
	}
	if v := s.Values("cn=u002,"+respBase, "msRTCSIP-OriginatorSid"); len(v) != 1 || v[0] != "old" {
		t.Errorf("a failed transaction applied part of its changes: %v", v)
	}
	if st := s.Stats(); st.TxnCommitted != 1 || st.TxnAborted != 1 {
		t.Errorf("committed %d, aborted %d; want 1 and 1", st.TxnCommitted, st.TxnAborted)
	}
	// A modify the server refuses inside the transaction aborts it.
	s.Hook = func(r ldapsynctest.Request) *ldapsynctest.Result {
		if r.Op == "modify" && r.InTxn && r.DN == "cn=u001,"+respBase {
			return &ldapsynctest.Result{Code: ldapsynctest.UnwillingToPerform}
		}
		return nil
	}
	if err := f.ModifyTxn(ctx, []*ldap.ModifyRequest{setSID(2, "old", "x"), setSID(1, "new1", "y")}); !errors.As(err, &te) || te.Step != "modify cn=u001,"+respBase {
		t.Errorf("refused modify in a transaction: %v", err)
	}
	if v := s.Values("cn=u002,"+respBase, "msRTCSIP-OriginatorSid"); v[0] != "old" {
		t.Errorf("an aborted transaction applied a change: %v", v)
	}
	// A refused start.
	s.Hook = func(r ldapsynctest.Request) *ldapsynctest.Result {
		if r.Op == "extended" && r.OID == ExtStartTxn {
			return &ldapsynctest.Result{Code: ldapsynctest.UnwillingToPerform}
		}
		return nil
	}
	if err := f.ModifyTxn(ctx, []*ldap.ModifyRequest{setSID(2, "old", "x")}); !errors.As(err, &te) || te.Step != "start" {
		t.Errorf("refused start: %v", err)
	}
	// A server that does not list the operation.
	s2 := startResponder(t, 1)
	s2.Extensions = []string{ldapsynctest.ExtWhoAmI}
	if dialResponder(t, s2, adminBind, 0).SupportsTransactions() {
		t.Error("SupportsTransactions true on a server without the operation")
	}
}

// TestResponderAbandonAndTimeout: a cancelled search is abandoned on the wire (RFC 4511 4.11)
// and the shared connection goes on serving; a server that stalls longer than the timeout ends
// the search with an error naming the timeout.
func TestResponderAbandonAndTimeout(t *testing.T) {
	s := startResponder(t, 30)
	s.EntryDelay = 2 * time.Millisecond
	f := dialResponder(t, s, adminBind, 50)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var last error
	for _, err := range f.SearchEntries(ctx, SearchRequest{}) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 3 {
			cancel()
		}
	}
	if !errors.Is(last, context.Canceled) || n != 3 {
		t.Errorf("cancelled search: %d entries, %v; want 3 and context.Canceled", n, last)
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.Stats().Abandons == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.Stats().Abandons != 1 {
		t.Errorf("abandon requests %d, want 1", s.Stats().Abandons)
	}
	if dns, err := collectDNs(t, f, SearchRequest{}); err != nil || len(dns) != 30 {
		t.Errorf("search after the abandon: %d entries, %v", len(dns), err)
	}

	s.EntryDelay = 0
	s.Hook = func(r ldapsynctest.Request) *ldapsynctest.Result {
		if r.Op == "search" && r.Page == 2 {
			return &ldapsynctest.Result{Delay: time.Second}
		}
		return nil
	}
	slow, err := Dial(context.Background(), Options{Name: "resp", URL: s.URL, PageSize: 10, Timeout: 200 * time.Millisecond, Bind: adminBind})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	dns, err := collectDNs(t, slow, SearchRequest{})
	if !errors.Is(err, errIdle) || len(dns) != 10 {
		t.Errorf("stalled second page: %d entries, %v; want 10 and the idle timeout", len(dns), err)
	}
}

// selfSigned returns a server TLS configuration for 127.0.0.1 and the path of its certificate
// as a PEM CA file.
func selfSigned(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "responder"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, ca
}

// TestResponderStartTLS runs the raw StartTLS exchange and then the SASL NTLM bind and a paged
// search over the upgraded connection; a certificate the client does not trust is refused.
func TestResponderStartTLS(t *testing.T) {
	s := startResponder(t, 12)
	cfg, ca := selfSigned(t)
	s.TLS = cfg
	ntlm := Bind{Method: BindNTLM, Domain: "RESP", User: "alice", Password: "s3cret!"}
	f, err := Dial(context.Background(), Options{Name: "resp", URL: s.URL, StartTLS: true, PageSize: 5,
		TLS: TLSOptions{CAFile: ca}, Bind: ntlm, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Transport() != "starttls" || !f.ntlmDone {
		t.Errorf("transport %s, SASL NTLM done %v", f.Transport(), f.ntlmDone)
	}
	if dns, err := collectDNs(t, f, SearchRequest{}); err != nil || len(dns) != 12 {
		t.Errorf("search over StartTLS: %d entries, %v", len(dns), err)
	}
	var te *TLSError
	if _, err := Dial(context.Background(), Options{Name: "resp", URL: s.URL, StartTLS: true, Bind: ntlm, Timeout: 5 * time.Second}); !errors.As(err, &te) {
		t.Errorf("StartTLS with an untrusted certificate: %v, want a TLSError", err)
	}
}
