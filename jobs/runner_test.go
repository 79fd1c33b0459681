package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/fullstop-audit/fullstop/jobs"
	"github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
	"github.com/fullstop-audit/fullstop/rules"
	"github.com/fullstop-audit/fullstop/store"
	"github.com/fullstop-audit/fullstop/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	acctA = "111111111111"
	acctB = "222222222222"
	acctC = "333333333333" // AssumeRole is refused
)

// setup is the real SDK against a local IAM and STS with every list call
// in pages of one, and a store on a new database.
func setup(t *testing.T) (*awstest.Server, *aws.Clients, *store.Store) {
	t.Helper()
	srv := awstest.New(t)
	srv.PageSize = 1
	base := srv.Config("us-east-1")
	base.BaseEndpoint = awssdk.String(srv.URL())
	c, err := aws.New(aws.Config{Base: base})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.New(t), &store.Config{Log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv.DenyAssumeRole(acctC)
	return srv, c, st
}

func TestRunner_KeyRotation(t *testing.T) {
	t.Parallel()
	srv, c, st := setup(t)
	now := time.Date(2024, 5, 20, 15, 0, 0, 0, time.UTC)
	old := now.AddDate(0, 0, -31)
	srv.AddUser(acctA, awstest.User{Name: "ci", Keys: []awstest.AccessKey{
		{ID: "AKIAOLD1", Created: old}, {ID: "AKIAOLD2", Status: "Inactive", Created: old}, {ID: "AKIANEW", Created: now.AddDate(0, 0, -29)}}})
	srv.AddUser(acctA, awstest.User{Name: "deploy", Keys: []awstest.AccessKey{{ID: "AKIAOLD3", Created: old}}})
	// 30 days before midnight today is the limit: a key of that very day is not too old.
	srv.AddUser(acctB, awstest.User{Name: "edge", Keys: []awstest.AccessKey{{ID: "AKIAEDGE", Created: time.Date(2024, 4, 20, 0, 0, 0, 0, time.UTC)},
		{ID: "AKIAOLD4", Created: time.Date(2024, 4, 19, 23, 59, 0, 0, time.UTC)}}})

	var progress []jobs.Progress
	r := &jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA, acctB, acctC}, Now: func() time.Time { return now },
		Progress: func(p jobs.Progress) { progress = append(progress, p) }, Concurrency: 1}
	job := &jobs.KeyRotation{IAM: c}
	res, err := r.Run(context.Background(), job, nil, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 3 || res.SeenAgain != 0 || len(res.Errors) != 1 || res.Errors[acctC] == "" {
		t.Fatalf("first run = %+v, want 3 new and account %s failed", res, acctC)
	}
	if len(progress) != 3 || progress[2].Done != 3 || progress[2].All != 3 {
		t.Errorf("progress = %+v, want one per account", progress)
	}
	vs, err := st.ViolationList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range vs {
		got[v.EventID] = v.AccountID + " " + v.Region + " " + v.Type + " " + v.MetaInfo
	}
	want := map[string]string{
		"check-access-key_AKIAOLD1": acctA + ` no-region ACTIVE_KEY_TOO_OLD {"access_key_created":` + itoa(old.UnixMilli()) + `,"access_key_id":"AKIAOLD1","user_name":"ci"}`,
		"check-access-key_AKIAOLD3": acctA + ` no-region ACTIVE_KEY_TOO_OLD {"access_key_created":` + itoa(old.UnixMilli()) + `,"access_key_id":"AKIAOLD3","user_name":"deploy"}`,
		"check-access-key_AKIAOLD4": acctB + ` no-region ACTIVE_KEY_TOO_OLD {"access_key_created":` + itoa(time.Date(2024, 4, 19, 23, 59, 0, 0, time.UTC).UnixMilli()) + `,"access_key_id":"AKIAOLD4","user_name":"edge"}`,
	}
	if len(got) != len(want) {
		t.Fatalf("violations %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %s, want %s", k, got[k], w)
		}
	}
	// A second run stores nothing new: the same violations are seen
	// again, and one resolved meanwhile stays resolved.
	if _, err := st.ViolationResolve(context.Background(), vs[0].ID, "rotated soon", "bob"); err != nil {
		t.Fatal(err)
	}
	res, err = r.Run(context.Background(), job, []string{acctA, acctB}, "")
	if err != nil || res.New != 0 || res.SeenAgain != 3 || len(res.Errors) != 0 {
		t.Fatalf("second run = %+v, %v; want 3 seen again", res, err)
	}
	after, _ := st.ViolationList(context.Background())
	for _, v := range after {
		if v.ID == vs[0].ID && (v.Comment != "rotated soon" || v.SeenCount != 2) {
			t.Errorf("the resolved violation after the second run: %+v, want still resolved, seen twice", v)
		}
	}
	runs, err := st.JobRuns(context.Background(), "keyRotationJob", 10)
	if err != nil || len(runs) != 2 {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	if r := runs[1]; r.New != 3 || r.Finished == nil || len(r.Accounts) != 3 || r.Errors[acctC] == "" || r.StartedBy == nil || *r.StartedBy != "alice" {
		t.Errorf("first recorded run = %+v", r)
	}
}

