package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// PublicInstance is a running EC2 instance with a public IP address.
type PublicInstance struct {
	ID, ImageID, PublicIP string
	SecurityGroupIDs      []string
}

// PublicInstances lists the running instances of account in region that
// have a public IP address, every page.
func (c *Clients) PublicInstances(ctx context.Context, account, region string) ([]PublicInstance, error) {
	var out []PublicInstance
	p := ec2.NewDescribeInstancesPaginator(c.EC2(account, region), &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: awssdk.String("ip-address"), Values: []string{"*"}},
		{Name: awssdk.String("instance-state-name"), Values: []string{"running"}},
	}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ec2 DescribeInstances in %s %s: %w", account, region, err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				if awssdk.ToString(in.PublicIpAddress) == "" {
					continue
				}
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
