package rtcdb

import (
	"slices"
	"testing"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		flags   Flags
		field   string
		vtype   string
		options []string
		text    string
	}{
		{0x05000400, "mailNickname", "string", []string{"mail account name"}, "0x05000400 field=mailNickname type=string [mail account name]"},
		{0x0F010800, "groupType", "string", []string{"required", "identifies groups"}, "0x0F010800 field=groupType type=string [required, identifies groups]"},
		{0x08520C00, "msRTCSIP-PrimaryUserAddress", "string", []string{"mail account name", "required", "in device files", "0x500000"}, ""},
		{0x12040001, "0x12", "binary", []string{"0x40000"}, "0x12040001 field=0x12 type=binary [0x40000]"},
		{0x07000009, "physicalDeliveryOfficeName", "0x09", nil, "0x07000009 field=physicalDeliveryOfficeName type=0x09"},
	}
	for _, tt := range tests {
		if got := tt.flags.ClientFieldName(); got != tt.field {
			t.Errorf("%08X field %q, want %q", uint32(tt.flags), got, tt.field)
		}
		if got := tt.flags.ValueTypeName(); got != tt.vtype {
			t.Errorf("%08X type %q, want %q", uint32(tt.flags), got, tt.vtype)
		}
		if got := tt.flags.Options(); !slices.Equal(got, tt.options) {
			t.Errorf("%08X options %q, want %q", uint32(tt.flags), got, tt.options)
		}
		if got := tt.flags.String(); tt.text != "" && got != tt.text {
			t.Errorf("%08X String %q, want %q", uint32(tt.flags), got, tt.text)
		}
	}
}
