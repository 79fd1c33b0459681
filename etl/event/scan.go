package event

import (
	"encoding/binary"
	"math/bits"
)

// This file holds the JSON scanner of the fast path: functions that check
// JSON in place, in a byte slice, without allocating. They accept what
// encoding/json accepts, with its nesting limit, and nothing else
// (FuzzScanner compares them with json.Valid). When they reject a
// document, it is decoded again by the reference path (reference.go),
// which reports the error as encoding/json finds it.
//
// Invariants of every function taking (p, i):
//
//   - p is a document followed by at least padLen NUL bytes. NUL is valid
//     nowhere in JSON (not white space, not in a string, not in a token), so
//     a scan that reaches the padding stops there and fails: no function
//     compares an offset with the document's length.
//   - i is at most the document's length, so p[i] and the padLen bytes
//     from i are in p.
//   - A function returns the offset just after what it read, again at most
//     the document's length, or -1 when p does not hold valid JSON there.
//     Callers check for -1 before using an offset.

// padLen is the number of NUL bytes after a document in the buffer the
// scanner reads: enough for an 8-byte load and a 6-byte escape from any
// offset up to the document's length.
const padLen = 16

// maxDepth is how deeply arrays and objects nest in one value, as
// encoding/json allows; the decoder counts from each record and from each
// member of the document, as its reference path did with a json.Decoder.
const maxDepth = 10000

// Classes of bytes, for table look-ups.
var (
	isSpace [256]bool // JSON white space
	isHex   [256]bool // hexadecimal digits
)

func init() {
	for _, c := range " \t\n\r" {
		isSpace[c] = true
	}
	for _, c := range "0123456789abcdefABCDEF" {
		isHex[c] = true
	}
}

// skipSpace returns the offset of the first byte at or after i that is not
// white space.
func skipSpace(p []byte, i int) int {
	for p[i] <= ' ' && isSpace[p[i]] { // most JSON bytes are above ' '
		i++
	}
	return i
}

// Constants of the word-at-a-time string scan.
const (
	ones  = 0x0101010101010101 // 0x01 in each byte
	highs = 0x8080808080808080 // 0x80 in each byte
)

// stringStops returns a word with the high bit set in each byte of w, read
// little-endian, that stops a run of plain string bytes: a quote, a
// backslash or a control character (below 0x20). The lowest set bit marks
// the first such byte exactly; bits above it may be wrong (the subtractions
// borrow), so callers only use the lowest.
func stringStops(w uint64) uint64 {
	q := w ^ (ones * '"')
	b := w ^ (ones * '\\')
	return ((q-ones)&^q | (b-ones)&^b | (w-ones*0x20)&^w) & highs
}

// scanString reads the JSON string whose opening quote is p[i]. plain says
// the string holds no escape and no byte above 0x7F, so that its text is
// the bytes between the quotes.
func scanString(p []byte, i int) (end int, plain bool) {
	j := i + 1
	var seen uint64 // the bytes read, or'ed: their high bits tell non-ASCII
	escaped := false
	for j+8 <= len(p) { // always true before the padding; see the invariants
		w := binary.LittleEndian.Uint64(p[j:])
		m := stringStops(w)
		if m == 0 {
			seen |= w
			j += 8
			continue
		}
		k := uint(bits.TrailingZeros64(m)) / 8
		seen |= w & (1<<(8*k) - 1)
		j += int(k)
		switch p[j] {
		case '"':
			return j + 1, !escaped && seen&highs == 0
		case '\\':
			n := escapeLen(p, j)
			if n < 0 {
				return -1, false
			}
			j += n
			escaped = true
		default: // a control character, or the padding
			return -1, false
		}
	}
	return -1, false
}

// escapeLen returns the length of the escape sequence whose backslash is
// p[j], or -1 if it is not a JSON escape.
func escapeLen(p []byte, j int) int {
	switch p[j+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if isHex[p[j+2]] && isHex[p[j+3]] && isHex[p[j+4]] && isHex[p[j+5]] {
			return 6
		}
	}
	return -1
}

// digits returns the offset of the first byte at or after i that is not a
// decimal digit.
func digits(p []byte, i int) int {
	for '0' <= p[i] && p[i] <= '9' {
		i++
	}
	return i
}

// scanNumber reads the JSON number at p[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. What follows it is the
// caller's to check.
func scanNumber(p []byte, i int) int {
	if p[i] == '-' {
		i++
	}
	switch {
	case p[i] == '0':
		i++
	case '1' <= p[i] && p[i] <= '9':
		i = digits(p, i+1)
	default:
		return -1
	}
	if p[i] == '.' {
		j := digits(p, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if p[i] == 'e' || p[i] == 'E' {
		i++
		if p[i] == '+' || p[i] == '-' {
			i++
		}
		j := digits(p, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// scanLiteral reads lit (true, false or null) at p[i].
func scanLiteral(p []byte, i int, lit string) int {
	if string(p[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// skipValue reads the JSON value at p[i], which depth arrays and objects
// enclose.
func skipValue(p []byte, i, depth int) int {
	switch p[i] {
	case '"':
		end, _ := scanString(p, i)
		return end
	case '{':
		return skipObject(p, i, depth+1)
	case '[':
		return skipArray(p, i, depth+1)
	case 't':
		return scanLiteral(p, i, "true")
	case 'f':
		return scanLiteral(p, i, "false")
	case 'n':
		return scanLiteral(p, i, "null")
	}
	return scanNumber(p, i)
}

// skipObject reads the JSON object whose brace is p[i] and which is at
// nesting level depth.
func skipObject(p []byte, i, depth int) int {
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
		if i, _ = scanString(p, i); i < 0 {
			return -1
		}
		if i = skipSpace(p, i); p[i] != ':' {
			return -1
		}
		if i = skipValue(p, skipSpace(p, i+1), depth); i < 0 {
			return -1
		}
		var more bool
		if i, more = next(p, i, '}'); !more {
			return i
		}
	}
}

// skipArray reads the JSON array whose bracket is p[i] and which is at
// nesting level depth.
func skipArray(p []byte, i, depth int) int {
	if depth > maxDepth {
		return -1
	}
	i = skipSpace(p, i+1)
	if p[i] == ']' {
		return i + 1
	}
	for {
		if i = skipValue(p, i, depth); i < 0 {
			return -1
		}
		var more bool
		if i, more = next(p, i, ']'); !more {
			return i
		}
	}
}

// next reads what follows an element of an array or object that closing
// ends: a comma, and it returns the offset of the next element and more;
// the closing bracket, and it returns the offset after it; anything else,
// and it returns -1.
func next(p []byte, i int, closing byte) (j int, more bool) {
	i = skipSpace(p, i)
	switch p[i] {
	case ',':
		return skipSpace(p, i+1), true
	case closing:
		return i + 1, false
	}
	return -1, false
}
