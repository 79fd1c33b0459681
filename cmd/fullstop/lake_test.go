//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl/lake"
	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

// killStore kills its own process with SIGKILL right after the n-th Put of
// a file whose name starts with prefix has been stored: a crash between
// the lake write and what follows it (the ledger commit, the deletes of a
// compaction).
type killStore struct {
	lake.Store
	prefix string
	n      int64
	puts   atomic.Int64
}

func (k *killStore) Put(ctx context.Context, key string, data []byte) error {
	err := k.Store.Put(ctx, key, data)
	if err == nil && strings.HasPrefix(filepath.Base(key), k.prefix) && k.puts.Add(1) == k.n {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	}
	return err
}

// installLakeKill reads FULLSTOP_TEST_LAKE_KILL=PREFIX:N (in the fullstop
// process a test starts) and wraps the lake store in a killStore.
func installLakeKill(spec string) {
	if spec == "" {
		return
	}
	prefix, n, _ := strings.Cut(spec, ":")
	count, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		panic("FULLSTOP_TEST_LAKE_KILL: " + spec)
	}
	lakeStoreHook = func(s lake.Store) lake.Store { return &killStore{Store: s, prefix: prefix, n: count} }
}

const invictusLogs = "../../testdata/cloudtrail/invictus"

var invictusRange = []string{"--from", "2023-07-10", "--to", "2023-07-11"}

// lakeCounts asks the lake through fullstop query for its events, distinct
// event ids and distinct objects.
func lakeCounts(t *testing.T, dir string) string {
	t.Helper()
	code, out, errOut := fullstop(t, nil, "query", "--lake", dir, "-o", "csv",
		"SELECT count(*) AS events, count(DISTINCT event_id) AS ids, count(DISTINCT object_key) AS objects FROM events")
	if code != 0 {
		t.Fatalf("query: exit %d\n%s", code, errOut)
	}
	return strings.TrimSpace(out)
}

// rawCounts counts the rows of every Parquet file in the folder, as a
// reader that knows nothing of superseded files (Athena) sees them.
func rawCounts(t *testing.T, dir string) string {
	t.Helper()
	code, out, errOut := fullstop(t, nil, "query", "--lake", dir, "-o", "csv",
		fmt.Sprintf("SELECT count(*) AS events, count(DISTINCT event_id) AS ids, count(DISTINCT object_key) AS objects FROM read_parquet('%s/**/*.parquet')", dir))
	if code != 0 {
		t.Fatalf("raw query: exit %d\n%s", code, errOut)
	}
	return strings.TrimSpace(out)
}

const onceEach = "events,ids,objects\n2900,2900,55"

func lakeFiles(t *testing.T, dir string) (objects, compacted int) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasPrefix(d.Name(), "o-"):
			objects++
		case strings.HasPrefix(d.Name(), "c-"):
			compacted++
		default:
			t.Errorf("unexpected file in the lake: %s", p)
		}
		return nil
	})
	return objects, compacted
}

func backfillArgs(dir string, more ...string) []string {
	args := append([]string{"--log-level", "error", "backfill", "--source", invictusLogs, "--lake", dir, "--progress=false", "--lease", "1s", "--rules", "reference"}, invictusRange...)
	return append(args, more...)
}

