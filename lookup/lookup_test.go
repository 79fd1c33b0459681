package lookup_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fullstop-audit/fullstop/lookup"
	"github.com/fullstop-audit/fullstop/lookup/aws"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
)

const (
	acct       = "111122223333"
	region     = "eu-west-1"
	taupageAMI = "ami-0123456789abcdef0"
	otherAMI   = "ami-0fedcba9876543210"
)

// newResolver is the EC2 lookups of the real SDK against a local server
// speaking EC2's and STS's wire formats.
func newResolver(t *testing.T) (*lookup.Resolver, *awstest.Server, *lookup.Metrics) {
	t.Helper()
	srv := awstest.New(t)
	base := srv.Config("us-east-1")
	base.BaseEndpoint = awssdk.String(srv.URL())
	c, err := aws.New(aws.Config{Base: base})
	if err != nil {
		t.Fatal(err)
	}
	m := lookup.NewMetrics(prometheus.NewRegistry())
	return lookup.New(m, lookup.EC2Kinds(c, time.Minute)...), srv, m
}

func mustLookup(t *testing.T, r *lookup.Resolver, kind string, key ...string) map[string]string {
	t.Helper()
	raw, err := r.Lookup(context.Background(), kind, key)
	if err != nil {
		t.Fatalf("Lookup(%s, %v) error = %v", kind, key, err)
	}
	if raw == nil {
		return nil
	}
	var out map[string]string
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %s: %v", raw, err)
	}
	return out
}

