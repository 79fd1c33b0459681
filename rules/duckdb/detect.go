//go:build duckdb_arrow

package duckdb

// The Go fast path: rules with a rules.Detector (compiled Sigma rules)
// are decided event by event on the Arrow batches, before anything is
// loaded into DuckDB, and only the events the other rules read are
// loaded. An event a detector cannot decide (rules.ErrUndecided) sends
// the whole evaluation back to the queries.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/fullstop-audit/fullstop/rules"
)

// detection dispatches events to the detectors that may match them, by
// the rules' declared sources and events, or only-columns.
type detection struct {
	rules    []rules.Rule
	bySource map[string][]int // lower-case source → indexes in rules
	only     []int            // rules with OnlyColumn
	any      []int            // rules that may match any event
	onlyCol  []int            // by rule: index of OnlyColumn in the input schema
}

func newDetection(rs []rules.Rule, schema *arrow.Schema) *detection {
	d := &detection{rules: rs, bySource: map[string][]int{}, onlyCol: make([]int, len(rs))}
	for i, r := range rs {
		switch {
		case len(r.Sources) > 0:
			for _, s := range r.Sources {
				s = strings.ToLower(s)
				if !slices.Contains(d.bySource[s], i) {
					d.bySource[s] = append(d.bySource[s], i)
				}
			}
		case r.OnlyColumn != "":
			idx := schema.FieldIndices(r.OnlyColumn)
			if len(idx) != 1 || schema.Field(idx[0]).Type.ID() != arrow.STRING {
				d.any = append(d.any, i)
				continue
			}
			d.onlyCol[i] = idx[0]
			d.only = append(d.only, i)
		default:
			d.any = append(d.any, i)
		}
	}
	return d
}

// detect runs the detectors over every event of batches. It returns
// rules.ErrUndecided as soon as one detector cannot decide an event.
func (e *Engine) detect(ctx context.Context, batches []arrow.RecordBatch) ([]rules.Violation, error) {
	d := e.detection
	srcCol := e.input.FieldIndices(ColEventSource)[0]
	nameCol := e.input.FieldIndices(ColEventName)[0]
	var out []rules.Violation
	dropped := map[string]int{}
	ev := &arrowEvent{index: e.inputIndex}
	var cand []int
	bySourceName := map[[2]string][]int{}
	var matches []rules.Violation // of correlation rules, without meta_info
	at := map[matchKey]matchAt{}
	for bi, b := range batches {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ev.reset(b)
		src, nm := ev.strs[srcCol], ev.strs[nameCol]
		if src == nil || nm == nil {
			return nil, fmt.Errorf("detect: columns %s and %s must be strings", ColEventSource, ColEventName)
		}
		for row := range int(b.NumRows()) {
			cand = cand[:0]
			if src.IsValid(row) {
				// The rules for a source and name, worked out once a call.
				k := [2]string{src.Value(row), nm.Value(row)}
				rs, ok := bySourceName[k]
				if !ok {
					for _, i := range d.bySource[strings.ToLower(k[0])] {
						if names(d.rules[i].Events, k[1]) {
							rs = append(rs, i)
						}
					}
					bySourceName[k] = rs
				}
				cand = append(cand, rs...)
			}
			cand = append(cand, d.any...)
			for _, i := range d.only {
				c := ev.strs[d.onlyCol[i]] // a string column: newDetection checked it
				if c.IsValid(row) && slices.ContainsFunc(d.rules[i].OnlyValues, func(v string) bool { return strings.EqualFold(v, c.Value(row)) }) {
					cand = append(cand, i)
				}
			}
			if len(cand) == 0 {
				continue
			}
			ev.row, ev.docs = row, ev.docs[:0]
			for _, i := range cand {
				r := d.rules[i]
				if md, isMatch := r.Detector.(rules.MatchDetector); isMatch && r.Correlation != nil {
					m, ok, err := md.DetectMatch(ev)
					if err != nil {
						return nil, fmt.Errorf("rule %q: %w", r.File, err)
					}
					if !ok {
						continue
					}
					if m.EventID == "" || m.AccountID == "" {
						dropped[r.File]++
						continue
					}
					m.Type, m.Rule, m.Correlation = r.Type, r.File, r.Correlation
					if k := (matchKey{m.Key(), m.ObjectKey}); at[k] == (matchAt{}) {
						// The same event twice in one object is one
						// detection, as distinct keeps it.
						at[k] = matchAt{rule: i + 1, batch: bi, row: row}
						matches = append(matches, m)
					}
					continue
				}
				v, ok, err := r.Detector.Detect(ev)
				if err != nil {
					return nil, fmt.Errorf("rule %q: %w", r.File, err)
				}
				if !ok {
					continue
				}
				if v.EventID == "" || v.AccountID == "" {
					dropped[r.File]++
					continue
				}
				v.Type, v.Rule, v.Correlation = r.Type, r.File, r.Correlation
				out = append(out, detached(v))
			}
		}
	}
	// The matches of correlation rules: the earliest of each window and
	// object (rules.Tally), with its meta_info, counting the others.
	for _, t := range rules.Tally(matches) {
		p := at[matchKey{t.Key(), t.ObjectKey}]
		ev.reset(batches[p.batch])
		ev.row = p.row
		r := d.rules[p.rule-1]
		v, ok, err := r.Detector.Detect(ev)
		if err != nil {
			return nil, fmt.Errorf("rule %q: %w", r.File, err)
		}
		if !ok {
			return nil, fmt.Errorf("rule %q: event %q: matched, then did not", r.File, t.EventID)
		}
		v.Type, v.Rule, v.Correlation, v.Matches = r.Type, r.File, r.Correlation, t.Matches
		out = append(out, detached(v))
	}
	e.warnDropped(ctx, dropped)
	return out, nil
}

