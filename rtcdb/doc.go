// Package rtcdb is abkit's client for the OCS 2007 / 2007 R2, Lync and Skype for Business
// back-end SQL Server databases: discovery of the server and of the tables User Replicator and the
// Address Book Server use (AbUserEntry, AbAttribute, and AbDnMapping on Lync 2010 and later), with
// the table layout decided by what exists (LayoutRTC, LayoutRTCAB), reads of those tables and of
// rtc.dbo.Resource and rtc.dbo.ResourcePhone, and a safe, reversible delete of AbUserEntry rows
// (with their AbDnMapping rows) — the last step of the classic duplicate SIP address fix. A Pool
// does the same on every database of a Lync pool: the back end and each Front End's RTCLOCAL
// instance, each copy with its own transaction and backup.
//
// Every statement is parameterized, GUIDs always travel as uniqueidentifier parameters (a raw
// []byte would be sent as varbinary and match nothing), and every call is bounded by a timeout.
// Delete and Restore refuse to run unless Discover found the tables with the expected column
// types; Delete writes and fsyncs a JSON backup of every row before its transaction starts, and
// Restore puts rows of such a backup back.
//
// # Security
//
// Connections are encrypted with a verified certificate unless Options.Encrypt says otherwise;
// encrypt=disable is only honoured when asked for explicitly, and Open then returns
// WarnCleartext. Passwords are never part of error messages.
//
// # Limits
//
// The format of AbUserEntry.UserData is undocumented: the sip:/smtp:/tel: strings Entry reports
// are found by a heuristic scan, not by decoding. The tests check the wire contract with the real
// go-mssqldb driver against a test responder that executes no SQL; T-SQL execution is checked
// only when RTCDB_TEST_DSN names a real SQL Server.
package rtcdb
