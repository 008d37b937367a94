// Package progress is the small interface through which abkit's library packages (ldapsync,
// sidmap, rtcdb, ...) report progress on long work. It is public so that a program using those
// libraries can pass its own Reporter in their option structs. Libraries never draw anything:
// abkit's command line decides whether a bar is shown (only on a terminal, and not with
// --no-progress).
package progress

// Reporter receives progress events. Implementations must be safe for concurrent use.
type Reporter interface {
	// Start announces a unit of work. total is the expected amount (bytes, objects, items), or
	// -1 when unknown; unit names what is counted ("bytes", "objects", "changes").
	Start(total int64, unit string)
	// Add records n more units done.
	Add(n int64)
	// Done ends the unit of work started last.
	Done()
}

// Nop is a Reporter that ignores everything; it is the default of every library option struct.
var Nop Reporter = nop{}

type nop struct{}

func (nop) Start(int64, string) {}
func (nop) Add(int64)           {}
func (nop) Done()               {}

// OrNop returns r, or Nop when r is nil.
func OrNop(r Reporter) Reporter {
	if r == nil {
		return Nop
	}
	return r
}
