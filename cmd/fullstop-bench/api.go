package main

// fullstop-bench api: the REST API benchmark behind `make bench-api`.
//
// It starts a throwaway PostgreSQL, migrates it with bin/fullstop migrate,
// seeds it with --violations violations by COPY, starts `fullstop serve
// --no-processing --auth none` on a free loopback port and measures six
// read endpoints with vegeta: the requests per second at saturation (a
// max-rate attack with --workers workers) and the p50 and p99 latency at a
// fixed rate. With --without-indexes the indexes of the migration
// 00005_api_indexes.sql are dropped after migrating; --compare-indexes
// measures without them and then with them on the same data and prints the
// ratios. --explain prints the plans (EXPLAIN ANALYZE, BUFFERS, through
// auto_explain) of the statements the server sends for each case.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Keys of the API benchmark's log attributes.
const (
	logCase     = "case"
	logPhase    = "phase"
	logRate     = "rate"
	logP99      = "p99"
	logRPS      = "req_per_s"
	logTook     = "took"
	logServeURL = "url"
)

// apiOptions are the flags of fullstop-bench api.
type apiOptions struct {
	fullstop       string
	pgScript       string
	dir            string
	seed           apiSeedConfig
	duration       time.Duration
	warmup         time.Duration
	workers        int
	pageRate       int
	countRate      int
	fixedMax       int
	cases          map[string]bool
	withoutIndexes bool
	compare        bool
	explain        bool
	keep           bool
	logLevel       slog.Level
	log            *slog.Logger
}

func parseAPIOptions(args []string, stderr io.Writer) (*apiOptions, error) {
	fs := flag.NewFlagSet("fullstop-bench api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &apiOptions{}
	fs.StringVar(&o.fullstop, "fullstop", "bin/fullstop", "the fullstop binary to serve the API")
	fs.StringVar(&o.pgScript, "postgres-script", ".ci/postgres.sh", "the script that starts and stops a throwaway PostgreSQL")
	fs.StringVar(&o.dir, "dir", ".tmp/bench-api", "folder of the throwaway PostgreSQL and the server's log")
	fs.IntVar(&o.seed.Violations, "violations", 1_000_000, "violations to seed")
	fs.IntVar(&o.seed.Accounts, "accounts", 200, "accounts the violations are in")
	fs.IntVar(&o.seed.Apps, "applications", 150, "applications (with 1 to 5 versions each) violations are linked to")
	fs.IntVar(&o.seed.Rules, "rules", 6, "whitelisting rules the whitelisted violations point at")
	fs.IntVar(&o.seed.Days, "days", 90, "days the violations' creation times are spread over, up to now")
	fs.Uint64Var(&o.seed.Seed, "seed", 1, "seed of the generated data")
	fs.IntVar(&o.seed.Streams, "copy-streams", 2, "parallel COPY connections of the seed")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "duration of each attack (two per case)")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "unmeasured max-rate attack before each case")
	fs.IntVar(&o.workers, "workers", 8, "vegeta workers of the max-rate attack")
	fs.IntVar(&o.pageRate, "page-rate", 200, "fixed rate (req/s) of cases a to d")
	fs.IntVar(&o.countRate, "count-rate", 5, "fixed rate (req/s) of cases e and f")
	fs.IntVar(&o.fixedMax, "fixed-max-workers", 64, "bound on the requests in flight of a fixed-rate attack (a server slower than the rate gets at most this many at once)")
	cases := fs.String("cases", strings.Join(apiCaseNames, ","), "comma list of the cases to run")
	fs.BoolVar(&o.withoutIndexes, "without-indexes", false, "drop the indexes of migrations/"+apiIndexMigration+" after migrating (the baseline)")
	fs.BoolVar(&o.compare, "compare-indexes", false, "measure without the indexes of "+apiIndexMigration+", then with them, on the same data, and print the ratios")
	fs.BoolVar(&o.explain, "explain", false, "print the plans of the statements the server sends for each case (auto_explain: ANALYZE, BUFFERS)")
	fs.BoolVar(&o.keep, "keep", false, "leave the PostgreSQL cluster and the database running at the end (stop it with: "+
		".ci/postgres.sh stop DIR/pg)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("api: unexpected arguments %q", fs.Args())
	}
	if err := o.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	s := o.seed
	if s.Violations < 1000 || s.Accounts < 10 || s.Apps < 1 || s.Rules < 1 || s.Days < 31 || s.Streams < 1 {
		return nil, errors.New("api: --violations ≥ 1000, --accounts ≥ 10, --days ≥ 31 (case b asks for 30 days), --applications, --rules and --copy-streams ≥ 1")
	}
	if o.duration <= 0 || o.warmup < 0 || o.workers < 1 || o.pageRate < 1 || o.countRate < 1 || o.fixedMax < 1 {
		return nil, errors.New("api: --duration, --workers, --page-rate, --count-rate and --fixed-max-workers must be positive, --warmup not negative")
	}
	if o.withoutIndexes && o.compare {
		return nil, errors.New("api: --without-indexes and --compare-indexes exclude each other (--compare-indexes measures both)")
	}
	o.cases = map[string]bool{}
	for _, c := range strings.Split(*cases, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !slices.Contains(apiCaseNames, c) {
			return nil, fmt.Errorf("--cases: unknown case %q, want some of %s", c, strings.Join(apiCaseNames, ","))
		}
		o.cases[c] = true
	}
	if len(o.cases) == 0 {
		return nil, errors.New("--cases: no case")
	}
	return o, nil
}

