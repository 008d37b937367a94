package rtcdb

// Progress receives progress events from long work (deletes and restores of many rows);
// implementations must be safe for concurrent use. It has the methods of ldapsync.Progress, so
// one implementation serves both; a nil Progress reports nothing.
type Progress interface {
	Start(total int64, unit string) // total -1 when unknown; unit names what is counted
	Add(n int64)
	Done()
}

type nopProgress struct{}

func (nopProgress) Start(int64, string) {}
func (nopProgress) Add(int64)           {}
func (nopProgress) Done()               {}

// progressOrNop returns p, or a Progress that reports nothing when p is nil.
func progressOrNop(p Progress) Progress {
	if p == nil {
		return nopProgress{}
	}
	return p
}
