package api

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/migrations"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store"
)

// isoMillisRE is the form of every date the API writes: ISO 8601, UTC,
// milliseconds.
var isoMillisRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// The violation types of gen.
const (
	vqTypeRegion  = "WRONG_REGION"
	vqTypeKeypair = "EC2_WITH_KEYPAIR"
	vqTypeLambda  = "LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION"
)

// vqAccount is the account of gen(i) for n = i%4.
func vqAccount(n int) string { return fmt.Sprintf("%012d", 100000000000+n) }

// vqTypeAttrs are the attributes the fixture gives its three types (by SQL).
type vqTypeAttrs struct {
	severity, priority int
	audit              bool
}

var vqTypes = map[string]vqTypeAttrs{
	vqTypeRegion:  {severity: 1, priority: 2},
	vqTypeKeypair: {severity: 0, priority: 4},
	vqTypeLambda:  {severity: 3, priority: 1, audit: true},
}

// vqRow is one violation of the fixture as the test arranged it.
type vqRow struct {
	id       int64
	eventID  string
	account  string
	region   string
	typ      string
	app, ver string // "": none
	created  time.Time
	state    string // open, resolved or whitelisted
}

// vqPosted are the violations the fixture submits with POST /api/violations,
// in this order (which is the order their versions are created in).
var vqPosted = []struct {
	account     int
	region, typ string
	app, ver    string
}{
	{0, "eu-west-1", vqTypeRegion, "alpha", "1.0"},
	{1, "us-east-1", vqTypeKeypair, "alpha", "2.0"},
	{0, "eu-west-1", vqTypeLambda, "beta", "1.0"},
	{0, "eu-west-1", vqTypeRegion, "alpha", "2.0"},
	{2, "eu-west-1", vqTypeKeypair, "gamma", ""},
	{0, "us-east-1", vqTypeKeypair, "", "9.9"},
}

// vqFixture is an API with violations of 4 accounts, 2 regions, 3 types,
// applications and versions, created over several days, open, resolved
// and whitelisted.
type vqFixture struct {
	e      *env
	rows   []vqRow
	times  []time.Time        // the created times, ascending; 4 or 5 rows each
	verSeq map[[2]string]int  // (application, version): creation order
	rule   int64              // the whitelisting rule applied
	byID   map[int64]vqRow    // rows by id
	ver    map[[2]string]bool // versions that exist
}

func vqBase() time.Time { return time.Date(2024, 5, 1, 10, 24, 47, 788_000_000, time.UTC) }

