package jobs_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/jobs"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
)

// fetchEC2Job over the real SDK: an instance whose group opens 8080 to the
// world is reported with the group; one whose groups are tight but whose
// root answers 200 with the port; one whose root asks for credentials, a
// stopped one and one without a public IP are not.
func TestRunner_FetchEC2(t *testing.T) {
	t.Parallel()
	srv, c, st := setup(t)
	openPort := openRootPort(t)
	const region = "eu-west-1"
	srv.AddImage(acctA, region, awstest.Image{ID: "ami-0aaa", Name: "Taupage-AMI-1", OwnerID: "999999999999"})
	srv.AddSecurityGroup(acctA, region, awstest.SecurityGroup{ID: "sg-0a1", Name: "open",
		Ingress: []awstest.Permission{{Protocol: "tcp", FromPort: 8080, ToPort: 8080, CIDRs: []string{"0.0.0.0/0"}}}})
	srv.AddSecurityGroup(acctA, region, awstest.SecurityGroup{ID: "sg-0b2", Name: "tight",
		Ingress: []awstest.Permission{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"0.0.0.0/0"}}}})
	add := func(id, state, ip string, groups ...string) {
		srv.AddInstance(acctA, region, awstest.Instance{ID: id, ImageID: "ami-0aaa", State: state, PublicIP: ip, SecurityGroupIDs: groups,
			UserData: []byte("application_id: kio\napplication_version: \"2\"\n")})
	}
	add("i-0000000000000001", "running", "127.0.0.1", "sg-0a1")
	add("i-0000000000000002", "running", "127.0.0.1", "sg-0b2")
	add("i-0000000000000003", "stopped", "127.0.0.1", "sg-0a1")
	add("i-0000000000000004", "running", "", "sg-0a1")
	r := &jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA}, Regions: []string{region}}
	res, err := r.Run(context.Background(), &jobs.FetchEC2{EC2: c, Ports: []int{openPort}}, nil, "")
	if err != nil || res.New != 2 || len(res.Errors) != 0 {
		t.Fatalf("run = %+v, %v; want 2 new", res, err)
	}
	vs, _ := st.ViolationList(context.Background())
	got := map[string]string{}
	for _, v := range vs {
		if v.EventID != "checkPublicEC2InstanceJob" || v.Type != "UNSECURED_PUBLIC_ENDPOINT" {
			t.Errorf("violation %+v", v)
		}
		got[v.InstanceID] = v.MetaInfo
	}
	sg := got["i-0000000000000001"]
	for _, s := range []string{`"ami_id":"ami-0aaa"`, `"ami_name":"Taupage-AMI-1"`, `"ami_owner_id":"999999999999"`,
		`"unsecuredSecurityGroups":{"sg-0a1":{"group_name":"open","offending_rules":["tcp 8080 from 0.0.0.0/0"]}}`,
		`"errorMessages":["Unsecured security group! Only ports 80 and 443 are allowed"]`} {
		if !strings.Contains(sg, s) {
			t.Errorf("open group's meta lacks %s: %s", s, sg)
		}
	}
	root := got["i-0000000000000002"]
	for _, s := range []string{`"instancePublicIpAddress":"127.0.0.1"`, `"Error":"http://127.0.0.1:`, "which means it is unsecured"} {
		if !strings.Contains(root, s) {
			t.Errorf("open root's meta lacks %s: %s", s, root)
		}
	}
	if len(got) != 2 {
		t.Errorf("violations of %v, want the first two instances only", got)
	}
}
