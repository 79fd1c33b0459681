package lake

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"
)

// File is one file of the lake a reader should read.
type File struct {
	Key       string // the store key
	Name      string // the file name, o-….parquet or c-….parquet
	Size      int64
	ETag      string
	Partition Partition
}

// Range bounds the partitions by date: From and To are days (UTC), both
// included; a zero bound is open.
type Range struct {
	From, To time.Time
}

func (r Range) has(d time.Time) bool {
	return (r.From.IsZero() || !d.Before(r.From.Truncate(24*time.Hour))) && (r.To.IsZero() || !d.After(r.To.Truncate(24*time.Hour)))
}

// Dates lists the date= partitions of the lake in r, sorted.
func (l *Lake) Dates(ctx context.Context, r Range) ([]time.Time, error) {
	ls, err := l.cfg.Store.List(ctx, l.root(), "/")
	if err != nil {
		return nil, fmt.Errorf("list the lake %s: %w", l, err)
	}
	var out []time.Time
	for _, p := range ls.Prefixes {
		v, ok := strings.CutPrefix(path.Base(strings.TrimSuffix(p, "/")), "date=")
		if !ok {
			continue
		}
		d, err := time.Parse(dateLayout, v)
		if err != nil || !r.has(d) {
			continue
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out, nil
}

// partitions lists the files of every partition in r, grouped by
// partition, with nothing left out (superseded files included).
func (l *Lake) partitions(ctx context.Context, r Range) (map[Partition][]lakeFile, error) {
	dates, err := l.Dates(ctx, r)
	if err != nil {
		return nil, err
	}
	out := map[Partition][]lakeFile{}
	for _, d := range dates {
		prefix := l.key("date="+d.Format(dateLayout)) + "/"
		ls, err := l.cfg.Store.List(ctx, prefix, "")
		if err != nil {
			return nil, fmt.Errorf("list the lake %s: %w", l, err)
		}
		for _, o := range ls.Objects {
			rel := strings.TrimPrefix(o.Key, l.root())
			dir, name := path.Split(rel)
			if !isLakeFile(name) {
				continue
			}
			p, err := parseDir(dir)
			if err != nil {
				l.log.Warn("lake: a file outside the partition layout is left out", "key", o.Key, "err", err)
				continue
			}
			out[p] = append(out[p], lakeFile{Object: o, Name: name})
		}
	}
	return out, nil
}

// superseded returns the names of the files of one partition that a
// compacted file of the same partition replaces.
func (l *Lake) superseded(ctx context.Context, files []lakeFile) (map[string]bool, error) {
	out := map[string]bool{}
	if len(files) < 2 {
		// A file alone in its partition supersedes nothing present; this
		// spares a query over a compacted lake reading every footer.
		return out, nil
	}
	present := map[string]bool{}
	for _, f := range files {
		present[f.Name] = true
	}
	for _, f := range files {
		if !f.compacted() {
			continue
		}
		ft, err := l.footerOfFile(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, s := range ft.Supersedes {
			if present[s] && s != f.Name {
				out[s] = true
			}
		}
	}
	return out, nil
}

// Files returns the files a reader of the partitions in r should read:
// every lake file except those a compacted file supersedes (left by a
// compaction that stopped before it deleted them), sorted by key.
func (l *Lake) Files(ctx context.Context, r Range) ([]File, error) {
	parts, err := l.partitions(ctx, r)
	if err != nil {
		return nil, err
	}
	var out []File
	for p, files := range parts {
		sup, err := l.superseded(ctx, files)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if !sup[f.Name] {
				out = append(out, File{Key: f.Key, Name: f.Name, Size: f.Size, ETag: f.ETag, Partition: p})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// LocalPath returns the local path of a file of a folder lake, and false
// for a lake in S3.
func (l *Lake) LocalPath(f File) (string, bool) {
	ls, ok := l.cfg.Store.(localStore)
	if !ok {
		return "", false
	}
	return ls.Path(f.Key), true
}
