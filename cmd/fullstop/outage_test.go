//go:build duckdb_arrow

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl/s3/s3test"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

const (
	outageAccount = "218007301253"
	outageRegion  = "us-east-1"
	outageObjects = 400
	// outageExitCeiling is how long a batch may take to give up once its
	// source is gone: generous, for a slow machine.
	outageExitCeiling = 60 * time.Second
)

// outageDay is the past key day the objects are stored under.
var outageDay = time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)

// outagePutTree stores n objects of the real records (fresh event ids,
// so that every object's violations are its own) in bucket, in
// CloudTrail's layout under outageDay, and returns their keys.
func outagePutTree(t *testing.T, srv *s3test.Server, bucket string, n int) []string {
	t.Helper()
	recs := records(t)
	prefix := fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/", outageAccount, outageRegion, outageDay.Format("2006/01/02"))
	var keys []string
	for i := 0; i < n; i++ {
		at := outageDay.Add(time.Duration(i) * 3 * time.Minute)
		key := fmt.Sprintf("%s%s_CloudTrail_%s_%s_obj%05d.json.gz", prefix, outageAccount, outageRegion, at.Format("20060102T1504Z"), i)
		srv.Put(t, bucket, key, logObject(t, recs, n, i))
		keys = append(keys, key)
	}
	return keys
}

// outageProc is a started fullstop process and how it ended.
type outageProc struct {
	*proc
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's, once done is closed
}

