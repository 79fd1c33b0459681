package main

// Output of fullstop query and fullstop sql: an aligned table, CSV, a JSON
// array or JSON lines.

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"
)

// queryFormats are the values of --output (-o) besides parquet.
var queryFormats = []string{"table", "csv", "json", "jsonl", "parquet"}

// resultRows is what the output formats read: column names and rows.
type resultRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// maxCellWidth is the widest a table cell is shown; longer values are cut
// with "…" (the other formats give every value whole).
const maxCellWidth = 64

// writeResult writes rows in format to w and returns the number of rows.
// The table format shows at most maxRows rows (0: all) and reports whether
// it cut some.
func writeResult(w io.Writer, format string, cols, types []string, rows resultRows, maxRows int) (n int64, cut bool, err error) {
	bw := bufio.NewWriter(w)
	defer func() {
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
	}()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	next := func() (bool, error) {
		if !rows.Next() {
			return false, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return false, err
		}
		for i, t := range types {
			if tm, ok := vals[i].(time.Time); ok {
				vals[i] = timeValue{tm, t}
			}
		}
		return true, nil
	}
	switch format {
	case "table", "":
		var table [][]string
		for {
			ok, err := next()
			if err != nil {
				return n, cut, err
			}
			if !ok {
				break
			}
			n++
			if maxRows > 0 && len(table) >= maxRows {
				cut = true
				continue
			}
			r := make([]string, len(cols))
			for i, v := range vals {
				r[i] = cellText(v)
			}
			table = append(table, r)
		}
		printAligned(bw, cols, table)
	case "csv":
		cw := csv.NewWriter(bw)
		if err := cw.Write(cols); err != nil {
			return 0, false, err
		}
		rec := make([]string, len(cols))
		for {
			ok, err := next()
			if err != nil || !ok {
				cw.Flush()
				return n, false, cmpErr(err, cw.Error())
			}
			n++
			for i, v := range vals {
				if v == nil {
					rec[i] = ""
				} else {
					rec[i] = text(v)
				}
			}
			if err := cw.Write(rec); err != nil {
				return n, false, err
			}
		}
	case "json", "jsonl":
		if format == "json" {
			bw.WriteString("[")
		}
		for {
			ok, err := next()
			if err != nil {
				return n, false, err
			}
			if !ok {
				break
			}
			if format == "json" && n > 0 {
				bw.WriteString(",")
			}
			if format == "json" {
				bw.WriteString("\n  ")
			}
			n++
			bw.WriteString("{")
			for i, c := range cols {
				if i > 0 {
					bw.WriteString(",")
				}
				k, _ := json.Marshal(c)
				bw.Write(k)
				bw.WriteString(":")
				b, err := json.Marshal(jsonValue(vals[i]))
				if err != nil {
					b, _ = json.Marshal(text(vals[i]))
				}
				bw.Write(b)
			}
			bw.WriteString("}")
			if format == "jsonl" {
				bw.WriteString("\n")
			}
		}
		if format == "json" {
			if n > 0 {
				bw.WriteString("\n")
			}
			bw.WriteString("]\n")
		}
	default:
		return 0, false, usagef("--output: %q is not one of %s", format, strings.Join(queryFormats, ", "))
	}
	return n, cut, nil
}

// timeValue is a DATE, TIME or TIMESTAMP value with its DuckDB type,
// which decides how it is written.
type timeValue struct {
	t  time.Time
	ty string
}

func (v timeValue) String() string {
	switch v.ty {
	case "DATE":
		return v.t.Format(time.DateOnly)
	case "TIME":
		return v.t.Format("15:04:05.999999")
	case "TIMESTAMP":
		return v.t.Format("2006-01-02T15:04:05.999999")
	}
	return v.t.UTC().Format(time.RFC3339Nano)
}

// countOf says "1 row", "2 rows": n and the noun, plural unless n is 1.
func countOf(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func cmpErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// text is a value as text: times in RFC 3339 (UTC), lists and structs as
// JSON, everything else as Go prints it.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case timeValue:
		return x.String()
	case *big.Int:
		return x.String()
	case []any, map[string]any:
		b, err := json.Marshal(jsonValue(x))
		if err == nil {
			return string(b)
		}
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprint(v)
}

// jsonValue is a value as encoding/json should write it.
func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case timeValue:
		return x.String()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	case nil, string, bool, int, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64:
		return x
	case *big.Int:
		return json.Number(x.String())
	}
	if s, ok := v.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprint(v)
}

// cellText is a value as a table cell: NULL for nil, on one line, cut to
// maxCellWidth.
func cellText(v any) string {
	if v == nil {
		return "NULL"
	}
	s := strings.Join(strings.Fields(text(v)), " ")
	if utf8.RuneCountInString(s) > maxCellWidth {
		r := []rune(s)
		s = string(r[:maxCellWidth-1]) + "…"
	}
	return s
}

// printAligned prints a header, a rule and the rows, in columns as wide as
// their widest cell.
func printAligned(w *bufio.Writer, cols []string, rows [][]string) {
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = utf8.RuneCountInString(c)
	}
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string) {
		for i, c := range cells {
			if i > 0 {
				w.WriteString("  ")
			}
			w.WriteString(c)
			if i < len(cells)-1 {
				w.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(c)))
			}
		}
		w.WriteString("\n")
	}
	line(cols)
	rule := make([]string, len(cols))
	for i := range cols {
		rule[i] = strings.Repeat("-", width[i])
	}
	line(rule)
	for _, r := range rows {
		line(r)
	}
}
