package abs

import "fmt"

// BitNames names the bits of f set below the client-field byte and above the value type, as
// Flags.String does (multi, required, normalize, ...); bits abkit does not know are given last as
// one "other=0x..." entry. It never returns nil.
func (f Flags) BitNames() []string {
	names := []string{}
	rest := f &^ 0xFF0000FF
	for _, n := range flagNames {
		if f&n.bit != 0 {
			names = append(names, n.name)
			rest &^= n.bit
		}
	}
	if rest != 0 {
		names = append(names, fmt.Sprintf("other=0x%X", uint32(rest)))
	}
	return names
}
