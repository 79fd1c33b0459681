package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/etl/file"
	"github.com/fullstop-audit/fullstop/etl/instancedata"
	"github.com/fullstop-audit/fullstop/etl/lake"
	"github.com/fullstop-audit/fullstop/etl/s3"
	"github.com/fullstop-audit/fullstop/lookup"
	lookupaws "github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/iamrole"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/rules/duckdb"
	"github.com/fullstop-audit/fullstop/rules/sigma"
	"github.com/fullstop-audit/fullstop/store"
)

func databaseFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "database-url", EnvVars: []string{"DATABASE_URL"}, Usage: "PostgreSQL URL: postgres://user:pass@host:port/db, or the reference's jdbc:postgresql://host:port/db"},
		&cli.StringFlag{Name: "database-user", EnvVars: []string{"DATABASE_USER"}, Usage: "PostgreSQL user, if not in the URL"},
		&cli.StringFlag{Name: "database-password", EnvVars: []string{"DATABASE_PASSWORD"}, Usage: "PostgreSQL password, if not in the URL; aws:kms:<base64 ciphertext> is decrypted with KMS at start-up"},
		&cli.DurationFlag{Name: "database-connect-timeout", Value: store.DefaultConnectTimeout, EnvVars: []string{"DATABASE_CONNECT_TIMEOUT"}, Usage: "bound on opening a database connection; connect_timeout in the URL wins"},
		&cli.DurationFlag{Name: "database-statement-timeout", Value: store.DefaultStatementTimeout, EnvVars: []string{"DATABASE_STATEMENT_TIMEOUT"}, Usage: "bound on one database statement (client and server side); statement_timeout in the URL wins on the server"},
		&cli.DurationFlag{Name: "database-transaction-timeout", Value: store.DefaultTransactionTimeout, EnvVars: []string{"DATABASE_TRANSACTION_TIMEOUT"}, Usage: "bound on one group commit, BEGIN to COMMIT"},
	}
}

// readStoreConfig reads the database timeouts.
func readStoreConfig(c *cli.Context, log *slog.Logger) (*store.Config, error) {
	sc := &store.Config{
		Log:                log,
		ConnectTimeout:     c.Duration("database-connect-timeout"),
		StatementTimeout:   c.Duration("database-statement-timeout"),
		TransactionTimeout: c.Duration("database-transaction-timeout"),
	}
	for name, d := range map[string]time.Duration{"--database-connect-timeout": sc.ConnectTimeout,
		"--database-statement-timeout": sc.StatementTimeout, "--database-transaction-timeout": sc.TransactionTimeout} {
		if d <= 0 {
			return nil, usagef("%s must be positive, not %s", name, d)
		}
	}
	return sc, nil
}

// openStoreFromFlags opens and migrates the database the database flags
// name.
func openStoreFromFlags(c *cli.Context, log *slog.Logger) (*store.Store, string, error) {
	dbURL, err := readDatabaseURL(c)
	if err != nil {
		return nil, "", err
	}
	sc, err := readStoreConfig(c, log)
	if err != nil {
		return nil, "", err
	}
	st, err := openStore(c.Context, dbURL, sc)
	return st, dbURL, err
}

// openStore opens and migrates the database.
func openStore(ctx context.Context, dbURL string, sc *store.Config) (*store.Store, error) {
	st, err := store.Open(ctx, dbURL, sc)
	if err != nil {
		return nil, dbError(dbURL, fmt.Errorf("open database: %w", err))
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, dbError(dbURL, fmt.Errorf("migrate database: %w", err))
	}
	return st, nil
}

// dbError names the database and its setting in an error that says the
// database is unavailable (lost, refused, stalled); other errors get the
// setting's name only.
func dbError(dbURL string, err error) error {
	if err == nil {
		return nil
	}
	where := "DATABASE_URL"
	if u, perr := url.Parse(dbURL); perr == nil && u.Host != "" {
		where = fmt.Sprintf("%s%s, DATABASE_URL", u.Host, u.Path)
	}
	if errors.Is(err, store.ErrUnavailable) {
		return fmt.Errorf("database unavailable (%s): %w", where, err)
	}
	return fmt.Errorf("database (%s): %w", where, err)
}