// apiMain runs fullstop-bench api.
func apiMain(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parseAPIOptions(args, stderr)
	if err != nil {
		return err
	}
	o.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	if o.fullstop, err = filepath.Abs(o.fullstop); err != nil {
		return err
	}
	if _, err := os.Stat(o.fullstop); err != nil {
		return fmt.Errorf("the fullstop binary (--fullstop; make bench-api builds it): %w", err)
	}
	mig, err := readAPIIndexMigration()
	if err != nil {
		return err
	}
	if (o.withoutIndexes || o.compare) && mig == nil {
		return fmt.Errorf("--without-indexes/--compare-indexes: there is no migration %s in this build", apiIndexMigration)
	}

	pgDir, err := filepath.Abs(filepath.Join(o.dir, "pg"))
	if err != nil {
		return err
	}
	pg, err := startPostgres(ctx, o.pgScript, pgDir)
	if err != nil {
		return err
	}
	dbURL, drop, err := pg.freshDatabase(ctx, "api")
	if err != nil {
		_ = pg.stop()
		return err
	}
	defer func() {
		if o.keep {
			fmt.Fprintf(stdout, "\nPostgreSQL left running (--keep): %s\n  stop it with: %s stop %s\n", dbURL, o.pgScript, pgDir)
			return
		}
		drop()
		if serr := pg.stop(); serr != nil && err == nil {
			err = serr
		}
	}()

	load := loadAverage()
	meas, err := measure(ctx, o.log, childEnv(), o.fullstop, "--log-level", "warn", "migrate", "--database-url", dbURL)
	if err != nil {
		return err
	}
	o.log.Info("api: migrated", logTook, meas.Wall.Round(time.Millisecond))

	o.seed.Now = time.Now().UTC().Truncate(time.Second)
	if mig != nil {
		o.seed.SkipIndexes = unqualified(mig.names) // made by each phase
	}
	ds, err := seedAndVacuum(ctx, dbURL, o.seed, o.log)
	if err != nil {
		return err
	}
	settings := pgSettings(ctx, dbURL)
	fmt.Fprintf(stdout, "Seed: %s violations (%d accounts, %d types, %d regions, %d applications with %d versions, %d whitelisting rules; "+
		"about 90%% open, 5%% resolved, 5%% whitelisted; created over the last %d days) in %s: references %s, COPY over %d connections %s, "+
		"secondary indexes built after it %s, VACUUM ANALYZE %s (%s, %.1f%% of the pages all-visible)\n",
		thousands(int64(o.seed.Violations)), len(ds.Accounts), len(ds.Types), len(ds.Regions), ds.Apps, ds.Versions, len(ds.Rules), o.seed.Days,
		(ds.Took.Reference + ds.Took.Copy + ds.Took.Index + ds.Took.Vacuum).Round(10*time.Millisecond), ds.Took.Reference.Round(10*time.Millisecond),
		o.seed.Streams, ds.Took.Copy.Round(10*time.Millisecond), ds.Took.Index.Round(10*time.Millisecond), ds.Took.Vacuum.Round(10*time.Millisecond),
		passes(ds.VacuumPasses), 100*ds.AllVisible)
	fmt.Fprintf(stdout, "PostgreSQL %s; fullstop migrate %s; %d CPUs, load average %s before the seed\n",
		settings, meas.Wall.Round(10*time.Millisecond), runtime.NumCPU(), load)

	phases := []bool{!o.withoutIndexes} // with the 00005 indexes?
	if o.compare {
		phases = []bool{false, true}
	}
	var results [][]apiResult
	for _, with := range phases {
		label := "with the indexes of " + apiIndexMigration
		switch {
		case mig == nil:
			label = "without " + apiIndexMigration + " (not in this build)"
		case !with:
			label = "without the indexes of " + apiIndexMigration
		}
		if mig != nil {
			took, err := mig.apply(ctx, dbURL, with)
			if err != nil {
				return err
			}
			if took > 0 {
				fmt.Fprintf(stdout, "\n%s: created in %s (ANALYZE included)\n", apiIndexMigration, took.Round(10*time.Millisecond))
			}
		}
		idx, err := violationIndexes(ctx, dbURL)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\n== %s\n\nIndexes on fullstop_data.violation:\n", label)
		for _, ix := range idx {
			fmt.Fprintf(stdout, "  %-40s %7s  %s\n", ix.name, ix.size, ix.def)
		}
		rs, err := runAPIPhase(ctx, o, pg, dbURL, ds, label, stdout)
		if err != nil {
			return err
		}
		results = append(results, rs)
		printAPIResults(stdout, label, o, rs)
	}
	if len(results) == 2 {
		printAPICompare(stdout, results[0], results[1])
	}
	fmt.Fprintf(stdout, "\nLoad average after: %s. Client (vegeta), server and PostgreSQL share the %d CPUs; the saturation figures are what the three reach together.\n",
		loadAverage(), runtime.NumCPU())
	bad := 0
	for _, rs := range results {
		for _, r := range rs {
			bad += r.non200()
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d answers were not 200 (see the tables)", bad)
	}
	return nil
}

// seedAndVacuum seeds the database and runs VACUUM (ANALYZE) over the
// violations, as autovacuum would after the inserts, so the visibility map
// lets counts be index-only scans.
func seedAndVacuum(ctx context.Context, dbURL string, cfg apiSeedConfig, log *slog.Logger) (*apiDataset, error) {
	ds, err := seedAPI(ctx, dbURL, cfg)
	if err != nil {
		return nil, err
	}
	log.Info("api: seeded", logTook, (ds.Took.Reference + ds.Took.Copy + ds.Took.Index).Round(time.Millisecond))
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	start := time.Now()
	// A checkpoint first: VACUUM skips the pages it cannot lock for
	// cleanup, such as the ones the checkpointer is writing out.
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	for _, t := range []string{"violation", "application", "app_version", "application_version_entities", "rule"} {
		if _, err := conn.Exec(ctx, "VACUUM (ANALYZE) fullstop_data."+t); err != nil {
			return nil, fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	// The first VACUUM right after the load may still leave part of the
	// table not all-visible (index-only scans then fetch heap pages); again
	// until at most 1% of its pages are.
	ds.VacuumPasses = 1
	for ; ds.VacuumPasses < 6; ds.VacuumPasses++ {
		var pages, visible int64
		if err := conn.QueryRow(ctx, `SELECT relpages, relallvisible FROM pg_class WHERE oid = 'fullstop_data.violation'::regclass`).Scan(&pages, &visible); err != nil {
			return nil, err
		}
		ds.AllVisible = float64(visible) / float64(max(pages, 1))
		if ds.AllVisible >= 0.99 {
			break
		}
		time.Sleep(time.Second)
		if _, err := conn.Exec(ctx, "VACUUM fullstop_data.violation"); err != nil {
			return nil, fmt.Errorf("vacuum violation: %w", err)
		}
	}
	ds.Took.Vacuum = time.Since(start)
	if ds.IDs, err = sampleIDs(ctx, conn, apiIDTargets, cfg.Seed); err != nil {
		return nil, err
	}
	return ds, nil
}

func passes(n int) string {
	if n == 1 {
		return "1 pass"
	}
	return fmt.Sprintf("%d passes", n)
}

// pgSettings describes the server's version and the settings that shape
// the plans.
func pgSettings(ctx context.Context, dbURL string) string {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return "?"
	}
	defer conn.Close(ctx)
	var b strings.Builder
	var v string
	if conn.QueryRow(ctx, "SHOW server_version").Scan(&v) == nil {
		b.WriteString(strings.Fields(v)[0])
	}
	for _, s := range []string{"shared_buffers", "work_mem", "max_parallel_workers_per_gather", "random_page_cost"} {
		if conn.QueryRow(ctx, "SHOW "+s).Scan(&v) == nil {
			fmt.Fprintf(&b, ", %s %s", s, v)
		}
	}
	var size int64
	if conn.QueryRow(ctx, "SELECT pg_table_size('fullstop_data.violation')").Scan(&size) == nil {
		fmt.Fprintf(&b, ", table fullstop_data.violation %s MB", mb(size))
	}
	return b.String()
}
