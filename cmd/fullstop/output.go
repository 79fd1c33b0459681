package main

// Output formatting of the command-line client, as the reference CLI
// (stups-fullstop with clickclick.print_table) prints tables: text, json
// and tsv (reference-behaviour §9.1, meta_info formatting §9.2).

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// column is one column of a table: key is the JSON key and the tsv header;
// title is the text header (default: the key title-cased with "_" → " ",
// e.g. "account_id" → "Account Id").
type column struct{ key, title string }

// row is a record: key → value. Values are string, int64 (or another
// integer), float64, bool, nil, time.Time (keys ending in _time), or any
// JSON value for meta_info.
type row map[string]any

// tableOptions: now is the reference time for ages; tty says whether the
// writer is a terminal; colour is used only on a terminal without noColor
// (NO_COLOR set).
type tableOptions struct {
	now          time.Time
	tty, noColor bool
}

// The ANSI sequences of the text table.
const (
	ansiBold      = "\x1b[1m"
	ansiGreen     = "\x1b[32m"
	ansiGreenBold = "\x1b[32m\x1b[1m"
	ansiReset     = "\x1b[0m"
)

// printTable writes rows in format ("text", "json" or "tsv") to w.
func printTable(w io.Writer, format string, cols []column, rows []row, opts tableOptions) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "text", "":
		printText(bw, cols, rows, opts)
	case "json":
		err = printJSON(bw, cols, rows)
	case "tsv":
		printTSV(bw, cols, rows, opts)
	default:
		return fmt.Errorf("unknown output format %q (want text, json or tsv)", format)
	}
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func (c column) header() string {
	if c.title != "" {
		return c.title
	}
	return pyTitle(strings.ReplaceAll(c.key, "_", " "))
}