// vqSeed builds the fixture.
func vqSeed(t *testing.T) *vqFixture {
	t.Helper()
	e := newEnv(t)
	f := &vqFixture{e: e, verSeq: map[[2]string]int{}, byID: map[int64]vqRow{}, ver: map[[2]string]bool{}}
	for j := range 16 {
		f.times = append(f.times, vqBase().Add(time.Duration(j)*9*time.Hour))
	}

	// 60 through the pipeline, the first 10 seen twice.
	vs := make([]vqRowSource, 0, 66)
	var pipeline []rules.Violation
	for i := range 60 {
		g := gen(i)
		pipeline = append(pipeline, g)
		vs = append(vs, vqRowSource{eventID: g.EventID, account: g.AccountID, region: g.Region, typ: g.Type})
	}
	e.store(t, pipeline...)
	e.store(t, slices.Clone(pipeline[:10])...)

	// 6 through the API, with applications and versions.
	for j, p := range vqPosted {
		body := map[string]any{
			"event_id": fmt.Sprintf("posted-%d", j), "account_id": vqAccount(p.account), "region": p.region,
			"violation_type": p.typ, "instance_id": fmt.Sprintf("i-p%d", j),
			"meta_info": map[string]any{"n": 100 + j},
		}
		if j%2 == 0 {
			body["username"] = fmt.Sprintf("user-%d", j)
		}
		if p.app != "" {
			body["application_id"] = p.app
		}
		if p.ver != "" {
			body["application_version"] = p.ver
			k := [2]string{p.app, p.ver}
			if _, ok := f.verSeq[k]; !ok {
				f.verSeq[k] = len(f.verSeq)
			}
		}
		if r := e.do(t, http.MethodPost, "/api/violations", body); r.status != http.StatusAccepted {
			t.Fatalf("POST violation %d: %d %s", j, r.status, r.body)
		}
		vs = append(vs, vqRowSource{eventID: fmt.Sprintf("posted-%d", j), account: vqAccount(p.account),
			region: p.region, typ: p.typ, app: p.app, ver: p.ver})
	}

	// Their ids, by event id.
	idOf := map[string]int64{}
	rows, err := e.db.Query(context.Background(), `SELECT id, event_id FROM fullstop_data.violation`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var ev string
		if err := rows.Scan(&id, &ev); err != nil {
			t.Fatal(err)
		}
		idOf[ev] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(idOf) != len(vs) {
		t.Fatalf("%d violations stored, want %d", len(idOf), len(vs))
	}

	var createdIDs []int64
	var createdAt []time.Time
	for k, s := range vs {
		id, ok := idOf[s.eventID]
		if !ok {
			t.Fatalf("violation %s not stored", s.eventID)
		}
		r := vqRow{id: id, eventID: s.eventID, account: s.account, region: s.region, typ: s.typ,
			app: s.app, ver: s.ver, created: f.times[k%len(f.times)], state: "open"}
		f.rows = append(f.rows, r)
		createdIDs = append(createdIDs, id)
		createdAt = append(createdAt, r.created)
	}
	for _, r := range f.rows {
		if r.ver != "" {
			f.ver[[2]string{r.app, r.ver}] = true
		}
	}

	// Resolve every 7th generated one.
	for k := range f.rows {
		if k < 60 && k%7 == 0 {
			r := e.do(t, http.MethodPost, fmt.Sprintf("/api/violations/%d/resolution", f.rows[k].id), fmt.Sprintf("Resolved %02d", k))
			if r.status != http.StatusOK {
				t.Fatalf("resolve %d: %d %s", f.rows[k].id, r.status, r.body)
			}
			f.rows[k].state = "resolved"
		}
	}

	// Whitelist the open EC2_WITH_KEYPAIR violations of account 3.
	r := e.do(t, http.MethodPost, "/api/whitelisting-rules", map[string]any{
		"account_id": vqAccount(3), "violation_type": vqTypeKeypair, "reason": "test"})
	if r.status != http.StatusCreated {
		t.Fatalf("create rule: %d %s", r.status, r.body)
	}
	var rule Rule
	r.decode(t, &rule)
	f.rule = rule.ID
	want := 0
	for k, x := range f.rows {
		if x.state == "open" && x.account == vqAccount(3) && x.typ == vqTypeKeypair {
			f.rows[k].state = "whitelisted"
			want++
		}
	}
	r = e.do(t, http.MethodPost, fmt.Sprintf("/api/whitelisting-rules/%d/apply", rule.ID), nil)
	if r.status != http.StatusOK {
		t.Fatalf("apply rule: %d %s", r.status, r.body)
	}
	var applied ApplyResult
	r.decode(t, &applied)
	if applied.Violations != want || want == 0 {
		t.Fatalf("rule whitelisted %d violations, want %d (> 0)", applied.Violations, want)
	}

	// Created times; every time to the millisecond, as the API shows it.
	e.exec(t, `UPDATE fullstop_data.violation v SET created = x.c
FROM unnest($1::bigint[], $2::timestamptz[]) AS x(id, c) WHERE v.id = x.id`, createdIDs, createdAt)
	e.exec(t, `UPDATE fullstop_data.violation SET last_seen = date_trunc('milliseconds', last_seen),
    last_modified = date_trunc('milliseconds', last_modified), event_time = date_trunc('milliseconds', event_time)`)
	for id, a := range vqTypes {
		e.exec(t, `UPDATE fullstop_data.violation_type SET violation_severity = $1, priority = $2, is_audit_relevant = $3
WHERE id = $4`, a.severity, a.priority, a.audit, id)
	}
	for _, x := range f.rows {
		f.byID[x.id] = x
	}
	return f
}

// vqRowSource is what the fixture knows of a violation before it is stored.
type vqRowSource struct {
	eventID, account, region, typ, app, ver string
}

// want returns the ids of the rows for which keep holds, ascending.
func (f *vqFixture) want(keep func(vqRow) bool) []int64 {
	out := []int64{}
	for _, r := range f.rows {
		if keep(r) {
			out = append(out, r.id)
		}
	}
	slices.Sort(out)
	return out
}

// sorted returns the rows for which keep holds ordered by less, then by id.
func (f *vqFixture) sorted(keep func(vqRow) bool, less func(a, b vqRow) int) []int64 {
	var rs []vqRow
	for _, r := range f.rows {
		if keep(r) {
			rs = append(rs, r)
		}
	}
	slices.SortFunc(rs, func(a, b vqRow) int {
		if c := less(a, b); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.id
	}
	return out
}

func vqAny(vqRow) bool    { return true }
func vqOpen(r vqRow) bool { return r.state == "open" }

func vqIn(v string, vs ...string) bool { return slices.Contains(vs, v) }

func vqFormat(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

func TestViolationsQuery(t *testing.T) {
	t.Parallel()
	f := vqSeed(t)
	e := f.e
	T := func(j int) string { return url.QueryEscape(vqFormat(f.times[j])) }
	a := vqAccount
	all := f.want(vqAny)
	minID := all[len(all)/2]
	hasState := func(s string) func(vqRow) bool { return func(r vqRow) bool { return r.state == s } }
	for _, s := range []string{"open", "resolved", "whitelisted"} {
		if len(f.want(hasState(s))) < 4 {
			t.Fatalf("fixture has too few %s violations", s)
		}
	}

	t.Run("filters", func(t *testing.T) {
		cases := []struct {
			name  string
			query string
			keep  func(vqRow) bool
		}{
			// Alone.
			{"default is open", "", vqOpen},
			{"accounts one", "accounts=" + a(1), func(r vqRow) bool { return vqOpen(r) && r.account == a(1) }},
			{"accounts comma", "accounts=" + a(0) + "," + a(2), func(r vqRow) bool { return vqOpen(r) && vqIn(r.account, a(0), a(2)) }},
			{"accounts repeated", "accounts=" + a(0) + "&accounts=" + a(3), func(r vqRow) bool { return vqOpen(r) && vqIn(r.account, a(0), a(3)) }},
			{"accounts comma and repeated", "accounts=" + a(0) + "," + a(1) + "&accounts=" + a(3), func(r vqRow) bool { return vqOpen(r) && vqIn(r.account, a(0), a(1), a(3)) }},
			{"accounts spaces and empty elements", "accounts=%20" + a(1) + "%20,,%20," + a(2) + ",", func(r vqRow) bool { return vqOpen(r) && vqIn(r.account, a(1), a(2)) }},
			{"accounts empty", "accounts=", vqOpen},
			{"accounts unknown", "accounts=999999999999", func(vqRow) bool { return false }},
			{"from", "from=" + T(5), func(r vqRow) bool { return vqOpen(r) && !r.created.Before(f.times[5]) }},
			{"to", "to=" + T(5), func(r vqRow) bool { return vqOpen(r) && r.created.Before(f.times[5]) }},
			{"from date only", "from=2024-05-03", func(r vqRow) bool {
				return vqOpen(r) && !r.created.Before(time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC))
			}},
			{"last-violation", "last-violation=" + strconv.FormatInt(minID, 10), func(r vqRow) bool { return vqOpen(r) && r.id >= minID }},
			{"last-violation 0", "last-violation=0", vqOpen},
			{"checked=true", "checked=true", hasState("resolved")},
			{"checked=false", "checked=false", vqOpen},
			{"whitelisted=true", "whitelisted=true", hasState("whitelisted")},
			{"whitelisted=false", "whitelisted=false", vqOpen},
			{"state=open", "state=open", vqOpen},
			{"state=resolved", "state=resolved", hasState("resolved")},
			{"state=whitelisted", "state=whitelisted", hasState("whitelisted")},
			{"state=any", "state=any", vqAny},
			{"severity=1", "severity=1", func(r vqRow) bool { return vqOpen(r) && vqTypes[r.typ].severity == 1 }},
			{"severity=3", "severity=3", func(r vqRow) bool { return vqOpen(r) && vqTypes[r.typ].severity == 3 }},
			{"severity=4", "severity=4", func(vqRow) bool { return false }},
			{"priority=4", "priority=4", func(r vqRow) bool { return vqOpen(r) && vqTypes[r.typ].priority == 4 }},
			{"priority=2", "priority=2", func(r vqRow) bool { return vqOpen(r) && vqTypes[r.typ].priority == 2 }},
			{"audit-relevant=true", "audit-relevant=true", func(r vqRow) bool { return vqOpen(r) && vqTypes[r.typ].audit }},
			{"audit-relevant=false", "audit-relevant=false", func(r vqRow) bool { return vqOpen(r) && !vqTypes[r.typ].audit }},
			{"type", "type=" + vqTypeRegion, func(r vqRow) bool { return vqOpen(r) && r.typ == vqTypeRegion }},
			{"types comma", "types=" + vqTypeRegion + "," + vqTypeLambda, func(r vqRow) bool { return vqOpen(r) && vqIn(r.typ, vqTypeRegion, vqTypeLambda) }},
			{"types repeated", "types=" + vqTypeKeypair + "&types=" + vqTypeLambda, func(r vqRow) bool { return vqOpen(r) && vqIn(r.typ, vqTypeKeypair, vqTypeLambda) }},
			{"application-ids", "application-ids=alpha", func(r vqRow) bool { return vqOpen(r) && r.app == "alpha" }},
			{"application-ids list", "application-ids=alpha,gamma", func(r vqRow) bool { return vqOpen(r) && vqIn(r.app, "alpha", "gamma") }},
			{"application-version-ids", "application-version-ids=1.0", func(r vqRow) bool { return vqOpen(r) && r.ver == "1.0" }},
			{"application-version-ids without application", "application-version-ids=9.9", func(r vqRow) bool { return vqOpen(r) && r.ver == "9.9" }},
			{"application-ids unknown", "application-ids=nope", func(vqRow) bool { return false }},

			// Combined.
			{"type is added to types", "type=" + vqTypeLambda + "&types=" + vqTypeRegion,
				func(r vqRow) bool { return vqOpen(r) && vqIn(r.typ, vqTypeLambda, vqTypeRegion) }},
			{"whitelisted wins over checked", "checked=true&whitelisted=true", hasState("whitelisted")},
			{"state wins over checked and whitelisted", "state=open&checked=true&whitelisted=true", vqOpen},
			{"state=resolved wins over whitelisted", "whitelisted=true&state=resolved", hasState("resolved")},
			{"state=any, accounts, from, to", "state=any&accounts=" + a(1) + "," + a(3) + "&from=" + T(2) + "&to=" + T(9),
				func(r vqRow) bool {
					return vqIn(r.account, a(1), a(3)) && !r.created.Before(f.times[2]) && r.created.Before(f.times[9])
				}},
			{"state=any, account, type, application", "state=any&accounts=" + a(0) + "&types=" + vqTypeRegion + "&application-ids=alpha",
				func(r vqRow) bool { return r.account == a(0) && r.typ == vqTypeRegion && r.app == "alpha" }},
			{"application and version", "application-ids=alpha&application-version-ids=2.0",
				func(r vqRow) bool { return vqOpen(r) && r.app == "alpha" && r.ver == "2.0" }},
			{"checked, severity, priority", "checked=true&severity=0&priority=4",
				func(r vqRow) bool { return r.state == "resolved" && r.typ == vqTypeKeypair }},
			{"state=any, audit-relevant, last-violation, to", "state=any&audit-relevant=true&last-violation=" + strconv.FormatInt(minID, 10) + "&to=" + T(10),
				func(r vqRow) bool { return vqTypes[r.typ].audit && r.id >= minID && r.created.Before(f.times[10]) }},
			{"whitelisted, account, type", "whitelisted=true&accounts=" + a(3) + "&type=" + vqTypeKeypair, hasState("whitelisted")},
			{"whitelisted in another account", "state=whitelisted&accounts=" + a(0), func(vqRow) bool { return false }},
			{"versions, account, any", "state=any&application-version-ids=1.0,9.9&accounts=" + a(0),
				func(r vqRow) bool { return vqIn(r.ver, "1.0", "9.9") && r.account == a(0) }},
			{"resolved, accounts, from", "checked=true&accounts=" + a(0) + "," + a(1) + "&from=" + T(4),
				func(r vqRow) bool {
					return r.state == "resolved" && vqIn(r.account, a(0), a(1)) && !r.created.Before(f.times[4])
				}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := e.page(t, "size=1000&"+c.query)
				want := f.want(c.keep)
				if got := ids(p); !slices.Equal(got, want) {
					t.Errorf("?%s: ids %v, want %v", c.query, got, want)
				}
				if p.TotalElements != int64(len(want)) {
					t.Errorf("?%s: total_elements %d, want %d", c.query, p.TotalElements, len(want))
				}
			})
		}
	})

	t.Run("unknown parameters are ignored", func(t *testing.T) {
		p := e.page(t, "size=1000&foo=bar&account=1&Accounts="+a(1)+"&sortt=nope")
		if got, want := ids(p), f.want(vqOpen); !slices.Equal(got, want) {
			t.Errorf("ids %v, want %v", got, want)
		}
	})

	t.Run("half-open time range", func(t *testing.T) {
		in := func(from, to int) func(vqRow) bool {
			return func(r vqRow) bool { return !r.created.Before(f.times[from]) && r.created.Before(f.times[to]) }
		}
		want := f.want(in(3, 7))
		atFrom, atTo := 0, 0
		for _, id := range want {
			switch f.byID[id].created {
			case f.times[3]:
				atFrom++
			case f.times[7]:
				atTo++
			}
		}
		if atFrom == 0 || atTo != 0 {
			t.Fatalf("fixture: %d violations at from, %d at to", atFrom, atTo)
		}
		plus := func(j int) string {
			return f.times[j].In(time.FixedZone("", 2*3600)).Format("2006-01-02T15:04:05.000Z07:00")
		}
		for _, q := range []struct{ name, from, to string }{
			{"UTC", T(3), T(7)},
			{"offset, escaped", url.QueryEscape(plus(3)), url.QueryEscape(plus(7))},
			{"offset, + unescaped", plus(3), plus(7)}, // the + arrives as a space
		} {
			t.Run(q.name, func(t *testing.T) {
				p := e.page(t, "size=1000&state=any&from="+q.from+"&to="+q.to)
				if got := ids(p); !slices.Equal(got, want) {
					t.Fatalf("ids %v, want %v", got, want)
				}
				seenFrom := false
				for _, v := range p.Content {
					c := time.Time(v.Created)
					if c.Equal(f.times[7]) {
						t.Errorf("violation %d created at to (%s) is included", v.ID, vqFormat(c))
					}
					seenFrom = seenFrom || c.Equal(f.times[3])
				}
				if !seenFrom {
					t.Errorf("no violation created at from (%s) is included", vqFormat(f.times[3]))
				}
			})
		}
		t.Run("from equals to", func(t *testing.T) {
			if p := e.page(t, "state=any&from="+T(3)+"&to="+T(3)); p.TotalElements != 0 {
				t.Errorf("from = to: %d violations, want 0", p.TotalElements)
			}
		})
		t.Run("one millisecond", func(t *testing.T) {
			to := url.QueryEscape(vqFormat(f.times[3].Add(time.Millisecond)))
			p := e.page(t, "size=1000&state=any&from="+T(3)+"&to="+to)
			want := f.want(func(r vqRow) bool { return r.created.Equal(f.times[3]) })
			if got := ids(p); !slices.Equal(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
		})
	})

	t.Run("paging", func(t *testing.T) {
		open := f.want(vqOpen)
		n := int64(len(open))
		pages := (n + 9) / 10
		if pages < 3 || n%10 == 0 {
			t.Fatalf("fixture: %d open violations", n)
		}
		idAsc := []SortOrder{{Direction: "ASC", Property: "id", NullHandling: "NULLS_LAST", Ascending: true}}
		check := func(t *testing.T, p Page[Violation], number, size int64, want []int64, first, last bool) {
			t.Helper()
			if got := ids(p); !slices.Equal(got, want) {
				t.Errorf("ids %v, want %v", got, want)
			}
			if p.TotalElements != n || p.TotalPages != pages || p.Number != number || p.Size != size ||
				p.NumberOfElements != len(want) || p.First != first || p.Last != last {
				t.Errorf("envelope %+v, want total_elements %d total_pages %d number %d size %d number_of_elements %d first %v last %v",
					pageEnvelope(p), n, pages, number, size, len(want), first, last)
			}
			if !slices.Equal(p.Sort, idAsc) {
				t.Errorf("sort %+v, want %+v", p.Sort, idAsc)
			}
		}
		t.Run("default: page 0, size 10, id ascending", func(t *testing.T) {
			check(t, e.page(t, ""), 0, 10, open[:10], true, false)
		})
		t.Run("second page", func(t *testing.T) {
			check(t, e.page(t, "page=1"), 1, 10, open[10:20], false, false)
		})
		t.Run("last page", func(t *testing.T) {
			check(t, e.page(t, "page="+strconv.FormatInt(pages-1, 10)), pages-1, 10, open[(pages-1)*10:], false, true)
		})
		t.Run("page past the end", func(t *testing.T) {
			r := e.get(t, "/api/violations?page="+strconv.FormatInt(pages, 10), http.StatusOK)
			if !strings.Contains(string(r.body), `"content":[]`) {
				t.Errorf("content of an empty page is not []: %s", r.body)
			}
			var p Page[Violation]
			r.decode(t, &p)
			check(t, p, pages, 10, []int64{}, false, true)
		})
		t.Run("odd size", func(t *testing.T) {
			ps := (n + 6) / 7
			p := e.page(t, "page=2&size=7")
			if got := ids(p); !slices.Equal(got, open[14:21]) || p.TotalPages != ps || p.Size != 7 || p.Number != 2 {
				t.Errorf("page 2 of size 7: ids %v, envelope %+v; want ids %v, total_pages %d", got, pageEnvelope(p), open[14:21], ps)
			}
		})
		t.Run("size 1000", func(t *testing.T) {
			p := e.page(t, "size=1000")
			if got := ids(p); !slices.Equal(got, open) || p.TotalPages != 1 || !p.First || !p.Last || p.Size != 1000 {
				t.Errorf("size 1000: ids %v, envelope %+v", got, pageEnvelope(p))
			}
		})
		t.Run("huge page is empty", func(t *testing.T) {
			p := e.page(t, "page=2147483647&size=1000")
			if len(p.Content) != 0 || p.TotalElements != n || p.Number != 2147483647 || !p.Last || p.First {
				t.Errorf("page 2147483647: %+v", pageEnvelope(p))
			}
		})
		for _, c := range []struct{ query, param string }{
			{"size=1001", "size"},
			{"size=0", "size"},
			{"size=-1", "size"},
			{"size=ten", "size"},
			{"page=-1", "page"},
			{"page=one", "page"},
			{"page=2147483648", "page"},
			{"page=2147483648&size=1", "page"},
			{"page=9223372036854775807", "page"},
			{"page=99999999999999999999", "page"},
		} {
			t.Run(c.query, func(t *testing.T) {
				r := e.get(t, "/api/violations?"+c.query, http.StatusBadRequest)
				p := r.problem(t)
				if len(p.Errors) != 1 || p.Errors[0].Name != c.param || p.Errors[0].In != "query" {
					t.Errorf("?%s: errors %+v, want one naming query parameter %s", c.query, p.Errors, c.param)
				}
			})
		}
	})

	t.Run("sorting", func(t *testing.T) {
		all := f.want(vqAny)
		for _, prop := range store.ViolationSortProperties() {
			for _, dir := range []string{"asc", "desc"} {
				t.Run(prop+","+dir, func(t *testing.T) {
					p := e.page(t, "state=any&size=1000&sort="+prop+","+dir)
					got := ids(p)
					if s := slices.Sorted(slices.Values(got)); !slices.Equal(s, all) {
						t.Fatalf("ids %v are not a permutation of %v", got, all)
					}
					want := []SortOrder{{Direction: strings.ToUpper(dir), Property: prop, NullHandling: "NULLS_LAST",
						Ascending: dir == "asc", Descending: dir == "desc"}}
					if !slices.Equal(p.Sort, want) {
						t.Errorf("sort %+v, want %+v", p.Sort, want)
					}
					for i := 1; i < len(p.Content); i++ {
						x, y := p.Content[i-1], p.Content[i]
						kx, ky := vqSortKey(t, prop, x), vqSortKey(t, prop, y)
						c := vqCompare(kx, ky, dir == "desc")
						switch {
						case c > 0:
							t.Errorf("%d (%v) before %d (%v)", x.ID, kx, y.ID, ky)
						case c == 0 && prop != "id" && x.ID > y.ID:
							t.Errorf("tie %v not broken by id ascending: %d before %d", kx, x.ID, y.ID)
						}
					}
				})
			}
		}
		accountDesc := func(x, y vqRow) int { return -strings.Compare(x.account, y.account) }
		regionAccountDesc := func(x, y vqRow) int {
			if c := strings.Compare(y.region, x.region); c != 0 {
				return c
			}
			return strings.Compare(y.account, x.account)
		}
		for _, c := range []struct {
			name, query string
			want        []int64
			sort        []SortOrder
		}{
			{"two sorts", "sort=accountId,desc&sort=id,asc", f.sorted(vqAny, accountDesc),
				[]SortOrder{{Direction: "DESC", Property: "accountId", NullHandling: "NULLS_LAST", Descending: true},
					{Direction: "ASC", Property: "id", NullHandling: "NULLS_LAST", Ascending: true}}},
			{"Spring form", "sort=region,accountId,desc", f.sorted(vqAny, regionAccountDesc),
				[]SortOrder{{Direction: "DESC", Property: "region", NullHandling: "NULLS_LAST", Descending: true},
					{Direction: "DESC", Property: "accountId", NullHandling: "NULLS_LAST", Descending: true}}},
			{"no direction is ascending", "sort=accountId", f.sorted(vqAny, func(x, y vqRow) int { return strings.Compare(x.account, y.account) }),
				[]SortOrder{{Direction: "ASC", Property: "accountId", NullHandling: "NULLS_LAST", Ascending: true}}},
			{"id descending", "sort=id,DESC", f.sorted(vqAny, func(x, y vqRow) int { return cmp.Compare(y.id, x.id) }),
				[]SortOrder{{Direction: "DESC", Property: "id", NullHandling: "NULLS_LAST", Descending: true}}},
			{"created then account", "sort=created,desc&sort=accountId", f.sorted(vqAny, func(x, y vqRow) int {
				if c := y.created.Compare(x.created); c != 0 {
					return c
				}
				return strings.Compare(x.account, y.account)
			}), []SortOrder{{Direction: "DESC", Property: "created", NullHandling: "NULLS_LAST", Descending: true},
				{Direction: "ASC", Property: "accountId", NullHandling: "NULLS_LAST", Ascending: true}}},
			{"empty sort is id ascending", "sort=", all,
				[]SortOrder{{Direction: "ASC", Property: "id", NullHandling: "NULLS_LAST", Ascending: true}}},
		} {
			t.Run(c.name, func(t *testing.T) {
				p := e.page(t, "state=any&size=1000&"+c.query)
				if got := ids(p); !slices.Equal(got, c.want) {
					t.Errorf("?%s: ids %v, want %v", c.query, got, c.want)
				}
				if !slices.Equal(p.Sort, c.sort) {
					t.Errorf("?%s: sort %+v, want %+v", c.query, p.Sort, c.sort)
				}
			})
		}
		for _, q := range []string{"sort=nope", "sort=id&sort=nope,desc", "sort=ID", "sort=desc", "sort=asc", "sort=id,desc,asc", "sort=a_b"} {
			t.Run(q, func(t *testing.T) {
				r := e.do(t, http.MethodGet, "/api/violations?"+q, nil)
				if r.status != http.StatusBadRequest {
					t.Fatalf("?%s: %d, want 400 naming sort: %.200s", q, r.status, r.body)
				}
				p := r.problem(t)
				if len(p.Errors) != 1 || p.Errors[0].Name != "sort" || p.Errors[0].In != "query" {
					t.Errorf("?%s: errors %+v, want one naming sort", q, p.Errors)
				}
			})
		}
	})

	t.Run("count by account and type", func(t *testing.T) {
		for _, c := range []struct {
			name, query string
			keep        func(vqRow) bool
		}{
			{"default is open", "", vqOpen},
			{"accounts", "accounts=" + a(0) + "," + a(1), func(r vqRow) bool { return vqOpen(r) && vqIn(r.account, a(0), a(1)) }},
			{"accounts repeated", "accounts=" + a(2) + "&accounts=" + a(3), func(r vqRow) bool { return vqOpen(r) && vqIn(r.account, a(2), a(3)) }},
			{"half-open from/to", "from=" + T(3) + "&to=" + T(7), func(r vqRow) bool {
				return vqOpen(r) && !r.created.Before(f.times[3]) && r.created.Before(f.times[7])
			}},
			{"resolved", "resolved=true", hasState("resolved")},
			{"whitelisted", "whitelisted=true", hasState("whitelisted")},
			{"whitelisted wins over resolved", "whitelisted=true&resolved=true", hasState("whitelisted")},
			{"state=any", "state=any", vqAny},
			{"state wins", "state=open&resolved=true&whitelisted=true", vqOpen},
			{"state=resolved", "state=resolved", hasState("resolved")},
			{"state=any, account, range", "state=any&accounts=" + a(1) + "&from=" + T(3) + "&to=" + T(7), func(r vqRow) bool {
				return r.account == a(1) && !r.created.Before(f.times[3]) && r.created.Before(f.times[7])
			}},
			{"nothing", "accounts=999999999999", func(vqRow) bool { return false }},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.get(t, "/api/violation-count?"+c.query, http.StatusOK)
				var got []AccountCount
				r.decode(t, &got)
				if got == nil {
					t.Fatalf("body %s is not an array", r.body)
				}
				want := f.countByAccount(c.keep)
				if !slices.Equal(got, want) {
					t.Errorf("?%s:\n got %v\nwant %v", c.query, got, want)
				}
			})
		}
	})

	t.Run("count by application", func(t *testing.T) {
		for _, c := range []struct {
			name, account, query string
			keep                 func(vqRow) bool
		}{
			{"default is open", a(0), "", vqOpen},
			{"state=any", a(0), "state=any", vqAny},
			{"other account", a(2), "", vqOpen},
			{"half-open from/to", a(0), "state=any&from=" + T(3) + "&to=" + T(13), func(r vqRow) bool {
				return !r.created.Before(f.times[3]) && r.created.Before(f.times[13])
			}},
			{"at from only", a(0), "state=any&from=" + T(12) + "&to=" + url.QueryEscape(vqFormat(f.times[12].Add(time.Millisecond))),
				func(r vqRow) bool { return r.created.Equal(f.times[12]) }},
			{"resolved", a(0), "resolved=true", hasState("resolved")},
			{"whitelisted", a(3), "whitelisted=true", hasState("whitelisted")},
			{"whitelisted wins over resolved", a(3), "resolved=true&whitelisted=true", hasState("whitelisted")},
			{"state wins", a(3), "state=resolved&whitelisted=true", hasState("resolved")},
			{"unknown account", "999999999999", "state=any", vqAny},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.get(t, "/api/violation-count/"+c.account+"?"+c.query, http.StatusOK)
				var got []ApplicationCount
				r.decode(t, &got)
				if got == nil {
					t.Fatalf("body %s is not an array", r.body)
				}
				want := f.countByApplication(c.account, c.keep)
				if c.account == a(0) && c.query == "" && len(want) < 6 {
					t.Fatalf("fixture: %d rows", len(want))
				}
				if len(got) != len(want) {
					t.Fatalf("?%s: %d rows, want %d:\n got %s\nwant %s", c.query, len(got), len(want), vqCounts(got), vqCounts(want))
				}
				for i := range got {
					if vqCounts(got[i:i+1]) != vqCounts(want[i:i+1]) {
						t.Fatalf("?%s: row %d differs:\n got %s\nwant %s", c.query, i, vqCounts(got), vqCounts(want))
					}
				}
			})
		}
	})

	// Values the database cannot compare with (text that is not UTF-8 or
	// holds NUL, integers beyond the integer columns, the year-1 instant)
	// select nothing or are a 400 naming the parameter; never a 500, never
	// everything.
	t.Run("edge values", func(t *testing.T) {
		for _, c := range []struct{ path, in, param string }{
			{"/api/violations?state=any&accounts=%ff", "query", "accounts"},
			{"/api/violations?state=any&accounts=a%00b", "query", "accounts"},
			{"/api/violations?state=any&type=%ff", "query", "type"},
			{"/api/violations?state=any&types=" + vqTypeRegion + "%00", "query", "types"},
			{"/api/violations?state=any&application-ids=%c3%28", "query", "application-ids"},
			{"/api/violations?state=any&application-version-ids=%ff", "query", "application-version-ids"},
			{"/api/violations?state=any&severity=9999999999", "query", "severity"},
			{"/api/violations?state=any&severity=2147483648", "query", "severity"},
			{"/api/violations?state=any&priority=-9999999999", "query", "priority"},
			{"/api/violations?state=any&to=0001-01-01T00:00:00Z", "query", "to"},
			{"/api/violations?state=any&to=0001-01-01", "query", "to"},
			{"/api/violation-count?state=any&accounts=%ff", "query", "accounts"},
			{"/api/violation-count?state=any&to=0001-01-01", "query", "to"},
			{"/api/violation-count/%ff?state=any", "path", "account"},
			{"/api/violation-count/" + a(0) + "%00?state=any", "path", "account"},
			{"/api/violation-count/" + a(0) + "?state=any&to=0001-01-01T00:00:00Z", "query", "to"},
		} {
			t.Run(c.path, func(t *testing.T) {
				r := e.do(t, http.MethodGet, c.path, nil)
				switch r.status {
				case http.StatusBadRequest:
					p := r.problem(t)
					if len(p.Errors) == 0 || p.Errors[0].Name != c.param || p.Errors[0].In != c.in {
						t.Errorf("%s: errors %+v, want errors[0] naming %s parameter %s", c.path, p.Errors, c.in, c.param)
					}
				case http.StatusOK:
					if strings.HasPrefix(c.path, "/api/violations?") {
						var p Page[Violation]
						r.decode(t, &p)
						if p.TotalElements != 0 {
							t.Errorf("%s: %d violations, want none (or a 400 naming %s)", c.path, p.TotalElements, c.param)
						}
					} else if s := strings.TrimSpace(string(r.body)); s != "[]" {
						t.Errorf("%s: counts %.300s, want [] (or a 400 naming %s)", c.path, s, c.param)
					}
				default:
					t.Errorf("%s: %d %s, want 200 selecting nothing or 400 naming %s parameter %s", c.path, r.status, r.body, c.in, c.param)
				}
			})
		}
	})

	t.Run("bad parameters", func(t *testing.T) {
		for _, c := range []struct{ path, param string }{
			{"/api/violations?from=yesterday", "from"},
			{"/api/violations?to=2024-13-01", "to"},
			{"/api/violations?from=2024-05-01T25:00:00Z", "from"},
			{"/api/violations?severity=x", "severity"},
			{"/api/violations?priority=1.5", "priority"},
			{"/api/violations?last-violation=abc", "last-violation"},
			{"/api/violations?checked=maybe", "checked"},
			{"/api/violations?whitelisted=2", "whitelisted"},
			{"/api/violations?audit-relevant=perhaps", "audit-relevant"},
			{"/api/violations?state=closed", "state"},
			{"/api/violations?state=OPEN", "state"},
			{"/api/violations?accounts=" + a(0) + "&severity=high", "severity"},
			{"/api/violation-count?from=yesterday", "from"},
			{"/api/violation-count?resolved=maybe", "resolved"},
			{"/api/violation-count?state=closed", "state"},
			{"/api/violation-count/" + a(0) + "?to=never", "to"},
			{"/api/violation-count/" + a(0) + "?whitelisted=maybe", "whitelisted"},
		} {
			t.Run(c.path, func(t *testing.T) {
				r := e.get(t, c.path, http.StatusBadRequest)
				p := r.problem(t)
				if len(p.Errors) == 0 || p.Errors[0].Name != c.param || p.Errors[0].In != "query" {
					t.Errorf("%s: errors %+v, want errors[0] naming query parameter %s", c.path, p.Errors, c.param)
				}
				if p.Instance != strings.SplitN(c.path, "?", 2)[0] {
					t.Errorf("instance %q", p.Instance)
				}
			})
		}
	})
}

