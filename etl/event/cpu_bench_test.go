//go:build unix

package event

import (
	"bytes"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodeCPU is BenchmarkDecode measured in CPU time, garbage
// collection included, which machines shared with other work disturb less
// than wall time: events/cpu-s is the events one core decodes a second.
func BenchmarkDecodeCPU(b *testing.B) {
	files := invictusFiles(b)
	var total int64
	var docs [][]byte
	var origins []Origin
	for key, data := range files {
		docs = append(docs, data)
		origins = append(origins, originOf(key))
		total += int64(len(data))
	}
	d := NewDecoder(nil, 0)
	defer d.Release()
	b.ReportAllocs()
	b.SetBytes(total)
	events := 0
	start := cpuTime(b)
	for b.Loop() {
		for i, data := range docs {
			res, err := d.Decode(bytes.NewReader(data), origins[i])
			if err != nil {
				b.Fatal(err)
			}
			events += res.Events
			res.Release()
		}
	}
	cpu := (cpuTime(b) - start).Seconds()
	b.ReportMetric(float64(events)/cpu, "events/cpu-s")
	b.ReportMetric(float64(total)*float64(b.N)/cpu/1e6, "MB/cpu-s")
}
