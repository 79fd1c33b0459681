package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"time"

	"github.com/fullstop-audit/fullstop/cmd/fullstop-bench/internal/corpus"
)

// corpusBucket is the MinIO bucket holding the corpus.
const corpusBucket = "corpus"

// row is one measurement of the first table.
type row struct {
	workers int
	n       int // 1 to 4: the run's number in the table
	label   string
	m       *measurement
	problem string // why the result disagrees with the corpus, if it does
}

// env is what the measurements share.
type env struct {
	o      *options
	corpus *corpus.Manifest
	dir    string // the corpus folder, absolute
	pg     *postgres
	minio  *minioServer
	self   string
}

func bench(ctx context.Context, o *options, stdout io.Writer) (err error) {
	if o.does(partLocal) || o.does(partMinIO) || o.does(partSteady) || o.does(partWhitelist) || o.does(partLake) || o.does(partLookups) || o.does(partRules) {
		if _, err := os.Stat(o.fullstop); err != nil {
			return fmt.Errorf("the fullstop binary (--fullstop; make bench builds it): %w", err)
		}
	}
	pool, err := corpus.LoadPool(o.testdata)
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(filepath.Join(o.dir, fmt.Sprintf("corpus-%d", o.events)))
	if err != nil {
		return err
	}
	o.log.Info("corpus: generating or reusing", logDir, dir, logEvents, o.events, logPool, pool.Len())
	cfg := corpus.Config{Events: o.events, Seed: o.seed, Days: o.days}
	m, cached, err := corpus.Ensure(ctx, cfg, pool, dir, runtime.NumCPU())
	if err != nil {
		return err
	}
	e := &env{o: o, corpus: m, dir: dir}
	if e.self, err = selfPath(); err != nil {
		return err
	}
	how := fmt.Sprintf("generated in %s", m.Generated.Round(10*time.Millisecond))
	if cached {
		how = fmt.Sprintf("cached (generated in %s)", m.Generated.Round(10*time.Millisecond))
	}
	fmt.Fprintf(stdout, "Corpus: %s events in %d files, %s MB of JSON (%s MB gzipped), %d accounts × %d regions × %d days, resampled from %d real records; %s\n",
		thousands(m.Events), m.Files, mb(m.JSONBytes), mb(m.GzipBytes), len(m.Accounts), len(m.Config.Regions), m.Config.Days, pool.Len(), how)

	if o.does(partLocal) || o.does(partMinIO) || o.does(partSteady) || o.does(partWhitelist) || o.does(partLake) || o.does(partLookups) || o.does(partRules) {
		pgDir, err := filepath.Abs(filepath.Join(o.dir, "pg"))
		if err != nil {
			return err
		}
		if e.pg, err = startPostgres(ctx, o.pgScript, pgDir); err != nil {
			return err
		}
		defer func() {
			if serr := e.pg.stop(); serr != nil && err == nil {
				err = serr
			}
		}()
	}
	if o.does(partMinIO) || o.does(partSteady) {
		if e.minio, err = startMinIO(o.minio); err != nil {
			return err
		}
		defer e.minio.stop()
	}
	if o.does(partMinIO) || o.does(partSteady) {
		if err := e.minio.createBucket(ctx, corpusBucket); err != nil {
			return err
		}
		start := time.Now()
		n, size, err := e.minio.uploadTree(ctx, corpusBucket, dir, 8)
		if err != nil {
			return err
		}
		d := time.Since(start)
		fmt.Fprintf(stdout, "MinIO upload: %d objects, %s MB in %s (%.0f MB/s)\n", n, mb(size), d.Round(10*time.Millisecond), float64(size)/1e6/d.Seconds())
	}

	var rows []row
	mismatch := false
	load := loadAverage()
	for _, w := range o.workers {
		for _, step := range []struct {
			part, label string
			n           int
			run         func(context.Context, int) (*measurement, string, error)
		}{
			{partLocal, "fullstop backfill, local folder → PostgreSQL", 1, e.backfillLocal},
			{partMinIO, "fullstop backfill, MinIO → PostgreSQL", 2, e.backfillMinIO},
			{partDuckDB, "DuckDB read_json, count records", 3, e.duckdbCount},
			{partGunzip, "decompress only (etl.Inflater)", 4, e.gunzip},
			{partDuckDBFirst, "DuckDB read_json, the query as first written", 5, e.duckdbCountFirst},
			{partWhitelist, fmt.Sprintf("(1) with %d whitelisting rules in force", o.rules), 6, e.backfillWhitelist},
		} {
			if !o.does(step.part) {
				continue
			}
			meas, problem, err := step.run(ctx, w)
			if err != nil {
				return fmt.Errorf("(%d) %s, %d workers: %w", step.n, step.label, w, err)
			}
			r := row{workers: w, n: step.n, label: step.label, m: meas, problem: problem}
			mismatch = mismatch || problem != ""
			o.log.Info("measured", logRun, step.n, logWorkers, w, logWall, meas.Wall.Round(time.Millisecond),
				logEventsPerS, int64(float64(m.Events)/meas.Wall.Seconds()), logPeakRSSMB, meas.MaxRSS>>20, logProblem, problem)
			rows = append(rows, r)
		}
	}
	if len(rows) > 0 {
		printThroughput(stdout, m, rows, o.duckdbForm, load)
	}
	if o.does(partSteady) {
		var results []*steadyResult
		for _, days := range []int{o.steadyDays, 1} {
			r, err := e.steady(ctx, pool, days)
			if err != nil {
				return fmt.Errorf("steady state with %d days of history: %w", days, err)
			}
			mismatch = mismatch || r.problem != ""
			results = append(results, r)
		}
		printSteady(stdout, results)
		windows, err := e.longWindow(ctx)
		if err != nil {
			return fmt.Errorf("backfill windows: %w", err)
		}
		for _, w := range windows {
			mismatch = mismatch || w.problem != ""
		}
		printWindows(stdout, m, windows)
	}
	if o.does(partLake) {
		r, err := e.lake(ctx)
		if err != nil {
			return fmt.Errorf("events lake: %w", err)
		}
		mismatch = mismatch || len(r.problems) > 0
		printLake(stdout, e, r)
	}
	if o.does(partLookups) {
		r, err := e.lookups(ctx)
		if err != nil {
			return fmt.Errorf("lookups: %w", err)
		}
		mismatch = mismatch || len(r.problems) > 0
		printLookups(stdout, e, r)
	}
	if o.does(partRules) {
		r, err := e.ruleSetRuns(ctx)
		if err != nil {
			return fmt.Errorf("rule sets: %w", err)
		}
		mismatch = mismatch || len(r.problems) > 0
		printRuleSets(stdout, e, r)
	}
	if mismatch {
		return errMismatch
	}
	return nil
}