// pageEnvelope is a page without its content, for messages.
func pageEnvelope(p Page[Violation]) Page[Violation] {
	p.Content = nil
	return p
}

// countByAccount counts the rows keep selects as GET /api/violation-count.
func (f *vqFixture) countByAccount(keep func(vqRow) bool) []AccountCount {
	n := map[[2]string]int64{}
	for _, r := range f.rows {
		if keep(r) {
			n[[2]string{r.account, r.typ}]++
		}
	}
	out := []AccountCount{}
	for k, q := range n {
		out = append(out, AccountCount{Account: k[0], Type: k[1], Quantity: q})
	}
	slices.SortFunc(out, func(x, y AccountCount) int {
		return cmp.Or(strings.Compare(x.Account, y.Account), strings.Compare(x.Type, y.Type))
	})
	return out
}

// countByApplication counts the rows of account keep selects as GET
// /api/violation-count/{account}: by application (none last), version
// (newest first, none last) and type.
func (f *vqFixture) countByApplication(account string, keep func(vqRow) bool) []ApplicationCount {
	n := map[[3]string]int64{}
	for _, r := range f.rows {
		if r.account == account && keep(r) {
			n[[3]string{r.app, r.ver, r.typ}]++
		}
	}
	keys := slices.Collect(func(yield func([3]string) bool) {
		for k := range n {
			if !yield(k) {
				return
			}
		}
	})
	lastIfEmpty := func(x, y string) int {
		switch {
		case x == y:
			return 0
		case x == "":
			return 1
		case y == "":
			return -1
		}
		return 0
	}
	slices.SortFunc(keys, func(x, y [3]string) int {
		if c := lastIfEmpty(x[0], y[0]); c != 0 {
			return c
		}
		if c := strings.Compare(x[0], y[0]); c != 0 {
			return c
		}
		if c := lastIfEmpty(x[1], y[1]); c != 0 {
			return c
		}
		if x[1] != "" && y[1] != "" {
			if c := cmp.Compare(f.verSeq[[2]string{y[0], y[1]}], f.verSeq[[2]string{x[0], x[1]}]); c != 0 {
				return c
			}
		}
		return cmp.Or(strings.Compare(x[1], y[1]), strings.Compare(x[2], y[2]))
	})
	out := []ApplicationCount{}
	for _, k := range keys {
		out = append(out, ApplicationCount{Application: nonEmpty(k[0]), Version: nonEmpty(k[1]), Type: k[2], Quantity: n[k]})
	}
	return out
}

