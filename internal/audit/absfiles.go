package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/abkit/abkit/abs"
	"github.com/abkit/abkit/ldapsync"
)

// Check names of the address book checks.
const (
	CheckABSFreshness = "abs-freshness"
	CheckPhoneRules   = "phone-normalization"
)

// ABSFreshnessCheck looks at the address book file names in folder: the newest full file of each
// kind (.lsabs, .dabs) must be at most maxAge old at the time now returns (a file's date is the
// start of its UTC day), and every day from the oldest file to the newest full file must have its
// one-day delta (D- or C-XXXX-YYYY with YYYY = XXXX+1), or clients on the day before must fetch
// the full file. Files whose names are not address book names are ignored. A folder that cannot
// be read makes the check fail.
func ABSFreshnessCheck(folder string, maxAge time.Duration, now func() time.Time) Check {
	return NewCheck(CheckABSFreshness, "address book files: newest full file at most "+fmtDuration(maxAge)+" old, no gaps in the delta chain",
		func(ctx context.Context) ([]Finding, error) {
			entries, err := os.ReadDir(folder)
			if err != nil {
				return nil, fmt.Errorf("address book folder: %w", err)
			}
			var names []abs.FileName
			for _, e := range entries {
				if e.IsDir() {
					continue
				}
				if n, err := abs.ParseFileName(e.Name()); err == nil {
					names = append(names, n)
				}
			}
			return freshnessFindings(folder, names, now(), maxAge), nil
		})
}

// freshnessFindings checks the .lsabs and .dabs files separately; a folder with no address book
// file at all is one finding.
func freshnessFindings(folder string, names []abs.FileName, now time.Time, maxAge time.Duration) []Finding {
	if len(names) == 0 {
		return []Finding{{Check: CheckABSFreshness, Severity: SeverityError, Object: folder,
			Message: "no address book files (F-XXXX.lsabs, D-XXXX-YYYY.lsabs) in the folder"}}
	}
	var out []Finding
	for _, device := range []bool{false, true} {
		var group []abs.FileName
		for _, n := range names {
			if n.Device == device {
				group = append(group, n)
			}
		}
		if len(group) > 0 {
			out = append(out, chainFindings(group, now, maxAge)...)
		}
	}
	return out
}

// chainFindings checks one kind of file (all .lsabs or all .dabs).
func chainFindings(files []abs.FileName, now time.Time, maxAge time.Duration) []Finding {
	device := files[0].Device
	ext := ".lsabs"
	if device {
		ext = ".dabs"
	}
	first := files[0].Day
	var newest abs.Day
	haveFull := false
	oneDay := map[abs.Day]bool{} // YYYY of every one-day delta
	for _, f := range files {
		start := f.Day
		if f.Kind != abs.Full {
			start = f.BaseDay
			if f.BaseDay+1 == f.Day {
				oneDay[f.Day] = true
			}
		} else if !haveFull || f.Day > newest {
			newest, haveFull = f.Day, true
		}
		if start < first {
			first = start
		}
	}
	var out []Finding
	if !haveFull {
		return []Finding{{Check: CheckABSFreshness, Severity: SeverityError, Object: "F-XXXX" + ext,
			Message: "no full " + ext + " file: clients without a file cannot start"}}
	}
	newestName := abs.FileName{Kind: abs.Full, Day: newest, Device: device}.String()
	if age := now.Sub(newest.Time()); age > maxAge {
		out = append(out, Finding{Check: CheckABSFreshness, Severity: SeverityError, Object: newestName,
			Message: fmt.Sprintf("newest full file is dated %s, %s old, more than the %s allowed: is the Address Book Server still generating files?",
				newest.Time().Format(time.DateOnly), roundAge(age), fmtDuration(maxAge))})
	}
	var missing []abs.Day
	for d := first + 1; d <= newest && d > first; d++ {
		if !oneDay[d] {
			missing = append(missing, d)
		}
	}
	for _, d := range missing {
		name := abs.FileName{Kind: abs.Delta, BaseDay: d - 1, Day: d, Device: device}.String()
		out = append(out, Finding{Check: CheckABSFreshness, Severity: SeverityWarning, Object: name,
			Message: fmt.Sprintf("no delta from %s to %s (neither %s nor its compact form): clients holding the %s file must download the full file",
				(d - 1).Time().Format(time.DateOnly), d.Time().Format(time.DateOnly), name, (d - 1).Time().Format(time.DateOnly))})
	}
	return out
}

// fmtDuration formats whole hours as "36h" and anything else as time.Duration does.
func fmtDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// roundAge formats an age in whole days and hours: "2d3h", "2d", "5h".
func roundAge(d time.Duration) string {
	h := int(d / time.Hour)
	switch {
	case h < 24:
		return fmt.Sprintf("%dh", h)
	case h%24 == 0:
		return fmt.Sprintf("%dd", h/24)
	}
	return fmt.Sprintf("%dd%dh", h/24, h%24)
}

// PhoneRulesCheck finds telephoneNumber values of directory objects that no normalization rule
// matches; the Address Book Server leaves such numbers as they are, and clients cannot dial
// them. rules supplies the rules (the company rules file, or the rules block of the newest full
// address book file); an error from it makes the check fail.
func PhoneRulesCheck(forests []*Forest, rules func(ctx context.Context) (abs.Rules, error)) Check {
	return NewCheck(CheckPhoneRules, "telephone numbers that no normalization rule matches",
		func(ctx context.Context) ([]Finding, error) {
			rs, err := rules(ctx)
			if err != nil {
				return nil, err
			}
			var out []Finding
			var ruleErr error
			err = eachObject(ctx, forests, allForests, phoneFilter, func(f *Forest, o *ldapsync.Object) {
				if o.TelephoneNumber == "" || ruleErr != nil {
					return
				}
				res, err := rs.Normalize(o.TelephoneNumber)
				if err != nil {
					ruleErr = fmt.Errorf("%s: %w", o.DN, err)
					return
				}
				if !res.Matched {
					out = append(out, Finding{Check: CheckPhoneRules, Severity: SeverityWarning, Object: o.DN, Forest: f.Name, Value: o.TelephoneNumber,
						Message: fmt.Sprintf("telephoneNumber %q of %s matches no normalization rule (%d rules)", o.TelephoneNumber, describe(f.Name, o), len(rs))})
				}
			})
			if err == nil {
				err = ruleErr
			}
			return out, err
		})
}

// NewestFullRules returns the normalization rules carried by the newest full .lsabs file in
// folder (the rules the Address Book Server used that day).
func NewestFullRules(folder string) (abs.Rules, error) {
	entries, err := os.ReadDir(folder)
	if err != nil {
		return nil, fmt.Errorf("address book folder: %w", err)
	}
	var newest string
	var newestDay abs.Day
	for _, e := range entries {
		n, err := abs.ParseFileName(e.Name())
		if err != nil || e.IsDir() || n.Kind != abs.Full || n.Device {
			continue
		}
		if newest == "" || n.Day > newestDay {
			newest, newestDay = e.Name(), n.Day
		}
	}
	if newest == "" {
		return nil, fmt.Errorf("no full address book file (F-XXXX.lsabs) in %s to take the normalization rules from", folder)
	}
	f, err := abs.Open(filepath.Join(folder, newest))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return abs.ParseRules(f.RulesText())
}
