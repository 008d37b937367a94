package rtcdb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/abkit/abkit/internal/fsutil"
)

// Backup file formats: BackupFormat for the rtc layout (OCS 2007 R2), BackupFormatAB for the
// rtcab layout (Lync 2010 and later), whose entries carry UserId and AbDnMapping rows. An older
// abkit refuses a BackupFormatAB file rather than restoring rows without their mapping.
const (
	BackupFormat   = "abkit-rtcdb-backup/1"
	BackupFormatAB = "abkit-rtcdb-backup/2"
)

// Backup statuses, of the whole file and of each entry.
const (
	StatusPending    = "pending"     // written before the transaction; not yet known
	StatusDeleted    = "deleted"     // the transaction committed: the row is gone
	StatusRolledBack = "rolled-back" // nothing was changed
	StatusUnknown    = "unknown"     // the connection failed during COMMIT: check with `abkit rtc entry`
)

// Backup is the JSON file Delete writes before its transaction and Restore reads.
type Backup struct {
	Format   string        `json:"format"`
	Server   string        `json:"server"`
	Database string        `json:"database"`
	Layout   Layout        `json:"layout,omitempty"` // rtcab with BackupFormatAB; "" (rtc) otherwise
	Table    string        `json:"table"`
	Created  time.Time     `json:"created"`
	Updated  time.Time     `json:"updated"`
	Status   string        `json:"status"`
	Reason   string        `json:"reason,omitempty"` // why the transaction was rolled back or is unknown
	Entries  []BackupEntry `json:"entries"`
}

// BackupEntry is one AbUserEntry row as it was before the delete.
type BackupEntry struct {
	GUID     GUID   `json:"guid"`
	UserData []byte `json:"user_data"` // base64 in JSON
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	// UserID and ADDN are AbUserEntry.UserId and the AbDnMapping.AdDn values of that UserId
	// (rtcab layout only).
	UserID *int64   `json:"user_id,omitempty"`
	ADDN   []string `json:"ad_dn,omitempty"`
	Status string   `json:"status"`
}

// newBackup starts the backup of rows of the database disc describes.
func newBackup(server string, disc *Discovery) *Backup {
	b := &Backup{Format: BackupFormat, Server: server, Database: disc.Database, Table: "dbo." + TableEntry,
		Created: time.Now().UTC(), Status: StatusPending}
	if disc.Layout == LayoutRTCAB {
		b.Format, b.Layout, b.Table = BackupFormatAB, LayoutRTCAB, "dbo."+TableEntry+", dbo."+TableDnMapping
	}
	return b
}

// layout is the table layout the backup was taken from.
func (b *Backup) layout() Layout {
	if b.Format == BackupFormatAB {
		return LayoutRTCAB
	}
	return LayoutRTC
}

// writeNew creates path (never replacing an existing file), writes b and syncs file and folder.
func (b *Backup) writeNew(path string) error {
	return fsutil.WriteNew(path, 0o600, b.encode)
}

// update replaces path with b atomically: a synced temporary file renamed over it.
func (b *Backup) update(path string) error {
	b.Updated = time.Now().UTC()
	return fsutil.Replace(path, b.encode)
}

// encode writes b as indented JSON.
func (b *Backup) encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(b)
}

func (b *Backup) setStatus(status, reason string) {
	b.Status, b.Reason = status, reason
	for i := range b.Entries {
		b.Entries[i].Status = status
	}
}

// maxBackupSize bounds the backup and index files ReadBackup and ReadPoolBackup accept.
const maxBackupSize = 1 << 30

// readJSONFile decodes the JSON file at path (at most maxBackupSize bytes) into v; what names the
// kind of file for messages. Problems are KindBadInput errors of operation op.
func readJSONFile(op, path, what string, v any) error {
	fi, err := os.Stat(path)
	if err != nil {
		return &Error{Op: op, Kind: KindBadInput, Err: err}
	}
	if fi.Size() > maxBackupSize {
		return badInput(op, "%d bytes, more than %s can hold", fi.Size(), what)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &Error{Op: op, Kind: KindBadInput, Err: err}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return badInput(op, "not %s: %v", what, err)
	}
	return nil
}

// ReadBackup reads and checks a backup file: format, GUIDs, and each entry's size and SHA-256
// against its UserData. Problems are KindBadInput errors.
func ReadBackup(path string) (*Backup, error) {
	op := "read backup " + path
	var b Backup
	if err := readJSONFile(op, path, "a backup file", &b); err != nil {
		return nil, err
	}
	switch {
	case b.Format == BackupFormat && b.Layout == "":
	case b.Format == BackupFormatAB && b.Layout == LayoutRTCAB:
	default:
		return nil, badInput(op, "format %q with layout %q, want %q or %q with layout rtcab", b.Format, b.Layout, BackupFormat, BackupFormatAB)
	}
	if !validDBName(b.Database) {
		return nil, badInput(op, "database %q", b.Database)
	}
	seen := map[GUID]bool{}
	for i, e := range b.Entries {
		if e.GUID.IsZero() {
			return nil, badInput(op, "entry %d: missing GUID", i)
		}
		if seen[e.GUID] {
			return nil, badInput(op, "entry %d: GUID %s repeated", i, e.GUID)
		}
		seen[e.GUID] = true
		if ab := b.Format == BackupFormatAB; (e.UserID != nil) != ab || !ab && len(e.ADDN) > 0 {
			return nil, badInput(op, "entry %d (%s): user_id and ad_dn belong to (and user_id is required in) format %s only", i, e.GUID, BackupFormatAB)
		}
		sum := sha256.Sum256(e.UserData)
		if int64(len(e.UserData)) != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
			return nil, badInput(op, "entry %d (%s): UserData does not match its size and SHA-256", i, e.GUID)
		}
	}
	return &b, nil
}
