package event

import (
	"slices"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// maxKeptColumn is the capacity above which a column's Go buffer is
// dropped after a batch instead of kept for the next.
const maxKeptColumn = 32 << 20

// columns holds the rows of the batch being built, column by column, in Go
// memory kept from batch to batch. batch copies them into Arrow buffers
// from the decoder's allocator, each of the size it needs.
type columns struct {
	rows  int
	str   [numColumns]stringColumn // the string columns'
	bools [numColumns]boolColumn   // the boolean columns'
	index []int32                  // record_index
	times []arrow.Timestamp        // event_time
}

// stringColumn is a string column's rows.
type stringColumn struct {
	offsets []int32 // where each row's text starts in data, then where the last ends
	data    []byte
	nulls   []int32 // the NULL rows
}

// boolColumn is a boolean column's rows.
type boolColumn struct {
	vals  []bool
	nulls []int32 // the NULL rows
}

func newColumns() *columns {
	c := &columns{}
	c.reset()
	return c
}

// reset drops the rows, keeping the buffers unless they are large.
func (c *columns) reset() {
	c.rows = 0
	for i := range c.str {
		s := &c.str[i]
		if cap(s.data) > maxKeptColumn {
			s.data = nil
		}
		s.offsets = append(s.offsets[:0], 0)
		s.data = s.data[:0]
		s.nulls = s.nulls[:0]
	}
	for i := range c.bools {
		c.bools[i].vals = c.bools[i].vals[:0]
		c.bools[i].nulls = c.bools[i].nulls[:0]
	}
	c.index = c.index[:0]
	c.times = c.times[:0]
}

// The append methods of the columns change the length of its slices in
// place (s.data = s.data[:n]), which needs no write barrier, and assign a
// new slice only when one grows.

// put appends v to the data.
func (s *stringColumn) put(v []byte) {
	n := len(s.data)
	if cap(s.data)-n < len(v) {
		s.data = slices.Grow(s.data, len(v))
	}
	s.data = s.data[:n+len(v)]
	copy(s.data[n:], v)
}

// endRow ends the row whose text is the data put since the last.
func (s *stringColumn) endRow() {
	push(&s.offsets, int32(len(s.data)))
}

// push appends v to *s, changing its length in place unless it grows.
func push[T any](s *[]T, v T) {
	n := len(*s)
	if n == cap(*s) {
		*s = slices.Grow(*s, 1)
	}
	*s = (*s)[:n+1]
	(*s)[n] = v
}

// appendString appends v and returns its length.
func (s *stringColumn) appendString(v string) int {
	s.put(unsafe.Slice(unsafe.StringData(v), len(v)))
	s.endRow()
	return len(v)
}

// appendOrNull appends v, or NULL if it is empty, and returns its length.
func (s *stringColumn) appendOrNull(v string) int {
	if v == "" {
		s.appendNull()
		return 0
	}
	return s.appendString(v)
}

// appendText appends the text of a JSON string, given the bytes between
// its quotes and whether they are its text (see record.plain), and returns
// the text's length.
func (s *stringColumn) appendText(inner []byte, plain bool) int {
	n := len(s.data)
	if plain {
		s.put(inner)
	} else {
		s.data = appendText(s.data, inner)
	}
	s.endRow()
	return len(s.data) - n
}

// appendRaw appends a JSON value as text, made valid UTF-8, and returns
// the text's length.
func (s *stringColumn) appendRaw(v []byte) int {
	n := len(s.data)
	if utf8.Valid(v) {
		s.put(v)
	} else {
		s.data = appendValidUTF8(s.data, v)
	}
	s.endRow()
	return len(s.data) - n
}

func (s *stringColumn) appendNull() {
	push(&s.nulls, int32(len(s.offsets)-1))
	s.endRow()
}

func (b *boolColumn) append(v optBool) {
	if v == boolNull {
		push(&b.nulls, int32(len(b.vals)))
	}
	push(&b.vals, v == boolTrue)
}

// batch returns the rows as a record batch of Schema. Its buffers are
// slices of one allocation from mem, which the last of them to be released
// frees.
func (c *columns) batch(mem memory.Allocator) arrow.RecordBatch {
	// Two passes over the columns: one to size the buffers, one to fill
	// them.
	var a arena
	for pass := range 2 {
		if pass == 1 {
			a.alloc(mem)
		}
		for col := range numColumns {
			c.buffers(&a, col)
		}
	}
	arrs := make([]arrow.Array, numColumns)
	bufs := make([]*memory.Buffer, 0, 3*numColumns) // of all arrays
	for col := range numColumns {
		arrs[col] = c.array(&a, col, &bufs)
	}
	a.release()
	b := array.NewRecordBatch(Schema, arrs, int64(c.rows))
	for _, arr := range arrs {
		arr.Release()
	}
	return b
}

// buffers sizes, or fills, the buffers of column col: validity bitmap (if
// any row is NULL), then values, or offsets and data for strings.
func (c *columns) buffers(a *arena, col int) {
	switch {
	case col == idxRecordIndex:
		a.copy(arrow.Int32Traits.CastToBytes(c.index))
	case col == idxEventTime:
		a.copy(arrow.TimestampTraits.CastToBytes(c.times))
	case sources[col].kind == kindBool:
		b := &c.bools[col]
		a.validity(c.rows, b.nulls)
		a.bitmap(b.vals)
	default:
		s := &c.str[col]
		a.validity(c.rows, s.nulls)
		a.copy(arrow.Int32Traits.CastToBytes(s.offsets))
		a.copy(s.data)
	}
}

// array returns column col as an array over the arena's next buffers. Its
// list of buffers is appended to all, to share one allocation.
func (c *columns) array(a *arena, col int, all *[]*memory.Buffer) arrow.Array {
	var nulls []int32
	start := len(*all)
	switch {
	case col == idxRecordIndex || col == idxEventTime:
		*all = append(*all, nil, a.next())
	case sources[col].kind == kindBool:
		nulls = c.bools[col].nulls
		*all = append(*all, a.nextValidity(nulls), a.next())
	default:
		nulls = c.str[col].nulls
		*all = append(*all, a.nextValidity(nulls), a.next(), a.next())
	}
	bufs := (*all)[start:len(*all):len(*all)]
	data := array.NewData(Schema.Field(col).Type, c.rows, bufs, nil, len(nulls), 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	arr := array.MakeFromData(data)
	data.Release()
	return arr
}

// arena lays buffers out in one allocation. Its first pass over the
// buffers only adds up their sizes; once allocated, the second pass writes
// them; then next hands them out in the same order.
type arena struct {
	whole *memory.Buffer // nil in the first pass
	size  int            // the bytes laid out so far
	ends  []int          // where each buffer ends
	taken int            // buffers handed out by next
}

// place lays out n bytes, returning their slice of the allocation in the
// second pass (nil in the first). Buffers start at multiples of 64 bytes,
// as Arrow recommends.
func (a *arena) place(n int) []byte {
	start := (a.size + 63) &^ 63
	a.size = start + n
	if a.whole == nil {
		return nil
	}
	a.ends = append(a.ends, a.size)
	return a.whole.Bytes()[start:a.size]
}

// alloc ends the first pass.
func (a *arena) alloc(mem memory.Allocator) {
	a.whole = memory.NewResizableBuffer(mem)
	a.whole.Resize(a.size)
	a.size = 0
}

// copy lays out a copy of p.
func (a *arena) copy(p []byte) {
	if b := a.place(len(p)); b != nil {
		copy(b, p)
	}
}

// validity lays out the validity bitmap of rows rows of which nulls are
// NULL; none when none is.
func (a *arena) validity(rows int, nulls []int32) {
	if len(nulls) == 0 {
		return
	}
	p := a.place(int(bitutil.BytesForBits(int64(rows))))
	if p == nil {
		return
	}
	memory.Set(p, 0xff)
	if rows%8 != 0 {
		p[len(p)-1] = 1<<(rows%8) - 1
	}
	for _, r := range nulls {
		bitutil.ClearBit(p, int(r))
	}
}

// bitmap lays out a bitmap of vals.
func (a *arena) bitmap(vals []bool) {
	p := a.place(int(bitutil.BytesForBits(int64(len(vals)))))
	if p == nil {
		return
	}
	clear(p)
	for i, v := range vals {
		if v {
			bitutil.SetBit(p, i)
		}
	}
}

// next returns the next buffer laid out, as a slice of the allocation.
func (a *arena) next() *memory.Buffer {
	start := 0
	if a.taken > 0 {
		start = (a.ends[a.taken-1] + 63) &^ 63
	}
	end := a.ends[a.taken]
	a.taken++
	return memory.SliceBuffer(a.whole, start, end-start)
}

// nextValidity returns the next buffer, the validity bitmap, if nulls is
// not empty; nil otherwise.
func (a *arena) nextValidity(nulls []int32) *memory.Buffer {
	if len(nulls) == 0 {
		return nil
	}
	return a.next()
}

// release drops the arena's own reference to the allocation; the slices
// handed out keep it.
func (a *arena) release() {
	a.whole.Release()
}