// s3Flags are the S3 settings, shared by the source and the lake.
func s3Flags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "s3-region", EnvVars: []string{"FULLSTOP_S3_REGION"}, Usage: "region of the bucket (default: from the AWS environment, else us-east-1)"},
		&cli.StringFlag{Name: "s3-endpoint", EnvVars: []string{"FULLSTOP_S3_ENDPOINT"}, Usage: "endpoint URL of an S3-compatible server, e.g. http://127.0.0.1:9000"},
		&cli.BoolFlag{Name: "s3-path-style", EnvVars: []string{"FULLSTOP_S3_PATH_STYLE"}, Usage: "path-style S3 addressing (default: on when --s3-endpoint is set)"},
		&cli.DurationFlag{Name: "s3-connect-timeout", Value: s3.DefaultConnectTimeout, EnvVars: []string{"FULLSTOP_S3_CONNECT_TIMEOUT"}, Usage: "bound on the TCP dial and TLS handshake of an S3 connection"},
		&cli.DurationFlag{Name: "s3-request-timeout", Value: s3.DefaultRequestTimeout, EnvVars: []string{"FULLSTOP_S3_REQUEST_TIMEOUT"}, Usage: "bound on each S3 request's wait for an answer, and on each wait for more of a body"},
		&cli.DurationFlag{Name: "s3-credentials-timeout", Value: s3.DefaultCredentialsTimeout, EnvVars: []string{"FULLSTOP_S3_CREDENTIALS_TIMEOUT"}, Usage: "bound on finding the AWS credentials at start (the instance metadata service included)"},
	}
}