// Lines of fullstop's batch summary.
var (
	summaryObjects = regexp.MustCompile(`(?m)^\s+objects\s+(\d+) processed, (\d+) failed, (\d+) already done, (\d+) quarantined \((\d+) listed with (\d+) LIST calls\)`)
	summaryEvents  = regexp.MustCompile(`(?m)^\s+events\s+(\d+) \((\d+) records skipped\)`)
)

// batchSummary is what a fullstop batch printed about itself.
type batchSummary struct {
	processed, failed, listed, listCalls int
	events, skipped                      int64
}

func parseSummary(out string) (batchSummary, error) {
	o := summaryObjects.FindStringSubmatch(out)
	ev := summaryEvents.FindStringSubmatch(out)
	if o == nil || ev == nil {
		return batchSummary{}, fmt.Errorf("no batch summary in fullstop's output:\n%s", tail(out, 2000))
	}
	n := func(s string) int { v, _ := strconv.Atoi(s); return v }
	return batchSummary{
		processed: n(o[1]), failed: n(o[2]), listed: n(o[5]), listCalls: n(o[6]),
		events: int64(n(ev[1])), skipped: int64(n(ev[2])),
	}, nil
}

// backfill runs fullstop backfill over the whole corpus into a fresh
// database and checks that every file and event was processed.
func (e *env) backfill(ctx context.Context, label string, workers int, source []string, extraEnv []string) (*measurement, string, error) {
	return e.backfillPrepared(ctx, label, workers, source, extraEnv, nil)
}

