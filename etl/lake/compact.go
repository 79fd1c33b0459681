package lake

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// CompactOptions says which partitions Compact merges.
type CompactOptions struct {
	Range Range
	// Before: only partitions of days before it are compacted (the
	// look-back window's start, so that the batches still writing into a
	// partition do not race the compaction); zero means no bound.
	Before time.Time
	// TargetSize is the size a merged file aims at; default
	// DefaultTargetSize.
	TargetSize int64
	// DryRun reports what would be done without doing it.
	DryRun bool
}

// CompactResult is what Compact did.
type CompactResult struct {
	Partitions   int   // partitions looked at
	Compacted    int   // of those, partitions merged
	FilesRead    int   // files merged
	FilesWritten int   // compacted files written
	FilesDeleted int   // files deleted (merged, or superseded by an earlier compaction)
	Rows         int64 // rows in the files written
	BytesRead    int64
	BytesWritten int64
}

// Compact merges the small files of each partition in opts into files of
// about TargetSize. Each merged file names the files it replaces; they are
// deleted only after it is stored, so a crash leaves every event once as
// far as Files is concerned, and the next Compact deletes what the crashed
// one left. Files a compacted file supersedes are deleted first.
func (l *Lake) Compact(ctx context.Context, opts CompactOptions) (CompactResult, error) {
	opts.TargetSize = cmp.Or(opts.TargetSize, DefaultTargetSize)
	var res CompactResult
	parts, err := l.partitions(ctx, opts.Range)
	if err != nil {
		return res, err
	}
	keys := make([]Partition, 0, len(parts))
	for p := range parts {
		if opts.Before.IsZero() || p.Date.Before(opts.Before.Truncate(24*time.Hour)) {
			keys = append(keys, p)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Dir() < keys[j].Dir() })
	for _, p := range keys {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		res.Partitions++
		if err := l.compactPartition(ctx, p, parts[p], opts, &res); err != nil {
			return res, fmt.Errorf("compact %s: %w", p, err)
		}
	}
	return res, nil
}

func (l *Lake) compactPartition(ctx context.Context, p Partition, files []lakeFile, opts CompactOptions, res *CompactResult) error {
	sup, err := l.superseded(ctx, files)
	if err != nil {
		return err
	}
	var live []lakeFile
	for _, f := range files {
		if !sup[f.Name] {
			live = append(live, f)
			continue
		}
		res.FilesDeleted++
		if !opts.DryRun {
			if err := l.cfg.Store.Delete(ctx, f.Key); err != nil {
				return err
			}
		}
	}
	// Files already about the target size stay as they are.
	small := slices.DeleteFunc(live, func(f lakeFile) bool { return f.compacted() && f.Size >= opts.TargetSize/2 })
	if len(small) < 2 {
		return nil
	}
	res.Compacted++
	// Groups of about TargetSize, by stored size, in key order.
	var groups [][]lakeFile
	var size int64
	for _, f := range small {
		if len(groups) == 0 || size+f.Size > opts.TargetSize && len(groups[len(groups)-1]) > 0 {
			groups = append(groups, nil)
			size = 0
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], f)
		size += f.Size
	}
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		if err := l.merge(ctx, p, g, opts.DryRun, res); err != nil {
			return err
		}
	}
	return nil
}

// merge writes the files of g as one compacted file, then deletes them.
func (l *Lake) merge(ctx context.Context, p Partition, g []lakeFile, dryRun bool, res *CompactResult) error {
	type part struct {
		batches []arrow.RecordBatch
		first   string
	}
	var parts []part
	defer func() {
		for _, pt := range parts {
			release(pt.batches)
		}
	}()
	var ft footer
	for _, f := range g {
		res.FilesRead++
		res.BytesRead += f.Size
		if dryRun {
			continue
		}
		bs, fft, err := l.readAll(ctx, f.Key)
		if err != nil {
			return err
		}
		parts = append(parts, part{bs, slices.Min(append(fft.Objects, "\xff"))})
		ft.Objects = append(ft.Objects, fft.Objects...)
		ft.Supersedes = append(ft.Supersedes, f.Name)
	}
	if dryRun {
		res.FilesWritten++
		return nil
	}
	// Objects in key order are about in time order, which keeps the row
	// groups' event_time statistics narrow.
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].first < parts[j].first })
	var all []arrow.RecordBatch
	for _, pt := range parts {
		all = append(all, pt.batches...)
	}
	slices.Sort(ft.Objects)
	ft.Objects = slices.Compact(ft.Objects)
	data, err := l.encodeWith(l.pqc, all, ft)
	if err != nil {
		return err
	}
	key := l.key(p.Dir() + "/" + compactedFileName())
	if err := l.cfg.Store.Put(ctx, key, data); err != nil {
		return err
	}
	res.FilesWritten++
	res.BytesWritten += int64(len(data))
	res.Rows += rows(all)
	for _, f := range g {
		if err := l.cfg.Store.Delete(ctx, f.Key); err != nil {
			return err
		}
		res.FilesDeleted++
	}
	l.mu.Lock()
	delete(l.plain, p.Dir())
	l.mu.Unlock()
	return nil
}

// PruneResult is what Prune did.
type PruneResult struct {
	Partitions int
	Files      int
	Bytes      int64
}

// Prune deletes every file of the partitions of days before before.
func (l *Lake) Prune(ctx context.Context, before time.Time, dryRun bool) (PruneResult, error) {
	var res PruneResult
	parts, err := l.partitions(ctx, Range{To: before.Truncate(24 * time.Hour).Add(-24 * time.Hour)})
	if err != nil {
		return res, err
	}
	for _, files := range parts {
		res.Partitions++
		for _, f := range files {
			if !dryRun {
				if err := l.cfg.Store.Delete(ctx, f.Key); err != nil {
					return res, err
				}
			}
			res.Files++
			res.Bytes += f.Size
		}
	}
	return res, nil
}
