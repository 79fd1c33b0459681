package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// SecurityGroups is what DescribeSecurityGroups says of a set of security
// groups, in the shape the reference wrote its snapshots in: the SDK's
// response object with camelCase names.
type SecurityGroups struct {
	SecurityGroups []SecurityGroup `json:"securityGroups"`
}

// SecurityGroup is one security group.
type SecurityGroup struct {
	GroupID             string             `json:"groupId"`
	GroupName           string             `json:"groupName"`
	Description         string             `json:"description"`
	OwnerID             string             `json:"ownerId"`
	VpcID               string             `json:"vpcId,omitempty"`
	IPPermissions       []IPPermission     `json:"ipPermissions"`
	IPPermissionsEgress []IPPermission     `json:"ipPermissionsEgress"`
	Tags                []SecurityGroupTag `json:"tags"`
}

// IPPermission is one ingress or egress rule.
type IPPermission struct {
	IPProtocol       string            `json:"ipProtocol"`
	FromPort         *int32            `json:"fromPort,omitempty"`
	ToPort           *int32            `json:"toPort,omitempty"`
	IPRanges         []string          `json:"ipRanges"`
	IPv6Ranges       []string          `json:"ipv6Ranges"`
	PrefixListIDs    []string          `json:"prefixListIds"`
	UserIDGroupPairs []UserIDGroupPair `json:"userIdGroupPairs"`
}

// UserIDGroupPair is a security group a rule grants to.
type UserIDGroupPair struct {
	GroupID   string `json:"groupId,omitempty"`
	GroupName string `json:"groupName,omitempty"`
	UserID    string `json:"userId,omitempty"`
	VpcID     string `json:"vpcId,omitempty"`
}

// SecurityGroupTag is a tag of a security group.
type SecurityGroupTag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SecurityGroups describes the security groups ids in account and region,
// in the order EC2 returns them; found is false when one of them does not
// exist (InvalidGroup.NotFound, InvalidGroupId.Malformed) or ids is empty.
func (c *Clients) SecurityGroups(ctx context.Context, account, region string, ids []string) (SecurityGroups, bool, error) {
	if len(ids) == 0 {
		return SecurityGroups{}, false, nil
	}
	out := SecurityGroups{SecurityGroups: []SecurityGroup{}}
	p := ec2.NewDescribeSecurityGroupsPaginator(c.EC2(account, region), &ec2.DescribeSecurityGroupsInput{GroupIds: ids})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isCode(err, "InvalidGroup.NotFound", "InvalidGroupId.Malformed", "InvalidGroupId.NotFound") {
			return SecurityGroups{}, false, nil
		}
		if err != nil {
			return SecurityGroups{}, false, fmt.Errorf("ec2 DescribeSecurityGroups %v in %s %s: %w", ids, account, region, err)
		}
		for _, g := range page.SecurityGroups {
			out.SecurityGroups = append(out.SecurityGroups, securityGroup(g))
		}
	}
	return out, len(out.SecurityGroups) > 0, nil
}

func securityGroup(g ec2types.SecurityGroup) SecurityGroup {
	sg := SecurityGroup{GroupID: awssdk.ToString(g.GroupId), GroupName: awssdk.ToString(g.GroupName),
		Description: awssdk.ToString(g.Description), OwnerID: awssdk.ToString(g.OwnerId), VpcID: awssdk.ToString(g.VpcId),
		IPPermissions: permissions(g.IpPermissions), IPPermissionsEgress: permissions(g.IpPermissionsEgress),
		Tags: []SecurityGroupTag{}}
	for _, t := range g.Tags {
		sg.Tags = append(sg.Tags, SecurityGroupTag{Key: awssdk.ToString(t.Key), Value: awssdk.ToString(t.Value)})
	}
	return sg
}

func permissions(ps []ec2types.IpPermission) []IPPermission {
	out := make([]IPPermission, 0, len(ps))
	for _, p := range ps {
		ip := IPPermission{IPProtocol: awssdk.ToString(p.IpProtocol), FromPort: p.FromPort, ToPort: p.ToPort,
			IPRanges: []string{}, IPv6Ranges: []string{}, PrefixListIDs: []string{}, UserIDGroupPairs: []UserIDGroupPair{}}
		for _, r := range p.IpRanges {
			ip.IPRanges = append(ip.IPRanges, awssdk.ToString(r.CidrIp))
		}
		for _, r := range p.Ipv6Ranges {
			ip.IPv6Ranges = append(ip.IPv6Ranges, awssdk.ToString(r.CidrIpv6))
		}
		for _, r := range p.PrefixListIds {
			ip.PrefixListIDs = append(ip.PrefixListIDs, awssdk.ToString(r.PrefixListId))
		}
		for _, r := range p.UserIdGroupPairs {
			ip.UserIDGroupPairs = append(ip.UserIDGroupPairs, UserIDGroupPair{GroupID: awssdk.ToString(r.GroupId),
				GroupName: awssdk.ToString(r.GroupName), UserID: awssdk.ToString(r.UserId), VpcID: awssdk.ToString(r.VpcId)})
		}
		out = append(out, ip)
	}
	return out
}
