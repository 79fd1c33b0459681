//go:build duckdb_arrow

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

// The test binary doubles as the fullstop binary: with FULLSTOP_TEST_MAIN=1
// it runs main, so tests can start real processes and signal them.
func TestMain(m *testing.M) {
	if os.Getenv("FULLSTOP_TEST_MAIN") == "1" {
		installLakeKill(os.Getenv("FULLSTOP_TEST_LAKE_KILL"))
		main()
		os.Exit(0)
	}
	code := m.Run()
	s3test.Stop() // the shared MinIO server, if a test started it
	if err := pgtest.Stop(); err != nil && code == 0 {
		code = 1
	}
	os.Exit(code)
}

type proc struct {
	stdout, stderr bytes.Buffer
	cmd            *exec.Cmd
}

func command(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{}
	p.cmd = exec.Command(os.Args[0], args...)
	p.cmd.Env = append(cleanEnv(), append([]string{"FULLSTOP_TEST_MAIN=1"}, env...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	return p
}

// cleanEnv is the environment without settings of ours that could leak in.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "FULLSTOP_") || strings.HasPrefix(kv, "DATABASE_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// fullstop runs the binary to its end and returns its exit code.
func fullstop(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	p := command(t, env, args...)
	err := p.cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run fullstop %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, p.stdout.String(), p.stderr.String()
}

func query[T any](t *testing.T, url, sql string) T {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v T
	if err := conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// snapshot is the database content a run leaves, without ids and times.
func snapshot(t *testing.T, url string) string {
	t.Helper()
	return query[string](t, url, `SELECT coalesce(string_agg(r, E'\n' ORDER BY r), '') FROM (
		SELECT concat_ws('|', violation_type_entity_id, account_id, region, event_id, instance_id, username, meta_info, seen_count) AS r FROM fullstop_data.violation
		UNION ALL SELECT concat_ws('|', object_key, status, events, violations, skipped_records, attempts) FROM fullstop_data.ledger) x`)
}

// records returns the real invictus records.
func records(t *testing.T) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	err := filepath.WalkDir("../../testdata/cloudtrail/invictus", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		var doc struct{ Records []json.RawMessage }
		if err := json.NewDecoder(zr).Decode(&doc); err != nil {
			return err
		}
		out = append(out, doc.Records...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// todayTree writes n objects of the real records into today's day folder
// of account 218007301253 (so that `run` with its look-back finds them), and
// returns the folder root.
func todayTree(t *testing.T, n int) string {
	t.Helper()
	recs := records(t)
	root := t.TempDir()
	now := time.Now().UTC()
	dir := filepath.Join(root, "AWSLogs/218007301253/CloudTrail/us-east-1", now.Format("2006/01/02"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		body := logObject(t, recs, n, i)
		name := fmt.Sprintf("218007301253_CloudTrail_us-east-1_%sT0000Z_obj%05d.json.gz", now.Format("20060102"), i)
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// logObject is the gzipped CloudTrail document of object i of n: its share
// of recs, with fresh event ids so that every object's violations are its
// own.
func logObject(t *testing.T, recs []json.RawMessage, n, i int) []byte {
	t.Helper()
	per := (len(recs) + n - 1) / n
	lo := i * per % len(recs)
	hi := min(lo+per, len(recs))
	var rs []string
	for j, r := range recs[lo:hi] {
		var m map[string]any
		if err := json.Unmarshal(r, &m); err != nil {
			t.Fatal(err)
		}
		m["eventID"] = fmt.Sprintf("%08d-0000-4000-8000-%012d", i, j)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, string(b))
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	fmt.Fprintf(zw, `{"Records":[%s]}`, strings.Join(rs, ","))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeBrokenObject writes an object that is not gzip into today's day
// folder under root and returns its key.
func writeBrokenObject(t *testing.T, root string) string {
	t.Helper()
	now := time.Now().UTC()
	key := filepath.Join("AWSLogs/218007301253/CloudTrail/us-east-1", now.Format("2006/01/02"),
		"218007301253_CloudTrail_us-east-1_"+now.Format("20060102")+"T0000Z_broken.json.gz")
	if err := os.WriteFile(filepath.Join(root, key), []byte("\x1f\x8bnot really gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	return key
}

// wantConfigError runs fullstop with args and checks that it stops with a
// configuration error: exit 2, one line on stderr naming mention, nothing
// on stdout.
func wantConfigError(t *testing.T, env, args []string, mention string) {
	t.Helper()
	code, stdout, stderr := fullstop(t, env, args...)
	if code != 2 {
		t.Fatalf("exit code %d, want 2; stderr %q", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], mention) {
		t.Fatalf("stderr %q: want one line naming %s", stderr, mention)
	}
	if stdout != "" {
		t.Fatalf("stdout %q, want nothing", stdout)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		env     []string
		args    []string
		mention string
	}{
		{"no database", nil, []string{"run", "--source", dir}, "DATABASE_URL"},
		{"no source", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"run"}, "FULLSTOP_SOURCE"},
		{"source not a folder", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"run", "--source", dir + "/nope"}, "--source"},
		{"unknown scheme", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"run", "--source", "gs://b"}, "--source"},
		{"bad account", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x", "FULLSTOP_ACCOUNTS=12"}, []string{"run", "--source", dir}, "FULLSTOP_ACCOUNTS"},
		{"bad lookback", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"run", "--source", dir, "--lookback", "-1h"}, "--lookback"},
		{"bad workers", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"run", "--source", dir, "--workers", "0"}, "--workers"},
		{"bad log level", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"--log-level", "loud", "run", "--source", dir}, "--log-level"},
		{"bad database url", []string{"DATABASE_URL=mysql://x"}, []string{"migrate"}, "DATABASE_URL"},
		{"backfill order", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"backfill", "--source", dir, "--from", "2023-07-11", "--to", "2023-07-10"}, "--from"},
		{"backfill date", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"backfill", "--source", dir, "--from", "yesterday", "--to", "2023-07-10"}, "--from"},
		{"bad schedule", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"serve", "--source", dir, "--schedule", "often"}, "--schedule"},
		{"workers not a number", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"run", "--source", dir, "--workers", "abc"}, "fullstop run --help"},
		{"workers not a number in the environment", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x", "FULLSTOP_WORKERS=abc"}, []string{"run", "--source", dir}, "FULLSTOP_WORKERS"},
		{"unknown flag", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"run", "--source", dir, "--wokers", "2"}, "-wokers"},
		{"unknown global flag", nil, []string{"--verbose", "run"}, "-verbose"},
		{"unknown command", nil, []string{"rnu"}, "rnu"},
		{"unknown ledger command", nil, []string{"ledger", "lst"}, "ledger lst"},
		{"backfill without dates", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"backfill", "--source", dir}, "--from"},
		{"bad group violations", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x", "FULLSTOP_GROUP_VIOLATIONS=0"}, []string{"run", "--source", dir}, "--group-violations (FULLSTOP_GROUP_VIOLATIONS)"},
		{"bad lease", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"run", "--source", dir, "--lease", "10ms"}, "--lease"},
		{"bad database timeout", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"migrate", "--database-statement-timeout", "0s"}, "--database-statement-timeout"},
		{"ledger retry of nothing", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"ledger", "retry"}, "--quarantined"},
		{"ledger list bad status", []string{"DATABASE_URL=postgres://x@127.0.0.1:1/x"}, []string{"ledger", "list", "--status", "broken"}, "--status"},
		{"s3 without credentials", noAWSCredentials(t, "DATABASE_URL=postgres://x@127.0.0.1:1/x"), []string{"run", "--source", "s3://fullstop-no-such-bucket"}, "AWS_ACCESS_KEY_ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantConfigError(t, tc.env, tc.args, tc.mention)
		})
	}
}

