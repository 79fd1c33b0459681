package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/etl/file"
	"github.com/fullstop-audit/fullstop/etl/s3"
	"github.com/fullstop-audit/fullstop/rules/duckdb"
	"github.com/fullstop-audit/fullstop/store"
)

func databaseFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "database-url", EnvVars: []string{"DATABASE_URL"}, Usage: "PostgreSQL URL: postgres://user:pass@host:port/db, or the reference's jdbc:postgresql://host:port/db"},
		&cli.StringFlag{Name: "database-user", EnvVars: []string{"DATABASE_USER"}, Usage: "PostgreSQL user, if not in the URL"},
		&cli.StringFlag{Name: "database-password", EnvVars: []string{"DATABASE_PASSWORD"}, Usage: "PostgreSQL password, if not in the URL"},
	}
}

func sourceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "source", EnvVars: []string{"FULLSTOP_SOURCE"}, Usage: "where the CloudTrail logs are: s3://bucket[/prefix], file:///abs/path or a plain path"},
		&cli.StringFlag{Name: "accounts", EnvVars: []string{"FULLSTOP_ACCOUNTS"}, Usage: "comma list of AWS account ids to read (default: all found)"},
		&cli.StringFlag{Name: "regions", EnvVars: []string{"FULLSTOP_REGIONS"}, Usage: "comma list of regions to read (default: all found)"},
		&cli.IntFlag{Name: "workers", Value: runtime.NumCPU(), EnvVars: []string{"FULLSTOP_WORKERS"}, Usage: "objects processed in parallel"},
		&cli.IntFlag{Name: "fetchers", EnvVars: []string{"FULLSTOP_FETCHERS"}, Usage: "objects read from the source at once, ahead of the workers (default: 4 × --workers)"},
		&cli.StringFlag{Name: "s3-region", EnvVars: []string{"FULLSTOP_S3_REGION"}, Usage: "region of the CloudTrail bucket (default: from the AWS environment, else us-east-1)"},
		&cli.StringFlag{Name: "s3-endpoint", EnvVars: []string{"FULLSTOP_S3_ENDPOINT"}, Usage: "endpoint URL of an S3-compatible server, e.g. http://127.0.0.1:9000"},
		&cli.BoolFlag{Name: "s3-path-style", EnvVars: []string{"FULLSTOP_S3_PATH_STYLE"}, Usage: "path-style S3 addressing (default: on when --s3-endpoint is set)"},
		&cli.Int64Flag{Name: "max-object-size", Value: etl.DefaultMaxObjectSize, EnvVars: []string{"FULLSTOP_MAX_OBJECT_SIZE"}, Usage: "objects larger than this many bytes fail without being read"},
		&cli.IntFlag{Name: "max-attempts", Value: etl.DefaultMaxAttempts, EnvVars: []string{"FULLSTOP_MAX_ATTEMPTS"}, Usage: "failed attempts after which an object is quarantined"},
		&cli.IntFlag{Name: "group-size", Value: etl.DefaultGroupSize, EnvVars: []string{"FULLSTOP_GROUP_SIZE"}, Usage: "objects committed per database transaction"},
		&cli.IntFlag{Name: "eval-events", Value: etl.DefaultEvalEvents, EnvVars: []string{"FULLSTOP_EVAL_EVENTS"}, Usage: "events a worker gathers from one or more objects before it runs the rules over them"},
		&cli.StringFlag{Name: "allowed-regions", Value: strings.Join(duckdb.DefaultAllowedRegions, ","), EnvVars: []string{"FULLSTOP_ALLOWED_REGIONS"}, Usage: "comma list of regions where EC2 instances and Lambda functions may be created"},
		&cli.StringFlag{Name: "lambda-trusted-buckets", EnvVars: []string{"FULLSTOP_LAMBDA_TRUSTED_BUCKETS"}, Usage: "comma list of S3 buckets Lambda code may come from (default: none, every upload is flagged)"},
		&cli.BoolFlag{Name: "include-failed-calls", EnvVars: []string{"FULLSTOP_INCLUDE_FAILED_CALLS"}, Usage: "let rules see calls that failed (events with an errorCode)"},
	}
}

