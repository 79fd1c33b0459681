package awstest_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/fullstop-audit/fullstop/lookup/awstest"
)

const (
	region = "eu-west-1"
	acct   = awstest.DefaultAccount
	other  = "123456789012"
)

// fast returns cfg with the SDK's standard retryer without backoff waits.
func fast(cfg aws.Config) aws.Config {
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	}
	return cfg
}

func ec2Client(s *awstest.Server, cfg aws.Config) *ec2.Client {
	return ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.BaseEndpoint = aws.String(s.URL()) })
}

func stsClient(s *awstest.Server, cfg aws.Config) *sts.Client {
	return sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(s.URL()) })
}

func iamClient(s *awstest.Server, cfg aws.Config) *iam.Client {
	return iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(s.URL()) })
}

func kmsClient(s *awstest.Server, cfg aws.Config) *kms.Client {
	return kms.NewFromConfig(cfg, func(o *kms.Options) { o.BaseEndpoint = aws.String(s.URL()) })
}

// wantCode fails unless err is an API error with code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %q (%v), want %q", ae.ErrorCode(), err, code)
	}
}

// wantStatus fails unless err is an HTTP response error with status.
func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want an HTTP response error", err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("status = %d, want %d", re.HTTPStatusCode(), status)
	}
}

func TestDescribeImages(t *testing.T) {
	s := awstest.New(t)
	s.AddImage(acct, region, awstest.Image{ID: "ami-0a", Name: "web", CreationDate: "2024-01-02T03:04:05.000Z"})
	s.AddImage(other, region, awstest.Image{ID: "ami-0b", Name: "shared", Public: true})
	s.AddImage(other, region, awstest.Image{ID: "ami-0c", Name: "private"})
	s.AddImage(acct, "us-east-1", awstest.Image{ID: "ami-0d"})
	c := ec2Client(s, s.Config(region))
	ctx := context.Background()

	out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0a", "ami-0b"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 2 {
		t.Fatalf("got %d images, want 2", len(out.Images))
	}
	img := out.Images[0]
	if aws.ToString(img.ImageId) != "ami-0a" || aws.ToString(img.Name) != "web" || aws.ToString(img.OwnerId) != acct ||
		aws.ToString(img.CreationDate) != "2024-01-02T03:04:05.000Z" || img.State != ec2types.ImageStateAvailable || aws.ToBool(img.Public) {
		t.Errorf("image = %+v", img)
	}
	if img := out.Images[1]; aws.ToString(img.OwnerId) != other || !aws.ToBool(img.Public) {
		t.Errorf("public image = %+v", img)
	}

	_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0c"}})
	wantCode(t, err, "InvalidAMIID.NotFound")
	wantStatus(t, err, http.StatusBadRequest)
	if !strings.Contains(err.Error(), "The image id '[ami-0c]' does not exist") {
		t.Errorf("message of %v", err)
	}
	_, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-nothex"}})
	wantCode(t, err, "InvalidAMIID.Malformed")

	out, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 1 || aws.ToString(out.Images[0].ImageId) != "ami-0a" {
		t.Errorf("own images = %+v", out.Images)
	}
	out, err = c.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"sh*"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 1 || aws.ToString(out.Images[0].ImageId) != "ami-0b" {
		t.Errorf("images named sh* = %+v", out.Images)
	}
	if n := s.CallsFor("DescribeImages", acct, region); n != 5 {
		t.Errorf("CallsFor = %d, want 5", n)
	}
}

func TestDescribeImagesPaging(t *testing.T) {
	s := awstest.New(t)
	s.PageSize = 2
	for _, id := range []string{"ami-01", "ami-02", "ami-03"} {
		s.AddImage(acct, region, awstest.Image{ID: id})
	}
	p := ec2.NewDescribeImagesPaginator(ec2Client(s, s.Config(region)), &ec2.DescribeImagesInput{Owners: []string{acct}})
	var ids []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, img := range out.Images {
			ids = append(ids, aws.ToString(img.ImageId))
		}
	}
	if pages != 2 || !slices.Equal(ids, []string{"ami-01", "ami-02", "ami-03"}) {
		t.Errorf("%d pages of %v", pages, ids)
	}
}

