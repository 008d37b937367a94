package rtcdb

import "bytes"

// Limits of the UserData string scan.
const (
	maxFoundStrings = 64  // strings reported per entry
	maxFoundLen     = 256 // bytes kept per string
)

var addressSchemes = []string{"smtp", "sip", "tel"}

// FindAddresses is a heuristic: it returns the printable sip:, smtp: and tel: strings found in
// data, stored as ASCII or as UTF-16LE (at either byte alignment), in order of first appearance,
// without repeats. UserData's format is undocumented, so a string may be missed or cut short.
func FindAddresses(data []byte) []string {
	var out []string
	seen := map[string]bool{}
	scan := func(view []byte) {
		for i := 0; i < len(view) && len(out) < maxFoundStrings; {
			j := bytes.IndexByte(view[i:], ':')
			if j < 0 {
				return
			}
			colon := i + j
			i = colon + 1
			start := -1
			for _, s := range addressSchemes {
				if colon >= len(s) && equalFoldASCII(view[colon-len(s):colon], s) {
					start = colon - len(s)
					break
				}
			}
			if start < 0 {
				continue
			}
			end := colon + 1
			for end < len(view) && end-start < maxFoundLen && view[end] > 0x20 && view[end] < 0x7F {
				end++
			}
			if end > colon+1 && !seen[string(view[start:end])] {
				s := string(view[start:end])
				seen[s] = true
				out = append(out, s)
			}
			i = end
		}
	}
	scan(data)
	for align := 0; align < 2; align++ {
		scan(utf16View(data, align))
	}
	return out
}

// equalFoldASCII reports whether b equals the lower-case ASCII word s, ignoring ASCII case.
func equalFoldASCII(b []byte, s string) bool {
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// utf16View maps UTF-16LE code units starting at byte offset align to bytes: units below 0x80
// become that byte, every other unit becomes 0 (a separator).
func utf16View(data []byte, align int) []byte {
	if len(data) < align+2 {
		return nil
	}
	view := make([]byte, 0, (len(data)-align)/2)
	for i := align; i+1 < len(data); i += 2 {
		if data[i+1] == 0 && data[i] < 0x80 {
			view = append(view, data[i])
		} else {
			view = append(view, 0)
		}
	}
	return view
}