func TestRun_SummaryAndSecondRun(t *testing.T) {
	t.Parallel()
	root := todayTree(t, 10)
	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "FULLSTOP_SOURCE=" + root}
	code, out, errOut := fullstop(t, env, "--log-level", "warn", "run")
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"10 processed, 0 failed", "events      2900", "violations  "} {
		if !strings.Contains(out, want) {
			t.Fatalf("summary lacks %q:\n%s", want, out)
		}
	}
	n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.violation`)
	if n == 0 || !strings.Contains(out, fmt.Sprintf("violations  %d new, 0 seen again", n)) {
		t.Fatalf("%d violations stored; summary:\n%s", n, out)
	}
	code, out, _ = fullstop(t, env, "--log-level", "warn", "run")
	if code != 0 || !strings.Contains(out, "0 processed, 0 failed, 10 already done") || !strings.Contains(out, "violations  0 new, 0 seen again") {
		t.Fatalf("second run: exit %d\n%s", code, out)
	}
}

func TestRun_FailedObjectExitsNonZero(t *testing.T) {
	t.Parallel()
	root := todayTree(t, 2)
	bad := writeBrokenObject(t, root)
	db := pgtest.New(t)
	code, out, errOut := fullstop(t, []string{"DATABASE_URL=" + db}, "run", "--source", "file://"+root)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "2 processed, 1 failed") || !strings.Contains(out, filepath.ToSlash(bad)+": ") {
		t.Fatalf("summary does not name the failed object:\n%s", out)
	}
	if c := strings.Count(errOut, "object failed"); c != 1 {
		t.Fatalf("failure logged %d times, want once:\n%s", c, errOut)
	}
}

// TestRun_KilledMidwayThenRerunEqualsCleanRun kills a run holding claims:
// a run at once leaves the claimed objects alone, a run after the lease
// takes them over, and the database equals a clean run's.
func TestRun_KilledMidwayThenRerunEqualsCleanRun(t *testing.T) {
	t.Parallel()
	root := todayTree(t, 300)
	const lease = 3 * time.Second
	args := []string{"--log-level", "error", "run", "--source", root, "--group-size", "1", "--workers", "1", "--fetchers", "8", "--lease", lease.String()}

	clean := pgtest.New(t)
	if code, out, errOut := fullstop(t, []string{"DATABASE_URL=" + clean}, args...); code != 0 {
		t.Fatalf("clean run: exit %d\n%s\n%s", code, out, errOut)
	}
	want := snapshot(t, clean)

	db := pgtest.New(t)
	if code, _, errOut := fullstop(t, []string{"DATABASE_URL=" + db}, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	p := command(t, []string{"DATABASE_URL=" + db}, args...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	// Kill it after a few objects, at a moment it holds claims.
	for query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger`) < 5 ||
		query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger_claim`) == 0 {
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			t.Fatal("run made no progress")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	killedAt := time.Now()
	// A statement the run sent just before it died still runs, and may
	// commit, on the server (a claim of the next objects, say): count what
	// it left only once its sessions are gone.
	for query[int](t, db, `SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the killed run's database sessions did not end")
		}
		time.Sleep(5 * time.Millisecond)
	}
	done := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger`)
	if done >= 300 {
		t.Fatalf("the run finished (%d objects) before it was killed; the test proves nothing", done)
	}
	held := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger_claim WHERE expires_at > now()`)
	if held == 0 {
		t.Fatalf("the killed run held no claims; the test proves nothing")
	}
	// At once: the dead run's claims are live, another run leaves them.
	code, out, errOut := fullstop(t, []string{"DATABASE_URL=" + db}, args...)
	if time.Since(killedAt) < lease {
		if code != 0 || !strings.Contains(out, fmt.Sprintf("%d processed by other batches", held)) {
			t.Fatalf("re-run within the lease: exit %d, want 0 and %d objects left to the dead run\n%s\n%s", code, held, out, errOut)
		}
		if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger`); n != 300-held {
			t.Fatalf("after the re-run within the lease the ledger has %d rows, want %d", n, 300-held)
		}
	}
	// After the lease: the claims are taken over.
	time.Sleep(time.Until(killedAt.Add(lease + 200*time.Millisecond)))
	code, out, errOut = fullstop(t, []string{"DATABASE_URL=" + db}, args...)
	if code != 0 || strings.Contains(out, "other batches") {
		t.Fatalf("re-run after the lease: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := snapshot(t, db); got != want {
		t.Fatalf("killed after %d objects and re-run: database differs from a clean run", done)
	}
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger_claim`); n != 0 {
		t.Fatalf("%d claims left after the runs", n)
	}
}