func TestDescribeInstances(t *testing.T) {
	s := awstest.New(t)
	launch := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	s.AddSecurityGroup(acct, region, awstest.SecurityGroup{ID: "sg-01", Name: "web"})
	s.AddInstance(acct, region, awstest.Instance{
		ID: "i-01", ImageID: "ami-0a", KeyName: "ops", SubnetID: "subnet-01", VpcID: "vpc-1",
		LaunchTime: launch, SecurityGroupIDs: []string{"sg-01"}, PublicIP: "203.0.113.7",
		Tags: map[string]string{"Name": "web-1", "team": "a"},
	})
	s.AddInstance(acct, region, awstest.Instance{ID: "i-02", SubnetID: "subnet-02", VpcID: "vpc-2", State: "stopped"})
	c := ec2Client(s, s.Config(region))
	ctx := context.Background()

	out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-01"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("reservations = %+v", out.Reservations)
	}
	if aws.ToString(out.Reservations[0].OwnerId) != acct || aws.ToString(out.Reservations[0].ReservationId) == "" {
		t.Errorf("reservation = %+v", out.Reservations[0])
	}
	in := out.Reservations[0].Instances[0]
	if aws.ToString(in.InstanceId) != "i-01" || aws.ToString(in.ImageId) != "ami-0a" || aws.ToString(in.KeyName) != "ops" ||
		aws.ToString(in.SubnetId) != "subnet-01" || aws.ToString(in.VpcId) != "vpc-1" || aws.ToString(in.PublicIpAddress) != "203.0.113.7" {
		t.Errorf("instance = %+v", in)
	}
	if !aws.ToTime(in.LaunchTime).Equal(launch) {
		t.Errorf("launch time = %v, want %v", aws.ToTime(in.LaunchTime), launch)
	}
	if in.State == nil || in.State.Name != ec2types.InstanceStateNameRunning || aws.ToInt32(in.State.Code) != 16 {
		t.Errorf("state = %+v", in.State)
	}
	if len(in.SecurityGroups) != 1 || aws.ToString(in.SecurityGroups[0].GroupId) != "sg-01" || aws.ToString(in.SecurityGroups[0].GroupName) != "web" {
		t.Errorf("groups = %+v", in.SecurityGroups)
	}
	tags := map[string]string{}
	for _, tag := range in.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	if len(tags) != 2 || tags["Name"] != "web-1" || tags["team"] != "a" {
		t.Errorf("tags = %v", tags)
	}

	for _, f := range []ec2types.Filter{
		{Name: aws.String("subnet-id"), Values: []string{"subnet-02"}},
		{Name: aws.String("vpc-id"), Values: []string{"vpc-9", "vpc-2"}},
		{Name: aws.String("instance-state-name"), Values: []string{"stopped"}},
	} {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{f}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Reservations) != 1 || aws.ToString(out.Reservations[0].Instances[0].InstanceId) != "i-02" {
			t.Errorf("filter %s: reservations = %+v", aws.ToString(f.Name), out.Reservations)
		}
	}
	out, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:team"), Values: []string{"a"}}}})
	if err != nil || len(out.Reservations) != 1 {
		t.Errorf("tag filter: %v, %+v", err, out)
	}

	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"i-01", "i-0f"}})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{"web"}})
	wantCode(t, err, "InvalidInstanceID.Malformed")
	_, err = c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")

	// Another region of the account is another world.
	out, err = ec2Client(s, s.Config("us-east-1")).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil || len(out.Reservations) != 0 {
		t.Errorf("us-east-1: %v, %+v", err, out)
	}
}

func TestDescribeInstancesPaginator(t *testing.T) {
	s := awstest.New(t)
	s.PageSize = 2
	for _, id := range []string{"i-01", "i-02", "i-03", "i-04", "i-05"} {
		s.AddInstance(acct, region, awstest.Instance{ID: id})
	}
	p := ec2.NewDescribeInstancesPaginator(ec2Client(s, s.Config(region)), &ec2.DescribeInstancesInput{})
	var ids []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				ids = append(ids, aws.ToString(in.InstanceId))
			}
		}
	}
	if pages != 3 || len(ids) != 5 {
		t.Errorf("%d pages of %v, want 3 pages of 5", pages, ids)
	}
	if n := s.Calls("DescribeInstances"); n != 3 {
		t.Errorf("Calls = %d, want 3", n)
	}

	// A smaller MaxResults wins over the page size.
	s.PageSize = 0
	out, err := ec2Client(s, s.Config(region)).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{MaxResults: aws.Int32(4)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Reservations) != 4 || out.NextToken == nil {
		t.Errorf("MaxResults 4: %d reservations, next token %v", len(out.Reservations), out.NextToken)
	}
}

