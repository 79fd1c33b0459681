package jobs_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fullstop-audit/fullstop/etl"
	"github.com/fullstop-audit/fullstop/jobs"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
	"github.com/fullstop-audit/fullstop/lookup/kio"
	"github.com/fullstop-audit/fullstop/rules"
)

// An open root of an application Kio marks publicly accessible (found
// through the instance's lifecycle row) is not reported; another's is.
func TestRunner_FetchEC2_publicApplication(t *testing.T) {
	t.Parallel()
	srv, c, st := setup(t)
	port := openRootPort(t)
	kioSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/apps/shop":
			w.Write([]byte(`{"id":"shop","publicly_accessible":true}`))
		case "/apps/admin":
			w.Write([]byte(`{"id":"admin","publicly_accessible":false}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(kioSrv.Close)
	k, err := kio.New(kio.Config{BaseURL: kioSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	const region = "eu-west-1"
	srv.AddImage(acctA, region, awstest.Image{ID: "ami-0aaa", Name: "x", OwnerID: acctA})
	for _, id := range []string{"i-0000000000000001", "i-0000000000000002", "i-0000000000000003"} {
		srv.AddInstance(acctA, region, awstest.Instance{ID: id, ImageID: "ami-0aaa", PublicIP: "127.0.0.1"})
	}
	lc := func(id, app string) rules.Lifecycle {
		return rules.Lifecycle{EventID: "ev-" + id, EventType: "RunInstances", EventDate: time.Now(), AccountID: acctA, Region: region,
			InstanceID: id, Application: app, Version: "1", ObjectKey: "k"}
	}
	if _, err := st.ViolationCommitGroup(context.Background(), "t", []etl.ObjectDone{{Key: "k", ETag: "e", Size: 1, StartedAt: time.Now(), FinishedAt: time.Now()}},
		rules.Findings{Lifecycles: []rules.Lifecycle{lc("i-0000000000000001", "shop"), lc("i-0000000000000002", "admin")}}); err != nil {
		t.Fatal(err)
	}
	r := &jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA}, Regions: []string{region}}
	job := &jobs.FetchEC2{EC2: c, Ports: []int{port}, Public: &jobs.PublicApps{Lifecycles: st, Kio: k}}
	res, err := r.Run(context.Background(), job, nil, "")
	if err != nil || res.New != 2 {
		t.Fatalf("run = %+v, %v; want 2 new (admin's and the unknown one's)", res, err)
	}
	vs, _ := st.ViolationList(context.Background())
	for _, v := range vs {
		if v.InstanceID == "i-0000000000000001" {
			t.Errorf("the public application's instance was reported: %+v", v)
		}
	}
}
