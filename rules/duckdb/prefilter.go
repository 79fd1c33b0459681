//go:build duckdb_arrow

package duckdb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fullstop-audit/fullstop/rules"
)

// eventFilter says which events some rule may read: by event source, and
// within a source optionally by event name, both compared without regard
// to case (as Sigma compares values); and, for rules that name no source,
// by the value of another column (Rule.OnlyColumn).
type eventFilter struct {
	sources map[string][]string // lower-case source → name patterns; nil: every name
	only    []onlyFilter
}

// onlyFilter keeps the events whose column is one of values.
type onlyFilter struct {
	column string
	values []string
	index  int // of column in the input schema, set by usable
}

// newEventFilter is the union of the rules' declared sources and events
// (or only-columns), or nil when some rule may read any event.
func newEventFilter(rs []rules.Rule) *eventFilter {
	f := &eventFilter{sources: map[string][]string{}}
	all := map[string]bool{} // sources a rule reads every event of
	for _, r := range rs {
		if len(r.Sources) == 0 {
			if r.OnlyColumn == "" {
				return nil
			}
			f.only = append(f.only, onlyFilter{column: r.OnlyColumn, values: r.OnlyValues})
			continue
		}
		for _, s := range r.Sources {
			s = strings.ToLower(s)
			if len(r.Events) == 0 {
				all[s] = true
			}
			f.sources[s] = append(f.sources[s], r.Events...)
		}
	}
	for s := range all {
		f.sources[s] = nil
	}
	return f
}

// keeps reports whether an event of source and name may matter to a rule
// that names its sources.
func (f *eventFilter) keeps(source, name string) bool {
	patterns, ok := f.sources[strings.ToLower(source)]
	return ok && names(patterns, name)
}

// names reports whether name is one of the event patterns (exact names,
// or a prefix and *), compared without case; no patterns: every name.
func names(patterns []string, name string) bool {
	if len(patterns) == 0 {
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

// usable reports whether every only-column is a string column of schema,
// and notes its index; if one is not, the filter cannot be applied.
func (f *eventFilter) usable(schema *arrow.Schema) bool {
	for i, o := range f.only {
		idx := schema.FieldIndices(o.column)
		if len(idx) != 1 || schema.Field(idx[0]).Type.ID() != arrow.STRING {
			return false
		}
		f.only[i].index = idx[0]
	}
	return true
}

// prefilter keeps the rows of batches (of schema, which New checked) that
// the filter keeps.
// Batches with no such row are dropped, batches with only such rows are
// kept as they are (retained); the caller releases every returned batch.
func prefilter(ctx context.Context, batches []arrow.RecordBatch, filter *eventFilter, schema *arrow.Schema) ([]arrow.RecordBatch, error) {
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
		only := make([]*array.String, len(filter.only))
		for j, o := range filter.only {
			only[j], _ = b.Column(o.index).(*array.String) // New checked usable
		}
		n := src.Len()
		kept := 0
		mask.Reserve(n)
		for i := range n {
			keep := src.IsValid(i) && filter.keeps(src.Value(i), names.Value(i))
			for j := 0; !keep && j < len(only); j++ {
				keep = only[j].IsValid(i) && slices.ContainsFunc(filter.only[j].values, func(v string) bool { return strings.EqualFold(v, only[j].Value(i)) })
			}
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
