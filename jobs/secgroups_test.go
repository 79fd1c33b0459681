package jobs_test

import (
	"testing"

	"github.com/fullstop-audit/fullstop/jobs"
	"github.com/fullstop-audit/fullstop/lookup/aws"
)

func port(n int32) *int32 { return &n }

func TestUnsecuredGroups(t *testing.T) {
	t.Parallel()
	rule := func(proto string, from, to *int32, v4, v6 []string) aws.IPPermission {
		return aws.IPPermission{IPProtocol: proto, FromPort: from, ToPort: to, IPRanges: v4, IPv6Ranges: v6}
	}
	world := []string{"0.0.0.0/0"}
	tests := []struct {
		name   string
		rule   aws.IPPermission
		offend bool
	}{
		{"https from the world", rule("tcp", port(443), port(443), world, nil), false},
		{"ssh from the world (EC2 allows 22)", rule("tcp", port(22), port(22), world, nil), false},
		{"8080 from the world", rule("tcp", port(8080), port(8080), world, nil), true},
		{"80-443 from the world: 81 is not allowed", rule("tcp", port(80), port(443), world, nil), true},
		{"8080 from inside 10/8", rule("tcp", port(8080), port(8080), []string{"10.1.0.0/16"}, nil), false},
		{"8080 from 172.16/12 and 192.168/16", rule("6", port(8080), port(8080), []string{"172.20.0.0/16", "192.168.1.0/24"}, nil), false},
		{"8080 from 172.32/16, outside 172.16/12", rule("tcp", port(8080), port(8080), []string{"172.32.0.0/16"}, nil), true},
		{"8080 from 10/7, wider than 10/8", rule("tcp", port(8080), port(8080), []string{"10.0.0.0/7"}, nil), true},
		{"udp 53 from the world", rule("udp", port(53), port(53), world, nil), true},
		{"udp 17 without ports from the world", rule("17", nil, nil, world, nil), true},
		{"icmp from the world", rule("icmp", port(-1), port(-1), world, nil), false},
		{"icmpv6 58 from ::/0", rule("58", nil, nil, nil, []string{"::/0"}), false},
		{"all protocols from the world", rule("-1", nil, nil, world, nil), true},
		{"all protocols from inside", rule("-1", nil, nil, []string{"10.0.0.0/8"}, nil), false},
		{"protocol 50 (esp) from the world", rule("50", nil, nil, world, nil), true},
		{"8080 from ::/0", rule("tcp", port(8080), port(8080), nil, []string{"::/0"}), true},
		{"8080 from fd00::/8, inside fc00::/7", rule("tcp", port(8080), port(8080), nil, []string{"fd00:1::/32"}), false},
		{"8080 from 2001:db8::/32", rule("tcp", port(8080), port(8080), nil, []string{"2001:db8::/32"}), true},
		{"8080 from another group only", rule("tcp", port(8080), port(8080), nil, nil), false},
		{"unparseable CIDR", rule("tcp", port(8080), port(8080), []string{"not-a-cidr"}, nil), true},
		{"tcp without ports", rule("tcp", nil, nil, world, nil), true},
	}
	for _, tt := range tests {
		got := jobs.UnsecuredGroups([]aws.SecurityGroup{{GroupID: "sg-1", GroupName: "g", IPPermissions: []aws.IPPermission{tt.rule}}}, jobs.EC2AllowedPorts)
		if (len(got) == 1) != tt.offend {
			t.Errorf("%s: %v, want offending %v", tt.name, got, tt.offend)
		}
	}
	got := jobs.UnsecuredGroups([]aws.SecurityGroup{{GroupID: "sg-1", GroupName: "web", IPPermissions: []aws.IPPermission{
		rule("tcp", port(443), port(443), world, nil), rule("tcp", port(22), port(22), world, nil), rule("tcp", port(8000), port(8080), world, []string{"::/0"})}}},
		jobs.ELBAllowedPorts)
	if g := got["sg-1"]; g.GroupName != "web" || len(g.OffendingRules) != 2 || g.OffendingRules[0] != "tcp 22 from 0.0.0.0/0" ||
		g.OffendingRules[1] != "tcp 8000-8080 from 0.0.0.0/0, ::/0" {
		t.Errorf("with the ELB ports: %+v", got)
	}
}
