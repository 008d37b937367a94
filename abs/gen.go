package abs

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// DefaultAttributes returns the Lync 2013 default attribute rows (docs/ms-abs.md §6.2), in
// descending Id order as files carry them. Row 19 is spelled "proxyAddress", as the default table
// spells it (Table.ByName finds it as proxyAddresses too).
func DefaultAttributes() []Attribute {
	return []Attribute{
		{99, "entryID", 0x99000000},
		{20, "msExchHideFromAddressLists", 0xFF000003},
		{19, "proxyAddress", 0x00500105},
		{18, "manager", 0x12040001},
		{17, "description", 0x11000100},
		{16, "department", 0x10000000},
		{15, "groupType", 0x0F010800},
		{14, "mail", 0x0E500000},
		{13, "ipPhone", 0x0D302000},
		{12, "otherTelephone", 0x0C302000},
		{11, "mobile", 0x0B622800},
		{10, "homePhone", 0x0A302800},
		{9, "telephoneNumber", 0x09022800},
		{8, "msRTCSIP-PrimaryUserAddress", 0x08520C00},
		{7, "physicalDeliveryOfficeName", 0x07000000},
		{6, "company", 0x06000000},
		{5, "mailNickname", 0x05400000},
		{4, "title", 0x04000000},
		{3, "displayName", 0x03420000},
		{2, "sn", 0x02400000},
		{1, "givenName", 0x01400000},
	}
}

// Ids of DefaultAttributes used by the generator.
const (
	idGivenName   = 1
	idSn          = 2
	idDisplayName = 3
	idTitle       = 4
	idMailNick    = 5
	idCompany     = 6
	idOffice      = 7
	idSIP         = 8
	idTelephone   = 9
	idHomePhone   = 10
	idMobile      = 11
	idOtherPhone  = 12
	idIPPhone     = 13
	idMail        = 14
	idGroupType   = 15
	idDepartment  = 16
	idDescription = 17
	idManager     = 18
	idProxy       = 19
	idOtherHome   = 21
	idOtherMobile = 22
)

// genAttributes is the generator's table: DefaultAttributes and the multi-valued otherHomePhone
// and otherMobile ([MS-ABS] lists them as example attributes; their Ids and Flags are abkit's
// choice, modelled on otherTelephone's and feeding the homePhone and mobile client fields).
func genAttributes() []Attribute {
	return append([]Attribute{
		{idOtherMobile, "otherMobile", 0x0B322100},
		{idOtherHome, "otherHomePhone", 0x0A302100},
	}, DefaultAttributes()...)
}

// DefaultRules is the normalization rules text the generator writes: North American numbers,
// five-digit extensions starting with 5, and the E164 pseudo-rule.
const DefaultRules = "^\\+?1?[ .-]?\\(?(\\d{3})\\)?[ .-]?(\\d{3})[ .-]?(\\d{4})$\r\ntel:+1$1$2$3\r\n" +
	"^5(\\d{4})$\r\ntel:+1425555$1\r\n" +
	"E164\r\n\r\n"

// GenOptions configures Generate.
type GenOptions struct {
	Contacts   int    // objects in the book: about 75% users, 15% contacts, 10% groups
	Seed       uint64 // same options and seed, same book
	Duplicates int    // groups whose msRTCSIP-PrimaryUserAddress is a user's SIP address (capped at the users)
	Day        Day    // creation day; 0 means 0x0A10 (2008-01-21)
	Device     bool   // a device (.dabs) book: only the attributes with the device bit
}

// generator holds the state of one generation: random source and names already used.
type generator struct {
	rng   *rand.Rand
	next  map[string]int  // next number to try after a base name
	taken map[string]bool // names handed out (or present in the base book)
	users []*Contact
}

func newGenerator(seed uint64) *generator {
	return &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15)), next: map[string]int{}, taken: map[string]bool{}}
}

