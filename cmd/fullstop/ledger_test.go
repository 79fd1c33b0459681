//go:build duckdb_arrow

package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/store/pgtest"
)

// noAWSCredentials is env plus an AWS environment in which the credential
// chain finds nothing, and the instance metadata service refuses at once.
func noAWSCredentials(t *testing.T, env ...string) []string {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return append(env, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN=", "AWS_PROFILE=",
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty, "AWS_WEB_IDENTITY_TOKEN_FILE=",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI=", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1")
}

var processedRE = regexp.MustCompile(`objects     (\d+) processed`)

// processed reads the processed count of a summary.
func processed(t *testing.T, out string) int {
	t.Helper()
	m := processedRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no processed count in the summary:\n%s", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func ledgerRows(t *testing.T, db string) int {
	t.Helper()
	return query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger`)
}

// waitRows waits until the ledger of db holds at least n rows.
func waitRows(t *testing.T, p *proc, db string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if query[bool](t, db, `SELECT to_regclass('fullstop_data.ledger') IS NOT NULL`) && ledgerRows(t, db) >= n {
			return
		}
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			t.Fatalf("the run made no progress:\n%s", p.stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wait waits for p to exit and returns its exit code and how long it took.
func wait(t *testing.T, p *proc, limit time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-done
		t.Fatalf("still running %s later; killed\n%s\n%s", limit, p.stdout.String(), p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

func TestRun_RewrittenObjectIsReadAgain(t *testing.T) {
	t.Parallel()
	root := todayTree(t, 3)
	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "FULLSTOP_SOURCE=" + root}
	if code, out, errOut := fullstop(t, env, "--log-level", "warn", "run"); code != 0 || processed(t, out) != 3 {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, errOut)
	}
	before := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.violation`)
	var objs []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			objs = append(objs, p)
		}
		return nil
	})
	// Rewrite the first object with more events: every object's, under new ids.
	rewritten := strings.TrimSuffix(readGz(t, objs[0]), "]}")
	for j, o := range objs {
		doc := readGz(t, o)
		recs := doc[len(`{"Records":[`) : len(doc)-2]
		rewritten += "," + strings.ReplaceAll(recs, fmt.Sprintf(`"eventID":"%08d-`, j), `"eventID":"99999999-`)
	}
	rewritten += "]}"
	writeGz(t, objs[0], rewritten)

	code, out, errOut := fullstop(t, env, "--log-level", "warn", "run")
	if code != 0 || processed(t, out) != 1 || !strings.Contains(out, "2 already done") || !strings.Contains(out, "1 rewritten since they were read") {
		t.Fatalf("run after the rewrite: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "object rewritten after it was processed") || !strings.Contains(errOut, "previous_etag=") {
		t.Fatalf("no warning about the rewrite:\n%s", errOut)
	}
	after := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.violation`)
	if after <= before {
		t.Fatalf("violations %d before and %d after the rewrite: the new events were not read", before, after)
	}
	code, out, _ = fullstop(t, []string{"DATABASE_URL=" + db}, "ledger", "list", "--rewritten", "--status", "any")
	key := strings.TrimPrefix(filepath.ToSlash(objs[0]), filepath.ToSlash(root)+"/")
	if code != 0 || !strings.Contains(out, key) || strings.Count(out, "\n") != 2 {
		t.Fatalf("ledger list --rewritten: exit %d\n%s", code, out)
	}
	code, out, _ = fullstop(t, []string{"DATABASE_URL=" + db}, "ledger", "list", "--rewritten", "--status", "any", "--format", "json")
	if code != 0 || !strings.Contains(out, `"rewrites":1`) || !strings.Contains(out, `"previous_etag":"`) || !strings.Contains(out, `"rewritten_at":"`) {
		t.Fatalf("ledger list --format json: exit %d\n%s", code, out)
	}
	// A third run finds nothing new.
	if code, out, _ := fullstop(t, env, "--log-level", "warn", "run"); code != 0 || processed(t, out) != 0 {
		t.Fatalf("third run: exit %d\n%s", code, out)
	}
}

func readGz(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func writeGz(t *testing.T, p, s string) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRun_ConcurrentProcessesSplitTheWork runs two and three processes at
// once on one database: every object is processed by exactly one of them,
// and the database equals a clean run's.
func TestRun_ConcurrentProcessesSplitTheWork(t *testing.T) {
	t.Parallel()
	const n = 300
	root := todayTree(t, n)
	args := []string{"--log-level", "error", "run", "--source", root, "--workers", "1", "--group-size", "4"}
	clean := pgtest.New(t)
	if code, out, errOut := fullstop(t, []string{"DATABASE_URL=" + clean}, args...); code != 0 {
		t.Fatalf("clean run: exit %d\n%s\n%s", code, out, errOut)
	}
	want := snapshot(t, clean)
	for _, procs := range []int{2, 3} {
		t.Run(fmt.Sprint(procs, " processes"), func(t *testing.T) {
			db := pgtest.New(t)
			if code, _, errOut := fullstop(t, []string{"DATABASE_URL=" + db}, "migrate"); code != 0 {
				t.Fatal(errOut)
			}
			ps := make([]*proc, procs)
			for i := range ps {
				ps[i] = command(t, []string{"DATABASE_URL=" + db}, args...)
				if err := ps[i].cmd.Start(); err != nil {
					t.Fatal(err)
				}
			}
			total := 0
			var counts []int
			for _, p := range ps {
				if code, _ := wait(t, p, 3*time.Minute); code != 0 {
					t.Fatalf("exit %d\n%s\n%s", code, p.stdout.String(), p.stderr.String())
				}
				c := processed(t, p.stdout.String())
				counts = append(counts, c)
				total += c
			}
			t.Logf("%d processes processed %v objects", procs, counts)
			if total != n {
				t.Fatalf("processes processed %v objects, %d in all; want %d in all", counts, total, n)
			}
			if got := snapshot(t, db); got != want {
				t.Fatal("database after concurrent runs differs from a clean run")
			}
		})
	}
}

func TestRun_DatabaseThatNeverAnswers(t *testing.T) {
	t.Parallel()
	addr := pgtest.SilentServer(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		url  string
		args []string
	}{
		{"connect timeout flag", "postgres://u@" + addr + "/db?sslmode=disable", []string{"--database-connect-timeout", "1s"}},
		{"connect_timeout in the url wins", "postgres://u@" + addr + "/db?sslmode=disable&connect_timeout=1", []string{"--database-connect-timeout", "1h"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := command(t, []string{"DATABASE_URL=" + tc.url}, append([]string{"run", "--source", dir}, tc.args...)...)
			if err := p.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			code, took := wait(t, p, 30*time.Second)
			t.Logf("exit %d after %s", code, took)
			lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
			if code != 1 || len(lines) != 1 || !strings.Contains(lines[0], "DATABASE_URL") || !strings.Contains(lines[0], addr) {
				t.Fatalf("exit %d, stderr %q: want 1 and one line naming DATABASE_URL and %s", code, p.stderr.String(), addr)
			}
		})
	}
}

// TestRun_SIGTERMDuringStalledCommit stalls the database under a run (a
// proxy stops forwarding), then sends SIGTERM: the run stops within its
// timeouts and its summary counts only what committed. Two SIGTERMs stop
// it at once.
func TestRun_SIGTERMDuringStalledCommit(t *testing.T) {
	t.Parallel()
	root := todayTree(t, 300)
	for _, tc := range []struct {
		name    string
		signals int
		want    int
		limit   time.Duration
	}{
		{"one signal", 1, exitFailed, 30 * time.Second},
		{"two signals", 2, exitInterrupted, 5 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t)
			px := pgtest.NewProxy(t, db)
			p := command(t, []string{"DATABASE_URL=" + px.URL}, "--log-level", "warn", "run", "--source", root,
				"--workers", "1", "--group-size", "1",
				"--database-statement-timeout", "2s", "--database-transaction-timeout", "3s", "--stop-timeout", "10s")
			if err := p.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitRows(t, p, db, 5)
			px.Stall()
			time.Sleep(200 * time.Millisecond)
			for range tc.signals {
				p.cmd.Process.Signal(syscall.SIGTERM)
				time.Sleep(100 * time.Millisecond)
			}
			code, took := wait(t, p, tc.limit)
			t.Logf("exit %d %s after the signal", code, took)
			px.Cut() // what the stall held is never delivered
			if code != tc.want {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.want, p.stdout.String(), p.stderr.String())
			}
			if tc.signals == 2 {
				return
			}
			out, errOut := p.stdout.String(), p.stderr.String()
			if !strings.Contains(out, ": failed") {
				t.Fatalf("summary does not say failed:\n%s", out)
			}
			// The stalled commit may have reached the server before the
			// stall held its answer: in doubt, it is not counted.
			if got, rows := processed(t, out), ledgerRows(t, db); got != rows && got+1 != rows {
				t.Fatalf("summary says %d processed, the ledger holds %d", got, rows)
			}
			last := strings.Split(strings.TrimSpace(errOut), "\n")
			if l := last[len(last)-1]; !strings.HasPrefix(l, "fullstop: database unavailable (") || !strings.Contains(l, "DATABASE_URL") || !strings.Contains(l, "did not answer") {
				t.Fatalf("last stderr line %q: want the database named", l)
			}
		})
	}
}

// TestRun_LostDatabaseConnection cuts the connections under a run.
func TestRun_LostDatabaseConnection(t *testing.T) {
	t.Parallel()
	root := todayTree(t, 300)
	db := pgtest.New(t)
	px := pgtest.NewProxy(t, db)
	p := command(t, []string{"DATABASE_URL=" + px.URL}, "--log-level", "error", "run", "--source", root, "--workers", "1", "--group-size", "1")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitRows(t, p, db, 5)
	px.Cut()
	code, _ := wait(t, p, time.Minute)
	out, errOut := p.stdout.String(), p.stderr.String()
	if code != exitFailed || !strings.Contains(out, ": failed") {
		t.Fatalf("exit %d, want 1 and a failed summary\n%s\n%s", code, out, errOut)
	}
	// A commit whose answer the cut lost may have committed: the summary
	// does not count it (it cannot know), the next run finds it done.
	if got, rows := processed(t, out), ledgerRows(t, db); got != rows && got+1 != rows {
		t.Fatalf("summary says %d processed, the ledger holds %d", got, rows)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "DATABASE_URL") || !strings.Contains(lines[0], "lost the connection to the database") {
		t.Fatalf("stderr %q: want one line saying the connection to DATABASE_URL was lost", errOut)
	}
}

func TestRun_InterruptedExitsThree(t *testing.T) {
	t.Parallel()
	root := todayTree(t, 300)
	db := pgtest.New(t)
	p := command(t, []string{"DATABASE_URL=" + db}, "--log-level", "warn", "run", "--source", root, "--workers", "1", "--group-size", "1")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitRows(t, p, db, 5)
	p.cmd.Process.Signal(syscall.SIGTERM)
	code, _ := wait(t, p, time.Minute)
	out := p.stdout.String()
	if code != exitInterrupted || !strings.Contains(out, ": interrupted") {
		t.Fatalf("exit %d, want 3 and an interrupted summary\n%s\n%s", code, out, p.stderr.String())
	}
	if got, rows := processed(t, out), ledgerRows(t, db); got != rows || rows >= 300 {
		t.Fatalf("summary says %d processed, the ledger holds %d of 300", got, rows)
	}
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger_claim`); n != 0 {
		t.Fatalf("%d claims left after an interrupted run", n)
	}
}