// backfillPrepared is backfill with prepare run on the fresh database
// first, outside the measurement.
func (e *env) backfillPrepared(ctx context.Context, label string, workers int, source []string, extraEnv []string,
	prepare func(ctx context.Context, dbURL string) error) (*measurement, string, error) {
	dbURL, drop, err := e.pg.freshDatabase(ctx, label)
	if err != nil {
		return nil, "", err
	}
	defer drop()
	if prepare != nil {
		if err := prepare(ctx, dbURL); err != nil {
			return nil, "", err
		}
	}
	args := append([]string{"--log-level", "warn", "backfill"}, source...)
	args = append(args,
		"--from", e.corpus.From.Format(time.DateOnly), "--to", e.corpus.To.Format(time.DateOnly),
		"--workers", strconv.Itoa(workers), "--progress=false")
	meas, err := measure(ctx, e.o.log, childEnv(append(extraEnv, "DATABASE_URL="+dbURL)...), e.o.fullstop, args...)
	if err != nil {
		return nil, "", err
	}
	s, err := parseSummary(meas.Stdout)
	if err != nil {
		return nil, "", err
	}
	var problems []error
	if s.events != e.corpus.Events || s.skipped != 0 {
		problems = append(problems, fmt.Errorf("%d events, %d skipped, the corpus has %d", s.events, s.skipped, e.corpus.Events))
	}
	if s.processed != e.corpus.Files || s.failed != 0 {
		problems = append(problems, fmt.Errorf("%d objects processed, %d failed, the corpus has %d", s.processed, s.failed, e.corpus.Files))
	}
	if n, err := countRows(ctx, dbURL, "fullstop_data.ledger"); err != nil {
		return nil, "", err
	} else if n != int64(e.corpus.Files) {
		problems = append(problems, fmt.Errorf("%d ledger rows, the corpus has %d files", n, e.corpus.Files))
	}
	if len(problems) > 0 {
		return meas, errors.Join(problems...).Error(), nil
	}
	return meas, "", nil
}

func (e *env) backfillLocal(ctx context.Context, workers int) (*measurement, string, error) {
	return e.backfill(ctx, "local", workers, []string{"--source", e.dir}, nil)
}

func (e *env) backfillMinIO(ctx context.Context, workers int) (*measurement, string, error) {
	return e.backfill(ctx, "minio", workers, []string{"--source", "s3://" + corpusBucket, "--s3-endpoint", e.minio.Endpoint}, e.minio.env())
}

// duckdbCount counts the corpus's records with DuckDB in a subprocess,
// with the --duckdb-form query.
func (e *env) duckdbCount(ctx context.Context, threads int) (*measurement, string, error) {
	return e.duckdbCountForm(ctx, threads, e.o.duckdbForm)
}

// duckdbCountFirst counts them with the query an analyst writes first
// (form firstDuckDBForm: every setting left to DuckDB's detection).
func (e *env) duckdbCountFirst(ctx context.Context, threads int) (*measurement, string, error) {
	return e.duckdbCountForm(ctx, threads, firstDuckDBForm)
}

func (e *env) duckdbCountForm(ctx context.Context, threads int, form string) (*measurement, string, error) {
	maxObject := duckdbMaxObject(e.corpus)
	meas, err := measure(ctx, e.o.log, childEnv(), e.self, "duckdb-count",
		"--threads", strconv.Itoa(threads), "--max-object-size", strconv.FormatInt(maxObject, 10), "--form", form, e.dir)
	if err != nil {
		return nil, "", err
	}
	var n int64
	if _, err := fmt.Sscanf(meas.Stdout, "records %d", &n); err != nil {
		return nil, "", fmt.Errorf("read the count from %q: %w", meas.Stdout, err)
	}
	if n != e.corpus.Events {
		return meas, fmt.Sprintf("DuckDB counted %d records, the corpus has %d", n, e.corpus.Events), nil
	}
	return meas, "", nil
}

// gunzip decompresses the corpus in a subprocess.
func (e *env) gunzip(ctx context.Context, workers int) (*measurement, string, error) {
	meas, err := measure(ctx, e.o.log, childEnv(), e.self, "gunzip", "--workers", strconv.Itoa(workers), e.dir)
	if err != nil {
		return nil, "", err
	}
	var files int
	var n int64
	if _, err := fmt.Sscanf(meas.Stdout, "files %d\nbytes %d", &files, &n); err != nil {
		return nil, "", fmt.Errorf("read the sizes from %q: %w", meas.Stdout, err)
	}
	if n != e.corpus.JSONBytes || files != e.corpus.Files {
		return meas, fmt.Sprintf("%d files, %d bytes decompressed, the corpus has %d and %d", files, n, e.corpus.Files, e.corpus.JSONBytes), nil
	}
	return meas, "", nil
}
