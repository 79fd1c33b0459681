//go:build duckdb_arrow

package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/lookup/awstest"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

// fullstop jobs run over the real SDK against a local IAM and STS: a line
// per account, an account whose role cannot be assumed reported and the
// others scanned (exit 1); run again, nothing doubles; jobs runs shows both.
func TestJobs_RunAndRuns(t *testing.T) {
	t.Parallel()
	srv := awstest.New(t)
	srv.PageSize = 1
	old := time.Now().AddDate(0, 0, -40)
	srv.AddUser("111111111111", awstest.User{Name: "ci", Keys: []awstest.AccessKey{{ID: "AKIAOLD1", Created: old}, {ID: "AKIANEW1"}}})
	srv.AddUser("222222222222", awstest.User{Name: "bot", Keys: []awstest.AccessKey{{ID: "AKIAOLD2", Created: old}}})
	srv.DenyAssumeRole("333333333333")
	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "AWS_ACCESS_KEY_ID=" + awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awstest.SecretAccessKey,
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_IAM=" + srv.URL(), "AWS_ENDPOINT_URL_STS=" + srv.URL(),
		"FULLSTOP_ACCOUNTS=111111111111,222222222222,333333333333"}
	if code, _, errOut := fullstop(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	code, out, errOut := fullstop(t, env, "--log-level", "error", "jobs", "run", "--job-concurrency", "1", "keyRotationJob")
	if code != exitFailed || !strings.Contains(out, "[3/3]") || !strings.Contains(out, "333333333333 FAILED") ||
		!strings.Contains(out, "3 accounts, 2 violations new, 0 seen again, 1 failed") {
		t.Fatalf("jobs run: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = fullstop(t, env, "--log-level", "error", "jobs", "run", "--accounts", "111111111111,222222222222", "keyRotationJob")
	if code != 0 || !strings.Contains(out, "2 accounts, 0 violations new, 2 seen again, 0 failed") {
		t.Fatalf("jobs run again: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := query[int](t, db, `SELECT count(*)::int FROM fullstop_data.violation WHERE violation_type_entity_id = 'ACTIVE_KEY_TOO_OLD'`); n != 2 {
		t.Errorf("%d violations, want 2", n)
	}
	code, out, _ = fullstop(t, env, "jobs", "runs", "keyRotationJob")
	if code != 0 || strings.Count(out, "keyRotationJob") != 2 {
		t.Errorf("jobs runs: exit %d\n%s", code, out)
	}
	code, out, _ = fullstop(t, env, "jobs", "list")
	if code != 0 || !strings.Contains(out, "keyRotationJob") || !strings.Contains(out, "crossAccountPolicyForIAMJob") {
		t.Errorf("jobs list: exit %d\n%s", code, out)
	}
	if code, _, errOut := fullstop(t, env, "jobs", "run", "noSuchJob"); code != exitUsage || !strings.Contains(errOut, "no job") {
		t.Errorf("unknown job: exit %d %s", code, errOut)
	}
}

// serve --jobs: POST /api/jobs/{name}/run starts a run, GET .../runs
// shows it finished with what it found.
func TestServe_Jobs(t *testing.T) {
	t.Parallel()
	srv := awstest.New(t)
	srv.AddUser("111111111111", awstest.User{Name: "ci", Keys: []awstest.AccessKey{{ID: "AKIAOLD1", Created: time.Now().AddDate(0, 0, -40)}}})
	db := pgtest.New(t)
	env := []string{"DATABASE_URL=" + db, "AWS_ACCESS_KEY_ID=" + awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awstest.SecretAccessKey,
		"AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true", "AWS_ENDPOINT_URL_IAM=" + srv.URL(), "AWS_ENDPOINT_URL_STS=" + srv.URL(),
		"FULLSTOP_ACCOUNTS=111111111111", "FULLSTOP_JOB_KEY_ROTATION_JOB_SCHEDULE=off"}
	if code, _, errOut := fullstop(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	_, base := startServe(t, env, "--no-processing", "--auth", "none", "--jobs")
	resp, err := http.Post(base+"/api/jobs/keyRotationJob/run", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST run: %d, want 202", resp.StatusCode)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/api/jobs/keyRotationJob/runs")
		if err != nil {
			t.Fatal(err)
		}
		var runs []struct {
			Finished *string `json:"finished"`
			New      int     `json:"new"`
		}
		err = json.NewDecoder(resp.Body).Decode(&runs)
		resp.Body.Close()
		if err == nil && len(runs) == 1 && runs[0].Finished != nil {
			if runs[0].New != 1 {
				t.Errorf("run stored %d violations, want 1", runs[0].New)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished run: %+v, %v", runs, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
