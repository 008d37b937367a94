package abs

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Day is a file date: whole days since 2001-01-01 00:00:00 UTC (day 0), the XXXX of F-XXXX.lsabs.
type Day uint16

// epoch is day 0.
var epoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// Time returns the start of day d in UTC.
func (d Day) Time() time.Time { return epoch.AddDate(0, 0, int(d)) }

// String formats d as four upper-case hexadecimal digits, as in file names: 0A8C.
func (d Day) String() string { return fmt.Sprintf("%04X", uint16(d)) }

// DayOf returns the day that contains t. It fails for times before 2001-01-01 or after day 0xFFFF.
func DayOf(t time.Time) (Day, error) {
	t = t.UTC()
	if t.Before(epoch) {
		return 0, fmt.Errorf("abs: %s is before 2001-01-01, day 0 of address book files", t.Format(time.DateOnly))
	}
	n := int64(t.Sub(epoch) / (24 * time.Hour))
	if n > 0xFFFF {
		return 0, fmt.Errorf("abs: %s is after day FFFF of address book files", t.Format(time.DateOnly))
	}
	return Day(n), nil
}

// Kind is the kind of an address book file.
type Kind uint8

// File kinds.
const (
	Full    Kind = iota // F-XXXX: every included object
	Delta               // D-XXXX-YYYY: new, changed (whole) and deleted objects
	Compact             // C-XXXX-YYYY: new and deleted objects, changed attributes only
)

// String names k: "full", "delta" or "compact".
func (k Kind) String() string {
	switch k {
	case Full:
		return "full"
	case Delta:
		return "delta"
	case Compact:
		return "compact"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// prefix returns the file-name letter of k.
func (k Kind) prefix() string {
	switch k {
	case Delta:
		return "D"
	case Compact:
		return "C"
	}
	return "F"
}

// FileName describes an address book file name.
type FileName struct {
	Kind    Kind
	BaseDay Day  // XXXX of D-/C-XXXX-YYYY; 0 for full files
	Day     Day  // XXXX of F-XXXX, YYYY of D-/C-XXXX-YYYY
	Device  bool // .dabs (phone devices) rather than .lsabs
}

// String formats n: F-0A10.lsabs, D-0A10-0A11.lsabs, C-0A10-0A11.dabs.
func (n FileName) String() string {
	ext := ".lsabs"
	if n.Device {
		ext = ".dabs"
	}
	if n.Kind == Full {
		return "F-" + n.Day.String() + ext
	}
	return n.Kind.prefix() + "-" + n.BaseDay.String() + "-" + n.Day.String() + ext
}

// ParseFileName parses the base name of path as an address book file name (hex digits in either
// case). In a delta name XXXX must be less than YYYY.
func ParseFileName(path string) (FileName, error) {
	base := filepath.Base(path)
	var n FileName
	stem, ok := strings.CutSuffix(base, ".lsabs")
	if !ok {
		if stem, ok = strings.CutSuffix(base, ".dabs"); !ok {
			return n, fmt.Errorf("abs: file name %q: want a .lsabs or .dabs extension", base)
		}
		n.Device = true
	}
	bad := func(why string) (FileName, error) {
		return FileName{}, fmt.Errorf("abs: file name %q: %s", base, why)
	}
	if len(stem) < 2 || stem[1] != '-' {
		return bad("want F-XXXX, D-XXXX-YYYY or C-XXXX-YYYY")
	}
	days := strings.Split(stem[2:], "-")
	switch stem[0] {
	case 'F', 'f':
		n.Kind = Full
	case 'D', 'd':
		n.Kind = Delta
	case 'C', 'c':
		n.Kind = Compact
	default:
		return bad("want F-XXXX, D-XXXX-YYYY or C-XXXX-YYYY")
	}
	want := 2
	if n.Kind == Full {
		want = 1
	}
	if len(days) != want {
		return bad("want F-XXXX, D-XXXX-YYYY or C-XXXX-YYYY")
	}
	var ds [2]Day
	for i, s := range days {
		if len(s) != 4 {
			return bad("a day is four hexadecimal digits")
		}
		v, err := strconv.ParseUint(s, 16, 16)
		if err != nil {
			return bad("a day is four hexadecimal digits")
		}
		ds[i] = Day(v)
	}
	if n.Kind == Full {
		n.Day = ds[0]
		return n, nil
	}
	n.BaseDay, n.Day = ds[0], ds[1]
	if n.BaseDay >= n.Day {
		return bad("in a delta name XXXX must be less than YYYY")
	}
	return n, nil
}
