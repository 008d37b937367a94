package dupes

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"

	"github.com/abkit/abkit/abs"
	"github.com/abkit/abkit/internal/compact"
	"github.com/abkit/abkit/ldapsync"
)

// GUID is an objectGUID in Windows layout (= ContactId of address book files = AbUserEntry.UserGuid).
type GUID = ldapsync.GUID

// EntryChecker tells which objects have a row in the rtc table AbUserEntry. rtcdb implements it.
type EntryChecker interface {
	EntriesPresent(ctx context.Context, guids []GUID) (map[GUID]bool, error)
}

// PhoneNormalizer turns a telephoneNumber into the tel: form the address book uses, reporting
// false when no rule matches. The address book rules (abs.Rules) implement it.
type PhoneNormalizer interface {
	Normalize(number string) (string, bool)
}

// Entry is what Find needs of one address book contact.
type Entry struct {
	ID          GUID
	DisplayName string
	PrimarySIP  string   // msRTCSIP-PrimaryUserAddress, as stored
	ProxySIP    []string // sip: proxyAddresses values, as stored
	Phone       string   // telephoneNumber: the server's normalized copy (tel:...) when there is one, else raw
	Group       bool     // carries the group-marking attribute
	Deleted     bool     // a delta's deletion record (no attributes); never a member
}

// AddressBook is an address book file (or a full file with its deltas applied) read as a stream.
type AddressBook interface {
	// Name identifies the file(s) in reports, e.g. "F-1A2B.lsabs".
	Name() string
	// Entries streams the contacts; an error ends the sequence.
	Entries(ctx context.Context) iter.Seq2[*Entry, error]
}

// Inputs names the sources Find reads. Any combination is allowed; at least one forest or an
// address book is required.
type Inputs struct {
	Forests     []ldapsync.Source // read concurrently
	AddressBook AddressBook       // nil: none
	RTC         EntryChecker      // nil: AbUserEntry presence is not checked
	Phones      bool              // also run the phone-line check
	// Normalizer normalizes telephoneNumber values for the phone check; nil uses the E164 rule.
	Normalizer PhoneNormalizer
	Progress   ldapsync.Progress
}

// Kind is an object's kind as reported by dupes.
type Kind string

// Kinds. KindEntry and KindGroup are objects known only from an address book file, which does
// not record whether an entry is a user or a contact, nor a group's type.
const (
	KindUser              Kind = "user"
	KindContact           Kind = "contact"
	KindSecurityGroup     Kind = "security group"
	KindDistributionGroup Kind = "distribution group"
	KindEntry             Kind = Kind(abs.ClassEntry) // the address book's class: user or contact
	KindGroup             Kind = Kind(abs.ClassGroup)
	KindOther             Kind = "other"
)

// Check names one of Find's checks.
type Check string

// Checks.
const (
	CheckSIP   Check = "sip"
	CheckPhone Check = "phone"
)

// Member is one object involved in a duplicate.
type Member struct {
	Sources       []string `json:"sources"` // "forest NAME", "address book FILE"
	Forest        string   `json:"forest,omitempty"`
	DN            string   `json:"dn,omitempty"`
	GUID          GUID     `json:"guid"`
	DisplayName   string   `json:"display_name,omitempty"`
	Kind          Kind     `json:"kind"`
	Enabled       *bool    `json:"enabled"`         // account enabled; null for contacts, groups, unknown
	SIPEnabled    *bool    `json:"sip_enabled"`     // msRTCSIP-UserEnabled; null when unknown
	Hidden        bool     `json:"hidden"`          // msExchHideFromAddressLists TRUE
	InAddressBook *bool    `json:"in_address_book"` // null when no address book was read
	InRTC         *bool    `json:"in_rtc"`          // has an AbUserEntry row; null when not checked
	Via           []string `json:"via"`             // attributes that carry the value
	Keep          bool     `json:"keep"`            // the recommended keeper
}

// Row is one duplicated value (a SIP address or a phone line) with every object carrying it.
// Members are ordered best first; Members[0] is the recommended keeper.
type Row struct {
	Check   Check    `json:"check"`
	Value   string   `json:"value"` // normalized: lower case, no sip: prefix (SIP); tel:... (phone)
	Members []Member `json:"members"`
	Reason  string   `json:"reason"` // why Members[0] is kept
}

