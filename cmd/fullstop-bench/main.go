// Command fullstop-bench is the benchmark behind `make bench`. It
// generates (once, cached) a corpus of CloudTrail log files by resampling
// the real records in testdata/cloudtrail, then measures on the same files,
// each as a subprocess whose wall time and peak RSS it reads:
//
//  1. fullstop backfill from the local folder into a fresh PostgreSQL database;
//  2. the same from a MinIO bucket holding the corpus;
//  3. DuckDB's read_json counting the records (what an analyst would run);
//  4. decompression alone, with the pipeline's decompressor (etl.Inflater);
//
// for each --workers count, and prints a table. A second table compares the
// S3 requests and wall time of a steady-state `fullstop run` over a bucket
// with 90 days of history against one with 1 day. The lake part (lake.go)
// measures backfill --lake, the lake's size and queries over it against
// read_json.
//
// Usage:
//
//	fullstop-bench [flags]                           the benchmark
//	fullstop-bench duckdb-count [flags] DIR          count a corpus's records with DuckDB
//	fullstop-bench duckdb-query [--threads N] SQL    run SQL in DuckDB, print CSV (lake.go)
//	fullstop-bench gunzip [--workers N] DIR          decompress a corpus
//	fullstop-bench api [flags]                       the REST API benchmark (api.go)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fullstop-bench:", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand, the benchmark by default.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "duckdb-count":
			return duckdbCountMain(ctx, args[1:], stdout)
		case "duckdb-query":
			return duckdbQueryMain(ctx, args[1:], stdout, stderr)
		case "gunzip":
			return gunzipMain(ctx, args[1:], stdout)
		case "api":
			return apiMain(ctx, args[1:], stdout, stderr)
		}
	}
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	o.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	err = bench(ctx, o, stdout)
	if errors.Is(err, errMismatch) {
		return fmt.Errorf("some measurements disagree with the corpus (see the tables): %w", err)
	}
	return err
}
