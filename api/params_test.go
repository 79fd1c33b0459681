package api

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// paramsOfTest declares a parameter of every kind.
var paramsOfTest = []param{
	{name: "id", in: "path", kind: kindInt, required: true},
	{name: "name", in: "query", kind: kindString},
	{name: "state", in: "query", kind: kindString, enum: []string{"open", "any"}},
	{name: "n", in: "query", kind: kindInt},
	{name: "flag", in: "query", kind: kindBool},
	{name: "from", in: "query", kind: kindTime},
	{name: "list", in: "query", kind: kindList},
	{name: "sort", in: "query", kind: kindSort},
	{name: "size", in: "query", kind: kindPageSize},
	{name: "page", in: "query", kind: kindPage},
}

// paramsPath is a path with id 7.
func paramsPath(name string) string {
	if name == "id" {
		return "7"
	}
	return ""
}

func TestParseValues(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2015, 5, 21, 10, 24, 47, 788_000_000, time.UTC)
	cases := []struct {
		name  string
		query string
		check func(t *testing.T, a *args)
	}{
		{"nothing", "", func(t *testing.T, a *args) {
			if id, ok := a.integer("id"); !ok || id != 7 {
				t.Errorf("id %d %v", id, ok)
			}
			for _, n := range []string{"n", "size", "page"} {
				if _, ok := a.integer(n); ok {
					t.Errorf("%s given", n)
				}
			}
			if _, ok := a.boolean("flag"); ok {
				t.Error("flag given")
			}
			if _, ok := a.instant("from"); ok {
				t.Error("from given")
			}
			if a.list("list") != nil || a.sorts != nil || a.str("name") != "" || a.str("state") != "" {
				t.Errorf("args %+v", a)
			}
		}},
		{"undeclared ignored", "foo=bar&N=3&Flag=maybe", func(t *testing.T, a *args) {
			if _, ok := a.integer("n"); ok {
				t.Error("N read as n")
			}
		}},
		{"string", "name=%20alice%20", func(t *testing.T, a *args) {
			if a.str("name") != "alice" {
				t.Errorf("name %q", a.str("name"))
			}
		}},
		{"string repeated takes the first", "name=a&name=b", func(t *testing.T, a *args) {
			if a.str("name") != "a" {
				t.Errorf("name %q", a.str("name"))
			}
		}},
		{"empty enum is absent, as other empty values", "state=", func(t *testing.T, a *args) {
			if v, ok := a.strs["state"]; ok {
				t.Errorf("state %q given", v)
			}
		}},
		{"enum", "state=any", func(t *testing.T, a *args) {
			if a.str("state") != "any" {
				t.Errorf("state %q", a.str("state"))
			}
		}},
		{"int", "n=%2042%20", func(t *testing.T, a *args) {
			if n, ok := a.integer("n"); !ok || n != 42 {
				t.Errorf("n %d %v", n, ok)
			}
		}},
		{"int negative and large", "n=-9223372036854775808", func(t *testing.T, a *args) {
			if n, ok := a.integer("n"); !ok || n != math.MinInt64 {
				t.Errorf("n %d %v", n, ok)
			}
		}},
		{"int repeated takes the first", "n=1&n=x", func(t *testing.T, a *args) {
			if n, ok := a.integer("n"); !ok || n != 1 {
				t.Errorf("n %d %v", n, ok)
			}
		}},
		{"empty values are absent", "n=&flag=&from=&size=&page=&list=", func(t *testing.T, a *args) {
			_, n := a.integer("n")
			_, f := a.boolean("flag")
			_, fr := a.instant("from")
			_, s := a.integer("size")
			_, p := a.integer("page")
			if n || f || fr || s || p || a.list("list") != nil {
				t.Errorf("empty value given: n %v flag %v from %v size %v page %v list %v", n, f, fr, s, p, a.list("list"))
			}
		}},
		{"bool", "flag=TRUE", func(t *testing.T, a *args) {
			if b, ok := a.boolean("flag"); !ok || !b {
				t.Errorf("flag %v %v", b, ok)
			}
		}},
		{"bool false", "flag=off", func(t *testing.T, a *args) {
			if b, ok := a.boolean("flag"); !ok || b {
				t.Errorf("flag %v %v", b, ok)
			}
		}},
		{"time", "from=2015-05-21T12:24:47.788%2B02:00", func(t *testing.T, a *args) {
			if v, ok := a.instant("from"); !ok || !v.Equal(t0) || v.Location() != time.UTC {
				t.Errorf("from %v %v", v, ok)
			}
		}},
		{"time with unescaped +", "from=2015-05-21T12:24:47.788+02:00", func(t *testing.T, a *args) {
			if v, ok := a.instant("from"); !ok || !v.Equal(t0) {
				t.Errorf("from %v %v", v, ok)
			}
		}},
		{"list", "list=a,b", func(t *testing.T, a *args) {
			if l := a.list("list"); !slices.Equal(l, []string{"a", "b"}) {
				t.Errorf("list %q", l)
			}
		}},
		{"list repeated and mixed", "list=a&list=b,c&list=d", func(t *testing.T, a *args) {
			if l := a.list("list"); !slices.Equal(l, []string{"a", "b", "c", "d"}) {
				t.Errorf("list %q", l)
			}
		}},
		{"list empty elements and spaces", "list=,%20a%20,,b%20,&list=&list=%20,%20&list=c", func(t *testing.T, a *args) {
			if l := a.list("list"); !slices.Equal(l, []string{"a", "b", "c"}) {
				t.Errorf("list %q", l)
			}
		}},
		{"list only empty elements", "list=,,%20,", func(t *testing.T, a *args) {
			if l := a.list("list"); l != nil {
				t.Errorf("list %q", l)
			}
		}},
		{"list keeps duplicates and case", "list=A,a,A", func(t *testing.T, a *args) {
			if l := a.list("list"); !slices.Equal(l, []string{"A", "a", "A"}) {
				t.Errorf("list %q", l)
			}
		}},
		{"sort repeated", "sort=region,accountId,desc&sort=id", func(t *testing.T, a *args) {
			want := []sortOrder{{"region", true}, {"accountId", true}, {"id", false}}
			if !slices.Equal(a.sorts, want) {
				t.Errorf("sorts %+v, want %+v", a.sorts, want)
			}
		}},
		{"sort empty", "sort=", func(t *testing.T, a *args) {
			if len(a.sorts) != 0 {
				t.Errorf("sorts %+v", a.sorts)
			}
		}},
		{"page limits", "size=1000&page=0", func(t *testing.T, a *args) {
			s, _ := a.integer("size")
			p, ok := a.integer("page")
			if s != 1000 || p != 0 || !ok {
				t.Errorf("size %d page %d %v", s, p, ok)
			}
		}},
		{"size 1", "size=1&page=2147483648", func(t *testing.T, a *args) {
			s, _ := a.integer("size")
			p, _ := a.integer("page")
			if s != 1 || p != 2147483648 {
				t.Errorf("size %d page %d", s, p)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			a, err := parseValues(q, paramsPath, paramsOfTest)
			if err != nil {
				t.Fatalf("?%s: %v", c.query, err)
			}
			c.check(t, a)
		})
	}
}

func TestParseValuesErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		query string
		path  string // the id path value
		name  string // the parameter named
		in    string
	}{
		{"", "", "id", "path"},
		{"", "x", "id", "path"},
		{"", "1e3", "id", "path"},
		{"state=closed", "7", "state", "query"},
		{"state=Open", "7", "state", "query"},
		{"n=x", "7", "n", "query"},
		{"n=1.5", "7", "n", "query"},
		{"n=9223372036854775808", "7", "n", "query"},
		{"n=0x10", "7", "n", "query"},
		{"flag=maybe", "7", "flag", "query"},
		{"flag=2", "7", "flag", "query"},
		{"from=yesterday", "7", "from", "query"},
		{"from=1432203887788", "7", "from", "query"},
		{"sort=desc", "7", "sort", "query"},
		{"sort=desc,desc", "7", "sort", "query"},
		{"sort=id,desc,asc", "7", "sort", "query"},
		{"sort=id&sort=asc,id", "7", "sort", "query"},
		{"size=0", "7", "size", "query"},
		{"size=1001", "7", "size", "query"},
		{"size=-5", "7", "size", "query"},
		{"size=x", "7", "size", "query"},
		{"page=-1", "7", "page", "query"},
		{"page=x", "7", "page", "query"},
		{"n=x&flag=maybe", "7", "n", "query"}, // the first declared
		{"list=a,%ff", "7", "list", "query"},
		{"name=a%00b", "7", "name", "query"},
		{"", "\xff", "id", "path"},
	} {
		t.Run(c.query+" id="+c.path, func(t *testing.T) {
			q, err := url.ParseQuery(c.query)
			if err != nil {
				t.Fatal(err)
			}
			a, err := parseValues(q, func(string) string { return c.path }, paramsOfTest)
			var he *httpError
			if !errors.As(err, &he) {
				t.Fatalf("args %+v, error %v; want an *httpError", a, err)
			}
			if he.status != http.StatusBadRequest || len(he.fields) != 1 || he.fields[0].Name != c.name || he.fields[0].In != c.in ||
				he.fields[0].Reason == "" {
				t.Errorf("error %d %+v, want 400 naming %s parameter %s", he.status, he.fields, c.in, c.name)
			}
		})
	}
	t.Run("long value is cut", func(t *testing.T) {
		long := make([]byte, 500)
		for i := range long {
			long[i] = 'x'
		}
		_, err := parseValues(url.Values{"n": {string(long)}}, paramsPath, paramsOfTest)
		var he *httpError
		if !errors.As(err, &he) || len(he.fields) != 1 || len(he.fields[0].Value) > 110 {
			t.Errorf("error %v", err)
		}
	})
}

