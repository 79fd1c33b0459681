package event

// This file is the decoder as it was before the single-pass scanner, kept
// unchanged but for its names as an oracle: the current decoder must give
// the same results and errors (legacy_fuzz_test.go).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// legacyDecoder decodes CloudTrail log documents. A Decoder is not safe for
// concurrent use; use one per worker. It may be reused for any number of
// documents, also after one failed.
type legacyDecoder struct {
	mem            memory.Allocator
	batchSize      int
	maxBatchBytes  int
	maxRecordBytes int

	b     *array.RecordBuilder
	rows  int // rows in b
	bytes int // string bytes in b
	raw   json.RawMessage
	rec   legacyRecord
}

// newLegacyDecoder returns a decoder allocating from mem (nil: the Go allocator)
// and cutting batches of batchSize rows (0: 8192), or fewer when a batch's
// strings reach 256 MiB. Records larger than 64 MiB are skipped.
func newLegacyDecoder(mem memory.Allocator, batchSize int) *legacyDecoder {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if batchSize <= 0 {
		batchSize = defaultBatchSize
	}
	return &legacyDecoder{
		mem:            mem,
		batchSize:      batchSize,
		maxBatchBytes:  defaultMaxBatchBytes,
		maxRecordBytes: defaultMaxRecordBytes,
	}
}

// Decode reads one whole CloudTrail document ({"Records":[...]}, not
// compressed) from r.
//
// The document fails as a whole, with no Result, when it is not valid JSON,
// is truncated (the error wraps io.ErrUnexpectedEOF), nests deeper than
// encoding/json allows, has data after it, cannot be read (the error wraps
// the reader's), or is not CloudTrail (ErrNotCloudTrail). "Records": null is
// a document without events.
//
// A single record that cannot be decoded (not an object, a field of an
// unexpected type, no or an empty eventID, no or a non-RFC 3339 eventTime) is
// skipped and reported in the Result; the others are decoded. Member names
// match exactly; of a repeated member the last counts. Invalid UTF-8 in
// strings becomes U+FFFD, one for each bad byte, as encoding/json does.
func (d *legacyDecoder) Decode(r io.Reader, o Origin) (*Result, error) {
	if d.b == nil {
		d.b = array.NewRecordBuilder(d.mem, Schema)
	}
	res := &Result{}
	err := d.decode(r, o, res)
	d.rec = legacyRecord{} // drop references into the buffers
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

func (d *legacyDecoder) decode(r io.Reader, o Origin, res *Result) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err == io.EOF {
		return fmt.Errorf("read document: empty: %w", ErrNotCloudTrail)
	}
	if err != nil {
		return fmt.Errorf("read document: %w", err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("read document: a JSON %s, want an object: %w", tokenKind(tok), ErrNotCloudTrail)
	}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("read document: %w", unexpectedEOF(err))
		}
		if tok != "Records" {
			if err := dec.Decode(&d.raw); err != nil {
				return fmt.Errorf("read document: %w", unexpectedEOF(err))
			}
			continue
		}
		if found {
			return fmt.Errorf("read document: two Records members: %w", ErrNotCloudTrail)
		}
		found = true
		if err := d.decodeRecords(dec, o, res); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing }
		return fmt.Errorf("read document: %w", unexpectedEOF(err))
	}
	switch _, err := dec.Token(); {
	case err == io.EOF:
	case err == nil:
		return errors.New("read document: data after the document")
	default:
		return fmt.Errorf("read document end: %w", err)
	}
	if !found {
		return fmt.Errorf("read document: no Records: %w", ErrNotCloudTrail)
	}
	return nil
}

func (d *legacyDecoder) decodeRecords(dec *json.Decoder, o Origin, res *Result) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("read Records: %w", unexpectedEOF(err))
	}
	switch tok {
	case nil: // "Records": null, a document without events
		return nil
	case json.Delim('['):
	default:
		return fmt.Errorf("read Records: a JSON %s, want an array: %w", tokenKind(tok), ErrNotCloudTrail)
	}
	for i := 0; dec.More(); i++ {
		if err := dec.Decode(&d.raw); err != nil {
			return fmt.Errorf("read record %d: %w", i, unexpectedEOF(err))
		}
		if err := d.rec.parse(d.raw, d.maxRecordBytes); err != nil {
			res.Skipped++
			if len(res.Errors) < maxRecordErrors {
				res.Errors = append(res.Errors, &RecordError{Key: o.Key, Index: i, Err: err})
			}
			continue
		}
		d.append(o, i, &d.rec)
		res.Events++
		if d.rows >= d.batchSize || d.bytes >= d.maxBatchBytes {
			d.flush(res)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return fmt.Errorf("read Records: %w", unexpectedEOF(err))
	}
	return nil
}

// flush moves the builder's rows, if any, into a batch of res.
func (d *legacyDecoder) flush(res *Result) {
	if d.rows == 0 {
		return
	}
	res.Batches = append(res.Batches, d.b.NewRecordBatch())
	d.rows, d.bytes = 0, 0
}

