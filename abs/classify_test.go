package abs

import "testing"

func TestClassifier(t *testing.T) {
	b := Generate(GenOptions{Contacts: 200, Seed: 3})
	tbl, err := b.Table()
	if err != nil {
		t.Fatal(err)
	}
	k := NewClassifier(tbl)
	counts := map[Class]int{}
	for _, c := range b.Contacts {
		cl := k.Class(c)
		counts[cl]++
		if (cl == ClassGroup) != c.IsGroup(tbl) {
			t.Errorf("%s: class %s, IsGroup %v", c.ID, cl, c.IsGroup(tbl))
		}
	}
	if counts[ClassGroup] == 0 || counts[ClassEntry] == 0 {
		t.Errorf("classes %v", counts)
	}
	if got := k.Class(&Contact{}); got != ClassDeleted {
		t.Errorf("a record without attributes: %s", got)
	}
}
