//go:build duckdb_arrow

package duckdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fullstop-audit/fullstop/rules"
)

// eventFilter says which events some rule may read: by event source, and
// within a source optionally by event name, both compared without regard
// to case (as Sigma compares values).
type eventFilter map[string][]string // lower-case source → name patterns; nil: every name

// newEventFilter is the union of the rules' declared sources and events, or
// nil when some rule may read any event.
func newEventFilter(rs []rules.Rule) eventFilter {
	f := eventFilter{}
	all := map[string]bool{} // sources a rule reads every event of
	for _, r := range rs {
		if len(r.Sources) == 0 {
			return nil
		}
		for _, s := range r.Sources {
			s = strings.ToLower(s)
			if len(r.Events) == 0 {
				all[s] = true
			}
			f[s] = append(f[s], r.Events...)
		}
	}
	for s := range all {
		f[s] = nil
	}
	return f
}

// keeps reports whether an event of source and name may matter to a rule.
func (f eventFilter) keeps(source, name string) bool {
	patterns, ok := f[strings.ToLower(source)]
	if !ok {
		return false
	}
	if patterns == nil {
		return true
	}
	for _, p := range patterns {
		if prefix, wild := strings.CutSuffix(p, "*"); wild && len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix) ||
			strings.EqualFold(p, name) {
			return true
		}
	}
	return false
}

// prefilter keeps the rows of batches (of schema, which New checked) that
// the filter keeps.
// Batches with no such row are dropped, batches with only such rows are
// kept as they are (retained); the caller releases every returned batch.
func prefilter(ctx context.Context, batches []arrow.RecordBatch, filter eventFilter, schema *arrow.Schema) ([]arrow.RecordBatch, error) {
	col := schema.FieldIndices(ColEventSource)[0]
	nameCol := schema.FieldIndices(ColEventName)[0]
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
		names, ok2 := b.Column(nameCol).(*array.String)
		if !ok || !ok2 {
			release()
			return nil, fmt.Errorf("prefilter: columns %s and %s must be strings", ColEventSource, ColEventName)
		}
		n := src.Len()
		kept := 0
		mask.Reserve(n)
		for i := range n {
			keep := src.IsValid(i) && filter.keeps(src.Value(i), names.Value(i))
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
