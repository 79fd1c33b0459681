//go:build duckdb_arrow

package duckdb

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// arrowEmpty returns a batch of schema without rows.
func arrowEmpty(schema *arrow.Schema) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	return b.NewRecordBatch()
}

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "a", Type: arrow.PrimitiveTypes.Int64},
	{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "c", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// testBatch returns a batch of n rows whose column a counts from first.
func testBatch(first, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, testSchema)
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%3 == 0 {
			b.Field(1).(*array.StringBuilder).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprint("s", i))
		}
		b.Field(2).(*array.Int64Builder).Append(int64(-i))
	}
	return b.NewRecordBatch()
}

func TestChunkReader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		sizes     []int
		chunkRows int64
		want      []int64 // rows per produced batch
	}{
		{"none", nil, 10, nil},
		{"only empty batches", []int{0, 0}, 10, nil},
		{"small batches joined", []int{3, 4, 0, 5, 2}, 10, []int64{12, 2}},
		{"large batch alone", []int{25}, 10, []int64{25}},
		{"exact size", []int{5, 5, 5, 5}, 10, []int64{10, 10}},
		{"mixed", []int{1, 30, 2}, 10, []int64{31, 2}},
	}
	proj := arrow.NewSchema([]arrow.Field{testSchema.Field(1), testSchema.Field(0)}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var in []arrow.RecordBatch
			first := 0
			for _, n := range tt.sizes {
				in = append(in, testBatch(first, n))
				first += n
			}
			defer func() {
				for _, b := range in {
					b.Release()
				}
			}()
			r := newChunkReader(proj, []int{1, 0}, in, tt.chunkRows)
			defer r.Release()
			var got []int64
			next := 0
			for r.Next() {
				b := r.RecordBatch()
				if !b.Schema().Equal(proj) {
					t.Fatalf("batch schema %v, want %v", b.Schema(), proj)
				}
				got = append(got, b.NumRows())
				strs := b.Column(0).(*array.String)
				ints := b.Column(1).(*array.Int64)
				for i := 0; i < int(b.NumRows()); i++ {
					if ints.Value(i) != int64(next) {
						t.Fatalf("row %d: a = %d", next, ints.Value(i))
					}
					if wantNull := next%3 == 0; strs.IsNull(i) != wantNull || !wantNull && strs.Value(i) != fmt.Sprint("s", next) {
						t.Fatalf("row %d: b = %q null %v", next, strs.Value(i), strs.IsNull(i))
					}
					next++
				}
			}
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("batch sizes = %v, want %v", got, tt.want)
			}
			if next != first {
				t.Errorf("read %d rows, want %d", next, first)
			}
		})
	}
}
