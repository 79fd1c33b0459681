package lake

import "encoding/binary"

// thriftWriter writes the Thrift compact protocol, the encoding of a
// Parquet file's footer and page headers (parquet.thrift). It knows only
// what those structures use.
type thriftWriter struct {
	buf  []byte
	last []int16 // the last field id of each open struct
}

// Compact protocol types.
const (
	tTrue   = 1
	tFalse  = 2
	tI16    = 4
	tI32    = 5
	tI64    = 6
	tBinary = 8
	tList   = 9
	tStruct = 12
)

func (w *thriftWriter) varint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }

func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

func (w *thriftWriter) field(id int16, typ byte) {
	last := &w.last[len(w.last)-1]
	if d := id - *last; d > 0 && d <= 15 {
		w.buf = append(w.buf, byte(d)<<4|typ)
	} else {
		w.buf = append(w.buf, typ)
		w.varint(zigzag(int64(id)))
	}
	*last = id
}

// begin opens the outermost struct.
func (w *thriftWriter) begin() { w.last = append(w.last, 0) }

// structField opens a struct-valued field; end closes it.
func (w *thriftWriter) structField(id int16) {
	w.field(id, tStruct)
	w.last = append(w.last, 0)
}

// end closes the innermost open struct.
func (w *thriftWriter) end() {
	w.buf = append(w.buf, 0)
	w.last = w.last[:len(w.last)-1]
}

func (w *thriftWriter) i32(id int16, v int32) {
	w.field(id, tI32)
	w.varint(zigzag(int64(v)))
}

func (w *thriftWriter) i64(id int16, v int64) {
	w.field(id, tI64)
	w.varint(zigzag(v))
}

func (w *thriftWriter) binary(id int16, b []byte) {
	w.field(id, tBinary)
	w.varint(uint64(len(b)))
	w.buf = append(w.buf, b...)
}

func (w *thriftWriter) str(id int16, s string) {
	w.field(id, tBinary)
	w.varint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}

func (w *thriftWriter) boolean(id int16, v bool) {
	if v {
		w.field(id, tTrue)
	} else {
		w.field(id, tFalse)
	}
}

// list opens a list field of n elements of type elem; struct elements
// are then written with elemBegin/end, i32 elements with listI32.
func (w *thriftWriter) list(id int16, elem byte, n int) {
	w.field(id, tList)
	if n < 15 {
		w.buf = append(w.buf, byte(n)<<4|elem)
	} else {
		w.buf = append(w.buf, 0xf0|elem)
		w.varint(uint64(n))
	}
}

// elemBegin opens a struct element of a list.
func (w *thriftWriter) elemBegin() { w.last = append(w.last, 0) }

func (w *thriftWriter) listI32(v int32) { w.varint(zigzag(int64(v))) }

func (w *thriftWriter) listBinary(s string) {
	w.varint(uint64(len(s)))
	w.buf = append(w.buf, s...)
}
