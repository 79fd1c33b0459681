package event

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

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

// flattened are the objects the schema flattens, parent before child.
var flattened = [...]struct {
	path string
	slot int
}{{pathIdentity, slotIdentity}, {pathSession, slotSession}, {pathIssuer, slotIssuer}, {pathAttributes, slotAttributes}}

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

// optBool is a nullable boolean.
type optBool uint8

const (
	boolNull optBool = iota
	boolFalse
	boolTrue
)

// span is where a JSON value is in the document being read: p[start:end].
// The zero span is no value (absent, or a NULL column).
type span struct{ start, end int }

// record is one CloudTrail record as far as the schema reads it. Its values
// are spans, not slices, so that storing one costs no write barrier.
type record struct {
	p []byte // the document the spans are in
	// vals holds, while reading, the JSON value of each column and
	// flattened object; after convertAll, the zero span for a NULL column.
	vals [numSlots]span
	// plain says vals[slot] is a JSON string without escapes and non-ASCII
	// bytes: its text is the bytes between the quotes.
	plain   [numSlots]bool
	bools   [numColumns]optBool
	time    int64  // event time, microseconds since the epoch
	scratch []byte // an unescaped string
	name    []byte // the unescaped member name being looked up
}

// reset empties r for a record of p.
func (r *record) reset(p []byte) {
	r.p = p
	r.vals = [numSlots]span{}
	r.plain = [numSlots]bool{}
	r.bools = [numColumns]optBool{}
	r.time = 0
}

// release drops r's reference to the document.
func (r *record) release() { r.p = nil }

// value returns the JSON value in slot, or nil.
func (r *record) value(slot int) []byte {
	v := r.vals[slot]
	if v.end == 0 {
		return nil
	}
	return r.p[v.start:v.end]
}

// read reads the record at p[i], an element of Records; p and i are as the
// scanner's invariants say (scan.go). end is -1 if p is not valid JSON
// there. Otherwise err says why the record is skipped, or is nil and r
// holds the record's values for Decoder.appendRow.
func (r *record) read(p []byte, i, maxBytes int) (end int, err error) {
	r.reset(p)
	if p[i] == '{' {
		end = r.members(p, i, recordNode, 1)
	} else {
		end = skipValue(p, i, 0)
	}
	if end < 0 {
		return -1, nil
	}
	if n := end - i; n > maxBytes {
		return end, fmt.Errorf("record is %d bytes, more than %d", n, maxBytes)
	}
	if p[i] != '{' {
		return end, fmt.Errorf("record is a JSON %s, not an object", jsonKind(p[i:end]))
	}
	return end, r.convertAll()
}

// members reads the JSON object whose brace is p[i], at nesting level
// depth, whose members node n names: it stores their values in r.vals, the
// last of a repeated member winning, and reads the objects they flatten.
func (r *record) members(p []byte, i int, n *node, depth int) int {
	if depth > maxDepth {
		return -1
	}
	i = skipSpace(p, i+1)
	if p[i] == '}' {
		return i + 1
	}
	for {
		if p[i] != '"' {
			return -1
		}
		end, plain := scanString(p, i)
		if end < 0 {
			return -1
		}
		m := n.find(r.memberName(p[i+1:end-1], plain))
		if i = skipSpace(p, end); p[i] != ':' {
			return -1
		}
		if i = r.member(p, skipSpace(p, i+1), m, depth); i < 0 {
			return -1
		}
		var more bool
		if i, more = next(p, i, '}'); !more {
			return i
		}
	}
}

// member reads the value at p[i] of member m (nil: one the schema does not
// read) of an object at nesting level depth.
func (r *record) member(p []byte, i int, m *member, depth int) int {
	if m == nil {
		return skipValue(p, i, depth)
	}
	start := i
	switch {
	case m.child != nil:
		// Only the last of a repeated object counts: forget the members
		// of one read before.
		r.clear(m.child)
		if p[i] == '{' {
			i = r.members(p, i, m.child, depth+1)
		} else {
			i = skipValue(p, i, depth)
		}
		r.plain[m.slot] = false
	case p[i] == '"':
		i, r.plain[m.slot] = scanString(p, i)
	default:
		i = skipValue(p, i, depth)
		r.plain[m.slot] = false
	}
	if i >= 0 {
		r.vals[m.slot] = span{start, i}
	}
	return i
}

// clear forgets the values of the members of n and of the objects below.
func (r *record) clear(n *node) {
	for _, s := range n.slots {
		r.vals[s] = span{}
		r.plain[s] = false
	}
}

// memberName returns the name of a member from the bytes between its
// quotes: those bytes unless they hold an escape.
func (r *record) memberName(key []byte, plain bool) []byte {
	if plain {
		return key
	}
	return r.unescapedName(key)
}

