package rtcdb

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"time"

	"github.com/abkit/abkit/internal/fsutil"
	"github.com/abkit/abkit/ldapsync"
)

// BackupFormat identifies rtcdb backup files.
const BackupFormat = "abkit-rtcdb-backup/1"

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
	Status   string `json:"status"`
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

// maxBackupSize bounds the backup files ReadBackup accepts.
const maxBackupSize = 1 << 30

// ReadBackup reads and checks a backup file: format, GUIDs, and each entry's size and SHA-256
// against its UserData. Problems are KindBadInput errors.
func ReadBackup(path string) (*Backup, error) {
	op := "read backup " + path
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &Error{Op: op, Kind: KindBadInput, Err: err}
	}
	if fi.Size() > maxBackupSize {
		return nil, badInput(op, "%d bytes, more than a backup can hold", fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{Op: op, Kind: KindBadInput, Err: err}
	}
	var b Backup
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, badInput(op, "not a backup file: %v", err)
	}
	if b.Format != BackupFormat {
		return nil, badInput(op, "format %q, want %q", b.Format, BackupFormat)
	}
	if !validDBName(b.Database) {
		return nil, badInput(op, "database %q", b.Database)
	}
	seen := map[GUID]bool{}
	for i, e := range b.Entries {
		if e.GUID == (ldapsync.GUID{}) {
			return nil, badInput(op, "entry %d: missing GUID", i)
		}
		if seen[e.GUID] {
			return nil, badInput(op, "entry %d: GUID %s repeated", i, e.GUID)
		}
		seen[e.GUID] = true
		sum := sha256.Sum256(e.UserData)
		if int64(len(e.UserData)) != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
			return nil, badInput(op, "entry %d (%s): UserData does not match its size and SHA-256", i, e.GUID)
		}
	}
	return &b, nil
}
