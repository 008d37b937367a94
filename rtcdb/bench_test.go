package rtcdb

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/abkit/abkit/rtcdb/rtcdbtest"
)

// BenchmarkFindAddresses scans 64 KiB of UserData-like bytes (ASCII and UTF-16LE addresses).
func BenchmarkFindAddresses(b *testing.B) {
	var data []byte
	for len(data) < 64<<10 {
		data = append(data, 0, 1, 0xff)
		data = append(data, utf16le("sip:someone@contoso.com")...)
		data = append(data, "smtp:someone@contoso.com\x00"...)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if len(FindAddresses(data)) == 0 {
			b.Fatal("nothing found")
		}
	}
}

// BenchmarkDelete50 deletes 50 rows through the real driver and the responder: backup file,
// transaction, 50 locked reads and 50 DELETEs (protocol and client overhead, not server time).
func BenchmarkDelete50(b *testing.B) {
	f := rtcdbtest.New(b)
	d, err := Open(context.Background(), fakeOptions(f))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	dir := b.TempDir()
	i := 0
	for b.Loop() {
		gs := seedN(fakeSeed(f), 50)
		if _, err := d.Delete(context.Background(), gs, DeleteOptions{BackupPath: filepath.Join(dir, fmt.Sprint(i))}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