func TestParseSort(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want []sortOrder
	}{
		{"id", []sortOrder{{"id", false}}},
		{"id,asc", []sortOrder{{"id", false}}},
		{"id,desc", []sortOrder{{"id", true}}},
		{"id,DESC", []sortOrder{{"id", true}}},
		{"id,Asc", []sortOrder{{"id", false}}},
		{" id , desc ", []sortOrder{{"id", true}}},
		{"region,accountId,desc", []sortOrder{{"region", true}, {"accountId", true}}},
		{"region,accountId", []sortOrder{{"region", false}, {"accountId", false}}},
		{"region,,accountId,asc", []sortOrder{{"region", false}, {"accountId", false}}},
		{"id,", []sortOrder{{"id", false}}},
		{"", nil},
		{" ", nil},
		{",", nil},
		{"nope", []sortOrder{{"nope", false}}}, // unknown properties are the handler's business
	} {
		got, err := parseSort(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("parseSort(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	// A direction with no property before it is refused.
	for _, in := range []string{"desc", "asc", " DESC ", "asc,desc", "desc,id,asc", "id,desc,asc", "id,asc,name"} {
		if got, err := parseSort(in); err == nil {
			t.Errorf("parseSort(%q) = %+v, want an error", in, got)
		}
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	at := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2015-05-21T10:24:47.788Z", at(2015, 5, 21, 10, 24, 47, 788_000_000)},
		{"2015-05-21T10:24:47Z", at(2015, 5, 21, 10, 24, 47, 0)},
		{"2015-05-21T10:24:47.123456789Z", at(2015, 5, 21, 10, 24, 47, 123456789)},
		{"2015-05-21T10:24:47.7Z", at(2015, 5, 21, 10, 24, 47, 700_000_000)},
		{"2015-05-21T12:24:47.788+02:00", at(2015, 5, 21, 10, 24, 47, 788_000_000)},
		{"2015-05-21T12:24:47+02:00", at(2015, 5, 21, 10, 24, 47, 0)},
		{"2015-05-21T05:24:47.788-05:00", at(2015, 5, 21, 10, 24, 47, 788_000_000)},
		{"2015-05-21T10:24:47.788+00:00", at(2015, 5, 21, 10, 24, 47, 788_000_000)},
		{"2015-05-21T12:24:47.788 02:00", at(2015, 5, 21, 10, 24, 47, 788_000_000)}, // + unescaped by the client
		{"2015-05-21T12:24:47 02:00", at(2015, 5, 21, 10, 24, 47, 0)},
		{"2015-05-22T00:30:00 14:00", at(2015, 5, 21, 10, 30, 0, 0)},
		{"2015-05-21T10:24:47.788", at(2015, 5, 21, 10, 24, 47, 788_000_000)},
		{"2015-05-21T10:24:47", at(2015, 5, 21, 10, 24, 47, 0)},
		{"2015-05-21T10:24", at(2015, 5, 21, 10, 24, 0, 0)},
		{"2015-05-21", at(2015, 5, 21, 0, 0, 0, 0)},
		{"2016-02-29", at(2016, 2, 29, 0, 0, 0, 0)},
	} {
		got, ok := parseTime(c.in)
		if !ok || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("parseTime(%q) = %v, %v; want %v UTC", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{"", "yesterday", "2015-13-01", "2015-02-30", "2015-05-21T25:00:00Z", "2015-05-21T10:24:47.788+25:00",
		"1432203887788", "21.05.2015", "2015/05/21", "2015-05-21T10:24:47.788ZZ", "2015-05-21T10Z", "T10:24:47Z"} {
		if got, ok := parseTime(in); ok {
			t.Errorf("parseTime(%q) = %v, want refused", in, got)
		}
	}
}

func TestParseBool(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{
		"true": true, "TRUE": true, "True": true, "1": true, "yes": true, "YES": true, "on": true, "On": true,
		"false": false, "FALSE": false, "False": false, "0": false, "no": false, "NO": false, "off": false, "Off": false,
	} {
		if got, ok := parseBool(in); !ok || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "maybe", "2", "-1", "t", "f", "y", "n", "truee", " true"} {
		if got, ok := parseBool(in); ok {
			t.Errorf("parseBool(%q) = %v, want refused", in, got)
		}
	}
}

func TestOffsetOf(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		page, size int64
		want       int
		ok         bool
	}{
		{0, 10, 0, true},
		{1, 10, 10, true},
		{3, 7, 21, true},
		{0, 1000, 0, true},
		{math.MaxInt32, 1, math.MaxInt32, true},
		{math.MaxInt32, 1000, math.MaxInt32 * 1000, true},
		{math.MaxInt32 + 1, 1, 0, false},
		{math.MaxInt32 + 1, 1000, 0, false},
		{math.MaxInt64, 1000, 0, false},
		{math.MaxInt64, 1, 0, false},
	} {
		got, ok := offsetOf(c.page, c.size)
		if got != c.want || ok != c.ok {
			t.Errorf("offsetOf(%d, %d) = %d, %v; want %d, %v", c.page, c.size, got, ok, c.want, c.ok)
		}
	}
}
