package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/urfave/cli/v2"

	"github.com/fullstop-audit/fullstop/etl/event"
	"github.com/fullstop-audit/fullstop/etl/lake"
	"github.com/fullstop-audit/fullstop/rules/duckdb/audit"
	sqlfiles "github.com/fullstop-audit/fullstop/sql"
	"github.com/fullstop-audit/fullstop/store"
)

const lakeReadUsage = "the events lake to query: a folder, file:///abs/path or s3://bucket/prefix (an S3 lake's files are copied to a local cache first)"

// auditFlags are the flags of query and sql: where the events and the
// violations are, and the time bounds.
func auditFlags() []cli.Flag {
	return append(append([]cli.Flag{lakeFlag(lakeReadUsage)}, s3Flags()...), append(databaseFlags(),
		&cli.StringFlag{Name: "from", EnvVars: []string{"FULLSTOP_QUERY_FROM"}, Usage: "first event_time, inclusive (YYYY-MM-DD or RFC 3339); only the partitions from that day on are read"},
		&cli.StringFlag{Name: "to", EnvVars: []string{"FULLSTOP_QUERY_TO"}, Usage: "last event_time, exclusive (YYYY-MM-DD or RFC 3339); partitions up to a day after it are read, for events delivered late"},
		&cli.StringFlag{Name: "lake-cache", EnvVars: []string{"FULLSTOP_LAKE_CACHE"}, Usage: "where copies of an S3 lake's files are kept (default: the user's cache folder)"},
	)...)
}

func queryCommand(a *app) *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "run SQL over the events lake (view events) and the violations and ledger of PostgreSQL",
		ArgsUsage: "[SQL]",
		Description: "The SQL is DuckDB's. The view events has the columns of the rules' view events plus the\n" +
			"partition columns date, account and region; filtering on date reads only those partitions.\n" +
			"The views violations and ledger are loaded from PostgreSQL (DATABASE_URL) when the SQL names\n" +
			"them. Parameters are $name in the SQL, given with --param name=value.\n" +
			"Exit codes: 0 done, 1 the SQL or the lake failed, 2 a usage error.",
		Flags: append(auditFlags(),
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, EnvVars: []string{"FULLSTOP_QUERY_FILE"}, Usage: "read the SQL from this file (- for stdin)"},
			&cli.StringFlag{Name: "name", EnvVars: []string{"FULLSTOP_QUERY_NAME"}, Usage: "run the saved query of this name (see --list)"},
			&cli.BoolFlag{Name: "list", EnvVars: []string{"FULLSTOP_QUERY_LIST"}, Usage: "list the saved queries with their parameters"},
			&cli.StringSliceFlag{Name: "param", EnvVars: []string{"FULLSTOP_QUERY_PARAMS"}, Usage: "a parameter's value, NAME=VALUE (repeat for more; the variable holds NAME=VALUE,NAME=VALUE)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "table", EnvVars: []string{"FULLSTOP_QUERY_OUTPUT"}, Usage: "output format: " + strings.Join(queryFormats, ", ")},
			&cli.StringFlag{Name: "out", EnvVars: []string{"FULLSTOP_QUERY_OUT"}, Usage: "the file to write (required with -o parquet; else default stdout)"},
			&cli.IntFlag{Name: "max-rows", Value: 1000, EnvVars: []string{"FULLSTOP_QUERY_MAX_ROWS"}, Usage: "the most rows -o table shows (0: all); the other formats write every row"},
		),
		Action: func(c *cli.Context) error { return runQuery(c, a, os.Stdout, os.Stderr) },
	}
}

// savedQueries returns the embedded saved queries.
func savedQueries() ([]audit.Saved, error) {
	sub, err := fs.Sub(sqlfiles.Queries, "queries")
	if err != nil {
		return nil, err
	}
	return audit.LoadSaved(sub)
}

func printSavedList(w io.Writer, saved []audit.Saved) {
	for _, s := range saved {
		fmt.Fprintf(w, "%s\n    %s\n", s.Name, s.Description)
		for _, p := range s.Params {
			def := ""
			if p.HasDefault {
				def = fmt.Sprintf(" (default: %s)", p.Default)
			}
			fmt.Fprintf(w, "    --param %s=…  %s%s\n", p.Name, p.Description, def)
		}
	}
}