// batchSetup is what a batch command reads from its flags before any work
// starts: each package's own configuration, filled from the flags.
type batchSetup struct {
	databaseURL string
	source      string     // as given, for messages
	s3          *s3.Config // nil for a local folder
	root        string     // the local folder
	// lister has Prefix, Accounts and Regions; Source and Log are set when
	// the batch is opened.
	lister etl.Lister
	// pipeline has the tuning flags; Lister, Evaluator, Ledger and Log are
	// set when the batch is opened.
	pipeline etl.Config
	// engine has the rule settings; Schema and Log are set when the batch
	// is opened.
	engine duckdb.Config
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func readDatabaseURL(c *cli.Context) (string, error) {
	raw := c.String("database-url")
	if raw == "" {
		return "", usagef("missing setting DATABASE_URL (--database-url): the PostgreSQL database to use")
	}
	u, err := store.NormalizeURL(raw, c.String("database-user"), c.String("database-password"))
	if err != nil {
		return "", usagef("DATABASE_URL (--database-url): %v", err)
	}
	return u, nil
}

// readBatchSetup reads and checks the flags of a batch command; pc holds
// what the command sets itself (Reprocess, Progress).
func readBatchSetup(c *cli.Context, pc etl.Config) (*batchSetup, error) {
	dbURL, err := readDatabaseURL(c)
	if err != nil {
		return nil, err
	}
	pc.Workers = c.Int("workers")
	pc.Fetchers = c.Int("fetchers")
	pc.MaxObjectSize = c.Int64("max-object-size")
	pc.MaxAttempts = c.Int("max-attempts")
	pc.GroupSize = c.Int("group-size")
	pc.EvalEvents = c.Int("eval-events")
	bs := &batchSetup{
		databaseURL: dbURL,
		source:      c.String("source"),
		lister:      etl.Lister{Accounts: splitList(c.String("accounts")), Regions: splitList(c.String("regions"))},
		pipeline:    pc,
		engine: duckdb.Config{
			AllowedRegions:       splitList(c.String("allowed-regions")),
			LambdaTrustedBuckets: splitList(c.String("lambda-trusted-buckets")),
			IncludeFailedCalls:   c.Bool("include-failed-calls"),
		},
	}
	if bs.source == "" {
		return nil, usagef("missing setting FULLSTOP_SOURCE (--source): s3://bucket[/prefix] or a local folder")
	}
	switch {
	case pc.Workers < 1:
		return nil, usagef("--workers (FULLSTOP_WORKERS) must be at least 1, not %d", pc.Workers)
	case pc.Fetchers < 0:
		return nil, usagef("--fetchers (FULLSTOP_FETCHERS) must not be negative")
	case pc.MaxObjectSize < 1:
		return nil, usagef("--max-object-size (FULLSTOP_MAX_OBJECT_SIZE) must be positive")
	case pc.MaxAttempts < 1:
		return nil, usagef("--max-attempts (FULLSTOP_MAX_ATTEMPTS) must be at least 1")
	case pc.GroupSize < 1:
		return nil, usagef("--group-size (FULLSTOP_GROUP_SIZE) must be at least 1")
	case pc.EvalEvents < 1:
		return nil, usagef("--eval-events (FULLSTOP_EVAL_EVENTS) must be at least 1")
	case len(bs.engine.AllowedRegions) == 0:
		return nil, usagef("--allowed-regions (FULLSTOP_ALLOWED_REGIONS) must name at least one region")
	}
	for _, a := range bs.lister.Accounts {
		if !etl.IsAccountID(a) {
			return nil, usagef("--accounts (FULLSTOP_ACCOUNTS): %q is not a 12-digit AWS account id", a)
		}
	}
	if strings.HasPrefix(bs.source, "s3://") {
		bucket, prefix, err := s3.ParseURL(bs.source)
		if err != nil {
			return nil, usagef("--source (FULLSTOP_SOURCE): %v", err)
		}
		bs.s3 = &s3.Config{
			Bucket:    bucket,
			Prefix:    prefix,
			Region:    c.String("s3-region"),
			Endpoint:  c.String("s3-endpoint"),
			PathStyle: c.Bool("s3-path-style") || (c.String("s3-endpoint") != "" && !c.IsSet("s3-path-style")),
		}
		bs.lister.Prefix = prefix
	} else {
		if strings.Contains(bs.source, "://") && !strings.HasPrefix(bs.source, "file://") {
			return nil, usagef("--source (FULLSTOP_SOURCE): %q: want s3://bucket[/prefix], file:///abs/path or a plain path", bs.source)
		}
		root := strings.TrimPrefix(bs.source, "file://")
		if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
			return nil, usagef("--source (FULLSTOP_SOURCE): %q is not a readable folder", bs.source)
		}
		bs.root = root
	}
	return bs, nil
}

// batchEnv is the opened store, source and rules of a batch command.
type batchEnv struct {
	store  *store.Store
	engine *duckdb.Engine
	pipe   *etl.Pipeline
}

func (e *batchEnv) Close() {
	if e.engine != nil {
		e.engine.Close()
	}
	if e.store != nil {
		e.store.Close()
	}
}

// openBatch opens the rule engine, the source and the store of a batch.
// The engine comes first: a binary built without it says so before it
// touches the source or the database.
func openBatch(ctx context.Context, log *slog.Logger, bs *batchSetup) (*batchEnv, error) {
	env := &batchEnv{}
	ok := false
	defer func() {
		if !ok {
			env.Close()
		}
	}()
	var err error
	ec := bs.engine
	ec.Schema, ec.Log = event.Schema, log
	if env.engine, err = duckdb.New(ctx, ec); err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	lister := bs.lister
	lister.Log = log
	if bs.s3 != nil {
		lister.Source, err = s3.New(ctx, *bs.s3)
	} else {
		lister.Source, err = file.New(bs.root)
	}
	if err != nil {
		return nil, fmt.Errorf("open source %s (FULLSTOP_SOURCE): %w", bs.source, err)
	}
	if env.store, err = store.Open(ctx, bs.databaseURL, log); err != nil {
		return nil, fmt.Errorf("open database (DATABASE_URL): %w", err)
	}
	if err := env.store.Migrate(ctx); err != nil {
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	pc := bs.pipeline
	pc.Lister, pc.Evaluator, pc.Ledger, pc.Log = &lister, env.engine, env.store, log
	if env.pipe, err = etl.New(pc); err != nil {
		return nil, err
	}
	ok = true
	return env, nil
}

// parseTime reads YYYY-MM-DD (UTC midnight) or RFC 3339.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor RFC 3339", s)
	}
	return t.UTC(), nil
}