func TestDescribeInstanceAttribute(t *testing.T) {
	s := awstest.New(t)
	data := []byte("#!/bin/sh\necho hi\n")
	s.AddInstance(acct, region, awstest.Instance{ID: "i-01", UserData: data})
	s.AddInstance(acct, region, awstest.Instance{ID: "i-02"})
	c := ec2Client(s, s.Config(region))
	ctx := context.Background()

	out, err := c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String("i-01"), Attribute: ec2types.InstanceAttributeNameUserData})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.InstanceId) != "i-01" || out.UserData == nil {
		t.Fatalf("out = %+v", out)
	}
	got, err := base64.StdEncoding.DecodeString(aws.ToString(out.UserData.Value))
	if err != nil || string(got) != string(data) {
		t.Errorf("user data = %q (%v), want %q", got, err, data)
	}

	out, err = c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String("i-02"), Attribute: ec2types.InstanceAttributeNameUserData})
	if err != nil {
		t.Fatal(err)
	}
	if out.UserData != nil && aws.ToString(out.UserData.Value) != "" {
		t.Errorf("user data = %q, want none", aws.ToString(out.UserData.Value))
	}

	_, err = c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String("i-0f"), Attribute: ec2types.InstanceAttributeNameUserData})
	wantCode(t, err, "InvalidInstanceID.NotFound")
	_, err = c.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String("i-01"), Attribute: "bogus"})
	wantCode(t, err, "InvalidParameterValue")
}

func TestDescribeSecurityGroups(t *testing.T) {
	s := awstest.New(t)
	s.AddSecurityGroup(acct, region, awstest.SecurityGroup{
		ID: "sg-01", Name: "web", Description: "web servers", VpcID: "vpc-1",
		Ingress: []awstest.Permission{
			{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"0.0.0.0/0"}, IPv6CIDRs: []string{"::/0"}},
			{Protocol: "tcp", FromPort: 22, ToPort: 22, GroupIDs: []string{"sg-02"}},
		},
		Egress: []awstest.Permission{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}},
	})
	s.AddSecurityGroup(acct, region, awstest.SecurityGroup{ID: "sg-02", Name: "bastion", VpcID: "vpc-2"})
	c := ec2Client(s, s.Config(region))
	ctx := context.Background()

	out, err := c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-01"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("groups = %+v", out.SecurityGroups)
	}
	g := out.SecurityGroups[0]
	if aws.ToString(g.GroupId) != "sg-01" || aws.ToString(g.GroupName) != "web" || aws.ToString(g.Description) != "web servers" ||
		aws.ToString(g.VpcId) != "vpc-1" || aws.ToString(g.OwnerId) != acct {
		t.Errorf("group = %+v", g)
	}
	if len(g.IpPermissions) != 2 || len(g.IpPermissionsEgress) != 1 {
		t.Fatalf("permissions = %+v / %+v", g.IpPermissions, g.IpPermissionsEgress)
	}
	https := g.IpPermissions[0]
	if aws.ToString(https.IpProtocol) != "tcp" || aws.ToInt32(https.FromPort) != 443 || aws.ToInt32(https.ToPort) != 443 ||
		len(https.IpRanges) != 1 || aws.ToString(https.IpRanges[0].CidrIp) != "0.0.0.0/0" ||
		len(https.Ipv6Ranges) != 1 || aws.ToString(https.Ipv6Ranges[0].CidrIpv6) != "::/0" {
		t.Errorf("https permission = %+v", https)
	}
	ssh := g.IpPermissions[1]
	if len(ssh.UserIdGroupPairs) != 1 || aws.ToString(ssh.UserIdGroupPairs[0].GroupId) != "sg-02" || aws.ToInt32(ssh.FromPort) != 22 {
		t.Errorf("ssh permission = %+v", ssh)
	}
	all := g.IpPermissionsEgress[0]
	if aws.ToString(all.IpProtocol) != "-1" || all.FromPort != nil || len(all.IpRanges) != 1 {
		t.Errorf("egress = %+v", all)
	}

	out, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{"vpc-2"}}}})
	if err != nil || len(out.SecurityGroups) != 1 || aws.ToString(out.SecurityGroups[0].GroupId) != "sg-02" {
		t.Errorf("vpc-2 groups: %v, %+v", err, out)
	}
	_, err = c.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{"sg-0f"}})
	wantCode(t, err, "InvalidGroup.NotFound")
}

