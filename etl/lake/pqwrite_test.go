package lake

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"

	"github.com/fullstop-audit/fullstop/etl/event"
)

// randomBatches builds n rows of event.Schema in batches of batchRows:
// every nullable column has nulls, some columns repeat a few values (they
// get a dictionary), some never repeat, some are long (several pages).
func randomBatches(n, batchRows int, seed uint64) []arrow.RecordBatch {
	r := rand.New(rand.NewPCG(seed, 1))
	var out []arrow.RecordBatch
	for start := 0; start < n; start += batchRows {
		rows := min(batchRows, n-start)
		b := array.NewRecordBuilder(memory.DefaultAllocator, event.Schema)
		for c, f := range event.Schema.Fields() {
			nullEvery := 0
			if f.Nullable {
				nullEvery = 2 + c%5
			}
			for i := range rows {
				row := start + i
				if nullEvery > 0 && r.IntN(nullEvery) == 0 {
					b.Field(c).AppendNull()
					continue
				}
				switch fb := b.Field(c).(type) {
				case *array.StringBuilder:
					switch c % 4 {
					case 0: // a few values: a dictionary
						fb.Append(fmt.Sprintf("%s-%d", f.Name, r.IntN(5)))
					case 1: // every value distinct: PLAIN
						fb.Append(fmt.Sprintf("%s-%d-%d", f.Name, row, r.Uint64()))
					case 2: // long values: several pages
						fb.Append(strings.Repeat(fmt.Sprintf("%x", r.Uint64()), 20))
					default: // one value
						fb.Append("constant")
					}
				case *array.Int32Builder:
					fb.Append(int32(row) - 5)
				case *array.TimestampBuilder:
					fb.Append(arrow.Timestamp(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixMicro() + int64(r.IntN(1e9))))
				case *array.BooleanBuilder:
					fb.Append(r.IntN(2) == 0)
				}
			}
		}
		out = append(out, b.NewRecordBatch())
		b.Release()
	}
	return out
}

func TestParquetWriter_RoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name            string
		rows, batchRows int
		compression     Compression
	}{
		{"empty", 0, 10, "snappy"},
		{"one row", 1, 10, "snappy"},
		{"seven rows", 7, 10, "zstd"},
		{"small batches", 1000, 33, "snappy"},
		{"several pages", 50_000, 8192, "zstd-1"},
		{"several row groups", rowGroupRows + 1000, 20_000, "snappy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := randomBatches(tc.rows, tc.batchRows, uint64(tc.rows))
			defer release(in)
			w, err := newPQWriter(tc.compression)
			if err != nil {
				t.Fatal(err)
			}
			data, err := w.write(event.Schema, in, [][2]string{{metaObjects, `["k"]`}})
			if err != nil {
				t.Fatal(err)
			}
			out, ft, err := decodeFile(context.Background(), "f", data)
			if err != nil {
				t.Fatal(err)
			}
			defer release(out)
			if len(ft.Objects) != 1 || ft.Objects[0] != "k" || ft.Rows != int64(tc.rows) {
				t.Fatalf("footer %+v", ft)
			}
			want, got := renderAll(in), renderAll(out)
			if len(got) != len(want) {
				t.Fatalf("%d rows back, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("row %d:\n got %s\nwant %s", i, got[i], want[i])
				}
			}
			checkStatistics(t, data, in)
		})
	}
}

// renderAll renders each row, field by field, in order.
func renderAll(bs []arrow.RecordBatch) []string {
	var out []string
	for _, b := range bs {
		for r := range int(b.NumRows()) {
			var sb strings.Builder
			for c := range int(b.NumCols()) {
				fmt.Fprintf(&sb, "%s=%s|", b.ColumnName(c), b.Column(c).ValueStr(r))
			}
			out = append(out, sb.String())
		}
	}
	return out
}

// checkStatistics checks each row group's null counts and event_time
// min/max against the rows, and that the row groups hold at most
// rowGroupRows rows.
func checkStatistics(t *testing.T, data []byte, in []arrow.RecordBatch) {
	t.Helper()
	r, err := newParquetFile(data)
	if err != nil {
		t.Fatal(err)
	}
	md := r.MetaData()
	var times []int64
	var nulls = make([]int64, event.Schema.NumFields())
	for _, b := range in {
		ts := b.Column(event.Schema.FieldIndices(event.ColEventTime)[0]).(*array.Timestamp)
		for i := range ts.Len() {
			times = append(times, int64(ts.Value(i)))
		}
		for c := range int(b.NumCols()) {
			nulls[c] += int64(b.Column(c).NullN())
		}
	}
	ti := event.Schema.FieldIndices(event.ColEventTime)[0]
	gotNulls := make([]int64, event.Schema.NumFields())
	var row int
	for g := range md.NumRowGroups() {
		rg := md.RowGroup(g)
		if rg.NumRows() > rowGroupRows {
			t.Fatalf("row group %d has %d rows", g, rg.NumRows())
		}
		for c := range event.Schema.NumFields() {
			cc, err := rg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			st, err := cc.Statistics()
			if err != nil || st == nil {
				t.Fatalf("column %d: statistics %v %v", c, st, err)
			}
			gotNulls[c] += st.NullCount()
			if c == ti {
				lo, hi := times[row], times[row]
				for _, v := range times[row : row+int(rg.NumRows())] {
					lo, hi = min(lo, v), max(hi, v)
				}
				ts := st.(*metadata.Int64Statistics)
				if !ts.HasMinMax() || ts.Min() != lo || ts.Max() != hi {
					t.Fatalf("row group %d: event_time min/max %d/%d, want %d/%d", g, ts.Min(), ts.Max(), lo, hi)
				}
			}
		}
		row += int(rg.NumRows())
	}
	for c := range nulls {
		if nulls[c] != gotNulls[c] {
			t.Fatalf("column %s: %d nulls in the statistics, want %d", event.Schema.Field(c).Name, gotNulls[c], nulls[c])
		}
	}
}

func TestParseCompression(t *testing.T) {
	for _, ok := range []string{"snappy", "zstd", "zstd-1", "zstd-4"} {
		if _, err := ParseCompression(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "gzip", "zstd-0", "zstd-5", "zstd-12", "ZSTD"} {
		if _, err := ParseCompression(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A column written PLAIN because its values do not repeat is written
// PLAIN in the next files without trying a dictionary, and tried again
// after plainRetry files.
func TestParquetWriter_PlainHint(t *testing.T) {
	w, _ := newPQWriter("snappy")
	in := randomBatches(3000, 3000, 9)
	defer release(in)
	if _, err := w.write(event.Schema, in, nil); err != nil {
		t.Fatal(err)
	}
	distinct := event.Schema.Field(1).Name // key_account: c%4 == 1, every value distinct
	if !w.skipDictionary(distinct) {
		t.Fatalf("%s is tried with a dictionary again at once", distinct)
	}
	for range plainRetry - 1 {
		w.skipDictionary(distinct)
	}
	if w.skipDictionary(distinct) {
		t.Fatalf("%s is never tried with a dictionary again", distinct)
	}
	if w.skipDictionary(event.Schema.Field(4).Name) { // event_version: c%4 == 0, a dictionary
		t.Fatal("a column with a dictionary is written PLAIN")
	}
}
