package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fullstop-audit/fullstop/jobs"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
)

// fetchElasticLoadBalancersJob over every page of DescribeLoadBalancers
// and DescribeTags in batches of 20.
func TestRunner_FetchELB(t *testing.T) {
	t.Parallel()
	srv, c, st := setup(t)
	openPort := openRootPort(t)
	const region = "eu-west-1"
	srv.AddImage(acctA, region, awstest.Image{ID: "ami-0aaa", Name: "Taupage-AMI-1", OwnerID: "999999999999"})
	srv.AddInstance(acctA, region, awstest.Instance{ID: "i-0000000000000001", ImageID: "ami-0aaa",
		UserData: []byte("application_id: shop\napplication_version: \"3\"\n")})
	srv.AddSecurityGroup(acctA, region, awstest.SecurityGroup{ID: "sg-0a1", Name: "https",
		Ingress: []awstest.Permission{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"0.0.0.0/0"}}}})
	srv.AddSecurityGroup(acctA, region, awstest.SecurityGroup{ID: "sg-0b2", Name: "ssh",
		Ingress: []awstest.Permission{{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDRs: []string{"0.0.0.0/0"}}}})
	srv.AddLoadBalancer(acctA, region, awstest.LoadBalancer{Name: "web", DNSName: "127.0.0.1", Ports: []int32{80, 443},
		InstanceIDs: []string{"i-0000000000000099", "i-0000000000000001"}, SecurityGroupIDs: []string{"sg-0a1"}})
	srv.AddLoadBalancer(acctA, region, awstest.LoadBalancer{Name: "legacy", Ports: []int32{80, 8080, 8080}, SecurityGroupIDs: []string{"sg-0a1"}})
	srv.AddLoadBalancer(acctA, region, awstest.LoadBalancer{Name: "opensg", Ports: []int32{443}, SecurityGroupIDs: []string{"sg-0b2"}})
	srv.AddLoadBalancer(acctA, region, awstest.LoadBalancer{Name: "internal", Scheme: "internal", Ports: []int32{8080}})
	for i := range 20 {
		srv.AddLoadBalancer(acctA, region, awstest.LoadBalancer{Name: fmt.Sprintf("k8s-%d", i), Ports: []int32{30080},
			Tags: map[string]string{"kubernetes.io/cluster/prod": "owned"}})
	}
	srv.AddLoadBalancer(acctA, region, awstest.LoadBalancer{Name: "k8s-shared", Ports: []int32{30080},
		Tags: map[string]string{"kubernetes.io/cluster/prod": "shared"}})
	r := &jobs.Runner{Sink: st, Accounts: jobs.StaticAccounts{acctA}, Regions: []string{region}}
	res, err := r.Run(context.Background(), &jobs.FetchELB{ELB: c, Ports: []int{openPort}}, nil, "")
	if err != nil || res.New != 4 || len(res.Errors) != 0 {
		t.Fatalf("run = %+v, %v; want 4 new (web, legacy, opensg, k8s-shared)", res, err)
	}
	vs, _ := st.ViolationList(context.Background())
	got := map[string]string{}
	for _, v := range vs {
		if v.EventID != "checkElbJob" || v.Type != "UNSECURED_PUBLIC_ENDPOINT" {
			t.Errorf("violation %+v", v)
		}
		got[v.InstanceID] = v.MetaInfo
	}
	want := map[string][]string{
		"127.0.0.1": {`"ami_id":"ami-0aaa"`, `"ami_name":"Taupage-AMI-1"`, `"canonicalHostedZoneName":"127.0.0.1"`, `"port":`, "which means it is unsecured"},
		"legacy-1234.eu-west-1.elb.amazonaws.com":     {`"unsecuredPorts":[8080]`, `"errorMessages":["ELB legacy listens on insecure ports! Only ports 80 and 443 are allowed"]`},
		"opensg-1234.eu-west-1.elb.amazonaws.com":     {`"unsecuredSecurityGroups":{"sg-0b2":{"group_name":"ssh","offending_rules":["tcp 22 from 0.0.0.0/0"]}}`},
		"k8s-shared-1234.eu-west-1.elb.amazonaws.com": {`"unsecuredPorts":[30080]`},
	}
	for dns, parts := range want {
		for _, p := range parts {
			if !strings.Contains(got[dns], p) {
				t.Errorf("%s: meta lacks %s: %s", dns, p, got[dns])
			}
		}
	}
	if n := srv.CallsFor("DescribeTags", acctA, region); n != 2 {
		t.Errorf("DescribeTags calls = %d, want 2 for 24 load balancers", n)
	}
}
