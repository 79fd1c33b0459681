package lake

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/event"
)

var _ etl.LakeWriter = (*Lake)(nil)

// DefaultTargetSize is the default of CompactOptions.TargetSize.
const DefaultTargetSize = 128 << 20

// File name prefixes and suffix of the lake's files.
const (
	objectFilePrefix    = "o-"
	compactedFilePrefix = "c-"
	fileSuffix          = ".parquet"
)

// Config configures a Lake.
type Config struct {
	// Store holds the files; required.
	Store Store
	// Prefix is the key prefix of the lake in the store: "" or a path
	// without leading or trailing "/".
	Prefix string
	// Compression is the codec of the files written for the batches;
	// default DefaultCompression.
	Compression Compression
	// CompactCompression is the codec of the files Compact writes;
	// default DefaultCompactCompression.
	CompactCompression Compression
	Log                *slog.Logger
}

// Lake reads and writes an events lake. It is safe for concurrent use.
type Lake struct {
	cfg Config
	log *slog.Logger
	pq  *pqWriter // for the batches' files
	pqc *pqWriter // for Compact's

	mu sync.Mutex
	// plain are partitions seen to hold no compacted file during this
	// Lake's life: writing an object there needs no listing.
	plain map[string]bool
	// footers caches the footers of compacted files by key and ETag.
	footers map[string]footer
	// rewrite serialises rewrites of one compacted file.
	rewrite map[string]*sync.Mutex
}

// New returns a lake over cfg.Store.
func New(cfg Config) (*Lake, error) {
	if cfg.Store == nil {
		return nil, errors.New("lake: a store is required")
	}
	cfg.Prefix = strings.Trim(cfg.Prefix, "/")
	cfg.Compression = cmp.Or(cfg.Compression, DefaultCompression)
	cfg.CompactCompression = cmp.Or(cfg.CompactCompression, DefaultCompactCompression)
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pq, err := newPQWriter(cfg.Compression)
	if err != nil {
		return nil, fmt.Errorf("lake: %w", err)
	}
	pqc, err := newPQWriter(cfg.CompactCompression)
	if err != nil {
		return nil, fmt.Errorf("lake: %w", err)
	}
	return &Lake{cfg: cfg, log: log, pq: pq, pqc: pqc, plain: map[string]bool{}, footers: map[string]footer{}, rewrite: map[string]*sync.Mutex{}}, nil
}

// String names the lake: its store and prefix.
func (l *Lake) String() string {
	s := strings.TrimSuffix(l.cfg.Store.String(), "/")
	if l.cfg.Prefix != "" && !strings.HasSuffix(s, "/"+l.cfg.Prefix) {
		s += "/" + l.cfg.Prefix
	}
	return s
}

// key returns the store key of a path inside the lake.
func (l *Lake) key(p string) string {
	if l.cfg.Prefix == "" {
		return p
	}
	return l.cfg.Prefix + "/" + p
}

// root is the key prefix of everything in the lake: "" or "prefix/".
func (l *Lake) root() string {
	if l.cfg.Prefix == "" {
		return ""
	}
	return l.cfg.Prefix + "/"
}

// objectFileName is the name of the file of one source object's events.
func objectFileName(objectKey string) string {
	h := sha256.Sum256([]byte(objectKey))
	return objectFilePrefix + hex.EncodeToString(h[:16]) + fileSuffix
}

func compactedFileName() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return compactedFilePrefix + hex.EncodeToString(b[:]) + fileSuffix
}

// lakeFile is one file of a partition.
type lakeFile struct {
	etl.Object
	Name string
}

func (f lakeFile) compacted() bool { return strings.HasPrefix(f.Name, compactedFilePrefix) }

// listPartition lists the lake files of one partition (other entries,
// such as a folder store's temporary files, are left out).
func (l *Lake) listPartition(ctx context.Context, p Partition) ([]lakeFile, error) {
	ls, err := l.cfg.Store.List(ctx, l.key(p.Dir())+"/", "/")
	if err != nil {
		return nil, fmt.Errorf("list lake partition %s: %w", p, err)
	}
	var out []lakeFile
	for _, o := range ls.Objects {
		name := path.Base(o.Key)
		if isLakeFile(name) {
			out = append(out, lakeFile{Object: o, Name: name})
		}
	}
	return out, nil
}

func isLakeFile(name string) bool {
	return strings.HasSuffix(name, fileSuffix) && (strings.HasPrefix(name, objectFilePrefix) || strings.HasPrefix(name, compactedFilePrefix))
}

