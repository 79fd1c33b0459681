package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/jobs"
)

func TestScheduleEnv(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"keyRotationJob":              "FULLSTOP_JOB_KEY_ROTATION_JOB_SCHEDULE",
		"crossAccountPolicyForIAMJob": "FULLSTOP_JOB_CROSS_ACCOUNT_POLICY_FOR_IAM_JOB_SCHEDULE",
		"fetchEC2Job":                 "FULLSTOP_JOB_FETCH_EC2_JOB_SCHEDULE",
	} {
		if got := jobs.ScheduleEnv(name); got != want {
			t.Errorf("ScheduleEnv(%s) = %s, want %s", name, got, want)
		}
	}
}

func TestNewScheduler_schedules(t *testing.T) {
	t.Parallel()
	r := &jobs.Runner{}
	all := []jobs.Job{&jobs.KeyRotation{}, &jobs.CrossAccountRoles{}}
	env := map[string]string{jobs.ScheduleEnv("keyRotationJob"): "@every 1h", jobs.ScheduleEnv("crossAccountPolicyForIAMJob"): "off"}
	s, err := jobs.NewScheduler(r, all, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	got := s.Jobs()
	if got[0].Schedule != "@every 1h" || got[1].Schedule != "off" {
		t.Errorf("schedules = %+v", got)
	}
	s, _ = jobs.NewScheduler(r, all, func(string) string { return "" })
	if got := s.Jobs(); got[0].Schedule != jobs.DefaultSchedules["keyRotationJob"] {
		t.Errorf("default schedule = %+v", got)
	}
	env[jobs.ScheduleEnv("keyRotationJob")] = "every day"
	if _, err := jobs.NewScheduler(r, all, func(k string) string { return env[k] }); err == nil ||
		!strings.Contains(err.Error(), "FULLSTOP_JOB_KEY_ROTATION_JOB_SCHEDULE") {
		t.Errorf("a bad schedule: error = %v, want one naming the variable", err)
	}
}

// A trigger starts a run in the background; a second while it runs is
// ErrRunning; an unknown name ErrUnknownJob; Stop waits for the run,
// which is recorded.
func TestScheduler_Trigger(t *testing.T) {
	t.Parallel()
	_, _, st := setup(t)
	started, finish := make(chan struct{}), make(chan struct{})
	job := &blockingJob{started: started, finish: finish}
	s, err := jobs.NewScheduler(&jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA}}, []jobs.Job{job}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Trigger(ctx, "blockingJob", "alice"); err != nil {
		t.Fatal(err)
	}
	<-started
	if err := s.Trigger(ctx, "blockingJob", "bob"); !errors.Is(err, jobs.ErrRunning) {
		t.Errorf("trigger while running: %v, want ErrRunning", err)
	}
	if err := s.Trigger(ctx, "nope", "bob"); !errors.Is(err, jobs.ErrUnknownJob) {
		t.Errorf("unknown job: %v, want ErrUnknownJob", err)
	}
	close(finish)
	s.Stop()
	s.Stop() // idempotent
	runs, err := st.JobRuns(ctx, "blockingJob", 10)
	if err != nil || len(runs) != 1 || runs[0].Finished == nil || *runs[0].StartedBy != "alice" {
		t.Fatalf("runs = %+v, %v; want alice's, finished", runs, err)
	}
}