// SourceCount says how many objects one source contributed.
type SourceCount struct {
	Name    string `json:"name"`
	Objects int    `json:"objects"`
}

// Report is Find's result.
type Report struct {
	SIP      []Row         `json:"sip"`
	Phone    []Row         `json:"phone,omitempty"`
	Objects  int           `json:"objects"` // distinct objects read
	Sources  []SourceCount `json:"sources"`
	Warnings []string      `json:"warnings,omitempty"` // undecodable values, objects read twice (at most maxWarnings)
}

// Count returns the number of duplicated values in both checks.
func (r *Report) Count() int { return len(r.SIP) + len(r.Phone) }

// Find reads every input once and reports the SIP addresses (and, with Phones, phone lines)
// carried by more than one object.
func Find(ctx context.Context, in Inputs) (*Report, error) {
	if len(in.Forests) == 0 && in.AddressBook == nil {
		return nil, &InputError{Msg: "nothing to read: give at least one forest or an address book file"}
	}
	norm := in.Normalizer
	if norm == nil {
		norm = E164{}
	}
	pr := ldapsync.ProgressOrNop(in.Progress)
	ix := newIndex(in.Phones)
	rep := &Report{}

	pr.Start(-1, "objects")
	err := ix.readForests(ctx, in.Forests, norm, in.Phones, pr)
	if err == nil && in.AddressBook != nil {
		err = ix.readAddressBook(ctx, in.AddressBook, norm, in.Phones, pr)
	}
	pr.Done()
	if err != nil {
		return nil, err
	}
	for i, s := range in.Forests {
		rep.Sources = append(rep.Sources, SourceCount{Name: "forest " + s.Name(), Objects: ix.perForest[i]})
	}
	if in.AddressBook != nil {
		rep.Sources = append(rep.Sources, SourceCount{Name: "address book " + in.AddressBook.Name(), Objects: ix.absEntries})
	}
	rep.Objects = ix.objs.len()

	sipGroups := ix.sip.collisions()
	var phoneGroups []collision
	if in.Phones {
		phoneGroups = ix.phone.collisions()
	}
	var inRTC map[GUID]bool
	if in.RTC != nil {
		guids := ix.involvedGUIDs(sipGroups, phoneGroups)
		if len(guids) > 0 {
			inRTC, err = in.RTC.EntriesPresent(ctx, guids)
			if err != nil {
				return nil, fmt.Errorf("dupes: AbUserEntry lookup: %w", err)
			}
		} else {
			inRTC = map[GUID]bool{}
		}
	}
	names := make([]string, len(in.Forests))
	for i, s := range in.Forests {
		names[i] = s.Name()
	}
	rv := rowView{ix: ix, forests: names, inRTC: inRTC, rtcChecked: in.RTC != nil, absName: ""}
	if in.AddressBook != nil {
		rv.absName = in.AddressBook.Name()
	}
	seen := map[string]bool{}
	warn := func(w string) {
		if !seen[w] {
			seen[w] = true
			ix.warn(w)
		}
	}
	rep.SIP = rv.rows(CheckSIP, sipGroups, warn)
	if in.Phones {
		rep.Phone = rv.rows(CheckPhone, phoneGroups, warn)
	}
	rep.Warnings = ix.warnings
	if ix.moreWarnings > 0 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d more warnings not listed", ix.moreWarnings))
	}
	return rep, nil
}

// InputError reports inputs Find or Plan cannot work with.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return "dupes: " + e.Msg }

// BadInput marks the error as bad input (exit status 2).
func (e *InputError) BadInput() bool { return true }

// Object flags.
const (
	fEnabledKnown uint16 = 1 << iota
	fEnabled
	fSIPKnown
	fSIPEnabled
	fHidden
	fInABS
)

// Via bits of an index reference.
const (
	viaPrimary = 1 // msRTCSIP-PrimaryUserAddress (SIP) / msRTCSIP-Line (phone)
	viaProxy   = 2 // proxyAddresses (SIP) / telephoneNumber (phone)
	viaBits    = 2
)

