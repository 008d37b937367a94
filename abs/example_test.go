package abs_test

import (
	"fmt"
	"log"

	"github.com/abkit/abkit/abs"
)

func ExampleParseFileName() {
	n, err := abs.ParseFileName("D-0A10-0A11.lsabs")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.Kind, n.BaseDay.Time().Format("2006-01-02"), n.Day.Time().Format("2006-01-02 Monday"), n.Device)
	fmt.Println(abs.FileName{Kind: abs.Full, Day: 0x0A8C, Device: true})
	// Output:
	// delta 2008-01-21 2008-01-22 Tuesday false
	// F-0A8C.dabs
}

// A user and a group share a SIP address: the duplicate-entry problem.
func ExampleOpen() {
	f, err := abs.Open("../testdata/abs/F-0A10.lsabs")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	t := f.Table()
	for c, err := range f.ContactsReused() {
		if err != nil {
			log.Fatal(err)
		}
		for _, sip := range c.SIPAddresses(t) {
			if sip == "emil.obrien@contoso.com" {
				fmt.Println(c.ID, c.IsGroup(t))
			}
		}
	}
	s, err := abs.Summarize(f.Reader)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", s)
	// Output:
	// 01c24131-5fa6-4972-89f7-101fa94ff9c2 true
	// a147c0ab-eb2d-4416-b50f-484c4ee4d66b false
	// {Contacts:36 Users:30 Groups:3 Others:3 Deleted:0 Values:541 Normalized:63 Empty:0}
}