// readQuery returns the statement and the parameters it declares, from the
// arguments, --file or --name.
func readQuery(c *cli.Context) (string, []audit.Param, error) {
	given := 0
	for _, set := range []bool{c.Args().Present(), c.String("file") != "", c.String("name") != ""} {
		if set {
			given++
		}
	}
	switch {
	case given == 0:
		return "", nil, usagef("give the SQL as an argument, with -f FILE or with --name SAVED (--list lists them)")
	case given > 1:
		return "", nil, usagef("give the SQL one way only: as an argument, with -f FILE or with --name SAVED")
	}
	if name := c.String("name"); name != "" {
		saved, err := savedQueries()
		if err != nil {
			return "", nil, err
		}
		i := slices.IndexFunc(saved, func(s audit.Saved) bool { return s.Name == name })
		if i < 0 {
			var names []string
			for _, s := range saved {
				names = append(names, s.Name)
			}
			return "", nil, usagef("--name: no saved query %q; there are %s", name, strings.Join(names, ", "))
		}
		return saved[i].SQL, saved[i].Params, nil
	}
	if f := c.String("file"); f != "" {
		var b []byte
		var err error
		if f == "-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(f)
		}
		if err != nil {
			return "", nil, usagef("--file: %v", err)
		}
		return string(b), nil, nil
	}
	if c.NArg() > 1 {
		return "", nil, usagef("the SQL must be one argument: fullstop query -o csv 'SELECT …' (got %d arguments, the second %q; quote the SQL)", c.NArg(), c.Args().Get(1))
	}
	return c.Args().First(), nil, nil
}

// readParams reads --param NAME=VALUE.
func readParams(c *cli.Context) (map[string]string, error) {
	out := map[string]string{}
	last := ""
	// The flag's values are split at commas: a piece without "=" goes
	// back to the value before it (--param regions=a,b).
	for _, p := range c.StringSlice("param") {
		k, v, ok := strings.Cut(p, "=")
		if !ok && last != "" {
			out[last] += "," + p
			continue
		}
		if !ok || k == "" || !isParamName(k) {
			return nil, usagef("--param %q: want NAME=VALUE", p)
		}
		out[k], last = v, k
	}
	return out, nil
}

// isParamName reports whether s is a name $s can use.
func isParamName(s string) bool {
	ps := audit.Params("$" + s)
	return len(ps) == 1 && ps[0] == s
}

// auditSession is an open audit engine over the lake.
type auditSession struct {
	engine *audit.Engine
	tables *lazyTables
	lake   string // the lake, for messages
	files  int
	from   time.Time
	to     time.Time
}

func (s *auditSession) Close() {
	s.engine.Close()
	s.tables.Close()
}

// emptyNote says that the view events is empty, and why.
func (s *auditSession) emptyNote() string {
	if s.files > 0 {
		return ""
	}
	between := ""
	if !s.from.IsZero() || !s.to.IsZero() {
		between = " in the partitions of the range asked for"
	}
	return fmt.Sprintf("the lake %s holds no events%s: the view events is empty", s.lake, between)
}

// openAudit lists the lake's files in the --from/--to range and opens the
// engine over them.
func openAudit(c *cli.Context, log *slog.Logger) (*auditSession, error) {
	ls, err := requireLake(c)
	if err != nil {
		return nil, err
	}
	var from, to time.Time
	if s := c.String("from"); s != "" {
		if from, err = parseTime(s); err != nil {
			return nil, usagef("--from: %v", err)
		}
	}
	if s := c.String("to"); s != "" {
		if to, err = parseTime(s); err != nil {
			return nil, usagef("--to: %v", err)
		}
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, usagef("--from (%s) must be before --to (%s)", c.String("from"), c.String("to"))
	}
	tables, err := newLazyTables(c, log)
	if err != nil {
		return nil, err
	}
	lk, err := openLake(c.Context, log, ls, false)
	if err != nil {
		return nil, err
	}
	files, err := lk.Files(c.Context, partitionRange(from, to))
	if err != nil {
		return nil, err
	}
	cache := c.String("lake-cache")
	if cache == "" {
		cache = lakeCacheDir(ls)
	}
	paths, err := lk.Local(c.Context, files, cache)
	if err != nil {
		return nil, err
	}
	cfg := audit.Config{Files: paths, Schema: event.Schema, From: from, To: to, Log: log}
	if tables != nil {
		cfg.Tables = tables
	}
	eng, err := audit.Open(c.Context, cfg)
	if err != nil {
		return nil, err
	}
	return &auditSession{engine: eng, tables: tables, lake: lk.String(), files: len(files), from: from, to: to}, nil
}

