package lake

// A Parquet writer for the one schema of the lake (event.Schema: strings,
// an int32, booleans and a microsecond UTC timestamp, no nesting). It is
// several times faster than a general writer on CloudTrail events, whose
// string columns mostly repeat a few values: each string column is
// dictionary-encoded while its values repeat (one map lookup a value, and
// none for a run of the same value), else written PLAIN; definition levels
// come straight from the validity; every page is compressed, with zstd
// (or snappy). The files are Parquet 1 with data pages v1, which every reader
// takes.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/s2"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/klauspost/compress/zstd"
)

// Parquet's constants (parquet.thrift) the writer uses.
const (
	ptBoolean   = 0
	ptInt32     = 1
	ptInt64     = 2
	ptByteArray = 6

	encPlain    = 0
	encRLE      = 3
	encRLEDict  = 8
	codecSnappy = 1
	codecZstd   = 6
	pageData    = 0
	pageDict    = 2
	repRequired = 0
	repOptional = 1
	ctUTF8      = 0
	ctTSMicros  = 10 // TIMESTAMP_MICROS
)

const (
	// pageRows and pageBytes bound a data page.
	pageRows  = 20_000
	pageBytes = 1 << 20
	// A string column stays dictionary-encoded while its dictionary holds
	// at most dictMaxBytes and, once dictProbe values were seen, at most
	// four in five of the values seen are distinct.
	dictMaxBytes = 1 << 20
	dictProbe    = 1024
)

// plainColumns are never dictionary-encoded: every value is distinct.
var plainColumns = map[string]bool{"event_id": true, "request_id": true, "shared_event_id": true}

// pqWriter writes Parquet files of event.Schema. It is safe for
// concurrent use.
type pqWriter struct {
	codec int32
	zstd  *zstd.Encoder // for codecZstd; EncodeAll is safe for concurrent use
	// plainFor counts down, by column name, the files that write the
	// column PLAIN without trying a dictionary, because its values did
	// not repeat in an earlier file.
	plainFor sync.Map // string → *atomic.Int32
	// outs keeps the buffers of written files for the next ones.
	outs sync.Pool
}

// plainRetry is how many files write a column PLAIN after its dictionary
// failed, before one tries again.
const plainRetry = 16

