//go:build duckdb_arrow

package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/store/pgtest"
)

// shellLake backfills the invictus records of 2023-07-10 into a new lake
// and database, and returns the environment with DATABASE_URL and the
// lake.
func shellLake(t *testing.T) ([]string, string) {
	t.Helper()
	env := []string{"DATABASE_URL=" + pgtest.New(t)}
	lake := filepath.Join(t.TempDir(), "lake")
	code, out, errOut := fullstop(t, env, "--log-level", "warn", "backfill", "--source", "../../testdata/cloudtrail/invictus",
		"--from", "2023-07-10", "--to", "2023-07-11", "--lake", lake, "--rules", "reference")
	if code != 0 {
		t.Fatalf("backfill: exit %d\n%s\n%s", code, out, errOut)
	}
	return env, lake
}

// shellRun pipes script into fullstop sql and returns the exit code,
// stdout and stderr.
func shellRun(t *testing.T, env []string, script string, args ...string) (int, string, string) {
	t.Helper()
	p := command(t, append([]string{"HOME=" + t.TempDir()}, env...), append([]string{"sql"}, args...)...)
	p.cmd.Stdin = strings.NewReader(script)
	code := 0
	if err := p.cmd.Run(); err != nil {
		ee, ok := err.(interface{ ExitCode() int })
		if !ok {
			t.Fatalf("run fullstop sql: %v", err)
		}
		code = ee.ExitCode()
	}
	return code, p.stdout.String(), p.stderr.String()
}

func TestSQLShell_Script(t *testing.T) {
	t.Parallel()
	env, lake := shellLake(t)
	home := t.TempDir()
	script := `.tables
.schema events
-- the events of the day
SELECT count(*) AS n
  FROM events
 WHERE event_name <> 'no;such;event';
.output csv
SELEC 1;
SELECT 'a;b' AS s, 2 AS two; SELECT count(*) AS joined FROM violations v
JOIN events e ON e.event_id = v.event_id;
.timer off
SELECT 3 AS three
`
	code, out, errOut := shellRun(t, append(env, "HOME="+home), script, "--lake", lake)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a statement failed)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"events      45\n",                        // .tables
		"ledger      (from PostgreSQL",            // not loaded yet
		"event_name ", "TIMESTAMP WITH TIME ZONE", // .schema events
		"n\n----\n2900\n", // the table format
		"s,two\na;b,2\n",  // csv, after .output csv
		"joined\n8\n",     // the violations of the events
		"three\n3\n",      // the last statement, without its ';'
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{
		"fullstop sql: lake file://" + lake + ", 55 files; ", "violations and ledger from PostgreSQL",
		"1 row (", // the timer
		"line 8: Parser Error: syntax error at or near \"SELEC\"",
		"fullstop: 1 of the 9 statements and commands failed",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if n := strings.Count(errOut, " row"); n != 3 {
		t.Errorf("%d timer lines, want 3 (not after .timer off):\n%s", n, errOut)
	}
	if _, err := os.Stat(filepath.Join(home, ".local/state/fullstop")); !os.IsNotExist(err) {
		t.Errorf("a script wrote a history (%v)", err)
	}
}

func TestSQLShell_ScriptOK(t *testing.T) {
	t.Parallel()
	env, lake := shellLake(t)
	code, out, errOut := shellRun(t, env, ".schema violations\nSELECT type, count(*) AS n FROM violations GROUP BY type ORDER BY n DESC, type LIMIT 1;\n.quit\nSELECT 1;\n", "--lake", lake, "-o", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "violations:\ncolumn ") || !strings.Contains(out, "event_id ") {
		t.Errorf(".schema violations does not load the columns:\n%s", out)
	}
	if !strings.Contains(out, `{"type":`) || strings.Contains(out, `"1"`) {
		t.Errorf("want one jsonl row, nothing after .quit:\n%s", out)
	}
}

func TestSQLShell_NoDatabaseEmptyLake(t *testing.T) {
	t.Parallel()
	lake := t.TempDir()
	code, out, errOut := shellRun(t, nil, ".schema violations\nSELECT count(*) AS n FROM events;\nSELECT * FROM ledger;\n", "--lake", lake)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"no violations or ledger (set DATABASE_URL)", "note: the lake", "holds no events",
		"the view violations is loaded from PostgreSQL: set DATABASE_URL", "the view ledger is loaded from PostgreSQL", "2 of the 3 statements and commands failed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "n\n-\n0\n") {
		t.Errorf("stdout:\n%s", out)
	}
}

func TestSQLShell_UsageErrors(t *testing.T) {
	t.Parallel()
	lake := t.TempDir()
	for _, tc := range []struct {
		args    []string
		mention string
	}{
		{[]string{"sql", "--lake", lake, "-o", "parquet"}, "--output"},
		{[]string{"sql", "--lake", lake, "SELECT 1"}, "no arguments"},
		{[]string{"sql", "--lake", lake, "--max-rows", "-1"}, "--max-rows"},
	} {
		wantConfigError(t, nil, tc.args, tc.mention)
	}
}

// TestSQLShell_ScriptInterrupted sends SIGINT to a script's running
// statement: the script stops, with exit code 3.
func TestSQLShell_ScriptInterrupted(t *testing.T) {
	t.Parallel()
	p := command(t, nil, "sql", "--lake", t.TempDir())
	in, err := p.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := io.WriteString(in, "SELECT count(*) FROM range(1000000000000);\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 3 || !strings.Contains(p.stderr.String(), "fullstop: interrupted") {
			t.Fatalf("exit %v, want 3\n%s", err, p.stderr.String())
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		t.Fatal("SIGINT does not stop the script")
	}
}