func TestDescribeSubnets(t *testing.T) {
	s := awstest.New(t)
	s.AddSubnet(acct, region, awstest.Subnet{ID: "subnet-01", VpcID: "vpc-1", CIDR: "10.0.1.0/24", MapPublicIP: true})
	s.AddSubnet(acct, region, awstest.Subnet{ID: "subnet-02", VpcID: "vpc-2", CIDR: "10.0.2.0/24"})
	c := ec2Client(s, s.Config(region))
	ctx := context.Background()

	out, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-01"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Subnets) != 1 {
		t.Fatalf("subnets = %+v", out.Subnets)
	}
	sn := out.Subnets[0]
	if aws.ToString(sn.SubnetId) != "subnet-01" || aws.ToString(sn.VpcId) != "vpc-1" || aws.ToString(sn.CidrBlock) != "10.0.1.0/24" ||
		!aws.ToBool(sn.MapPublicIpOnLaunch) || sn.State != ec2types.SubnetStateAvailable {
		t.Errorf("subnet = %+v", sn)
	}
	out, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{"vpc-2"}}}})
	if err != nil || len(out.Subnets) != 1 || aws.ToString(out.Subnets[0].SubnetId) != "subnet-02" || aws.ToBool(out.Subnets[0].MapPublicIpOnLaunch) {
		t.Errorf("vpc-2 subnets: %v, %+v", err, out)
	}
	_, err = c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{"subnet-0f"}})
	wantCode(t, err, "InvalidSubnetID.NotFound")
}

func TestDescribeRouteTables(t *testing.T) {
	s := awstest.New(t)
	s.AddRouteTable(acct, region, awstest.RouteTable{
		ID: "rtb-01", VpcID: "vpc-1", Main: true,
		Routes: []awstest.Route{
			{DestinationCIDR: "10.0.0.0/16", GatewayID: "local"},
			{DestinationCIDR: "0.0.0.0/0", NatGatewayID: "nat-01"},
		},
	})
	s.AddRouteTable(acct, region, awstest.RouteTable{
		ID: "rtb-02", VpcID: "vpc-1", SubnetIDs: []string{"subnet-01", "subnet-02"},
		Routes: []awstest.Route{
			{DestinationCIDR: "0.0.0.0/0", GatewayID: "igw-01"},
			{DestinationIPv6CIDR: "::/0", GatewayID: "igw-01", State: "blackhole"},
		},
	})
	c := ec2Client(s, s.Config(region))
	ctx := context.Background()
	describe := func(name string, values ...string) []ec2types.RouteTable {
		t.Helper()
		out, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String(name), Values: values}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.RouteTables
	}

	rts := describe("association.subnet-id", "subnet-02")
	if len(rts) != 1 || aws.ToString(rts[0].RouteTableId) != "rtb-02" {
		t.Fatalf("tables of subnet-02 = %+v", rts)
	}
	rt := rts[0]
	if aws.ToString(rt.VpcId) != "vpc-1" || aws.ToString(rt.OwnerId) != acct || len(rt.Associations) != 2 || len(rt.Routes) != 2 {
		t.Fatalf("table = %+v", rt)
	}
	a := rt.Associations[1]
	if aws.ToBool(a.Main) || aws.ToString(a.SubnetId) != "subnet-02" || aws.ToString(a.RouteTableId) != "rtb-02" ||
		aws.ToString(a.RouteTableAssociationId) == "" || a.AssociationState == nil || a.AssociationState.State != ec2types.RouteTableAssociationStateCodeAssociated {
		t.Errorf("association = %+v", a)
	}
	if r := rt.Routes[0]; aws.ToString(r.DestinationCidrBlock) != "0.0.0.0/0" || aws.ToString(r.GatewayId) != "igw-01" || r.State != ec2types.RouteStateActive {
		t.Errorf("route = %+v", r)
	}
	if r := rt.Routes[1]; aws.ToString(r.DestinationIpv6CidrBlock) != "::/0" || r.State != ec2types.RouteStateBlackhole {
		t.Errorf("IPv6 route = %+v", r)
	}

	rts = describe("association.main", "true")
	if len(rts) != 1 || aws.ToString(rts[0].RouteTableId) != "rtb-01" {
		t.Fatalf("main tables = %+v", rts)
	}
	if as := rts[0].Associations; len(as) != 1 || !aws.ToBool(as[0].Main) || as[0].SubnetId != nil {
		t.Errorf("main associations = %+v", as)
	}
	if r := rts[0].Routes[1]; aws.ToString(r.NatGatewayId) != "nat-01" {
		t.Errorf("NAT route = %+v", r)
	}
	if rts := describe("vpc-id", "vpc-1"); len(rts) != 2 {
		t.Errorf("tables of vpc-1 = %d, want 2", len(rts))
	}
	if rts := describe("association.subnet-id", "subnet-09"); len(rts) != 0 {
		t.Errorf("tables of subnet-09 = %+v", rts)
	}
	_, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{"rtb-0f"}})
	wantCode(t, err, "InvalidRouteTableID.NotFound")
}