func TestRunner_CrossAccountRoles(t *testing.T) {
	t.Parallel()
	srv, c, st := setup(t)
	trust := func(principals string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":` + principals + `},"Action":"sts:AssumeRole"}]}`
	}
	srv.AddRole(acctA, awstest.Role{Name: "shared", AssumeRolePolicy: trust(`["arn:aws:iam::444444444444:root","arn:aws:iam::999999999999:root"]`)})
	srv.AddRole(acctA, awstest.Role{Name: "own", AssumeRolePolicy: trust(`"arn:aws:iam::111111111111:role/x"`)})
	srv.AddRole(acctA, awstest.Role{Name: "broken", AssumeRolePolicy: `{"Statement":`})
	srv.AddRole(acctA, awstest.Role{Name: "later", AssumeRolePolicy: trust(`"arn:aws:iam::555555555555:user/u"`)})
	r := &jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA}}
	res, err := r.Run(context.Background(), &jobs.CrossAccountRoles{IAM: c, ManagementAccount: "999999999999"}, nil, "")
	if err != nil || res.New != 2 || len(res.Errors) != 0 {
		t.Fatalf("run = %+v, %v; want 2 new (one bad role stops none)", res, err)
	}
	vs, _ := st.ViolationList(context.Background())
	metas := map[string]string{}
	for _, v := range vs {
		if v.Type != "CROSS_ACCOUNT_ROLE" || v.EventID != "crossAccountPolicyForIAMJob" || v.Region != "eu-west-1" || v.InstanceID == "" {
			t.Errorf("violation %+v", v)
		}
		metas[v.InstanceID] = v.MetaInfo
	}
	found := 0
	for _, m := range metas {
		if m == `{"grantees":["arn:aws:iam::444444444444:root"],"role_arn":"arn:aws:iam::111111111111:role/shared","role_name":"shared"}` ||
			m == `{"grantees":["arn:aws:iam::555555555555:user/u"],"role_arn":"arn:aws:iam::111111111111:role/later","role_name":"later"}` {
			found++
		}
	}
	if found != 2 {
		t.Errorf("meta %v", metas)
	}
}

// One run of a job at a time, across runners on one database: a second
// runner's run while the first holds the lock is ErrRunning.
func TestRunner_oneAtATime(t *testing.T) {
	t.Parallel()
	_, _, st := setup(t)
	started, finish := make(chan struct{}), make(chan struct{})
	slow := &blockingJob{started: started, finish: finish}
	r1 := &jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA}}
	r2 := &jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA}}
	done := make(chan error, 1)
	go func() {
		_, err := r1.Run(context.Background(), slow, nil, "")
		done <- err
	}()
	<-started
	if _, err := r2.Run(context.Background(), slow, nil, ""); !errors.Is(err, jobs.ErrRunning) {
		t.Errorf("second runner while the first runs: %v, want ErrRunning", err)
	}
	close(finish)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Run(context.Background(), &blockingJob{finish: finish}, nil, ""); err != nil {
		t.Errorf("after the first run: %v", err)
	}
}

type blockingJob struct{ started, finish chan struct{} }

func (*blockingJob) Name() string        { return "blockingJob" }
func (*blockingJob) Description() string { return "waits" }
func (*blockingJob) Regional() bool      { return false }
func (j *blockingJob) Scan(ctx context.Context, _ jobs.Target, _ time.Time) ([]rules.Violation, error) {
	if j.started != nil {
		close(j.started)
	}
	<-j.finish
	return nil, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