// fact is one object's facts as a reader goroutine extracts them (strings still its own);
// the index keeps them as a pointer-free object.
type fact struct {
	guid   GUID
	dn     string
	name   string
	forest int16
	kind   Kind
	flags  uint16
	sip    []keyVia
	phone  []keyVia
}

type keyVia struct {
	key string
	via uint32
}

type index struct {
	objs         objectStore
	text         compact.Text // DNs and names of objs
	sip          *valueIndex
	phone        *valueIndex
	byGUID       map[GUID]uint32 // built only when an address book is merged in
	perForest    []int
	absEntries   int
	warnings     []string
	moreWarnings int // warnings beyond maxWarnings, counted only
}

// maxWarnings bounds the warnings a report lists: a forest full of bad values must not fill
// memory with messages.
const maxWarnings = 1000

func (ix *index) warn(w string) {
	if len(ix.warnings) < maxWarnings {
		ix.warnings = append(ix.warnings, w)
	} else {
		ix.moreWarnings++
	}
}

func newIndex(phones bool) *index {
	ix := &index{sip: newValueIndex()}
	if phones {
		ix.phone = newValueIndex()
	}
	return ix
}

// maxObjects keeps object ids within the bits an index reference leaves for them.
const maxObjects = 1<<(32-viaBits) - 1

func (ix *index) addObject(f *fact) (uint32, error) {
	if ix.objs.len() >= maxObjects {
		return 0, &InputError{Msg: fmt.Sprintf("more than %d objects", maxObjects)}
	}
	id := ix.objs.add(object{guid: f.guid, dn: ix.text.Add(f.dn), name: ix.text.Add(f.name), forest: f.forest,
		kind: kindCode(f.kind), flags: f.flags})
	ix.indexValues(id, f)
	return id, nil
}

func (ix *index) indexValues(id uint32, f *fact) {
	for _, kv := range f.sip {
		ix.sip.add(kv.key, id, kv.via)
	}
	if ix.phone != nil {
		for _, kv := range f.phone {
			ix.phone.add(kv.key, id, kv.via)
		}
	}
}

// searchAttributes are the attributes Find asks each forest for.
var searchAttributes = []string{
	ldapsync.AttrObjectClass, ldapsync.AttrObjectGUID, ldapsync.AttrPrimaryUserAddress,
	ldapsync.AttrProxyAddresses, ldapsync.AttrUserEnabled, ldapsync.AttrUserAccountControl,
	ldapsync.AttrGroupType, ldapsync.AttrHideFromAddressLists, ldapsync.AttrDisplayName,
	ldapsync.AttrLine, ldapsync.AttrTelephoneNumber,
}

// sipFilter selects objects carrying a SIP address in either attribute.
const sipFilter = "(|(msRTCSIP-PrimaryUserAddress=*)(proxyAddresses=sip:*))"

const batchSize = 512

type batch struct {
	forest int
	facts  []fact
	warns  []string
}

// readForests reads all forests concurrently; one goroutine (this one) owns the index.
func (ix *index) readForests(ctx context.Context, forests []ldapsync.Source, norm PhoneNormalizer, phones bool, pr ldapsync.Progress) error {
	ix.perForest = make([]int, len(forests))
	if len(forests) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan batch, 2*len(forests))
	errs := make([]error, len(forests))
	var wg sync.WaitGroup
	for i, src := range forests {
		wg.Go(func() {
			errs[i] = readForest(ctx, i, src, norm, phones, ch)
		})
	}
	go func() { wg.Wait(); close(ch) }()
	var addErr error
	for b := range ch {
		if addErr != nil {
			continue // drain so the readers can finish
		}
		for i := range b.facts {
			if _, err := ix.addObject(&b.facts[i]); err != nil {
				addErr = err
				cancel()
				break
			}
		}
		ix.perForest[b.forest] += len(b.facts)
		for _, w := range b.warns {
			ix.warn(w)
		}
		pr.Add(int64(len(b.facts)))
	}
	if addErr != nil {
		return addErr
	}
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("dupes: forest %s: %w", forests[i].Name(), err)
		}
	}
	return nil
}