func TestAssumeRole(t *testing.T) {
	s := awstest.New(t)
	s.AddInstance(other, region, awstest.Instance{ID: "i-01"})
	cfg := s.Config(region)
	ctx := context.Background()
	st := stsClient(s, cfg)

	id, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != acct {
		t.Errorf("default account = %q", aws.ToString(id.Account))
	}

	roleARN := "arn:aws:iam::" + other + ":role/audit/fullstop"
	out, err := st.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("fullstop-test")})
	if err != nil {
		t.Fatal(err)
	}
	creds := out.Credentials
	if !strings.HasPrefix(aws.ToString(creds.AccessKeyId), "ASIA"+other) || aws.ToString(creds.SecretAccessKey) == "" ||
		aws.ToString(creds.SessionToken) == "" || !aws.ToTime(creds.Expiration).After(time.Now()) {
		t.Errorf("credentials = %+v", creds)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::"+other+":assumed-role/fullstop/fullstop-test" {
		t.Errorf("assumed role ARN = %q", got)
	}

	// The SDK's own provider, as production code uses it.
	roleCfg := cfg.Copy()
	roleCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(st, roleARN))
	ec := ec2Client(s, roleCfg)
	res, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reservations) != 1 {
		t.Errorf("instances of %s: %+v", other, res.Reservations)
	}
	if n := s.CallsFor("DescribeInstances", other, region); n != 1 {
		t.Errorf("CallsFor(%s) = %d, want 1", other, n)
	}
	if n := s.CallsFor("DescribeInstances", acct, region); n != 0 {
		t.Errorf("CallsFor(%s) = %d, want 0", acct, n)
	}
	id, err = stsClient(s, roleCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != other || !strings.Contains(aws.ToString(id.Arn), ":assumed-role/fullstop/") {
		t.Errorf("assumed identity = %s %s", aws.ToString(id.Account), aws.ToString(id.Arn))
	}

	if got := s.AssumedRoles(); !slices.Equal(got, []string{roleARN, roleARN}) {
		t.Errorf("AssumedRoles = %v", got)
	}
	if calls := s.AssumeRoleCalls(); len(calls) != 2 || calls[0].SessionName != "fullstop-test" || calls[0].Account != acct {
		t.Errorf("AssumeRoleCalls = %+v", calls)
	}

	_, err = st.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::12:role/x"), RoleSessionName: aws.String("s1")})
	wantCode(t, err, "ValidationError")
}

func TestDenyAssumeRole(t *testing.T) {
	s := awstest.New(t)
	s.DenyAssumeRole(other)
	st := stsClient(s, s.Config(region))
	_, err := st.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + other + ":role/fullstop"), RoleSessionName: aws.String("s1"),
	})
	wantCode(t, err, "AccessDenied")
	wantStatus(t, err, http.StatusForbidden)
	if got := s.AssumedRoles(); len(got) != 1 {
		t.Errorf("AssumedRoles = %v", got)
	}
	if _, err := st.AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::210987654321:role/fullstop"), RoleSessionName: aws.String("s1"),
	}); err != nil {
		t.Errorf("another account: %v", err)
	}
}

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

