package audit

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"
	"time"

	"github.com/abkit/abkit/ldapsync"
)

var testTime = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testTime }

func findingsCheck(name string, n int) Check {
	return NewCheck(name, "finds "+name, func(context.Context) ([]Finding, error) {
		out := make([]Finding, n)
		for i := range out {
			out[i] = Finding{Object: name + "-obj", Message: "m"}
		}
		return out, nil
	})
}

func TestRunRecordsFailuresAndKeepsGoing(t *testing.T) {
	checks := []Check{
		findingsCheck("a", 2),
		NewCheck("broken", "cannot run", func(context.Context) ([]Finding, error) {
			return []Finding{{Message: "partial"}}, errors.New("forest userforest: connection refused")
		}),
		NewCheck("panics", "panics", func(context.Context) ([]Finding, error) { panic("boom") }),
		findingsCheck("clean", 0),
	}
	rep := Run(context.Background(), checks, Options{Now: fixedClock})
	if !rep.Time.Equal(testTime) {
		t.Errorf("Time = %v", rep.Time)
	}
	if rep.Findings != 2 || rep.Errors != 2 || len(rep.Checks) != 4 {
		t.Fatalf("findings %d errors %d checks %d, want 2 2 4", rep.Findings, rep.Errors, len(rep.Checks))
	}
	a := rep.Checks[0]
	if a.Name != "a" || a.Count != 2 || a.Failed() || a.Findings[0].Check != "a" || a.Findings[0].Severity != SeverityWarning {
		t.Errorf("check a = %+v", a)
	}
	if b := rep.Checks[1]; !b.Failed() || b.Count != 0 || len(b.Findings) != 0 || !strings.Contains(b.Error, "connection refused") {
		t.Errorf("broken check = %+v (partial findings must be dropped)", b)
	}
	if p := rep.Checks[2]; !strings.Contains(p.Error, "panicked: boom") {
		t.Errorf("panicking check error = %q", p.Error)
	}
	if c := rep.Checks[3]; c.Failed() || c.Count != 0 || c.Findings == nil {
		t.Errorf("clean check = %+v (Findings must be an empty list, not null)", c)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	checks := []Check{
		NewCheck("first", "", func(context.Context) ([]Finding, error) { cancel(); return nil, nil }),
		NewCheck("second", "", func(context.Context) ([]Finding, error) { ran = true; return nil, nil }),
	}
	rep := Run(ctx, checks, Options{})
	if ran || rep.Errors != 1 || !strings.Contains(rep.Checks[1].Error, "canceled") {
		t.Errorf("ran=%v report=%+v", ran, rep)
	}
}

func boolp(b bool) *bool  { return &b }
func intp(i int64) *int64 { return &i }

// memSource is an in-memory ldapsync.Source that yields its objects for every search.
type memSource struct {
	name string
	objs []*ldapsync.Object
	err  error // returned after the objects
}

func (m *memSource) Name() string   { return m.name }
func (m *memSource) BaseDN() string { return "" }
func (m *memSource) Close() error   { return nil }
func (m *memSource) Search(ctx context.Context, req ldapsync.SearchRequest) iter.Seq2[*ldapsync.Object, error] {
	return func(yield func(*ldapsync.Object, error) bool) {
		for _, o := range m.objs {
			if !yield(o, nil) {
				return
			}
		}
		if m.err != nil {
			yield(nil, m.err)
		}
	}
}

func staticForest(name string, resource bool, objs ...*ldapsync.Object) *Forest {
	return NewForest(name, resource, func(context.Context) (ldapsync.Source, error) {
		return &memSource{name: name, objs: objs}, nil
	})
}

func TestForestOpensOnce(t *testing.T) {
	opens := 0
	f := NewForest("f", false, func(context.Context) (ldapsync.Source, error) {
		opens++
		return &memSource{name: "f", objs: []*ldapsync.Object{{DN: "CN=a"}}, err: errors.New("page 2: connection reset")}, nil
	})
	for _, c := range []Check{HiddenSIPCheck([]*Forest{f}), DisabledSIPCheck([]*Forest{f})} {
		if fs, err := c.Run(context.Background()); err == nil || fs != nil || !strings.Contains(err.Error(), "forest f: page 2") {
			t.Errorf("%s = %v, %v; want no findings and the search error", c.Name(), fs, err)
		}
	}
	if opens != 1 {
		t.Errorf("opened %d times", opens)
	}
	g := NewForest("g", false, func(context.Context) (ldapsync.Source, error) { return nil, errors.New("no such file") })
	if _, err := g.Source(context.Background()); err == nil || err.Error() != "forest g: no such file" {
		t.Errorf("open error = %v", err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("Close of an unopened forest = %v", err)
	}
}

func TestDirectoryChecks(t *testing.T) {
	user := &ldapsync.Object{DN: "CN=Hidden,DC=u", Kind: ldapsync.KindUser, SIPEnabled: boolp(true), HiddenFromGAL: true, PrimaryUserAddress: "sip:hidden@contoso.com"}
	hiddenNotSIP := &ldapsync.Object{DN: "CN=HiddenOff,DC=u", Kind: ldapsync.KindUser, SIPEnabled: boolp(false), HiddenFromGAL: true}
	disabled := &ldapsync.Object{DN: "CN=Gone,DC=u", Kind: ldapsync.KindUser, SIPEnabled: boolp(true), UserAccountControl: intp(514)}
	enabled := &ldapsync.Object{DN: "CN=Here,DC=u", Kind: ldapsync.KindUser, SIPEnabled: boolp(true), UserAccountControl: intp(512)}
	disabledNoSIP := &ldapsync.Object{DN: "CN=Off,DC=u", Kind: ldapsync.KindUser, UserAccountControl: intp(514)}
	resDisabled := &ldapsync.Object{DN: "CN=Res,DC=r", Kind: ldapsync.KindUser, SIPEnabled: boolp(true), UserAccountControl: intp(514), HiddenFromGAL: true}
	forests := []*Forest{
		staticForest("userforest", false, user, hiddenNotSIP, disabled, enabled, disabledNoSIP),
		staticForest("resforest", true, resDisabled),
	}
	hidden, err := HiddenSIPCheck(forests).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := objectsOf(hidden); got != "CN=Hidden,DC=u CN=Res,DC=r" {
		t.Errorf("hidden-sip objects = %q", got)
	}
	if !strings.Contains(hidden[0].Message, "sip:hidden@contoso.com") || !strings.Contains(hidden[0].Message, "userforest") {
		t.Errorf("message %q lacks the address or forest", hidden[0].Message)
	}
	dis, err := DisabledSIPCheck(forests).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := objectsOf(dis); got != "CN=Gone,DC=u" {
		t.Errorf("disabled-sip objects = %q (resource forest accounts are disabled by design)", got)
	}

	failing := []*Forest{NewForest("down", false, func(context.Context) (ldapsync.Source, error) { return nil, errors.New("refused") })}
	if _, err := HiddenSIPCheck(failing).Run(context.Background()); err == nil {
		t.Error("a forest that cannot be read must make the check fail")
	}
}

func objectsOf(fs []Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Object)
	}
	return strings.Join(s, " ")
}