func readForest(ctx context.Context, i int, src ldapsync.Source, norm PhoneNormalizer, phones bool, ch chan<- batch) error {
	b := batch{forest: i}
	send := func() bool {
		select {
		case ch <- b:
			b = batch{forest: i, facts: make([]fact, 0, batchSize)}
			return true
		case <-ctx.Done():
			return false
		}
	}
	b.facts = make([]fact, 0, batchSize)
	req := ldapsync.SearchRequest{Filter: sipFilter, Attributes: searchAttributes}
	for o, err := range src.Search(ctx, req) {
		if err != nil {
			return err
		}
		b.warns = append(b.warns, o.Warnings...)
		f := factFromObject(i, o, norm, phones)
		if len(f.sip) == 0 && len(f.phone) == 0 {
			continue
		}
		b.facts = append(b.facts, f)
		if len(b.facts) == batchSize && !send() {
			return ctx.Err()
		}
	}
	if len(b.facts) > 0 || len(b.warns) > 0 {
		if !send() {
			return ctx.Err()
		}
	}
	return ctx.Err()
}

func kindOf(o *ldapsync.Object) Kind {
	switch o.Kind {
	case ldapsync.KindUser:
		return KindUser
	case ldapsync.KindContact:
		return KindContact
	case ldapsync.KindGroup:
		if o.SecurityGroup() {
			return KindSecurityGroup
		}
		return KindDistributionGroup
	}
	return KindOther
}

// factFromObject extracts the compact facts of a directory object.
func factFromObject(forest int, o *ldapsync.Object, norm PhoneNormalizer, phones bool) fact {
	f := fact{guid: o.GUID, dn: o.DN, name: o.DisplayName, forest: int16(forest), kind: kindOf(o)}
	if f.kind == KindUser && o.UserAccountControl != nil {
		f.flags |= fEnabledKnown
		if !o.Disabled() {
			f.flags |= fEnabled
		}
	}
	if f.kind == KindUser || f.kind == KindContact {
		f.flags |= fSIPKnown
		if o.SIPEnabled != nil && *o.SIPEnabled {
			f.flags |= fSIPEnabled
		}
	}
	if o.HiddenFromGAL {
		f.flags |= fHidden
	}
	f.sip = sipKeys(o.PrimaryUserAddress, o.ProxySIP)
	if phones && f.kind == KindUser && f.flags&fSIPEnabled != 0 {
		if l := normalizeLine(o.Line); l != "" {
			f.phone = []keyVia{{l, viaPrimary}}
		} else if t, ok := norm.Normalize(o.TelephoneNumber); ok && o.TelephoneNumber != "" {
			if l := normalizeLine(t); l != "" {
				f.phone = []keyVia{{l, viaProxy}}
			}
		}
	}
	return f
}

// sipKeys returns the normalized addresses of a primary address and sip: proxy values. A value
// is normalized into a scratch buffer first and becomes a string only when it is new (a user's
// primary address usually repeats in proxyAddresses); the strings are fresh, so index keys never
// pin the reader's buffers.
func sipKeys(primary string, proxies []string) []keyVia {
	var out []keyVia
	var scratch [128]byte
	add := func(v string, via uint32) {
		k, ok := appendKey(scratch[:0], v)
		if !ok {
			return
		}
		for i := range out {
			if out[i].key == string(k) {
				out[i].via |= via
				return
			}
		}
		if out == nil {
			out = make([]keyVia, 0, 1+len(proxies))
		}
		out = append(out, keyVia{string(k), via})
	}
	add(primary, viaPrimary)
	for _, p := range proxies {
		add(p, viaProxy)
	}
	return out
}

// appendKey appends ldapsync.NormalizeSIP(v) to b, reporting false when that is empty.
func appendKey(b []byte, v string) ([]byte, bool) {
	start := len(b)
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			b = append(b, ldapsync.NormalizeSIP(v)...)
			return b, len(b) > start
		}
	}
	v = strings.TrimSpace(v)
	if len(v) >= 4 && strings.EqualFold(v[:4], "sip:") {
		v = strings.TrimSpace(v[4:])
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b, len(b) > start
}