func (w *pqWriter) skipDictionary(name string) bool {
	v, ok := w.plainFor.Load(name)
	if !ok {
		return false
	}
	c := v.(*atomic.Int32)
	for {
		n := c.Load()
		if n <= 0 {
			return false
		}
		if c.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

func (w *pqWriter) dictionaryFailed(name string) {
	v, _ := w.plainFor.LoadOrStore(name, new(atomic.Int32))
	v.(*atomic.Int32).Store(plainRetry)
}

// recycle takes back the bytes write returned once they are stored.
func (w *pqWriter) recycle(b []byte) {
	if cap(b) <= 64<<20 {
		b = b[:0]
		w.outs.Put(&b)
	}
}

// Compression names a page codec: "snappy", or "zstd" (level 3) or
// "zstd-N" (N from 1, fastest, to 4, smallest).
type Compression string

// The compressions the lake writes by default: zstd's fastest level for
// the batches, whose throughput it bounds, and level 3 for compaction,
// which makes the files the lake keeps.
const (
	DefaultCompression        Compression = "zstd-1"
	DefaultCompactCompression Compression = "zstd"
)

// ParseCompression checks a compression name.
func ParseCompression(s string) (Compression, error) {
	c := Compression(s)
	if _, _, err := c.codec(); err != nil {
		return "", err
	}
	return c, nil
}

func (c Compression) codec() (codec int32, level int, err error) {
	switch {
	case c == "snappy":
		return codecSnappy, 0, nil
	case c == "zstd":
		return codecZstd, 3, nil
	case len(c) == 6 && c[:5] == "zstd-" && c[5] >= '1' && c[5] <= '4':
		return codecZstd, int(c[5] - '0'), nil
	}
	return 0, 0, fmt.Errorf("compression %q: want snappy, zstd, or zstd-1 to zstd-4", string(c))
}

func newPQWriter(c Compression) (*pqWriter, error) {
	codec, level, err := c.codec()
	if err != nil {
		return nil, err
	}
	w := &pqWriter{codec: codec}
	if codec == codecZstd {
		// No frame checksum: Parquet readers do not check it.
		if w.zstd, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false)); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// compress compresses a page body into dst.
func (w *pqWriter) compress(dst, body []byte) []byte {
	if w.codec == codecSnappy {
		return s2.EncodeSnappy(dst[:cap(dst)], body)
	}
	return w.zstd.EncodeAll(body, dst[:0])
}

// columnMeta is what the footer says of one column chunk.
type columnMeta struct {
	name                  string
	typ                   int32
	dict                  bool
	numValues             int64
	uncompressed, written int64
	dataOffset            int64
	dictOffset            int64
	nulls                 int64
	min, max              []byte // nil: no statistics of the values
}

type rowGroupMeta struct {
	columns               []columnMeta
	rows                  int64
	offset                int64
	uncompressed, written int64
}

// pqFile is one file being written, with buffers kept from file to file.
type pqFile struct {
	w    *pqWriter
	out  []byte
	body []byte // a page's body before compression
	comp []byte // and after
	p    pager
	// page headers'
	hdr     []byte
	hdrLast []int16
	// dictionary's
	dictMap map[string]int32
	dict    []string
	idx     []int32
}

var pqFiles = sync.Pool{New: func() any { return &pqFile{dictMap: map[string]int32{}} }}

// write encodes batches (of schema) as one file with the key-value
// metadata kv, in row groups of at most rowGroupRows rows.
func (w *pqWriter) write(schema *arrow.Schema, batches []arrow.RecordBatch, kv [][2]string) ([]byte, error) {
	f := pqFiles.Get().(*pqFile)
	f.w = w
	defer func() {
		f.out = nil
		pqFiles.Put(f)
	}()
	var size int64
	for _, b := range batches {
		if !b.Schema().Equal(schema) {
			return nil, errors.New("parquet: a batch does not have the event schema")
		}
		for _, c := range b.Columns() {
			for _, buf := range c.Data().Buffers() {
				if buf != nil {
					size += int64(buf.Len())
				}
			}
		}
	}
	want := int(size/6 + 64<<10)
	if b, ok := w.outs.Get().(*[]byte); ok && cap(*b) >= want {
		f.out = *b
	} else {
		f.out = make([]byte, 0, want)
	}
	f.out = append(f.out, "PAR1"...)

	var groups [][]arrow.RecordBatch
	var cur []arrow.RecordBatch
	var curRows int64
	var sliced []arrow.RecordBatch
	defer release(sliced)
	for _, b := range batches {
		for off := int64(0); off < b.NumRows(); {
			n := min(b.NumRows()-off, rowGroupRows-curRows)
			part := b
			if off != 0 || n != b.NumRows() {
				part = b.NewSlice(off, off+n)
				sliced = append(sliced, part)
			}
			cur, curRows, off = append(cur, part), curRows+n, off+n
			if curRows == rowGroupRows {
				groups, cur, curRows = append(groups, cur), nil, 0
			}
		}
	}
	if curRows > 0 {
		groups = append(groups, cur)
	}
	var rgs []rowGroupMeta
	var total int64
	for _, g := range groups {
		rg := rowGroupMeta{offset: int64(len(f.out))}
		for _, b := range g {
			rg.rows += b.NumRows()
		}
		for c, field := range schema.Fields() {
			cols := make([]arrow.Array, len(g))
			for i, b := range g {
				cols[i] = b.Column(c)
			}
			m, err := f.column(field, cols)
			if err != nil {
				return nil, fmt.Errorf("parquet: column %s: %w", field.Name, err)
			}
			rg.columns = append(rg.columns, m)
			rg.uncompressed += m.uncompressed
			rg.written += m.written
		}
		total += rg.rows
		rgs = append(rgs, rg)
	}
	start := len(f.out)
	f.out = f.appendFooter(f.out, schema, rgs, total, kv)
	f.out = binary.LittleEndian.AppendUint32(f.out, uint32(len(f.out)-start))
	return append(f.out, "PAR1"...), nil
}

// column writes one column chunk of a row group.
func (f *pqFile) column(field arrow.Field, cols []arrow.Array) (columnMeta, error) {
	m := columnMeta{name: field.Name}
	for _, c := range cols {
		m.numValues += int64(c.Len())
		m.nulls += int64(c.NullN())
	}
	if !field.Nullable && m.nulls > 0 {
		return m, errors.New("nulls in a required column")
	}
	p := &f.p
	*p = pager{f: f, m: &m, nullable: field.Nullable, valid: p.valid[:0], vals: p.vals[:0], idx: p.idx[:0]}
	if field.Nullable {
		p.valid = validity(p.valid, cols)
	}
	switch t := field.Type.(type) {
	case *arrow.StringType:
		m.typ = ptByteArray
		f.strings(p, cols)
	case *arrow.Int32Type:
		m.typ = ptInt32
		fixedValues(p, cols, int32Values, appendInt32)
	case *arrow.TimestampType:
		if t.Unit != arrow.Microsecond {
			return m, fmt.Errorf("timestamp unit %s, want microseconds", t.Unit)
		}
		m.typ = ptInt64
		fixedValues(p, cols, timestampValues, appendTimestamp)
	case *arrow.BooleanType:
		m.typ = ptBoolean
		f.booleans(p, cols)
	default:
		return m, fmt.Errorf("unsupported type %s", field.Type)
	}
	return m, nil
}

// validity appends the validity bits of the rows of cols, LSB first.
func validity(dst []byte, cols []arrow.Array) []byte {
	n := 0
	for _, c := range cols {
		n += c.Len()
	}
	start := len(dst)
	dst = append(dst, make([]byte, (n+7)/8)...)
	bm := dst[start:]
	row := 0
	for _, c := range cols {
		switch {
		case c.NullN() == 0:
			setBits(bm, row, c.Len())
		case c.NullN() == c.Len():
		default:
			for i := range c.Len() {
				if c.IsValid(i) {
					bm[(row+i)/8] |= 1 << ((row + i) % 8)
				}
			}
		}
		row += c.Len()
	}
	return dst
}

// setBits sets n bits of bm from bit from.
func setBits(bm []byte, from, n int) {
	i, end := from, from+n
	for ; i < end && i%8 != 0; i++ {
		bm[i/8] |= 1 << (i % 8)
	}
	for ; i+8 <= end; i += 8 {
		bm[i/8] = 0xff
	}
	for ; i < end; i++ {
		bm[i/8] |= 1 << (i % 8)
	}
}

// pager cuts a column chunk into data pages. Pages start at a row that is
// a multiple of eight, so that a page's validity bits are whole bytes of
// the chunk's.
type pager struct {
	f        *pqFile
	m        *columnMeta
	nullable bool
	valid    []byte  // validity bits of the chunk's rows, LSB first
	start    int     // the first row of the page
	rows     int     // the page's rows
	vals     []byte  // the page's PLAIN values
	idx      []int32 // the chunk's dictionary indices (non-null values)
	next     int     // the first index of the page
	width    int     // of the indices; 0: PLAIN values
	bitBuf   byte    // booleans: bits not yet in vals
	bitN     int
}

// full reports whether the page should end after its current row.
func (p *pager) full() bool {
	return p.rows%8 == 0 && (p.rows >= pageRows || len(p.vals) >= pageBytes)
}

// flush writes the page collected so far.
func (p *pager) flush() {
	if p.rows == 0 {
		return
	}
	if p.bitN > 0 {
		p.vals = append(p.vals, p.bitBuf)
		p.bitBuf, p.bitN = 0, 0
	}
	f := p.f
	body := f.body[:0]
	nonNull := p.rows
	if p.nullable {
		bm := p.valid[p.start/8 : (p.start+p.rows+7)/8]
		nonNull = 0
		for _, b := range bm {
			nonNull += bits.OnesCount8(b)
		}
		if extra := p.rows % 8; extra != 0 {
			nonNull -= bits.OnesCount8(bm[len(bm)-1] &^ (1<<extra - 1))
		}
		body = append(body, 0, 0, 0, 0)
		if nonNull == p.rows {
			body = binary.AppendUvarint(body, uint64(p.rows)<<1)
			body = append(body, 1)
		} else {
			body = binary.AppendUvarint(body, uint64(len(bm))<<1|1)
			body = append(body, bm...)
			if extra := p.rows % 8; extra != 0 {
				body[len(body)-1] &= 1<<extra - 1
			}
		}
		binary.LittleEndian.PutUint32(body[:4], uint32(len(body)-4))
	}
	enc := int32(encPlain)
	if p.width > 0 {
		enc = encRLEDict
		body = append(body, byte(p.width))
		body = appendHybrid(body, p.idx[p.next:p.next+nonNull], p.width)
		p.next += nonNull
	} else {
		body = append(body, p.vals...)
	}
	f.body = body
	if p.m.dataOffset == 0 {
		p.m.dataOffset = int64(len(f.out))
	}
	f.page(p.m, pageData, p.rows, enc, body)
	p.start += p.rows
	p.vals, p.rows = p.vals[:0], 0
}

// page compresses body and appends its header and it to the file.
func (f *pqFile) page(m *columnMeta, typ int32, values int, enc int32, body []byte) {
	f.comp = f.w.compress(f.comp, body)
	var t thriftWriter
	t.buf = f.hdr[:0]
	t.last = f.hdrLast[:0]
	t.begin()
	t.i32(1, typ)
	t.i32(2, int32(len(body)))
	t.i32(3, int32(len(f.comp)))
	if typ == pageDict {
		t.structField(7)
		t.i32(1, int32(values))
		t.i32(2, encPlain)
		t.end()
	} else {
		t.structField(5)
		t.i32(1, int32(values))
		t.i32(2, enc)
		t.i32(3, encRLE)
		t.i32(4, encRLE)
		t.end()
	}
	t.end()
	f.hdr, f.hdrLast = t.buf, t.last
	f.out = append(f.out, t.buf...)
	f.out = append(f.out, f.comp...)
	m.uncompressed += int64(len(t.buf) + len(body))
	m.written += int64(len(t.buf) + len(f.comp))
}

// strings writes a string column: dictionary-encoded if its values repeat
// enough, else PLAIN.
func (f *pqFile) strings(p *pager, cols []arrow.Array) {
	if !plainColumns[p.m.name] && !f.w.skipDictionary(p.m.name) {
		dict, idx, ok := f.dictionary(cols)
		if ok {
			f.dictionaryColumn(p, cols, dict, idx)
		} else {
			f.w.dictionaryFailed(p.m.name)
		}
		// The map's keys and the dictionary point into the batches:
		// dropped after the column, so that the pool keeps no batch alive.
		clear(f.dictMap)
		clear(f.dict)
		f.dict, f.idx = f.dict[:0], f.idx[:0]
		if ok {
			return
		}
	}
	var lo, hi string
	first := true
	for _, c := range cols {
		s := c.(*array.String)
		nulls := s.NullN() > 0
		for i := range s.Len() {
			if !nulls || s.IsValid(i) {
				v := s.Value(i)
				p.vals = binary.LittleEndian.AppendUint32(p.vals, uint32(len(v)))
				p.vals = append(p.vals, v...)
				if first || v < lo {
					lo = v
				}
				if first || v > hi {
					hi = v
				}
				first = false
			}
			p.rows++
			if p.full() {
				p.flush()
			}
		}
	}
	p.flush()
	if !first && len(lo) <= 64 && len(hi) <= 64 {
		p.m.min, p.m.max = []byte(lo), []byte(hi)
	}
}

// dictionary returns the distinct values of cols and the index of each
// non-null value, or false when the values repeat too little.
func (f *pqFile) dictionary(cols []arrow.Array) ([]string, []int32, bool) {
	m := f.dictMap
	dict, idx := f.dict[:0], f.idx[:0]
	defer func() { f.dict, f.idx = dict, idx }()
	size, seen := 0, 0
	last, lastIdx := "", int32(-1)
	for _, c := range cols {
		s := c.(*array.String)
		nulls := s.NullN() > 0
		for i := range s.Len() {
			if nulls && s.IsNull(i) {
				continue
			}
			v := s.Value(i)
			if lastIdx >= 0 && v == last {
				idx = append(idx, lastIdx)
				continue
			}
			k, ok := m[v]
			if !ok {
				k = int32(len(dict))
				m[v] = k
				dict = append(dict, v)
				size += len(v) + 4
				if size > dictMaxBytes {
					return nil, nil, false
				}
			}
			idx = append(idx, k)
			last, lastIdx = v, k
			if seen++; seen == dictProbe && len(dict)*5 > dictProbe*4 {
				return nil, nil, false
			}
		}
	}
	if len(idx) > 0 && len(dict)*5 > len(idx)*4 {
		return nil, nil, false
	}
	return dict, idx, true
}

// dictionaryColumn writes the dictionary page, then data pages of indices.
func (f *pqFile) dictionaryColumn(p *pager, cols []arrow.Array, dict []string, idx []int32) {
	m := p.m
	m.dict = true
	body := f.body[:0]
	lo, hi := "", ""
	for i, v := range dict {
		body = binary.LittleEndian.AppendUint32(body, uint32(len(v)))
		body = append(body, v...)
		if i == 0 || v < lo {
			lo = v
		}
		if i == 0 || v > hi {
			hi = v
		}
	}
	f.body = body
	m.dictOffset = int64(len(f.out))
	f.page(m, pageDict, len(dict), encPlain, body)
	if len(dict) > 0 && len(lo) <= 64 && len(hi) <= 64 {
		m.min, m.max = []byte(lo), []byte(hi)
	}
	p.width = max(1, bits.Len32(uint32(max(len(dict), 1)-1)))
	p.idx = idx
	n := int(m.numValues)
	for p.start < n {
		p.rows = min(pageRows, n-p.start)
		p.flush()
	}
	p.idx = nil
}

// fixedValues writes a column of fixed-width integers PLAIN (little
// endian, 4 or 8 bytes), with their min and max; values returns an
// array's values and appendLE appends one.
func fixedValues[T ~int32 | ~int64](p *pager, cols []arrow.Array, values func(arrow.Array) []T, appendLE func([]byte, T) []byte) {
	var lo, hi T
	first := true
	for _, c := range cols {
		nulls := c.NullN() > 0
		for i, v := range values(c) {
			if !nulls || c.IsValid(i) {
				p.vals = appendLE(p.vals, v)
				if first || v < lo {
					lo = v
				}
				if first || v > hi {
					hi = v
				}
				first = false
			}
			p.rows++
			if p.full() {
				p.flush()
			}
		}
	}
	p.flush()
	if !first {
		p.m.min, p.m.max = appendLE(nil, lo), appendLE(nil, hi)
	}
}

func int32Values(c arrow.Array) []int32 { return c.(*array.Int32).Int32Values() }

func timestampValues(c arrow.Array) []arrow.Timestamp { return c.(*array.Timestamp).TimestampValues() }

func appendInt32(b []byte, v int32) []byte { return binary.LittleEndian.AppendUint32(b, uint32(v)) }
func appendTimestamp(b []byte, v arrow.Timestamp) []byte {
	return binary.LittleEndian.AppendUint64(b, uint64(v))
}

// booleans writes PLAIN booleans: the non-null values' bits, LSB first.
func (f *pqFile) booleans(p *pager, cols []arrow.Array) {
	for _, c := range cols {
		a := c.(*array.Boolean)
		nulls := a.NullN() > 0
		for i := range a.Len() {
			if !nulls || a.IsValid(i) {
				if a.Value(i) {
					p.bitBuf |= 1 << p.bitN
				}
				if p.bitN++; p.bitN == 8 {
					p.vals = append(p.vals, p.bitBuf)
					p.bitBuf, p.bitN = 0, 0
				}
			}
			p.rows++
			if p.full() {
				p.flush()
			}
		}
	}
	p.flush()
}

// appendHybrid appends vals in the RLE/bit-packing hybrid encoding of
// width bits: one RLE run when every value is the same, else bit-packed
// groups of eight (the last padded with zeros).
func appendHybrid(dst []byte, vals []int32, width int) []byte {
	same := len(vals) > 0
	for _, v := range vals {
		if v != vals[0] {
			same = false
			break
		}
	}
	if same {
		dst = binary.AppendUvarint(dst, uint64(len(vals))<<1)
		v := uint32(vals[0])
		for range (width + 7) / 8 {
			dst = append(dst, byte(v))
			v >>= 8
		}
		return dst
	}
	groups := (len(vals) + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
	var acc uint64
	var n int
	for i := range groups * 8 {
		var v uint32
		if i < len(vals) {
			v = uint32(vals[i])
		}
		acc |= uint64(v) << n
		n += width
		for n >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			n -= 8
		}
	}
	return dst
}

// appendFooter appends the FileMetaData.
func (f *pqFile) appendFooter(dst []byte, schema *arrow.Schema, rgs []rowGroupMeta, rows int64, kv [][2]string) []byte {
	t := thriftWriter{buf: dst}
	t.begin()
	t.i32(1, 1) // version
	fields := schema.Fields()
	t.list(2, tStruct, len(fields)+1)
	t.elemBegin()
	t.str(4, "schema")
	t.i32(5, int32(len(fields)))
	t.end()
	for _, fl := range fields {
		t.elemBegin()
		rep := int32(repRequired)
		if fl.Nullable {
			rep = repOptional
		}
		switch fl.Type.(type) {
		case *arrow.StringType:
			t.i32(1, ptByteArray)
			t.i32(3, rep)
			t.str(4, fl.Name)
			t.i32(6, ctUTF8)
			t.structField(10)
			t.structField(1) // STRING
			t.end()
			t.end()
		case *arrow.Int32Type:
			t.i32(1, ptInt32)
			t.i32(3, rep)
			t.str(4, fl.Name)
		case *arrow.TimestampType:
			t.i32(1, ptInt64)
			t.i32(3, rep)
			t.str(4, fl.Name)
			t.i32(6, ctTSMicros)
			t.structField(10)
			t.structField(8) // TIMESTAMP
			t.boolean(1, true)
			t.structField(2) // unit
			t.structField(2) // MICROS
			t.end()
			t.end()
			t.end()
			t.end()
		case *arrow.BooleanType:
			t.i32(1, ptBoolean)
			t.i32(3, rep)
			t.str(4, fl.Name)
		}
		t.end()
	}
	t.i64(3, rows)
	t.list(4, tStruct, len(rgs))
	for i, rg := range rgs {
		t.elemBegin()
		t.list(1, tStruct, len(rg.columns))
		for _, c := range rg.columns {
			t.elemBegin()
			first := c.dataOffset
			if c.dict {
				first = c.dictOffset
			}
			t.i64(2, first)
			t.structField(3)
			t.i32(1, c.typ)
			if c.dict {
				t.list(2, tI32, 3)
				t.listI32(encPlain)
				t.listI32(encRLE)
				t.listI32(encRLEDict)
			} else {
				t.list(2, tI32, 2)
				t.listI32(encPlain)
				t.listI32(encRLE)
			}
			t.list(3, tBinary, 1)
			t.listBinary(c.name)
			t.i32(4, f.w.codec)
			t.i64(5, c.numValues)
			t.i64(6, c.uncompressed)
			t.i64(7, c.written)
			t.i64(9, c.dataOffset)
			if c.dict {
				t.i64(11, c.dictOffset)
			}
			t.structField(12)
			t.i64(3, c.nulls)
			if c.max != nil {
				t.binary(5, c.max)
				t.binary(6, c.min)
			}
			t.end()
			t.end()
			t.end()
		}
		t.i64(2, rg.uncompressed)
		t.i64(3, rg.rows)
		t.i64(5, rg.offset)
		t.i64(6, rg.written)
		t.field(7, tI16)
		t.varint(zigzag(int64(i)))
		t.end()
	}
	t.list(5, tStruct, len(kv))
	for _, e := range kv {
		t.elemBegin()
		t.str(1, e[0])
		t.str(2, e[1])
		t.end()
	}
	t.str(6, "fullstop")
	t.list(7, tStruct, len(fields))
	for range fields {
		t.elemBegin()
		t.structField(1) // TYPE_ORDER
		t.end()
		t.end()
	}
	t.end()
	return t.buf
}