// reset drops the builder's rows.
func (d *legacyDecoder) reset() {
	if d.rows > 0 {
		d.b.NewRecordBatch().Release()
	}
	d.rows, d.bytes = 0, 0
}

// Release frees the decoder's builders.
func (d *legacyDecoder) Release() {
	if d.b != nil {
		d.b.Release()
		d.b = nil
	}
	d.rows, d.bytes = 0, 0
}

func (d *legacyDecoder) append(o Origin, i int, r *legacyRecord) {
	f := d.b.Fields()
	f[idxObjectKey].(*array.StringBuilder).Append(o.Key)
	d.bytes += len(o.Key)
	d.appendOrigin(f[idxKeyAccount], o.Account)
	d.appendOrigin(f[idxKeyRegion], o.Region)
	f[idxRecordIndex].(*array.Int32Builder).Append(int32(i))
	f[idxEventTime].(*array.TimestampBuilder).Append(arrow.Timestamp(r.time))
	for col := idxEventVersion; col < numColumns; col++ {
		switch sources[col].kind {
		case kindTime:
		case kindBool:
			bb := f[col].(*array.BooleanBuilder)
			switch r.bools[col] {
			case boolNull:
				bb.AppendNull()
			default:
				bb.Append(r.bools[col] == boolTrue)
			}
		default:
			sb := f[col].(*array.StringBuilder)
			v := r.vals[col]
			if v == nil {
				sb.AppendNull()
				continue
			}
			sb.BinaryBuilder.Append(v)
			d.bytes += len(v)
		}
	}
	d.rows++
}

// appendOrigin appends s, or NULL when it is empty.
func (d *legacyDecoder) appendOrigin(b array.Builder, s string) {
	sb := b.(*array.StringBuilder)
	if s == "" {
		sb.AppendNull()
		return
	}
	sb.Append(s)
	d.bytes += len(s)
}

// legacyMembers maps the member names of each object the decoder reads to the
// slots of record.vals they fill: "" is the record itself.
var legacyMembers = func() map[string]map[string]int {
	m := map[string]map[string]int{
		"":             {pathIdentity: slotIdentity},
		pathIdentity:   {"sessionContext": slotSession},
		pathSession:    {"sessionIssuer": slotIssuer, "attributes": slotAttributes},
		pathIssuer:     {},
		pathAttributes: {},
	}
	for col, s := range sources {
		if s.kind == kindNone {
			continue
		}
		parent, name := "", s.path
		if i := strings.LastIndexByte(s.path, '.'); i >= 0 {
			parent, name = s.path[:i], s.path[i+1:]
		}
		m[parent][name] = col
	}
	return m
}()

// legacyRecord is one CloudTrail record as far as the schema reads it.
type legacyRecord struct {
	// vals holds, while parsing, the JSON value of each column and
	// flattened object (nil: absent), then each string column's text
	// (nil: NULL).
	vals  [numSlots][]byte
	bools [numColumns]optBool
	time  int64 // event time, microseconds since the epoch
}

// parse reads raw, one element of Records, which the json.Decoder has found
// to be valid JSON.
func (r *legacyRecord) parse(raw []byte, maxBytes int) error {
	*r = legacyRecord{}
	if len(raw) > maxBytes {
		return fmt.Errorf("record is %d bytes, more than %d", len(raw), maxBytes)
	}
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("record is a JSON %s, not an object", jsonKind(raw))
	}
	// The record's members, then those of each flattened object, parent
	// before child: an object's value is known once its parent is read.
	for _, obj := range [...]struct {
		path string
		slot int
	}{{"", -1}, {pathIdentity, slotIdentity}, {pathSession, slotSession}, {pathIssuer, slotIssuer}, {pathAttributes, slotAttributes}} {
		v := raw
		if obj.slot >= 0 {
			v = r.vals[obj.slot]
		}
		if err := r.collect(v, obj.path, legacyMembers[obj.path]); err != nil {
			return err
		}
	}
	// eventID and eventTime first: a record without them is no event.
	if err := r.convert(idxEventID); err != nil {
		return err
	}
	if err := r.convert(idxEventTime); err != nil {
		return err
	}
	for col := idxEventVersion; col < numColumns; col++ {
		if col == idxEventID || col == idxEventTime {
			continue
		}
		if err := r.convert(col); err != nil {
			return err
		}
	}
	return nil
}

// collect stores the values of the object p's members named in fields; the
// last of a repeated member wins. An absent or null object has no members.
func (r *legacyRecord) collect(p []byte, path string, fields map[string]int) error {
	if p == nil || isNull(p) {
		return nil
	}
	if p[0] != '{' {
		return fmt.Errorf("field %s: want an object, got %s", path, jsonKind(p))
	}
	it := legacyObjectIter{p: p, i: 1}
	for {
		key, val, ok := it.next()
		if !ok {
			break
		}
		inner := key[1 : len(key)-1]
		var slot int
		if bytes.IndexByte(inner, '\\') < 0 {
			slot, ok = fields[string(inner)]
		} else {
			var name string
			if err := json.Unmarshal(key, &name); err != nil {
				return fmt.Errorf("field %s: member name: %w", path, err)
			}
			slot, ok = fields[name]
		}
		if ok {
			r.vals[slot] = val
		}
	}
	if it.bad {
		return fmt.Errorf("field %s: malformed JSON object", path)
	}
	return nil
}