func TestIAM(t *testing.T) {
	s := awstest.New(t)
	inline := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a b+c"}]}`
	s.AddRole(acct, awstest.Role{
		Name: "web", AssumeRolePolicy: trust,
		AttachedPolicies: []awstest.AttachedPolicy{{Name: "ReadOnlyAccess", Arn: "arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		InlinePolicies:   map[string]string{"s3": inline, "logs": "{}"},
	})
	s.AddRole(acct, awstest.Role{Name: "svc", Arn: "arn:aws:iam::" + acct + ":role/service/svc"})
	c := iamClient(s, s.Config(region))
	ctx := context.Background()

	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	r := got.Role
	if aws.ToString(r.RoleName) != "web" || aws.ToString(r.Arn) != "arn:aws:iam::"+acct+":role/web" || aws.ToString(r.Path) != "/" ||
		aws.ToString(r.RoleId) == "" || r.CreateDate == nil {
		t.Errorf("role = %+v", r)
	}
	if doc, err := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument)); err != nil || doc != trust {
		t.Errorf("trust policy = %q (%v)", doc, err)
	}
	if strings.ContainsAny(aws.ToString(r.AssumeRolePolicyDocument), `{":`) {
		t.Errorf("trust policy not URL-encoded: %s", aws.ToString(r.AssumeRolePolicyDocument))
	}

	roles, err := c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/service/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(roles.Roles) != 1 || aws.ToString(roles.Roles[0].RoleName) != "svc" || aws.ToString(roles.Roles[0].Path) != "/service/" || roles.IsTruncated {
		t.Errorf("roles = %+v", roles)
	}

	att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "ReadOnlyAccess" ||
		aws.ToString(att.AttachedPolicies[0].PolicyArn) != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Errorf("attached = %+v", att.AttachedPolicies)
	}

	names, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("web")})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names.PolicyNames, []string{"logs", "s3"}) {
		t.Errorf("inline policy names = %v", names.PolicyNames)
	}

	pol, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("s3")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, err := url.QueryUnescape(aws.ToString(pol.PolicyDocument)); err != nil || doc != inline {
		t.Errorf("inline policy = %q (%v)", doc, err)
	}
	if aws.ToString(pol.RoleName) != "web" || aws.ToString(pol.PolicyName) != "s3" {
		t.Errorf("GetRolePolicy = %+v", pol)
	}

	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) {
		t.Errorf("GetRole(nope) = %v, want NoSuchEntityException", err)
	}
	wantCode(t, err, "NoSuchEntity")
	wantStatus(t, err, http.StatusNotFound)
	_, err = c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("nope")})
	wantCode(t, err, "NoSuchEntity")
	_, err = c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("nope")})
	wantCode(t, err, "NoSuchEntity")
	_, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("web"), PolicyName: aws.String("nope")})
	wantCode(t, err, "NoSuchEntity")

	// Roles are per account.
	_, err = iamClient(s, assumed(t, s, other)).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")})
	wantCode(t, err, "NoSuchEntity")
}

// assumed returns a config whose credentials come from AssumeRole of a role
// in account.
func assumed(t *testing.T, s *awstest.Server, account string) aws.Config {
	t.Helper()
	cfg := s.Config(region)
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient(s, cfg), "arn:aws:iam::"+account+":role/fullstop"))
	return cfg
}

func TestIAMPaginators(t *testing.T) {
	s := awstest.New(t)
	s.PageSize = 2
	role := awstest.Role{Name: "web", InlinePolicies: map[string]string{}}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		role.AttachedPolicies = append(role.AttachedPolicies, awstest.AttachedPolicy{Name: n, Arn: "arn:aws:iam::aws:policy/" + n})
		role.InlinePolicies[n] = "{}"
		s.AddRole(acct, awstest.Role{Name: "role-" + n})
	}
	s.AddRole(acct, role)
	c := iamClient(s, s.Config(region))
	ctx := context.Background()

	var attached []string
	pages := 0
	for p := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("web")}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, ap := range out.AttachedPolicies {
			attached = append(attached, aws.ToString(ap.PolicyName))
		}
	}
	if pages != 3 || !slices.Equal(attached, []string{"a", "b", "c", "d", "e"}) {
		t.Errorf("%d pages of %v, want 3 pages of 5", pages, attached)
	}

	var inline []string
	for p := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: aws.String("web")}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		inline = append(inline, out.PolicyNames...)
	}
	if len(inline) != 5 {
		t.Errorf("inline policies = %v", inline)
	}

	n := 0
	for p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{}, func(o *iam.ListRolesPaginatorOptions) { o.Limit = 1 }); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Roles) > 1 {
			t.Errorf("page of %d roles with MaxItems 1", len(out.Roles))
		}
		n += len(out.Roles)
	}
	if n != 6 || s.Calls("ListRoles") != 6 {
		t.Errorf("%d roles in %d calls, want 6 in 6", n, s.Calls("ListRoles"))
	}
}

func TestKMSDecrypt(t *testing.T) {
	s := awstest.New(t)
	s.AddKMSPlaintext([]byte("ciphertext"), []byte("secret"))
	c := kmsClient(s, s.Config(region))
	ctx := context.Background()

	out, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("ciphertext")})
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Plaintext) != "secret" || !strings.HasPrefix(aws.ToString(out.KeyId), "arn:aws:kms:"+region+":"+acct+":key/") {
		t.Errorf("decrypt = %q, key %q", out.Plaintext, aws.ToString(out.KeyId))
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("other")})
	var ice *kmstypes.InvalidCiphertextException
	if !errors.As(err, &ice) {
		t.Errorf("err = %v, want InvalidCiphertextException", err)
	}
	wantCode(t, err, "InvalidCiphertextException")
	wantStatus(t, err, http.StatusBadRequest)
	if n := s.CallsFor("Decrypt", acct, region); n != 2 {
		t.Errorf("CallsFor = %d, want 2", n)
	}
}

