package rtcdb

import (
	"fmt"

	"github.com/abkit/abkit/ldapsync"
	mssql "github.com/microsoft/go-mssqldb"
)

// GUID is an AbUserEntry.UserGuid: the object's objectGUID in Windows layout, the same type as
// ldapsync.GUID and the ContactId of address book files.
type GUID = ldapsync.GUID

// ParseGUIDs parses GUIDs in text form (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, braces allowed),
// dropping repeats but keeping the first-seen order. A malformed GUID is a KindBadInput error,
// so that callers fail before connecting.
func ParseGUIDs(texts []string) ([]GUID, error) {
	out := make([]GUID, 0, len(texts))
	for _, s := range texts {
		g, err := ldapsync.ParseGUID(s)
		if err != nil {
			return nil, &Error{Op: "parse GUID", Kind: KindBadInput, Err: err}
		}
		out = append(out, g)
	}
	return dedupe(out), nil
}

// uid converts g into the driver's uniqueidentifier parameter type. mssql.UniqueIdentifier holds
// the GUID in text (big-endian) order and its Value swaps the first three fields back, so the wire
// carries g's Windows layout, which is SQL Server's own.
func uid(g GUID) mssql.UniqueIdentifier {
	var u mssql.UniqueIdentifier
	u[0], u[1], u[2], u[3] = g[3], g[2], g[1], g[0]
	u[4], u[5] = g[5], g[4]
	u[6], u[7] = g[7], g[6]
	copy(u[8:], g[8:])
	return u
}

// guidFromColumn converts a scanned uniqueidentifier column (Windows layout on the wire).
func guidFromColumn(v []byte) (GUID, error) {
	g, err := ldapsync.GUIDFromBytes(v)
	if err != nil {
		return g, fmt.Errorf("uniqueidentifier column: %w", err)
	}
	return g, nil
}
