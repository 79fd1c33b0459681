package lake

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/fullstop-audit/fullstop/etl/event"
)

// Footer keys of fullstop's own key-value metadata.
const (
	metaObjects    = "fullstop.objects"    // JSON array of the source object keys the file holds
	metaSupersedes = "fullstop.supersedes" // JSON array of the file names (in the partition) it replaces
)

// rowGroupRows is the number of rows per Parquet row group: DuckDB's own
// default, which it reads in parallel and skips by statistics.
const rowGroupRows = 122_880

// footer is what a lake file's footer says about it.
type footer struct {
	Objects    []string
	Supersedes []string
	Rows       int64
}

// encode writes batches as one Parquet file with f's metadata, with the
// batches' compression.
func (l *Lake) encode(batches []arrow.RecordBatch, f footer) ([]byte, error) {
	return l.encodeWith(l.pq, batches, f)
}

func (l *Lake) encodeWith(w *pqWriter, batches []arrow.RecordBatch, f footer) ([]byte, error) {
	objs, _ := json.Marshal(f.Objects)
	kv := [][2]string{{metaObjects, string(objs)}}
	if len(f.Supersedes) > 0 {
		sup, _ := json.Marshal(f.Supersedes)
		kv = append(kv, [2]string{metaSupersedes, string(sup)})
	}
	return w.write(event.Schema, batches, kv)
}

// readFooter reads the footer of the lake file key of the given size with
// two ranged reads.
func (l *Lake) readFooter(ctx context.Context, key string, size int64) (footer, error) {
	if size < 12 {
		return footer{}, fmt.Errorf("lake file %q: %d bytes is not a Parquet file", key, size)
	}
	var tail [8]byte
	if _, err := l.cfg.Store.ReadAt(ctx, key, tail[:], size-8); err != nil {
		return footer{}, fmt.Errorf("read the footer of %q: %w", key, err)
	}
	if string(tail[4:]) != "PAR1" {
		return footer{}, fmt.Errorf("lake file %q is not a Parquet file", key)
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n <= 0 || n > size-12 {
		return footer{}, fmt.Errorf("lake file %q: bad footer length %d", key, n)
	}
	buf := make([]byte, n)
	if _, err := l.cfg.Store.ReadAt(ctx, key, buf, size-8-n); err != nil {
		return footer{}, fmt.Errorf("read the footer of %q: %w", key, err)
	}
	md, err := metadata.NewFileMetaData(buf, nil)
	if err != nil {
		return footer{}, fmt.Errorf("lake file %q: footer: %w", key, err)
	}
	return footerOf(key, md)
}

func footerOf(key string, md *metadata.FileMetaData) (footer, error) {
	f := footer{Rows: md.NumRows}
	kv := md.KeyValueMetadata()
	if v := kv.FindValue(metaObjects); v != nil {
		if err := json.Unmarshal([]byte(*v), &f.Objects); err != nil {
			return footer{}, fmt.Errorf("lake file %q: %s: %w", key, metaObjects, err)
		}
	}
	if v := kv.FindValue(metaSupersedes); v != nil {
		if err := json.Unmarshal([]byte(*v), &f.Supersedes); err != nil {
			return footer{}, fmt.Errorf("lake file %q: %s: %w", key, metaSupersedes, err)
		}
	}
	return f, nil
}

// readAll reads a whole lake file into record batches of the event
// schema; the caller releases them.
func (l *Lake) readAll(ctx context.Context, key string) ([]arrow.RecordBatch, footer, error) {
	rc, err := l.cfg.Store.Open(ctx, key)
	if err != nil {
		return nil, footer{}, err
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(rc)
	rc.Close()
	if err != nil {
		return nil, footer{}, fmt.Errorf("read %q: %w", key, err)
	}
	return decodeFile(ctx, key, buf.Bytes())
}

func decodeFile(ctx context.Context, key string, data []byte) ([]arrow.RecordBatch, footer, error) {
	pr, err := pqarrowReader(data)
	if err != nil {
		return nil, footer{}, fmt.Errorf("lake file %q: %w", key, err)
	}
	f, err := footerOf(key, pr.ParquetReader().MetaData())
	if err != nil {
		return nil, footer{}, err
	}
	tbl, err := pr.ReadTable(ctx)
	if err != nil {
		return nil, footer{}, fmt.Errorf("lake file %q: %w", key, err)
	}
	defer tbl.Release()
	if !sameFields(tbl.Schema(), event.Schema) {
		return nil, footer{}, fmt.Errorf("lake file %q does not have the event schema", key)
	}
	tr := array.NewTableReader(tbl, rowGroupRows)
	defer tr.Release()
	var out []arrow.RecordBatch
	for tr.Next() {
		// The same columns under event.Schema itself, without the field
		// ids the Parquet reader adds.
		b := tr.RecordBatch()
		out = append(out, array.NewRecordBatch(event.Schema, b.Columns(), b.NumRows()))
	}
	return out, f, nil
}

// sameFields reports whether a and b have the same fields (names, types,
// nullability), whatever their metadata.
func sameFields(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i := range a.NumFields() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Nullable != fb.Nullable || !arrow.TypeEqual(fa.Type, fb.Type) {
			return false
		}
	}
	return true
}

func pqarrowReader(data []byte) (*pqarrow.FileReader, error) {
	r, err := newParquetFile(data)
	if err != nil {
		return nil, err
	}
	return pqarrow.NewFileReader(r, pqarrow.ArrowReadProperties{Parallel: false, BatchSize: rowGroupRows}, memory.DefaultAllocator)
}

func newParquetFile(data []byte) (*file.Reader, error) {
	return file.NewParquetReader(bytes.NewReader(data))
}
