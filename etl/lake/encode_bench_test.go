package lake

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/fullstop-audit/fullstop/etl/event"
)

// benchBatches decodes up to n objects of the benchmark corpus
// (FULLSTOP_BENCH_CORPUS, e.g. .tmp/bench/corpus-1000000), else of the
// invictus sample logs.
func benchBatches(b *testing.B, n int) ([][]arrow.RecordBatch, int64) {
	b.Helper()
	root := os.Getenv("FULLSTOP_BENCH_CORPUS")
	if root == "" {
		root = invictus
	}
	var files []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".json.gz") && len(files) < n {
			files = append(files, p)
		}
		return nil
	})
	dec := event.NewDecoder(nil, 0)
	var out [][]arrow.RecordBatch
	var events int64
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		res, err := dec.Decode(bytes.NewReader(body), event.Origin{Key: f})
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, res.Batches)
		events += int64(res.Events)
	}
	return out, events
}

func BenchmarkEncode(b *testing.B) {
	objs, events := benchBatches(b, 20)
	pq, err := newPQWriter(Compression(cmp.Or(os.Getenv("FULLSTOP_BENCH_COMPRESSION"), string(DefaultCompression))))
	if err != nil {
		b.Fatal(err)
	}
	l2 := Lake{pq: pq}
	b.ResetTimer()
	var size int64
	for range b.N {
		size = 0
		for _, bs := range objs {
			data, err := l2.encode(bs, footer{Objects: []string{"k"}})
			if err != nil {
				b.Fatal(err)
			}
			size += int64(len(data))
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size), "bytes")
}