func TestDuplicateChecks(t *testing.T) {
	guid := func(n byte) ldapsync.GUID { return ldapsync.GUID{n, 1, 2, 3} }
	sec := int64(-2147483646) // global security group
	objs := []*ldapsync.Object{
		{DN: "CN=Alice,DC=u", Kind: ldapsync.KindUser, GUID: guid(1), SIPEnabled: boolp(true), UserAccountControl: intp(512),
			PrimaryUserAddress: "sip:alice@contoso.com", Line: "tel:+14255550100"},
		{DN: "CN=Alice Group,DC=u", Kind: ldapsync.KindGroup, GUID: guid(2), GroupType: &sec, ProxySIP: []string{"SIP:Alice@Contoso.com"}},
		{DN: "CN=Bob,DC=u", Kind: ldapsync.KindUser, GUID: guid(3), SIPEnabled: boolp(true), UserAccountControl: intp(512),
			PrimaryUserAddress: "sip:bob@contoso.com", Line: "tel:+14255550100"},
		{DN: "CN=Carol,DC=u", Kind: ldapsync.KindUser, GUID: guid(4), SIPEnabled: boolp(true), PrimaryUserAddress: "sip:carol@contoso.com"},
	}
	calls := 0
	forests := []*Forest{NewForest("userforest", false, func(context.Context) (ldapsync.Source, error) {
		calls++
		return &memSource{name: "userforest", objs: objs}, nil
	})}
	sip, phone := DuplicateChecks(forests, nil)
	sf, err := sip.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(sf) != 1 || sf[0].Object != "sip:alice@contoso.com" || sf[0].Severity != SeverityError ||
		!strings.Contains(sf[0].Message, "2 objects: user CN=Alice,DC=u") || !strings.Contains(sf[0].Message, "CN=Alice Group,DC=u") {
		t.Errorf("duplicate-sip = %+v", sf)
	}
	pf, err := phone.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pf) != 1 || pf[0].Object != "tel:+14255550100" || !strings.Contains(pf[0].Message, "CN=Bob,DC=u") {
		t.Errorf("duplicate-phone = %+v", pf)
	}
	if calls != 1 {
		t.Errorf("forest opened %d times, want once for both checks", calls)
	}

	down := []*Forest{NewForest("down", false, func(context.Context) (ldapsync.Source, error) { return nil, errors.New("refused") })}
	sip, phone = DuplicateChecks(down, nil)
	if _, err := sip.Run(context.Background()); err == nil {
		t.Error("duplicate-sip ran without its forest")
	}
	if _, err := phone.Run(context.Background()); err == nil {
		t.Error("duplicate-phone ran without its forest")
	}
}
