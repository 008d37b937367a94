package ldapsync

// Progress receives progress events from long work (paged searches, snapshot reads, applies of
// many changes). Implementations must be safe for concurrent use. Libraries never draw anything:
// abkit's command line decides whether a bar is shown (only on a terminal, not with
// --no-progress). rtcdb.Progress has the same methods, so one implementation serves both.
type Progress interface {
	// Start announces a unit of work. total is the expected amount (bytes, objects, items), or
	// -1 when unknown; unit names what is counted ("bytes", "objects", "changes").
	Start(total int64, unit string)
	// Add records n more units done.
	Add(n int64)
	// Done ends the unit of work started last.
	Done()
}

// NopProgress ignores every event; a nil Progress in an option struct means it.
var NopProgress Progress = nopProgress{}

type nopProgress struct{}

func (nopProgress) Start(int64, string) {}
func (nopProgress) Add(int64)           {}
func (nopProgress) Done()               {}

// ProgressOrNop returns p, or NopProgress when p is nil.
func ProgressOrNop(p Progress) Progress {
	if p == nil {
		return NopProgress
	}
	return p
}