// convert replaces column col's JSON value by its text, or checks and sets
// its boolean or time.
func (r *legacyRecord) convert(col int) error {
	src := sources[col]
	v := r.vals[col]
	null := v == nil || isNull(v)
	var err error
	switch src.kind {
	case kindString:
		if null {
			r.vals[col] = nil
			return nil
		}
		r.vals[col], err = legacyDecodeString(v)
	case kindID:
		if null {
			return fmt.Errorf("no %s", src.path)
		}
		r.vals[col], err = legacyDecodeString(v)
		if err == nil && len(r.vals[col]) == 0 {
			return fmt.Errorf("empty %s", src.path)
		}
	case kindTime:
		if null {
			return fmt.Errorf("no %s", src.path)
		}
		var s []byte
		if s, err = legacyDecodeString(v); err == nil {
			t, perr := time.Parse(time.RFC3339Nano, string(s))
			if perr != nil {
				return fmt.Errorf("%s %q is not RFC 3339", src.path, truncate(s, 64))
			}
			r.time = t.UnixMicro()
		}
	case kindBool:
		if !null {
			r.bools[col], err = legacyDecodeBool(v)
		}
	case kindRaw:
		if null {
			r.vals[col] = nil
			return nil
		}
		r.vals[col] = legacyValidUTF8(v)
	}
	if err != nil {
		return fmt.Errorf("field %s: %w", src.path, err)
	}
	return nil
}

// legacyDecodeString returns the text of the JSON string v, without copying when
// it has no escapes.
func legacyDecodeString(v []byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '"' {
		return nil, fmt.Errorf("want a string, got %s", jsonKind(v))
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return inner, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, err
	}
	return append([]byte{}, s...), nil
}

// legacyDecodeBool reads a JSON boolean, or the string "true" or "false"
// (CloudTrail writes mfaAuthenticated as a string).
func legacyDecodeBool(v []byte) (optBool, error) {
	switch string(v) {
	case "true":
		return boolTrue, nil
	case "false":
		return boolFalse, nil
	}
	if len(v) > 0 && v[0] == '"' {
		s, err := legacyDecodeString(v)
		if err != nil {
			return boolNull, err
		}
		switch string(s) {
		case "true":
			return boolTrue, nil
		case "false":
			return boolFalse, nil
		}
		return boolNull, fmt.Errorf("want a boolean, got string %q", truncate(s, 40))
	}
	return boolNull, fmt.Errorf("want a boolean, got %s", jsonKind(v))
}

// legacyValidUTF8 returns p with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as encoding/json does when it decodes a string.
func legacyValidUTF8(p []byte) []byte {
	if utf8.Valid(p) {
		return p
	}
	out := make([]byte, 0, len(p)+8)
	for len(p) > 0 {
		r, n := utf8.DecodeRune(p)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, p[:n]...)
		}
		p = p[n:]
	}
	return out
}

// legacyObjectIter walks the members of the JSON object p from offset i (just
// after the opening brace). It expects valid JSON but stays within p and
// sets bad on anything else.
type legacyObjectIter struct {
	p   []byte
	i   int
	bad bool
}

// next returns the next member's name (quoted, as in p) and value, or
// ok false at the end of the object or on bad input.
func (it *legacyObjectIter) next() (key, val []byte, ok bool) {
	p := it.p
	i := legacySkipSpace(p, it.i)
	if i < len(p) && p[i] == ',' {
		i = legacySkipSpace(p, i+1)
	}
	if i < len(p) && p[i] == '}' {
		return nil, nil, false
	}
	if i >= len(p) || p[i] != '"' {
		it.bad = true
		return nil, nil, false
	}
	ke := legacyStringEnd(p, i)
	if ke < 0 {
		it.bad = true
		return nil, nil, false
	}
	j := legacySkipSpace(p, ke)
	if j >= len(p) || p[j] != ':' {
		it.bad = true
		return nil, nil, false
	}
	j = legacySkipSpace(p, j+1)
	ve := legacyValueEnd(p, j)
	if ve < 0 {
		it.bad = true
		return nil, nil, false
	}
	it.i = ve
	return p[i:ke], p[j:ve], true
}

func legacySkipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// legacyStringEnd returns the offset just after the JSON string starting at p[i],
// or -1.
func legacyStringEnd(p []byte, i int) int {
	for j := i + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// legacyValueEnd returns the offset just after the JSON value starting at p[i],
// or -1.
func legacyValueEnd(p []byte, i int) int {
	if i >= len(p) {
		return -1
	}
	switch p[i] {
	case '"':
		return legacyStringEnd(p, i)
	case '{', '[':
		depth := 0
		for i < len(p) {
			switch p[i] {
			case '"':
				i = legacyStringEnd(p, i)
				if i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	j := i
	for j < len(p) {
		switch p[j] {
		case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
			if j == i {
				return -1
			}
			return j
		}
		j++
	}
	if j == i {
		return -1
	}
	return j
}
