package aws

import (
	"context"
	"fmt"
	"slices"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
)

// LoadBalancer is a classic load balancer with its tags.
type LoadBalancer struct {
	Name, DNSName, Scheme string
	Ports                 []int32 // the listeners' load balancer ports
	InstanceIDs           []string
	SecurityGroupIDs      []string
	Tags                  map[string]string
}

// elbTagBatch is how many load balancers one DescribeTags names at most.
const elbTagBatch = 20

// ELB returns the classic load balancing client of account in region
// (cached as RDS's).
func (c *Clients) ELB(account, region string) *elb.Client {
	return regionalClient(c, c.elb, account, region, func(cfg awssdk.Config) *elb.Client { return elb.NewFromConfig(cfg) })
}

// LoadBalancers lists the classic load balancers of account in region,
// every page, with their tags (DescribeTags for 20 at a time).
func (c *Clients) LoadBalancers(ctx context.Context, account, region string) ([]LoadBalancer, error) {
	cl := c.ELB(account, region)
	var out []LoadBalancer
	p := elb.NewDescribeLoadBalancersPaginator(cl, &elb.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("elb DescribeLoadBalancers in %s %s: %w", account, region, err)
		}
		for _, d := range page.LoadBalancerDescriptions {
			lb := LoadBalancer{Name: awssdk.ToString(d.LoadBalancerName), DNSName: awssdk.ToString(d.CanonicalHostedZoneName),
				Scheme: awssdk.ToString(d.Scheme), SecurityGroupIDs: d.SecurityGroups, Tags: map[string]string{}}
			if lb.DNSName == "" {
				lb.DNSName = awssdk.ToString(d.DNSName)
			}
			for _, l := range d.ListenerDescriptions {
				if l.Listener != nil {
					lb.Ports = append(lb.Ports, l.Listener.LoadBalancerPort)
				}
			}
			for _, in := range d.Instances {
				lb.InstanceIDs = append(lb.InstanceIDs, awssdk.ToString(in.InstanceId))
			}
			out = append(out, lb)
		}
	}
	for batch := range slices.Chunk(out, elbTagBatch) {
		names := make([]string, len(batch))
		for i, lb := range batch {
			names[i] = lb.Name
		}
		tags, err := cl.DescribeTags(ctx, &elb.DescribeTagsInput{LoadBalancerNames: names})
		if err != nil {
			return nil, fmt.Errorf("elb DescribeTags in %s %s: %w", account, region, err)
		}
		for _, td := range tags.TagDescriptions {
			i := slices.IndexFunc(batch, func(lb LoadBalancer) bool { return lb.Name == awssdk.ToString(td.LoadBalancerName) })
			if i < 0 {
				continue
			}
			for _, t := range td.Tags {
				batch[i].Tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
			}
		}
	}
	return out, nil
}
