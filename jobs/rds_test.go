package jobs_test

import (
	"context"
	"testing"

	"github.com/fullstop-audit/fullstop/jobs"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
)

// fetchRdsJob over every region and every page of DescribeDBInstances.
func TestRunner_FetchRds(t *testing.T) {
	t.Parallel()
	srv, c, st := setup(t)
	srv.AddDBInstance(acctA, "eu-west-1", awstest.DBInstance{ID: "public", Address: "public.abc.eu-west-1.rds.amazonaws.com", Port: 5432, PubliclyAccessible: true})
	srv.AddDBInstance(acctA, "eu-west-1", awstest.DBInstance{ID: "private", Address: "private.abc.eu-west-1.rds.amazonaws.com", Port: 5432})
	srv.AddDBInstance(acctA, "eu-west-1", awstest.DBInstance{ID: "creating", PubliclyAccessible: true})
	srv.AddDBInstance(acctA, "eu-central-1", awstest.DBInstance{ID: "other", Address: "other.abc.eu-central-1.rds.amazonaws.com", Port: 3306, PubliclyAccessible: true})
	r := &jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA, acctC}, Regions: []string{"eu-west-1", "eu-central-1"}}
	res, err := r.Run(context.Background(), &jobs.FetchRds{RDS: c}, nil, "")
	if err != nil || res.New != 2 || len(res.Errors) != 2 || res.Errors[acctC+"/eu-west-1"] == "" || len(res.Regions) != 2 {
		t.Fatalf("run = %+v, %v; want 2 new and both regions of %s failed", res, err, acctC)
	}
	vs, _ := st.ViolationList(context.Background())
	got := map[string]string{}
	for _, v := range vs {
		got[v.Region+" "+v.InstanceID] = v.EventID + " " + v.MetaInfo
	}
	if m := got["eu-west-1 public.abc.eu-west-1.rds.amazonaws.com"]; m != `checkRdsJob {"errorMessages":"Unsecured Database! Your DB can be reached from outside","unsecuredDatabase":"public.abc.eu-west-1.rds.amazonaws.com"}` {
		t.Errorf("public database: %q (all %v)", m, got)
	}
	if _, ok := got["eu-central-1 other.abc.eu-central-1.rds.amazonaws.com"]; !ok {
		t.Errorf("eu-central-1: %v", got)
	}
}
