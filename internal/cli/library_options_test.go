package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/abkit/abkit/abs"
	"github.com/abkit/abkit/ldapsync"
	"github.com/abkit/abkit/rtcdb"
	"github.com/abkit/abkit/sidmap"
)

// TestLibraryOptionsArePublic: a program outside this module can fill every library option
// struct, so no field may have a type from an internal package (as internal/progress.Reporter
// once was) or an unexported type.
func TestLibraryOptionsArePublic(t *testing.T) {
	for _, v := range []any{
		ldapsync.Options{}, ldapsync.TLSOptions{}, ldapsync.Bind{},
		sidmap.PlanOptions{}, sidmap.ApplyOptions{}, sidmap.SyncOptions{}, sidmap.VerifyOptions{},
		rtcdb.Options{}, rtcdb.DeleteOptions{},
		abs.GenOptions{}, abs.ChangeOptions{},
	} {
		st := reflect.TypeOf(v)
		for f := range st.Fields() {
			if !f.IsExported() {
				continue
			}
			for _, typ := range named(f.Type) {
				if strings.Contains(typ.PkgPath(), "/internal/") || (typ.PkgPath() != "" && !isExported(typ.Name())) {
					t.Errorf("%s.%s has type %s.%s, which a user of the library cannot name", st, f.Name, typ.PkgPath(), typ.Name())
				}
			}
		}
	}
}

// named returns the named types t is built from (t itself, or the elements of a slice, map,
// pointer, array or channel).
func named(t reflect.Type) []reflect.Type {
	if t.Name() != "" {
		return []reflect.Type{t}
	}
	switch t.Kind() {
	case reflect.Map:
		return append(named(t.Key()), named(t.Elem())...)
	case reflect.Slice, reflect.Array, reflect.Pointer, reflect.Chan:
		return named(t.Elem())
	}
	return nil
}

func isExported(name string) bool { return name != "" && strings.ToUpper(name[:1]) == name[:1] }
