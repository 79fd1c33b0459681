package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/api/auth"
	"github.com/fullstop-audit/fullstop/jobs"
	"github.com/fullstop-audit/fullstop/rules"
)

// gateJob is a job whose scan waits for its gate.
type gateJob struct {
	name    string
	started chan struct{}
	gate    chan struct{}
}

func (j *gateJob) Name() string        { return j.name }
func (j *gateJob) Description() string { return "waits for its gate" }
func (j *gateJob) Regional() bool      { return false }
func (j *gateJob) Scan(context.Context, jobs.Target, time.Time) ([]rules.Violation, error) {
	j.started <- struct{}{}
	<-j.gate
	return nil, nil
}

// scopedVerifier lets every token in with the given scopes.
type scopedVerifier struct{ scopes []string }

func (v scopedVerifier) Verify(context.Context, string) (auth.Principal, error) {
	return auth.Principal{UID: "alice", Scopes: v.scopes}, nil
}

func TestJobsAPI(t *testing.T) {
	t.Parallel()
	job := &gateJob{name: "gateJob", started: make(chan struct{}, 1), gate: make(chan struct{})}
	var sched *jobs.Scheduler
	e := newEnv(t, func(c *Config) {
		var err error
		sched, err = jobs.NewScheduler(&jobs.Runner{Sink: c.Store.(jobs.Sink), Accounts: jobs.StaticAccounts{"111111111111"}},
			[]jobs.Job{job, &jobs.KeyRotation{}}, func(string) string { return "off" })
		if err != nil {
			t.Fatal(err)
		}
		c.Jobs = sched
	})
	t.Cleanup(sched.Stop)
	var names []string
	e.get(t, "/api/jobs", http.StatusOK).decode(t, &names)
	if strings.Join(names, ",") != "gateJob,keyRotationJob" {
		t.Errorf("GET /api/jobs = %v, want the names sorted", names)
	}
	if r := e.do(t, http.MethodPost, "/api/jobs/gateJob/run", nil); r.status != http.StatusAccepted {
		t.Fatalf("run: %d %s", r.status, r.body)
	}
	<-job.started
	if r := e.do(t, http.MethodPost, "/api/jobs/gateJob/run", nil); r.status != http.StatusConflict || !strings.Contains(r.problem(t).Detail, "running already") {
		t.Errorf("run while running: %d %s, want 409", r.status, r.body)
	}
	if r := e.do(t, http.MethodPost, "/api/jobs/nope/run", nil); r.status != http.StatusNotFound {
		t.Errorf("run of an unknown job: %d, want 404", r.status)
	}
	close(job.gate)
	var runs []JobRun
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.get(t, "/api/jobs/gateJob/runs", http.StatusOK).decode(t, &runs)
		if len(runs) == 1 && runs[0].Finished != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(runs) != 1 || runs[0].Finished == nil || runs[0].Job != "gateJob" || runs[0].StartedBy == nil || *runs[0].StartedBy != "local" ||
		len(runs[0].Accounts) != 1 || runs[0].Errors == nil {
		t.Errorf("runs = %+v", runs)
	}
	e.get(t, "/api/jobs/nope/runs", http.StatusNotFound)

	// Without the write scope, no run.
	scoped := newEnv(t, func(c *Config) { c.Jobs = sched; c.Verifier = scopedVerifier{} })
	if r := scoped.do(t, http.MethodPost, "/api/jobs/gateJob/run", nil, "Authorization", "Bearer t"); r.status != http.StatusForbidden {
		t.Errorf("run without %s: %d, want 403", ScopeJobWrite, r.status)
	}
	withScope := newEnv(t, func(c *Config) { c.Jobs = sched; c.Verifier = scopedVerifier{[]string{ScopeJobWrite}} })
	if r := withScope.do(t, http.MethodPost, "/api/jobs/keyRotationJob/run", nil, "Authorization", "Bearer t"); r.status != http.StatusAccepted {
		t.Errorf("run with %s: %d %s, want 202", ScopeJobWrite, r.status, r.body)
	}
}
