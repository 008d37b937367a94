package tdstest

import "testing"

// The responder's request parser must reject, not panic on, any bytes a client might send.
func FuzzParseRequest(f *testing.F) {
	f.Add(byte(pktBatch), []byte{22, 0, 0, 0, 18, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 's', 0})
	f.Add(byte(pktRPC), []byte{4, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 0, 0, 0, 0xe7, 0xff, 0xff, 0, 0, 0, 0, 0})
	f.Add(byte(pktTransMgr), []byte{4, 0, 0, 0, 5, 0, 0, 0})
	f.Fuzz(func(t *testing.T, typ byte, msg []byte) {
		_, _ = parseRequest(typ, msg)
		_, _, _ = parseLogin7(msg)
	})
}
