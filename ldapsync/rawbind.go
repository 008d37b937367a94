package ldapsync

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/Azure/go-ntlmssp"
	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// rawLDAP runs synchronous LDAP exchanges on a connection before go-ldap takes it over: StartTLS
// (so that it honours the context), and the SASL "NTLM" bind that Samba offers. go-ldap's
// NTLMBind speaks Microsoft's "Sicily" NTLM bind, which Windows AD accepts and Samba does not;
// Windows AD answers the SASL attempt with authMethodNotSupported and gets the Sicily bind.
type rawLDAP struct {
	conn net.Conn
	id   int64
}

// exchange sends one request operation and returns the response operation.
func (r *rawLDAP) exchange(ctx context.Context, op *ber.Packet) (*ber.Packet, error) {
	r.id++
	env := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	env.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, r.id, "MessageID"))
	env.AppendChild(op)
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}
	if err := r.conn.SetDeadline(deadline); err != nil {
		return nil, err
	}
	defer r.conn.SetDeadline(time.Time{})
	if _, err := r.conn.Write(env.Bytes()); err != nil {
		return nil, err
	}
	resp, err := ber.ReadPacket(r.conn)
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	if len(resp.Children) < 2 {
		return nil, errors.New("malformed LDAP response")
	}
	if id, ok := resp.Children[0].Value.(int64); !ok || id != r.id {
		return nil, fmt.Errorf("LDAP response to message %v, want %d", resp.Children[0].Value, r.id)
	}
	return resp.Children[1], nil
}

// result returns the result code and diagnostic message of an LDAPResult-shaped operation.
func result(op *ber.Packet) (uint16, string, error) {
	if len(op.Children) < 3 {
		return 0, "", errors.New("malformed LDAP result")
	}
	code, ok := op.Children[0].Value.(int64)
	if !ok || code < 0 || code > 0xffff {
		return 0, "", errors.New("malformed LDAP result code")
	}
	diag, _ := op.Children[2].Value.(string)
	return uint16(code), diag, nil
}

// startTLS upgrades the connection (RFC 4511 StartTLS) and returns the TLS connection.
func (r *rawLDAP) startTLS(ctx context.Context, cfg *tls.Config) (net.Conn, error) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationExtendedRequest, nil, "Start TLS")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "1.3.6.1.4.1.1466.20037", "TLS Extended Command"))
	resp, err := r.exchange(ctx, op)
	if err != nil {
		return nil, err
	}
	code, diag, err := result(resp)
	if err != nil {
		return nil, err
	}
	if code != ldap.LDAPResultSuccess {
		return nil, ldap.NewError(code, fmt.Errorf("StartTLS refused: %s", diag))
	}
	tc := tls.Client(r.conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	r.conn = tc
	return tc, nil
}

// saslNTLM binds with the SASL NTLM mechanism. supported is false when the server does not
// offer it (the caller then tries the Sicily bind).
func (r *rawLDAP) saslNTLM(ctx context.Context, domain, user, password string) (supported bool, err error) {
	neg, err := ntlmssp.NewNegotiateMessage(domain, "")
	if err != nil {
		return true, err
	}
	resp, err := r.exchange(ctx, saslBindRequest("NTLM", neg))
	if err != nil {
		return true, err
	}
	code, diag, err := result(resp)
	switch {
	case err != nil:
		return true, err
	case code == ldap.LDAPResultAuthMethodNotSupported:
		return false, nil
	case code != ldap.LDAPResultSaslBindInProgress:
		return true, ldap.NewError(code, errors.New(diag))
	}
	var challenge []byte
	for _, c := range resp.Children[3:] {
		if c.ClassType == ber.ClassContext && c.Tag == 7 {
			challenge = c.Data.Bytes()
		}
	}
	if challenge == nil {
		return true, errors.New("NTLM bind: the server sent no challenge")
	}
	name := user
	if domain != "" {
		name = domain + `\` + user
	}
	auth, err := ntlmssp.NewAuthenticateMessage(challenge, name, password, nil)
	if err != nil {
		return true, fmt.Errorf("NTLM bind: %w", err)
	}
	if resp, err = r.exchange(ctx, saslBindRequest("NTLM", auth)); err != nil {
		return true, err
	}
	if code, diag, err = result(resp); err != nil {
		return true, err
	}
	if code != ldap.LDAPResultSuccess {
		return true, ldap.NewError(code, errors.New(diag))
	}
	return true, nil
}

func saslBindRequest(mechanism string, credentials []byte) *ber.Packet {
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationBindRequest, nil, "Bind Request")
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, "Version"))
	req.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "User Name"))
	auth := ber.Encode(ber.ClassContext, ber.TypeConstructed, 3, "", "SASL")
	auth.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, mechanism, "Mechanism"))
	auth.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, string(credentials), "Credentials"))
	req.AppendChild(auth)
	return req
}
