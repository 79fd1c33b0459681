package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// PublicInstance is a running EC2 instance, with its public IP address
// when it has one.
type PublicInstance struct {
	ID, ImageID, PublicIP string
	SecurityGroupIDs      []string
}

// PublicInstances lists the running instances of account in region that
// have a public IP address, every page.
func (c *Clients) PublicInstances(ctx context.Context, account, region string) ([]PublicInstance, error) {
	all, err := c.runningInstances(ctx, account, region, ec2types.Filter{Name: awssdk.String("ip-address"), Values: []string{"*"}})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, in := range all {
		if in.PublicIP != "" {
			out = append(out, in)
		}
	}
	return out, nil
}

// RunningInstances lists the running instances of account in region,
// every page.
func (c *Clients) RunningInstances(ctx context.Context, account, region string) ([]PublicInstance, error) {
	return c.runningInstances(ctx, account, region)
}

func (c *Clients) runningInstances(ctx context.Context, account, region string, more ...ec2types.Filter) ([]PublicInstance, error) {
	filters := append([]ec2types.Filter{{Name: awssdk.String("instance-state-name"), Values: []string{"running"}}}, more...)
	var out []PublicInstance
	p := ec2.NewDescribeInstancesPaginator(c.EC2(account, region), &ec2.DescribeInstancesInput{Filters: filters})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ec2 DescribeInstances in %s %s: %w", account, region, err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				pi := PublicInstance{ID: awssdk.ToString(in.InstanceId), ImageID: awssdk.ToString(in.ImageId), PublicIP: awssdk.ToString(in.PublicIpAddress)}
				for _, g := range in.SecurityGroups {
					pi.SecurityGroupIDs = append(pi.SecurityGroupIDs, awssdk.ToString(g.GroupId))
				}
				out = append(out, pi)
			}
		}
	}
	return out, nil
}

// ImageTag returns the value of the tag key of an AMI, as DescribeTags
// answers it in account (an AMI's tags are visible in its owner's account
// only); found is false without such a tag.
func (c *Clients) ImageTag(ctx context.Context, account, region, imageID, key string) (string, bool, error) {
	p := ec2.NewDescribeTagsPaginator(c.EC2(account, region), &ec2.DescribeTagsInput{Filters: []ec2types.Filter{
		{Name: awssdk.String("resource-id"), Values: []string{imageID}},
		{Name: awssdk.String("resource-type"), Values: []string{"image"}},
		{Name: awssdk.String("key"), Values: []string{key}},
	}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", false, fmt.Errorf("ec2 DescribeTags %s %s in %s %s: %w", imageID, key, account, region, err)
		}
		for _, t := range page.Tags {
			if awssdk.ToString(t.ResourceId) == imageID && awssdk.ToString(t.Key) == key {
				return awssdk.ToString(t.Value), true, nil
			}
		}
	}
	return "", false, nil
}