// TestRun_SymlinksAreNotFollowed: a folder symlink inside the root, an
// absolute file symlink and a folder symlink pointing outside the root are
// each skipped and logged once; every real object is processed once.
func TestRun_SymlinksAreNotFollowed(t *testing.T) {
	t.Parallel()
	root := todayTree(t, 4)
	outside := todayTree(t, 2)
	now := time.Now().UTC()
	day := filepath.Join(root, "AWSLogs/218007301253/CloudTrail/us-east-1", now.Format("2006/01/02"))
	entries, _ := os.ReadDir(day)
	links := map[string]string{
		// A region folder that is a link to another region's folder.
		filepath.Join(root, "AWSLogs/218007301253/CloudTrail/eu-west-1"): filepath.Join(root, "AWSLogs/218007301253/CloudTrail/us-east-1"),
		// An absolute link to a file inside the root.
		filepath.Join(day, "218007301253_CloudTrail_us-east-1_"+now.Format("20060102")+"T0000Z_link.json.gz"): filepath.Join(day, entries[0].Name()),
		// An account folder pointing outside the root.
		filepath.Join(root, "AWSLogs/111111111111"): filepath.Join(outside, "AWSLogs/218007301253"),
	}
	for link, target := range links {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	db := pgtest.New(t)
	code, out, errOut := fullstop(t, []string{"DATABASE_URL=" + db}, "--log-level", "warn", "run", "--source", root)
	if code != 0 || processed(t, out) != 4 {
		t.Fatalf("exit %d, want 0 and 4 processed\n%s\n%s", code, out, errOut)
	}
	for link := range links {
		key := strings.TrimPrefix(filepath.ToSlash(link), filepath.ToSlash(root)+"/")
		if c := strings.Count(errOut, "key="+key+" "); c != 1 {
			t.Errorf("link %s logged %d times, want once:\n%s", key, c, errOut)
		}
	}
	if c := strings.Count(errOut, "entry skipped"); c != len(links) {
		t.Errorf("%d skipped entries logged, want %d:\n%s", c, len(links), errOut)
	}
}

func TestLedger_ListAndRetry(t *testing.T) {
	t.Parallel()
	root := todayTree(t, 2)
	bad := writeBrokenObject(t, root)
	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "FULLSTOP_SOURCE=" + root}
	if code, out, _ := fullstop(t, env, "--log-level", "error", "run", "--max-attempts", "1"); code != 1 || !strings.Contains(out, "[quarantined]") {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	code, out, _ := fullstop(t, env, "ledger", "list")
	if code != 0 || !strings.Contains(out, "quarantined") || !strings.Contains(out, filepath.ToSlash(bad)) || strings.Count(out, "\n") != 2 {
		t.Fatalf("ledger list: exit %d\n%s", code, out)
	}
	if code, out, _ := fullstop(t, env, "ledger", "list", "--status", "done"); code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("ledger list --status done: exit %d\n%s", code, out)
	}
	// The next run skips it; after a retry, the run reads it again.
	if code, out, _ := fullstop(t, env, "--log-level", "error", "run"); code != 0 || !strings.Contains(out, "1 quarantined") {
		t.Fatalf("run over a quarantined object: exit %d\n%s", code, out)
	}
	if code, out, _ := fullstop(t, env, "ledger", "retry", "--quarantined"); code != 0 || !strings.Contains(out, "released 1 objects") {
		t.Fatalf("ledger retry --quarantined: exit %d\n%s", code, out)
	}
	if code, out, _ := fullstop(t, env, "--log-level", "error", "run"); code != 1 || !strings.Contains(out, "0 processed, 1 failed") {
		t.Fatalf("run after the retry: exit %d\n%s", code, out)
	}
	code, out, errOut := fullstop(t, env, "ledger", "retry", filepath.ToSlash(bad), "AWSLogs/no/such/key")
	if code != 1 || !strings.Contains(out, "released 1 objects") || !strings.Contains(errOut, "AWSLogs/no/such/key") {
		t.Fatalf("ledger retry with a missing key: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestRun_ListingFailureIsAFailedBatch: a source that cannot be listed
// fails the batch, and the summary says so.
func TestRun_ListingFailureIsAFailedBatch(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true"}
	code, out, errOut := fullstop(t, env, "--log-level", "error", "run", "--source", "s3://fullstop-unreachable", "--s3-endpoint", "http://127.0.0.1:1")
	first, _, _ := strings.Cut(out, "\n")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != exitFailed || !strings.HasSuffix(first, ": failed (the error follows on stderr)") || len(lines) != 1 ||
		!strings.HasPrefix(lines[0], "fullstop: list s3://fullstop-unreachable") {
		t.Fatalf("exit %d\n%s\n%s: want 1, a failed summary and one line naming the source", code, out, errOut)
	}
}

// TestRun_SIGTERMWhileConnectingExitsThree: a signal while the database
// does not answer yet stops the command at once, as an interruption.
func TestRun_SIGTERMWhileConnectingExitsThree(t *testing.T) {
	t.Parallel()
	addr := pgtest.SilentServer(t)
	p := command(t, []string{"DATABASE_URL=postgres://u@" + addr + "/db?sslmode=disable"}, "run", "--source", t.TempDir(), "--database-connect-timeout", "1m")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	p.cmd.Process.Signal(syscall.SIGTERM)
	code, took := wait(t, p, 10*time.Second)
	if code != exitInterrupted || !strings.Contains(p.stderr.String(), "fullstop: interrupted") {
		t.Fatalf("exit %d after %s, want 3\n%s", code, took, p.stderr.String())
	}
}
