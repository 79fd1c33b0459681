package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestLakeHelpers(t *testing.T) {
	t.Parallel()
	if got := median([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median of 3 = %v, want 2", got)
	}
	if got := median([]time.Duration{4, 1, 2, 3}); got != 2 {
		t.Errorf("median of 4 = %v, want 2 (2.5 truncated)", got)
	}
	a := [][]string{{"x", "1"}, {"", "2"}}
	if p := sameRows(a, [][]string{{"", "2"}, {"x", "1"}}); p != "" {
		t.Errorf("same rows in another order: %s", p)
	}
	if p := sameRows(a, [][]string{{"x", "1"}, {"", "3"}}); p == "" {
		t.Error("different rows: no difference reported")
	}
	if p := sameRows(a, a[:1]); p == "" {
		t.Error("fewer rows: no difference reported")
	}
	if got := sumLast(a); got != 3 {
		t.Errorf("sumLast = %d, want 3", got)
	}
	if got := sumLast([][]string{{"a", "b"}}); got != -1 {
		t.Errorf("sumLast of text = %d, want -1", got)
	}
	if d, ok := engineTime("note: x\n277 rows (10ms)\n"); !ok || d != 10*time.Millisecond {
		t.Errorf("engineTime = %v, %v", d, ok)
	}
	if d, ok := engineTime("1 row (0s)\n"); !ok || d != 0 {
		t.Errorf("engineTime of 1 row = %v, %v", d, ok)
	}
	rows, err := csvRows("a,b\nx,\"y,z\"\n")
	if err != nil || len(rows) != 1 || rows[0][1] != "y,z" {
		t.Errorf("csvRows = %q, %v", rows, err)
	}
	o, err := parseOptions([]string{"--skip", "lake", "--lake-runs", "2"}, io.Discard)
	if err != nil || o.does(partLake) || o.lakeRuns != 2 {
		t.Errorf("parseOptions --skip lake: %+v, %v", o, err)
	}
	if _, err := parseOptions([]string{"--lake-runs", "0"}, io.Discard); err == nil {
		t.Error("--lake-runs 0: no error")
	}
}

// TestDuckDBQueryMain checks that duckdb-query prints its rows as CSV and the
// statement's own time the way fullstop query does, so engineTime reads both.
func TestDuckDBQueryMain(t *testing.T) {
	t.Parallel()
	var out, errOut strings.Builder
	if err := duckdbQueryMain(t.Context(), []string{"--threads", "1", "SELECT range AS x FROM range(3)"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if out.String() != "x\n0\n1\n2\n" {
		t.Errorf("stdout = %q, want the three rows as CSV", out.String())
	}
	if _, ok := engineTime(errOut.String()); !ok || !strings.HasPrefix(errOut.String(), "3 rows (") {
		t.Errorf("stderr = %q, want \"3 rows (duration)\"", errOut.String())
	}
}
