package abs

import (
	"testing"
	"time"
)

func TestDays(t *testing.T) {
	for _, tc := range []struct {
		day  Day
		date string
		wd   time.Weekday
	}{{0, "2001-01-01", time.Monday}, {0x0A8C, "2008-05-24", time.Saturday}, {0x0A10, "2008-01-21", time.Monday}, {0x0A11, "2008-01-22", time.Tuesday}} {
		tm := tc.day.Time()
		if tm.Format(time.DateOnly) != tc.date || tm.Weekday() != tc.wd || tm.Location() != time.UTC {
			t.Errorf("day %s = %s %s", tc.day, tm, tm.Weekday())
		}
		back, err := DayOf(tm.Add(23 * time.Hour))
		if err != nil || back != tc.day {
			t.Errorf("DayOf(%s) = %s, %v", tm, back, err)
		}
	}
	if _, err := DayOf(time.Date(2000, 12, 31, 23, 0, 0, 0, time.UTC)); err == nil {
		t.Error("DayOf accepted 2000-12-31")
	}
	if _, err := DayOf(Day(0xFFFF).Time().AddDate(0, 0, 1)); err == nil {
		t.Error("DayOf accepted day 0x10000")
	}
}

func TestParseFileName(t *testing.T) {
	tests := []struct {
		in      string
		want    FileName
		wantErr bool
		out     string
	}{
		{in: "F-0A8C.lsabs", want: FileName{Kind: Full, Day: 0x0A8C}, out: "F-0A8C.lsabs"},
		{in: "/srv/ab/D-0A10-0A11.lsabs", want: FileName{Kind: Delta, BaseDay: 0x0A10, Day: 0x0A11}, out: "D-0A10-0A11.lsabs"},
		{in: "C-0a10-0a11.lsabs", want: FileName{Kind: Compact, BaseDay: 0x0A10, Day: 0x0A11}, out: "C-0A10-0A11.lsabs"},
		{in: "D-0A10-0A11.dabs", want: FileName{Kind: Delta, BaseDay: 0x0A10, Day: 0x0A11, Device: true}, out: "D-0A10-0A11.dabs"},
		{in: "F-0A10.dabs", want: FileName{Kind: Full, Day: 0x0A10, Device: true}, out: "F-0A10.dabs"},
		{in: "D-0A11-0A10.lsabs", wantErr: true},
		{in: "D-0A11-0A11.lsabs", wantErr: true},
		{in: "F-0A10-0A11.lsabs", wantErr: true},
		{in: "D-0A10.lsabs", wantErr: true},
		{in: "X-0A10.lsabs", wantErr: true},
		{in: "F-A10.lsabs", wantErr: true},
		{in: "F-0G10.lsabs", wantErr: true},
		{in: "F-0A10.txt", wantErr: true},
		{in: "F-+A10.lsabs", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseFileName(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFileName(%q) = %+v, %v", tt.in, got, err)
			continue
		}
		if err == nil && got.String() != tt.out {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tt.out)
		}
	}
}

func TestGUID(t *testing.T) {
	const s = "96bd221f-8492-4450-abb2-2bd6828db27a"
	g, err := ParseGUID("{96BD221F-8492-4450-ABB2-2BD6828DB27A}")
	if err != nil || g != guidA || g.String() != s {
		t.Fatalf("ParseGUID = %x (%s), %v", g[:], g, err)
	}
	if FullFileType.String() != "6c3e5a1b-0f2d-4b8a-9e47-abc0ffee0001" {
		t.Errorf("FullFileType = %s", FullFileType)
	}
	if DeltaFileType.String() != "b54bc116-9008-47c7-b9bd-f3bb1a0ab6eb" {
		t.Errorf("DeltaFileType = %s", DeltaFileType)
	}
	for _, bad := range []string{"", "96bd221f-8492-4450-abb2-2bd6828db27", "96bd221f:8492-4450-abb2-2bd6828db27a", "96bd221g-8492-4450-abb2-2bd6828db27a"} {
		if _, err := ParseGUID(bad); err == nil {
			t.Errorf("ParseGUID(%q) accepted", bad)
		}
	}
	var u GUID
	if err := u.UnmarshalText([]byte(s)); err != nil || u != g {
		t.Errorf("UnmarshalText: %v", err)
	}
}

func TestFlags(t *testing.T) {
	f := Flags(0x08520C00) // msRTCSIP-PrimaryUserAddress, Lync 2013
	if f.ClientField() != 8 || f.Type() != TypeString || !f.MailAccountName() || !f.Required() || !f.Device() || f.MultiValued() || f.GroupMarker() {
		t.Errorf("%s decoded wrongly", f)
	}
	if got := f.String(); got != "0x08520C00 (client=08 string mail-account required device other=0x500000)" {
		t.Errorf("String = %q", got)
	}
	p := Flags(0x00500105) // proxyAddresses
	if p.ClientField() != 0 || p.Type() != TypeTelOrSMTP || !p.MultiValued() {
		t.Errorf("%s decoded wrongly", p)
	}
	g := Flags(0x0F010800)
	if !g.GroupMarker() || !g.Required() || g.Type() != TypeString {
		t.Errorf("%s decoded wrongly", g)
	}
	m := Flags(0x0B622800) // mobile
	if !m.NormalizeWhenRules() || m.AlwaysNormalize() || !m.Normalized() || Flags(0x0B600800).Normalized() {
		t.Errorf("%s normalization decoded wrongly", m)
	}
	if Flags(0xFF000003).Type() != TypeBooleanString || Flags(0xFF000003).ClientField() != 0xFF {
		t.Error("msExchHideFromAddressLists decoded wrongly")
	}
	all := Flags(0x0003FF00)
	if !all.ExcludeIfPresent() || !all.IncludeOnlyIfPresent() || !all.AlwaysNormalize() {
		t.Errorf("%s decoded wrongly", all)
	}
	if ValueType(9).String() != "type(9)" {
		t.Error("unknown types print as numbers")
	}
}
