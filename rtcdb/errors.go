package rtcdb

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	mssql "github.com/microsoft/go-mssqldb"
)

// Kind classifies an Error.
type Kind int

// Error kinds. BadInput, NoDatabase, NoObject and NotFound are bad input (exit status 2 in the
// command line); the others are runtime failures.
const (
	KindSQL        Kind = iota // any other SQL Server error
	KindBadInput               // malformed input: a GUID, a backup file, an option
	KindNoDatabase             // SQL 4060 or 911: the database does not exist or cannot be opened
	KindNoObject               // SQL 208: invalid object name (missing table)
	KindNotFound               // a GUID named for deletion is not in AbUserEntry
	KindLogin                  // SQL 18456 and other login failures
	KindPermission             // SQL 229, 230, 262, 300, 916: permission denied
	KindDeadlock               // SQL 1205: chosen as deadlock victim, transaction rolled back
	KindConnection             // network failure, dropped connection
	KindTLS                    // TLS handshake or certificate failure
	KindRefused                // a destructive operation refused (discovery failed or types differ)
	KindTimeout                // a call exceeded its timeout
	KindCancelled              // the caller cancelled (Ctrl-C)
)

var kindNames = [...]string{
	KindSQL: "SQL error", KindBadInput: "bad input", KindNoDatabase: "cannot open database",
	KindNoObject: "invalid object", KindNotFound: "not found", KindLogin: "login failed",
	KindPermission: "permission denied", KindDeadlock: "deadlock victim",
	KindConnection: "connection failed", KindTLS: "TLS failure", KindRefused: "refused",
	KindTimeout: "timed out", KindCancelled: "cancelled",
}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is an rtcdb failure, naming the server, database and object concerned.
type Error struct {
	Op       string // what was being done: "connect", "discover", "delete", ...
	Server   string
	Database string
	Object   string // table or procedure, e.g. "dbo.AbUserEntry"; "" when none
	Kind     Kind
	Number   int32  // SQL Server error number, 0 when the error did not come from the server
	Hint     string // what to do about it; "" when there is nothing useful to say
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("rtcdb: " + e.Op)
	var where []string
	if e.Server != "" {
		where = append(where, "server "+e.Server)
	}
	if e.Database != "" {
		where = append(where, "database "+e.Database)
	}
	if e.Object != "" {
		where = append(where, "object "+e.Object)
	}
	if len(where) > 0 {
		b.WriteString(" (" + strings.Join(where, ", ") + ")")
	}
	b.WriteString(": " + e.Kind.String())
	if e.Number != 0 {
		fmt.Fprintf(&b, " (SQL error %d)", e.Number)
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// BadInput reports whether the error is bad input (malformed GUID or backup file, unknown
// database, missing table, GUID not present): the command line exits 2 for these.
func (e *Error) BadInput() bool {
	switch e.Kind {
	case KindBadInput, KindNoDatabase, KindNoObject, KindNotFound:
		return true
	}
	return false
}

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == k
}

// badInput returns a KindBadInput error.
func badInput(op, format string, args ...any) *Error {
	return &Error{Op: op, Kind: KindBadInput, Err: fmt.Errorf(format, args...)}
}

// classify wraps err from the driver in an *Error with its kind, number and hint.
func classify(err error, op, server, database, object string) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{Op: op, Server: server, Database: database, Object: object, Err: err}
	var se mssql.Error
	switch {
	case errors.As(err, &se):
		e.Number = se.Number
		e.Err = errors.New(se.Message)
		switch se.Number {
		case 208:
			e.Kind = KindNoObject
			e.Hint = "the table is not in this database: check `database` in the configuration (rtc, or rtcab on Lync) and run `abkit rtc info`"
		case 229, 230, 262, 300, 916:
			e.Kind = KindPermission
			e.Hint = "the login lacks a permission on this object: ask the DBA to grant it (SELECT for reads, DELETE and INSERT for delete and restore)"
		case 1205:
			e.Kind = KindDeadlock
			e.Hint = "SQL Server rolled the transaction back; nothing was changed: run the command again"
		case 4060, 911:
			e.Kind = KindNoDatabase
			e.Hint = "the database does not exist or this login may not open it: check `database` in the configuration"
		case 18456, 18452, 18486, 18487, 18488:
			e.Kind = KindLogin
			e.Hint = "check user and password; for a Windows account use auth: ntlm with user DOMAIN\\user, or auth: kerberos"
		default:
			e.Kind = KindSQL
		}
	case errors.Is(err, context.Canceled):
		e.Kind = KindCancelled
	case errors.Is(err, context.DeadlineExceeded):
		e.Kind = KindTimeout
		e.Hint = "raise `timeout` in the configuration if the server is slow"
	case strings.Contains(err.Error(), "krb5"):
		e.Kind = KindLogin
		e.Hint = "auth kerberos needs krb5_conf and either a keytab with user and realm, a password with realm, or a credentials cache (kinit)"
	case isTLSError(err):
		e.Kind = KindTLS
		e.Hint = "SQL Server 2005/2008 without TLS 1.2 updates speaks TLS 1.0 only: set tls_min: 1.0; " +
			"for a private CA set ca_file; encrypt: disable sends the login in clear"
	case isConnError(err):
		e.Kind = KindConnection
		if op == "connect" {
			e.Hint = "check server, instance/port and that SQL Server accepts TCP connections (named instances need SQL Browser on UDP 1434 or an explicit port)"
		} else {
			e.Hint = "the connection to the server was lost"
		}
	default:
		e.Kind = KindSQL
	}
	return e
}

func isTLSError(err error) bool {
	var (
		rec  tls.RecordHeaderError
		alrt tls.AlertError
		unk  x509.UnknownAuthorityError
		host x509.HostnameError
		inv  x509.CertificateInvalidError
		ver  *tls.CertificateVerificationError
	)
	if errors.As(err, &rec) || errors.As(err, &alrt) || errors.As(err, &unk) || errors.As(err, &host) ||
		errors.As(err, &inv) || errors.As(err, &ver) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "TLS Handshake failed") || strings.Contains(s, "server does not support encryption")
}

func isConnError(err error) bool {
	var ne net.Error
	var se mssql.StreamError
	return errors.As(err, &ne) || errors.As(err, &se) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}