func TestResolver_EC2(t *testing.T) {
	t.Parallel()
	r, srv, _ := newResolver(t)
	userData, err := os.ReadFile("../testdata/cloudtrail/fullstop-fixtures/aws-userdata-support__taupage01.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv.AddImage(acct, region, awstest.Image{ID: taupageAMI, Name: "Taupage-AMI-20151020-143437", OwnerID: "999988887777"})
	srv.AddInstance(acct, region, awstest.Instance{ID: "i-0aaaaaaaaaaaaaaa1", ImageID: taupageAMI, SubnetID: "subnet-0abc", VpcID: "vpc-0abc", UserData: userData})
	srv.AddInstance(acct, region, awstest.Instance{ID: "i-0aaaaaaaaaaaaaaa2", ImageID: otherAMI})

	if got := mustLookup(t, r, lookup.KindEC2Image, acct, region, taupageAMI); got["name"] != "Taupage-AMI-20151020-143437" || got["owner_id"] != "999988887777" || got["image_id"] != taupageAMI {
		t.Errorf("image = %v", got)
	}
	if got := mustLookup(t, r, lookup.KindEC2Image, acct, region, otherAMI); got != nil {
		t.Errorf("deregistered image = %v, want not found", got)
	}
	if got := mustLookup(t, r, lookup.KindEC2Instance, acct, region, "i-0aaaaaaaaaaaaaaa1"); got["image_id"] != taupageAMI || got["subnet_id"] != "subnet-0abc" {
		t.Errorf("instance = %v", got)
	}
	if got := mustLookup(t, r, lookup.KindEC2Instance, acct, region, "i-0bbbbbbbbbbbbbbb9"); got != nil {
		t.Errorf("unknown instance = %v, want not found", got)
	}
	want := map[string]string{"application_id": "fullstop", "application_version": "5", "runtime": "Docker", "source": "registry.opensource.zalan.do/stups/fullstop:5"}
	if got := mustLookup(t, r, lookup.KindEC2UserData, acct, region, "i-0aaaaaaaaaaaaaaa1"); !equal(got, want) {
		t.Errorf("user data = %v, want %v", got, want)
	}
	if got := mustLookup(t, r, lookup.KindEC2UserData, acct, region, "i-0aaaaaaaaaaaaaaa2"); got != nil {
		t.Errorf("instance without user data = %v, want not found", got)
	}
	if roles := srv.AssumedRoles(); len(roles) != 1 || roles[0] != "arn:aws:iam::"+acct+":role/fullstop" {
		t.Errorf("assumed roles = %v, want the fullstop role of %s once", roles, acct)
	}
	if n := srv.CallsFor("DescribeImages", acct, region); n != 2 {
		t.Errorf("DescribeImages in %s %s = %d calls, want 2 (made with the assumed role's credentials)", acct, region, n)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// An answer, "not found" included, is asked for once however many ask,
// at once or later within its lifetime.
func TestResolver_oneCallPerKey(t *testing.T) {
	t.Parallel()
	r, srv, m := newResolver(t)
	srv.AddImage(acct, region, awstest.Image{ID: taupageAMI, Name: "Taupage-AMI-1"})
	srv.Fail("DescribeImages", awstest.Failure{Delay: 200 * time.Millisecond, Times: 1})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { mustLookup(t, r, lookup.KindEC2Image, acct, region, taupageAMI) })
	}
	wg.Wait()
	mustLookup(t, r, lookup.KindEC2Image, acct, region, taupageAMI)
	mustLookup(t, r, lookup.KindEC2Image, acct, region, otherAMI)
	mustLookup(t, r, lookup.KindEC2Image, acct, region, otherAMI)
	if n := srv.Calls("DescribeImages"); n != 2 {
		t.Errorf("DescribeImages calls = %d, want 2 (one per AMI)", n)
	}
	if got := testutil.ToFloat64(m.Calls.WithLabelValues(lookup.KindEC2Image)); got != 2 {
		t.Errorf("calls metric = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.CacheHits.WithLabelValues(lookup.KindEC2Image)); got != 2 {
		t.Errorf("cache hits metric = %v, want 2 (the lookups after the calls)", got)
	}
}

// Throttling after the SDK's retries, a timeout and a denied AssumeRole
// are errors, never "not found", and are not cached: the next ask tries
// again.
func TestResolver_failuresAreErrorsAndNotCached(t *testing.T) {
	t.Parallel()
	t.Run("throttled", func(t *testing.T) {
		t.Parallel()
		r, srv, m := newResolver(t)
		srv.AddImage(acct, region, awstest.Image{ID: taupageAMI, Name: "Taupage-AMI-1"})
		// The SDK's standard retryer makes 3 attempts.
		srv.Fail("DescribeImages", awstest.Failure{Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded.", Times: 3})
		_, err := r.Lookup(context.Background(), lookup.KindEC2Image, []string{acct, region, taupageAMI})
		if err == nil || !strings.Contains(err.Error(), "RequestLimitExceeded") {
			t.Fatalf("throttled lookup: error %v, want RequestLimitExceeded", err)
		}
		if got := testutil.ToFloat64(m.Errors.WithLabelValues(lookup.KindEC2Image)); got != 1 {
			t.Errorf("errors metric = %v, want 1", got)
		}
		if got := mustLookup(t, r, lookup.KindEC2Image, acct, region, taupageAMI); got["name"] != "Taupage-AMI-1" {
			t.Errorf("after the throttling: %v, want the image", got)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		r, srv, _ := newResolver(t)
		srv.AddImage(acct, region, awstest.Image{ID: taupageAMI, Name: "Taupage-AMI-1"})
		srv.Fail("DescribeImages", awstest.Failure{Delay: 5 * time.Second, Times: 1})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := r.Lookup(ctx, lookup.KindEC2Image, []string{acct, region, taupageAMI}); err == nil {
			t.Fatal("timed-out lookup: no error")
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("timed-out lookup took %v", d)
		}
		if got := mustLookup(t, r, lookup.KindEC2Image, acct, region, taupageAMI); got == nil {
			t.Error("after the timeout: not found, want the image")
		}
	})
	t.Run("assume role denied", func(t *testing.T) {
		t.Parallel()
		r, srv, _ := newResolver(t)
		srv.DenyAssumeRole(acct)
		_, err := r.Lookup(context.Background(), lookup.KindEC2Image, []string{acct, region, taupageAMI})
		if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Fatalf("lookup with AssumeRole denied: error %v, want AccessDenied", err)
		}
	})
	t.Run("bad key", func(t *testing.T) {
		t.Parallel()
		r, _, _ := newResolver(t)
		if _, err := r.Lookup(context.Background(), lookup.KindEC2Image, []string{acct}); err == nil {
			t.Error("a key of one column: no error")
		}
		if _, err := r.Lookup(context.Background(), "kio.application", []string{"x"}); err == nil {
			t.Error("an unknown kind: no error")
		}
	})
}

// A subnet is public when its route table, the explicit association or
// else the VPC's main table, sends 0.0.0.0/0 or ::/0 to an internet
// gateway; a route to a NAT gateway or a blackhole does not count.
func TestResolver_subnets(t *testing.T) {
	t.Parallel()
	r, srv, _ := newResolver(t)
	srv.PageSize = 1 // every list call takes several pages
	add := func(sn string) { srv.AddSubnet(acct, region, awstest.Subnet{ID: sn, VpcID: "vpc-0a"}) }
	for _, sn := range []string{"subnet-0a1", "subnet-0a2", "subnet-0a3", "subnet-0a4", "subnet-0a5"} {
		add(sn)
	}
	srv.AddRouteTable(acct, region, awstest.RouteTable{ID: "rtb-0f0", VpcID: "vpc-0a", Main: true,
		Routes: []awstest.Route{{DestinationCIDR: "10.0.0.0/16", GatewayID: "local"}, {DestinationCIDR: "0.0.0.0/0", GatewayID: "igw-0main"}}})
	srv.AddRouteTable(acct, region, awstest.RouteTable{ID: "rtb-0f1", VpcID: "vpc-0a", SubnetIDs: []string{"subnet-0a1"},
		Routes: []awstest.Route{{DestinationCIDR: "0.0.0.0/0", GatewayID: "igw-0abc"}}})
	srv.AddRouteTable(acct, region, awstest.RouteTable{ID: "rtb-0f2", VpcID: "vpc-0a", SubnetIDs: []string{"subnet-0a2"},
		Routes: []awstest.Route{{DestinationCIDR: "0.0.0.0/0", NatGatewayID: "nat-0abc"}}})
	srv.AddRouteTable(acct, region, awstest.RouteTable{ID: "rtb-0f3", VpcID: "vpc-0a", SubnetIDs: []string{"subnet-0a3"},
		Routes: []awstest.Route{{DestinationIPv6CIDR: "::/0", GatewayID: "igw-0v6"}}})
	srv.AddRouteTable(acct, region, awstest.RouteTable{ID: "rtb-0f4", VpcID: "vpc-0a", SubnetIDs: []string{"subnet-0a4"},
		Routes: []awstest.Route{{DestinationCIDR: "0.0.0.0/0", GatewayID: "igw-0dead", State: "blackhole"}}})
	tests := []struct {
		subnet, table, gateway string
		public, main           bool
	}{
		{"subnet-0a1", "rtb-0f1", "igw-0abc", true, false},
		{"subnet-0a2", "rtb-0f2", "", false, false},
		{"subnet-0a3", "rtb-0f3", "igw-0v6", true, false},
		{"subnet-0a4", "rtb-0f4", "", false, false},
		{"subnet-0a5", "rtb-0f0", "igw-0main", true, true}, // no association: the main table
	}
	for _, tt := range tests {
		for _, vpc := range []string{"", "vpc-0a"} { // the VPC unknown, then known
			raw, err := r.Lookup(context.Background(), lookup.KindEC2Subnet, []string{acct, region, tt.subnet, vpc})
			if err != nil {
				t.Fatalf("%s: %v", tt.subnet, err)
			}
			var got struct {
				Table   string `json:"route_table_id"`
				Main    bool   `json:"main_route_table"`
				Public  bool   `json:"public"`
				Gateway string `json:"gateway_id"`
				VPC     string `json:"vpc_id"`
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			if got.Table != tt.table || got.Main != tt.main || got.Public != tt.public || got.Gateway != tt.gateway || got.VPC != "vpc-0a" {
				t.Errorf("%s (vpc %q): %+v, want table %s main %v public %v gateway %q", tt.subnet, vpc, got, tt.table, tt.main, tt.public, tt.gateway)
			}
		}
	}
	if got := mustLookup(t, r, lookup.KindEC2Subnet, acct, region, "subnet-0dead", ""); got != nil {
		t.Errorf("a subnet that is gone: %v, want not found", got)
	}
}