func outageStart(t *testing.T, env []string, args ...string) *outageProc {
	t.Helper()
	p := &outageProc{proc: command(t, env, args...), done: make(chan struct{})}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *outageProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// code is the exit code of an exited process (-1 if a signal ended it).
func (p *outageProc) code() int {
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// TestBackfill_S3OutagesQuarantineNothing kills the S3 server under
// backfills again and again: each batch stops within a bound, exits 1
// with one line naming the source, and leaves no failed or quarantined
// object in the ledger; a last batch with the server back makes the
// database equal to a clean run's.
func TestBackfill_S3OutagesQuarantineNothing(t *testing.T) {
	t.Parallel()
	bin, err := s3test.FindMinIO()
	if err != nil {
		t.Fatal(err)
	}
	// A server of our own: the test kills it.
	srv, err := s3test.Launch(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	bucket := srv.NewBucket(t)
	source := "s3://" + bucket
	putStart := time.Now()
	keys := outagePutTree(t, srv, bucket, outageObjects)
	t.Logf("stored %d objects in %v", len(keys), time.Since(putStart).Round(time.Millisecond))

	env := func(db string) []string {
		return []string{
			"DATABASE_URL=" + db,
			"AWS_ACCESS_KEY_ID=" + srv.AccessKey,
			"AWS_SECRET_ACCESS_KEY=" + srv.SecretKey,
			"AWS_REGION=us-east-1",
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE=" + os.DevNull,
			"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		}
	}
	args := []string{"backfill", "--source", source, "--s3-endpoint", srv.Endpoint,
		"--from", outageDay.Format("2006-01-02"), "--to", outageDay.AddDate(0, 0, 1).Format("2006-01-02"), "--progress=false",
		"--s3-connect-timeout", "3s", "--s3-request-timeout", "15s"}

	// The reference: one batch with the server up.
	clean := pgtest.New(t)
	start := time.Now()
	code, out, errOut := fullstop(t, env(clean), append([]string{"--log-level", "error"}, args...)...)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d processed, 0 failed, 0 already done, 0 quarantined", outageObjects)) {
		t.Fatalf("clean backfill: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Logf("clean backfill of %d objects: %v", outageObjects, time.Since(start).Round(time.Millisecond))
	want := snapshot(t, clean)

	db := pgtest.New(t)
	if code, _, errOut := fullstop(t, env(db), "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errOut)
	}
	ledgerRows := func() int { return query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger`) }
	claims := func() int { return query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger_claim`) }

	// Each cycle kills the server at another point of a new batch: after it
	// committed 1 (a group, in fact), 12 and 40 objects, and once when it
	// holds claims but may have committed nothing yet (after 0).
	var slow []string // cycles whose batch took longer than outageExitCeiling to exit
	for i, after := range []int{1, 12, 0, 40} {
		before := ledgerRows()
		// The default log level: stderr shows what an operator would see.
		p := outageStart(t, env(db), slices.Concat(args, []string{"--workers", "1", "--group-size", "4"})...)
		deadline := time.Now().Add(3 * time.Minute)
		for {
			if p.exited() {
				t.Fatalf("cycle %d: the batch ended (exit %d) before the server was killed; the test proves nothing\n%s\n%s",
					i, p.code(), p.stdout.String(), p.stderr.String())
			}
			if after == 0 && claims() > 0 || after > 0 && ledgerRows() >= before+after {
				break
			}
			if time.Now().After(deadline) {
				p.cmd.Process.Kill()
				<-p.done
				t.Fatalf("cycle %d: the batch made no progress\n%s", i, p.stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		atKill := ledgerRows()
		srv.Kill()
		killedAt := time.Now()

		select {
		case <-p.done:
		case <-time.After(3 * time.Minute):
			// Hung: a goroutine dump (the test binary is a Go program) says where.
			p.cmd.Process.Signal(syscall.SIGQUIT)
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				p.cmd.Process.Kill()
				<-p.done
			}
			t.Fatalf("cycle %d: the batch did not exit within 3 minutes of the kill\nstdout:\n%s\nstderr:\n%s", i, p.stdout.String(), p.stderr.String())
		}
		took := time.Since(killedAt)
		stdout, stderr := p.stdout.String(), p.stderr.String()
		rows := ledgerRows()
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		t.Logf("cycle %d: killed the server with %d of %d objects in the ledger (%d committed by this batch); the batch exited %d after %v with %d objects in the ledger; stderr %d lines, %d bytes",
			i, atKill, outageObjects, atKill-before, p.code(), took.Round(time.Millisecond), rows, len(lines), len(stderr))

		failedBefore := t.Failed()
		if p.code() != 1 {
			t.Errorf("cycle %d: exit %d, want 1\nstdout:\n%s\nstderr:\n%s", i, p.code(), stdout, stderr)
		}
		if took > outageExitCeiling {
			// Not fatal: the cycles go on, so that one run shows every
			// cycle's time and the other checks.
			slow = append(slow, fmt.Sprintf("cycle %d: %v", i, took.Round(time.Millisecond)))
			t.Logf("cycle %d: too slow; stderr:\n%s", i, stderr)
		}
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "fullstop: ") || !strings.Contains(last, source) {
			t.Errorf("cycle %d: stderr's last line %q: want one starting \"fullstop: \" and naming %s", i, last, source)
		}
		if len(lines) >= 50 || len(stderr) >= 20_000 {
			t.Errorf("cycle %d: stderr has %d lines, %d bytes: want a short report, not a flood\n%s", i, len(lines), len(stderr), stderr)
		}
		first, _, _ := strings.Cut(stdout, "\n")
		if !strings.Contains(first, "failed") {
			t.Errorf("cycle %d: the summary's first line %q does not say failed\n%s", i, first, stdout)
		}
		if !strings.Contains(stdout, "not read") {
			t.Errorf("cycle %d: the summary names no objects not read\n%s", i, stdout)
		}
		if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.ledger WHERE status <> 'done'`); n != 0 {
			t.Errorf("cycle %d: %d ledger rows are failed or quarantined after the outage, want 0:\n%s", i, n,
				query[string](t, db, `SELECT coalesce(string_agg(concat_ws('|', object_key, status, attempts), E'\n'), '') FROM fullstop_data.ledger WHERE status <> 'done'`))
		}
		if n := claims(); n != 0 {
			t.Errorf("cycle %d: %d claims left after the batch exited, want 0 (given back at the stop)", i, n)
		}
		if rows >= outageObjects {
			t.Fatalf("cycle %d: all %d objects are done: the kill came too late, the test proves nothing", i, rows)
		}
		if t.Failed() && !failedBefore {
			t.Fatalf("cycle %d: stderr:\n%s", i, stderr)
		}
		srv.Restart(t)
	}

	// The server is back: a last batch reads the rest.
	done := ledgerRows()
	code, out, errOut = fullstop(t, env(db), append([]string{"--log-level", "error"}, args...)...)
	if code != 0 {
		t.Fatalf("backfill after the outages: exit %d\n%s\n%s", code, out, errOut)
	}
	if w := fmt.Sprintf("%d processed, 0 failed, %d already done, 0 quarantined", outageObjects-done, done); !strings.Contains(out, w) {
		t.Fatalf("backfill after the outages: summary lacks %q:\n%s", w, out)
	}
	if got := snapshot(t, db); got != want {
		t.Fatalf("after %d outages and a last batch the database differs from a clean run's\nclean:\n%s\nafter outages:\n%s",
			4, outageHead(want), outageHead(got))
	}
	if len(slow) > 0 {
		t.Errorf("batches took longer than %v to exit after the server was killed: %s", outageExitCeiling, strings.Join(slow, ", "))
	}
}

// outageHead is the first lines of s, for a failure message.
func outageHead(s string) string {
	lines := strings.SplitN(s, "\n", 21)
	if len(lines) > 20 {
		lines[20] = "..."
	}
	return strings.Join(lines, "\n")
}
