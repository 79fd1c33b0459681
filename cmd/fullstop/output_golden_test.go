package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/api"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/cli")

// TestOutputGolden prints the violations of the real sample logs (an API
// page saved in testdata/cli/violations.json, with fixed times) in the
// three formats of list-violations, and compares them with the golden
// files; -update rewrites those.
func TestOutputGolden(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "testdata", "cli")
	b, err := os.ReadFile(filepath.Join(dir, "violations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []api.Violation
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	rows := make([]row, len(vs))
	for i, v := range vs {
		rows[i] = violationRow(v)
	}
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		file, format string
		opts         tableOptions
	}{
		{"list-violations.txt", "text", tableOptions{now: now}},
		{"list-violations.color.txt", "text", tableOptions{now: time.Date(2026, 12, 1, 12, 20, 0, 0, time.UTC), tty: true}},
		{"list-violations.json", "json", tableOptions{now: now}},
		{"list-violations.tsv", "tsv", tableOptions{now: now}},
	} {
		var out bytes.Buffer
		if err := printTable(&out, tc.format, violationColumns, rows, tc.opts); err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		golden := filepath.Join(dir, tc.file)
		if *update {
			if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test ./cmd/fullstop/ -run OutputGolden -update writes it)", err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%s differs from the golden file (-update rewrites it):\n%s", tc.file, out.String())
		}
	}
}
