package rtcdb

// Registers the driver's Kerberos authenticator, used when Options.Auth is kerberos.
import _ "github.com/microsoft/go-mssqldb/integratedauth/krb5"
