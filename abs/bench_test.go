package abs

import (
	"bytes"
	"sync"
	"testing"
)

var benchFile = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	if err := Write(&buf, Generate(GenOptions{Contacts: 200_000, Seed: 1, Duplicates: 100})); err != nil {
		panic(err)
	}
	return buf.Bytes()
})

// BenchmarkDecode decodes a 200,000-contact full file held in memory, iterating every contact and
// value, with Contacts (fresh contacts) and ContactsReused. Besides the wall-clock MB/s it reports
// MB/cpu-s, throughput per CPU-second of the process (scripts/bench/abs.sh reports both).
func BenchmarkDecode(b *testing.B) {
	data := benchFile()
	for _, bc := range []struct {
		name  string
		reuse bool
	}{{"fresh", false}, {"reused", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					b.Fatal(err)
				}
				seq := r.Contacts()
				if bc.reuse {
					seq = r.ContactsReused()
				}
				n, total := 0, 0
				for c, err := range seq {
					if err != nil {
						b.Fatal(err)
					}
					for i := range c.Values {
						total += len(c.Values[i].Str)
					}
					n++
				}
				if n != 200_000 || total == 0 {
					b.Fatalf("%d contacts, %d value bytes", n, total)
				}
			}
			// MB/s per CPU-second of the whole process (GC included): the one-core figure,
			// meaningful even when other processes share the machine.
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(len(data))*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
			}
		})
	}
}