// Killed right after the k-th object's events are in the lake, before or
// between commits, and run again: each event is in the lake once, and the
// database equals a clean run's.
func TestLake_KilledBetweenLakeWriteAndCommit(t *testing.T) {
	t.Parallel()
	clean := pgtest.New(t)
	cleanLake := t.TempDir()
	if code, out, errOut := fullstop(t, []string{"DATABASE_URL=" + clean}, backfillArgs(cleanLake)...); code != 0 {
		t.Fatalf("clean run: exit %d\n%s\n%s", code, out, errOut)
	}
	want := snapshot(t, clean)
	if got := lakeCounts(t, cleanLake); got != onceEach {
		t.Fatalf("clean run's lake: %s", got)
	}
	for _, tc := range []struct {
		kill  int
		group string
	}{{1, "64"}, {7, "1"}, {30, "4"}, {55, "64"}} {
		t.Run(fmt.Sprintf("after_%d_group_%s", tc.kill, tc.group), func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t)
			dir := t.TempDir()
			args := backfillArgs(dir, "--group-size", tc.group, "--workers", "1")
			code, out, errOut := fullstop(t, []string{"DATABASE_URL=" + db, fmt.Sprintf("FULLSTOP_TEST_LAKE_KILL=o-:%d", tc.kill)}, args...)
			if code != -1 {
				t.Fatalf("the run was not killed: exit %d\n%s\n%s", code, out, errOut)
			}
			done := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger WHERE status = 'done'`)
			if done >= tc.kill {
				t.Fatalf("%d objects committed when the %d-th object's events were written; the kill came too late to test anything", done, tc.kill)
			}
			time.Sleep(1200 * time.Millisecond) // the dead run's leases expire
			if code, out, errOut := fullstop(t, []string{"DATABASE_URL=" + db}, args...); code != 0 {
				t.Fatalf("re-run: exit %d\n%s\n%s", code, out, errOut)
			}
			if got := lakeCounts(t, dir); got != onceEach {
				t.Fatalf("killed after the lake write of object %d (%d committed), then re-run: the lake holds\n%s\nwant\n%s", tc.kill, done, got, onceEach)
			}
			if got := rawCounts(t, dir); got != onceEach {
				t.Fatalf("raw files: %s", got)
			}
			if o, c := lakeFiles(t, dir); o != 55 || c != 0 {
				t.Fatalf("%d object files and %d compacted, want 55 and 0", o, c)
			}
			if got := snapshot(t, db); got != want {
				t.Fatal("the database differs from a clean run's")
			}
		})
	}
}

// --reprocess replaces, never adds: into plain partitions and into a
// compacted one, also when killed midway and run again.
func TestLake_ReprocessAndCompaction(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	dir := t.TempDir()
	env := []string{"DATABASE_URL=" + db}
	if code, _, errOut := fullstop(t, env, backfillArgs(dir)...); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := fullstop(t, env, backfillArgs(dir, "--reprocess")...); code != 0 {
		t.Fatal(errOut)
	}
	if got := lakeCounts(t, dir); got != onceEach {
		t.Fatalf("after --reprocess: %s", got)
	}

	// Compaction, killed after its merged file is stored and before the
	// merged files are deleted: readers through fullstop see each event
	// once; the next compaction deletes the leftovers.
	code, out, errOut := fullstop(t, []string{"FULLSTOP_TEST_LAKE_KILL=c-:1"}, "lake", "compact", "--lake", dir)
	if code != -1 {
		t.Fatalf("compaction not killed: exit %d\n%s\n%s", code, out, errOut)
	}
	if o, c := lakeFiles(t, dir); o != 55 || c != 1 {
		t.Fatalf("after the killed compaction: %d object files, %d compacted; want 55 and 1", o, c)
	}
	if got := lakeCounts(t, dir); got != onceEach {
		t.Fatalf("after the killed compaction, fullstop query sees %s", got)
	}
	code, out, errOut = fullstop(t, nil, "lake", "compact", "--lake", dir)
	if code != 0 || !regexp.MustCompile(`files +0 merged into 0, 55 deleted`).MatchString(out) {
		t.Fatalf("compaction after the crash: exit %d\n%s\n%s", code, out, errOut)
	}
	if o, c := lakeFiles(t, dir); o != 0 || c != 1 {
		t.Fatalf("after compaction: %d object files, %d compacted; want 0 and 1", o, c)
	}
	if got := rawCounts(t, dir); got != onceEach {
		t.Fatalf("raw files after compaction: %s", got)
	}

	// Reprocessing a compacted partition rewrites the compacted file;
	// killed after the 5th rewrite, and run again.
	code, out, errOut = fullstop(t, append(env, "FULLSTOP_TEST_LAKE_KILL=c-:5"), backfillArgs(dir, "--reprocess", "--workers", "1")...)
	if code != -1 {
		t.Fatalf("reprocess not killed: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := rawCounts(t, dir); got != onceEach {
		t.Fatalf("killed while reprocessing a compacted partition: %s", got)
	}
	time.Sleep(1200 * time.Millisecond)
	if code, _, errOut := fullstop(t, env, backfillArgs(dir, "--reprocess")...); code != 0 {
		t.Fatal(errOut)
	}
	if o, c := lakeFiles(t, dir); o != 0 || c != 1 {
		t.Fatalf("reprocessing a compacted partition: %d object files, %d compacted; want 0 and 1", o, c)
	}
	if got := rawCounts(t, dir); got != onceEach {
		t.Fatalf("after reprocessing the compacted partition: %s", got)
	}
}

// Filtering on the date partition column reads only that partition's
// files, as DuckDB's profile says; --from/--to list only the partitions of
// the range (with a day of margin after it).
func TestQuery_PartitionPruning(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	dir := t.TempDir()
	if code, _, errOut := fullstop(t, []string{"DATABASE_URL=" + db}, backfillArgs(dir)...); code != 0 {
		t.Fatal(errOut)
	}
	// The same partition copied to two more days.
	for _, d := range []string{"2023-07-11", "2023-07-13"} {
		copyDir(t, filepath.Join(dir, "date=2023-07-10"), filepath.Join(dir, "date="+d))
	}
	filesRead := regexp.MustCompile(`Total Files Read: (\d+)`)
	explain := func(args ...string) int {
		t.Helper()
		code, out, errOut := fullstop(t, nil, append([]string{"query", "--lake", dir, "-o", "csv"}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		m := filesRead.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no file count in the profile:\n%s", out)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	if n := explain("EXPLAIN ANALYZE SELECT count(*) FROM events WHERE date = DATE '2023-07-11'"); n != 55 {
		t.Fatalf("date = one day read %d files, want that day's 55", n)
	}
	if n := explain("EXPLAIN ANALYZE SELECT count(*) FROM events WHERE date >= DATE '2023-07-11'"); n != 110 {
		t.Fatalf("date >= read %d files, want 110", n)
	}
	if n := explain("EXPLAIN ANALYZE SELECT count(*) FROM events"); n != 165 {
		t.Fatalf("no bound read %d files, want 165", n)
	}
	// --from/--to on event_time (all of whose events are on 2023-07-10):
	// the partitions of 07-10 and the day after are read.
	if n := explain("--from", "2023-07-10", "--to", "2023-07-11", "EXPLAIN ANALYZE SELECT count(*) FROM events"); n != 110 {
		t.Fatalf("--from/--to read %d files, want the 110 of 07-10 and 07-11", n)
	}
	code, out, errOut := fullstop(t, nil, "query", "--lake", dir, "-o", "csv", "--from", "2023-07-10T12:00:00Z", "--to", "2023-07-10T12:30:00Z",
		"SELECT count(*) AS n, min(event_time) >= TIMESTAMPTZ '2023-07-10 12:00:00+00' AS after_from, max(event_time) < TIMESTAMPTZ '2023-07-10 12:30:00+00' AS before_to FROM events")
	if code != 0 || !strings.Contains(out, ",true,true") {
		t.Fatalf("--from/--to do not bound event_time: exit %d\n%s\n%s", code, out, errOut)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The errors of fullstop query: each one line, exit 1 for the SQL or the
// lake, 2 for usage.
func TestQuery_Errors(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad SQL", []string{"--lake", empty, "SELEC 1"}, 1, `Parser Error: syntax error at or near "SELEC"`},
		{"unknown column", []string{"--lake", empty, "SELECT nosuch FROM events"}, 1, `Binder Error: Referenced column "nosuch" not found`},
		{"missing lake", []string{"--lake", filepath.Join(empty, "nope"), "SELECT 1"}, 1, "does not exist; write it with run or backfill --lake"},
		{"no lake setting", []string{"SELECT 1"}, 2, "missing setting FULLSTOP_LAKE (--lake)"},
		{"missing parameter", []string{"--lake", empty, "SELECT $who"}, 2, "missing parameter who (--param who=VALUE)"},
		{"unknown parameter", []string{"--lake", empty, "--param", "x=1", "SELECT 1"}, 2, "unknown parameter x: the query takes no parameters"},
		{"SQL not quoted", []string{"--lake", empty, "SELECT", "1", "-o", "csv"}, 2, `the SQL must be one argument: fullstop query -o csv 'SELECT …' (got 2 arguments, the second "1"; quote the SQL)`},
		{"no SQL", []string{"--lake", empty}, 2, "give the SQL as an argument"},
		{"violations without a database", []string{"--lake", empty, "SELECT * FROM violations"}, 1, "the view violations is loaded from PostgreSQL: set DATABASE_URL"},
		{"parquet without --out", []string{"--lake", empty, "-o", "parquet", "SELECT 1"}, 2, "-o parquet needs --out FILE"},
		{"bad format", []string{"--lake", empty, "-o", "xml", "SELECT 1"}, 2, `--output (-o): "xml" is not one of`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := fullstop(t, nil, append([]string{"query"}, tc.args...)...)
			// The note that the lake is empty may come first.
			errOut = regexp.MustCompile(`(?m)^fullstop query: note: .*\n`).ReplaceAllString(errOut, "")
			if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 || strings.Contains(errOut, "goroutine") {
				t.Fatalf("exit %d, want %d; stderr:\n%s\nwant one line with %q", code, tc.code, errOut, tc.want)
			}
		})
	}
	// An empty lake: the query runs, the view has its columns, and a note
	// says why there are no rows.
	// Flags may follow the SQL.
	code, out, errOut := fullstop(t, nil, "query", "--lake", empty, "SELECT count(*) AS n, count(user_identity_arn) AS arns, min(date) AS d FROM events", "-o", "csv")
	if code != 0 || out != "n,arns,d\n0,0,\n" || !strings.Contains(errOut, "holds no events: the view events is empty") {
		t.Fatalf("empty lake: exit %d\n%q\n%s", code, out, errOut)
	}
}

// The output formats, the events joined with the violations, and -o
// parquet read back.
func TestQuery_FormatsAndViolations(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	dir := t.TempDir()
	env := []string{"DATABASE_URL=" + db}
	if code, _, errOut := fullstop(t, env, backfillArgs(dir)...); code != 0 {
		t.Fatal(errOut)
	}
	q := `SELECT v.type, e.event_name, count(*) AS n, min(e.date) AS day FROM violations v JOIN events e USING (event_id) GROUP BY ALL ORDER BY ALL`
	want := map[string]string{
		"csv": "type,event_name,n,day\n" +
			"LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION,CreateFunction20150331,2,2023-07-10\n" +
			"LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION,UpdateFunctionCode20150331v2,2,2023-07-10\n" +
			"WRONG_REGION,CreateFunction20150331,2,2023-07-10\n" +
			"WRONG_REGION,RunInstances,2,2023-07-10\n",
		"jsonl": `{"type":"LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION","event_name":"CreateFunction20150331","n":2,"day":"2023-07-10"}` + "\n",
		"json":  "[\n  {\"type\":\"LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION\",\"event_name\":\"CreateFunction20150331\",\"n\":2,\"day\":\"2023-07-10\"},\n",
		"table": "type                                             event_name                    n  day\n" +
			"-----------------------------------------------  ----------------------------  -  ----------\n" +
			"LAMBDA_FUNCTION_CREATED_FROM_UNTRUSTED_LOCATION  CreateFunction20150331        2  2023-07-10\n",
	}
	for format, w := range want {
		code, out, errOut := fullstop(t, env, "query", "--lake", dir, "-o", format, q)
		if code != 0 || !strings.HasPrefix(out, w) {
			t.Errorf("-o %s: exit %d\n%s\nwant it to start with\n%s\n%s", format, code, out, w, errOut)
		}
		if format == "table" && !strings.Contains(errOut, "4 rows (") {
			t.Errorf("-o table: stderr %q does not give the row count and time", errOut)
		}
	}
	out := filepath.Join(t.TempDir(), "v.parquet")
	code, _, errOut := fullstop(t, env, "query", "--lake", dir, "-o", "parquet", "--out", out, q)
	if code != 0 || !strings.Contains(errOut, "4 rows written to") {
		t.Fatalf("-o parquet: exit %d %s", code, errOut)
	}
	code, got, errOut := fullstop(t, nil, "query", "--lake", dir, "-o", "csv", fmt.Sprintf("SELECT * FROM '%s' ORDER BY ALL", out))
	if code != 0 || got != want["csv"] {
		t.Fatalf("the Parquet output read back:\n%s\n%s", got, errOut)
	}
	// The ledger view too.
	code, got, _ = fullstop(t, env, "query", "--lake", dir, "-o", "csv", "SELECT count(*) AS objects, sum(events) AS events FROM ledger WHERE status = 'done'")
	if code != 0 || got != "objects,events\n55,2900\n" {
		t.Fatalf("ledger: %q", got)
	}
}

// lake compact and prune print what they did; prune needs --before.
func TestLakeCommands(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	dir := t.TempDir()
	if code, _, errOut := fullstop(t, []string{"DATABASE_URL=" + db}, backfillArgs(dir)...); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := fullstop(t, nil, "lake", "compact", "--lake", dir, "--dry-run")
	if code != 0 || !strings.Contains(out, "1 would compact") || !strings.Contains(out, "55 merged into 1") {
		t.Fatalf("compact --dry-run: exit %d\n%s\n%s", code, out, errOut)
	}
	if o, c := lakeFiles(t, dir); o != 55 || c != 0 {
		t.Fatal("--dry-run changed the lake")
	}
	code, out, _ = fullstop(t, nil, "lake", "compact", "--lake", dir, "--lookback", "1h", "--target-size", "64MiB")
	if code != 0 || !strings.Contains(out, "1 compacted") || !strings.Contains(out, "(2900 rows)") {
		t.Fatalf("compact:\n%s", out)
	}
	if code, _, errOut := fullstop(t, nil, "lake", "compact", "--lake", dir, "--target-size", "1KiB"); code != 2 || !strings.Contains(errOut, "--target-size") {
		t.Fatalf("bad --target-size: exit %d %s", code, errOut)
	}
	if code, _, errOut := fullstop(t, nil, "lake", "prune", "--lake", dir); code != 2 || !strings.Contains(errOut, "--before") {
		t.Fatalf("prune without --before: exit %d %s", code, errOut)
	}
	code, out, _ = fullstop(t, nil, "lake", "prune", "--lake", dir, "--before", "2023-07-10")
	if code != 0 || !strings.Contains(out, "deleted 0 partitions, 0 files") {
		t.Fatalf("prune before the lake's first day: %s", out)
	}
	code, out, _ = fullstop(t, nil, "lake", "prune", "--lake", dir, "--before", "2023-07-11")
	if code != 0 || !strings.Contains(out, "deleted 1 partitions, 1 files") {
		t.Fatalf("prune:\n%s", out)
	}
	if got := lakeCounts(t, dir); got != "events,ids,objects\n0,0,0" {
		t.Fatalf("after prune: %s", got)
	}
}

// From MinIO into an S3 lake, and from a folder into a folder lake: the two
// lakes hold the same events, every field equal, and fullstop query reads
// the S3 lake through its cache.
func TestLake_MinIOIntoS3LakeEqualsFolderIntoFolder(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	src, lakeBucket := srv.NewBucket(t), srv.NewBucket(t)
	err := filepath.WalkDir(invictusLogs, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		srv.Put(t, src, filepath.ToSlash(strings.TrimPrefix(p, invictusLogs+"/")), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{
		"AWS_ACCESS_KEY_ID=" + srv.AccessKey, "AWS_SECRET_ACCESS_KEY=" + srv.SecretKey, "AWS_REGION=" + srv.Region,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"FULLSTOP_S3_ENDPOINT=" + srv.Endpoint,
	}
	s3Lake := "s3://" + lakeBucket + "/trail/lake"
	args := append([]string{"--log-level", "error", "backfill", "--source", "s3://" + src, "--lake", s3Lake, "--progress=false"}, invictusRange...)
	if code, out, errOut := fullstop(t, append(env, "DATABASE_URL="+pgtest.New(t)), args...); code != 0 {
		t.Fatalf("MinIO into the S3 lake: exit %d\n%s\n%s", code, out, errOut)
	}
	dir := t.TempDir()
	if code, _, errOut := fullstop(t, []string{"DATABASE_URL=" + pgtest.New(t)}, backfillArgs(dir)...); code != 0 {
		t.Fatal(errOut)
	}
	// Every column of every row, in one order.
	all := "SELECT * EXCLUDE (object_key) FROM events ORDER BY event_id"
	cache := t.TempDir()
	code, fromS3, errOut := fullstop(t, env, "query", "--lake", s3Lake, "--lake-cache", cache, "-o", "jsonl", all)
	if code != 0 {
		t.Fatalf("query the S3 lake: exit %d\n%s", code, errOut)
	}
	code, fromFolder, errOut := fullstop(t, nil, "query", "--lake", dir, "-o", "jsonl", all)
	if code != 0 {
		t.Fatal(errOut)
	}
	if n := strings.Count(fromS3, "\n"); n != 2900 {
		t.Fatalf("the S3 lake gives %d rows, want 2900", n)
	}
	if fromS3 != fromFolder {
		t.Fatal("the S3 lake's events differ from the folder lake's")
	}
	// The object keys are the same too (both sources use the bucket's keys).
	keys := "SELECT count(DISTINCT object_key) AS n, md5(string_agg(DISTINCT object_key, ',' ORDER BY object_key)) AS h FROM events"
	_, k1, _ := fullstop(t, env, "query", "--lake", s3Lake, "--lake-cache", cache, "-o", "csv", keys)
	_, k2, _ := fullstop(t, nil, "query", "--lake", dir, "-o", "csv", keys)
	if k1 != k2 || !strings.HasPrefix(k1, "n,h\n55,") {
		t.Fatalf("object keys differ:\n%.300s\n%.300s", k1, k2)
	}
	// The cache holds the files under the same partition folders.
	var cached int
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "date=2023-07-10/account=218007301253/region=us-east-1/o-") {
			cached++
		}
		return err
	})
	if cached != 55 {
		t.Fatalf("%d files in the cache, want 55", cached)
	}
}