func TestFailRetriedByDefaultRetryer(t *testing.T) {
	s := awstest.New(t)
	s.AddImage(acct, region, awstest.Image{ID: "ami-0a"})
	s.Fail("DescribeImages", awstest.Failure{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Times: 1})
	// The SDK's default retryer, its backoff included.
	out, err := ec2Client(s, s.Config(region)).DescribeImages(context.Background(), &ec2.DescribeImagesInput{ImageIds: []string{"ami-0a"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Images) != 1 {
		t.Errorf("images = %+v", out.Images)
	}
	if n := s.Calls("DescribeImages"); n != 2 {
		t.Errorf("Calls = %d, want 2", n)
	}
}

func TestFailThrottling(t *testing.T) {
	s := awstest.New(t)
	s.AddRole(acct, awstest.Role{Name: "web"})
	s.AddKMSPlaintext([]byte("c"), []byte("p"))
	s.Fail("GetRole", awstest.Failure{Code: "Throttling", Message: "Rate exceeded", Times: 2})
	s.Fail("AssumeRole", awstest.Failure{Code: "Throttling", Times: 1})
	s.Fail("Decrypt", awstest.Failure{Code: "ThrottlingException", Times: 1})
	cfg := fast(s.Config(region))
	ctx := context.Background()

	if _, err := iamClient(s, cfg).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("web")}); err != nil {
		t.Errorf("GetRole: %v", err)
	}
	if _, err := stsClient(s, cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + other + ":role/r"), RoleSessionName: aws.String("s1")}); err != nil {
		t.Errorf("AssumeRole: %v", err)
	}
	if _, err := kmsClient(s, cfg).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("c")}); err != nil {
		t.Errorf("Decrypt: %v", err)
	}
	for action, want := range map[string]int{"GetRole": 3, "AssumeRole": 2, "Decrypt": 2} {
		if n := s.Calls(action); n != want {
			t.Errorf("Calls(%s) = %d, want %d", action, n, want)
		}
	}
}

func TestFailAlways(t *testing.T) {
	s := awstest.New(t)
	s.Fail("DescribeSubnets", awstest.Failure{Status: http.StatusServiceUnavailable, Code: "RequestLimitExceeded", Message: "Request limit exceeded."})
	s.Fail("DescribeRouteTables", awstest.Failure{Code: "UnauthorizedOperation", Account: other})
	c := ec2Client(s, fast(s.Config(region)))
	ctx := context.Background()

	_, err := c.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{})
	wantCode(t, err, "RequestLimitExceeded")
	wantStatus(t, err, http.StatusServiceUnavailable)
	if n := s.Calls("DescribeSubnets"); n != 3 {
		t.Errorf("Calls = %d, want the default 3 attempts", n)
	}

	// A failure of one account leaves the others alone.
	if _, err := c.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{}); err != nil {
		t.Errorf("default account: %v", err)
	}
	_, err = ec2Client(s, fast(assumed(t, s, other))).DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{})
	wantCode(t, err, "UnauthorizedOperation")
	if n := s.CallsFor("DescribeRouteTables", other, region); n != 1 {
		t.Errorf("CallsFor(other) = %d, want 1", n)
	}
}

func TestDelayTimeout(t *testing.T) {
	s := awstest.New(t)
	s.Fail("DescribeInstances", awstest.Failure{Delay: 5 * time.Second})
	s.Fail("DescribeSubnets", awstest.Failure{Delay: 50 * time.Millisecond, Times: 1})
	c := ec2Client(s, s.Config(region))

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context deadline exceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}

	// A delay alone only slows the answer.
	start = time.Now()
	if _, err := c.DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{}); err != nil {
		t.Errorf("delayed DescribeSubnets: %v", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answered in %v, before the delay", d)
	}
}