// detached is v with its own copies of the event's strings. They are the
// batch's memory: a violation that kept them would keep the whole batch
// alive until its commit (and the batches belong to the caller). MetaInfo
// is new text already.
func detached(v rules.Violation) rules.Violation {
	for _, f := range []*string{&v.EventID, &v.AccountID, &v.Region, &v.InstanceID, &v.Username, &v.ObjectKey} {
		*f = strings.Clone(*f)
	}
	return v
}

// matchKey is a correlation match's identity and object.
type matchKey struct {
	id     [5]string
	object string
}

// matchAt is where in the batches a match's event is: its rule (index in
// detection.rules plus one, so the zero value is no match), batch and row.
type matchAt struct{ rule, batch, row int }

// arrowEvent is one row of an event batch as a rules.Event.
type arrowEvent struct {
	index map[string]int // column name → index in the input schema
	b     arrow.RecordBatch
	strs  []*array.String // the batch's string columns by index; nil for others
	row   int
	docs  []jsonDoc // the JSON columns read for this row
}

func (ev *arrowEvent) reset(b arrow.RecordBatch) {
	ev.b, ev.docs = b, ev.docs[:0]
	ev.strs = ev.strs[:0]
	for _, c := range b.Columns() {
		s, _ := c.(*array.String)
		ev.strs = append(ev.strs, s)
	}
}

func (ev *arrowEvent) Text(column string) (string, bool) {
	i, ok := ev.index[column]
	if !ok || ev.strs[i] == nil || ev.strs[i].IsNull(ev.row) {
		return "", false
	}
	return ev.strs[i].Value(ev.row), true
}

func (ev *arrowEvent) Time(column string) (time.Time, bool) {
	i, ok := ev.index[column]
	if !ok {
		return time.Time{}, false
	}
	c, ok := ev.b.Column(i).(*array.Timestamp)
	if !ok || c.IsNull(ev.row) {
		return time.Time{}, false
	}
	unit := c.DataType().(*arrow.TimestampType).Unit
	return c.Value(ev.row).ToTime(unit), true
}

func (ev *arrowEvent) JSONText(column string, path []string) (string, bool, error) {
	var doc *jsonDoc
	for i := range ev.docs {
		if ev.docs[i].column == column {
			doc = &ev.docs[i]
		}
	}
	if doc == nil {
		s, ok := ev.Text(column)
		if len(ev.docs) < cap(ev.docs) {
			ev.docs = ev.docs[:len(ev.docs)+1] // reuse its members
		} else {
			ev.docs = append(ev.docs, jsonDoc{})
		}
		doc = &ev.docs[len(ev.docs)-1]
		doc.reset(column, s, ok)
	}
	if len(path) == 0 {
		switch {
		case doc.null:
			return "", false, nil
		case !doc.valid: // NULL for try_cast, if DuckDB reads it as Go does
			return "", false, errDuckDBJSON
		}
		return doc.text, true, nil
	}
	return doc.extract(path)
}

// errDuckDBJSON: DuckDB's JSON functions would fail or give text the Go
// copy does not reproduce.
var errDuckDBJSON = fmt.Errorf("JSON that only DuckDB reads exactly: %w", rules.ErrUndecided)

// jsonDoc is a JSON column's text, read as DuckDB's JSON functions read
// it: json_extract_string(column, '$.a.b').
type jsonDoc struct {
	column  string
	text    string
	null    bool
	valid   bool
	indexed bool
	members []jsonMember // of the top-level object, first of each key
}

type jsonMember struct{ key, value string }

func (d *jsonDoc) reset(column, s string, ok bool) {
	*d = jsonDoc{column: column, text: s, null: !ok, valid: ok && jsonValid(s), members: d.members[:0]}
}

// extract is json_extract_string(doc, '$.' + path joined with dots).
func (d *jsonDoc) extract(path []string) (string, bool, error) {
	if d.null {
		return "", false, nil
	}
	if !d.valid {
		return "", false, errDuckDBJSON // DuckDB: malformed JSON, an error
	}
	if !d.indexed {
		d.indexed = true
		if v := strings.TrimSpace(d.text); v != "" && v[0] == '{' {
			var err error
			if d.members, err = members(v, d.members[:0]); err != nil {
				return "", false, err
			}
		}
	}
	i := slices.IndexFunc(d.members, func(m jsonMember) bool { return m.key == path[0] })
	if i < 0 {
		return "", false, nil // not an object, or no such member
	}
	v := d.members[i].value
	for _, key := range path[1:] {
		if v[0] != '{' {
			return "", false, nil
		}
		m, found, err := member(v, key)
		if err != nil || !found {
			return "", false, err
		}
		v = m
	}
	return scalarText(v)
}

// scalarText is the text json_extract_string gives for a JSON value.
func scalarText(v string) (string, bool, error) {
	switch {
	case v == "null":
		return "", false, nil
	case v == "true" || v == "false":
		return v, true, nil
	case v[0] == '"':
		s, err := unquote(v)
		return s, err == nil, err
	case isInteger(v):
		return v, true, nil
	}
	return "", true, errDuckDBJSON // an object, an array or a fraction: DuckDB writes its own text
}

// isInteger: an integer literal DuckDB reads as a 64-bit integer and
// writes back the same.
func isInteger(v string) bool {
	s := strings.TrimPrefix(v, "-")
	if s == "" || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	return strings.Trim(s, "0123456789") == "" && v != "-0"
}

// errBadJSON is a parse failure in text jsonValid accepted: a bug.
var errBadJSON = errors.New("JSON scanner: unexpected text")