var (
	givenNames  = []string{"Ann", "Bob", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivan", "Jun", "Kofi", "Lena", "Mateo", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tomoko", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë"}
	surnames    = []string{"Abbott", "Berg", "Castro", "Dubois", "Eriksen", "Fischer", "García", "Huang", "Ito", "Jensen", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Petrov", "Quinlan", "Rossi", "Schmidt", "Tanaka", "Umarov", "Varga", "Weber", "Xu", "Yilmaz", "Zhang"}
	titles      = []string{"Engineer", "Senior Engineer", "Development Manager", "Accountant", "Sales Representative", "Program Manager", "Support Specialist", "Director", "Designer", "Analyst"}
	departments = []string{"Engineering", "Finance", "Sales", "Marketing", "Support", "Legal", "Operations", "HR"}
	groupNames  = []string{"Sales Team", "Helpdesk", "Engineering All", "Finance Approvers", "Project Apollo", "Site Leads", "Travel Desk", "Security Admins"}
)

// GenerateContacts is how many objects Generate makes when GenOptions.Contacts is 0.
const GenerateContacts = 40

// Generate returns a deterministic synthetic full address book (Lync 2013 default attributes plus
// otherHomePhone and otherMobile, DefaultRules, UseNormalizationRules set): users with SIP
// addresses, raw and normalized phone numbers, multi-valued proxyAddresses (smtp: values with @,
// as type 0x5 keeps) and managers; mail contacts; groups, Duplicates of them sharing a user's SIP
// address as their msRTCSIP-PrimaryUserAddress. No object has a value of the type-0x3
// msExchHideFromAddressLists: hidden objects are simply left out, as the server does. Contacts are
// sorted by ContactId and records by descending attribute Id, as Write writes them.
func Generate(o GenOptions) *Book {
	n := o.Contacts
	if n <= 0 {
		n = GenerateContacts
	}
	day := o.Day
	if day == 0 {
		day = 0x0A10
	}
	g := newGenerator(o.Seed)
	groups := max(n/10, min(o.Duplicates, n/2))
	contacts := (n - groups) / 6
	users := n - groups - contacts
	b := &Book{
		Header:     Header{Kind: Full, FileType: FullFileType, Day: day, UseNormalizationRules: true},
		Attributes: genAttributes(),
		Rules:      DefaultRules,
	}
	for range users {
		b.Contacts = append(b.Contacts, g.user())
	}
	for range contacts {
		b.Contacts = append(b.Contacts, g.mailContact())
	}
	dups := min(o.Duplicates, groups, len(g.users))
	for i := range groups {
		var shared string
		if i < dups {
			u := g.users[g.rng.IntN(len(g.users))]
			shared = u.Attr(idSIP)[0].Str
		}
		b.Contacts = append(b.Contacts, g.group(shared))
	}
	if o.Device {
		b = deviceBook(b)
	}
	finish(b)
	return b
}

// finish sorts b's contacts by Id and records by descending attribute Id and fixes the counts.
func finish(b *Book) {
	b.Attributes = sortAttributes(b.Attributes)
	b.Header.NumberOfAttributes = uint16(len(b.Attributes))
	b.Header.MaximumAttributeID = 0
	if len(b.Attributes) > 0 {
		b.Header.MaximumAttributeID = b.Attributes[0].ID
	}
	for _, c := range b.Contacts {
		slices.SortStableFunc(c.Values, func(x, y Value) int { return cmp.Compare(y.AttrID, x.AttrID) })
	}
	sortContacts(b.Contacts)
}

// deviceBook keeps the attributes with the device bit and the objects that still have values.
func deviceBook(b *Book) *Book {
	keep := map[uint16]bool{}
	out := &Book{Header: b.Header, Rules: b.Rules}
	for _, a := range b.Attributes {
		if a.Flags.Device() {
			keep[a.ID] = true
			out.Attributes = append(out.Attributes, a)
		}
	}
	for _, c := range b.Contacts {
		d := &Contact{ID: c.ID, OuPathID: c.OuPathID}
		for _, v := range c.Values {
			if keep[v.AttrID] {
				d.Values = append(d.Values, v)
			}
		}
		if len(d.Values) > 0 {
			out.Contacts = append(out.Contacts, d)
		}
	}
	return out
}

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *generator) guid() GUID {
	var id GUID
	for i := 0; i < 16; i += 8 {
		x := g.rng.Uint64()
		for j := range 8 {
			id[i+j] = byte(x >> (8 * j))
		}
	}
	id[7] = id[7]&0x0F | 0x40 // version 4 (Windows layout: byte 7 is the high byte of field 3)
	id[8] = id[8]&0x3F | 0x80
	return id
}

// unique returns base, or base followed by a number when base was returned before.
func (g *generator) unique(base string) string {
	for {
		n := g.next[base]
		g.next[base] = n + 1
		name := base
		if n > 0 {
			name += strconv.Itoa(n + 1)
		}
		if !g.taken[name] {
			g.taken[name] = true
			return name
		}
	}
}

// ascii folds the few non-ASCII letters of the name lists for mail addresses.
var ascii = strings.NewReplacer("ë", "e", "í", "i", "ó", "o", "ü", "ue", "'", "")

func str(id uint16, s string) Value { return Value{AttrID: id, Kind: ValueString, Str: s} }

// phone returns the raw value of a number and, when DefaultRules normalize it, its normalized copy.
func (g *generator) phone(id uint16) []Value {
	area := []string{"425", "206", "212", "415"}[g.rng.IntN(4)]
	line := fmt.Sprintf("%04d", g.rng.IntN(10000))
	mid := fmt.Sprintf("%03d", 200+g.rng.IntN(800))
	norm := "tel:+1" + area + mid + line
	var raw string
	switch g.rng.IntN(10) {
	case 0, 1, 2:
		raw = "+1 (" + area + ") " + mid + "-" + line
	case 3, 4, 5:
		raw = area + "-" + mid + "-" + line
	case 6, 7:
		raw = "(" + area + ") " + mid + " " + line
	case 8:
		raw, norm = "5"+line, "tel:+1425555"+line
	default:
		raw = "+1 " + area + " " + mid + " " + line + " ext. " + strconv.Itoa(10+g.rng.IntN(90))
		return []Value{str(id, raw)} // no rule matches: no normalized copy
	}
	return []Value{str(id, raw), {AttrID: id, Kind: ValueNormalized, Str: norm}}
}

func (g *generator) ouPath() uint32 { return uint32(1 + g.rng.IntN(40)) }

func (g *generator) user() *Contact {
	first, last := g.pick(givenNames), g.pick(surnames)
	nick := g.unique(strings.ToLower(ascii.Replace(first + "." + last)))
	addr := nick + "@contoso.com"
	c := &Contact{ID: g.guid(), OuPathID: g.ouPath()}
	add := func(vs ...Value) { c.Values = append(c.Values, vs...) }
	add(str(idGivenName, first), str(idSn, last), str(idDisplayName, first+" "+last),
		str(idTitle, g.pick(titles)), str(idMailNick, nick), str(idCompany, "Contoso Ltd"),
		str(idOffice, fmt.Sprintf("Building %d/%d", 1+g.rng.IntN(40), 1000+g.rng.IntN(9000))),
		str(idSIP, "sip:"+addr), str(idMail, addr), str(idDepartment, g.pick(departments)))
	if g.rng.IntN(10) < 9 {
		add(g.phone(idTelephone)...)
	}
	if g.rng.IntN(2) == 0 {
		add(g.phone(idMobile)...)
	}
	if g.rng.IntN(10) == 0 {
		add(g.phone(idHomePhone)...)
	}
	if g.rng.IntN(20) == 0 {
		add(g.phone(idOtherPhone)...)
	}
	if g.rng.IntN(20) == 0 {
		add(g.phone(idOtherHome)...)
	}
	if g.rng.IntN(10) == 0 {
		add(g.phone(idOtherMobile)...)
		if g.rng.IntN(3) == 0 {
			add(g.phone(idOtherMobile)...)
		}
	}
	if g.rng.IntN(10) == 0 {
		ext := fmt.Sprintf("5%04d", g.rng.IntN(10000))
		add(str(idIPPhone, ext), Value{AttrID: idIPPhone, Kind: ValueNormalized, Str: "tel:+1425555" + ext[1:]})
	}
	if g.rng.IntN(5) == 0 {
		add(str(idDescription, "Works remotely"))
		if g.rng.IntN(2) == 0 {
			add(str(idDescription, "Mentor"))
		}
	}
	if len(g.users) > 0 && g.rng.IntN(5) < 3 {
		m := g.users[g.rng.IntN(len(g.users))].ID
		add(Value{AttrID: idManager, Kind: ValueBinary, Str: string(m[:])})
	}
	add(str(idProxy, "SMTP:"+addr), str(idProxy, "smtp:"+strings.ToLower(ascii.Replace(first[:1]+last))+strconv.Itoa(g.rng.IntN(100))+"@contoso.com"))
	g.users = append(g.users, c)
	return c
}

func (g *generator) mailContact() *Contact {
	first, last := g.pick(givenNames), g.pick(surnames)
	addr := g.unique(strings.ToLower(ascii.Replace(first+"."+last))+".ext") + "@fabrikam.com"
	c := &Contact{ID: g.guid(), OuPathID: g.ouPath()}
	c.Values = append(c.Values, str(idGivenName, first), str(idSn, last), str(idDisplayName, first+" "+last+" (Fabrikam)"),
		str(idCompany, "Fabrikam Inc"), str(idMail, addr), str(idProxy, "SMTP:"+addr))
	if g.rng.IntN(3) == 0 {
		c.Values = append(c.Values, str(idSIP, "sip:"+addr))
	}
	if g.rng.IntN(2) == 0 {
		c.Values = append(c.Values, g.phone(idTelephone)...)
	}
	return c
}

// group returns a distribution or security group; sharedSIP, when set, is a user's SIP address
// that the group also carries as its msRTCSIP-PrimaryUserAddress (the duplicate-entry problem
// admins hunt).
func (g *generator) group(sharedSIP string) *Contact {
	name := g.unique(g.pick(groupNames))
	nick := strings.ToLower(strings.ReplaceAll(name, " ", "-"))
	addr := nick + "@contoso.com"
	c := &Contact{ID: g.guid(), OuPathID: g.ouPath()}
	gt := []string{"-2147483646", "-2147483640", "8", "2"}[g.rng.IntN(4)]
	c.Values = append(c.Values, str(idDisplayName, name), str(idMailNick, nick), str(idMail, addr),
		str(idGroupType, gt), str(idDescription, "Members of "+name), str(idProxy, "SMTP:"+addr))
	if sharedSIP != "" {
		c.Values = append(c.Values, str(idSIP, sharedSIP))
	}
	return c
}

// ChangeOptions configures NextDay. Zero counts mean about 2% of the objects each.
type ChangeOptions struct {
	Seed     uint64
	Added    int // new users
	Deleted  int // objects removed
	Modified int // objects changed (title, phones, proxyAddresses, OU path, ...)
}

// NextDay returns the full book of the day after b's with a deterministic random change set
// applied. b is not modified.
func NextDay(b *Book, o ChangeOptions) *Book {
	g := newGenerator(o.Seed)
	def := max(1, len(b.Contacts)/50)
	if o.Added == 0 && o.Deleted == 0 && o.Modified == 0 {
		o.Added, o.Deleted, o.Modified = def, def, def
	}
	for _, c := range b.Contacts { // keep new names unique against the old book
		for _, v := range c.Attr(idMailNick) {
			g.taken[v.Str] = true
		}
		for _, v := range c.Attr(idMail) {
			if s, ok := strings.CutSuffix(v.Str, "@fabrikam.com"); ok {
				g.taken[s] = true
			}
		}
		if c.Attr(idSIP) != nil && c.Attr(idGroupType) == nil {
			g.users = append(g.users, c)
		}
	}
	out := &Book{Header: b.Header, Attributes: slices.Clone(b.Attributes), Rules: b.Rules}
	out.Header.Day++
	cs := slices.Clone(b.Contacts)
	for range min(o.Deleted, len(cs)) {
		i := g.rng.IntN(len(cs))
		cs = slices.Delete(cs, i, i+1)
	}
	for range min(o.Modified, len(cs)) {
		i := g.rng.IntN(len(cs))
		cs[i] = g.modify(cs[i])
	}
	for range o.Added {
		cs = append(cs, g.user())
	}
	out.Contacts = cs
	if !slices.ContainsFunc(b.Attributes, func(a Attribute) bool { return !a.Flags.Device() }) {
		out = deviceBook(out) // a device book: drop what the changes added outside its attributes
	}
	finish(out)
	return out
}

// modify returns a changed copy of c.
func (g *generator) modify(c *Contact) *Contact {
	d := &Contact{ID: c.ID, OuPathID: c.OuPathID, Values: slices.Clone(c.Values)}
	without := func(id uint16) {
		d.Values = slices.DeleteFunc(d.Values, func(v Value) bool { return v.AttrID == id })
	}
	switch g.rng.IntN(6) {
	case 0:
		without(idTitle)
		d.Values = append(d.Values, str(idTitle, g.pick(titles)+" II"))
	case 1:
		without(idTelephone)
		d.Values = append(d.Values, g.phone(idTelephone)...)
	case 2:
		if d.Attr(idMobile) != nil {
			without(idMobile)
		} else {
			d.Values = append(d.Values, g.phone(idMobile)...)
		}
	case 3:
		d.OuPathID = g.ouPath()
	case 4:
		d.Values = append(d.Values, str(idProxy, "smtp:alias"+strconv.Itoa(g.rng.IntN(1000))+"@contoso.com"))
	default:
		without(idDepartment)
		d.Values = append(d.Values, str(idDepartment, g.pick(departments)))
	}
	slices.SortStableFunc(d.Values, func(x, y Value) int { return cmp.Compare(y.AttrID, x.AttrID) })
	return d
}