// pyTitle is Python's str.title: a letter after a letter is lower-cased,
// any other letter upper-cased.
func pyTitle(s string) string {
	var b strings.Builder
	prevLetter := false
	for _, r := range s {
		if unicode.IsLetter(r) {
			if prevLetter {
				r = unicode.ToLower(r)
			} else {
				r = unicode.ToTitle(r)
			}
			prevLetter = true
		} else {
			prevLetter = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cellBreaks replaces the line breaks and tabs of a cell with spaces.
var cellBreaks = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ")

// formatCell is the text/tsv form of a value (clickclick's format).
func formatCell(key string, v any, now time.Time) string {
	var s string
	switch x := v.(type) {
	case nil:
		s = ""
	case time.Time:
		if strings.HasSuffix(key, "_time") {
			s = formatAge(x, now)
		} else {
			s = x.UTC().Format(time.RFC3339)
		}
	case bool:
		if x {
			s = "yes"
		} else {
			s = "no"
		}
	case string:
		if key == "meta_info" {
			s = formatMeta(x)
		} else {
			s = x
		}
	case float64:
		s = pyFloatRepr(x)
	case float32:
		s = pyFloatRepr(float64(x))
	case json.Number, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		s = fmt.Sprint(x)
	case fmt.Stringer:
		s = x.String()
	default:
		s = formatMeta(x)
	}
	return cellBreaks.Replace(s)
}

func isNumber(v any) bool {
	switch v.(type) {
	case float64, float32, json.Number, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	}
	return false
}

func printText(w *bufio.Writer, cols []column, rows []row, opts tableOptions) {
	colour := opts.tty && !opts.noColor
	cells := make([][]string, len(rows))
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = utf8.RuneCountInString(c.header())
	}
	for r, rw := range rows {
		cells[r] = make([]string, len(cols))
		for i, c := range cols {
			s := formatCell(c.key, rw[c.key], opts.now)
			cells[r][i] = s
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	var line strings.Builder
	for i, c := range cols {
		if i > 0 {
			line.WriteString("  ")
		}
		line.WriteString(pad(c.header(), widths[i], false))
	}
	head := strings.TrimRight(line.String(), " ")
	if colour {
		head = ansiBold + head + ansiReset
	}
	w.WriteString(head)
	w.WriteByte('\n')
	for r, rw := range rows {
		line.Reset()
		for i, c := range cols {
			v := rw[c.key]
			t, isTime := v.(time.Time)
			isTime = isTime && strings.HasSuffix(c.key, "_time")
			right := isTime || isNumber(v)
			cell := pad(cells[r][i], widths[i], right)
			if i == len(cols)-1 {
				cell = strings.TrimRight(cell, " ")
			}
			if colour && isTime && !t.IsZero() && t.Unix() != 0 {
				if age := opts.now.Sub(t); age < 15*time.Minute {
					cell = ansiGreenBold + cell + ansiReset
				} else if age < time.Hour {
					cell = ansiGreen + cell + ansiReset
				}
			}
			if i > 0 {
				line.WriteString("  ")
			}
			line.WriteString(cell)
		}
		w.WriteString(strings.TrimRight(line.String(), " "))
		w.WriteByte('\n')
	}
}

func pad(s string, width int, right bool) string {
	n := width - utf8.RuneCountInString(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}

func printTSV(w *bufio.Writer, cols []column, rows []row, opts tableOptions) {
	for i, c := range cols {
		if i > 0 {
			w.WriteByte('\t')
		}
		w.WriteString(c.key)
	}
	w.WriteByte('\n')
	for _, rw := range rows {
		for i, c := range cols {
			if i > 0 {
				w.WriteByte('\t')
			}
			w.WriteString(formatCell(c.key, rw[c.key], opts.now))
		}
		w.WriteByte('\n')
	}
}

// printJSON writes one array of objects holding exactly the listed
// columns (a missing value is null), keys sorted, times as epoch seconds.
func printJSON(w *bufio.Writer, cols []column, rows []row) error {
	out := make([]map[string]any, 0, len(rows))
	for _, rw := range rows {
		o := make(map[string]any, len(cols))
		for _, c := range cols {
			v := rw[c.key]
			if t, ok := v.(time.Time); ok {
				v = t.Unix()
			}
			o[c.key] = v
		}
		out = append(out, o)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}

// formatAge renders t relative to now as the reference does: "Ns ago" up
// to 70 s, "Nm ago" up to an hour, "Nh ago" up to 49 h, then "Nd ago". The
// number is the age in the unit rounded half to even, as Python's
// '{:.0f}'.format. A time in the future is "0s ago"; the zero time (and
// the epoch, the reference's 0) is empty.
func formatAge(t, now time.Time) string {
	if t.IsZero() || t.Unix() == 0 && t.Nanosecond() == 0 {
		return ""
	}
	s := now.Sub(t).Seconds()
	if s < 0 {
		s = 0
	}
	var n float64
	var unit string
	switch {
	case s > 49*3600:
		n, unit = s/(24*3600), "d"
	case s > 3600:
		n, unit = s/3600, "h"
	case s > 70:
		n, unit = s/60, "m"
	default:
		n, unit = s, "s"
	}
	return strconv.FormatFloat(math.RoundToEven(n), 'f', 0, 64) + unit + " ago"
}

// formatMeta renders a meta_info value as the reference does: a string as
// it is; nothing (nil, false, 0, empty) as empty; an object loses the keys
// application_id and application_version and is written as YAML flow style
// with its braces stripped ("ami_id: ami-1, ami_name: foo"); anything else
// as YAML flow style ("[a, b]").
func formatMeta(v any) string {
	v = plainJSON(v)
	if metaEmpty(v) {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	if m, ok := v.(map[string]any); ok {
		c := make(map[string]any, len(m))
		for k, x := range m {
			if k != "application_id" && k != "application_version" {
				c[k] = x
			}
		}
		v = c
	}
	var b strings.Builder
	yamlFlow(&b, v)
	s := b.String()
	if _, ok := v.(map[string]any); ok {
		s = strings.TrimPrefix(strings.TrimSuffix(s, "}"), "{")
	}
	return strings.ReplaceAll(strings.TrimSpace(s), "\n", ", ")
}

// metaEmpty is Python's "not meta_info".
func metaEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case bool:
		return !x
	case float64:
		return x == 0
	case json.Number:
		f, err := x.Float64()
		return err == nil && f == 0
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

// plainJSON turns a value of any other Go type (typed maps, slices,
// structs, integers) into what encoding/json decodes (with UseNumber).
func plainJSON(v any) any {
	switch v.(type) {
	case nil, string, bool, float64, json.Number, map[string]any, []any:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out any
	if err := d.Decode(&out); err != nil {
		return fmt.Sprint(v)
	}
	return out
}

// yamlFlow writes v as PyYAML's safe_dump writes it in flow style: keys
// sorted, strings plain when that reads back as the same string, else
// single-quoted, or double-quoted with escapes when they hold characters
// other than printable ASCII.
func yamlFlow(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case string:
		b.WriteString(yamlScalar(x))
	case float64:
		b.WriteString(yamlFloat(x))
	case json.Number:
		s := x.String()
		if strings.ContainsAny(s, ".eE") {
			f, err := x.Float64()
			if err == nil {
				s = yamlFloat(f)
			}
		}
		b.WriteString(s)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			yamlFlow(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(yamlScalar(k))
			b.WriteString(": ")
			yamlFlow(b, x[k])
		}
		b.WriteByte('}')
	default:
		yamlFlow(b, plainJSON(v))
	}
}

// yamlFloat is PyYAML's represent_float. A float64 holding an integer is
// written as one: JSON decoded without UseNumber loses the difference
// between 1 and 1.0, and the reference (Python's json) keeps 1 an int.
func yamlFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case f == math.Trunc(f) && math.Abs(f) < 1<<53:
		return strconv.FormatInt(int64(f), 10)
	}
	s := strings.ToLower(pyFloatRepr(f))
	if !strings.Contains(s, ".") && strings.Contains(s, "e") {
		s = strings.Replace(s, "e", ".0e", 1)
	}
	return s
}

// pyFloatRepr is Python's repr of a float: the shortest digits, fixed
// notation for decimal exponents -4 up to 15, else scientific (1e+16).
func pyFloatRepr(f float64) string {
	if math.IsNaN(f) {
		return "nan"
	}
	if math.IsInf(f, 0) {
		if f > 0 {
			return "inf"
		}
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// The implicit resolvers of PyYAML (YAML 1.1): a plain scalar matching one
// of them would read back as something other than a string.
var yamlImplicit = regexp.MustCompile(`^(?:` +
	`yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF` + // bool
	`|[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?` + // float
	`|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)` +
	`|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+` + // int
	`|<<|~|null|Null|NULL|=` + // merge, null, value
	`|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]` + // timestamp
	`|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?` +
	`)$`)

// yamlScalar is a string as PyYAML (3.x emitter, allow_unicode off) writes
// it in a flow collection.
func yamlScalar(s string) string {
	if s == "" || yamlImplicit.MatchString(s) {
		return singleQuoted(s)
	}
	rs := []rune(s)
	special, breaks, indicators := false, false, false
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		indicators = true
	}
	for i, r := range rs {
		followedBySpace := i+1 == len(rs) || strings.ContainsRune(" \t\r\n\u0085\u2028\u2029", rs[i+1])
		if i == 0 {
			if strings.ContainsRune("#,[]{}&*!|>'\"%@`?:", r) || r == '-' && followedBySpace {
				indicators = true
			}
		} else {
			if strings.ContainsRune(",?[]{}:", r) || r == '#' && strings.ContainsRune(" \t\r\n\u0085\u2028\u2029", rs[i-1]) {
				indicators = true
			}
		}
		if strings.ContainsRune("\n\u0085\u2028\u2029", r) {
			breaks = true
		}
		if r != '\n' && (r < 0x20 || r > 0x7e) {
			special = true
		}
	}
	if special || breaks {
		return doubleQuoted(s)
	}
	if indicators || rs[0] == ' ' || rs[len(rs)-1] == ' ' {
		return singleQuoted(s)
	}
	return s
}

func singleQuoted(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

var yamlEscapes = map[rune]string{
	0: `\0`, 7: `\a`, 8: `\b`, 9: `\t`, 10: `\n`, 11: `\v`, 12: `\f`, 13: `\r`, 27: `\e`,
	'"': `\"`, '\\': `\\`, 0x85: `\N`, 0xa0: `\_`, 0x2028: `\L`, 0x2029: `\P`,
}

func doubleQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch e, ok := yamlEscapes[r]; {
		case ok:
			b.WriteString(e)
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02X`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\U%08X`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
