package api

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// kind is the type of a parameter, as parsed and as documented.
type kind int

const (
	kindString   kind = iota
	kindInt           // a 64-bit integer
	kindBool          // true/false (also 1/0, yes/no, on/off)
	kindTime          // an ISO 8601 date-time (or a date: its midnight UTC)
	kindList          // strings, comma-separated or repeated
	kindSort          // property[,asc|desc], repeatable
	kindPageSize      // 1..maxPageSize
	kindPage          // 0-based page number
)

// param declares a query or path parameter of a route: the handler reads
// it, and the OpenAPI document describes it, from this one declaration.
type param struct {
	name     string
	in       string // "query" or "path"
	kind     kind
	desc     string
	enum     []string // the allowed values of a kindString, if limited
	def      string   // documented default
	required bool
	int32    bool // a kindInt that must fit a 32-bit column
}

// Paging limits.
const (
	defaultPageSize = 10
	maxPageSize     = 1000
)

// args are a request's parameters, parsed as their route declares them.
type args struct {
	strs  map[string]string
	lists map[string][]string
	ints  map[string]int64
	bools map[string]bool
	times map[string]time.Time
	sorts []sortOrder
}

// sortOrder is one property of a sort parameter.
type sortOrder struct {
	property string
	desc     bool
}

// str returns a string parameter, "" when absent.
func (a *args) str(name string) string { return a.strs[name] }

// list returns a list parameter, nil when absent.
func (a *args) list(name string) []string { return a.lists[name] }

// integer returns an integer parameter and whether it was given.
func (a *args) integer(name string) (int64, bool) { v, ok := a.ints[name]; return v, ok }

// boolean returns a boolean parameter and whether it was given.
func (a *args) boolean(name string) (bool, bool) { v, ok := a.bools[name]; return v, ok }

// instant returns a time parameter and whether it was given.
func (a *args) instant(name string) (time.Time, bool) { v, ok := a.times[name]; return v, ok }

// parseArgs parses the parameters ps of r. Parameters not declared are
// ignored, as in the reference; a declared one with a malformed value is a
// 400 naming it.
func parseArgs(r *http.Request, ps []param) (*args, error) {
	return parseValues(r.URL.Query(), r.PathValue, ps)
}

// parseValues parses the declared parameters ps from query and path.
func parseValues(query url.Values, path func(string) string, ps []param) (*args, error) {
	a := &args{strs: map[string]string{}, lists: map[string][]string{}, ints: map[string]int64{},
		bools: map[string]bool{}, times: map[string]time.Time{}}
	for _, p := range ps {
		var vals []string
		if p.in == "path" {
			if v := path(p.name); v != "" {
				vals = []string{v}
			}
		} else {
			vals = query[p.name]
		}
		if len(vals) == 0 {
			if p.required {
				return nil, badParam(p.in, p.name, "", "is required")
			}
			continue
		}
		for _, raw := range vals {
			if !utf8.ValidString(raw) || strings.ContainsRune(raw, 0) {
				return nil, badParam(p.in, p.name, strings.ToValidUTF8(strings.ReplaceAll(raw, "\x00", ""), "?"), "must be UTF-8 text without NUL characters")
			}
		}
		// A single-valued parameter given twice takes its first value, as
		// Spring does.
		v := strings.TrimSpace(vals[0])
		switch p.kind {
		case kindString:
			if v == "" && len(p.enum) > 0 {
				continue // an empty choice is no choice
			}
			if len(p.enum) > 0 && !contains(p.enum, v) {
				return nil, badParam(p.in, p.name, v, "must be one of "+strings.Join(p.enum, ", "))
			}
			a.strs[p.name] = v
		case kindList:
			var out []string
			for _, raw := range vals {
				for _, s := range strings.Split(raw, ",") {
					if s = strings.TrimSpace(s); s != "" {
						out = append(out, s)
					}
				}
			}
			if len(out) > 0 {
				a.lists[p.name] = out
			}
		case kindInt, kindPage, kindPageSize:
			if v == "" {
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, badParam(p.in, p.name, v, "must be an integer")
			}
			switch {
			case p.int32 && (n < math.MinInt32 || n > math.MaxInt32):
				return nil, badParam(p.in, p.name, v, "must be a 32-bit integer")
			case p.kind == kindPage && n < 0:
				return nil, badParam(p.in, p.name, v, "must be 0 or more")
			case p.kind == kindPageSize && (n < 1 || n > maxPageSize):
				return nil, badParam(p.in, p.name, v, "must be between 1 and "+strconv.Itoa(maxPageSize))
			}
			a.ints[p.name] = n
		case kindBool:
			if v == "" {
				continue
			}
			b, ok := parseBool(v)
			if !ok {
				return nil, badParam(p.in, p.name, v, "must be true or false")
			}
			a.bools[p.name] = b
		case kindTime:
			if v == "" {
				continue
			}
			t, ok := parseTime(v)
			if !ok {
				return nil, badParam(p.in, p.name, v, "must be an ISO 8601 date-time such as 2015-05-21T10:24:47.788Z")
			}
			a.times[p.name] = t
		case kindSort:
			for _, raw := range vals {
				orders, err := parseSort(raw)
				if err != nil {
					return nil, badParam(p.in, p.name, raw, err.Error())
				}
				a.sorts = append(a.sorts, orders...)
			}
		}
	}
	return a, nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// parseBool accepts what Spring's conversion accepts.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// timeLayouts are the accepted forms of a date-time; without a zone it is
// UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTime parses an ISO 8601 date-time.
func parseTime(v string) (time.Time, bool) {
	// A "+" of an offset arrives as a space when the client did not escape it.
	v = strings.Replace(v, " ", "+", 1)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// sortError says what is wrong with a sort parameter.
type sortError string

func (e sortError) Error() string { return string(e) }

// parseSort parses one sort value as Spring does: properties separated by
// commas, the last element optionally asc or desc, applying to all of them.
// An empty value sorts by nothing.
func parseSort(v string) ([]sortOrder, error) {
	parts := strings.Split(v, ",")
	desc, directed := false, false
	if last := strings.ToLower(strings.TrimSpace(parts[len(parts)-1])); isDirection(last) {
		desc, directed = last == "desc", true
		parts = parts[:len(parts)-1]
	}
	var out []sortOrder
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if isDirection(p) {
			return nil, sortError("a direction (asc or desc) must follow a property")
		}
		out = append(out, sortOrder{property: p, desc: desc})
	}
	if directed && len(out) == 0 {
		return nil, sortError("a direction (asc or desc) must follow a property")
	}
	return out, nil
}

func isDirection(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	return s == "asc" || s == "desc"
}

// offsetOf returns the offset of a page, or false when it does not fit.
func offsetOf(page, size int64) (int, bool) {
	if page > math.MaxInt32 || page*size > math.MaxInt32*int64(maxPageSize) {
		return 0, false
	}
	return int(page * size), true
}