// normalizeLine returns a phone line in comparison form: no spaces, lower case, tel: prefix.
func normalizeLine(v string) string {
	v = strings.ToLower(strings.Join(strings.Fields(v), ""))
	if v == "" {
		return ""
	}
	if !strings.HasPrefix(v, "tel:") {
		v = "tel:" + v
	}
	if v == "tel:" {
		return ""
	}
	return v
}

// readAddressBook merges the address book's entries into the index: an entry whose ContactId
// matches a directory object marks it present; any other entry becomes an object of its own.
// Decoding and fact extraction run in their own goroutine.
func (ix *index) readAddressBook(ctx context.Context, ab AddressBook, norm PhoneNormalizer, phones bool, pr ldapsync.Progress) error {
	ix.byGUID = make(map[GUID]uint32, ix.objs.len())
	for i := range ix.objs.len() {
		if g := ix.objs.at(uint32(i)).guid; !g.IsZero() {
			ix.byGUID[g] = uint32(i)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan batch, 4)
	var readErr error
	go func() {
		defer close(ch)
		readErr = readEntries(ctx, ab, norm, phones, ch)
	}()
	var addErr error
	for b := range ch {
		if addErr != nil {
			continue // drain so the reader can finish
		}
		for i := range b.facts {
			if addErr = ix.addEntry(&b.facts[i]); addErr != nil {
				cancel()
				break
			}
		}
		ix.absEntries += len(b.facts)
		pr.Add(int64(len(b.facts)))
	}
	if addErr != nil {
		return addErr
	}
	if readErr != nil {
		return fmt.Errorf("dupes: address book %s: %w", ab.Name(), readErr)
	}
	return nil
}

// addEntry merges one address book entry's facts: into the directory object (or earlier entry)
// with the same GUID, else as a new object.
func (ix *index) addEntry(f *fact) error {
	if id, ok := ix.byGUID[f.guid]; ok && !f.guid.IsZero() {
		// A directory object: its SIP addresses in the file count too (the file may be older
		// than the directory); its phone line comes from the directory alone.
		o := ix.objs.at(id)
		o.flags |= fInABS
		if o.name.Len() == 0 {
			o.name = ix.text.Add(f.name)
		}
		f.phone = nil
		ix.indexValues(id, f)
		return nil
	}
	id, err := ix.addObject(f)
	if err == nil && !f.guid.IsZero() {
		ix.byGUID[f.guid] = id // a repeated ContactId is the same entry
	}
	return err
}

// readEntries converts address book entries into facts, sent in batches.
func readEntries(ctx context.Context, ab AddressBook, norm PhoneNormalizer, phones bool, ch chan<- batch) error {
	b := batch{facts: make([]fact, 0, batchSize)}
	send := func() bool {
		select {
		case ch <- b:
			b = batch{facts: make([]fact, 0, batchSize)}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for e, err := range ab.Entries(ctx) {
		if err != nil {
			return err
		}
		if e.Deleted {
			continue
		}
		f := fact{guid: e.ID, name: e.DisplayName, forest: -1, kind: KindEntry, flags: fInABS}
		if e.Group {
			f.kind = KindGroup
		}
		f.sip = sipKeys(e.PrimarySIP, e.ProxySIP)
		if phones && !e.Group && e.PrimarySIP != "" && e.Phone != "" {
			tel, ok := e.Phone, true
			if len(tel) < 4 || !strings.EqualFold(tel[:4], "tel:") {
				tel, ok = norm.Normalize(tel)
			}
			if l := normalizeLine(tel); ok && l != "" {
				f.phone = []keyVia{{l, viaProxy}}
			}
		}
		b.facts = append(b.facts, f)
		if len(b.facts) == batchSize && !send() {
			return ctx.Err()
		}
	}
	if len(b.facts) > 0 && !send() {
		return ctx.Err()
	}
	return ctx.Err()
}

func (ix *index) involvedGUIDs(groups ...[]collision) []GUID {
	seen := map[GUID]bool{}
	var out []GUID
	for _, gs := range groups {
		for _, c := range gs {
			for _, r := range c.refs {
				g := ix.objs.at(r >> viaBits).guid
				if !g.IsZero() && !seen[g] {
					seen[g] = true
					out = append(out, g)
				}
			}
		}
	}
	return out
}