// vqCounts shows count rows.
func vqCounts(cs []ApplicationCount) string {
	var b strings.Builder
	for _, c := range cs {
		s := func(p *string) string {
			if p == nil {
				return "<null>"
			}
			return *p
		}
		fmt.Fprintf(&b, "[%s %s %s %d] ", s(c.Application), s(c.Version), c.Type, c.Quantity)
	}
	return b.String()
}

// vqKey is the value a violation is sorted by.
type vqKey struct {
	null bool
	n    int64
	s    string
}

func vqStr(p *string) vqKey {
	if p == nil {
		return vqKey{null: true}
	}
	return vqKey{s: *p}
}

func vqTime(t *Time) vqKey {
	if t == nil {
		return vqKey{null: true}
	}
	return vqKey{n: time.Time(*t).UnixMilli()}
}

// vqSortKey returns what sort property prop sorts v by, as the JSON shows it.
func vqSortKey(t *testing.T, prop string, v Violation) vqKey {
	t.Helper()
	switch prop {
	case "id":
		return vqKey{n: v.ID}
	case "version":
		return vqKey{n: v.Version}
	case "eventId":
		return vqStr(v.EventID)
	case "accountId":
		return vqStr(v.AccountID)
	case "region":
		return vqStr(v.Region)
	case "instanceId":
		return vqStr(v.InstanceID)
	case "metaInfo":
		if string(v.MetaInfo) == "null" {
			return vqKey{null: true}
		}
		return vqKey{s: string(v.MetaInfo)}
	case "comment":
		return vqStr(v.Comment)
	case "pluginFullyQualifiedClassName":
		return vqStr(v.PluginFullyQualifiedClassName)
	case "username":
		return vqStr(v.Username)
	case "violationType", "violationTypeEntity":
		return vqKey{s: v.ViolationType.ID}
	case "ruleEntity":
		if v.RuleID == nil {
			return vqKey{null: true}
		}
		return vqKey{n: *v.RuleID}
	case "application":
		return vqStr(v.ApplicationID)
	case "applicationVersion":
		return vqStr(v.ApplicationVersionID)
	case "created":
		c := v.Created
		return vqTime(&c)
	case "createdBy":
		return vqStr(v.CreatedBy)
	case "lastModified":
		return vqTime(v.LastModified)
	case "lastModifiedBy":
		return vqStr(v.LastModifiedBy)
	case "eventTime":
		return vqTime(v.EventTime)
	case "lastSeen":
		l := v.LastSeen
		return vqTime(&l)
	case "seenCount":
		return vqKey{n: int64(v.SeenCount)}
	}
	t.Fatalf("sort property %q has no key in the test: add it", prop)
	return vqKey{}
}

