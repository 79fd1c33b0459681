package main

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseSummary(t *testing.T) {
	t.Parallel()
	// The summary fullstop prints (cmd/fullstop/summary.go).
	out := `fullstop backfill: file:///c, keys from 2024-03-01T00:00:00Z to 2024-03-04T00:00:00Z: done
  objects     338 processed, 1 failed, 2 already done, 0 quarantined (341 listed with 316 LIST calls)
  events      1000000 (3 records skipped)
  violations  4210 new, 0 seen again
  duration    12.5s (80000 events/s, 102.4 MB/s of JSON)
`
	got, err := parseSummary(out)
	if err != nil {
		t.Fatal(err)
	}
	want := batchSummary{processed: 338, failed: 1, listed: 341, listCalls: 316, events: 1_000_000, skipped: 3}
	if got != want {
		t.Errorf("parseSummary = %+v, want %+v", got, want)
	}
	if _, err := parseSummary("fullstop: database unreachable\n"); err == nil {
		t.Error("parseSummary of output without a summary: no error")
	}
}

func TestRequestKind(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, target, want string
	}{
		{"GET", "/bucket?delimiter=%2F&list-type=2&prefix=AWSLogs%2F", reqList},
		{"GET", "/bucket/AWSLogs/111111111111/CloudTrail/eu-west-1/2024/03/01/x.json.gz", reqGet},
		{"GET", "/bucket/AWSLogs/x.json.gz?x-id=GetObject", reqGet},
		{"GET", "/bucket?location=", reqOther},
		{"GET", "/bucket/", reqOther},
		{"HEAD", "/bucket/key", reqOther},
		{"PUT", "/bucket/key", reqOther},
	}
	for _, tc := range tests {
		if got := kind(httptest.NewRequest(tc.method, tc.target, nil)); got != tc.want {
			t.Errorf("kind(%s %s) = %q, want %q", tc.method, tc.target, got, tc.want)
		}
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseOptions(t *testing.T) {
	t.Parallel()
	o, err := parseOptions([]string{"--events", "3000000", "--workers", "1, 4", "--skip", "steady,duckdb"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.events != 3_000_000 || len(o.workers) != 2 || o.workers[1] != 4 || o.does(partSteady) || o.does(partDuckDB) || !o.does(partLocal) {
		t.Errorf("parseOptions = %+v", o)
	}
	for _, bad := range [][]string{
		{"--workers", "0"},
		{"--workers", "two"},
		{"--skip", "everything"},
		{"--events", "0"},
		{"--duckdb-form", "nope"},
		{"extra"},
	} {
		if _, err := parseOptions(bad, io.Discard); err == nil {
			t.Errorf("parseOptions(%q): no error", strings.Join(bad, " "))
		}
	}
}

func TestDuckDBQuery(t *testing.T) {
	t.Parallel()
	q, err := duckdbQuery(defaultDuckDBForm, "/data/it's", 1<<24)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q, `read_json('/data/it''s/**/*.json.gz'`) || !strings.Contains(q, "maximum_object_size=16777216") {
		t.Errorf("query %q: glob not quoted or size missing", q)
	}
	if _, err := duckdbQuery("nope", "/data", 1); err == nil {
		t.Error("unknown form: no error")
	}
}
