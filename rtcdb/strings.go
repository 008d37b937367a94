package rtcdb

import "bytes"

// Limits of the UserData string scan.
const (
	maxFoundStrings = 64  // strings reported per entry
	maxFoundLen     = 256 // bytes kept per string
)

var addressPrefixes = [][]byte{[]byte("sip:"), []byte("smtp:"), []byte("tel:")}

// FindAddresses is a heuristic: it returns the printable sip:, smtp: and tel: strings found in
// data, stored as ASCII or as UTF-16LE (at either byte alignment), in order of first appearance,
// without repeats. UserData's format is undocumented, so a string may be missed or cut short.
func FindAddresses(data []byte) []string {
	var out []string
	seen := map[string]bool{}
	add := func(view []byte) {
		lower := bytes.ToLower(view)
		for i := 0; i < len(lower) && len(out) < maxFoundStrings; i++ {
			for _, p := range addressPrefixes {
				if !bytes.HasPrefix(lower[i:], p) {
					continue
				}
				end := i + len(p)
				for end < len(view) && end-i < maxFoundLen && view[end] > 0x20 && view[end] < 0x7F {
					end++
				}
				if end > i+len(p) {
					s := string(view[i:end])
					if !seen[s] {
						seen[s] = true
						out = append(out, s)
					}
				}
				i = end - 1
				break
			}
		}
	}
	add(data)
	for align := 0; align < 2; align++ {
		add(utf16View(data, align))
	}
	return out
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