// partitionRange is the partitions to read for event_time in [from, to):
// from's day to the day after to's, as CloudTrail delivers an event in a
// later day's folder when it happens shortly before midnight.
func partitionRange(from, to time.Time) lake.Range {
	var r lake.Range
	if !from.IsZero() {
		r.From = from.UTC().Truncate(24 * time.Hour)
	}
	if !to.IsZero() {
		r.To = to.UTC().Add(-time.Microsecond).Truncate(24 * time.Hour).Add(24 * time.Hour)
	}
	return r
}

func runQuery(c *cli.Context, a *app, stdout, stderr io.Writer) error {
	if c.Bool("list") {
		saved, err := savedQueries()
		if err != nil {
			return err
		}
		printSavedList(stdout, saved)
		return nil
	}
	format := c.String("output")
	if !slices.Contains(queryFormats, format) {
		return usagef("--output (-o): %q is not one of %s", format, strings.Join(queryFormats, ", "))
	}
	if format == "parquet" && c.String("out") == "" {
		return usagef("-o parquet needs --out FILE")
	}
	q, declared, err := readQuery(c)
	if err != nil {
		return err
	}
	given, err := readParams(c)
	if err != nil {
		return err
	}
	params, err := audit.Bind(q, declared, given)
	if err != nil {
		return usagef("%v", err)
	}
	s, err := openAudit(c, a.log)
	if err != nil {
		return err
	}
	defer s.Close()
	if note := s.emptyNote(); note != "" && namesEvents(q) {
		fmt.Fprintln(stderr, "fullstop query: note:", note)
	}
	start := time.Now()
	if format == "parquet" {
		n, err := s.engine.CopyParquet(c.Context, q, c.String("out"), params)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%d rows written to %s (%s)\n", n, c.String("out"), time.Since(start).Round(time.Millisecond))
		return nil
	}
	out := stdout
	if path := c.String("out"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return usagef("--out: %v", err)
		}
		defer f.Close()
		out = f
	}
	return s.run(c.Context, out, stderr, q, params, format, c.Int("max-rows"), true)
}

// run runs one statement and writes its rows; with summary, the row count
// and the time taken go to stderr.
func (s *auditSession) run(ctx context.Context, out, stderr io.Writer, q string, params map[string]string, format string, maxRows int, summary bool) error {
	start := time.Now()
	rows, err := s.engine.Query(ctx, q, params)
	if err != nil {
		return err
	}
	defer rows.Close()
	n, cut, err := writeResult(out, format, rows.Columns, rows.Types, rows, maxRows)
	if err != nil {
		return err
	}
	if summary {
		shown := ""
		if cut {
			shown = fmt.Sprintf(", the first %d shown (--max-rows; -o csv or jsonl for all)", maxRows)
		}
		fmt.Fprintf(stderr, "%s%s (%s)\n", countOf(n, "row"), shown, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// namesEvents reports whether a statement mentions the view events.
func namesEvents(q string) bool {
	return strings.Contains(strings.ToLower(q), "events")
}

// lazyTables opens the store the first time a statement names violations
// or ledger; it never migrates the database.
type lazyTables struct {
	url string
	cfg *store.Config
	mu  sync.Mutex
	st  *store.Store
}

// newLazyTables returns nil without DATABASE_URL.
func newLazyTables(c *cli.Context, log *slog.Logger) (*lazyTables, error) {
	if c.String("database-url") == "" {
		return nil, nil
	}
	url, err := readDatabaseURL(c)
	if err != nil {
		return nil, err
	}
	sc, err := readStoreConfig(c, log)
	if err != nil {
		return nil, err
	}
	return &lazyTables{url: url, cfg: sc}, nil
}

func (t *lazyTables) AuditTable(ctx context.Context, name string) (pgx.Rows, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.st == nil {
		st, err := store.Open(ctx, t.url, t.cfg)
		if err != nil {
			return nil, dbError(t.url, fmt.Errorf("open database: %w", err))
		}
		t.st = st
	}
	rows, err := t.st.AuditTable(ctx, name)
	if err != nil {
		var pe interface{ SQLState() string }
		if errors.As(err, &pe) && pe.SQLState() == "42P01" {
			return nil, dbError(t.url, fmt.Errorf("%w (run fullstop migrate first)", err))
		}
		return nil, dbError(t.url, err)
	}
	return rows, nil
}

func (t *lazyTables) Close() {
	if t != nil && t.st != nil {
		t.st.Close()
	}
}