func sourceFlags() []cli.Flag {
	return append(s3Flags(), []cli.Flag{
		sigmaFlag(),
		rulesFlag(),
		lakeFlag(lakeWriteUsage),
		&cli.StringFlag{Name: "lake-compression", Value: string(lake.DefaultCompression), EnvVars: []string{"FULLSTOP_LAKE_COMPRESSION"}, Usage: "codec of the lake files a batch writes: zstd-1 (zstd's fastest level) to zstd-4, zstd (level 3), or snappy (faster, larger); lake compact recompresses"},
		&cli.StringFlag{Name: "source", EnvVars: []string{"FULLSTOP_SOURCE"}, Usage: "where the CloudTrail logs are: s3://bucket[/prefix], file:///abs/path or a plain path"},
		&cli.StringFlag{Name: "accounts", EnvVars: []string{"FULLSTOP_ACCOUNTS"}, Usage: "comma list of AWS account ids to read (default: all found)"},
		&cli.StringFlag{Name: "regions", EnvVars: []string{"FULLSTOP_REGIONS"}, Usage: "comma list of regions to read (default: all found)"},
		&cli.IntFlag{Name: "workers", Value: runtime.NumCPU(), EnvVars: []string{"FULLSTOP_WORKERS"}, Usage: "objects processed in parallel"},
		&cli.IntFlag{Name: "fetchers", EnvVars: []string{"FULLSTOP_FETCHERS"}, Usage: "objects read from the source at once, ahead of the workers (default: 4 × --workers)"},
		&cli.Int64Flag{Name: "max-object-size", Value: etl.DefaultMaxObjectSize, EnvVars: []string{"FULLSTOP_MAX_OBJECT_SIZE"}, Usage: "objects larger than this many bytes fail without being read"},
		&cli.IntFlag{Name: "max-attempts", Value: etl.DefaultMaxAttempts, EnvVars: []string{"FULLSTOP_MAX_ATTEMPTS"}, Usage: "failed attempts after which an object is quarantined"},
		&cli.IntFlag{Name: "group-size", Value: etl.DefaultGroupSize, EnvVars: []string{"FULLSTOP_GROUP_SIZE"}, Usage: "objects committed per database transaction"},
		&cli.IntFlag{Name: "group-violations", Value: etl.DefaultGroupViolations, EnvVars: []string{"FULLSTOP_GROUP_VIOLATIONS"}, Usage: "a transaction commits its objects once they hold this many violations, before --group-size objects"},
		&cli.IntFlag{Name: "eval-events", Value: etl.DefaultEvalEvents, EnvVars: []string{"FULLSTOP_EVAL_EVENTS"}, Usage: "events a worker gathers from one or more objects before it runs the rules over them"},
		&cli.StringFlag{Name: "allowed-regions", Value: strings.Join(duckdb.DefaultAllowedRegions, ","), EnvVars: []string{"FULLSTOP_ALLOWED_REGIONS"}, Usage: "comma list of regions where EC2 instances and Lambda functions may be created"},
		&cli.StringFlag{Name: "lambda-trusted-buckets", EnvVars: []string{"FULLSTOP_LAMBDA_TRUSTED_BUCKETS"}, Usage: "comma list of S3 buckets Lambda code may come from (default: none, every upload is flagged)"},
		&cli.BoolFlag{Name: "include-failed-calls", EnvVars: []string{"FULLSTOP_INCLUDE_FAILED_CALLS"}, Usage: "let rules see calls that failed (events with an errorCode)"},
		&cli.BoolFlag{Name: "aws-lookups", EnvVars: []string{"FULLSTOP_AWS_LOOKUPS"}, Usage: "look up the AMI and user data behind launched instances in each member account (STS AssumeRole of --role-name); the rules WRONG_AMI, MISSING_USER_DATA, MISSING_APPLICATION_ID_IN_USER_DATA, MISSING_SOURCE_IN_USER_DATA and EC2_WITH_A_SNAPSHOT_IMAGE run only with it"},
		&cli.StringFlag{Name: "role-name", Value: lookupaws.DefaultRoleName, EnvVars: []string{"FULLSTOP_ROLE_NAME"}, Usage: "(with --aws-lookups) the role assumed in each member account: arn:aws:iam::{account}:role/{role-name}"},
		&cli.StringFlag{Name: "sts-region", EnvVars: []string{"FULLSTOP_STS_REGION"}, Usage: "(with --aws-lookups) region of the STS endpoint (default: the AWS environment's region, else us-east-1)"},
		&cli.DurationFlag{Name: "lookup-timeout", Value: duckdb.DefaultLookupTimeout, EnvVars: []string{"FULLSTOP_LOOKUP_TIMEOUT"}, Usage: "bound on one lookup; an object whose lookup fails is left for the next batch"},
		&cli.IntFlag{Name: "lookup-concurrency", Value: duckdb.DefaultLookupConcurrency, EnvVars: []string{"FULLSTOP_LOOKUP_CONCURRENCY"}, Usage: "lookups in flight at once for one batch of events"},
		&cli.StringFlag{Name: "taupage-owners", EnvVars: []string{"FULLSTOP_TAUPAGE_OWNERS"}, Usage: "comma list of the AWS accounts that own the Taupage AMIs"},
		&cli.StringFlag{Name: "kio-url", EnvVars: []string{"FULLSTOP_KIO_URL"}, Usage: "Kio, the application registry, that APPLICATION_NOT_PRESENT_IN_KIO and the SCM rules ask (with --aws-lookups)"},
		&cli.StringFlag{Name: "pierone-urls", EnvVars: []string{"FULLSTOP_PIERONE_URLS"}, Usage: "comma list of Pier One registries, chosen by the host a Taupage source names, that the image rules ask (with --aws-lookups)"},
		&cli.StringFlag{Name: "scm-hosts", EnvVars: []string{"FULLSTOP_SCM_HOSTS"}, Usage: "allowed SCM hosts, each with the pattern its repository owners must match: host=regex pairs separated by commas, e.g. github.com=^zalando-stups|zalando-incubator$"},
		&cli.StringFlag{Name: "role-templates-bucket", EnvVars: []string{"FULLSTOP_UNAPPROVED_SERVICES_AND_ROLE_BUCKET_NAME"}, Usage: "(with --aws-lookups) S3 bucket of fullstop's own account holding the templates of the protected IAM roles, <prefix>/<role>.json; MODIFIED_ROLE_OR_SERVICE runs only with it"},
		&cli.StringFlag{Name: "role-templates-prefix", EnvVars: []string{"FULLSTOP_UNAPPROVED_SERVICES_AND_ROLE_PREFIX"}, Usage: "folder of the role templates in that bucket"},
		&cli.StringFlag{Name: "admin-roles", Value: strings.Join(iamrole.DefaultAdminRoles, ","), EnvVars: []string{"FULLSTOP_ADMIN_ROLES"}, Usage: "comma list of the roles (session issuers' user names) that may change protected roles"},
		&cli.StringFlag{Name: "instance-logs-bucket", EnvVars: []string{"INSTANCE_LOGS_S3_BUCKET"}, Usage: "the instance-data bucket, bucket or s3://bucket/prefix: where POST /api/instance-logs stores what instances upload (serve), and the security-group snapshots of launches are written (with --aws-lookups)"},
		&cli.StringFlag{Name: "taupage-name-prefix", Value: duckdb.DefaultTaupageNamePrefix, EnvVars: []string{"FULLSTOP_TAUPAGE_NAME_PREFIX"}, Usage: "the start of every Taupage AMI's name (case-sensitive)"},
		&cli.DurationFlag{Name: "lease", Value: etl.DefaultLease, EnvVars: []string{"FULLSTOP_LEASE"}, Usage: "how long a claim on an object lasts unless renewed; processes on one database split a batch by claims, and a dead process's claims expire after this"},
		&cli.IntFlag{Name: "max-source-failures", Value: etl.DefaultSourceFailureLimit, EnvVars: []string{"FULLSTOP_MAX_SOURCE_FAILURES"}, Usage: "objects in a row the source may fail to give before the batch stops early (exit 1)"},
		&cli.DurationFlag{Name: "stop-timeout", Value: etl.DefaultStopTimeout, EnvVars: []string{"FULLSTOP_STOP_TIMEOUT"}, Usage: "after SIGTERM or Ctrl-C, how long the objects in work may take to finish and commit"},
	}...)
}