// footerOfFile returns a compacted file's footer, cached by key and ETag.
func (l *Lake) footerOfFile(ctx context.Context, f lakeFile) (footer, error) {
	ck := f.Key + "\x00" + f.ETag
	l.mu.Lock()
	ft, ok := l.footers[ck]
	l.mu.Unlock()
	if ok {
		return ft, nil
	}
	ft, err := l.readFooter(ctx, f.Key, f.Size)
	if err != nil {
		return footer{}, err
	}
	l.mu.Lock()
	l.footers[ck] = ft
	l.mu.Unlock()
	return ft, nil
}

// LakeWrite stores the events of one source object, replacing what an
// earlier write of it left: its own file, or its rows in the compacted file
// that holds it.
func (l *Lake) LakeWrite(ctx context.Context, c etl.Candidate, batches []arrow.RecordBatch) error {
	p := PartitionOf(c)
	dir := p.Dir()
	l.mu.Lock()
	plain := l.plain[dir]
	l.mu.Unlock()
	if !plain {
		files, err := l.listPartition(ctx, p)
		if err != nil {
			return err
		}
		holder, any, err := l.holder(ctx, files, c.Object.Key)
		if err != nil {
			return err
		}
		if holder != nil {
			return l.replaceIn(ctx, *holder, c.Object.Key, batches)
		}
		if !any {
			l.mu.Lock()
			l.plain[dir] = true
			l.mu.Unlock()
		}
	}
	key := l.key(dir + "/" + objectFileName(c.Object.Key))
	if rows(batches) == 0 {
		return l.cfg.Store.Delete(ctx, key)
	}
	data, err := l.encode(batches, footer{Objects: []string{c.Object.Key}})
	if err != nil {
		return fmt.Errorf("encode the events of %q: %w", c.Object.Key, err)
	}
	err = l.cfg.Store.Put(ctx, key, data)
	l.pq.recycle(data)
	return err
}

// holder returns the compacted file among files that holds objectKey, and
// whether there is any compacted file.
func (l *Lake) holder(ctx context.Context, files []lakeFile, objectKey string) (*lakeFile, bool, error) {
	any := false
	for i, f := range files {
		if !f.compacted() {
			continue
		}
		any = true
		ft, err := l.footerOfFile(ctx, f)
		if err != nil {
			return nil, true, err
		}
		if slices.Contains(ft.Objects, objectKey) {
			return &files[i], true, nil
		}
	}
	return nil, any, nil
}

// replaceIn rewrites the compacted file f with objectKey's rows replaced
// by batches, under the same name, in one Put.
func (l *Lake) replaceIn(ctx context.Context, f lakeFile, objectKey string, batches []arrow.RecordBatch) error {
	l.mu.Lock()
	mu := l.rewrite[f.Key]
	if mu == nil {
		mu = new(sync.Mutex)
		l.rewrite[f.Key] = mu
	}
	l.mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	old, ft, err := l.readAll(ctx, f.Key)
	if err != nil {
		return err
	}
	defer release(old)
	kept, err := withoutObject(ctx, old, objectKey)
	if err != nil {
		return fmt.Errorf("rewrite %q: %w", f.Key, err)
	}
	defer release(kept)
	all := append(slices.Clone(kept), batches...)
	if rows(batches) == 0 {
		ft.Objects = slices.DeleteFunc(ft.Objects, func(k string) bool { return k == objectKey })
	}
	data, err := l.encode(all, ft)
	if err != nil {
		return fmt.Errorf("rewrite %q: %w", f.Key, err)
	}
	if err := l.cfg.Store.Put(ctx, f.Key, data); err != nil {
		return err
	}
	l.log.Info("lake: object rewritten inside a compacted file", "key", objectKey, "file", f.Key)
	return nil
}

// withoutObject returns the rows of batches whose object_key is not key.
func withoutObject(ctx context.Context, batches []arrow.RecordBatch, key string) ([]arrow.RecordBatch, error) {
	idx := event.Schema.FieldIndices(event.ColObjectKey)[0]
	var out []arrow.RecordBatch
	for _, b := range batches {
		col := b.Column(idx).(*array.String)
		mb := array.NewBooleanBuilder(memory.DefaultAllocator)
		for i := range col.Len() {
			mb.Append(col.Value(i) != key)
		}
		mask := mb.NewBooleanArray()
		mb.Release()
		fb, err := compute.FilterRecordBatch(ctx, b, mask, compute.DefaultFilterOptions())
		mask.Release()
		if err != nil {
			release(out)
			return nil, err
		}
		out = append(out, fb)
	}
	return out, nil
}

func rows(batches []arrow.RecordBatch) int64 {
	var n int64
	for _, b := range batches {
		n += b.NumRows()
	}
	return n
}

func release(batches []arrow.RecordBatch) {
	for _, b := range batches {
		b.Release()
	}
}
