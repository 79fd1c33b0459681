package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
)

// Parts of the benchmark that --skip can leave out.
const (
	partLocal  = "local"
	partMinIO  = "minio"
	partDuckDB = "duckdb"
	// partDuckDBFirst is DuckDB with the query an analyst writes first.
	partDuckDBFirst = "duckdb-first"
	partGunzip      = "gunzip"
	partSteady      = "steady"
	// partWhitelist is the local backfill with whitelisting rules in force.
	partWhitelist = "whitelist"
	// partLake is the events lake: backfill --lake, its size, queries (lake.go).
	partLake = "lake"
)

var allParts = []string{partLocal, partMinIO, partDuckDB, partDuckDBFirst, partGunzip, partWhitelist, partSteady, partLake, partLookups, partRules}

// options are the benchmark's flags.
type options struct {
	events     int
	workers    []int
	dir        string
	testdata   string
	fullstop   string
	minio      string
	pgScript   string
	skip       map[string]bool
	seed       uint64
	days       int
	duckdbForm string
	steadyDays int
	rules      int      // whitelisting rules in force for partWhitelist
	lakeRuns   int      // runs of each measurement of partLake, partLookups and partRules
	ruleSets   []string // --rules values of partRules, the first the baseline
	logLevel   slog.Level
	log        *slog.Logger
}

func (o *options) does(part string) bool { return !o.skip[part] }

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("fullstop-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.IntVar(&o.events, "events", envInt("BENCH_EVENTS", 1_000_000), "events in the corpus (env BENCH_EVENTS)")
	workers := fs.String("workers", envOr("BENCH_WORKERS", "1,2"), "comma list of worker counts to measure (env BENCH_WORKERS)")
	fs.StringVar(&o.dir, "dir", ".tmp/bench", "folder of the cached corpora and the throwaway PostgreSQL")
	fs.StringVar(&o.testdata, "testdata", "testdata/cloudtrail", "the real CloudTrail records to resample")
	fs.StringVar(&o.fullstop, "fullstop", "bin/fullstop", "the fullstop binary to measure")
	fs.StringVar(&o.minio, "minio", os.Getenv("FULLSTOP_MINIO_BIN"), "the minio binary (env FULLSTOP_MINIO_BIN)")
	fs.StringVar(&o.pgScript, "postgres-script", ".ci/postgres.sh", "the script that starts and stops a throwaway PostgreSQL")
	skip := fs.String("skip", os.Getenv("BENCH_SKIP"), "comma list of parts to leave out: "+strings.Join(allParts, ", ")+" (env BENCH_SKIP)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the corpus")
	fs.IntVar(&o.days, "days", 3, "days the corpus is spread over")
	fs.StringVar(&o.duckdbForm, "duckdb-form", defaultDuckDBForm, "DuckDB query form: "+duckdbFormNames())
	fs.IntVar(&o.steadyDays, "steady-days", 90, "days of history in the steady-state bucket")
	fs.IntVar(&o.rules, "whitelist-rules", 100, "whitelisting rules in force in run 6")
	ruleSets := fs.String("rule-sets", "reference;reference,sigma:medium;*", "semicolon list of the --rules values the rules part compares, the first the baseline")
	fs.IntVar(&o.lakeRuns, "lake-runs", 3, "runs of each measurement of the lake, lookups and rules parts (the median is reported)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (subcommands: duckdb-count, duckdb-query, gunzip, api)", fs.Args())
	}
	if err := o.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	for _, r := range strings.Split(*ruleSets, ";") {
		if r = strings.TrimSpace(r); r != "" {
			o.ruleSets = append(o.ruleSets, r)
		}
	}
	if len(o.ruleSets) < 2 {
		return nil, fmt.Errorf("--rule-sets: want a baseline and at least one more, got %q", *ruleSets)
	}
	if o.events < 1 || o.days < 1 || o.steadyDays < 1 || o.rules < 1 || o.lakeRuns < 1 {
		return nil, fmt.Errorf("--events, --days, --steady-days, --whitelist-rules and --lake-runs must be positive")
	}
	for _, w := range strings.Split(*workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--workers: %q is not a positive number", w)
		}
		o.workers = append(o.workers, n)
	}
	o.skip = map[string]bool{}
	for _, p := range strings.Split(*skip, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		known := false
		for _, a := range allParts {
			known = known || a == p
		}
		if !known {
			return nil, fmt.Errorf("--skip: unknown part %q, want some of %s", p, strings.Join(allParts, ", "))
		}
		o.skip[p] = true
	}
	if _, ok := duckdbForms[o.duckdbForm]; !ok {
		return nil, fmt.Errorf("--duckdb-form: %q is not one of %s", o.duckdbForm, duckdbFormNames())
	}
	return o, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func envInt(k string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return n
	}
	return def
}
