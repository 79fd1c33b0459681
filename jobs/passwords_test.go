package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/jobs"
)

const reportHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_2_active,access_key_2_last_rotated\n"

func TestParseCredentialReport(t *testing.T) {
	t.Parallel()
	rows, err := jobs.ParseCredentialReport([]byte(reportHeader +
		"<root_account>,arn:aws:iam::111111111111:root,2015-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,TRUE,N/A,false,N/A\n" +
		"alice,arn:aws:iam::111111111111:user/alice,2015-01-01T00:00:00+00:00,true,N/A,N/A,N/A,true,false,N/A,false,N/A\n"))
	if err != nil || len(rows) != 2 {
		t.Fatalf("rows = %+v, %v", rows, err)
	}
	if r := rows[0]; r.PasswordEnabled || r.MFAActive || !r.AccessKey1Active || r.AccessKey2Active || r.User != "<root_account>" {
		t.Errorf("root row %+v: not_supported is false, TRUE is true", r)
	}
	if r := rows[1]; !r.PasswordEnabled || !r.MFAActive || r.Arn != "arn:aws:iam::111111111111:user/alice" {
		t.Errorf("alice %+v", r)
	}
	if _, err := jobs.ParseCredentialReport([]byte("user,arn,password_enabled\nx,y,true\n")); err == nil || !strings.Contains(err.Error(), "mfa_active") {
		t.Errorf("a header without mfa_active: %v", err)
	}
	if _, err := jobs.ParseCredentialReport(nil); err == nil {
		t.Error("an empty report: no error")
	}
}

func TestRunner_NoPasswords(t *testing.T) {
	t.Parallel()
	srv, c, st := setup(t)
	srv.SetCredentialReport(acctA, reportHeader+
		"<root_account>,arn:aws:iam::111111111111:root,x,not_supported,N/A,N/A,N/A,true,true,N/A,false,N/A\n"+
		"alice,arn:aws:iam::111111111111:user/alice,x,true,N/A,N/A,N/A,true,false,N/A,false,N/A\n"+
		"bob,arn:aws:iam::111111111111:user/bob,x,false,N/A,N/A,N/A,false,true,N/A,false,N/A\n", 2)
	srv.SetCredentialReport(acctB, reportHeader+
		"<root_account>,arn:aws:iam::222222222222:root,x,true,N/A,N/A,N/A,false,false,N/A,false,N/A\n", 0)
	now := time.Date(2024, 5, 20, 23, 0, 0, 0, time.UTC)
	r := &jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA, acctB, acctC}, Now: func() time.Time { return now }}
	job := &jobs.NoPasswords{IAM: c, ManagementAccount: "999999999999"}
	res, err := r.Run(context.Background(), job, nil, "")
	// alice's and B's root's passwords, and the summary.
	if err != nil || res.New != 3 || len(res.Errors) != 1 || res.Errors[acctC] == "" {
		t.Fatalf("run = %+v, %v; want 3 new and %s failed", res, err, acctC)
	}
	vs, _ := st.ViolationList(context.Background())
	got := map[string]string{}
	for _, v := range vs {
		got[v.Type+" "+v.AccountID+" "+v.EventID] = v.MetaInfo
	}
	if m := got["PASSWORD_USED 111111111111 check-iam-user_alice"]; m != `{"user_name":"alice"}` {
		t.Errorf("alice: %q (all: %v)", m, got)
	}
	if _, ok := got["PASSWORD_USED 222222222222 check-iam-user_<root_account>"]; !ok {
		t.Errorf("B's root password: %v", got)
	}
	root := got["UNSECURED_ROOT_USER 999999999999 check-iam-root-user-2024-05-20"]
	if !strings.Contains(root, `"account_id":"111111111111","user":"<root_account>"`) || !strings.Contains(root, `"is_access_key_1_active":"true"`) ||
		!strings.Contains(root, `"account_id":"222222222222"`) || !strings.Contains(root, `"is_mfa_active":"false"`) {
		t.Errorf("UNSECURED_ROOT_USER meta %s", root)
	}
	// The same day again: nothing new, one summary a day.
	res, err = r.Run(context.Background(), job, []string{acctA, acctB}, "")
	if err != nil || res.New != 0 || res.SeenAgain != 3 {
		t.Errorf("second run = %+v, %v", res, err)
	}
	// Without a management account the summary is an error of the run.
	res, _ = r.Run(context.Background(), &jobs.NoPasswords{IAM: c}, []string{acctB}, "")
	if !strings.Contains(res.Errors["summary"], "no management account") {
		t.Errorf("errors %v, want the summary's", res.Errors)
	}
}
