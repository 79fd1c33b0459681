package event

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
type Decoder struct {
	mem            memory.Allocator
	batchSize      int
	maxBatchBytes  int
	maxRecordBytes int

	b     *array.RecordBuilder
	rows  int // rows in b
	bytes int // string bytes in b
	raw   json.RawMessage
	rec   record
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
func (d *Decoder) Decode(r io.Reader, o Origin) (*Result, error) {
	if d.b == nil {
		d.b = array.NewRecordBuilder(d.mem, Schema)
	}
	res := &Result{}
	err := d.decode(r, o, res)
	d.rec = record{} // drop references into the buffers
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

// unexpectedEOF turns the end of input inside a document into
// io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// tokenKind names the JSON type a json.Decoder token starts.
func tokenKind(tok json.Token) string {
	switch tok {
	case json.Delim('{'):
		return "object"
	case json.Delim('['):
		return "array"
	case nil:
		return "null"
	}
	switch tok.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	default:
		return "number"
	}
}

func (d *Decoder) decodeRecords(dec *json.Decoder, o Origin, res *Result) error {
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
func (d *Decoder) flush(res *Result) {
	if d.rows == 0 {
		return
	}
	res.Batches = append(res.Batches, d.b.NewRecordBatch())
	d.rows, d.bytes = 0, 0
}

// reset drops the builder's rows.
func (d *Decoder) reset() {
	if d.rows > 0 {
		d.b.NewRecordBatch().Release()
	}
	d.rows, d.bytes = 0, 0
}

// Release frees the decoder's builders.
func (d *Decoder) Release() {
	if d.b != nil {
		d.b.Release()
		d.b = nil
	}
	d.rows, d.bytes = 0, 0
}

func (d *Decoder) append(o Origin, i int, r *record) {
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
func (d *Decoder) appendOrigin(b array.Builder, s string) {
	sb := b.(*array.StringBuilder)
	if s == "" {
		sb.AppendNull()
		return
	}
	sb.Append(s)
	d.bytes += len(s)
}

// kind is how a column's value is read from its JSON value.
type kind uint8

const (
	kindNone   kind = iota // not from the record
	kindString             // a JSON string or null
	kindID                 // a non-empty JSON string
	kindTime               // an RFC 3339 JSON string
	kindBool               // a JSON boolean, "true", "false" or null
	kindRaw                // any JSON value kept as text; null is NULL
)

// Paths of the JSON objects the schema flattens.
const (
	pathIdentity   = "userIdentity"
	pathSession    = pathIdentity + ".sessionContext"
	pathIssuer     = pathSession + ".sessionIssuer"
	pathAttributes = pathSession + ".attributes"
)

// Slots of record.vals after the columns: the flattened objects.
const (
	slotIdentity = numColumns + iota
	slotSession
	slotIssuer
	slotAttributes
	numSlots
)

// sources says where in a record each column comes from.
var sources = [numColumns]struct {
	path string
	kind kind
}{
	idxEventVersion:             {"eventVersion", kindString},
	idxEventTime:                {"eventTime", kindTime},
	idxEventSource:              {"eventSource", kindString},
	idxEventName:                {"eventName", kindString},
	idxAWSRegion:                {"awsRegion", kindString},
	idxSourceIPAddress:          {"sourceIPAddress", kindString},
	idxUserAgent:                {"userAgent", kindString},
	idxErrorCode:                {"errorCode", kindString},
	idxErrorMessage:             {"errorMessage", kindString},
	idxRequestID:                {"requestID", kindString},
	idxEventID:                  {"eventID", kindID},
	idxEventType:                {"eventType", kindString},
	idxEventCategory:            {"eventCategory", kindString},
	idxRecipientAccountID:       {"recipientAccountId", kindString},
	idxReadOnly:                 {"readOnly", kindBool},
	idxManagementEvent:          {"managementEvent", kindBool},
	idxSharedEventID:            {"sharedEventID", kindString},
	idxVPCEndpointID:            {"vpcEndpointId", kindString},
	idxAPIVersion:               {"apiVersion", kindString},
	idxUserIdentityType:         {pathIdentity + ".type", kindString},
	idxUserIdentityPrincipalID:  {pathIdentity + ".principalId", kindString},
	idxUserIdentityARN:          {pathIdentity + ".arn", kindString},
	idxUserIdentityAccountID:    {pathIdentity + ".accountId", kindString},
	idxUserIdentityAccessKeyID:  {pathIdentity + ".accessKeyId", kindString},
	idxUserIdentityUserName:     {pathIdentity + ".userName", kindString},
	idxUserIdentityInvokedBy:    {pathIdentity + ".invokedBy", kindString},
	idxSessionIssuerType:        {pathIssuer + ".type", kindString},
	idxSessionIssuerPrincipalID: {pathIssuer + ".principalId", kindString},
	idxSessionIssuerARN:         {pathIssuer + ".arn", kindString},
	idxSessionIssuerAccountID:   {pathIssuer + ".accountId", kindString},
	idxSessionIssuerUserName:    {pathIssuer + ".userName", kindString},
	idxMFAAuthenticated:         {pathAttributes + ".mfaAuthenticated", kindBool},
	idxRequestParameters:        {"requestParameters", kindRaw},
	idxResponseElements:         {"responseElements", kindRaw},
	idxAdditionalEventData:      {"additionalEventData", kindRaw},
	idxResources:                {"resources", kindRaw},
	idxServiceEventDetails:      {"serviceEventDetails", kindRaw},
	idxTLSDetails:               {"tlsDetails", kindRaw},
}

// members maps the member names of each object the decoder reads to the
// slots of record.vals they fill: "" is the record itself.
var members = func() map[string]map[string]int {
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

// optBool is a nullable boolean.
type optBool uint8

const (
	boolNull optBool = iota
	boolFalse
	boolTrue
)

// record is one CloudTrail record as far as the schema reads it.
type record struct {
	// vals holds, while parsing, the JSON value of each column and
	// flattened object (nil: absent), then each string column's text
	// (nil: NULL).
	vals  [numSlots][]byte
	bools [numColumns]optBool
	time  int64 // event time, microseconds since the epoch
}

// parse reads raw, one element of Records, which the json.Decoder has found
// to be valid JSON.
func (r *record) parse(raw []byte, maxBytes int) error {
	*r = record{}
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
		if err := r.collect(v, obj.path, members[obj.path]); err != nil {
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
func (r *record) collect(p []byte, path string, fields map[string]int) error {
	if p == nil || isNull(p) {
		return nil
	}
	if p[0] != '{' {
		return fmt.Errorf("field %s: want an object, got %s", path, jsonKind(p))
	}
	it := objectIter{p: p, i: 1}
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
func (r *record) convert(col int) error {
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
		r.vals[col], err = decodeString(v)
	case kindID:
		if null {
			return fmt.Errorf("no %s", src.path)
		}
		r.vals[col], err = decodeString(v)
		if err == nil && len(r.vals[col]) == 0 {
			return fmt.Errorf("empty %s", src.path)
		}
	case kindTime:
		if null {
			return fmt.Errorf("no %s", src.path)
		}
		var s []byte
		if s, err = decodeString(v); err == nil {
			t, perr := time.Parse(time.RFC3339Nano, string(s))
			if perr != nil {
				return fmt.Errorf("%s %q is not RFC 3339", src.path, truncate(s, 64))
			}
			r.time = t.UnixMicro()
		}
	case kindBool:
		if !null {
			r.bools[col], err = decodeBool(v)
		}
	case kindRaw:
		if null {
			r.vals[col] = nil
			return nil
		}
		r.vals[col] = validUTF8(v)
	}
	if err != nil {
		return fmt.Errorf("field %s: %w", src.path, err)
	}
	return nil
}

// decodeString returns the text of the JSON string v, without copying when
// it has no escapes.
func decodeString(v []byte) ([]byte, error) {
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

// decodeBool reads a JSON boolean, or the string "true" or "false"
// (CloudTrail writes mfaAuthenticated as a string).
func decodeBool(v []byte) (optBool, error) {
	switch string(v) {
	case "true":
		return boolTrue, nil
	case "false":
		return boolFalse, nil
	}
	if len(v) > 0 && v[0] == '"' {
		s, err := decodeString(v)
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

// validUTF8 returns p with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as encoding/json does when it decodes a string.
func validUTF8(p []byte) []byte {
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

func truncate(p []byte, n int) string {
	if len(p) > n {
		return string(p[:n]) + "..."
	}
	return string(p)
}

func isNull(v []byte) bool { return string(v) == "null" }

// jsonKind names the JSON type of the value v.
func jsonKind(v []byte) string {
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// objectIter walks the members of the JSON object p from offset i (just
// after the opening brace). It expects valid JSON but stays within p and
// sets bad on anything else.
type objectIter struct {
	p   []byte
	i   int
	bad bool
}

// next returns the next member's name (quoted, as in p) and value, or
// ok false at the end of the object or on bad input.
func (it *objectIter) next() (key, val []byte, ok bool) {
	p := it.p
	i := skipSpace(p, it.i)
	if i < len(p) && p[i] == ',' {
		i = skipSpace(p, i+1)
	}
	if i < len(p) && p[i] == '}' {
		return nil, nil, false
	}
	if i >= len(p) || p[i] != '"' {
		it.bad = true
		return nil, nil, false
	}
	ke := stringEnd(p, i)
	if ke < 0 {
		it.bad = true
		return nil, nil, false
	}
	j := skipSpace(p, ke)
	if j >= len(p) || p[j] != ':' {
		it.bad = true
		return nil, nil, false
	}
	j = skipSpace(p, j+1)
	ve := valueEnd(p, j)
	if ve < 0 {
		it.bad = true
		return nil, nil, false
	}
	it.i = ve
	return p[i:ke], p[j:ve], true
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the offset just after the JSON string starting at p[i],
// or -1.
func stringEnd(p []byte, i int) int {
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

// valueEnd returns the offset just after the JSON value starting at p[i],
// or -1.
func valueEnd(p []byte, i int) int {
	if i >= len(p) {
		return -1
	}
	switch p[i] {
	case '"':
		return stringEnd(p, i)
	case '{', '[':
		depth := 0
		for i < len(p) {
			switch p[i] {
			case '"':
				i = stringEnd(p, i)
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
