package api

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

// listViolationParams returns the parameters of GET /api/violations.
func listViolationParams(tb testing.TB) []param {
	tb.Helper()
	for _, r := range apiRoutes() {
		if r.method == http.MethodGet && r.path == "/api/violations" {
			return r.params
		}
	}
	tb.Fatal("no route GET /api/violations")
	return nil
}

// FuzzParseQuery parses random query strings with the parameters of GET
// /api/violations: never a panic, and an error is always a 400 naming one
// declared query parameter; what is accepted is within its limits.
func FuzzParseQuery(f *testing.F) {
	ps := listViolationParams(f)
	for _, s := range []string{
		"",
		"accounts=a,b&accounts=c&from=2015-05-21T10:24:47.788Z&to=2015-05-22",
		"from=2015-05-21T12:24:47.788+02:00&to=2015-05-21T12:24:47 02:00",
		"last-violation=5&checked=true&whitelisted=false&state=any",
		"severity=1&priority=2&audit-relevant=yes&type=WRONG_REGION&types=A,,B",
		"application-ids=x&application-version-ids=1.0,2.0",
		"page=0&size=1000&sort=region,accountId,desc&sort=id,asc",
		"page=-1", "size=1001", "size=0", "sort=desc", "sort=,,asc", "state=closed", "checked=maybe",
		"page=9223372036854775807&size=1000", "from=%00", "sort=%ff,desc", "types=%2C%2C", "a=1&&b;c=%zz",
	} {
		f.Add(s)
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		a, err := parseValues(q, func(string) string { return "" }, ps)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) {
				t.Fatalf("%q: error %T %v, want an *httpError", raw, err, err)
			}
			if he.status != http.StatusBadRequest || len(he.fields) != 1 {
				t.Fatalf("%q: error %d with fields %+v, want 400 naming one field", raw, he.status, he.fields)
			}
			if fd := he.fields[0]; !slices.Contains(names, fd.Name) || fd.In != "query" || fd.Reason == "" {
				t.Fatalf("%q: field %+v is not a declared query parameter with a reason", raw, fd)
			}
			return
		}
		if a == nil {
			t.Fatalf("%q: no args and no error", raw)
		}
		if n, ok := a.integer("size"); ok && (n < 1 || n > maxPageSize) {
			t.Fatalf("%q: size %d accepted", raw, n)
		}
		if n, ok := a.integer("page"); ok && n < 0 {
			t.Fatalf("%q: page %d accepted", raw, n)
		}
		if s := a.str("state"); s != "" && !slices.Contains([]string{"open", "resolved", "whitelisted", "any"}, s) {
			t.Fatalf("%q: state %q accepted", raw, s)
		}
		for name, l := range a.lists {
			for _, v := range l {
				if v == "" {
					t.Fatalf("%q: %s holds an empty element: %q", raw, name, l)
				}
			}
		}
		for _, o := range a.sorts {
			if o.property == "" || isDirection(o.property) {
				t.Fatalf("%q: sort order %+v accepted", raw, o)
			}
		}
	})
}
