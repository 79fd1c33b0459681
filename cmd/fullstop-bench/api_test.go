package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func testDataset() *apiDataset {
	ds := &apiDataset{Now: time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC), Rules: []int64{7, 8}}
	ds.Accounts = apiAccounts(rand.New(rand.NewPCG(1, 2)), 40)
	ds.Types = []string{"WRONG_REGION", "EC2_WITH_KEYPAIR", "PASSWORD_USED", "MISSING_USER_DATA", "WRONG_AMI",
		"ACTIVE_KEY_TOO_OLD", "SCM_SOURCE_JSON_MISSING", "CROSS_ACCOUNT_ROLE", "OUTDATED_TAUPAGE", "MISSING_SPEC_LINKS",
		"UNSECURED_ROOT_USER", "MISSING_VERSION_APPROVAL"}
	ds.IDs = []int64{11, 22, 33}
	return ds
}

func TestAPICases(t *testing.T) {
	t.Parallel()
	ds := testDataset()
	cases := apiCases("http://127.0.0.1:1", ds, ds.IDs, 200, 5, 1)
	if len(cases) != len(apiCaseNames) {
		t.Fatalf("%d cases, want %d", len(cases), len(apiCaseNames))
	}
	byName := map[string]apiCase{}
	for i, c := range cases {
		if c.name != apiCaseNames[i] {
			t.Errorf("case %d is %q, want %q", i, c.name, apiCaseNames[i])
		}
		byName[c.name] = c
		for _, tg := range c.targets {
			if tg.Method != "GET" || !strings.HasPrefix(tg.URL, "http://127.0.0.1:1/api/violation") {
				t.Errorf("case %s: target %s %s", c.name, tg.Method, tg.URL)
			}
		}
	}
	a := byName["a"]
	if len(a.targets) != apiAccountSets || a.rate != 200 || a.aim == nil || a.aim.P99 != 25*time.Millisecond {
		t.Errorf("case a: %d targets, rate %d, aim %v", len(a.targets), a.rate, a.aim)
	}
	u, err := url.Parse(a.targets[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if accts := strings.Split(q.Get("accounts"), ","); len(accts) != 5 || q.Get("size") != "100" || q.Get("sort") != "id,desc" || u.Path != "/api/violations" {
		t.Errorf("case a target %s", a.targets[0].URL)
	}
	u, _ = url.Parse(byName["b"].targets[0].URL)
	q = u.Query()
	from, err := time.Parse(time.RFC3339, q.Get("from"))
	if err != nil || !from.Equal(ds.Now.AddDate(0, 0, -30)) || len(strings.Split(q.Get("types"), ",")) != 2 || len(strings.Split(q.Get("accounts"), ",")) != 5 {
		t.Errorf("case b target %s (from %v)", byName["b"].targets[0].URL, err)
	}
	if c := byName["c"]; len(c.targets) != 1 || !strings.HasSuffix(c.targets[0].URL, "/api/violations?size=100") || c.aim != nil {
		t.Errorf("case c: %+v", c)
	}
	if e := byName["e"]; e.rate != 5 || e.aim == nil || e.aim.P99 != 300*time.Millisecond || !strings.HasSuffix(e.targets[0].URL, "/api/violation-count") {
		t.Errorf("case e: %+v", e)
	}
	if f := byName["f"]; len(f.targets) != len(ds.Accounts) || !strings.Contains(f.targets[0].URL, "/api/violation-count/") {
		t.Errorf("case f: %d targets", len(f.targets))
	}
}

// The static targeter of case d cycles through every id, then starts over.
func TestAPITargeterCycles(t *testing.T) {
	t.Parallel()
	ds := testDataset()
	d := apiCases("http://h", ds, ds.IDs, 200, 5, 1)[3]
	tr := vegeta.NewStaticTargeter(d.targets...)
	var got []string
	for i := 0; i < 7; i++ {
		var tg vegeta.Target
		if err := tr(&tg); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.TrimPrefix(tg.URL, "http://h/api/violations/"))
	}
	if want := "11 22 33 11 22 33 11"; strings.Join(got, " ") != want {
		t.Errorf("targets %q, want %q", strings.Join(got, " "), want)
	}
	// The account sets of case a differ from each other.
	a := apiCases("http://h", ds, ds.IDs, 200, 5, 1)[0]
	seen := map[string]bool{}
	for _, tg := range a.targets {
		seen[tg.URL] = true
	}
	if len(seen) != apiAccountSets {
		t.Errorf("%d distinct targets of case a, want %d", len(seen), apiAccountSets)
	}
}

func fakeMetrics(codes map[string]int, p50, p99 time.Duration, rate, throughput float64) *vegeta.Metrics {
	m := &vegeta.Metrics{StatusCodes: codes, Rate: rate, Throughput: throughput}
	for _, n := range codes {
		m.Requests += uint64(n)
	}
	m.Latencies.P50, m.Latencies.P99 = p50, p99
	return m
}

func TestAPITables(t *testing.T) {
	t.Parallel()
	ds := testDataset()
	cases := apiCases("http://h", ds, ds.IDs, 200, 5, 1)
	without := []apiResult{
		{c: cases[0], fixed: fakeMetrics(map[string]int{"200": 6000}, 300*time.Millisecond, 900*time.Millisecond, 150, 150),
			sat: fakeMetrics(map[string]int{"200": 90, "503": 2, "0": 1}, 80*time.Millisecond, 200*time.Millisecond, 3, 2.9)},
		{c: cases[4], fixed: fakeMetrics(map[string]int{"200": 150}, 250*time.Millisecond, 290*time.Millisecond, 5, 5),
			sat: fakeMetrics(map[string]int{"200": 150}, 250*time.Millisecond, 400*time.Millisecond, 8, 8)},
	}
	with := []apiResult{
		{c: cases[0], fixed: fakeMetrics(map[string]int{"200": 6000}, 3*time.Millisecond, 12500*time.Microsecond, 200, 200),
			sat: fakeMetrics(map[string]int{"200": 9000}, 8*time.Millisecond, 20*time.Millisecond, 1500, 1500)},
		{c: cases[4], fixed: fakeMetrics(map[string]int{"200": 150}, 125*time.Millisecond, 145*time.Millisecond, 5, 5),
			sat: fakeMetrics(map[string]int{"200": 150}, 100*time.Millisecond, 200*time.Millisecond, 16, 16)},
	}
	if n := without[0].non200(); n != 3 {
		t.Errorf("non200 = %d, want 3", n)
	}
	if got := statusSummary(without[0].fixed, without[0].sat); got != "0×1, 503×2" {
		t.Errorf("statusSummary = %q", got)
	}
	if got := ok200(without[0].fixed, without[0].sat); got != "99.95%" {
		t.Errorf("ok200 = %q", got)
	}
	if aimMet(without[0]) != "no" || aimMet(with[0]) != "yes" || aimMet(with[1]) != "yes" {
		t.Errorf("aimMet: %s %s %s", aimMet(without[0]), aimMet(with[0]), aimMet(with[1]))
	}
	o := &apiOptions{workers: 8, duration: 30 * time.Second, fixedMax: 64}
	var b bytes.Buffer
	printAPIResults(&b, "without", o, without)
	out := b.String()
	for _, want := range []string{
		"| case | what ", "saturation req/s", "| (a)  | filtered page: 5 accounts, size=100, sort=id,desc |",
		"|              2.9 |", "|      200/s |", "|    150/s |", "| 300 ms | 900 ms | 99.95% | 0×1, 503×2 |",
		"p99 ≤ 25 ms at 200/s |  no |", "| (e)  |", "p99 ≤ 300 ms at 5/s | yes |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("results table lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	printAPICompare(&b, without, with)
	out = b.String()
	for _, want := range []string{"| (a)  |      300 ms |  3.00 ms | 100.00 |", "|      900 ms |  12.5 ms | 72.00 |", "|                2.9 |           1,500 | 517.24 |", "| (e)  |"} {
		if !strings.Contains(out, want) {
			t.Errorf("compare table lacks %q:\n%s", want, out)
		}
	}
	for d, want := range map[time.Duration]string{1234 * time.Microsecond: "1.23 ms", 25 * time.Millisecond: "25.0 ms", 312 * time.Millisecond: "312 ms"} {
		if got := ms(d); got != want {
			t.Errorf("ms(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestParseIndexMigration(t *testing.T) {
	t.Parallel()
	m, err := parseIndexMigration(`-- Indexes.
-- CREATE INDEX not_this_one ON x (y);

-- +goose Up
CREATE INDEX violation_a_idx ON fullstop_data.violation (account_id)
    WHERE comment IS NULL;
create index if not exists violation_b_idx on fullstop_data.violation (id DESC NULLS LAST);

-- +goose Down
DROP INDEX IF EXISTS fullstop_data.violation_a_idx;
DROP INDEX IF EXISTS fullstop_data.violation_b_idx;
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.names, ","); got != "violation_a_idx,violation_b_idx" {
		t.Errorf("names %s", got)
	}
	if strings.Contains(m.up, "DROP") || !strings.Contains(m.down, "DROP INDEX IF EXISTS fullstop_data.violation_b_idx") || strings.Contains(m.down, "CREATE") {
		t.Errorf("up %q down %q", m.up, m.down)
	}
	if got := unqualified([]string{"fullstop_data.x", `"y"`}); strings.Join(got, ",") != "x,y" {
		t.Errorf("unqualified = %v", got)
	}
	if _, err := parseIndexMigration("-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 1;\n"); err == nil {
		t.Error("a migration without an index: no error")
	}
	// The migration of this tree, if there is one, parses, and its Down
	// drops every index its Up creates.
	real, err := readAPIIndexMigration()
	if err != nil {
		t.Fatal(err)
	}
	if real != nil {
		for _, n := range unqualified(real.names) {
			if !strings.Contains(real.down, n) {
				t.Errorf("%s: Down does not drop %s", apiIndexMigration, n)
			}
		}
	}
}

func TestParseAutoExplain(t *testing.T) {
	t.Parallel()
	log := "2026-03-31 12:00:00.000 UTC [12] LOG:  duration: 1.234 ms  plan:\n" +
		"\tQuery Text: SELECT count(*)\n" +
		"\tFROM fullstop_data.violation v\n" +
		"\tAggregate  (cost=1.00..1.01 rows=1 width=8) (actual time=1.2..1.2 rows=1 loops=1)\n" +
		"2026-03-31 12:00:00.001 UTC [12] LOG:  checkpoint starting: time\n" +
		"2026-03-31 12:00:00.002 UTC [13] LOG:  duration: 0.5 ms  plan:\n" +
		"\tQuery Text: SELECT 1\n" +
		"\tResult  (cost=0.00..0.01 rows=1 width=4)\n"
	plans, err := parseAutoExplain(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 2 || !strings.HasPrefix(plans[0], "duration: 1.234 ms\n  Query Text: SELECT count(*)\n") ||
		strings.Contains(plans[0], "checkpoint") || !strings.Contains(plans[1], "  Result  (cost") {
		t.Errorf("plans %q", plans)
	}
}

func TestParseAPIOptions(t *testing.T) {
	t.Parallel()
	o, err := parseAPIOptions([]string{"--duration", "5s", "--cases", "a, e", "--compare-indexes"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.duration != 5*time.Second || !o.cases["a"] || !o.cases["e"] || o.cases["b"] || !o.compare || o.seed.Violations != 1_000_000 ||
		o.seed.Accounts != 200 || o.workers != 8 || o.pageRate != 200 || o.countRate != 5 {
		t.Errorf("parseAPIOptions = %+v", o)
	}
	for _, bad := range [][]string{
		{"--without-indexes", "--compare-indexes"},
		{"--cases", "z"},
		{"--cases", ","},
		{"--duration", "0s"},
		{"--days", "10"},
		{"extra"},
	} {
		if _, err := parseAPIOptions(bad, io.Discard); err == nil {
			t.Errorf("parseAPIOptions(%q): no error", strings.Join(bad, " "))
		}
	}
}

func TestDescribeAnswer(t *testing.T) {
	t.Parallel()
	if s, err := describeAnswer("page", []byte(`{"content":[{"id":1},{"id":2}],"total_elements":12345}`)); err != nil || !strings.HasPrefix(s, "total_elements 12,345, 2 on the page") {
		t.Errorf("page: %q, %v", s, err)
	}
	if _, err := describeAnswer("page", []byte(`{"content":[],"total_elements":0}`)); err == nil {
		t.Error("empty page: no error")
	}
	if s, err := describeAnswer("counts", []byte(`[{"quantity":3},{"quantity":4}]`)); err != nil || !strings.HasPrefix(s, "2 rows counting 7 violations") {
		t.Errorf("counts: %q, %v", s, err)
	}
	if s, err := describeAnswer("violation", []byte(`{"id":42}`)); err != nil || !strings.HasPrefix(s, "violation 42") {
		t.Errorf("violation: %q, %v", s, err)
	}
}

// The generated rows: ids in order, distinct identities, the states in
// their shares, times inside the window.
func TestViolationGen(t *testing.T) {
	t.Parallel()
	ds := testDataset()
	cfg := apiSeedConfig{Violations: 20000, Days: 90, Seed: 1, Streams: 2, Now: ds.Now}
	apps := []apiApp{{id: 1, name: "checkout-service", versions: []int64{10, 11}, vnames: []string{"1.0.0", "1.1.0"}}}
	rules := []apiRule{{reason: "r1"}, {reason: "r2"}}
	identities := map[string]bool{}
	var open, resolved, whitelisted int
	for s := 0; s < cfg.Streams; s++ {
		g := newViolationGen(cfg, ds, apps, rules, s)
		last := int64(-1)
		for g.Next() {
			row, _ := g.Values()
			id := row[0].(int64)
			if id <= last || (id-1)%int64(cfg.Streams) != int64(s) {
				t.Fatalf("stream %d: id %d after %d", s, id, last)
			}
			last = id
			key := strings.Join([]string{row[2].(string), row[3].(string), row[1].(string), row[8].(string), str(row[4])}, "|")
			if identities[key] {
				t.Fatalf("identity %s twice", key)
			}
			identities[key] = true
			created := row[16].(time.Time)
			if created.Before(ds.Now.AddDate(0, 0, -90)) || created.After(ds.Now) || row[14].(time.Time).Before(created) {
				t.Fatalf("row %d: created %s, last seen %s", id, created, row[14])
			}
			switch {
			case row[10] != nil:
				whitelisted++
				if !strings.HasPrefix(row[6].(string), "Whitelisted automatically because of:") {
					t.Fatalf("row %d: whitelisted with comment %v", id, row[6])
				}
			case row[6] != nil:
				resolved++
			default:
				open++
			}
			if !strings.HasPrefix(row[5].(string), "{") || !strings.HasSuffix(row[5].(string), "}") {
				t.Fatalf("row %d: meta_info %v", id, row[5])
			}
		}
	}
	if len(identities) != cfg.Violations {
		t.Fatalf("%d rows, want %d", len(identities), cfg.Violations)
	}
	if p := float64(open) / float64(cfg.Violations); p < 0.88 || p > 0.92 {
		t.Errorf("open share %.3f", p)
	}
	for _, n := range []int{resolved, whitelisted} {
		if p := float64(n) / float64(cfg.Violations); p < 0.04 || p > 0.06 {
			t.Errorf("resolved %d, whitelisted %d of %d", resolved, whitelisted, cfg.Violations)
		}
	}
	if u := eventUUID(1, 5); len(u) != 36 || u[14] != '4' || u == eventUUID(1, 6) {
		t.Errorf("eventUUID = %s", u)
	}
}

func str(v any) string {
	if v == nil {
		return "<nil>"
	}
	return v.(string)
}
