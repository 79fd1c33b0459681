//go:build duckdb_arrow

package duckdb

import (
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// chunkReader is an array.RecordReader over a list of record batches that
// keeps only some of their columns and joins runs of small batches into
// chunks of at least chunkRows rows. DuckDB pays a fixed cost per Arrow
// batch it scans, and CloudTrail objects are often only a few dozen events,
// so joining them makes loading several times faster. A batch that is large
// enough on its own is passed on without copying.
type chunkReader struct {
	refs      atomic.Int64
	schema    *arrow.Schema
	cols      []int // indexes of the kept columns in the input batches
	batches   []arrow.RecordBatch
	chunkRows int64
	mem       memory.Allocator

	next int
	cur  arrow.RecordBatch
	err  error
}

var _ array.RecordReader = (*chunkReader)(nil)

// newChunkReader returns a reader producing batches of schema, which holds
// the fields cols of the input batches. The caller keeps the input batches
// alive until the reader is released.
func newChunkReader(schema *arrow.Schema, cols []int, batches []arrow.RecordBatch, chunkRows int64) *chunkReader {
	r := &chunkReader{
		schema:    schema,
		cols:      cols,
		batches:   batches,
		chunkRows: chunkRows,
		mem:       memory.DefaultAllocator,
	}
	r.refs.Store(1)
	return r
}

func (r *chunkReader) Retain() { r.refs.Add(1) }

func (r *chunkReader) Release() {
	if r.refs.Add(-1) == 0 && r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

func (r *chunkReader) Schema() *arrow.Schema { return r.schema }

func (r *chunkReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record returns the current batch.
//
// Deprecated: use RecordBatch.
func (r *chunkReader) Record() arrow.RecordBatch { return r.cur }

func (r *chunkReader) Err() error { return r.err }

func (r *chunkReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	var run []arrow.RecordBatch
	var rows int64
	for r.next < len(r.batches) && rows < r.chunkRows {
		b := r.batches[r.next]
		r.next++
		if b.NumRows() == 0 {
			continue
		}
		run = append(run, b)
		rows += b.NumRows()
	}
	switch len(run) {
	case 0:
		return false
	case 1:
		r.cur = r.project(run[0])
		return true
	}
	cols := make([]arrow.Array, len(r.cols))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	parts := make([]arrow.Array, len(run))
	for i, c := range r.cols {
		for j, b := range run {
			parts[j] = b.Column(c)
		}
		a, err := array.Concatenate(parts, r.mem)
		if err != nil {
			r.err = fmt.Errorf("join event batches: %w", err)
			return false
		}
		cols[i] = a
	}
	r.cur = array.NewRecordBatch(r.schema, cols, rows)
	return true
}

// project returns the kept columns of b, sharing its buffers.
func (r *chunkReader) project(b arrow.RecordBatch) arrow.RecordBatch {
	cols := make([]arrow.Array, len(r.cols))
	for i, c := range r.cols {
		cols[i] = b.Column(c)
	}
	return array.NewRecordBatch(r.schema, cols, b.NumRows())
}