// unescapedName is memberName for a name that is not plain.
func (r *record) unescapedName(key []byte) []byte {
	if bytes.IndexByte(key, '\\') < 0 {
		return key
	}
	r.name = appendUnquoted(r.name[:0], key)
	return r.name
}

// convertAll checks the flattened objects and every column, and reads the
// booleans and the time, in the order that decides which reason a bad
// record gets.
func (r *record) convertAll() error {
	for _, o := range flattened {
		if v := r.value(o.slot); v != nil && !isNull(v) && v[0] != '{' {
			return fmt.Errorf("field %s: want an object, got %s", o.path, jsonKind(v))
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

// convert checks column col's JSON value: it leaves the value of a string
// column that is one, for Decoder.appendRow to decode, sets a NULL one to
// the zero span, and reads a boolean or the time.
func (r *record) convert(col int) error {
	src := sources[col]
	v := r.value(col)
	null := v == nil || isNull(v)
	var err error
	switch src.kind {
	case kindString, kindRaw:
		if null {
			r.vals[col] = span{}
			return nil
		}
		if src.kind == kindString && v[0] != '"' {
			err = wantString(v)
		}
	case kindID:
		if null {
			return fmt.Errorf("no %s", src.path)
		}
		if v[0] != '"' {
			err = wantString(v)
		} else if len(v) == 2 { // "": any escape or byte is some text
			return fmt.Errorf("empty %s", src.path)
		}
	case kindTime:
		if null {
			return fmt.Errorf("no %s", src.path)
		}
		var s []byte
		if s, err = r.text(col); err == nil {
			t, ok := parseTime(s)
			if !ok {
				return fmt.Errorf("%s %q is not RFC 3339", src.path, truncate(s, 64))
			}
			r.time = t
		}
	case kindBool:
		if !null {
			r.bools[col], err = r.decodeBool(v)
		}
	}
	if err != nil {
		return fmt.Errorf("field %s: %w", src.path, err)
	}
	return nil
}

func wantString(v []byte) error {
	return fmt.Errorf("want a string, got %s", jsonKind(v))
}

// text returns the text of the JSON string in slot.
func (r *record) text(slot int) ([]byte, error) {
	v := r.value(slot)
	if r.plain[slot] {
		return v[1 : len(v)-1], nil
	}
	return r.decodeString(v)
}

// decodeString returns the text of the JSON string v, without copying when
// it has no escapes and is valid UTF-8; else unescaped into r.scratch.
func (r *record) decodeString(v []byte) ([]byte, error) {
	if len(v) < 2 || v[0] != '"' {
		return nil, wantString(v)
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return inner, nil
	}
	r.scratch = appendUnquoted(r.scratch[:0], inner)
	return r.scratch, nil
}

// decodeBool reads a JSON boolean, or the string "true" or "false"
// (CloudTrail writes mfaAuthenticated as a string).
func (r *record) decodeBool(v []byte) (optBool, error) {
	switch string(v) {
	case "true":
		return boolTrue, nil
	case "false":
		return boolFalse, nil
	}
	if len(v) > 0 && v[0] == '"' {
		s, err := r.decodeString(v)
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

// appendText appends the text of the JSON string whose bytes between the
// quotes are inner.
func appendText(dst, inner []byte) []byte {
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return append(dst, inner...)
	}
	return appendUnquoted(dst, inner)
}

// parseTime reads an RFC 3339 time as time.Parse with time.RFC3339Nano
// does, in microseconds since the epoch.
func parseTime(s []byte) (int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return 0, false
	}
	return t.UnixMicro(), true
}

// appendUnquoted appends the text of the JSON string whose bytes between
// the quotes are s, which the scanner has checked, as encoding/json
// decodes it: escapes resolved, a \u escape of a lone UTF-16 surrogate and
// each byte that is not part of valid UTF-8 replaced by U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\':
			if s[i+1] == 'u' {
				var n int
				dst, n = appendUnicodeEscape(dst, s[i:])
				i += n
				continue
			}
			dst = append(dst, unescaped[s[i+1]])
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			ru, n := utf8.DecodeRune(s[i:])
			if ru == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+n]...)
			}
			i += n
		}
	}
	return dst
}

// unescaped maps the letter of a one-letter JSON escape to its byte.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// appendUnicodeEscape appends the character of the \u escape that s starts
// with, or of the two that encode a UTF-16 surrogate pair, and returns how
// many bytes of s it read: 6 or 12.
func appendUnicodeEscape(dst, s []byte) ([]byte, int) {
	ru := hex4(s[2:6])
	if !utf16.IsSurrogate(ru) {
		return utf8.AppendRune(dst, ru), 6
	}
	if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
		if pair := utf16.DecodeRune(ru, hex4(s[8:12])); pair != utf8.RuneError {
			return utf8.AppendRune(dst, pair), 12
		}
	}
	return utf8.AppendRune(dst, utf8.RuneError), 6
}