func TestBackfill_ProgressLinesAndReprocess(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db}
	args := []string{"--log-level", "warn", "backfill", "--source", "../../testdata/cloudtrail/invictus", "--from", "2023-07-10", "--to", "2023-07-11T00:00:00Z"}
	code, out, errOut := fullstop(t, env, args...)
	if code != 0 || !strings.Contains(out, "55 processed") {
		t.Fatalf("backfill: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "progress: 55/55 objects, 2900 events") {
		t.Fatalf("no final progress line on stderr:\n%s", errOut)
	}
	code, out, _ = fullstop(t, env, append(args, "--reprocess")...)
	if code != 0 || !strings.Contains(out, "55 processed") || !strings.Contains(out, " 0 new, ") {
		t.Fatalf("backfill --reprocess: exit %d\n%s", code, out)
	}
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.violation WHERE seen_count <> 2 AND NOT meta_info::jsonb ? 'correlation'`); n != 0 {
		t.Fatalf("%d violations not seen twice after --reprocess", n)
	}
	// A correlation's violation is a window's count: reprocessing replaces
	// the objects' counts, the count stays, and so does the violation.
	if got := query[string](t, db, `SELECT string_agg(seen_count || ' ' || (meta_info::jsonb->>'events'), ',' ORDER BY event_id)
		FROM fullstop_data.violation WHERE meta_info::jsonb ? 'correlation'`); got != "1 29,1 15" {
		t.Fatalf("correlation violations after --reprocess (seen_count events) = %q, want the invictus logs' two, seen once, 29 and 15 events", got)
	}
}

func TestMigrate_JDBCURL(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t) // postgres://user@host:port/name?...
	rest := strings.TrimPrefix(db, "postgres://")
	user, rest, _ := strings.Cut(rest, "@")
	hostDB, _, _ := strings.Cut(rest, "?")
	code, out, errOut := fullstop(t, []string{"DATABASE_URL=jdbc:postgresql://" + hostDB, "DATABASE_USER=" + strings.Split(user, ":")[0]}, "migrate")
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.violation_type`); n != 31 {
		t.Fatalf("%d violation types, want 31", n)
	}
}

func TestUnreachableDatabaseIsOneLine(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := fullstop(t, []string{"DATABASE_URL=postgres://x@127.0.0.1:1/db"}, "run", "--source", t.TempDir())
	if code != 1 || stdout != "" {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
	if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(lines[0], "DATABASE_URL") {
		t.Fatalf("stderr %q: want one line naming DATABASE_URL", stderr)
	}
}
