package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // the "duckdb" database/sql driver

	"github.com/fullstop-audit/fullstop/cmd/fullstop-bench/internal/corpus"
)

// duckdbForms are ways to count the records of the corpus with DuckDB's
// read_json, each a format string taking the glob and the maximum object
// size. All count right. Two settings matter, both measured on this corpus:
// records='true' (without it DuckDB reads up to 32 whole files to detect
// the layout first, seconds of fixed cost), and format='newline_delimited'
// (CloudTrail writes each file on one line; about twice as fast as
// 'unstructured'). Summing array lengths or unnesting makes no difference;
// extracting one field of each record instead of keeping its JSON text
// saves about a tenth.
var duckdbForms = map[string]string{
	// Each file is one JSON line; sum the lengths of the Records arrays.
	"lines-len": `SELECT coalesce(sum(len(Records)), 0) FROM read_json(%s, format='newline_delimited', records='true', columns={Records: 'JSON[]'}, maximum_object_size=%d)`,
	// The same, counting the unnested records.
	"lines-unnest": `SELECT count(*) FROM (SELECT unnest(Records) FROM read_json(%s, format='newline_delimited', records='true', columns={Records: 'JSON[]'}, maximum_object_size=%d))`,
	// The same, extracting each record's eventID.
	"lines-struct": `SELECT coalesce(sum(len(Records)), 0) FROM read_json(%s, format='newline_delimited', records='true', columns={Records: 'STRUCT(eventID VARCHAR)[]'}, maximum_object_size=%d)`,
	// Any JSON layout of the files.
	"unnest-json": `SELECT count(*) FROM (SELECT unnest(Records) FROM read_json(%s, format='unstructured', records='true', columns={Records: 'JSON[]'}, maximum_object_size=%d))`,
	// What an analyst writes first: everything detected.
	"unnest-auto": `SELECT count(*) FROM (SELECT unnest(Records) FROM read_json(%s, maximum_object_size=%d))`,
}

// defaultDuckDBForm is the form the bench measures as (3): the fastest that
// counts right.
const defaultDuckDBForm = "lines-struct"

// firstDuckDBForm is the form measured as (5): the query an analyst writes
// first, before tuning read_json's options.
const firstDuckDBForm = "unnest-auto"

func duckdbFormNames() string {
	var names []string
	for k := range duckdbForms {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// duckdbMaxObject is the maximum_object_size for a corpus: its largest
// file and a margin, at least DuckDB's default of 16 MiB.
func duckdbMaxObject(m *corpus.Manifest) int64 {
	return max(m.MaxFileJSONBytes+(1<<20), 16<<20)
}

// duckdbQuery returns the counting query of form over the .json.gz files
// below dir.
func duckdbQuery(form, dir string, maxObject int64) (string, error) {
	f, ok := duckdbForms[form]
	if !ok {
		return "", fmt.Errorf("duckdb form %q: want one of %s", form, duckdbFormNames())
	}
	glob := filepath.ToSlash(filepath.Join(dir, "**", "*.json.gz"))
	return fmt.Sprintf(f, "'"+strings.ReplaceAll(glob, "'", "''")+"'", maxObject), nil
}

// duckdbCountMain is the "duckdb-count" subcommand: it counts the records
// of the corpus in a folder with DuckDB and prints "records <n>".
func duckdbCountMain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("duckdb-count", flag.ContinueOnError)
	threads := fs.Int("threads", 1, "DuckDB threads")
	maxObject := fs.Int64("max-object-size", 64<<20, "read_json maximum_object_size: at least the largest file's JSON")
	form := fs.String("form", defaultDuckDBForm, "query form: "+duckdbFormNames())
	query := fs.String("query", "", "a query of your own instead of a form: a format string taking the glob (%s) and the maximum object size (%d)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *query != "" {
		duckdbForms["custom"] = *query
		*form = "custom"
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: fullstop-bench duckdb-count [flags] DIR")
	}
	q, err := duckdbQuery(*form, fs.Arg(0), *maxObject)
	if err != nil {
		return err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return fmt.Errorf("open duckdb: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("SET threads = %d", *threads)); err != nil {
		return fmt.Errorf("set duckdb threads: %w", err)
	}
	var n int64
	if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return fmt.Errorf("duckdb count: %w", err)
	}
	fmt.Fprintf(stdout, "records %d\n", n)
	return nil
}