// hex4 returns the value of four hexadecimal digits, or -1.
func hex4(s []byte) rune {
	var v rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		v = v<<4 | rune(c)
	}
	return v
}

// appendValidUTF8 appends p with each byte that is not part of valid
// UTF-8 replaced by U+FFFD, as encoding/json does when it decodes a string.
func appendValidUTF8(dst, p []byte) []byte {
	if utf8.Valid(p) {
		return append(dst, p...)
	}
	for len(p) > 0 {
		r, n := utf8.DecodeRune(p)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, p[:n]...)
		}
		p = p[n:]
	}
	return dst
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

// A node is a JSON object whose members the decoder reads: the record, or
// an object the schema flattens.
type node struct {
	// table holds the members by the hash of their name with seed, taken
	// from the top bits: a name finds its member, if any, at one place.
	table []member
	seed  uint64
	shift uint
	// slots are those of the members, of their members and so on.
	slots []int
}

// member is a member of a node that the schema reads.
type member struct {
	name       string
	head, tail uint64 // nameWords(name)
	slot       int    // in record.vals
	child      *node  // the object the member is, if flattened
}

// find returns the member named name, or nil.
func (n *node) find(name []byte) *member {
	head, tail := nameWords(name)
	m := &n.table[hashName(head, tail, len(name), n.seed)>>n.shift]
	// The words hold the whole of a name of up to 16 bytes.
	if m.head != head || m.tail != tail || len(m.name) != len(name) || len(name) == 0 ||
		len(name) > 16 && m.name[8:len(name)-8] != string(name[8:len(name)-8]) {
		return nil
	}
	return m
}

// nameWords returns the first and last eight bytes of name, little-endian;
// if it is shorter, all of it and 0.
func nameWords(name []byte) (head, tail uint64) {
	if len(name) < 8 {
		for i, c := range name {
			head |= uint64(c) << (8 * i)
		}
		return head, 0
	}
	return binary.LittleEndian.Uint64(name), binary.LittleEndian.Uint64(name[len(name)-8:])
}

// hashName hashes a name, given its words and length, with seed.
func hashName(head, tail uint64, length int, seed uint64) uint64 {
	h := head ^ bits.RotateLeft64(tail, 29) ^ uint64(length)<<56
	return (h ^ h>>31) * (seed<<1 | 1)
}

// recordNode is the record, with the objects it flattens below.
var recordNode = newNodes()

// newNodes builds the nodes of the record and the objects it flattens
// from sources and flattened.
func newNodes() *node {
	type object struct {
		node    *node
		members []member
	}
	objects := map[string]*object{"": {node: &node{}}}
	for _, o := range flattened {
		objects[o.path] = &object{node: &node{}}
	}
	add := func(path string, slot int, child *node) {
		parent, name := "", path
		if i := strings.LastIndexByte(path, '.'); i >= 0 {
			parent, name = path[:i], path[i+1:]
		}
		o := objects[parent]
		o.members = append(o.members, member{name: name, slot: slot, child: child})
	}
	for _, o := range flattened {
		add(o.path, o.slot, objects[o.path].node)
	}
	for col, s := range sources {
		if s.kind != kindNone {
			add(s.path, col, nil)
		}
	}
	for _, o := range objects {
		o.node.place(o.members)
	}
	root := objects[""].node
	root.collectSlots()
	return root
}

// place fills n's table with ms, searching a seed that gives each member a
// place of its own.
func (n *node) place(ms []member) {
	width := uint(2)
	for 1<<width < 4*len(ms) {
		width++
	}
	n.shift = 64 - width
	for seed := uint64(0x9E3779B97F4A7C15); ; seed += 2 {
		if seed > 0x9E3779B97F4A7C15+1<<20 {
			// Names alike in length and first and last eight bytes.
			panic("event: no seed places the members of a node apart")
		}
		table := make([]member, 1<<width)
		ok := true
		for _, m := range ms {
			m.head, m.tail = nameWords([]byte(m.name))
			t := &table[hashName(m.head, m.tail, len(m.name), seed)>>n.shift]
			if t.name != "" {
				ok = false
				break
			}
			*t = m
		}
		if ok {
			n.table, n.seed = table, seed
			return
		}
	}
}

// collectSlots sets the slots of n and of the nodes below, and returns
// n's.
func (n *node) collectSlots() []int {
	n.slots = nil
	for _, m := range n.table {
		if m.name == "" {
			continue
		}
		n.slots = append(n.slots, m.slot)
		if m.child != nil {
			n.slots = append(n.slots, m.child.collectSlots()...)
		}
	}
	return n.slots
}
