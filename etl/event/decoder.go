package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ErrNotCloudTrail is returned for a JSON document that is not a CloudTrail
// log file: empty, not an object, without a "Records" array or with two.
var ErrNotCloudTrail = errors.New("not a CloudTrail log document")

// maxRecordErrors is how many record errors a Result keeps (all are counted).
const maxRecordErrors = 5

// defaultBatchSize is the number of rows per record batch.
const defaultBatchSize = 8192

// defaultMaxBatchBytes cuts a batch early once its string columns hold this
// many bytes, so that no string column outgrows Arrow's 32-bit offsets.
const defaultMaxBatchBytes = 256 << 20

// defaultMaxRecordBytes is the size of the largest record decoded; a larger
// one is skipped. CloudTrail's own records are at most a few hundred KiB.
const defaultMaxRecordBytes = 64 << 20

// maxKeptDocument is the capacity above which the document buffer is
// dropped after a document instead of kept for the next.
const maxKeptDocument = 64 << 20

// Origin says where an object's records come from; it fills the object_key,
// key_account and key_region columns. An empty Account or Region is NULL.
type Origin struct {
	Key     string
	Account string
	Region  string
}

// RecordError is a single CloudTrail record that could not be decoded and
// was skipped.
type RecordError struct {
	Key   string // the object's key (Origin.Key)
	Index int    // the record's position in the Records array, from 0
	Err   error
}

// Error says which record of which object failed, and why.
func (e *RecordError) Error() string {
	return fmt.Sprintf("record %d of %q: %v", e.Index, e.Key, e.Err)
}

// Unwrap returns the reason the record was skipped.
func (e *RecordError) Unwrap() error { return e.Err }

// Result is what decoding one object produced. The caller releases Batches.
type Result struct {
	Batches []arrow.RecordBatch
	Events  int            // records decoded into Batches
	Skipped int            // records that could not be decoded
	Errors  []*RecordError // the first few skipped records' reasons
}

// Release releases every batch of the result.
func (r *Result) Release() {
	for _, b := range r.Batches {
		b.Release()
	}
	r.Batches = nil
}

// Decoder decodes CloudTrail log documents. A Decoder is not safe for
// concurrent use; use one per worker. It may be reused for any number of
// documents, also after one failed.
//
// Decode reads the whole document into a buffer and decodes it with a
// single-pass scanner (document.go, record.go, scan.go) that checks all of
// it as encoding/json would. A document the scanner rejects is decoded
// again by the reference path (reference.go), with encoding/json, which
// reports the error exactly.
type Decoder struct {
	mem            memory.Allocator
	batchSize      int
	maxBatchBytes  int
	maxRecordBytes int

	buf   []byte   // the document, then padLen NUL bytes
	cols  *columns // the rows of the batch being built
	bytes int      // string bytes in cols
	rec   record
	raw   json.RawMessage // the reference path's record

	// referenceDecoded counts documents the scanner rejected that the
	// reference path decoded (for tests: it should stay 0).
	referenceDecoded int
}

// NewDecoder returns a decoder allocating from mem (nil: the Go allocator)
// and cutting batches of batchSize rows (0: 8192), or fewer when a batch's
// strings reach 256 MiB. Records larger than 64 MiB are skipped.
func NewDecoder(mem memory.Allocator, batchSize int) *Decoder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if batchSize <= 0 {
		batchSize = defaultBatchSize
	}
	return &Decoder{
		mem:            mem,
		batchSize:      batchSize,
		maxBatchBytes:  defaultMaxBatchBytes,
		maxRecordBytes: defaultMaxRecordBytes,
	}
}