// batchSetup is what a batch command reads from its flags before any work
// starts: each package's own configuration, filled from the flags.
type batchSetup struct {
	// awsLookups, with --aws-lookups, configures the member accounts'
	// clients (Base is loaded when the batch opens); lookupMetrics counts
	// the lookups (nil: not counted); credentialsTimeout bounds finding
	// the process's AWS credentials.
	awsLookups         *lookupaws.Config
	registries         *registrySetup // Kio and Pier One, nil for none
	roleTemplates      *roleTemplates // the protected roles' templates, nil for none
	lookupMetrics      *lookup.Metrics
	credentialsTimeout time.Duration
	sigma              []string        // --sigma: folders and files of Sigma rules
	selection          rules.Selection // --rules
	// instanceData is the instance-data bucket (--instance-logs-bucket),
	// where the security-group snapshots of launches go; nil for none.
	instanceData *s3.Config
	databaseURL  string
	store        *store.Config // Log is set when the batch is opened
	source       string        // as given, for messages
	s3           *s3.Config    // nil for a local folder
	root         string        // the local folder
	// lister has Prefix, Accounts and Regions; Source and Log are set when
	// the batch is opened.
	lister etl.Lister
	// pipeline has the tuning flags; Lister, Evaluator, Ledger and Log are
	// set when the batch is opened.
	pipeline etl.Config
	// engine has the rule settings; Schema and Log are set when the batch
	// is opened.
	engine duckdb.Config
	lake   *lakeSetup // nil without --lake
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
	password, err := databasePassword(c.Context, c.String("database-password"))
	if err != nil {
		return "", err
	}
	u, err := store.NormalizeURL(raw, c.String("database-user"), password)
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
	pc.GroupViolations = c.Int("group-violations")
	pc.EvalEvents = c.Int("eval-events")
	pc.Lease = c.Duration("lease")
	pc.SourceFailureLimit = c.Int("max-source-failures")
	pc.StopTimeout = c.Duration("stop-timeout")
	sc, err := readStoreConfig(c, nil)
	if err != nil {
		return nil, err
	}
	bs := &batchSetup{
		databaseURL: dbURL,
		store:       sc,
		source:      c.String("source"),
		lister:      etl.Lister{Accounts: splitList(c.String("accounts")), Regions: splitList(c.String("regions"))},

		credentialsTimeout: c.Duration("s3-credentials-timeout"),
		pipeline:           pc,
		engine: duckdb.Config{
			AllowedRegions:       splitList(c.String("allowed-regions")),
			LambdaTrustedBuckets: splitList(c.String("lambda-trusted-buckets")),
			IncludeFailedCalls:   c.Bool("include-failed-calls"),
			TaupageOwners:        splitList(c.String("taupage-owners")),
			TaupageNamePrefix:    c.String("taupage-name-prefix"),
			LookupTimeout:        c.Duration("lookup-timeout"),
			LookupConcurrency:    c.Int("lookup-concurrency"),
		},
	}
	bs.sigma = splitSlice(c.StringSlice("sigma"))
	if bs.selection, err = parseRulesFlag(c); err != nil {
		return nil, err
	}
	if c.Bool("aws-lookups") {
		bs.awsLookups = &lookupaws.Config{RoleName: c.String("role-name"), STSRegion: c.String("sts-region")}
		if bs.instanceData, err = readInstanceData(c); err != nil {
			return nil, err
		}
		bs.engine.SecurityGroupSnapshots = bs.instanceData != nil
		bs.roleTemplates = &roleTemplates{bucket: c.String("role-templates-bucket"), prefix: strings.Trim(c.String("role-templates-prefix"), "/"),
			adminRoles: splitList(c.String("admin-roles")), region: c.String("s3-region"), endpoint: c.String("s3-endpoint")}
		if bs.roleTemplates.bucket == "" {
			bs.roleTemplates = nil
		}
	}
	if bs.registries, err = readRegistries(c); err != nil {
		return nil, err
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
	case pc.GroupViolations < 1:
		return nil, usagef("--group-violations (FULLSTOP_GROUP_VIOLATIONS) must be at least 1")
	case pc.EvalEvents < 1:
		return nil, usagef("--eval-events (FULLSTOP_EVAL_EVENTS) must be at least 1")
	case pc.Lease < time.Second:
		return nil, usagef("--lease (FULLSTOP_LEASE) must be at least 1s, not %s", pc.Lease)
	case pc.SourceFailureLimit < 1:
		return nil, usagef("--max-source-failures (FULLSTOP_MAX_SOURCE_FAILURES) must be at least 1")
	case pc.StopTimeout <= 0:
		return nil, usagef("--stop-timeout (FULLSTOP_STOP_TIMEOUT) must be positive, not %s", pc.StopTimeout)
	case bs.engine.LookupTimeout <= 0:
		return nil, usagef("--lookup-timeout (FULLSTOP_LOOKUP_TIMEOUT) must be positive, not %s", bs.engine.LookupTimeout)
	case bs.engine.LookupConcurrency < 1:
		return nil, usagef("--lookup-concurrency (FULLSTOP_LOOKUP_CONCURRENCY) must be at least 1")
	case len(bs.engine.AllowedRegions) == 0:
		return nil, usagef("--allowed-regions (FULLSTOP_ALLOWED_REGIONS) must name at least one region")
	}
	if bs.lake, err = readLakeSetup(c); err != nil {
		return nil, err
	}
	if bs.lake != nil {
		if bs.lake.compression, err = lake.ParseCompression(c.String("lake-compression")); err != nil {
			return nil, usagef("--lake-compression (FULLSTOP_LAKE_COMPRESSION): %v", err)
		}
	}
	for _, a := range bs.lister.Accounts {
		if !etl.IsAccountID(a) {
			return nil, usagef("--accounts (FULLSTOP_ACCOUNTS): %q is not a 12-digit AWS account id", a)
		}
	}
	if strings.HasPrefix(bs.source, "s3://") {
		if bs.s3, err = readS3Config(c, bs.source, "--source (FULLSTOP_SOURCE)"); err != nil {
			return nil, err
		}
		bs.lister.Prefix = bs.s3.Prefix
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

// readS3Config reads the S3 settings for the bucket of rawURL
// (s3://bucket[/prefix]); setting names the flag rawURL came from.
func readS3Config(c *cli.Context, rawURL, setting string) (*s3.Config, error) {
	bucket, prefix, err := s3.ParseURL(rawURL)
	if err != nil {
		return nil, usagef("%s: %v", setting, err)
	}
	cfg := &s3.Config{
		Bucket:    bucket,
		Prefix:    prefix,
		Region:    c.String("s3-region"),
		Endpoint:  c.String("s3-endpoint"),
		PathStyle: c.Bool("s3-path-style") || (c.String("s3-endpoint") != "" && !c.IsSet("s3-path-style")),

		ConnectTimeout:     c.Duration("s3-connect-timeout"),
		RequestTimeout:     c.Duration("s3-request-timeout"),
		CredentialsTimeout: c.Duration("s3-credentials-timeout"),
	}
	if cfg.ConnectTimeout <= 0 || cfg.RequestTimeout <= 0 || cfg.CredentialsTimeout <= 0 {
		return nil, usagef("--s3-connect-timeout, --s3-request-timeout and --s3-credentials-timeout must be positive")
	}
	return cfg, nil
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
	if ec.MoreRules, err = sigmaRules(bs.sigma, log); err != nil {
		return nil, err
	}
	ec.Selection, ec.Combine = &bs.selection, sigma.Combine
	if ec.Resolver, err = openLookups(ctx, bs); err != nil {
		return nil, err
	}
	if env.engine, err = duckdb.New(ctx, ec); errors.Is(err, rules.ErrSelection) {
		return nil, usagef("--rules (FULLSTOP_RULES): %v", err)
	} else if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	lister := bs.lister
	lister.Log = log
	if bs.s3 != nil {
		lister.Source, err = s3.New(ctx, *bs.s3)
	} else {
		lister.Source, err = file.New(bs.root)
	}
	if errors.Is(err, s3.ErrNoCredentials) {
		return nil, usagef("%v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("open source %s (FULLSTOP_SOURCE): %w", bs.source, err)
	}
	sc := *bs.store
	sc.Log = log
	if env.store, err = openStore(ctx, bs.databaseURL, &sc); err != nil {
		return nil, err
	}
	written, err := env.store.DefineViolationTypes(ctx, env.engine.Rules())
	if err != nil {
		return nil, err
	}
	if len(written) > 0 {
		log.Info("violation types defined from the rules", logTypes, written)
	}
	pc := bs.pipeline
	if bs.lake != nil {
		if pc.Lake, err = openLake(ctx, log, bs.lake, true); err != nil {
			return nil, err
		}
	}
	if bs.instanceData != nil {
		b, err := openInstanceBucket(ctx, bs.instanceData)
		if err != nil {
			return nil, err
		}
		pc.Snapshots = &instancedata.Snapshots{Bucket: b, Log: log}
	}
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

// instanceBucket is the instance-data bucket: its keys below its prefix.
// It serves POST /api/instance-logs (api.InstanceData) and the
// security-group snapshots (instancedata.Bucket).
type instanceBucket struct {
	src    *s3.Source
	prefix string // "" or ending in /
	name   string // bucket[/prefix]
}

// Put stores data as key below the prefix.
func (b *instanceBucket) Put(ctx context.Context, key string, data []byte) error {
	return b.src.Put(ctx, b.prefix+key, data)
}

// Folders lists the folders directly below prefix.
func (b *instanceBucket) Folders(ctx context.Context, prefix string) ([]string, error) {
	l, err := b.src.List(ctx, b.prefix+prefix, "/")
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(l.Prefixes))
	for _, p := range l.Prefixes {
		out = append(out, strings.TrimPrefix(p, b.prefix))
	}
	return out, nil
}

// readInstanceData reads --instance-logs-bucket (a bucket name, or
// s3://bucket/prefix) with the --s3-* settings; nil when it is not set.
func readInstanceData(c *cli.Context) (*s3.Config, error) {
	raw := strings.TrimSpace(c.String("instance-logs-bucket"))
	if raw == "" {
		return nil, nil
	}
	if !strings.Contains(raw, "://") {
		raw = "s3://" + raw
	}
	return readS3Config(c, raw, "--instance-logs-bucket (INSTANCE_LOGS_S3_BUCKET)")
}

// openInstanceBucket opens the instance-data bucket of cfg.
func openInstanceBucket(ctx context.Context, cfg *s3.Config) (*instanceBucket, error) {
	src, err := s3.New(ctx, *cfg)
	if errors.Is(err, s3.ErrNoCredentials) {
		return nil, usagef("--instance-logs-bucket (INSTANCE_LOGS_S3_BUCKET): %v", err)
	}
	if err != nil {
		return nil, fmt.Errorf("--instance-logs-bucket (INSTANCE_LOGS_S3_BUCKET): %w", err)
	}
	b := &instanceBucket{src: src, name: cfg.Bucket}
	if p := strings.Trim(cfg.Prefix, "/"); p != "" {
		b.prefix = p + "/"
		b.name += "/" + p
	}
	return b, nil
}

// splitSlice splits each value of a repeatable flag at commas too.
func splitSlice(vs []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, splitList(v)...)
	}
	return out
}
