package audit

import (
	"context"
	"errors"
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
func staticForest(name string, resource bool, objs ...*ldapsync.Object) *Forest {
	return NewForest(name, resource, func(context.Context) ([]*ldapsync.Object, error) { return objs, nil })
}

func TestForestLoadsOnce(t *testing.T) {
	calls := 0
	f := NewForest("f", false, func(context.Context) ([]*ldapsync.Object, error) {
		calls++
		return nil, errors.New("down")
	})
	for range 3 {
		if _, err := f.Objects(context.Background()); err == nil {
			t.Fatal("no error")
		}
	}
	if calls != 1 {
		t.Errorf("load called %d times", calls)
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

	failing := []*Forest{NewForest("down", false, func(context.Context) ([]*ldapsync.Object, error) { return nil, errors.New("forest down: refused") })}
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
