package lookup_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/fullstop-audit/fullstop/lookup"
	"github.com/fullstop-audit/fullstop/lookup/awstest"
)

// ec2.security_groups over the real SDK: the groups as the reference's
// snapshots held them (camelCase), not found when one is gone.
func TestResolver_securityGroups(t *testing.T) {
	t.Parallel()
	r, srv, _ := newResolver(t)
	srv.AddSecurityGroup(acct, region, awstest.SecurityGroup{ID: "sg-0a1", Name: "web", Description: "web servers", VpcID: "vpc-0a",
		Ingress: []awstest.Permission{{Protocol: "tcp", FromPort: 443, ToPort: 443, CIDRs: []string{"0.0.0.0/0"}, IPv6CIDRs: []string{"::/0"}},
			{Protocol: "tcp", FromPort: 22, ToPort: 22, GroupIDs: []string{"sg-0a2"}}},
		Egress: []awstest.Permission{{Protocol: "-1", CIDRs: []string{"0.0.0.0/0"}}}})
	srv.AddSecurityGroup(acct, region, awstest.SecurityGroup{ID: "sg-0a2", Name: "bastion", Description: "ssh"})

	raw, err := r.Lookup(context.Background(), lookup.KindEC2SecurityGroups, []string{acct, region, "sg-0a1,sg-0a2"})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		SecurityGroups []struct {
			GroupID       string `json:"groupId"`
			GroupName     string `json:"groupName"`
			Description   string `json:"description"`
			OwnerID       string `json:"ownerId"`
			VpcID         string `json:"vpcId"`
			IPPermissions []struct {
				IPProtocol       string   `json:"ipProtocol"`
				FromPort         *int32   `json:"fromPort"`
				ToPort           *int32   `json:"toPort"`
				IPRanges         []string `json:"ipRanges"`
				IPv6Ranges       []string `json:"ipv6Ranges"`
				UserIDGroupPairs []struct {
					GroupID string `json:"groupId"`
				} `json:"userIdGroupPairs"`
			} `json:"ipPermissions"`
			IPPermissionsEgress []struct {
				IPProtocol string `json:"ipProtocol"`
				FromPort   *int32 `json:"fromPort"`
			} `json:"ipPermissionsEgress"`
		} `json:"securityGroups"`
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if len(got.SecurityGroups) != 2 {
		t.Fatalf("groups = %s, want 2", raw)
	}
	web := got.SecurityGroups[0]
	if web.GroupName == "bastion" {
		web = got.SecurityGroups[1]
	}
	if web.GroupID != "sg-0a1" || web.Description != "web servers" || web.OwnerID != acct || web.VpcID != "vpc-0a" || len(web.IPPermissions) != 2 {
		t.Fatalf("web group = %+v", web)
	}
	https := web.IPPermissions[0]
	if https.IPProtocol != "tcp" || *https.FromPort != 443 || *https.ToPort != 443 || len(https.IPRanges) != 1 || https.IPRanges[0] != "0.0.0.0/0" ||
		len(https.IPv6Ranges) != 1 || https.IPv6Ranges[0] != "::/0" {
		t.Errorf("https rule = %+v", https)
	}
	if ssh := web.IPPermissions[1]; len(ssh.UserIDGroupPairs) != 1 || ssh.UserIDGroupPairs[0].GroupID != "sg-0a2" {
		t.Errorf("ssh rule = %+v", ssh)
	}
	if len(web.IPPermissionsEgress) != 1 || web.IPPermissionsEgress[0].IPProtocol != "-1" || web.IPPermissionsEgress[0].FromPort != nil {
		t.Errorf("egress = %+v", web.IPPermissionsEgress)
	}
	if raw, err := r.Lookup(context.Background(), lookup.KindEC2SecurityGroups, []string{acct, region, "sg-0a1,sg-0dead"}); err != nil || raw != nil {
		t.Errorf("a group that is gone: %s, %v; want not found", raw, err)
	}
}