// vqCompare orders two keys as the API does: NULL last in both directions.
func vqCompare(x, y vqKey, desc bool) int {
	if x.null || y.null {
		switch {
		case x.null == y.null:
			return 0
		case x.null:
			return 1
		}
		return -1
	}
	c := cmp.Or(cmp.Compare(x.n, y.n), strings.Compare(x.s, y.s))
	if desc {
		c = -c
	}
	return c
}

// vqIDOf returns the id of the violation with the given event id.
func vqIDOf(t *testing.T, e *env, eventID string) int64 {
	t.Helper()
	var id int64
	if err := e.db.QueryRow(context.Background(), `SELECT id FROM fullstop_data.violation WHERE event_id = $1`, eventID).Scan(&id); err != nil {
		t.Fatalf("violation %s: %v", eventID, err)
	}
	return id
}

// vqGet returns violation id.
func vqGet(t *testing.T, e *env, id int64) Violation {
	t.Helper()
	var v Violation
	e.get(t, fmt.Sprintf("/api/violations/%d", id), http.StatusOK).decode(t, &v)
	return v
}

// vqKeys returns the keys of a JSON object.
func vqKeys(t *testing.T, raw []byte) (map[string]json.RawMessage, []string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, raw)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return m, keys
}

// vqWantProblem checks that r is a problem of status naming field in in.
func vqWantProblem(t *testing.T, r reply, status int, in, field string) Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	p := r.problem(t)
	if field != "" && (len(p.Errors) != 1 || p.Errors[0].Name != field || p.Errors[0].In != in) {
		t.Errorf("errors %+v, want one naming %s field %s", p.Errors, in, field)
	}
	return p
}

func TestViolationGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.store(t, gen(1), gen(2), gen(3), gen(4), gen(5))
	id := vqIDOf(t, e, gen(1).EventID)
	e.exec(t, `UPDATE fullstop_data.violation SET created = $1 WHERE id = $2`,
		time.Date(2015, 5, 21, 12, 24, 47, 788_999_000, time.FixedZone("", 2*3600)), id)

	t.Run("shape", func(t *testing.T) {
		r := e.get(t, fmt.Sprintf("/api/violations/%d", id), http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
		m, keys := vqKeys(t, r.body)
		wantKeys := []string{"account_id", "application_id", "application_version_id", "comment", "created", "created_by",
			"event_id", "event_time", "id", "instance_id", "last_modified", "last_modified_by", "last_seen", "meta_info",
			"plugin_fully_qualified_class_name", "region", "rule_id", "seen_count", "username", "version", "violation_type"}
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("keys %v, want %v", keys, wantKeys)
		}
		tm, tkeys := vqKeys(t, m["violation_type"])
		wantTypeKeys := []string{"audit_relevant", "created", "created_by", "help_text", "id", "last_modified",
			"last_modified_by", "priority", "title", "version", "violation_severity"}
		if !slices.Equal(tkeys, wantTypeKeys) {
			t.Errorf("violation_type keys %v, want %v", tkeys, wantTypeKeys)
		}
		for name, raw := range map[string]json.RawMessage{"created": m["created"], "last_modified": m["last_modified"],
			"last_seen": m["last_seen"], "event_time": m["event_time"], "violation_type.created": tm["created"],
			"violation_type.last_modified": tm["last_modified"]} {
			var s string
			if err := json.Unmarshal(raw, &s); err != nil || !isoMillisRE.MatchString(s) {
				t.Errorf("%s %s is not an ISO 8601 UTC date with milliseconds", name, raw)
			}
		}
		if got := string(m["created"]); got != `"2015-05-21T10:24:47.788Z"` {
			t.Errorf("created %s, want \"2015-05-21T10:24:47.788Z\"", got)
		}
		if got := string(m["event_time"]); got != `"2024-05-01T00:00:01.000Z"` {
			t.Errorf("event_time %s, want \"2024-05-01T00:00:01.000Z\"", got)
		}
		var meta any
		if err := json.Unmarshal(m["meta_info"], &meta); err != nil {
			t.Fatal(err)
		}
		if want := map[string]any{"n": 1.0, "ami_name": "ami-1"}; fmt.Sprint(meta) != fmt.Sprint(want) {
			t.Errorf("meta_info %s, want the object %v", m["meta_info"], want)
		}
		var v Violation
		r.decode(t, &v)
		g := gen(1)
		str := func(p *string) string {
			if p == nil {
				return "<null>"
			}
			return *p
		}
		for _, c := range []struct{ name, got, want string }{
			{"event_id", str(v.EventID), g.EventID},
			{"account_id", str(v.AccountID), g.AccountID},
			{"region", str(v.Region), g.Region},
			{"instance_id", str(v.InstanceID), g.InstanceID},
			{"username", str(v.Username), g.Username},
			{"plugin_fully_qualified_class_name", str(v.PluginFullyQualifiedClassName), g.Rule},
			{"comment", str(v.Comment), "<null>"},
			{"application_id", str(v.ApplicationID), "<null>"},
			{"application_version_id", str(v.ApplicationVersionID), "<null>"},
			{"created_by", str(v.CreatedBy), "FULLSTOP"},
			{"last_modified_by", str(v.LastModifiedBy), "FULLSTOP"},
			{"violation_type.id", v.ViolationType.ID, vqTypeKeypair},
			{"violation_type.title", str(v.ViolationType.Title), "EC2 SSH Keypair used"},
			{"violation_type.created_by", str(v.ViolationType.CreatedBy), "migration"},
		} {
			if c.got != c.want {
				t.Errorf("%s %q, want %q", c.name, c.got, c.want)
			}
		}
		if v.ID != id || v.Version != 0 || v.SeenCount != 1 || v.RuleID != nil {
			t.Errorf("id %d version %d seen_count %d rule_id %v, want %d 0 1 nil", v.ID, v.Version, v.SeenCount, v.RuleID, id)
		}
		if vt := v.ViolationType; vt.ViolationSeverity != 0 || vt.Priority == nil || *vt.Priority != 4 || vt.AuditRelevant || vt.HelpText == "" {
			t.Errorf("violation_type %+v", vt)
		}
	})

	t.Run("meta_info", func(t *testing.T) {
		for _, c := range []struct{ name, stored, want string }{
			{"text", "not json {", `{"data":"not json {"}`},
			{"text with quotes", `say "hi"`, `{"data":"say \"hi\""}`},
			{"array", `[1,"a"]`, `[1,"a"]`},
			{"object", `{"a":{"b":[true,null]}}`, `{"a":{"b":[true,null]}}`},
		} {
			t.Run(c.name, func(t *testing.T) {
				vid := vqIDOf(t, e, gen(2).EventID)
				e.exec(t, `UPDATE fullstop_data.violation SET meta_info = $1 WHERE id = $2`, c.stored, vid)
				m, _ := vqKeys(t, e.get(t, fmt.Sprintf("/api/violations/%d", vid), http.StatusOK).body)
				if got := string(m["meta_info"]); got != c.want {
					t.Errorf("meta_info %s stored as %q, want %s", got, c.stored, c.want)
				}
			})
		}
		t.Run("NULL", func(t *testing.T) {
			vid := vqIDOf(t, e, gen(3).EventID)
			e.exec(t, `UPDATE fullstop_data.violation SET meta_info = NULL WHERE id = $1`, vid)
			m, _ := vqKeys(t, e.get(t, fmt.Sprintf("/api/violations/%d", vid), http.StatusOK).body)
			if got := string(m["meta_info"]); got != "null" {
				t.Errorf("meta_info %s, want null", got)
			}
		})
	})

	t.Run("unknown id", func(t *testing.T) {
		for _, p := range []string{"/api/violations/999999", "/api/violations/0", "/api/violations/-3"} {
			vqWantProblem(t, e.do(t, http.MethodGet, p, nil), http.StatusNotFound, "", "")
		}
	})
	t.Run("malformed id", func(t *testing.T) {
		for _, p := range []string{"/api/violations/abc", "/api/violations/1.5", "/api/violations/99999999999999999999"} {
			vqWantProblem(t, e.do(t, http.MethodGet, p, nil), http.StatusBadRequest, "path", "id")
		}
	})
}

// vqNewViolation is a valid body of POST /api/violations.
func vqNewViolation(event string) map[string]any {
	return map[string]any{
		"event_id": event, "account_id": "555555555555", "region": "eu-central-1",
		"meta_info": map[string]any{"ami_name": "taupage"}, "violation_type": vqTypeRegion, "instance_id": "i-55",
		"username": "bob",
	}
}

func TestViolationCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	list := func(t *testing.T, query string) []Violation {
		t.Helper()
		return e.page(t, "state=any&size=1000&"+query).Content
	}

	t.Run("stored", func(t *testing.T) {
		body := vqNewViolation("create-1")
		body["application_id"] = "shop"
		body["application_version"] = "1.2.3"
		r := e.do(t, http.MethodPost, "/api/violations", body)
		if r.status != http.StatusAccepted || len(r.body) != 0 {
			t.Fatalf("POST: %d %q, want 202 with an empty body", r.status, r.body)
		}
		vs := list(t, "accounts=555555555555")
		if len(vs) != 1 {
			t.Fatalf("%d violations stored, want 1", len(vs))
		}
		v := vqGet(t, e, vs[0].ID)
		if v.CreatedBy == nil || *v.CreatedBy != "local" || v.PluginFullyQualifiedClassName != nil ||
			v.ApplicationID == nil || *v.ApplicationID != "shop" || v.ApplicationVersionID == nil || *v.ApplicationVersionID != "1.2.3" ||
			v.EventID == nil || *v.EventID != "create-1" || v.Region == nil || *v.Region != "eu-central-1" ||
			v.Username == nil || *v.Username != "bob" || v.ViolationType.ID != vqTypeRegion || v.SeenCount != 1 ||
			v.Comment != nil || v.RuleID != nil || string(v.MetaInfo) != `{"ami_name":"taupage"}` {
			t.Errorf("stored %+v", v)
		}
		if got := ids(e.page(t, "application-ids=shop&application-version-ids=1.2.3")); !slices.Equal(got, []int64{v.ID}) {
			t.Errorf("by application and version: %v, want [%d]", got, v.ID)
		}

		// The same identity again: one row, seen twice.
		if r := e.do(t, http.MethodPost, "/api/violations", body); r.status != http.StatusAccepted {
			t.Fatalf("POST again: %d %s", r.status, r.body)
		}
		vs = list(t, "accounts=555555555555")
		if len(vs) != 1 || vs[0].SeenCount != 2 {
			t.Errorf("after the same violation again: %d rows, seen_count %d; want 1 row, seen 2", len(vs), vs[0].SeenCount)
		}
	})

	t.Run("unknown type is created", func(t *testing.T) {
		body := vqNewViolation("create-2")
		body["violation_type"] = "MY_NEW_TYPE"
		if r := e.do(t, http.MethodPost, "/api/violations", body); r.status != http.StatusAccepted {
			t.Fatalf("POST: %d %s", r.status, r.body)
		}
		vs := list(t, "type=MY_NEW_TYPE")
		if len(vs) != 1 {
			t.Fatalf("%d violations of the new type", len(vs))
		}
		var types []ViolationType
		e.get(t, "/api/violation-types", http.StatusOK).decode(t, &types)
		i := slices.IndexFunc(types, func(x ViolationType) bool { return x.ID == "MY_NEW_TYPE" })
		if len(types) != 32 || i < 0 {
			t.Fatalf("%d types, MY_NEW_TYPE at %d", len(types), i)
		}
		if x := types[i]; x.HelpText != "This is only a default message" || x.ViolationSeverity != 0 || x.Priority != nil ||
			x.Title != nil || x.AuditRelevant {
			t.Errorf("created type %+v", x)
		}
	})

	t.Run("whitelisted when new", func(t *testing.T) {
		r := e.do(t, http.MethodPost, "/api/whitelisting-rules", map[string]any{"region": "ap-south-1", "reason": "lab"})
		if r.status != http.StatusCreated {
			t.Fatalf("create rule: %d %s", r.status, r.body)
		}
		var rule Rule
		r.decode(t, &rule)
		body := vqNewViolation("create-3")
		body["region"] = "ap-south-1"
		if r := e.do(t, http.MethodPost, "/api/violations", body); r.status != http.StatusAccepted {
			t.Fatalf("POST: %d %s", r.status, r.body)
		}
		vs := e.page(t, "whitelisted=true").Content
		if len(vs) != 1 || vs[0].RuleID == nil || *vs[0].RuleID != rule.ID || vs[0].EventID == nil || *vs[0].EventID != "create-3" {
			t.Errorf("whitelisted: %+v", vs)
		}
	})

	t.Run("unknown fields are ignored", func(t *testing.T) {
		body := vqNewViolation("create-4")
		body["account_id"] = "444444444444"
		body["foo"] = []int{1}
		body["plugin_fully_qualified_class_name"] = "com.example.Plugin"
		body["comment"] = "sneaky"
		if r := e.do(t, http.MethodPost, "/api/violations", body); r.status != http.StatusAccepted {
			t.Fatalf("POST: %d %s", r.status, r.body)
		}
		vs := list(t, "accounts=444444444444")
		if len(vs) != 1 || vs[0].PluginFullyQualifiedClassName != nil || vs[0].Comment != nil {
			t.Errorf("stored %+v", vs)
		}
	})

	t.Run("content types", func(t *testing.T) {
		b, _ := json.Marshal(vqNewViolation("create-5"))
		if r := e.do(t, http.MethodPost, "/api/violations", b, "Content-Type", "application/json; charset=utf-8"); r.status != http.StatusAccepted {
			t.Errorf("application/json; charset=utf-8: %d %s", r.status, r.body)
		}
		for _, ct := range []string{"text/plain", "application/xml", "application/x-www-form-urlencoded"} {
			vqWantProblem(t, e.do(t, http.MethodPost, "/api/violations", b, "Content-Type", ct), http.StatusUnsupportedMediaType, "", "")
		}
	})

	t.Run("missing fields", func(t *testing.T) {
		for _, field := range []string{"event_id", "account_id", "region", "meta_info", "violation_type"} {
			t.Run(field, func(t *testing.T) {
				body := vqNewViolation("missing-" + field)
				delete(body, field)
				vqWantProblem(t, e.do(t, http.MethodPost, "/api/violations", body), http.StatusBadRequest, "body", field)
				if field == "meta_info" {
					body[field] = nil
				} else {
					body[field] = "  "
				}
				vqWantProblem(t, e.do(t, http.MethodPost, "/api/violations", body), http.StatusBadRequest, "body", field)
			})
		}
		t.Run("all", func(t *testing.T) {
			p := vqWantProblem(t, e.do(t, http.MethodPost, "/api/violations", []byte(`{}`)), http.StatusBadRequest, "", "")
			var names []string
			for _, f := range p.Errors {
				names = append(names, f.Name)
			}
			slices.Sort(names)
			if want := []string{"account_id", "event_id", "meta_info", "region", "violation_type"}; !slices.Equal(names, want) {
				t.Errorf("errors name %v, want %v", names, want)
			}
		})
	})

	t.Run("wrong JSON types", func(t *testing.T) {
		for field, value := range map[string]any{
			"account_id": 123, "event_id": true, "region": []string{"a"}, "violation_type": map[string]any{"id": "x"},
			"instance_id": 5, "application_id": false,
		} {
			t.Run(field, func(t *testing.T) {
				body := vqNewViolation("wrong-" + field)
				body[field] = value
				vqWantProblem(t, e.do(t, http.MethodPost, "/api/violations", body), http.StatusBadRequest, "body", field)
			})
		}
	})

	t.Run("malformed bodies", func(t *testing.T) {
		for _, b := range []string{`{"event_id": "x",`, `not json`, ``, `{"event_id":"x"} {"event_id":"y"}`, `[]`, `"text"`, `null`} {
			vqWantProblem(t, e.do(t, http.MethodPost, "/api/violations", []byte(b)), http.StatusBadRequest, "", "")
		}
	})

	t.Run("body over 1 MiB", func(t *testing.T) {
		before := len(list(t, ""))
		body := vqNewViolation("big")
		body["meta_info"] = map[string]any{"blob": strings.Repeat("a", DefaultMaxBodyBytes+10)}
		vqWantProblem(t, e.do(t, http.MethodPost, "/api/violations", body), http.StatusRequestEntityTooLarge, "", "")
		if n := len(list(t, "")); n != before {
			t.Errorf("%d violations after the refused one, want %d", n, before)
		}
	})
}

