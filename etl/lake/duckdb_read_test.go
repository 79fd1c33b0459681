//go:build duckdb_arrow

package lake

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/fullstop-audit/fullstop/etl/event"
)

// DuckDB reads the writer's files value for value: nulls, dictionary and
// PLAIN columns, several pages and row groups, both codecs.
func TestParquetWriter_DuckDBReadsEveryValue(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, comp := range []Compression{"snappy", "zstd"} {
		in := randomBatches(rowGroupRows+30_000, 25_000, 42)
		w, _ := newPQWriter(comp)
		data, err := w.write(event.Schema, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "f.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query("SELECT * FROM read_parquet(?) ORDER BY record_index", path)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		vals := make([]any, event.Schema.NumFields())
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		next := rowIterator(in)
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			b, r := next()
			for c, v := range vals {
				col := b.Column(c)
				if col.IsNull(r) {
					if v != nil {
						t.Fatalf("%s: row %d column %s: %v, want NULL", comp, n, b.ColumnName(c), v)
					}
					continue
				}
				var want any
				switch a := col.(type) {
				case *array.String:
					want = a.Value(r)
				case *array.Int32:
					want = a.Value(r)
				case *array.Boolean:
					want = a.Value(r)
				case *array.Timestamp:
					want = time.UnixMicro(int64(a.Value(r))).UTC()
					if tv, ok := v.(time.Time); ok {
						v = tv.UTC()
					}
				}
				if v != want {
					t.Fatalf("%s: row %d column %s: %v (%T), want %v", comp, n, b.ColumnName(c), v, v, want)
				}
			}
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != rowGroupRows+30_000 {
			t.Fatalf("%s: DuckDB read %d rows", comp, n)
		}
		release(in)
	}
}

// rowIterator returns the batches' rows in order.
func rowIterator(bs []arrow.RecordBatch) func() (arrow.RecordBatch, int) {
	bi, r := 0, -1
	return func() (arrow.RecordBatch, int) {
		r++
		for r >= int(bs[bi].NumRows()) {
			bi, r = bi+1, 0
		}
		return bs[bi], r
	}
}
