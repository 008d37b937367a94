package dupes

import (
	"hash/maphash"
	"slices"
	"strings"

	"github.com/abkit/abkit/internal/compact"
)

// The index holds a million objects for the whole run. Its parts are kept free of pointers
// (texts in an arena, maps keyed by hashes), so that the garbage collector, which runs often
// while sources are parsed, has nothing of it to scan.

// Kinds by code, as objects store them.
var kinds = []Kind{KindOther, KindUser, KindContact, KindSecurityGroup, KindDistributionGroup, KindEntry, KindGroup}

func kindCode(k Kind) uint8 {
	if i := slices.Index(kinds, k); i > 0 {
		return uint8(i)
	}
	return 0
}

// object is the compact fact kept per object; it holds no pointers.
type object struct {
	guid   GUID
	dn     compact.TextRef
	name   compact.TextRef
	forest int16 // index into Inputs.Forests; -1 when known only from the address book
	kind   uint8 // index into kinds
	flags  uint16
}

// objectStore holds the objects in fixed-size chunks, so that growing never copies them.
type objectStore struct {
	chunks [][]object
	n      int
}

const chunkBits = 16

func (s *objectStore) len() int { return s.n }

func (s *objectStore) at(id uint32) *object {
	return &s.chunks[id>>chunkBits][id&(1<<chunkBits-1)]
}

func (s *objectStore) add(o object) uint32 {
	if s.n&(1<<chunkBits-1) == 0 {
		s.chunks = append(s.chunks, make([]object, 0, 1<<chunkBits))
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = append(*c, o)
	s.n++
	return uint32(s.n - 1)
}

// valueIndex maps a normalized value to the objects carrying it. Most values have one object:
// the first reference is kept in a hash table keyed by the value's 64-bit hash, next to the
// value's text in an arena; only values with several objects get a slice. Two different values with
// the same hash (vanishingly rare) go to a small map keyed by the text itself.
type valueIndex struct {
	hash  func(string) uint64
	text  compact.Text
	first headTable           // hash -> first reference
	more  map[uint64][]uint32 // hash -> further references
	alt   map[string][]uint32 // values whose hash another value took: all references
}

// headRef is the first reference to a value and where its text is.
type headRef struct {
	key compact.TextRef
	ref uint32 // id<<viaBits | via
}

func newValueIndex() *valueIndex {
	seed := maphash.MakeSeed()
	return &valueIndex{hash: func(s string) uint64 { return maphash.String(seed, s) },
		more: map[uint64][]uint32{}, alt: map[string][]uint32{}}
}

func (v *valueIndex) add(key string, id, via uint32) {
	ref := id<<viaBits | via
	h := v.hash(key) | 1 // never 0, which marks a free slot of the table
	s := v.first.slot(h)
	switch {
	case s.h == 0:
		*s = headSlot{h: h, head: headRef{key: v.text.Add(key), ref: ref}}
		v.first.n++
		return
	case string(v.text.Bytes(s.head.key)) != key:
		v.alt[key] = addRef(v.alt[key], ref)
		return
	case s.head.ref>>viaBits == id:
		s.head.ref |= via
		return
	}
	v.more[h] = addRef(v.more[h], ref)
}

// headTable maps hashes (never 0) to first references by open addressing with linear probing,
// in one pointer-free slice: one probe finds a value's slot or the free slot for it, where a
// map needs a lookup and then an assignment.
type headTable struct {
	slots []headSlot // a power of two long; h == 0 marks a free slot
	n     int        // slots in use
}

type headSlot struct {
	h    uint64
	head headRef
}

// slot returns the slot holding h, or the free slot where h belongs (h == 0: the caller fills
// it and counts it in n). It grows the table first when it is three quarters full.
func (t *headTable) slot(h uint64) *headSlot {
	if 4*(t.n+1) > 3*len(t.slots) {
		old := t.slots
		t.slots = make([]headSlot, max(1024, 2*len(old)))
		for _, s := range old {
			if s.h != 0 {
				*t.slot(s.h) = s
			}
		}
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if s := &t.slots[i]; s.h == h || s.h == 0 {
			return s
		}
	}
}

// addRef adds ref to list, merging its via bits into an existing reference to the same object.
func addRef(list []uint32, ref uint32) []uint32 {
	for i, r := range list {
		if r>>viaBits == ref>>viaBits {
			list[i] |= ref
			return list
		}
	}
	return append(list, ref)
}

type collision struct {
	key  string
	refs []uint32
}

// collisions returns the values carried by more than one object, sorted by value.
func (v *valueIndex) collisions() []collision {
	out := make([]collision, 0, len(v.more)+len(v.alt))
	for h, more := range v.more {
		head := v.first.slot(h).head
		out = append(out, collision{key: v.text.String(head.key), refs: append([]uint32{head.ref}, more...)})
	}
	for k, refs := range v.alt {
		if len(refs) > 1 {
			out = append(out, collision{key: k, refs: refs})
		}
	}
	slices.SortFunc(out, func(a, b collision) int { return strings.Compare(a.key, b.key) })
	return out
}
