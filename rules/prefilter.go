//go:build duckdb_arrow

package rules

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fullstop-audit/fullstop/etl/event"
)

// sourceSet is the union of the rules' declared event sources, or nil when
// some rule may read any event.
func sourceSet(rs []Rule) map[string]bool {
	set := map[string]bool{}
	for _, r := range rs {
		if len(r.Sources) == 0 {
			return nil
		}
		for _, s := range r.Sources {
			set[s] = true
		}
	}
	return set
}

// prefilter keeps the rows of batches whose event_source is in sources.
// Batches with no such row are dropped, batches with only such rows are
// kept as they are (retained); the caller releases every returned batch.
func prefilter(ctx context.Context, batches []arrow.RecordBatch, sources map[string]bool) ([]arrow.RecordBatch, error) {
	col := event.Schema.FieldIndices(event.ColEventSource)[0]
	var out []arrow.RecordBatch
	release := func() {
		for _, b := range out {
			b.Release()
		}
	}
	mask := array.NewBooleanBuilder(memory.DefaultAllocator)
	defer mask.Release()
	for _, b := range batches {
		src, ok := b.Column(col).(*array.String)
		if !ok {
			release()
			return nil, fmt.Errorf("prefilter: column %s is %s, not a string", event.ColEventSource, b.Column(col).DataType())
		}
		n := src.Len()
		kept := 0
		mask.Reserve(n)
		for i := range n {
			keep := src.IsValid(i) && sources[src.Value(i)]
			if keep {
				kept++
			}
			mask.UnsafeAppend(keep)
		}
		m := mask.NewBooleanArray()
		switch kept {
		case 0:
		case n:
			b.Retain()
			out = append(out, b)
		default:
			f, err := compute.FilterRecordBatch(ctx, b, m, compute.DefaultFilterOptions())
			if err != nil {
				m.Release()
				release()
				return nil, fmt.Errorf("prefilter events: %w", err)
			}
			out = append(out, f)
		}
		m.Release()
	}
	return out, nil
}