// Decode reads one whole CloudTrail document ({"Records":[...]}, not
// compressed) from r: all of r, into a buffer the decoder keeps, then
// decodes it.
//
// The document fails as a whole, with no Result, when it is not valid JSON,
// is truncated (the error wraps io.ErrUnexpectedEOF), nests deeper than
// encoding/json allows (counted from each record and from each other member
// of the document), has data after it, cannot be read (the error wraps the
// reader's), or is not CloudTrail (ErrNotCloudTrail). "Records": null is
// a document without events.
//
// A single record that cannot be decoded (not an object, a field of an
// unexpected type, no or an empty eventID, no or a non-RFC 3339 eventTime) is
// skipped and reported in the Result; the others are decoded. Member names
// match exactly; of a repeated member the last counts. Invalid UTF-8 in
// strings becomes U+FFFD, one for each bad byte, as encoding/json does.
func (d *Decoder) Decode(r io.Reader, o Origin) (*Result, error) {
	if d.cols == nil {
		d.cols = newColumns()
	}
	res := &Result{}
	err := d.decode(r, o, res)
	d.rec.release() // drop references into the buffers
	if cap(d.buf) > maxKeptDocument {
		d.buf = nil
	}
	if cap(d.raw) > 1<<20 {
		d.raw = nil
	}
	if err != nil {
		res.Release()
		d.reset()
		return nil, err
	}
	d.flush(res)
	return res, nil
}

func (d *Decoder) decode(r io.Reader, o Origin, res *Result) error {
	n, err := d.read(r)
	if err != nil {
		return fmt.Errorf("read document: %w", err)
	}
	if d.scanDocument(d.buf, n, o, res) {
		return nil
	}
	res.Release()
	*res = Result{}
	d.reset()
	if err := d.decodeReference(bytes.NewReader(d.buf[:n]), o, res); err != nil {
		return err
	}
	d.referenceDecoded++
	return nil
}

// read reads all of r into d.buf, followed by padLen NUL bytes, and
// returns the document's length.
func (d *Decoder) read(r io.Reader) (int, error) {
	buf := d.buf[:0]
	if l, ok := r.(interface{ Len() int }); ok {
		buf = slices.Grow(buf, l.Len()+padLen+1)
	}
	for {
		if cap(buf)-len(buf) <= padLen {
			buf = slices.Grow(buf, max(len(buf), 64<<10))
		}
		n, err := r.Read(buf[len(buf) : cap(buf)-padLen])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			d.buf = buf[:0]
			return 0, err
		}
	}
	n := len(buf)
	buf = buf[:n+padLen]
	clear(buf[n:])
	d.buf = buf
	return n, nil
}

// add appends the record just read into d.rec as the row of record index
// of the object from o, or counts it as skipped for reason err.
func (d *Decoder) add(o Origin, index int, err error, res *Result) {
	if err != nil {
		res.Skipped++
		if len(res.Errors) < maxRecordErrors {
			res.Errors = append(res.Errors, &RecordError{Key: o.Key, Index: index, Err: err})
		}
		return
	}
	d.appendRow(o, index, &d.rec)
	res.Events++
	if d.cols.rows >= d.batchSize || d.bytes >= d.maxBatchBytes {
		d.flush(res)
	}
}

// flush moves the rows, if any, into a batch of res.
func (d *Decoder) flush(res *Result) {
	if d.cols.rows == 0 {
		return
	}
	res.Batches = append(res.Batches, d.cols.batch(d.mem))
	d.reset()
}

// reset drops the rows.
func (d *Decoder) reset() {
	d.cols.reset()
	d.bytes = 0
}

// Release frees the decoder's buffers. The decoder may still be used.
func (d *Decoder) Release() {
	d.cols = nil
	d.buf = nil
	d.raw = nil
	d.rec = record{}
	d.bytes = 0
}

// appendRow appends r, the record of index index of the object from o.
func (d *Decoder) appendRow(o Origin, index int, r *record) {
	c := d.cols
	d.bytes += c.str[idxObjectKey].appendString(o.Key)
	d.bytes += c.str[idxKeyAccount].appendOrNull(o.Account)
	d.bytes += c.str[idxKeyRegion].appendOrNull(o.Region)
	push(&c.index, int32(index))
	push(&c.times, arrow.Timestamp(r.time))
	for col := idxEventVersion; col < numColumns; col++ {
		v := r.vals[col]
		switch sources[col].kind {
		case kindTime:
		case kindBool:
			c.bools[col].append(r.bools[col])
		case kindRaw:
			if v.end == 0 {
				c.str[col].appendNull()
				continue
			}
			d.bytes += c.str[col].appendRaw(r.p[v.start:v.end])
		default:
			if v.end == 0 {
				c.str[col].appendNull()
				continue
			}
			d.bytes += c.str[col].appendText(r.p[v.start+1:v.end-1], r.plain[col])
		}
	}
	c.rows++
}