func TestViolationResolution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.store(t, gen(0), gen(1), gen(2), gen(3), gen(4), gen(5), gen(6))
	id := func(i int) int64 { return vqIDOf(t, e, gen(i).EventID) }
	resolve := func(t *testing.T, vid int64, body any, header ...string) reply {
		t.Helper()
		return e.do(t, http.MethodPost, fmt.Sprintf("/api/violations/%d/resolution", vid), body, header...)
	}
	inList := func(t *testing.T, query string, vid int64) bool {
		t.Helper()
		return slices.Contains(ids(e.page(t, "size=1000&"+query)), vid)
	}

	t.Run("text/plain", func(t *testing.T) {
		vid := id(0)
		before := vqGet(t, e, vid)
		comment := "Fixed in release 42: see \"JIRA-1\", {not json}.\nSecond line – ü"
		r := resolve(t, vid, comment)
		if r.status != http.StatusOK {
			t.Fatalf("resolve: %d %s", r.status, r.body)
		}
		var v Violation
		r.decode(t, &v)
		if v.Comment == nil || *v.Comment != comment {
			t.Errorf("comment %v, want %q", v.Comment, comment)
		}
		if v.Version != before.Version+1 || v.LastModifiedBy == nil || *v.LastModifiedBy != "local" ||
			*before.LastModifiedBy != "FULLSTOP" || time.Time(*v.LastModified).Before(time.Time(*before.LastModified)) {
			t.Errorf("version %d → %d, last_modified_by %v → %v, last_modified %v → %v",
				before.Version, v.Version, *before.LastModifiedBy, *v.LastModifiedBy, *before.LastModified, *v.LastModified)
		}
		if v.CreatedBy == nil || *v.CreatedBy != "FULLSTOP" || v.RuleID != nil {
			t.Errorf("created_by %v rule_id %v", v.CreatedBy, v.RuleID)
		}
		if got := vqGet(t, e, vid); got.Comment == nil || *got.Comment != comment || got.Version != v.Version {
			t.Errorf("read back: comment %v version %d", got.Comment, got.Version)
		}
		if inList(t, "", vid) || !inList(t, "checked=true", vid) {
			t.Errorf("a resolved violation is in the open list or not in the checked one")
		}
		// Resolving again overwrites the comment.
		r = resolve(t, vid, "second")
		r.decode(t, &v)
		if r.status != http.StatusOK || v.Comment == nil || *v.Comment != "second" || v.Version != before.Version+2 {
			t.Errorf("resolve again: %d comment %v version %d", r.status, v.Comment, v.Version)
		}
	})

	t.Run("text/plain that looks like a JSON string is kept as it is", func(t *testing.T) {
		vid := id(1)
		r := resolve(t, vid, `"quoted"`)
		var v Violation
		r.decode(t, &v)
		if r.status != http.StatusOK || v.Comment == nil || *v.Comment != `"quoted"` {
			t.Errorf("text/plain %q: %d, comment %q, want it as it is", `"quoted"`, r.status, vqDeref(v.Comment))
		}
	})

	t.Run("JSON string is unquoted", func(t *testing.T) {
		for _, ct := range []string{"application/json", "application/json; charset=utf-8"} {
			vid := id(2)
			r := resolve(t, vid, []byte(`"fixed \"it\""`), "Content-Type", ct)
			var v Violation
			r.decode(t, &v)
			if r.status != http.StatusOK || v.Comment == nil || *v.Comment != `fixed "it"` {
				t.Errorf("%s: %d, comment %q, want %q", ct, r.status, vqDeref(v.Comment), `fixed "it"`)
			}
		}
	})

	t.Run("refused bodies", func(t *testing.T) {
		vid := id(3)
		for _, c := range []struct {
			name string
			body any
			ct   string
		}{
			{"empty", "", "text/plain"},
			{"whitespace", " \n\t ", "text/plain"},
			{"empty JSON string", []byte(`""`), "application/json"},
			{"blank JSON string", []byte(`"  "`), "application/json"},
			{"JSON object", []byte(`{"comment":"fixed"}`), "application/json"},
			{"JSON number", []byte(`42`), "application/json"},
			{"not JSON", []byte(`fixed`), "application/json"},
		} {
			t.Run(c.name, func(t *testing.T) {
				vqWantProblem(t, resolve(t, vid, c.body, "Content-Type", c.ct), http.StatusBadRequest, "", "")
			})
		}
		if v := vqGet(t, e, vid); v.Comment != nil || v.Version != 0 {
			t.Errorf("after refused resolutions: comment %q version %d", vqDeref(v.Comment), v.Version)
		}
		vqWantProblem(t, resolve(t, vid, strings.Repeat("x", DefaultMaxBodyBytes+1)), http.StatusRequestEntityTooLarge, "", "")
	})

	t.Run("unknown and malformed id", func(t *testing.T) {
		vqWantProblem(t, resolve(t, 999999, "fixed"), http.StatusNotFound, "", "")
		vqWantProblem(t, e.do(t, http.MethodPost, "/api/violations/abc/resolution", "fixed"), http.StatusBadRequest, "path", "id")
		vqWantProblem(t, e.do(t, http.MethodDelete, "/api/violations/999999/resolution", nil), http.StatusNotFound, "", "")
		vqWantProblem(t, e.do(t, http.MethodDelete, "/api/violations/abc/resolution", nil), http.StatusBadRequest, "path", "id")
	})

	t.Run("reopen resolved", func(t *testing.T) {
		vid := id(4)
		if r := resolve(t, vid, "done"); r.status != http.StatusOK {
			t.Fatalf("resolve: %d %s", r.status, r.body)
		}
		r := e.do(t, http.MethodDelete, fmt.Sprintf("/api/violations/%d/resolution", vid), nil)
		if r.status != http.StatusOK {
			t.Fatalf("reopen: %d %s", r.status, r.body)
		}
		var v Violation
		r.decode(t, &v)
		if v.Comment != nil || v.RuleID != nil || v.Version != 2 || v.LastModifiedBy == nil || *v.LastModifiedBy != "local" {
			t.Errorf("reopened: comment %q rule %v version %d", vqDeref(v.Comment), v.RuleID, v.Version)
		}
		if !inList(t, "", vid) || inList(t, "checked=true", vid) {
			t.Errorf("a reopened violation is not in the open list, or in the checked one")
		}
	})

	t.Run("whitelisted: resolve keeps the rule, reopen removes it", func(t *testing.T) {
		vid := id(5) // account 1, LAMBDA
		r := e.do(t, http.MethodPost, "/api/whitelisting-rules", map[string]any{
			"account_id": vqAccount(1), "violation_type": vqTypeLambda, "reason": "lambda ok"})
		if r.status != http.StatusCreated {
			t.Fatalf("create rule: %d %s", r.status, r.body)
		}
		var rule Rule
		r.decode(t, &rule)
		if r := e.do(t, http.MethodPost, fmt.Sprintf("/api/whitelisting-rules/%d/apply", rule.ID), nil); r.status != http.StatusOK {
			t.Fatalf("apply: %d %s", r.status, r.body)
		}
		v := vqGet(t, e, vid)
		if v.RuleID == nil || *v.RuleID != rule.ID || vqDeref(v.Comment) != "Whitelisted automatically because of:lambda ok" {
			t.Fatalf("after apply: rule %v comment %q", v.RuleID, vqDeref(v.Comment))
		}
		r = resolve(t, vid, "looked at it")
		r.decode(t, &v)
		if r.status != http.StatusOK || vqDeref(v.Comment) != "looked at it" || v.RuleID == nil || *v.RuleID != rule.ID {
			t.Errorf("resolve whitelisted: %d comment %q rule %v", r.status, vqDeref(v.Comment), v.RuleID)
		}
		if !inList(t, "whitelisted=true", vid) || inList(t, "checked=true", vid) {
			t.Errorf("a resolved whitelisted violation must stay whitelisted")
		}
		r = e.do(t, http.MethodDelete, fmt.Sprintf("/api/violations/%d/resolution", vid), nil)
		r.decode(t, &v)
		if r.status != http.StatusOK || v.Comment != nil || v.RuleID != nil {
			t.Errorf("reopen whitelisted: %d comment %q rule %v", r.status, vqDeref(v.Comment), v.RuleID)
		}
		if !inList(t, "", vid) || inList(t, "whitelisted=true", vid) {
			t.Errorf("a reopened violation is not in the open list, or in the whitelisted one")
		}
	})

	t.Run("reopen open", func(t *testing.T) {
		vid := id(6)
		r := e.do(t, http.MethodDelete, fmt.Sprintf("/api/violations/%d/resolution", vid), nil)
		var v Violation
		r.decode(t, &v)
		if r.status != http.StatusOK || v.Comment != nil || v.RuleID != nil {
			t.Errorf("reopen an open violation: %d %s", r.status, r.body)
		}
	})
}

func vqDeref(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func TestViolationTypesList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src, err := fs.ReadFile(migrations.FS, "00003_violation_types.sql")
	if err != nil {
		t.Fatal(err)
	}
	type seeded struct {
		title              string
		severity, priority int
	}
	want := map[string]seeded{}
	for _, m := range regexp.MustCompile(`(?m)^\s+\('([A-Z0-9_]+)', '([^']*)', (\d+), (\d+),`).FindAllStringSubmatch(string(src), -1) {
		sev, _ := strconv.Atoi(m[3])
		prio, _ := strconv.Atoi(m[4])
		want[m[1]] = seeded{m[2], sev, prio}
	}
	if len(want) != 31 {
		t.Fatalf("the migration seeds %d types, want 31", len(want))
	}
	r := e.get(t, "/api/violation-types", http.StatusOK)
	var raw []json.RawMessage
	r.decode(t, &raw)
	var types []ViolationType
	r.decode(t, &types)
	if len(types) != 31 {
		t.Fatalf("%d types, want 31", len(types))
	}
	seen := map[string]bool{}
	for i, x := range types {
		m, keys := vqKeys(t, raw[i])
		if want := []string{"audit_relevant", "created", "created_by", "help_text", "id", "last_modified",
			"last_modified_by", "priority", "title", "version", "violation_severity"}; !slices.Equal(keys, want) {
			t.Errorf("%s: keys %v, want %v", x.ID, keys, want)
		}
		for _, k := range []string{"created", "last_modified"} {
			var s string
			if json.Unmarshal(m[k], &s) != nil || !isoMillisRE.MatchString(s) {
				t.Errorf("%s: %s %s", x.ID, k, m[k])
			}
		}
		w, ok := want[x.ID]
		if !ok || seen[x.ID] {
			t.Errorf("type %s unexpected or repeated", x.ID)
			continue
		}
		seen[x.ID] = true
		if vqDeref(x.Title) != w.title || x.ViolationSeverity != w.severity || x.Priority == nil || *x.Priority != w.priority ||
			x.AuditRelevant || x.HelpText == "" || vqDeref(x.CreatedBy) != "migration" || x.Version != 0 {
			t.Errorf("type %+v, want %+v", x, w)
		}
	}
}