// post sends a raw request and returns the status and body.
func post(t *testing.T, s *awstest.Server, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func auth(service string) string {
	return "AWS4-HMAC-SHA256 Credential=" + awstest.AccessKeyID + "/20240102/" + region + "/" + service + "/aws4_request, SignedHeaders=host, Signature=00"
}

func TestMalformedRequests(t *testing.T) {
	s := awstest.New(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	with := func(k, v string) map[string]string {
		h := map[string]string{k: v}
		for k, v := range form {
			h[k] = v
		}
		return h
	}
	for _, tc := range []struct {
		name   string
		header map[string]string
		body   string
		status int
		want   []string
	}{
		{"ec2 bad form", with("Authorization", auth("ec2")), "Action=%zz", 400, []string{"<Response><Errors><Error><Code>MalformedQueryString</Code>", "<RequestID>"}},
		{"ec2 no action", with("Authorization", auth("ec2")), "Version=2016-11-15", 400, []string{"<Code>MissingAction</Code>"}},
		{"ec2 unknown action", with("Authorization", auth("ec2")), "Action=RunInstances&Version=2016-11-15", 400, []string{"<Code>InvalidAction</Code>"}},
		{"ec2 no auth", form, "Action=DescribeImages&Version=2016-11-15", 401, []string{"<Code>AuthFailure</Code>"}},
		{"ec2 bad max", with("Authorization", auth("ec2")), "Action=DescribeInstances&Version=2016-11-15&MaxResults=x", 400, []string{"<Code>InvalidParameterValue</Code>"}},
		{"ec2 bad token", with("Authorization", auth("ec2")), "Action=DescribeInstances&Version=2016-11-15&NextToken=x", 400, []string{"<Code>InvalidPaginationToken</Code>"}},
		{"ec2 no attribute", with("Authorization", auth("ec2")), "Action=DescribeInstanceAttribute&Version=2016-11-15&InstanceId=i-01", 400, []string{"<Code>MissingParameter</Code>"}},
		{"sts by version", form, "Action=GetCallerIdentity&Version=2011-06-15", 403, []string{"<ErrorResponse", "<Type>Sender</Type><Code>MissingAuthenticationToken</Code>"}},
		{"sts no role", with("Authorization", auth("sts")), "Action=AssumeRole&Version=2011-06-15", 400, []string{"<Code>ValidationError</Code>"}},
		{"iam bad max", with("Authorization", auth("iam")), "Action=ListRoles&Version=2010-05-08&MaxItems=0", 400, []string{"<Code>ValidationError</Code>"}},
		{"iam bad marker", with("Authorization", auth("iam")), "Action=ListRoles&Version=2010-05-08&Marker=x", 400, []string{"<Code>ValidationError</Code>"}},
		{"unknown service", form, "Action=Foo", 400, []string{"<ErrorResponse>", "<Code>InvalidAction</Code>"}},
		{"kms bad json", map[string]string{"X-Amz-Target": "TrentService.Decrypt", "Authorization": auth("kms")}, "{", 400, []string{`"__type":"SerializationException"`}},
		{"kms unknown op", map[string]string{"X-Amz-Target": "TrentService.Nope", "Authorization": auth("kms")}, "{}", 400, []string{`"__type":"UnknownOperationException"`}},
		{"kms other target", map[string]string{"X-Amz-Target": "DynamoDB_20120810.GetItem", "Authorization": auth("kms")}, "{}", 400, []string{`"__type":"UnknownOperationException"`}},
		{"kms no blob", map[string]string{"X-Amz-Target": "TrentService.Decrypt", "Authorization": auth("kms")}, "{}", 400, []string{`"__type":"ValidationException"`}},
	} {
		status, body := post(t, s, tc.header, tc.body)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, status, tc.status, body)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: body %s lacks %s", tc.name, body, w)
			}
		}
	}
}

func TestConcurrent(t *testing.T) {
	s := awstest.New(t)
	s.AddInstance(acct, region, awstest.Instance{ID: "i-01"})
	cfg := fast(s.Config(region))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			s.AddImage(acct, region, awstest.Image{ID: fmt.Sprintf("ami-0%x", i)})
			if _, err := ec2Client(s, cfg).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{}); err != nil {
				t.Error(err)
			}
			if _, err := ec2Client(s, assumed(t, s, other)).DescribeImages(context.Background(), &ec2.DescribeImagesInput{}); err != nil {
				t.Error(err)
			}
			_ = s.Calls("DescribeImages")
		})
	}
	wg.Wait()
	if n := s.Calls("DescribeInstances"); n != 8 {
		t.Errorf("Calls = %d, want 8", n)
	}
	if n := len(s.AssumedRoles()); n != 8 {
		t.Errorf("AssumedRoles = %d, want 8", n)
	}
}
