package event

import (
	"bytes"
	"encoding/json"
	"testing"
)

// BenchmarkDecodeSmall decodes documents of one record each, the real
// records of the invictus logs: the cost of a document besides its records.
func BenchmarkDecodeSmall(b *testing.B) {
	var docs [][]byte
	var total int64
	for _, data := range invictusFiles(b) {
		var d struct{ Records []json.RawMessage }
		if err := json.Unmarshal(data, &d); err != nil {
			b.Fatal(err)
		}
		for _, r := range d.Records {
			doc := append(append([]byte(`{"Records":[`), r...), "]}"...)
			docs = append(docs, doc)
			total += int64(len(doc))
		}
	}
	d := NewDecoder(nil, 0)
	defer d.Release()
	o := Origin{Key: "AWSLogs/123456789012/CloudTrail/eu-west-1/2024/01/01/x.json.gz", Account: "123456789012", Region: "eu-west-1"}
	b.ReportAllocs()
	b.SetBytes(total)
	events := 0
	for b.Loop() {
		for _, data := range docs {
			res, err := d.Decode(bytes.NewReader(data), o)
			if err != nil {
				b.Fatal(err)
			}
			events += res.Events
			res.Release()
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
